"""An independent NumPy implementation of the tutorial's LSTM/GRU equations.

Written from the equations (Hochreiter & Schmidhuber 1997 with the forget gate of Gers et al.
2000; Cho et al. 2014), not from ``tf1_birnn``, which it never imports. It works on one
sequence at a time, in float64, so that a padded TensorFlow batch can be checked sequence by
sequence against data that was never padded.

Weights are given as fused matrices in the package's documented gate order:

- LSTM ``[i, f, o, c]``: ``W_x`` `[D_input, 4*D_cell]`, ``W_h`` `[D_cell, 4*D_cell]`, ``b`` `[4*D_cell]`;
- GRU ``[r, u, c]``: ``W_x`` `[D_input, 3*D_cell]`, ``W_h`` `[D_cell, 3*D_cell]`, ``b`` `[3*D_cell]`.
"""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _split(W, n):
    """Cut the last axis of a fused array into ``n`` equal gate blocks."""
    return np.split(np.asarray(W, dtype=np.float64), n, axis=-1)


def lstm_step(x, h, c, W_x, W_h, b, h_act=np.tanh):
    """One LSTM step: ``x`` `[n, D_input]`, ``h``/``c`` `[n, D_cell]` -> ``(h, c)``."""
    Wxi, Wxf, Wxo, Wxc = _split(W_x, 4)
    Whi, Whf, Who, Whc = _split(W_h, 4)
    bi, bf, bo, bc = _split(b, 4)
    i = sigmoid(x @ Wxi + h @ Whi + bi)  # input gate
    f = sigmoid(x @ Wxf + h @ Whf + bf)  # forget gate
    o = sigmoid(x @ Wxo + h @ Who + bo)  # output gate
    g = np.tanh(x @ Wxc + h @ Whc + bc)  # candidate memory
    c_new = f * c + i * g
    h_new = o * h_act(c_new)
    return h_new, c_new


def gru_step(x, h, W_x, W_h, b):
    """One GRU step: ``x`` `[n, D_input]`, ``h`` `[n, D_cell]` -> ``h``."""
    Wxr, Wxu, Wxc = _split(W_x, 3)
    Whr, Whu, Whc = _split(W_h, 3)
    br, bu, bc = _split(b, 3)
    r = sigmoid(x @ Wxr + br + h @ Whr)  # reset gate
    u = sigmoid(x @ Wxu + bu + h @ Whu)  # update gate
    g = np.tanh(x @ Wxc + bc + r * (h @ Whc))  # candidate state
    return (1.0 - u) * h + u * g


def run(kind, weights, x, init_h=None, init_c=None):
    """Run one direction over ``x`` `[n_steps, n, D_input]`; return `[n_steps, n, D_cell]`.

    ``kind``: 'lstm' or 'gru'; ``weights``: ``(W_x, W_h, b)``; initial states default to 0.
    """
    W_x, W_h, b = (np.asarray(w, dtype=np.float64) for w in weights)
    x = np.asarray(x, dtype=np.float64)
    D_cell = W_h.shape[0]
    n = x.shape[1]
    h = np.zeros((n, D_cell)) if init_h is None else np.asarray(init_h, dtype=np.float64)
    c = np.zeros((n, D_cell)) if init_c is None else np.asarray(init_c, dtype=np.float64)
    out = []
    for x_t in x:
        if kind == "lstm":
            h, c = lstm_step(x_t, h, c, W_x, W_h, b)
        elif kind == "gru":
            h = gru_step(x_t, h, W_x, W_h, b)
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


def birnn(kind, weights, x, kind_b=None, weights_b=None, mode="sum"):
    """Forward run of ``x`` `[n_steps, n, D_input]`, merged with a backward run if given."""
    fw = run(kind, weights, x)
    if kind_b is None:
        return fw
    bw = run(kind_b, weights_b, x[::-1])[::-1]
    return merge(fw, bw, mode)


def birnn_padded(kind, weights, x, lengths, kind_b=None, weights_b=None, mode="sum"):
    """``birnn`` on a padded batch `[n_steps, n, D_input]`, each sequence run alone on its
    first ``lengths[k]`` frames; output frames past a sequence's length are 0."""
    n_steps, n = x.shape[:2]
    results = []
    for k, L in enumerate(lengths):
        y = birnn(kind, weights, x[:L, k:k + 1], kind_b, weights_b, mode)  # [L, 1, D_out]
        pad = np.zeros((n_steps - L,) + y.shape[1:])
        results.append(np.concatenate([y, pad], axis=0))
    return np.concatenate(results, axis=1)  # [n_steps, n, D_out]
