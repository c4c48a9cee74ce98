"""Tests of tf1_birnn.core.rnn.RNN against the NumPy reference: forward only and bidirectional with
mixed cells, every merge mode, padded batches with ``sequence_length``, and argument errors."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import reference
from tiny import CELLS
from tf1_birnn.core.initializers import orthogonal_initializer
from tf1_birnn.core.rnn import MERGE_MODES, RNN

N_STEPS, D_INPUT, D_CELL = 7, 3, 4
LENGTHS = [7, 4, 1, 5]  # one full, the rest padded
ATOL = 2e-5


def _padded_batch(rng, lengths=LENGTHS, n_steps=N_STEPS):
    """Random `[n_steps, n_samples, D_input]` whose padding is large garbage, not zeros."""
    x = rng.standard_normal((n_steps, len(lengths), D_INPUT)).astype(np.float32)
    for k, L in enumerate(lengths):
        x[L:, k] = 100.0 * rng.standard_normal((n_steps - L, D_INPUT))
    return x


def _build(kind, kind_b, D_cell_b=D_CELL):
    x_ph = tf.compat.v1.placeholder(tf.float32, [None, None, D_INPUT], name="incoming")
    cell = CELLS[kind](x_ph, D_INPUT, D_CELL, orthogonal_initializer)
    cell_b = None if kind_b is None else CELLS[kind_b](x_ph, D_INPUT, D_cell_b,
                                                       orthogonal_initializer)
    return x_ph, cell, cell_b


def _weights(sess, cell):
    return None if cell is None else tuple(sess.run([cell.W_x, cell.W_h, cell.b]))


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_forward_matches_reference(sess, rng, randomize, kind):
    x_ph, cell, _ = _build(kind, None)
    length_ph = tf.compat.v1.placeholder(tf.int32, [None])
    out_plain = RNN(cell)
    out_masked = RNN(cell, sequence_length=length_ph)
    randomize(sess)
    weights = _weights(sess, cell)

    x = rng.standard_normal((N_STEPS, 2, D_INPUT)).astype(np.float32)
    got = sess.run(out_plain, {x_ph: x})
    assert got.shape == (N_STEPS, 2, D_CELL)
    np.testing.assert_allclose(got, reference.run(kind, weights, x), atol=ATOL)

    x = _padded_batch(rng)
    got = sess.run(out_masked, {x_ph: x, length_ph: LENGTHS})
    np.testing.assert_allclose(got, reference.birnn_padded(kind, weights, x, LENGTHS), atol=ATOL)


@pytest.mark.parametrize("merge", MERGE_MODES)
@pytest.mark.parametrize("kind, kind_b", [("lstm", "gru"), ("gru", "lstm"), ("gru", "gru"),
                                          ("lstm", "lstm")])
def test_bidirectional_padded_matches_reference(sess, rng, randomize, kind, kind_b, merge):
    x_ph, cell, cell_b = _build(kind, kind_b)
    length_ph = tf.compat.v1.placeholder(tf.int32, [None])
    out_masked = RNN(cell, cell_b, merge, sequence_length=length_ph)
    out_plain = RNN(cell, cell_b, merge)
    randomize(sess)
    w, w_b = _weights(sess, cell), _weights(sess, cell_b)
    D_out = 2 * D_CELL if merge == "concat" else D_CELL

    x = _padded_batch(rng)
    got = sess.run(out_masked, {x_ph: x, length_ph: LENGTHS})
    assert got.shape == (N_STEPS, len(LENGTHS), D_out)
    want = reference.birnn_padded(kind, w, x, LENGTHS, kind_b, w_b, merge)
    np.testing.assert_allclose(got, want, atol=ATOL)
    for k, L in enumerate(LENGTHS):
        np.testing.assert_array_equal(got[L:, k], 0.0)  # padded outputs are exactly 0
        # the same sequence run alone, unpadded, through the unmasked graph
        alone = sess.run(out_plain, {x_ph: x[:L, k:k + 1]})
        np.testing.assert_allclose(got[:L, k:k + 1], alone, atol=ATOL)

    # whole (unpadded) batch without sequence_length
    x = rng.standard_normal((N_STEPS, 2, D_INPUT)).astype(np.float32)
    np.testing.assert_allclose(sess.run(out_plain, {x_ph: x}),
                               reference.birnn(kind, w, x, kind_b, w_b, merge), atol=ATOL)


def test_backward_reverses_within_each_length(sess, rng, randomize):
    # a backward-only view: with merge='concat' the second half is the backward direction,
    # whose first output frame has seen the whole real sequence and none of the padding
    x_ph, cell, cell_b = _build("gru", "gru")
    out = RNN(cell, cell_b, "concat", sequence_length=[3, 5])
    randomize(sess)
    w_b = _weights(sess, cell_b)
    x = _padded_batch(rng, lengths=[3, 5], n_steps=5)
    bw = sess.run(out, {x_ph: x})[:, :, D_CELL:]
    for k, L in enumerate([3, 5]):
        want = reference.run("gru", w_b, x[:L, k:k + 1][::-1])[::-1]  # reversed within L
        np.testing.assert_allclose(bw[:L, k:k + 1], want, atol=ATOL)
        # reversing the padded tensor instead would have started from the garbage frames
        wrong = reference.run("gru", w_b, x[:, k:k + 1][::-1])[::-1][:L]
        if L < 5:
            assert not np.allclose(want, wrong, atol=1e-3)


def test_full_lengths_equal_no_lengths(sess, rng, randomize):
    x_ph, cell, cell_b = _build("lstm", "gru")
    out_masked = RNN(cell, cell_b, "sum", sequence_length=[N_STEPS, N_STEPS])
    out_plain = RNN(cell, cell_b, "sum")
    randomize(sess)
    x = rng.standard_normal((N_STEPS, 2, D_INPUT)).astype(np.float32)
    a, b = sess.run([out_masked, out_plain], {x_ph: x})
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_concat_with_different_D_cell(sess, rng, randomize):
    x_ph, cell, cell_b = _build("gru", "lstm", D_cell_b=D_CELL + 2)
    out = RNN(cell, cell_b, "concat")
    randomize(sess)
    x = rng.standard_normal((N_STEPS, 2, D_INPUT)).astype(np.float32)
    got = sess.run(out, {x_ph: x})
    assert got.shape == (N_STEPS, 2, 2 * D_CELL + 2)
    want = reference.birnn("gru", _weights(sess, cell), x, "lstm", _weights(sess, cell_b),
                           "concat")
    np.testing.assert_allclose(got, want, atol=ATOL)


# ---------------------------------------------------------------- argument errors

@pytest.mark.parametrize("merge", ["avg", "Sum", None, "max"])
def test_unknown_merge(sess, merge):
    _, cell, cell_b = _build("gru", "lstm")
    with pytest.raises(ValueError, match="merge") as info:
        RNN(cell, cell_b, merge)
    assert repr(merge) in str(info.value)


def test_unknown_merge_rejected_without_backward_cell(sess):
    _, cell, _ = _build("gru", None)
    with pytest.raises(ValueError, match="merge.*'avg'"):
        RNN(cell, merge="avg")


@pytest.mark.parametrize("merge", ["sum", "mul", "ave"])
def test_elementwise_merge_needs_equal_D_cell(sess, merge):
    _, cell, cell_b = _build("gru", "gru", D_cell_b=D_CELL + 1)
    with pytest.raises(ValueError, match=r"merge='%s'.*4 and 5" % merge):
        RNN(cell, cell_b, merge)


def _not_cells():
    return [{"type": "gru"}, keras.layers.GRUCell(D_CELL), "gru", None]


@pytest.mark.parametrize("bad", _not_cells(), ids=lambda c: type(c).__name__)
def test_cell_not_a_tf1_birnn_cell(sess, bad):
    with pytest.raises(TypeError, match=r"\bcell must be .*got %s" % type(bad).__name__):
        RNN(bad)


@pytest.mark.parametrize("bad", _not_cells()[:3], ids=lambda c: type(c).__name__)
def test_cell_b_not_a_tf1_birnn_cell(sess, bad):
    _, cell, _ = _build("lstm", None)
    with pytest.raises(TypeError, match=r"cell_b must be .*got %s" % type(bad).__name__):
        RNN(cell, bad)


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_static_batch_with_lengths_of_unknown_size(sess, rng, randomize, kind, fast):
    """A statically shaped input and lengths of unknown size (as the network's default
    ``sequence_length``) build and run: the mask must not blur the loop's state shape."""
    x = tf.constant(rng.standard_normal((N_STEPS, 1, D_INPUT)).astype(np.float32))
    cell = CELLS[kind](x, D_INPUT, D_CELL, orthogonal_initializer)
    cell_b = CELLS[kind](x, D_INPUT, D_CELL, orthogonal_initializer)
    lengths = tf.compat.v1.placeholder_with_default(tf.fill([1], N_STEPS), [None])
    out = RNN(cell, cell_b, "sum", sequence_length=lengths, fast=fast)
    plain = RNN(cell, cell_b, "sum", fast=fast)
    randomize(sess)
    a, b = sess.run([out, plain])
    np.testing.assert_allclose(a, b, atol=1e-6)
