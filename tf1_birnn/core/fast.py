"""The fast path of ``RNN`` (``RNN(..., fast=True)``): the same numbers, fewer and larger ops.

The tutorial's ``RNN`` scans ``cell.Step``, which multiplies ``current_x`` by ``W_x`` at every
step, and lets ``tf.gradients`` differentiate the scan, so the backward loop also carries
every per-step weight gradient. Here, with the same cells and weights:

- the input projection ``x W_x + b`` of every step (and of both directions) is one matmul
  `[n_steps*n_samples, D_input] @ [D_input, K*G*D_cell]` before the loop; only ``h W_h``
  stays inside it;
- the recurrence is a ``tf.custom_gradient`` function of ``(xw, W_h, h0[, c0])``. Its forward
  loop saves the pre-activations ``h W_h`` (GRU) or gate pre-activations (LSTM) and the
  states; its backward loop carries only ``dh`` (and ``dc``), using per-step factors computed
  vectorized outside the loop, and ``dW_h = H_prev^T @ dG`` is one matmul over
  `[n_steps*n_samples, D_cell] x [n_steps*n_samples, G*D_cell]` after it; ``dxw`` flows to
  ``W_x``, ``b`` and the input through ordinary autodiff of the projection;
- two directions of the same cell type and size run in ONE loop, stacked on a leading
  direction axis ``K`` (one plain matmul per direction inside the loop, elementwise ops on both at once),
  which halves the number of loop iterations at batch 1;
- the GRU loops are ``tf.while_loop``s (``_scan``) that slice step ``t`` out of the whole
  input tensors instead of copying them into TensorArrays first, carry only the state, and
  the GRU's backward loop runs one chain of ops per direction (A/B timings against
  ``tf.scan`` in ``docs/performance.md``: +1% to +18% per training step at batches 8 and 16).

``sequence_length`` behaves as in ``rnn.RNN``: padded frames keep the state and output 0,
and the backward direction is reversed within each sequence's length.

Limits: an ``LSTMcell`` whose ``h_act`` is not ``tf.tanh`` has no analytic gradient here; that
direction falls back to the faithful ``tf.scan`` of ``rnn.run_cell`` (still correct, not
faster). ``tests/test_fast.py`` checks outputs and gradients against ``RNN(fast=False)``.
"""
import tensorflow as tf

from .rnn import merge_states, reverse_time, run_cell, sequence_mask

__all__ = ["fast_RNN", "has_fast_recurrence"]


def has_fast_recurrence(cell):
    """True when ``cell`` has an analytic backward pass here (GRU, or LSTM with tanh)."""
    return cell.type == "gru" or cell.h_act is tf.tanh


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
        carry, new = fn(carry, tuple(x[t] for x in elems))
        return i + 1, carry, tuple(ta.write(t, y) for ta, y in zip(outs, new))

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


def _gru_recurrence(xw, W_h, h0, *mask):
    """GRU over pre-projected inputs, with an analytic gradient.

    ``xw``: `[n_steps, K, n_samples, 3*D_cell]` (``x W_x + b``); ``W_h``: `[K, D_cell, 3*D_cell]`;
    ``h0``: `[K, n_samples, D_cell]`; optional ``mask`` `[n_steps, 1, n_samples, 1]`.
    Returns the states `[n_steps, K, n_samples, D_cell]` (frozen, not zeroed, on padding).
    """
    @tf.custom_gradient
    def recurrence(xw, W_h, h0, *mask):
        K = W_h.shape[0]
        Ws = tf.unstack(W_h, num=K)  # each direction's W_h [D_cell, 3*D_cell]
        D = h0.shape[-1]  # D_cell

        def step(carry, elems):
            h = carry[0]  # [K, n_samples, D_cell]
            hW = _per_direction_matmul(h, Ws)  # [K, n_samples, 3*D_cell]
            x_ru, x_c = elems[0], elems[1]  # x W_x + b of [r, u] and of c
            h_ru, h_c = tf.split(hW, [2 * D, D], axis=-1)
            r, u = _split_gates(tf.sigmoid(x_ru + h_ru), 2)  # reset, update gates
            c = tf.tanh(x_c + r * h_c)  # candidate state
            h_new = h + u * (c - h)  # (1 - u) * h + u * c
            if mask:
                m, not_m = elems[2], elems[3]  # [1, n_samples, 1]
                h_new = m * h_new + not_m * h
            return (h_new,), (h_new, hW)

        elems = tuple(tf.split(xw, [2 * D, D], axis=-1)) + ((mask[0], 1 - mask[0]) if mask else ())
        (H, HW), _ = _scan(step, elems, (h0,), 2)
        # H: [n_steps, K, n_samples, D_cell]; HW = H_prev @ W_h: [n_steps, K, n_samples, 3*D_cell]

        def grad(dH):
            H_prev = _previous(H, h0)
            x_ru, x_c = _ru_c(xw)
            h_ru, h_c = _ru_c(HW)
            r, u = _split_gates(tf.sigmoid(x_ru + h_ru), 2)
            c = tf.tanh(x_c + r * h_c)
            # d(pre-activation)/dh_t for each gate, vectorized over all steps
            P_c = u * (1 - c * c)  # candidate
            P_u = (c - H_prev) * u * (1 - u)  # update gate
            P_r = P_c * h_c * r * (1 - r)  # reset gate
            keep = 1 - u  # dh_t -> dh_{t-1}, direct path
            if mask:
                m = mask[0]
                P_c, P_u, P_r = m * P_c, m * P_u, m * P_r
                keep = 1 - m * u
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
                    new.append(dh * elems[2][k] + tf.matmul(dhW, W_hT[k]))
                    outs.append(dh)
                return tuple(new), (tf.stack(outs),)

            (dH_total,), carry = _scan(back, (dH, P_h, keep), tf.unstack(tf.zeros_like(h0), num=K),
                                       1, reverse=True)
            dh0 = tf.stack(carry)  # gradient of h0: the carry after step 0
            d3 = tf.concat([dH_total] * 3, axis=-1)  # [n_steps, K, n_samples, 3*D_cell]
            dW_h = _weight_grad(H_prev, d3 * P_h, K)
            return (d3 * P_x, dW_h, dh0) + tuple(None for _ in mask)

        return H, grad

    return recurrence(xw, W_h, h0, *mask)


def _ru_c(x):
    """Split a GRU's `[..., 3*D_cell]` into ``[r, u]`` `[..., 2*D_cell]` and ``c`` `[..., D_cell]`."""
    D = x.shape[-1] // 3 if x.shape[-1] is not None else tf.shape(x)[-1] // 3
    return x[..., :2 * D], x[..., 2 * D:]


def _lstm_recurrence(xw, W_h, h0, c0, *mask):
    """LSTM (``h_act=tf.tanh``) over pre-projected inputs, with an analytic gradient.

    ``xw``: `[n_steps, K, n_samples, 4*D_cell]`; ``W_h``: `[K, D_cell, 4*D_cell]`; ``h0``, ``c0``:
    `[K, n_samples, D_cell]`; optional ``mask`` `[n_steps, 1, n_samples, 1]`.
    Returns the hidden states `[n_steps, K, n_samples, D_cell]`.
    """
    @tf.custom_gradient
    def recurrence(xw, W_h, h0, c0, *mask):
        K = W_h.shape[0]
        Ws = tf.unstack(W_h, num=K)  # each direction's W_h [D_cell, 4*D_cell]

        def step(carry, elems):
            h, c = carry[0], carry[1]  # [K, n_samples, D_cell]
            z = elems[0] + _per_direction_matmul(h, Ws)  # gate pre-activations [K, n_samples, 4*D_cell]
            i, f, o, g = _lstm_gates(z)
            c_new = f * c + i * g
            h_new = o * tf.tanh(c_new)
            if mask:
                m, not_m = elems[1], elems[2]  # [1, n_samples, 1]
                h_new = m * h_new + not_m * h
                c_new = m * c_new + not_m * c
            return h_new, c_new, z

        elems = (xw,) + ((mask[0], 1 - mask[0]) if mask else ())
        H, C, Z = tf.scan(step, elems, initializer=(h0, c0, tf.zeros_like(xw[0])))

        def grad(dH):
            H_prev, C_prev = _previous(H, h0), _previous(C, c0)
            i, f, o, g = _lstm_gates(Z)
            c_new = f * C_prev + i * g if mask else C  # the unmasked new memory
            tc = tf.tanh(c_new)
            A = o * (1 - tc * tc)  # dh -> dc
            P_o = tc * o * (1 - o)  # dh -> d(output gate)
            if mask:
                A, P_o = mask[0] * A, mask[0] * P_o
            P_i = g * i * (1 - i)  # dc -> d(input gate)
            P_f = C_prev * f * (1 - f)  # dc -> d(forget gate)
            P_g = i * (1 - g * g)  # dc -> d(candidate)
            P = tf.concat([P_i, P_f, P_o, P_g], axis=-1)  # [n_steps, K, n_samples, 4*D_cell]
            W_hT = [tf.transpose(W) for W in Ws]  # [4*D_cell, D_cell] each

            def back(carry, elems):
                dh = carry[0] + elems[0]  # total gradient of h_t
                dc = carry[1]  # gradient of c_t from step t+1
                A_t, P_t, f_t = elems[1], elems[2], elems[3]
                if mask:
                    m, not_m = elems[4], elems[5]
                    dc_new = m * dc + A_t * dh
                    dz = tf.concat([dc_new, dc_new, dh, dc_new], axis=-1) * P_t
                    return (not_m * dh + _per_direction_matmul(dz, W_hT), not_m * dc + dc_new * f_t, dz)
                dc_new = dc + A_t * dh
                dz = tf.concat([dc_new, dc_new, dh, dc_new], axis=-1) * P_t
                return _per_direction_matmul(dz, W_hT), dc_new * f_t, dz

            zeros = tf.zeros_like(h0)
            elems = (dH, A, P, f) + ((mask[0], 1 - mask[0]) if mask else ())
            dh, dc, dZ = tf.scan(back, elems, initializer=(zeros, zeros, tf.zeros_like(xw[0])),
                                 reverse=True)
            dW_h = _weight_grad(H_prev, dZ, K)
            return (dZ, dW_h, dh[0], dc[0]) + tuple(None for _ in mask)

        return H, grad

    return recurrence(xw, W_h, h0, c0, *mask)


def _lstm_gates(z):
    """Gate pre-activations `[..., 4*D_cell]` -> ``i, f, o`` (sigmoid) and ``g`` (tanh)."""
    i, f, o, g = _split_gates(z, 4)
    return tf.sigmoid(i), tf.sigmoid(f), tf.sigmoid(o), tf.tanh(g)


def _run_group(cells, xws, mask):
    """Run directions of one type and ``D_cell`` in one loop; one `[n_steps, n_samples, D_cell]`
    each. ``xws``: each direction's (time-ordered for it) projection `[n_steps, n_samples, G*D_cell]`."""
    xw = tf.stack(xws, axis=1)  # [n_steps, K, n_samples, G*D_cell]
    W_h = tf.stack([c.W_h for c in cells])  # [K, D_cell, G*D_cell]
    h0 = tf.stack([c.init_h for c in cells])  # [K, n_samples, D_cell]
    masks = () if mask is None else (mask[:, None],)  # [n_steps, 1, n_samples, 1]
    if cells[0].type == "gru":
        H = _gru_recurrence(xw, W_h, h0, *masks)
    else:
        c0 = tf.stack([c.init_c for c in cells])
        H = _lstm_recurrence(xw, W_h, h0, c0, *masks)
    return tf.unstack(H, num=len(cells), axis=1)


def fast_RNN(cell, cell_b=None, merge="sum", sequence_length=None):
    """``RNN(cell, cell_b, merge, sequence_length)`` computed by the fast path.

    ``cell.incoming``: `[n_steps, n_samples, D_input]`; returns `[n_steps, n_samples, D_cell]`
    (`[..., 2*D_cell]` for ``merge='concat'``). Arguments are checked by ``rnn.RNN``.
    """
    incoming = cell.incoming
    n_steps, n_samples = tf.shape(incoming)[0], tf.shape(incoming)[1]
    mask = None
    if sequence_length is not None:
        sequence_length = tf.convert_to_tensor(sequence_length, dtype=tf.int32)
        mask = sequence_mask(sequence_length, n_steps)  # [n_steps, n_samples, 1]
    cells = [cell] if cell_b is None else [cell, cell_b]
    backward = [False, True][:len(cells)]
    fast = [has_fast_recurrence(c) for c in cells]
    states = [None] * len(cells)

    # all input projections of the fast directions as one matmul
    fast_idx = [k for k in range(len(cells)) if fast[k]]
    if fast_idx:
        x = tf.reshape(incoming, [-1, cell.D_input])  # [n_steps*n_samples, D_input]
        W_x = tf.concat([cells[k].W_x for k in fast_idx], axis=1)  # [D_input, sum G*D_cell]
        b = tf.concat([cells[k].b for k in fast_idx], axis=0)
        xw = tf.reshape(tf.matmul(x, W_x) + b, tf.stack([n_steps, n_samples, -1]))  # [n_steps, n_samples, sum G*D_cell]
        sizes = [cells[k].W_x.shape[1] for k in fast_idx]
        xws = dict(zip(fast_idx, tf.split(xw, sizes, axis=2)))
        for k in fast_idx:
            if backward[k]:
                xws[k] = reverse_time(xws[k], sequence_length)
        # directions of the same type and size share one loop
        groups = {}
        for k in fast_idx:
            groups.setdefault((cells[k].type, cells[k].D_cell), []).append(k)
        for idx in groups.values():
            outs = _run_group([cells[k] for k in idx], [xws[k] for k in idx], mask)
            for k, out in zip(idx, outs):
                states[k] = out
    for k in range(len(cells)):
        if not fast[k]:  # LSTM with a non-tanh h_act: the faithful scan
            x_k = reverse_time(incoming, sequence_length) if backward[k] else incoming
            states[k] = run_cell(cells[k], x_k, mask, name="b_hstates" if backward[k] else "hstates")
    for k in range(len(cells)):
        if backward[k]:
            states[k] = reverse_time(states[k], sequence_length)
        if mask is not None:
            states[k] = states[k] * mask  # zeros on padded frames
    if cell_b is None:
        return states[0]
    return merge_states(states[0], states[1], merge)
