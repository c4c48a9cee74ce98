"""Dropout inside the cells: the tutorial's last idea ("rnn的dropout"), off by default.

Each form draws its masks ONCE per sequence, before the loop over time: a mask is
`[n_samples, D]` and multiplies the same units at every time step of an utterance. A mask
holds 0 (dropped) or ``1/keep_rate`` (kept), as ``tf.nn.dropout`` scales (inverted dropout),
so that at ``keep_rate`` 1.0 every mask is exactly 1 and the cell computes, bit for bit, what
it computes without dropout. The forms (``CELL_DROPOUTS``):

- ``'none'``: no masks and no extra ops; the tutorial's cells.
- ``'variational'`` (Gal & Ghahramani 2016; the form of Keras's ``dropout`` and
  ``recurrent_dropout``): mask ``x`` `[n_samples, D_input]` on ``current_x`` before ``W_x``
  and mask ``h`` `[n_samples, D_cell]` on ``prev_h`` before ``W_h``. The state itself is not
  dropped: the GRU's ``(1 - u) * prev_h`` and the LSTM's ``f * prev_c`` use the unmasked
  states. One mask serves all gates (the fused ``W_x``/``W_h``); Keras 3 draws one per gate.
- ``'candidate'`` (Semeniuta, Severyn & Barth 2016, "recurrent dropout without memory
  loss"): mask ``c`` `[n_samples, D_cell]` on the candidate ``c`` only (the LSTM's new
  information ``i * c``, the GRU's ``u * c``), so the memory is never erased by a mask.

``keep_rate`` is the network's ``cell_keep_rate`` placeholder (fed a run's ``--cell-keep-rate``
while training, else equal to ``dropout_keep``: the run's keep rate while training, 1.0 in
evaluation), a scalar tensor, or a number in (0, 1].
"""
import numbers

import tensorflow as tf

from .checks import check_choice
from .config import CELL_DROPOUTS  # ('none', 'variational', 'candidate'), written down once

__all__ = ["CELL_DROPOUTS", "MASK_NAMES", "check_cell_dropout", "check_keep_rate",
           "draw_masks", "check_masks"]

# form -> its masks: 'x' `[n_samples, D_input]`, 'h' and 'c' `[n_samples, D_cell]`
MASK_NAMES = {"none": (), "variational": ("x", "h"), "candidate": ("c",)}


def check_cell_dropout(dropout):
    """``dropout`` as one of ``CELL_DROPOUTS`` (``None`` is 'none'); ``ValueError`` otherwise."""
    dropout = "none" if dropout is None else dropout
    check_choice(dropout, "dropout", CELL_DROPOUTS)
    return dropout


def check_keep_rate(keep_rate):
    """Raise unless ``keep_rate`` is a number in (0, 1] or a scalar float tensor."""
    if isinstance(keep_rate, (tf.Tensor, tf.Variable)):
        if not keep_rate.dtype.is_floating or keep_rate.shape.rank not in (None, 0):
            raise ValueError(f"keep_rate must be a scalar float tensor; got {keep_rate!r}")
        return
    if isinstance(keep_rate, bool) or not isinstance(keep_rate, numbers.Real) \
            or not 0.0 < keep_rate <= 1.0:
        raise ValueError(f"keep_rate must be a number in (0, 1] or a scalar tensor; "
                         f"got {keep_rate!r}")


def _mask_sizes(D_input, D_cell):
    return {"x": D_input, "h": D_cell, "c": D_cell}


def draw_masks(dropout, keep_rate, n_samples, D_input, D_cell):
    """The masks of form ``dropout``, each `[n_samples, D]` of 0 or ``1/keep_rate``:
    name -> tensor (no gradient flows into a mask)."""
    sizes = _mask_sizes(D_input, D_cell)
    masks = {}
    for name in MASK_NAMES[dropout]:
        ones = tf.ones(tf.stack([n_samples, sizes[name]]), dtype=tf.float32)  # [n_samples, D]
        mask = tf.nn.dropout(ones, rate=1.0 - tf.cast(keep_rate, tf.float32), name=f"mask_{name}")
        masks[name] = tf.stop_gradient(mask)
    return masks


def check_masks(masks, dropout, D_input, D_cell):
    """Given masks (tests, pictures) as name -> `[n_samples, D]` tensor: check the names are
    those of ``dropout`` and the last sizes fit; return them as float32 tensors."""
    names = MASK_NAMES[dropout]
    if not isinstance(masks, dict) or set(masks) != set(names):
        got = sorted(masks) if isinstance(masks, dict) else masks
        raise ValueError(f"masks of dropout={dropout!r} must be a dict with keys {list(names)}; "
                         f"got {got!r}")
    sizes = _mask_sizes(D_input, D_cell)
    checked = {}
    for name in names:
        mask = tf.convert_to_tensor(masks[name], dtype=tf.float32)
        if mask.shape.rank is not None and (mask.shape.rank != 2
                                            or mask.shape[1] not in (None, sizes[name])):
            raise ValueError(f"mask {name!r} must have shape `[n_samples, {sizes[name]}]`; "
                             f"got shape {mask.shape}")
        checked[name] = tf.stop_gradient(mask)
    return checked
