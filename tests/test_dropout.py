"""Tests of dropout inside the cells (tf1_birnn.core.dropout, ``LSTMcell``/``GRUcell``'s
``dropout``, ``keep_rate``, ``masks``) against independent references:

- the NumPy reference (``tests/reference.py``), with the SAME fixed masks given to both;
- Keras 3's ``GRU``/``LSTM`` with ``dropout``/``recurrent_dropout`` and the SAME masks: Keras
  draws its masks in ``DropoutRNNCell._create_dropout_mask``; the test replaces that method
  of the layer's cell so that it returns our masks (one per gate, all equal, since our fused
  gates share one mask). Sharing the masks makes the comparison exact; statistics would only
  check that both drop about ``1 - keep`` of the units;
- the faithful ``tf.scan`` against the fast path on the same cells (outputs and gradients),
  with the masks the cells draw themselves;
- keep rate 1.0 against no dropout, bit for bit.
"""
import numpy as np
import pytest
import tensorflow as tf

import reference
from tiny import CELLS, both_paths
from tf1_birnn.core.dropout import CELL_DROPOUTS, MASK_NAMES
from tf1_birnn.core.initializers import orthogonal_initializer
from tf1_birnn.tools.keras_ref import keras_layer
from tf1_birnn.core.rnn import RNN

T, N, D_IN, D_CELL = 6, 3, 4, 5
FORMS = ("variational", "candidate")
ATOL = 2e-5


def _random_masks(rng, form, keep, n=N):
    """Fixed masks of ``form``: each `[n, D]` of 0 or ``1/keep``, at least one 0 in each."""
    sizes = {"x": D_IN, "h": D_CELL, "c": D_CELL}
    masks = {}
    for name in MASK_NAMES[form]:
        m = (rng.random((n, sizes[name])) < keep).astype(np.float32)
        m[0, 0] = 0.0
        masks[name] = m / np.float32(keep)
    return masks


def _weights(sess, cell):
    return tuple(sess.run([cell.W_x, cell.W_h, cell.b]))


def _copy(sess, source, target):
    """Give ``target``'s variables ``source``'s values."""
    for a, b in zip(source.variables(), target.variables()):
        b.load(sess.run(a), sess)


# ---------------------------------------------------------------- NumPy reference

@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("kind, kind_b, merge, lengths", [
    ("gru", "gru", "sum", [6, 2, 4]), ("lstm", "lstm", "concat", [3, 6, 1]),
    ("lstm", "gru", "ave", None), ("gru", None, "sum", [2, 6, 5])])
def test_faithful_path_matches_reference_with_masks(sess, rng, randomize, form, kind, kind_b,
                                                    merge, lengths):
    """The tutorial's ``tf.scan`` with given masks equals the NumPy equations with the same
    masks, on a padded minibatch, each sequence checked alone on its real frames."""
    x = rng.standard_normal((T, N, D_IN)).astype(np.float32)
    masks, masks_b = _random_masks(rng, form, 0.6), _random_masks(rng, form, 0.6)
    x_ph = tf.compat.v1.placeholder(tf.float32, [None, None, D_IN])
    cell = CELLS[kind](x_ph, D_IN, D_CELL, orthogonal_initializer, dropout=form, masks=masks)
    cell_b = None if kind_b is None else CELLS[kind_b](
        x_ph, D_IN, D_CELL, orthogonal_initializer, dropout=form, masks=masks_b)
    out = RNN(cell, cell_b, merge, sequence_length=lengths)
    randomize(sess)
    ours = sess.run(out, {x_ph: x})
    weights = _weights(sess, cell)
    weights_b = None if cell_b is None else _weights(sess, cell_b)
    if lengths is None:
        want = reference.birnn(kind, weights, x, kind_b, weights_b, merge, masks, masks_b)
    else:
        want = reference.birnn_padded(kind, weights, x, lengths, kind_b, weights_b, merge,
                                      masks, masks_b)
    without = reference.birnn(kind, weights, x, kind_b, weights_b, merge)
    if lengths is None:
        assert not np.allclose(want, without, atol=1e-3)  # the masks matter here
    np.testing.assert_allclose(ours, want, atol=ATOL)


# ---------------------------------------------------------------- Keras 3 layers

def _keras_with_masks(kind, weights, x, masks):
    """Keras's ``kind`` layer with ``dropout``/``recurrent_dropout`` on, run with
    ``training=True`` on ``x`` `[n_steps, n_samples, D_input]`, its cell's masks replaced by
    ours. Keras 3 with ``recurrent_dropout`` runs ``implementation=1``: one mask per gate, for
    the input and for ``h_tm1``; we give every gate our one mask. Returns `[n_steps, n, D_cell]`."""
    rate_x, rate_h = 0.3, 0.4  # any rates in (0, 1) turn the masks on; the masks are ours
    layer = keras_layer(kind, D_IN, D_CELL, weights=weights, dropout=rate_x,
                        recurrent_dropout=rate_h)
    cell = layer.cell
    by_rate = {rate_x: masks["x"], rate_h: masks["h"]}

    def given_masks(step_input, rate):  # replaces Keras's random draw (one mask per gate)
        return [tf.constant(by_rate[rate])] * cell.dropout_mask_count

    cell._create_dropout_mask = given_masks
    y = layer(np.transpose(x, (1, 0, 2)), training=True)  # batch-major [n, n_steps, D_cell]
    return np.transpose(np.asarray(y), (1, 0, 2))


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_variational_matches_keras_dropout_and_recurrent_dropout(new_session, rng, randomize,
                                                                 kind):
    """``dropout='variational'`` is Keras's ``dropout`` (mask on the input before the kernel)
    plus ``recurrent_dropout`` (mask on ``h_tm1`` before the recurrent kernel; the blend
    ``z * h_tm1`` of Keras's GRU uses the unmasked state, like our ``(1 - u) * prev_h``), with
    the masks shared. Our GRU is Keras's ``reset_after=True`` GRU (``keras_ref``), so the reset
    gate multiplies ``(m_h * h) W_hc`` in both. 'candidate' has no Keras counterpart."""
    x = rng.standard_normal((T, N, D_IN)).astype(np.float32)
    masks = _random_masks(rng, "variational", 0.6)
    with new_session() as sess:
        x_ph = tf.compat.v1.placeholder(tf.float32, [None, None, D_IN])
        cell = CELLS[kind](x_ph, D_IN, D_CELL, orthogonal_initializer, dropout="variational",
                           masks=masks)
        out = RNN(cell)
        randomize(sess)
        ours, weights = sess.run(out, {x_ph: x}), _weights(sess, cell)
    theirs = _keras_with_masks(kind, weights, x, masks)
    assert not np.allclose(theirs, reference.run(kind, weights, x), atol=1e-3)
    np.testing.assert_allclose(ours, theirs, atol=ATOL)


# ---------------------------------------------------------------- fast path == faithful path

def _grads_and_outputs(sess, randomize, rng, kind, kind_b, merge, lengths, form, keep,
                       loops="auto"):
    """Both paths on the same cells (so the same masks, drawn once per run): outputs and the
    gradients of a random projection w.r.t. the input, the initial states and the weights
    (``loops``: how the fast path runs its loops)."""
    x = tf.Variable(rng.standard_normal((T, N, D_IN)).astype(np.float32))
    keep_ph = tf.compat.v1.placeholder(tf.float32, [])
    inits = []

    def make(k):
        h0 = tf.Variable(0.5 * rng.standard_normal((N, D_CELL)).astype(np.float32))
        inits.append(h0)
        kw = dict(dropout=form, keep_rate=keep_ph, init_h=h0)
        if k == "lstm":
            kw["init_c"] = tf.Variable(0.5 * rng.standard_normal((N, D_CELL)).astype(np.float32))
            inits.append(kw["init_c"])
        return CELLS[k](x, D_IN, D_CELL, orthogonal_initializer, **kw)

    cell = make(kind)
    cell_b = None if kind_b is None else make(kind_b)
    slow, fast, g_slow, g_fast, wrt, weights = both_paths(cell, cell_b, merge, lengths, x,
                                                          inits, rng, loops=loops)
    randomize(sess, weights, scale=0.4)
    masks = [m for c in (cell, cell_b) if c is not None for m in c.dropout_masks.values()]
    return sess.run([slow, fast, g_slow, g_fast, masks], {keep_ph: keep}), wrt


@pytest.mark.slow
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("kind, kind_b, merge, lengths", [
    ("gru", "gru", "sum", [6, 2, 4]), ("lstm", "lstm", "concat", [2, 6, 4]),
    ("gru", "lstm", "mul", None), ("lstm", None, "sum", [3, 6, 1])])
def test_fast_equals_faithful_with_dropout(sess, randomize, rng, form, kind, kind_b, merge,
                                           lengths):
    (slow, fast, gs, gf, masks), wrt = _grads_and_outputs(sess, randomize, rng, kind, kind_b,
                                                          merge, lengths, form, keep=0.5)
    assert any((m == 0).any() for m in masks)  # some units are dropped
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-5)
    for v, a, b in zip(wrt, gf, gs):
        assert a is not None, v.name
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=v.name)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sequential", "shared"])
def test_fast_loop_modes_with_dropout(sess, randomize, rng, mode):
    """'shared' stacks the directions' masks on the direction axis K."""
    (slow, fast, gs, gf, _), wrt = _grads_and_outputs(sess, randomize, rng, "gru", "gru",
                                                      "concat", [6, 2, 4], "variational", 0.5,
                                                      loops=mode)
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-5)
    for v, a, b in zip(wrt, gf, gs):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=v.name)


# ---------------------------------------------------------------- keep 1.0 == no dropout

@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_keep_one_is_bit_identical_to_no_dropout(sess, rng, randomize, kind, form, fast):
    """At keep rate 1.0 every mask is exactly 1: outputs and gradients equal those of the
    cell without dropout (same weights) bit for bit, on both paths."""
    x = tf.constant(rng.standard_normal((T, N, D_IN)).astype(np.float32))
    keep_ph = tf.compat.v1.placeholder(tf.float32, [])
    plain = CELLS[kind](x, D_IN, D_CELL, orthogonal_initializer)
    dropped = CELLS[kind](x, D_IN, D_CELL, orthogonal_initializer, dropout=form,
                          keep_rate=keep_ph)
    seq = tf.constant([6, 3, 5], tf.int32)
    outs = [RNN(c, sequence_length=seq, fast=fast) for c in (plain, dropped)]
    grads = [tf.gradients(tf.reduce_sum(o ** 2), c.variables()) for o, c in
             zip(outs, (plain, dropped))]
    randomize(sess, plain.variables())
    _copy(sess, plain, dropped)
    (a, b), (ga, gb) = sess.run([outs, grads], {keep_ph: 1.0})
    np.testing.assert_array_equal(a, b)
    for u, v in zip(ga, gb):
        np.testing.assert_array_equal(u, v)
    b_half = sess.run(outs[1], {keep_ph: 0.5})
    assert not np.allclose(a, b_half)  # and the placeholder does drive the masks


# ---------------------------------------------------------------- the masks drawn

@pytest.mark.parametrize("form", FORMS)
def test_drawn_masks_are_per_sequence_and_scaled(sess, form):
    """Each mask is `[n_samples, D]` of 0 or 1/keep, about ``keep`` of it kept, different
    between sequences (statistics: these are TensorFlow's own random draws)."""
    keep, n = 0.7, 400
    x = tf.zeros([3, n, D_IN])
    cell = CELLS["gru"](x, D_IN, D_CELL, orthogonal_initializer, dropout=form, keep_rate=keep)
    masks = sess.run(cell.dropout_masks)
    assert sorted(masks) == sorted(MASK_NAMES[form])
    for name, m in masks.items():
        assert m.shape == (n, D_IN if name == "x" else D_CELL)
        assert set(np.unique(m)) <= {0.0, np.float32(1 / keep)}
        assert abs((m > 0).mean() - keep) < 0.05
        assert len({row.tobytes() for row in m}) > 1


def test_drawn_masks_are_used_at_every_step(sess, rng, randomize):
    """The masks drawn in one run are the masks of every step: the reference given the
    masks fetched in the same ``session.run`` reproduces the outputs."""
    x = rng.standard_normal((T, N, D_IN)).astype(np.float32)
    x_ph = tf.compat.v1.placeholder(tf.float32, [None, None, D_IN])
    cell = CELLS["lstm"](x_ph, D_IN, D_CELL, orthogonal_initializer, dropout="variational",
                         keep_rate=0.5)
    out = RNN(cell)
    randomize(sess)
    ours, masks = sess.run([out, cell.dropout_masks], {x_ph: x})
    np.testing.assert_allclose(ours, reference.run("lstm", _weights(sess, cell), x, masks=masks),
                               atol=ATOL)


def test_no_dropout_adds_no_op(sess):
    x = tf.compat.v1.placeholder(tf.float32, [None, None, D_IN])
    n_ops = len(tf.compat.v1.get_default_graph().get_operations())
    cell = CELLS["gru"](x, D_IN, D_CELL, orthogonal_initializer)
    assert cell.dropout == "none" and cell.dropout_masks == {}
    assert not [op for op in tf.compat.v1.get_default_graph().get_operations()[n_ops:]
                if "dropout" in op.name]


# ---------------------------------------------------------------- argument errors

@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_unknown_form_is_named_with_the_choices(sess, kind):
    x = tf.compat.v1.placeholder(tf.float32, [None, None, D_IN])
    with pytest.raises(ValueError, match="dropout must be one of 'none', 'variational', "
                                         "'candidate'; got 'zoneout'"):
        CELLS[kind](x, D_IN, D_CELL, orthogonal_initializer, dropout="zoneout")
    assert tf.compat.v1.global_variables() == []
    assert CELL_DROPOUTS == ("none", "variational", "candidate")


@pytest.mark.parametrize("keep", [0.0, 1.5, -0.2, True, "0.5"])
def test_bad_keep_rate(sess, keep):
    x = tf.compat.v1.placeholder(tf.float32, [None, None, D_IN])
    with pytest.raises(ValueError, match="keep_rate.*" + repr(keep).replace(".", r"\.")):
        CELLS["gru"](x, D_IN, D_CELL, orthogonal_initializer, dropout="candidate", keep_rate=keep)
    assert tf.compat.v1.global_variables() == []


@pytest.mark.parametrize("masks, match", [
    ({"c": np.ones((N, D_CELL))}, r"keys \['x', 'h'\].*\['c'\]"),
    ({"x": np.ones((N, D_IN)), "h": np.ones((N, D_CELL + 1))}, r"'h'.*\[n_samples, 5\].*\(3, 6\)"),
    ({"x": np.ones((D_IN,)), "h": np.ones((N, D_CELL))}, r"'x'.*\(4,\)")])
def test_bad_masks(sess, masks, match):
    x = tf.compat.v1.placeholder(tf.float32, [None, None, D_IN])
    with pytest.raises(ValueError, match=match):
        CELLS["lstm"](x, D_IN, D_CELL, orthogonal_initializer, dropout="variational", masks=masks)
    assert tf.compat.v1.global_variables() == []


@pytest.mark.parametrize("form", FORMS)
def test_unfused_gru_drops_like_the_fused_one(sess, rng, randomize, form):
    """``UnfusedGRUcell`` (one matmul per gate, for ``tf1-birnn bench``) applies the same masks."""
    from tf1_birnn.tools.unfused import UnfusedGRUcell
    x = rng.standard_normal((T, N, D_IN)).astype(np.float32)
    masks = _random_masks(rng, form, 0.5)
    x_ph = tf.compat.v1.placeholder(tf.float32, [None, None, D_IN])
    cell = UnfusedGRUcell(x_ph, D_IN, D_CELL, orthogonal_initializer, dropout=form, masks=masks)
    out = RNN(cell)
    randomize(sess)
    want = reference.run("gru", _weights(sess, cell), x, masks=masks)
    np.testing.assert_allclose(sess.run(out, {x_ph: x}), want, atol=ATOL)
