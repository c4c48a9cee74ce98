"""Tests of tf1_birnn.core.cells: ``Step`` against the NumPy reference, whole sequences against
Keras 3's own ``GRU``/``LSTM``/``Bidirectional`` layers with mapped weights, initial states,
and argument errors.

Keras 3 does not run inside a v1 graph, so our graph is built in a fresh ``tf.Graph()`` and
the Keras layers run eagerly outside it, on batch-major copies of the same data.
"""
import keras
import numpy as np
import pytest
import tensorflow as tf

import reference
from tiny import CELLS
from tf1_birnn.core.cells import LSTMcell
from tf1_birnn.tools.keras_ref import keras_layer, keras_weights
from tf1_birnn.core.initializers import orthogonal_initializer, weight_init
from tf1_birnn.core.rnn import RNN

N_STEPS, N_SAMPLES, D_INPUT, D_CELL = 6, 3, 4, 5
ATOL = 2e-5


def _incoming():
    return tf.compat.v1.placeholder(tf.float32, [None, None, D_INPUT], name="incoming")


def _weights(sess, cell):
    """The fused ``(W_x, W_h, b)`` of ``cell`` as NumPy arrays."""
    return tuple(sess.run([cell.W_x, cell.W_h, cell.b]))


# ---------------------------------------------------------------- Step vs NumPy reference

@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_step_matches_reference(sess, rng, randomize, kind):
    x_ph = _incoming()
    cell = CELLS[kind](x_ph, D_INPUT, D_CELL, orthogonal_initializer)
    current_x = tf.compat.v1.placeholder(tf.float32, [None, D_INPUT])
    if kind == "lstm":
        previous = tf.compat.v1.placeholder(tf.float32, [2, None, D_CELL])
    else:
        previous = tf.compat.v1.placeholder(tf.float32, [None, D_CELL])
    step = cell.Step(previous, current_x)
    randomize(sess, cell.variables())
    W_x, W_h, b = _weights(sess, cell)
    x = rng.standard_normal((N_SAMPLES, D_INPUT)).astype(np.float32)
    h = rng.standard_normal((N_SAMPLES, D_CELL)).astype(np.float32)
    c = rng.standard_normal((N_SAMPLES, D_CELL)).astype(np.float32)
    if kind == "lstm":
        got = sess.run(step, {previous: np.stack([h, c]), current_x: x})
        want = np.stack(reference.lstm_step(x, h, c, W_x, W_h, b))
    else:
        got = sess.run(step, {previous: h, current_x: x})
        want = reference.gru_step(x, h, W_x, W_h, b)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=ATOL)


@pytest.mark.parametrize("kind, n_gates", [("lstm", 4), ("gru", 3)])
def test_fused_shapes_variables_and_initial_biases(sess, kind, n_gates):
    cell = CELLS[kind](_incoming(), D_INPUT, D_CELL, orthogonal_initializer)
    assert cell.W_x.shape.as_list() == [D_INPUT, n_gates * D_CELL]
    assert cell.W_h.shape.as_list() == [D_CELL, n_gates * D_CELL]
    assert cell.b.shape.as_list() == [n_gates * D_CELL]
    assert len(cell.variables()) == 3 * n_gates
    assert set(cell.variables()) == set(tf.compat.v1.trainable_variables())
    sess.run(tf.compat.v1.global_variables_initializer())
    b = sess.run(cell.b).reshape(n_gates, D_CELL)
    want = np.full((n_gates, D_CELL), 0.001, np.float32)
    if kind == "lstm":
        want[1] = 1.0  # forget gate [i, f, o, c] starts at f_bias=1.0
    np.testing.assert_allclose(b, want)


def test_lstm_f_bias_and_L2(sess):
    cell = LSTMcell(_incoming(), D_INPUT, D_CELL, weight_init, f_bias=2.5, L2=True)
    sess.run(tf.compat.v1.global_variables_initializer())
    W_x, W_h, b = _weights(sess, cell)
    np.testing.assert_allclose(b[D_CELL:2 * D_CELL], 2.5)
    np.testing.assert_allclose(sess.run(cell.L2_loss),
                               0.5 * (np.sum(W_x ** 2) + np.sum(W_h ** 2)), rtol=1e-5)


@pytest.mark.parametrize("kind, gates, has_memory", [
    ("lstm", ("igate", "fgate", "ogate", "cell"), True),
    ("gru", ("rgate", "ugate", "cell"), False)])
def test_gates_are_made_fused_and_sliced_in_GATES_order(sess, rng, kind, gates, has_memory):
    """``GATES`` (the tutorial's ``[i, f, o, c]`` / ``[r, u, c]``) names the variables, orders
    the fused columns and ``split_gates``; ``has_memory`` tells an LSTM's stacked state."""
    cell = CELLS[kind](_incoming(), D_INPUT, D_CELL, orthogonal_initializer)
    assert cell.GATES == cell.gate_names == gates and cell.has_memory == has_memory
    assert type(cell).gate_names == gates and type(cell).type == kind  # the tutorial's tag
    assert [v.name.split("/")[-2] for v in cell.variables()] == [g for g in gates for _ in "xhb"]
    fused = tf.constant(np.arange(len(gates) * D_CELL, dtype=np.float32)[None])  # [1, n*D_cell]
    biases = [getattr(cell, g)[2] for g in gates]  # each gate's own b `[D_cell]`
    sess.run(tf.compat.v1.global_variables_initializer())
    sess.run([b.assign(rng.standard_normal(D_CELL).astype(np.float32)) for b in biases])
    parts, fused_b, own_b = sess.run([cell.split_gates(fused), cell.b, biases])
    for n, (part, b) in enumerate(zip(parts, own_b)):
        block = slice(n * D_CELL, (n + 1) * D_CELL)  # gate n's columns
        np.testing.assert_array_equal(part[0], np.arange(len(gates) * D_CELL)[block])
        np.testing.assert_array_equal(fused_b[block], b)
    assert len(cell.init_states) == (2 if has_memory else 1)


# ---------------------------------------------------------------- Keras 3 layers

def _keras_layer(kind, go_backwards=False):
    return keras_layer(kind, D_INPUT, D_CELL, go_backwards=go_backwards)


def _set_keras_weights(layer, kind, weights):
    layer.set_weights(keras_weights(kind, *weights))


def _our_run(new_session, randomize, kind, kind_b, merge, x):
    """Our RNN on ``x`` `[n_steps, n_samples, D_input]` with random weights, in its own graph."""
    with new_session() as sess:
        x_ph = _incoming()
        cell = CELLS[kind](x_ph, D_INPUT, D_CELL, orthogonal_initializer)
        cell_b = None if kind_b is None else CELLS[kind_b](x_ph, D_INPUT, D_CELL,
                                                           orthogonal_initializer)
        out = RNN(cell, cell_b, merge)
        randomize(sess)
        weights = _weights(sess, cell)
        weights_b = None if cell_b is None else _weights(sess, cell_b)
        return sess.run(out, {x_ph: x}), weights, weights_b


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_cell_matches_keras_layer(rng, new_session, randomize, kind):
    x = rng.standard_normal((N_STEPS, N_SAMPLES, D_INPUT)).astype(np.float32)
    ours, weights, _ = _our_run(new_session, randomize, kind, None, "sum", x)
    layer = _keras_layer(kind)
    _set_keras_weights(layer, kind, weights)
    theirs = np.asarray(layer(np.transpose(x, (1, 0, 2))))  # batch-major [n_samples, n_steps, D]
    theirs = np.transpose(theirs, (1, 0, 2))  # back to [n_steps, n_samples, D_cell]
    assert np.abs(theirs).max() > 0.1  # the comparison is not between near-zeros
    np.testing.assert_allclose(ours, theirs, atol=ATOL)
    # and the NumPy reference agrees with Keras too
    np.testing.assert_allclose(reference.run(kind, weights, x), theirs, atol=ATOL)


@pytest.mark.parametrize("kind, kind_b, merge", [("gru", "gru", "sum"), ("lstm", "gru", "concat"),
                                                 ("gru", "lstm", "ave")])
def test_bidirectional_matches_keras(rng, new_session, randomize, kind, kind_b, merge):
    x = rng.standard_normal((N_STEPS, N_SAMPLES, D_INPUT)).astype(np.float32)
    ours, weights, weights_b = _our_run(new_session, randomize, kind, kind_b, merge, x)
    bi = keras.layers.Bidirectional(_keras_layer(kind), merge_mode=merge,
                                    backward_layer=_keras_layer(kind_b, go_backwards=True))
    bi.build((None, None, D_INPUT))
    _set_keras_weights(bi.forward_layer, kind, weights)
    _set_keras_weights(bi.backward_layer, kind_b, weights_b)
    theirs = np.transpose(np.asarray(bi(np.transpose(x, (1, 0, 2)))), (1, 0, 2))
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=ATOL)


# ---------------------------------------------------------------- initial states

def _run_with_init(sess, kind, init, rng):
    """Run our cell from the given initial states; return (ours, reference, zero-start reference)."""
    x = rng.standard_normal((N_STEPS, N_SAMPLES, D_INPUT)).astype(np.float32)
    x_ph = _incoming()
    cell = CELLS[kind](x_ph, D_INPUT, D_CELL, orthogonal_initializer, **init)
    out = RNN(cell)
    sess.run(tf.compat.v1.global_variables_initializer())
    weights = _weights(sess, cell)
    ours = sess.run(out, {x_ph: x})
    return ours, reference.run(kind, weights, x, **init), reference.run(kind, weights, x)


@pytest.mark.parametrize("kind, names", [("gru", ["init_h"]), ("lstm", ["init_h", "init_c"]),
                                         ("lstm", ["init_h"]), ("lstm", ["init_c"])])
def test_given_initial_states_are_used(sess, rng, kind, names):
    # the tutorial leaves `previous` unset when init_h is given; ours must start from it, and
    # an LSTM given only one of init_h / init_c starts the other at zero (the reference's default)
    init = {n: rng.standard_normal((N_SAMPLES, D_CELL)).astype(np.float32) for n in names}
    ours, want, zero_start = _run_with_init(sess, kind, init, rng)
    assert not np.allclose(want, zero_start, atol=1e-3)  # the initial state matters here
    np.testing.assert_allclose(ours, want, atol=ATOL)


def test_lstm_previous_stacks_h_and_zero_c(sess, rng):
    init_h = rng.standard_normal((N_SAMPLES, D_CELL)).astype(np.float32)
    cell = LSTMcell(_incoming(), D_INPUT, D_CELL, orthogonal_initializer, init_h=init_h)
    prev = sess.run(cell.previous, {cell.incoming: np.zeros((1, N_SAMPLES, D_INPUT))})
    np.testing.assert_allclose(prev[0], init_h)
    np.testing.assert_array_equal(prev[1], np.zeros((N_SAMPLES, D_CELL)))


# ---------------------------------------------------------------- argument errors

@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("arg, value", [("D_input", 0), ("D_input", -3), ("D_cell", 0),
                                        ("D_cell", -1), ("D_cell", 2.0), ("D_input", True)])
def test_non_positive_sizes(sess, kind, arg, value):
    kw = dict(D_input=D_INPUT, D_cell=D_CELL)
    kw[arg] = value
    with pytest.raises(ValueError, match=arg) as info:
        CELLS[kind](_incoming(), initializer=orthogonal_initializer, **kw)
    assert repr(value) in str(info.value)
    assert tf.compat.v1.global_variables() == []


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_incoming_not_rank_3(sess, kind):
    x = tf.compat.v1.placeholder(tf.float32, [None, D_INPUT])
    with pytest.raises(ValueError, match=r"incoming.*rank 3.*\(None, 4\)"):
        CELLS[kind](x, D_INPUT, D_CELL, orthogonal_initializer)
    assert tf.compat.v1.global_variables() == []


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_incoming_last_dimension_not_D_input(sess, kind):
    x = tf.compat.v1.placeholder(tf.float32, [None, None, D_INPUT + 1])
    with pytest.raises(ValueError, match=r"incoming.*D_input=4.*\(None, None, 5\)"):
        CELLS[kind](x, D_INPUT, D_CELL, orthogonal_initializer)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_incoming_not_a_tensor(sess, kind):
    with pytest.raises(TypeError, match="incoming.*ndarray"):
        CELLS[kind](np.zeros((2, 3, D_INPUT), np.float32), D_INPUT, D_CELL, orthogonal_initializer)


@pytest.mark.parametrize("kind, name", [("gru", "init_h"), ("lstm", "init_h"), ("lstm", "init_c")])
@pytest.mark.parametrize("shape", [(N_SAMPLES, D_CELL + 1), (1, N_SAMPLES, D_CELL), (D_CELL,)])
def test_initial_state_of_wrong_shape(sess, kind, name, shape):
    with pytest.raises(ValueError, match=name) as info:
        CELLS[kind](_incoming(), D_INPUT, D_CELL, orthogonal_initializer,
                    **{name: np.zeros(shape, np.float32)})
    assert f"got shape {tf.TensorShape(shape)}" in str(info.value)
    assert tf.compat.v1.global_variables() == []


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_initializer_not_callable(sess, kind):
    with pytest.raises(TypeError, match="initializer.*'ortho'"):
        CELLS[kind](_incoming(), D_INPUT, D_CELL, "ortho")


def test_h_act_not_callable(sess):
    with pytest.raises(TypeError, match="h_act.*'tanh'"):
        LSTMcell(_incoming(), D_INPUT, D_CELL, orthogonal_initializer, h_act="tanh")


def test_keras_ref_rejects_unknown_kinds_and_wrong_shapes():
    W = np.zeros((D_INPUT, 3 * D_CELL), np.float32)
    with pytest.raises(ValueError, match="'rnn'"):
        keras_weights("rnn", W, W, W[0])
    with pytest.raises(ValueError, match=r"W_x has 15 columns; a LSTM needs 4\*D_cell"):
        keras_weights("lstm", W, W, W[0])  # D_CELL=5: GRU-sized weights given to an LSTM
    W4 = np.zeros((D_INPUT, 4 * (D_CELL + 1)), np.float32)
    with pytest.raises(ValueError, match="do not fit"):  # an LSTM of another size
        keras_layer("lstm", D_INPUT, D_CELL, weights=(W4, np.zeros((D_CELL + 1, 4 * (D_CELL + 1))), W4[0]))
