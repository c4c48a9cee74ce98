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
- the recurrence (``fast_cells``: the GRU's, or the LSTM's for a cell with a memory cell) is a
  ``tf.custom_gradient`` function of ``(xw, W_h, h0[, c0])``: its backward loop carries only
  ``dh`` (and ``dc``); ``dW_h = H_prev^T @ dG`` is one matmul after it; ``dxw`` flows to
  ``W_x``, ``b`` and the input through ordinary autodiff of the projection;
- how the directions' loops run is the argument ``loops`` (``LOOP_MODES``; the network's
  setting ``loops``, ``train --loops``): ``'sequential'`` (one direction's loop after the
  other's, in the forward and in the backward pass), ``'concurrent'`` (each its own loop, both
  at once: TensorFlow's executor runs independent loops one per core), ``'shared'``
  (directions of one cell kind and size in ONE loop, on a leading direction axis ``K``) or
  ``'auto'``: sequential when the directions' recurrent weights ``W_h`` together take more
  than half the last-level cache (``cache_bytes``), else concurrent. At batch 1 every step
  reads all of ``W_h`` (`[D_cell, G*D_cell]`); two directions read in alternation that do not
  fit the cache together come from memory. The measurements behind this rule, with their host,
  are in docs/performance.md, "What the fast path does";
- the loops are ``tf.while_loop``s (``fast_loop.while_scan``) that slice step ``t`` out of the
  whole input tensors instead of copying them into TensorArrays first.

Padding: a mask `[n_steps, n_samples, 1]` (1 = real frame) freezes the states on padded frames
with the faithful ``tf.scan``'s rule (``fast_loop.freeze``), for both cells; the skeleton
zeroes the padded outputs.

Dropout inside the cells (``tf1_birnn.core.dropout``) uses the cells' own per-sequence masks:
the input mask ``x`` multiplies the input before the hoisted projection; the recurrent mask
``h`` multiplies ``h`` before ``W_h`` inside the loop, and the candidate mask ``c`` the
candidate; the backward loop and ``dW_h`` use the same masks.

Limits: an ``LSTMcell`` whose ``h_act`` is not ``tf.tanh`` has no analytic gradient here
(``has_fast_recurrence`` is False). ``RNN`` then runs the whole layer, both directions, with
the faithful ``tf.scan`` (correct, not faster), as Keras's ``GRU`` falls back from cuDNN.
``tests/test_fast.py`` checks outputs and gradients against ``RNN(fast=False)``.
"""
from pathlib import Path

import tensorflow as tf

from .checks import check_choice
from .config import LOOP_MODES  # ('auto', 'sequential', 'concurrent', 'shared'), written once
from .fast_cells import gru_recurrence, lstm_recurrence
from .fast_loop import Order

__all__ = ["fast_recurrences", "has_fast_recurrence", "check_loops", "loop_mode",
           "auto_loop_mode", "cache_bytes", "LOOP_MODES"]

L3_SYSFS = Path("/sys/devices/system/cpu/cpu0/cache/index3/size")
L3_DEFAULT = 32 * 2 ** 20  # bytes assumed when sysfs does not say (docs/performance.md)


def has_fast_recurrence(cell):
    """True when ``cell`` has an analytic backward pass here: a GRU, or a cell with a memory
    cell (the LSTM) whose ``h_act`` is ``tf.tanh``."""
    return not cell.has_memory or cell.h_act is tf.tanh


def check_loops(loops):
    """Raise ``ValueError`` unless ``loops`` is one of ``LOOP_MODES``."""
    check_choice(loops, "loops", LOOP_MODES)


def cache_bytes():
    """The last-level (L3) cache size in bytes from Linux's sysfs, else ``L3_DEFAULT``."""
    try:
        text = L3_SYSFS.read_text().strip()  # e.g. '32768K'
        scale = {"K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30}.get(text[-1:].upper())
        return int(text[:-1]) * scale if scale else int(text)
    except (OSError, ValueError):
        return L3_DEFAULT


def loop_mode(cells, loops):
    """How the loops of ``cells``' fast recurrences run: ``loops``, with 'auto' resolved by
    ``auto_loop_mode`` from their ``W_h`` (float32)."""
    check_loops(loops)
    if loops != "auto":
        return loops
    return auto_loop_mode(sum(4 * c.D_cell * int(c.W_h.shape[1]) for c in cells))


def auto_loop_mode(weight_bytes):
    """What 'auto' picks for loops whose ``W_h`` together take ``weight_bytes``: 'sequential'
    when they exceed half of ``cache_bytes()``, else 'concurrent'."""
    return "sequential" if weight_bytes > cache_bytes() // 2 else "concurrent"


def _projections(cells, incomings):
    """Each direction's ``x W_x + b`` of every step, hoisted out of the loop, stacked on the
    direction axis: `[n_steps, K, n_samples, G*D_cell]`."""
    xws = []
    for cell, x in zip(cells, incomings):
        n_steps, n_samples = tf.shape(x)[0], tf.shape(x)[1]
        x = cell.drop("x", x)  # the input's dropout mask, the same at every step
        x_flat = tf.reshape(x, [-1, cell.D_input])  # [n_steps*n_samples, D_input]
        xw = tf.matmul(x_flat, cell.W_x) + cell.b  # [n_steps*n_samples, G*D_cell]
        xws.append(tf.reshape(xw, tf.stack([n_steps, n_samples, -1])))  # [n_steps, n_samples, G*D_cell]
    xw = tf.stack(xws, axis=1)  # [n_steps, K, n_samples, G*D_cell]
    xw.set_shape(incomings[0].shape[:1].concatenate([len(cells), None, cells[0].W_h.shape[1]]))
    return xw


def _stacked_masks(cells, name):
    """The cells' dropout masks ``name`` stacked `[K, n_samples, D_cell]` (ones for a cell
    without that mask), or None when no cell has one."""
    if not any(name in c.dropout_masks for c in cells):
        return None
    ones = [tf.ones_like(c.init_h) for c in cells]  # [n_samples, D_cell]
    return tf.stack([c.dropout_masks.get(name, one) for c, one in zip(cells, ones)])


def _run_group(cells, incomings, mask, order):
    """Run directions of one kind and ``D_cell`` in one loop; one `[n_steps, n_samples, D_cell]`
    each. ``incomings``: each direction's input, in its own time order, `[n_steps, n_samples,
    D_input]`; ``mask``: `[n_steps, n_samples, 1]`."""
    recurrence = lstm_recurrence if cells[0].has_memory else gru_recurrence
    xw = _projections(cells, incomings)  # [n_steps, K, n_samples, G*D_cell]
    W_h = tf.stack([c.W_h for c in cells])  # [K, D_cell, G*D_cell]
    # h0 (and c0), each [K, n_samples, D_cell]
    inits = [tf.stack(states) for states in zip(*(c.init_states for c in cells))]
    H = recurrence(order, xw, W_h, *inits, mask[:, None],  # mask: [n_steps, 1, n_samples, 1]
                   m_h=_stacked_masks(cells, "h"), m_c=_stacked_masks(cells, "c"))
    return tf.unstack(H, num=len(cells), axis=1)


def fast_recurrences(cells, incomings, mask, loops):
    """The hidden states of each direction, computed by the fast recurrence.

    ``cells``: the forward cell and, optionally, the backward one, each with
    ``has_fast_recurrence``; ``incomings``: each one's input in its own time order (the
    backward one already reversed by ``RNN``), `[n_steps, n_samples, D_input]`; ``mask``:
    `[n_steps, n_samples, 1]` or None (no padding). Returns one `[n_steps, n_samples, D_cell]`
    per cell, in that input's time order (frozen on padded frames). ``loops``: one of
    ``LOOP_MODES``; each direction has its own loop, run one after the other or at the same
    time, or directions of the same kind and ``D_cell`` share one loop: ``loop_mode``.
    """
    slow = [type(c).__name__ for c in cells if not has_fast_recurrence(c)]
    if slow:
        raise ValueError(f"no fast recurrence for {slow}: RNN runs such a layer with tf.scan")
    mode = loop_mode(cells, loops)
    if mask is None:  # no padding: every frame is real
        shape = tf.concat([tf.shape(incomings[0])[:2], [1]], axis=0)
        mask = tf.ones(shape)  # [n_steps, n_samples, 1]
    groups = {}  # which directions share a loop
    for k, cell in enumerate(cells):
        groups.setdefault((cell.has_memory, cell.D_cell) if mode == "shared" else k, []).append(k)
    order = Order(sequential=mode == "sequential")
    states = {}
    for idx in groups.values():
        outs = _run_group([cells[k] for k in idx], [incomings[k] for k in idx], mask, order)
        states.update(zip(idx, outs))
    return [states[k] for k in range(len(cells))]
