"""The tutorial's ``RNN``: run a cell over time with ``tf.scan``, optionally both ways.

``RNN(cell, cell_b=None, merge='sum')`` runs ``cell.Step`` over ``cell.incoming``
`[n_steps, n_samples, D_input]` (time-major) and, when ``cell_b`` is given, ``cell_b.Step``
over the time-reversed input; the backward states are reversed back and merged with the
forward ones. Any combination of ``LSTMcell`` and ``GRUcell`` works.

Beyond the tutorial:

- ``merge`` must be 'sum', 'concat', 'mul' or 'ave' (Keras's ``Bidirectional`` modes); the
  tutorial silently concatenates for any value other than 'sum', we raise ``ValueError``.
- ``sequence_length`` `[n_samples]` makes padded minibatches exact: a padded frame keeps the
  state unchanged and outputs zeros, and the backward cell reverses each sequence within its
  own length (``tf.reverse_sequence``), not the padded tensor.
- ``fast=True`` computes each direction's recurrence with ``tf1_birnn.core.fast`` (same
  numbers, tested), its loops run as ``loops`` says; the checks, masks, reversal and merge
  here are shared by both paths. A layer with a cell that has no fast recurrence (an LSTM
  whose ``h_act`` is not ``tf.tanh``) falls back wholesale: both directions run ``tf.scan``.
"""
import tensorflow as tf

from .cells import check_cell
from .checks import check_choice
from .config import MERGES as MERGE_MODES  # ('sum', 'concat', 'mul', 'ave'), written down once
from .config import NetworkConfig
from .fast import check_loops, fast_recurrences, has_fast_recurrence

__all__ = ["RNN", "MERGE_MODES", "merge_states", "run_cell", "frame_mask"]


def check_merge(merge):
    """Raise ``ValueError`` unless ``merge`` is one of ``MERGE_MODES``."""
    check_choice(merge, "merge", MERGE_MODES)


def merge_states(hstates, b_hstates, merge):
    """Merge forward and backward states, each `[n_steps, n_samples, D_cell]`."""
    if merge == "sum":
        return hstates + b_hstates
    if merge == "mul":
        return hstates * b_hstates
    if merge == "ave":
        return (hstates + b_hstates) / 2
    return tf.concat(values=[hstates, b_hstates], axis=2)  # [n_steps, n_samples, 2*D_cell]


def _masked_step(cell):
    """Wrap ``cell.Step`` so that a frame with mask 0 leaves the state unchanged."""
    def step(previous, elems):
        current_x, m = elems  # [n_samples, D_input], [n_samples, 1]
        current = cell.Step(previous, current_x)
        state = m * current + (1 - m) * previous
        state.set_shape(previous.shape)  # a mask of unknown n_samples must not blur the loop's shape
        return state
    return step


def run_cell(cell, incoming, mask=None, name="hstates"):
    """Scan ``cell.Step`` over ``incoming`` `[n_steps, n_samples, D_input]`; return the hidden
    states `[n_steps, n_samples, D_cell]` (for an LSTM, drop the memory cells).

    ``mask`` `[n_steps, n_samples, 1]` (1 = real frame) freezes the state on padded frames.
    """
    if mask is None:
        hstates = tf.scan(fn=cell.Step, elems=incoming, initializer=cell.previous, name=name)
    else:
        hstates = tf.scan(fn=_masked_step(cell), elems=(incoming, mask),
                          initializer=cell.previous, name=name)
    return cell.hidden(hstates)  # an LSTM's [n_steps, 2, n_samples, D_cell] -> its h


def frame_mask(sequence_length, n_steps):
    """`[n_samples]` lengths -> float mask `[n_samples, n_steps]`, 1.0 on real frames.

    Like ``tf.sequence_mask(..., dtype=tf.float32)``, but from integer arithmetic alone: that
    one makes a boolean tensor and casts it, and on hosts where TensorFlow's oneDNN rewrites
    are on, a boolean tensor fed into the scan makes TensorFlow log "oneDNN supports DT_BOOL
    only on platforms with AVX-512" as an error (E0000) when the graph first runs.
    """
    t = tf.range(n_steps)[None, :]  # [1, n_steps]
    real = tf.clip_by_value(sequence_length[:, None] - t, 0, 1)  # [n_samples, n_steps], int32
    return tf.cast(real, tf.float32)


def sequence_mask(sequence_length, n_steps):
    """`[n_samples]` lengths -> float mask `[n_steps, n_samples, 1]` (time-major)."""
    return tf.transpose(frame_mask(sequence_length, n_steps))[:, :, None]  # [n_steps, n_samples, 1]


def reverse_time(x, sequence_length):
    """Reverse `[n_steps, n_samples, D]` in time, within each sequence's length if given."""
    if sequence_length is None:
        return tf.reverse(x, axis=[0])
    return tf.reverse_sequence(x, sequence_length, seq_axis=0, batch_axis=1)


def RNN(cell, cell_b=None, merge='sum', sequence_length=None, fast=False,
        loops=NetworkConfig.loops):
    """Run ``cell`` forward (and ``cell_b`` backward) over ``cell.incoming``.

    ``cell.incoming``: `[n_steps, n_samples, D_input]`. Returns `[n_steps, n_samples, D_cell]`,
    or `[n_steps, n_samples, 2*D_cell]` for ``merge='concat'``. ``sequence_length``
    `[n_samples]` (int32): the real length of each padded sequence; outputs past it are 0.
    ``fast``: compute the recurrences with ``tf1_birnn.core.fast`` (same numbers, tested)
    when every cell has one, else ``tf.scan`` for the whole layer; ``loops``: how the fast
    path runs the directions' loops (``LOOP_MODES``); everything else here is shared by both
    paths.
    """
    check_cell(cell, "cell")
    check_merge(merge)
    check_loops(loops)
    if cell_b is not None:
        check_cell(cell_b, "cell_b")
        if cell_b.D_cell != cell.D_cell and merge != "concat":
            raise ValueError(f"merge={merge!r} needs cells of the same D_cell; got "
                             f"{cell.D_cell} and {cell_b.D_cell} (use merge='concat')")
    mask = None
    if sequence_length is not None:
        sequence_length = tf.convert_to_tensor(sequence_length, dtype=tf.int32)
        mask = sequence_mask(sequence_length, tf.shape(cell.incoming)[0])
    cells = [cell] if cell_b is None else [cell, cell_b]
    # the backward direction reads the input reversed (within each sequence's length)
    incomings = [cell.incoming, reverse_time(cell.incoming, sequence_length)][:len(cells)]
    if fast and all(has_fast_recurrence(c) for c in cells):
        states = fast_recurrences(cells, incomings, mask, loops)
    else:  # the tutorial's tf.scan of cell.Step, for the whole layer
        states = [run_cell(c, x, mask, name=name)
                  for c, x, name in zip(cells, incomings, ["hstates", "b_hstates"])]
    if cell_b is not None:  # reverse the backward states back to the input's time order
        states[1] = reverse_time(states[1], sequence_length)
    if mask is not None:
        states = [s * mask for s in states]  # zeros on padded frames
    if cell_b is None:
        return states[0]
    return merge_states(states[0], states[1], merge)
