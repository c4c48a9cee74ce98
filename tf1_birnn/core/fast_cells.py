"""The fast path's recurrences (``tf1_birnn.core.fast``): the GRU's and the LSTM's (with
``h_act=tf.tanh``), each a ``tf.custom_gradient`` function with an analytic backward pass.

The equations are ``GRUcell.Step``'s and ``LSTMcell.Step``'s, with the gates in the cells'
order (GRU ``[r, u, c]``, LSTM ``[i, f, o, c]``) and the cells' names: ``c`` is the candidate,
``prev_c``/``current_c`` the LSTM's memory cell. Shapes carry a direction axis ``K`` after
time (``fast_loop``). Both recurrences take:

- ``order``: a ``fast_loop.Order``; ``xw``: `[n_steps, K, n_samples, G*D_cell]`, the hoisted
  ``x W_x + b``; ``W_h``: `[K, D_cell, G*D_cell]`; the initial states ``h0`` (and the LSTM's
  ``c0``), each `[K, n_samples, D_cell]`;
- ``mask``: `[n_steps, 1, n_samples, 1]`, 1.0 on real frames (all ones without padding): the
  states are frozen on padded frames by ``fast_loop.freeze``, the faithful path's rule, for
  both cells;
- ``m_h``, ``m_c`` (None or `[K, n_samples, D_cell]`): the dropout masks on ``h`` before
  ``W_h`` and on the candidate;

and return the hidden states `[n_steps, K, n_samples, D_cell]`. The forward loop carries only
the states and saves per-step outputs; the backward loop carries only ``dh`` (and ``dc``),
using per-step factors computed vectorized outside it; ``dW_h`` is one matmul per direction
after it. The masks take no gradient (the padding mask comes from lengths, the dropout masks
are ``tf.stop_gradient``'s): the custom gradients are taken w.r.t. ``xw``, ``W_h`` and the
initial states only.
"""
import tensorflow as tf

from .fast_loop import (freeze, frozen_grads, per_direction_matmul, previous_states, split_gates,
                        weight_grad, while_scan)

__all__ = ["gru_recurrence", "lstm_recurrence"]


def _dropped(x, m):
    """``x`` times the dropout mask ``m``, or ``x`` when there is none."""
    return x if m is None else x * m


def _per_direction(m, K):
    """A mask `[K, n_samples, D_cell]` as K masks `[n_samples, D_cell]` (None: K Nones)."""
    return [None] * K if m is None else tf.unstack(m, num=K)


def _ru_c(x, D):
    """Split a GRU's `[..., 3*D_cell]` into ``[r, u]`` `[..., 2*D_cell]` and ``c`` `[..., D_cell]`."""
    return tf.split(x, [2 * D, D], axis=-1)


def gru_recurrence(order, xw, W_h, h0, mask, m_h=None, m_c=None):
    """The GRU over pre-projected inputs, with an analytic gradient (module docstring)."""
    K, D = W_h.shape[0], h0.shape[-1]  # directions, D_cell
    not_mask = 1 - mask

    @tf.custom_gradient
    def recurrence(xw, W_h, h0):
        Ws = tf.unstack(W_h, num=K)  # each direction's W_h [D_cell, 3*D_cell]

        def step(carry, elems):
            x_ru, x_c, m, not_m = elems  # x W_x + b of [r, u] and of c; the frame's mask
            prev_h = carry[0]  # [K, n_samples, D_cell]
            hW = per_direction_matmul(_dropped(prev_h, m_h), Ws)  # [K, n_samples, 3*D_cell]
            h_ru, h_c = _ru_c(hW, D)
            r, u = split_gates(tf.sigmoid(x_ru + h_ru), 2)  # reset, update gates
            c = _dropped(tf.tanh(x_c + r * h_c), m_c)  # candidate state
            current_h = prev_h + u * (c - prev_h)  # (1 - u) * prev_h + u * c
            new = freeze(m, not_m, (current_h,), carry)
            return new, new + (hW,)

        elems = tuple(_ru_c(xw, D)) + (mask, not_mask)
        (H, HW), _ = while_scan(step, elems, order.after("forward", [h0]), 2)
        order.add("forward", H)
        # H: [n_steps, K, n_samples, D_cell]; HW = H_prev @ W_h: [n_steps, K, n_samples, 3*D_cell]

        def grad(dH):
            return _gru_grad(order, dH, xw, Ws, h0, H, HW, (mask, not_mask), m_h, m_c)

        return H, grad

    return recurrence(xw, W_h, h0)


def _gru_grad(order, dH, xw, Ws, h0, H, HW, masks, m_h, m_c):
    """``gru_recurrence``'s gradients w.r.t. ``(xw, W_h, h0)``, given ``dH`` `[n_steps, K,
    n_samples, D_cell]`; ``masks``: the padding mask and its complement."""
    K, D = len(Ws), h0.shape[-1]
    H_prev = previous_states(H, h0)
    x_ru, x_c = _ru_c(xw, D)
    h_ru, h_c = _ru_c(HW, D)
    r, u = split_gates(tf.sigmoid(x_ru + h_ru), 2)
    c = tf.tanh(x_c + r * h_c)  # the candidate before dropout
    # per-step factors from the gradient of the new (unfrozen) h:
    P_c = _dropped(u, m_c) * (1 - c * c)  # -> d(candidate pre-activation), through its mask
    P_u = (_dropped(c, m_c) - H_prev) * u * (1 - u)  # -> d(update gate pre-activation)
    P_r = P_c * h_c * r * (1 - r)  # -> d(reset gate pre-activation)
    P_x = tf.concat([P_r, P_u, P_c], axis=-1)  # -> d(x W_x + b)  [n_steps, K, n_samples, 3*D_cell]
    P_h = tf.concat([P_r, P_u, P_c * r], axis=-1)  # -> d(h W_h)
    # freeze's gradient, folded into the factors outside the loop: m * dh reaches the new h,
    # not_m * dh passes to the previous h (frozen_grads, done per step for the LSTM's dc)
    m, not_m = masks
    P_x, P_h = m * P_x, m * P_h
    keep = m * (1 - u) + not_m  # dh -> dh_prev, direct path
    W_hT = [tf.transpose(W) for W in Ws]  # [3*D_cell, D_cell] each
    m_hs = _per_direction(m_h, K)

    def back(carry, elems):
        # one chain of ops per direction k (no stack/unstack around the matmuls);
        # carry[k]: `[n_samples, D_cell]`; elems: dH, P_h, keep at step t `[K, ...]`
        dy, P_h_t, keep_t = elems
        new, outs = [], []
        for k in range(K):
            dh = carry[k] + dy[k]  # total gradient of h_t
            dhW = tf.concat([dh, dh, dh], axis=-1) * P_h_t[k]  # [n_samples, 3*D_cell]
            dh_W = _dropped(tf.matmul(dhW, W_hT[k]), m_hs[k])  # through h W_h (and its mask)
            new.append(dh * keep_t[k] + dh_W)
            outs.append(dh)
        return tuple(new), (tf.stack(outs),)

    zeros = order.after("backward", tf.unstack(tf.zeros_like(h0), num=K))
    (dH_total,), carry = while_scan(back, (dH, P_h, keep), zeros, 1, reverse=True)
    order.add("backward", dH_total)
    d3 = tf.concat([dH_total] * 3, axis=-1)  # [n_steps, K, n_samples, 3*D_cell]
    dW_h = weight_grad(_dropped(H_prev, m_h), d3 * P_h, K)
    return d3 * P_x, dW_h, tf.stack(carry)  # carry: the gradient of h0, after step 0


def _lstm_gates(z):
    """Gate pre-activations `[..., 4*D_cell]` -> ``i, f, o`` (sigmoid) and ``c`` (tanh)."""
    i, f, o, c = split_gates(z, 4)
    return tf.sigmoid(i), tf.sigmoid(f), tf.sigmoid(o), tf.tanh(c)


def lstm_recurrence(order, xw, W_h, h0, c0, mask, m_h=None, m_c=None):
    """The LSTM (``h_act=tf.tanh``) over pre-projected inputs, with an analytic gradient
    (module docstring)."""
    K = W_h.shape[0]  # directions
    not_mask = 1 - mask

    @tf.custom_gradient
    def recurrence(xw, W_h, h0, c0):
        Ws = tf.unstack(W_h, num=K)  # each direction's W_h [D_cell, 4*D_cell]

        def step(carry, elems):
            x_z, m, not_m = elems  # x W_x + b; the frame's mask
            prev_h, prev_c = carry  # [K, n_samples, D_cell] each
            z = x_z + per_direction_matmul(_dropped(prev_h, m_h), Ws)  # [K, n_samples, 4*D_cell]
            i, f, o, c = _lstm_gates(z)
            current_c = f * prev_c + i * _dropped(c, m_c)  # memory cell
            current_h = o * tf.tanh(current_c)
            new = freeze(m, not_m, (current_h, current_c), carry)
            return new, new + (z,)

        (H, C, Z), _ = while_scan(step, (xw, mask, not_mask), order.after("forward", [h0, c0]), 3)
        order.add("forward", H)

        def grad(dH):
            return _lstm_grad(order, dH, Ws, (h0, c0), (H, C, Z), (mask, not_mask), m_h, m_c)

        return H, grad

    return recurrence(xw, W_h, h0, c0)


def _lstm_grad(order, dH, Ws, inits, saved, masks, m_h, m_c):
    """``lstm_recurrence``'s gradients w.r.t. ``(xw, W_h, h0, c0)``, given ``dH``; ``saved``:
    the forward loop's ``(H, C, Z)``; ``masks``: the padding mask and its complement."""
    (h0, c0), (H, C, Z), K = inits, saved, len(Ws)
    C_prev = previous_states(C, c0)
    i, f, o, c = _lstm_gates(Z)
    c_d = _dropped(c, m_c)  # the candidate after dropout
    tc = tf.tanh(f * C_prev + i * c_d)  # of the new memory cell, before freezing
    A = o * (1 - tc * tc)  # dh -> dc
    P_o = tc * o * (1 - o)  # dh -> d(output gate pre-activation)
    P_i = c_d * i * (1 - i)  # dc -> d(input gate pre-activation)
    P_f = C_prev * f * (1 - f)  # dc -> d(forget gate pre-activation)
    P_c = _dropped(i, m_c) * (1 - c * c)  # dc -> d(candidate pre-activation), through its mask
    P = tf.concat([P_i, P_f, P_o, P_c], axis=-1)  # [n_steps, K, n_samples, 4*D_cell]
    W_hT = [tf.transpose(W) for W in Ws]  # [4*D_cell, D_cell] each
    m_hs = _per_direction(m_h, K)

    def back(carry, elems):
        # one chain of ops per direction k; carry: dh's then dc's `[n_samples, D_cell]`
        dy, A_t, P_t, f_t, m, not_m = elems
        dhs, dcs, outs = [], [], []
        for k in range(K):
            (dh, dc), (dh_pass, dc_pass) = frozen_grads(m[0], not_m[0],
                                                        (carry[k] + dy[k], carry[K + k]))
            dc_new = dc + A_t[k] * dh  # gradient of current_c
            dz = tf.concat([dc_new, dc_new, dh, dc_new], axis=-1) * P_t[k]
            dhs.append(_dropped(tf.matmul(dz, W_hT[k]), m_hs[k]) + dh_pass)
            dcs.append(dc_new * f_t[k] + dc_pass)  # through the forget gate
            outs.append(dz)
        return tuple(dhs + dcs), (tf.stack(outs),)

    zeros = tf.unstack(tf.zeros_like(h0), num=K)
    (dZ,), carry = while_scan(back, (dH, A, P, f) + masks, order.after("backward", zeros + zeros),
                              1, reverse=True)
    order.add("backward", dZ)
    dW_h = weight_grad(_dropped(previous_states(H, h0), m_h), dZ, K)
    return dZ, dW_h, tf.stack(carry[:K]), tf.stack(carry[K:])
