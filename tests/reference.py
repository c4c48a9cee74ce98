"""An independent NumPy implementation of the tutorial's LSTM/GRU equations.

Written from the equations (Hochreiter & Schmidhuber 1997 with the forget gate of Gers et al.
2000; Cho et al. 2014), not from ``tf1_birnn``, which it never imports. It works on one
sequence at a time, in float64, so that a padded TensorFlow batch can be checked sequence by
sequence against data that was never padded.

Weights are given as fused matrices in the package's documented gate order:

- LSTM ``[i, f, o, c]``: ``W_x`` `[D_input, 4*D_cell]`, ``W_h`` `[D_cell, 4*D_cell]`, ``b`` `[4*D_cell]`;
- GRU ``[r, u, c]``: ``W_x`` `[D_input, 3*D_cell]`, ``W_h`` `[D_cell, 3*D_cell]`, ``b`` `[3*D_cell]`.

Dropout inside the cell is given as fixed masks (``m_x`` `[n, D_input]` on the input before
``W_x``, ``m_h`` `[n, D_cell]` on the previous hidden state before ``W_h``, ``m_c`` `[n, D_cell]`
on the candidate), the same at every step, as written in Gal & Ghahramani (2016) and Semeniuta
et al. (2016); the carried state (``c`` of the LSTM, ``h`` in the GRU's blend) is never masked.
"""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _split(W, n):
    """Cut the last axis of a fused array into ``n`` equal gate blocks."""
    return np.split(np.asarray(W, dtype=np.float64), n, axis=-1)


def _mask(m):
    return 1.0 if m is None else np.asarray(m, dtype=np.float64)


def lstm_step(x, h, c, W_x, W_h, b, h_act=np.tanh, m_x=None, m_h=None, m_c=None):
    """One LSTM step: ``x`` `[n, D_input]`, ``h``/``c`` `[n, D_cell]` -> ``(h, c)``; optional
    dropout masks ``m_x``, ``m_h``, ``m_c`` (see the module's docstring)."""
    Wxi, Wxf, Wxo, Wxc = _split(W_x, 4)
    Whi, Whf, Who, Whc = _split(W_h, 4)
    bi, bf, bo, bc = _split(b, 4)
    xd, hd = x * _mask(m_x), h * _mask(m_h)  # what the weights see
    i = sigmoid(xd @ Wxi + hd @ Whi + bi)  # input gate
    f = sigmoid(xd @ Wxf + hd @ Whf + bf)  # forget gate
    o = sigmoid(xd @ Wxo + hd @ Who + bo)  # output gate
    g = np.tanh(xd @ Wxc + hd @ Whc + bc) * _mask(m_c)  # candidate memory, after dropout
    c_new = f * c + i * g
    h_new = o * h_act(c_new)
    return h_new, c_new


def gru_step(x, h, W_x, W_h, b, m_x=None, m_h=None, m_c=None):
    """One GRU step: ``x`` `[n, D_input]`, ``h`` `[n, D_cell]` -> ``h``; optional dropout
    masks ``m_x``, ``m_h``, ``m_c`` (see the module's docstring)."""
    Wxr, Wxu, Wxc = _split(W_x, 3)
    Whr, Whu, Whc = _split(W_h, 3)
    br, bu, bc = _split(b, 3)
    xd, hd = x * _mask(m_x), h * _mask(m_h)  # what the weights see
    r = sigmoid(xd @ Wxr + br + hd @ Whr)  # reset gate
    u = sigmoid(xd @ Wxu + bu + hd @ Whu)  # update gate
    g = np.tanh(xd @ Wxc + bc + r * (hd @ Whc)) * _mask(m_c)  # candidate state, after dropout
    return (1.0 - u) * h + u * g


def run(kind, weights, x, init_h=None, init_c=None, masks=None):
    """Run one direction over ``x`` `[n_steps, n, D_input]`; return `[n_steps, n, D_cell]`.

    ``kind``: 'lstm' or 'gru'; ``weights``: ``(W_x, W_h, b)``; initial states default to 0;
    ``masks``: dropout masks ``{'x': ..., 'h': ..., 'c': ...}`` (any subset), the same at every step.
    """
    m = {f"m_{k}": v for k, v in (masks or {}).items()}
    W_x, W_h, b = (np.asarray(w, dtype=np.float64) for w in weights)
    x = np.asarray(x, dtype=np.float64)
    D_cell = W_h.shape[0]
    n = x.shape[1]
    h = np.zeros((n, D_cell)) if init_h is None else np.asarray(init_h, dtype=np.float64)
    c = np.zeros((n, D_cell)) if init_c is None else np.asarray(init_c, dtype=np.float64)
    out = []
    for x_t in x:
        if kind == "lstm":
            h, c = lstm_step(x_t, h, c, W_x, W_h, b, **m)
        elif kind == "gru":
            h = gru_step(x_t, h, W_x, W_h, b, **m)
        else:
            raise ValueError(f"kind must be 'lstm' or 'gru'; got {kind!r}")
        out.append(h)
    return np.stack(out)


def merge(fw, bw, mode):
    """Keras ``Bidirectional`` merge modes on `[n_steps, n, D_cell]` arrays."""
    if mode == "sum":
        return fw + bw
    if mode == "mul":
        return fw * bw
    if mode == "ave":
        return (fw + bw) / 2.0
    if mode == "concat":
        return np.concatenate([fw, bw], axis=-1)
    raise ValueError(f"mode must be 'sum', 'mul', 'ave' or 'concat'; got {mode!r}")


def birnn(kind, weights, x, kind_b=None, weights_b=None, mode="sum", masks=None,
          masks_b=None):
    """Forward run of ``x`` `[n_steps, n, D_input]`, merged with a backward run if given;
    ``masks``/``masks_b``: each direction's dropout masks (see ``run``)."""
    fw = run(kind, weights, x, masks=masks)
    if kind_b is None:
        return fw
    bw = run(kind_b, weights_b, x[::-1], masks=masks_b)[::-1]
    return merge(fw, bw, mode)


def _row(masks, k):
    """Sequence ``k``'s rows `[1, D]` of each mask."""
    return None if masks is None else {name: np.asarray(m)[k:k + 1] for name, m in masks.items()}


def birnn_padded(kind, weights, x, lengths, kind_b=None, weights_b=None, mode="sum",
                 masks=None, masks_b=None):
    """``birnn`` on a padded batch `[n_steps, n, D_input]`, each sequence run alone on its
    first ``lengths[k]`` frames (with its own rows of the dropout masks); output frames past
    a sequence's length are 0."""
    n_steps, n = x.shape[:2]
    results = []
    for k, L in enumerate(lengths):
        y = birnn(kind, weights, x[:L, k:k + 1], kind_b, weights_b, mode,
                  _row(masks, k), _row(masks_b, k))  # [L, 1, D_out]
        pad = np.zeros((n_steps - L,) + y.shape[1:])
        results.append(np.concatenate([y, pad], axis=0))
    return np.concatenate(results, axis=1)  # [n_steps, n, D_out]
