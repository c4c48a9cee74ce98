"""The loop helpers of the fast path (``tf1_birnn.core.fast``): the loop over time, the order
of the directions' loops, the padding rule and the per-direction matmuls.

Tensors carry a direction axis ``K`` after time: one entry per direction run in the loop
(``K = 1``, or 2 when ``loops='shared'`` puts both directions in one loop).
"""
import tensorflow as tf

__all__ = ["Order", "while_scan", "freeze", "frozen_grads", "previous_states",
           "per_direction_matmul", "weight_grad", "split_gates"]


class Order:
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


def while_scan(fn, elems, initializer, n_out, reverse=False):
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


def freeze(m, not_m, new, old):
    """The padding rule, the faithful path's (``rnn._masked_step``): each state of ``new`` on
    a real frame (``m`` 1.0), the ``old`` one on a padded frame (``m`` 0.0, ``not_m = 1 - m``),
    exactly. ``m``, ``not_m``: `[1, n_samples, 1]`; states `[K, n_samples, D_cell]`."""
    return tuple(m * n + not_m * o for n, o in zip(new, old))


def frozen_grads(m, not_m, grads):
    """``freeze``'s gradient at one step and direction: each state's gradient ``d`` splits
    into ``m * d`` (into the step's new state) and ``not_m * d`` (straight to the state before
    it). ``m``, ``not_m``: `[n_samples, 1]`; returns the two tuples."""
    return tuple(m * d for d in grads), tuple(not_m * d for d in grads)


def previous_states(states, first):
    """States `[n_steps, K, n_samples, D_cell]` -> the states each step started from."""
    return tf.concat([first[None], states[:-1]], axis=0)  # [n_steps, K, n_samples, D_cell]


def per_direction_matmul(h, Ws):
    """`[K, n_samples, D]` times each direction's 2-D weight ``Ws[k]`` -> `[K, n_samples, D']`.

    K plain matmuls, not one batched matmul: on CPU a ``BatchMatMulV2`` of these shapes runs
    several times slower than ``MatMul`` (docs/performance.md)."""
    return tf.stack([tf.matmul(h_k, W_k) for h_k, W_k in zip(tf.unstack(h, num=len(Ws)), Ws)])


def weight_grad(H_prev, dG, K):
    """``sum_t H_prev[t]^T @ dG[t]``, per direction one matmul over
    `[n_steps*n_samples, D_cell] x [n_steps*n_samples, G*D_cell]`: -> `[K, D_cell, G*D_cell]`."""
    grads = []
    for k in range(K):
        H_k = tf.reshape(H_prev[:, k], [-1, H_prev.shape[-1]])  # [n_steps*n_samples, D_cell]
        dG_k = tf.reshape(dG[:, k], [-1, dG.shape[-1]])  # [n_steps*n_samples, G*D_cell]
        grads.append(tf.matmul(H_k, dG_k, transpose_a=True))  # [D_cell, G*D_cell]
    return tf.stack(grads)


def split_gates(x, n):
    """Cut the last axis of `[..., n*D_cell]` into ``n`` gate blocks `[..., D_cell]`."""
    return tf.split(x, n, axis=-1)
