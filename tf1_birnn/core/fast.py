"""The fast recurrence behind ``RNN(..., fast=True)``: the same numbers, fewer and larger ops.

``rnn.RNN`` is the one skeleton of both paths (argument checks, the padding mask, the
backward direction's reversal within each length, zeroing padded outputs, the merge). This
module replaces only what it loops over: each direction's recurrence. It imports nothing
from ``rnn.py``.

The tutorial's ``RNN`` scans ``cell.Step``, which multiplies ``current_x`` by ``W_x`` at every
step, and lets ``tf.gradients`` differentiate the scan, so the backward loop also carries
every per-step weight gradient. Here, with the same cells and weights:

- the input projection ``x W_x + b`` of every step is one matmul
  `[n_steps*n_samples, D_input] @ [D_input, G*D_cell]` per direction before the loop; only
  ``h W_h`` stays inside it (``G``: 3 gates for the GRU ``[r, u, c]``, 4 for the LSTM
  ``[i, f, o, c]``);
- the recurrence is a ``tf.custom_gradient`` function of ``(xw, W_h, h0[, c0])``. Its forward
  loop saves the states and ``h W_h`` (GRU) or the gate pre-activations (LSTM) as per-step
  outputs (nothing but the state is carried); its backward loop carries only ``dh`` (and
  ``dc``), using per-step factors computed vectorized outside the loop, one chain of ops per
  direction; ``dW_h = H_prev^T @ dG`` is one matmul over
  `[n_steps*n_samples, D_cell] x [n_steps*n_samples, G*D_cell]` after it; ``dxw`` flows to
  ``W_x``, ``b`` and the input through ordinary autodiff of the projection;
- how the directions' loops run is ``LOOPS``: ``'sequential'`` (one direction's loop after the
  other's, in the forward and in the backward pass), ``'concurrent'`` (each its own loop, both
  at once: TensorFlow's executor runs independent loops one per core), ``'shared'`` (directions
  of one cell type and size in ONE loop, on a leading direction axis ``K``) or ``'auto'`` (the
  default): sequential when the directions' recurrent weights ``W_h`` together take more than
  half the last-level cache, else concurrent. At batch 1 every step reads all of ``W_h``
  (`[D_cell, G*D_cell]`, 16 MiB for a 1024-unit LSTM): one direction's fits in this machine's
  32 MiB L3, two read at once do not and come from memory. Measured on 2 cores (training
  step of a bidirectional layer alone, 400 frames, batch 1, alternating processes):
  sequential 0.8-1.2 s vs concurrent 1.3-1.8 s (LSTM, 1024 units), 0.63-0.73 vs 0.81-1.02
  (GRU, 1024); concurrent wins where the weights fit: 0.13-0.19 vs 0.20-0.38 (LSTM, 256),
  0.06-0.10 vs 0.12-0.18 (LSTM, 128); see docs/performance.md, "What the fast path does";
- the loops are ``tf.while_loop``s (``_scan``) that slice step ``t`` out of the whole input
  tensors instead of copying them into TensorArrays first (A/B timings against ``tf.scan`` in
  ``docs/performance.md``).

A mask `[n_steps, n_samples, 1]` (1 = real frame) freezes the state on padded frames, as the
faithful ``tf.scan`` does; the skeleton zeroes the padded outputs.

Dropout inside the cells (``tf1_birnn.core.dropout``) uses the cells' own per-sequence masks:
the input mask ``x`` multiplies the input before the hoisted projection; the recurrent mask
``h`` (``m_h``) multiplies ``h`` before ``W_h`` inside the loop, and the candidate mask ``c``
(``m_c``) the candidate; the backward loop and ``dW_h`` use the same masks.

Limits: an ``LSTMcell`` whose ``h_act`` is not ``tf.tanh`` has no analytic gradient here
(``has_fast_recurrence`` is False); ``RNN`` runs that direction with the faithful ``tf.scan``
(still correct, not faster). ``tests/test_fast.py`` checks outputs and gradients against
``RNN(fast=False)``.
"""
from pathlib import Path

import tensorflow as tf

from .checks import check_choice

__all__ = ["fast_recurrences", "has_fast_recurrence", "loop_mode", "auto_loop_mode", "LOOPS",
           "LOOP_MODES"]

LOOP_MODES = ("auto", "sequential", "concurrent", "shared")
LOOPS = "auto"  # how the directions' loops run, one of LOOP_MODES (see above)
L3_SYSFS = Path("/sys/devices/system/cpu/cpu0/cache/index3/size")
L3_DEFAULT = 32 * 2 ** 20  # bytes, when sysfs does not say (this machine's L3)


def has_fast_recurrence(cell):
    """True when ``cell`` has an analytic backward pass here (GRU, or LSTM with tanh)."""
    return not cell.has_memory or cell.h_act is tf.tanh


def cache_bytes():
    """The last-level (L3) cache size in bytes from Linux's sysfs, else ``L3_DEFAULT``."""
    try:
        text = L3_SYSFS.read_text().strip()  # e.g. '32768K'
        scale = {"K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30}.get(text[-1:].upper())
        return int(text[:-1]) * scale if scale else int(text)
    except (OSError, ValueError):
        return L3_DEFAULT


def loop_mode(cells):
    """How the loops of ``cells``' fast recurrences run: ``LOOPS``, with 'auto' resolved to
    'sequential' when their ``W_h`` (float32) together exceed half of ``cache_bytes()``,
    else 'concurrent'."""
    check_choice(LOOPS, "fast.LOOPS", LOOP_MODES)
    if LOOPS != "auto":
        return LOOPS
    return auto_loop_mode(sum(4 * c.D_cell * int(c.W_h.shape[1])
                              for c in cells if has_fast_recurrence(c)))


def auto_loop_mode(weight_bytes):
    """What 'auto' picks for loops whose ``W_h`` together take ``weight_bytes``: 'sequential'
    when they exceed half of ``cache_bytes()``, else 'concurrent'."""
    return "sequential" if weight_bytes > cache_bytes() // 2 else "concurrent"


class _Order:
    """With ``sequential``, makes each loop wait for the loops of the same pass built before
    it (``after``), so that one direction's weights stay in the cache while its loop runs;
    otherwise leaves the loops independent."""

    def __init__(self, sequential):
        self.sequential = sequential
        self.loops = {"forward": [], "backward": []}  # outputs of the loops built so far

    def after(self, phase, tensors):
        """``tensors`` (a loop's initial carry), made to wait for the earlier loops of ``phase``."""
        deps = self.loops[phase] if self.sequential else []
        if not deps:
            return list(tensors)
        with tf.control_dependencies(deps):
            return [tf.identity(t) for t in tensors]

    def add(self, phase, output):
        self.loops[phase].append(output)


def _split_gates(x, n):
    """Cut the last axis of `[..., n*D_cell]` into ``n`` gate blocks `[..., D_cell]`."""
    return tf.split(x, n, axis=-1)


def _previous(states, first):
    """States `[n_steps, K, n_samples, D_cell]` -> the states each step started from."""
    return tf.concat([first[None], states[:-1]], axis=0)  # [n_steps, K, n_samples, D_cell]


def _per_direction_matmul(h, Ws):
    """`[K, n_samples, D]` times each direction's 2-D weight ``Ws[k]`` -> `[K, n_samples, D']`.

    K plain matmuls, not one batched matmul: on CPU a ``BatchMatMulV2`` of these shapes runs
    several times slower than ``MatMul`` (measured: 1.8 vs 0.3 ms per step at batch 1)."""
    return tf.stack([tf.matmul(h_k, W_k) for h_k, W_k in zip(tf.unstack(h, num=len(Ws)), Ws)])


def _scan(fn, elems, initializer, n_out, reverse=False):
    """A ``tf.scan`` over time as a ``tf.while_loop`` that slices ``elems[j][t]`` out of the
    whole tensors (no copy into TensorArrays first) and keeps the carry apart from the per-step
    outputs. ``fn(carry, elems_t) -> (carry, outputs)``, both tuples, ``n_out`` outputs.
    Returns the outputs stacked `[n_steps, ...]` and the carry after the last step (after
    step 0 with ``reverse``)."""
    n_steps = tf.shape(elems[0])[0]
    outs = tuple(tf.TensorArray(elems[0].dtype, size=n_steps) for _ in range(n_out))

    def body(i, carry, outs):
        t = n_steps - 1 - i if reverse else i
        new_carry, new = fn(carry, tuple(x[t] for x in elems))
        for c_new, c_old in zip(new_carry, carry):  # a mask of unknown n_samples must not
            c_new.set_shape(c_old.shape)  # blur the loop's static shape
        return i + 1, new_carry, tuple(ta.write(t, y) for ta, y in zip(outs, new))

    _, carry, outs = tf.while_loop(lambda i, *_: i < n_steps, body,
                                   (tf.constant(0), tuple(initializer), outs))
    stacked = tuple(ta.stack() for ta in outs)
    for y in stacked:  # keep a static n_steps
        y.set_shape(elems[0].shape[:1].concatenate(y.shape[1:]))
    return stacked, carry


def _weight_grad(H_prev, dG, K):
    """``sum_t H_prev[t]^T @ dG[t]``, per direction one matmul over
    `[n_steps*n_samples, D_cell] x [n_steps*n_samples, G*D_cell]`: -> `[K, D_cell, G*D_cell]`."""
    grads = []
    for k in range(K):
        H_k = tf.reshape(H_prev[:, k], [-1, H_prev.shape[-1]])  # [n_steps*n_samples, D_cell]
        dG_k = tf.reshape(dG[:, k], [-1, dG.shape[-1]])  # [n_steps*n_samples, G*D_cell]
        grads.append(tf.matmul(H_k, dG_k, transpose_a=True))  # [D_cell, G*D_cell]
    return tf.stack(grads)


def _ru_c(x, D):
    """Split a GRU's `[..., 3*D_cell]` into ``[r, u]`` `[..., 2*D_cell]` and ``c`` `[..., D_cell]`."""
    return tf.split(x, [2 * D, D], axis=-1)


def _optional(**tensors):
    """The names and the tensors of the given (not None) optional inputs of a recurrence."""
    given = [(k, v) for k, v in tensors.items() if v is not None]
    return [k for k, _ in given], tuple(v for _, v in given)


def _gru_recurrence(order, xw, W_h, h0, mask=None, m_h=None, m_c=None):
    """GRU over pre-projected inputs, with an analytic gradient.

    ``xw``: `[n_steps, K, n_samples, 3*D_cell]` (``x W_x + b``); ``W_h``: `[K, D_cell, 3*D_cell]`;
    ``h0``: `[K, n_samples, D_cell]`; optional ``mask`` `[n_steps, 1, n_samples, 1]`; optional
    dropout masks ``m_h`` (on ``h`` before ``W_h``) and ``m_c`` (on the candidate)
    `[K, n_samples, D_cell]`; ``order``: an ``_Order``. Returns the states
    `[n_steps, K, n_samples, D_cell]` (frozen, not zeroed, on padding).
    """
    names, extra = _optional(mask=mask, m_h=m_h, m_c=m_c)

    @tf.custom_gradient
    def recurrence(xw, W_h, h0, *extra):
        opt = dict(zip(names, extra))
        mask, m_h, m_c = opt.get("mask"), opt.get("m_h"), opt.get("m_c")
        K = W_h.shape[0]
        Ws = tf.unstack(W_h, num=K)  # each direction's W_h [D_cell, 3*D_cell]
        D = h0.shape[-1]  # D_cell

        def step(carry, elems):
            h = carry[0]  # [K, n_samples, D_cell]
            hW = _per_direction_matmul(h if m_h is None else h * m_h, Ws)  # [K, n_samples, 3*D_cell]
            x_ru, x_c = elems[0], elems[1]  # x W_x + b of [r, u] and of c
            h_ru, h_c = _ru_c(hW, D)
            r, u = _split_gates(tf.sigmoid(x_ru + h_ru), 2)  # reset, update gates
            c = tf.tanh(x_c + r * h_c)  # candidate state
            if m_c is not None:  # dropout on the candidate
                c = c * m_c
            if mask is not None:  # an update gate of 0 keeps the state on padded frames
                u = elems[2] * u  # [1, n_samples, 1] * [K, n_samples, D_cell]
            h_new = h + u * (c - h)  # (1 - u) * h + u * c
            return (h_new,), (h_new, hW)

        elems = tuple(_ru_c(xw, D)) + (() if mask is None else (mask,))
        (H, HW), _ = _scan(step, elems, order.after("forward", [h0]), 2)
        order.add("forward", H)
        # H: [n_steps, K, n_samples, D_cell]; HW = H_prev @ W_h: [n_steps, K, n_samples, 3*D_cell]

        def grad(dH):
            H_prev = _previous(H, h0)
            x_ru, x_c = _ru_c(xw, D)
            h_ru, h_c = _ru_c(HW, D)
            r, u = _split_gates(tf.sigmoid(x_ru + h_ru), 2)
            c = tf.tanh(x_c + r * h_c)
            c_d = c if m_c is None else c * m_c  # the candidate after dropout
            u_c = u if m_c is None else u * m_c  # dh -> d(candidate), through its mask
            if mask is not None:
                u_eff = mask * u  # the masked update gate of the forward pass
                P_c = mask * u_c * (1 - c * c)  # dh -> d(candidate pre-activation)
                P_u = mask * (c_d - H_prev) * u * (1 - u)  # dh -> d(update gate pre-act.)
            else:
                u_eff = u
                P_c = u_c * (1 - c * c)
                P_u = (c_d - H_prev) * u * (1 - u)
            P_r = P_c * h_c * r * (1 - r)  # dh -> d(reset gate pre-activation)
            keep = 1 - u_eff  # dh_t -> dh_{t-1}, direct path
            P_x = tf.concat([P_r, P_u, P_c], axis=-1)  # dh -> d(x W_x + b)  [n_steps, K, n_samples, 3*D_cell]
            P_h = tf.concat([P_r, P_u, P_c * r], axis=-1)  # dh -> d(h W_h)
            W_hT = [tf.transpose(W) for W in Ws]  # [3*D_cell, D_cell] each

            def back(carry, elems):
                # one chain of ops per direction k (no stack/unstack around the matmuls);
                # carry[k]: `[n_samples, D_cell]`, elems: dy, P_h, keep at step t `[K, ...]`
                new, outs = [], []
                for k in range(K):
                    dh = carry[k] + elems[0][k]  # total gradient of h_t
                    dhW = tf.concat([dh, dh, dh], axis=-1) * elems[1][k]  # [n_samples, 3*D_cell]
                    dh_W = tf.matmul(dhW, W_hT[k])  # through h W_h
                    if m_h is not None:  # h was masked before W_h
                        dh_W = dh_W * m_h[k]
                    new.append(dh * elems[2][k] + dh_W)
                    outs.append(dh)
                return tuple(new), (tf.stack(outs),)

            zeros = order.after("backward", tf.unstack(tf.zeros_like(h0), num=K))
            (dH_total,), carry = _scan(back, (dH, P_h, keep), zeros, 1, reverse=True)
            order.add("backward", dH_total)
            dh0 = tf.stack(carry)  # gradient of h0: the carry after step 0
            d3 = tf.concat([dH_total] * 3, axis=-1)  # [n_steps, K, n_samples, 3*D_cell]
            dW_h = _weight_grad(H_prev if m_h is None else H_prev * m_h, d3 * P_h, K)
            return (d3 * P_x, dW_h, dh0) + tuple(None for _ in extra)

        return H, grad

    return recurrence(xw, W_h, h0, *extra)


def _lstm_gates(z):
    """Gate pre-activations `[..., 4*D_cell]` -> ``i, f, o`` (sigmoid) and ``g`` (tanh)."""
    i, f, o, g = _split_gates(z, 4)
    return tf.sigmoid(i), tf.sigmoid(f), tf.sigmoid(o), tf.tanh(g)


def _lstm_recurrence(order, xw, W_h, h0, c0, mask=None, m_h=None, m_c=None):
    """LSTM (``h_act=tf.tanh``) over pre-projected inputs, with an analytic gradient.

    ``xw``: `[n_steps, K, n_samples, 4*D_cell]`; ``W_h``: `[K, D_cell, 4*D_cell]`; ``h0``, ``c0``:
    `[K, n_samples, D_cell]`; optional ``mask`` `[n_steps, 1, n_samples, 1]`; optional dropout
    masks ``m_h`` (on ``h`` before ``W_h``) and ``m_c`` (on the candidate) `[K, n_samples, D_cell]`;
    ``order``: an ``_Order``. Returns the hidden states `[n_steps, K, n_samples, D_cell]`
    (frozen on padding).
    """
    names, extra = _optional(mask=mask, m_h=m_h, m_c=m_c)

    @tf.custom_gradient
    def recurrence(xw, W_h, h0, c0, *extra):
        opt = dict(zip(names, extra))
        mask, m_h, m_c = opt.get("mask"), opt.get("m_h"), opt.get("m_c")
        K = W_h.shape[0]
        Ws = tf.unstack(W_h, num=K)  # each direction's W_h [D_cell, 4*D_cell]

        def step(carry, elems):
            h, c = carry  # [K, n_samples, D_cell] each
            hW = _per_direction_matmul(h if m_h is None else h * m_h, Ws)
            z = elems[0] + hW  # gate pre-activations [K, n_samples, 4*D_cell]
            i, f, o, g = _lstm_gates(z)
            if m_c is not None:  # dropout on the candidate
                g = g * m_c
            c_new = f * c + i * g  # memory cell
            h_new = o * tf.tanh(c_new)
            # keep h and c on padded frames (as rnn._masked_step; no boolean tensor)
            if mask is not None:
                m = elems[1]  # [1, n_samples, 1], 1.0 on real frames
                h_new, c_new = m * h_new + (1 - m) * h, m * c_new + (1 - m) * c
            return (h_new, c_new), (h_new, c_new, z)

        elems = (xw,) + (() if mask is None else (mask,))
        (H, C, Z), _ = _scan(step, elems, order.after("forward", [h0, c0]), 3)
        order.add("forward", H)

        def grad(dH):
            C_prev = _previous(C, c0)
            i, f, o, g = _lstm_gates(Z)
            g_d = g if m_c is None else g * m_c  # the candidate after dropout
            c_new = f * C_prev + i * g_d if mask is not None else C  # the unmasked new memory
            tc = tf.tanh(c_new)
            A = o * (1 - tc * tc)  # dh -> dc
            P_o = tc * o * (1 - o)  # dh -> d(output gate pre-activation)
            if mask is not None:
                A, P_o = mask * A, mask * P_o
            P_i = g_d * i * (1 - i)  # dc -> d(input gate pre-activation)
            P_f = C_prev * f * (1 - f)  # dc -> d(forget gate pre-activation)
            i_g = i if m_c is None else i * m_c  # dc -> d(candidate), through its mask
            P_g = i_g * (1 - g * g)  # dc -> d(candidate pre-activation)
            P = tf.concat([P_i, P_f, P_o, P_g], axis=-1)  # [n_steps, K, n_samples, 4*D_cell]
            W_hT = [tf.transpose(W) for W in Ws]  # [4*D_cell, D_cell] each

            def back(carry, elems):
                # one chain of ops per direction k; carry: dh's then dc's `[n_samples, D_cell]`
                dhs, dcs, outs = [], [], []
                for k in range(K):
                    dh = carry[k] + elems[0][k]  # total gradient of h_t
                    dc = carry[K + k]  # gradient of c_t from step t+1
                    if mask is not None:
                        m, not_m = elems[4][0], elems[5][0]  # [n_samples, 1]
                        dc_new = m * dc + elems[1][k] * dh  # gradient of c_new
                    else:
                        dc_new = dc + elems[1][k] * dh
                    dz = tf.concat([dc_new, dc_new, dh, dc_new], axis=-1) * elems[2][k]
                    dh_prev = tf.matmul(dz, W_hT[k])
                    if m_h is not None:  # h was masked before W_h
                        dh_prev = dh_prev * m_h[k]
                    dc_prev = dc_new * elems[3][k]  # through the forget gate
                    if mask is not None:  # padded frames pass dh and dc straight through
                        dh_prev += not_m * dh
                        dc_prev += not_m * dc
                    dhs.append(dh_prev)
                    dcs.append(dc_prev)
                    outs.append(dz)
                return tuple(dhs + dcs), (tf.stack(outs),)

            zeros = tf.unstack(tf.zeros_like(h0), num=K)
            elems = (dH, A, P, f) + ((mask, 1 - mask) if mask is not None else ())
            (dZ,), carry = _scan(back, elems, order.after("backward", zeros + zeros), 1,
                                 reverse=True)
            order.add("backward", dZ)
            dh0, dc0 = tf.stack(carry[:K]), tf.stack(carry[K:])
            H_prev = _previous(H, h0)
            dW_h = _weight_grad(H_prev if m_h is None else H_prev * m_h, dZ, K)
            return (dZ, dW_h, dh0, dc0) + tuple(None for _ in extra)

        return H, grad

    return recurrence(xw, W_h, h0, c0, *extra)


def _run_group(cells, incomings, mask, order):
    """Run directions of one type and ``D_cell`` in one loop; one `[n_steps, n_samples, D_cell]`
    each. ``incomings``: each direction's input, in its own time order, `[n_steps, n_samples, D_input]`."""
    xws = []
    for cell, x in zip(cells, incomings):  # the input projection, hoisted out of the loop
        n_steps, n_samples = tf.shape(x)[0], tf.shape(x)[1]
        x = cell.drop("x", x)  # the input's dropout mask, the same at every step
        x_flat = tf.reshape(x, [-1, cell.D_input])  # [n_steps*n_samples, D_input]
        xw = tf.matmul(x_flat, cell.W_x) + cell.b  # [n_steps*n_samples, G*D_cell]
        xws.append(tf.reshape(xw, tf.stack([n_steps, n_samples, -1])))  # [n_steps, n_samples, G*D_cell]
    xw = tf.stack(xws, axis=1)  # [n_steps, K, n_samples, G*D_cell]
    xw.set_shape(incomings[0].shape[:1].concatenate([len(cells), None, cells[0].W_h.shape[1]]))
    W_h = tf.stack([c.W_h for c in cells])  # [K, D_cell, G*D_cell]
    h0 = tf.stack([c.init_h for c in cells])  # [K, n_samples, D_cell]
    opt = dict(mask=None if mask is None else mask[:, None],  # [n_steps, 1, n_samples, 1]
               m_h=_stacked_masks(cells, "h"), m_c=_stacked_masks(cells, "c"))
    if not cells[0].has_memory:
        H = _gru_recurrence(order, xw, W_h, h0, **opt)
    else:
        c0 = tf.stack([c.init_c for c in cells])
        H = _lstm_recurrence(order, xw, W_h, h0, c0, **opt)
    return tf.unstack(H, num=len(cells), axis=1)


def _stacked_masks(cells, name):
    """The cells' dropout masks ``name`` stacked `[K, n_samples, D_cell]` (ones for a cell
    without that mask), or None when no cell has one."""
    if not any(name in c.dropout_masks for c in cells):
        return None
    ones = [tf.ones_like(c.init_h) for c in cells]  # [n_samples, D_cell]
    return tf.stack([c.dropout_masks.get(name, one) for c, one in zip(cells, ones)])


def fast_recurrences(cells, incomings, mask=None):
    """The hidden states of each direction, computed by the fast recurrence.

    ``cells``: the forward cell and, optionally, the backward one; ``incomings``: each one's
    input in its own time order (the backward one already reversed by ``RNN``),
    `[n_steps, n_samples, D_input]`; ``mask``: `[n_steps, n_samples, 1]` or None. Returns one
    entry per cell: the states `[n_steps, n_samples, D_cell]` in that input's time order (frozen
    on padded frames), or None for a cell without a fast recurrence (``has_fast_recurrence``),
    which ``RNN`` runs with the faithful scan. Each direction has its own loop, run one after
    the other or at the same time, or directions of the same type and ``D_cell`` share one
    loop: ``loop_mode(cells)``.
    """
    mode = loop_mode(cells)
    states = [None] * len(cells)
    groups = {}
    for k, cell in enumerate(cells):
        if has_fast_recurrence(cell):
            key = (cell.has_memory, cell.D_cell) if mode == "shared" else k
            groups.setdefault(key, []).append(k)
    order = _Order(sequential=mode == "sequential")
    for idx in groups.values():
        outs = _run_group([cells[k] for k in idx], [incomings[k] for k in idx], mask, order)
        for k, out in zip(idx, outs):
            states[k] = out
    return states
