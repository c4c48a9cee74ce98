"""Tests of tf1_birnn.core.network.build_network: shapes per arch, stacking, the variable-length
loss, gradients against finite differences, one training step, and argument errors."""
import numpy as np
import pytest
import tensorflow as tf

from tf1_birnn.core.cells import LSTMcell
from tf1_birnn.core.network import build_network

D_INPUT, D_LABEL, UNITS = 3, 2, 4
TINY = dict(D_input=D_INPUT, D_label=D_LABEL, num_units=UNITS)


def _data(rng, n_samples, n_steps):
    x = rng.standard_normal((n_samples, n_steps, D_INPUT)).astype(np.float32)
    y = rng.standard_normal((n_samples * n_steps, D_LABEL)).astype(np.float32)
    return x, y


def _feed(net, x, y, lengths=None, keep=1.0):
    feed = {net.inputs: x, net.labels: y, net.drop_keep_rate: keep}
    if lengths is not None:
        feed[net.sequence_length] = lengths
    return feed


# ---------------------------------------------------------------- shapes and structure

@pytest.mark.parametrize("kw, n_rnn_layers", [
    (dict(arch="birnn", cell="lstm", cell_b="gru", merge="concat", n_layers=2, n_ff=1), 2),
    (dict(arch="birnn", cell="gru", cell_b=None, n_ff=0), 1),
    (dict(arch="lv1", cell="lstm"), 1),
    (dict(arch="ff"), 0),
])
def test_output_shapes(sess, rng, kw, n_rnn_layers):
    net = build_network(**TINY, **kw)
    assert len(net.cells) == n_rnn_layers
    sess.run(tf.compat.v1.global_variables_initializer())
    x, y = _data(rng, n_samples=2, n_steps=5)
    out, loss, per = sess.run([net.output, net.loss, net.per_utterance_loss], _feed(net, x, y))
    assert out.shape == (2 * 5, D_LABEL)
    assert np.shape(loss) == () and np.isfinite(loss)
    assert per.shape == (2,)


def test_lv1_is_one_forward_layer_without_dense_layers(sess):
    net = build_network(arch="lv1", cell="lstm", **TINY)
    (fcell, bcell), = net.cells
    assert bcell is None and isinstance(fcell, LSTMcell) and fcell.D_input == D_INPUT
    assert sorted(net.weights) == ["output/W", "output/b"]
    assert net.config["L2_penalty"] == 0.0 and net.config["n_ff"] == 0


@pytest.mark.parametrize("arch, arg, value", [
    ("lv1", "n_ff", 3), ("lv1", "n_layers", 4), ("lv1", "L2_penalty", 0.5), ("lv1", "cell_b", "gru"),
    ("ff", "cell", "lstm"), ("ff", "merge", "concat"), ("ff", "cell_dropout", "candidate"),
])
def test_settings_a_network_has_no_use_for_are_refused(sess, arch, arg, value):
    with pytest.raises(ValueError, match=f"the {arch} network has no use for {arg}; "
                                         f"got {arg}={value!r}"):
        build_network(arch=arch, **{arg: value}, **TINY)
    assert tf.compat.v1.global_variables() == []  # checked before the graph is built
    build_network(arch="lv1", cell_b=None, n_ff=0, **TINY)  # their own values are accepted


def test_ff_has_no_rnn(sess):
    net = build_network(arch="ff", n_ff=2, **TINY)
    assert net.cells == []
    assert sorted(net.weights) == sorted(["ff_in0/W", "ff_in0/b", "ff_in1/W", "ff_in1/b",
                                          "ff_out0/W", "ff_out0/b", "ff_out1/W", "ff_out1/b",
                                          "output/W", "output/b"])


@pytest.mark.parametrize("merge, factor", [("concat", 2), ("sum", 1)])
def test_concat_doubles_next_layer_input(sess, merge, factor):
    net = build_network(merge=merge, n_layers=2, n_ff=1, **TINY)
    assert net.cells[0][0].D_input == UNITS  # after ff_in0
    assert net.cells[1][0].D_input == factor * UNITS
    assert net.cells[1][1].D_input == factor * UNITS
    assert net.weights["ff_out0/W"].shape.as_list() == [factor * UNITS, UNITS]


def test_concat_doubles_output_layer_input_without_ff(sess):
    net = build_network(merge="concat", n_ff=0, **TINY)
    assert net.weights["output/W"].shape.as_list() == [2 * UNITS, D_LABEL]


@pytest.mark.slow
@pytest.mark.parametrize("stacking", ["true", "tutorial"])
def test_stacking(sess, stacking):
    net = build_network(n_layers=2, n_ff=1, stacking=stacking, **TINY)
    first = [v for c in net.cells[0] for v in c.variables()]
    second = [v for c in net.cells[1] for v in c.variables()]
    grads = tf.gradients(net.loss, first + second)
    g_first, g_second = grads[:len(first)], grads[len(first):]
    assert all(g is not None for g in g_second)
    if stacking == "tutorial":  # the tutorial's first layer is dead code
        assert all(g is None for g in g_first)
        assert net.cells[1][0].incoming is net.cells[0][0].incoming
    else:
        assert all(g is not None for g in g_first)
        assert net.cells[1][0].incoming is not net.cells[0][0].incoming


@pytest.mark.parametrize("kw", [dict(n_layers=2, n_ff=1, merge="concat"),
                                dict(n_layers=1, n_ff=0, merge="sum")])  # D_input 3 != 4 units
def test_stacking_tutorial_rejects_mismatched_sizes(sess, kw):
    with pytest.raises(ValueError, match="stacking='tutorial'"):
        build_network(stacking="tutorial", **kw, **TINY)
    assert tf.compat.v1.get_default_graph().get_operations() == []  # refused before any op


# ---------------------------------------------------------------- losses

def test_rows_line_up_with_labels_for_several_utterances(sess, rng):
    # the tutorial reshapes the time-major RNN output directly; for n_samples > 1 that
    # mixes utterances. Each utterance's rows must equal that utterance run alone.
    net = build_network(cell="lstm", cell_b="gru", n_ff=1, **TINY)
    sess.run(tf.compat.v1.global_variables_initializer())
    x, y = _data(rng, n_samples=3, n_steps=5)
    out = sess.run(net.output, _feed(net, x, y)).reshape(3, 5, D_LABEL)
    for k in range(3):
        alone = sess.run(net.output, _feed(net, x[k:k + 1], y[5 * k:5 * k + 5]))
        np.testing.assert_allclose(out[k], alone, atol=1e-5)


@pytest.mark.parametrize("kw", [dict(arch="birnn", cell_b="gru", n_ff=1), dict(arch="lv1")])
def test_variable_length_loss_is_mean_of_utterance_losses(sess, rng, kw):
    net = build_network(cell="lstm", variable_length=True, **kw, **TINY)
    sess.run(tf.compat.v1.global_variables_initializer())
    lengths, n_steps = [6, 2, 4], 6
    x, y = _data(rng, n_samples=3, n_steps=n_steps)
    y3 = y.reshape(3, n_steps, D_LABEL)
    for k, L in enumerate(lengths):  # padding is garbage: it must not count
        x[k, L:] = 50.0
        y3[k, L:] = -50.0
    y3[0, :lengths[0]] += 3.0  # the longest utterance has by far the largest loss, so the
    # frame-weighted mean below differs from the per-utterance mean whatever the weights
    loss, per, out = sess.run([net.loss, net.per_utterance_loss, net.output],
                              _feed(net, x, y, lengths))
    out = out.reshape(3, n_steps, D_LABEL)
    alone = []
    for k, L in enumerate(lengths):
        o, l_k = sess.run([net.output, net.loss], _feed(net, x[k:k + 1, :L], y3[k, :L], [L]))
        np.testing.assert_allclose(out[k, :L], o, atol=1e-5)
        np.testing.assert_allclose(l_k, np.mean((o - y3[k, :L]) ** 2), rtol=1e-5)
        alone.append(l_k)
    np.testing.assert_allclose(per, alone, rtol=1e-5)
    np.testing.assert_allclose(loss, np.mean(alone), rtol=1e-5)
    # the frame-weighted mean (what a plain masked MSE would give) is different here
    assert not np.isclose(loss, np.average(alone, weights=lengths), rtol=1e-3)


@pytest.mark.slow
def test_fixed_length_loss_is_the_tutorials_reduce_mean(rng, new_session, loader):
    """Batch size 1: variable_length=True with the full length, variable_length=False and the
    tutorial's ``tf.reduce_mean((output - labels)**2)`` all agree, on the same weights."""
    x, y = _data(rng, n_samples=1, n_steps=6)
    results = []
    values = None
    for variable_length in (False, True):
        with new_session() as sess:
            net = build_network(n_ff=1, variable_length=variable_length, **TINY)
            sess.run(tf.compat.v1.global_variables_initializer())
            variables = tf.compat.v1.trainable_variables()
            if values is None:
                values = sess.run(variables)
            else:  # copy the first network's weights
                assert [v.shape.as_list() for v in variables] == [list(a.shape) for a in values]
                loader(variables)(sess, values)
            out, loss = sess.run([net.output, net.loss],
                                 _feed(net, x, y, [6] if variable_length else None))
            results.append((out, loss))
    (out0, loss0), (out1, loss1) = results
    np.testing.assert_allclose(out0, out1, atol=1e-6)
    np.testing.assert_allclose(loss0, np.mean((out0 - y) ** 2), rtol=1e-6)
    np.testing.assert_allclose(loss1, loss0, rtol=1e-5)


def test_fixed_length_losses_and_L2_total(sess, rng):
    net = build_network(n_ff=1, **TINY)
    sess.run(tf.compat.v1.global_variables_initializer())
    x, y = _data(rng, n_samples=2, n_steps=5)
    out, loss, per = sess.run([net.output, net.loss, net.per_utterance_loss], _feed(net, x, y))
    sq = ((out - y) ** 2).reshape(2, 5, D_LABEL)
    np.testing.assert_allclose(per, sq.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(loss, sq.mean(), rtol=1e-5)
    # L2_total: the tutorial's sum of tf.nn.l2_loss over the dense weights (not the biases)
    Ws = sess.run([v for k, v in net.weights.items() if k.endswith("/W")])
    assert len(Ws) == 3
    np.testing.assert_allclose(sess.run(net.L2_total), sum(0.5 * np.sum(W ** 2) for W in Ws),
                               rtol=1e-5)


# ---------------------------------------------------------------- gradients and training

def _unit(a):
    return a / np.linalg.norm(a)


def _check_gradients(sess, loss, feed, rng, load, per_variable=True, eps=1e-2, rtol=2e-2,
                     atol=1e-5):
    """Compare the analytic directional derivative of ``loss`` with a float32 central finite
    difference: along one direction per trainable variable (``per_variable``), else along one
    joint direction over all of them. Each direction is half the normalized gradient, half
    random, so the slope is far from zero yet a wrong gradient still shows."""
    variables = tf.compat.v1.trainable_variables()
    grads = tf.gradients(loss, variables)
    assert all(g is not None for g in grads)
    values = sess.run(variables)
    grad_values = [g.astype(np.float64) for g in sess.run(grads, feed)]
    assert all(np.linalg.norm(g) > 1e-4 for g in grad_values)  # every weight matters
    directions = [_unit(_unit(g) + _unit(rng.standard_normal(g.shape))) for g in grad_values]
    if per_variable:
        groups = [[k] for k in range(len(variables))]
    else:  # one joint unit direction
        directions = [d / np.sqrt(len(directions)) for d in directions]
        groups = [list(range(len(variables)))]
    for group in groups:
        analytic = sum(float(np.sum(grad_values[k] * directions[k])) for k in group)
        losses = []
        for sign in (1.0, -1.0):
            moved = list(values)
            for k in group:
                moved[k] = values[k] + sign * eps * directions[k]
            load(sess, moved)
            losses.append(float(sess.run(loss, feed)))
        load(sess, values)
        numeric = (losses[0] - losses[1]) / (2 * eps)
        assert abs(numeric - analytic) <= rtol * abs(analytic) + atol, \
            ([variables[k].name for k in group], numeric, analytic)


@pytest.mark.parametrize("kw, per_variable", [
    (dict(arch="birnn", cell="gru", cell_b="gru", merge="sum"), True),
    (dict(arch="birnn", cell="lstm", cell_b="lstm", merge="concat", variable_length=True), True),
    (dict(arch="lv1", cell="lstm"), True),
    (dict(arch="birnn", cell="lstm", cell_b="gru", merge="mul", n_layers=2, n_ff=0), False),
], ids=["birnn-gru", "birnn-lstm-varlen", "lv1-lstm", "birnn-mixed-2layers"])
@pytest.mark.slow
def test_gradients_match_finite_differences(sess, rng, randomize, loader, kw, per_variable):
    kw = dict(dict(n_ff=0 if kw["arch"] == "lv1" else 1), **kw)
    net = build_network(**TINY, **kw)
    randomize(sess, scale=0.4)
    x, y = _data(rng, n_samples=2, n_steps=5)
    lengths = [5, 3] if kw.get("variable_length") else None
    load = loader(tf.compat.v1.trainable_variables())
    _check_gradients(sess, net.loss, _feed(net, x, y, lengths), rng, load, per_variable)


@pytest.mark.parametrize("kw", [
    dict(),  # the tutorial's network and Adam settings, only tiny
    dict(cell="gru", cell_b="lstm", n_ff=1, learning_rate=1e-2, variable_length=True),
    dict(arch="lv1", cell="lstm", learning_rate=1e-2),
], ids=["tutorial", "birnn-varlen", "lv1"])
@pytest.mark.slow
def test_training_steps_lower_the_loss(sess, rng, kw):
    tf.compat.v1.set_random_seed(0)
    np.random.seed(0)
    net = build_network(**TINY, **kw)
    sess.run(tf.compat.v1.global_variables_initializer())
    x, y = _data(rng, n_samples=2, n_steps=6)
    feed = _feed(net, x, y, [6, 4] if kw.get("variable_length") else None)
    before = sess.run(tf.compat.v1.trainable_variables())
    losses = [sess.run(net.loss, feed)]
    for _ in range(4):
        sess.run(net.train_step, feed)
        losses.append(sess.run(net.loss, feed))
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
    after = sess.run(tf.compat.v1.trainable_variables())
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))


# ---------------------------------------------------------------- argument errors

@pytest.mark.parametrize("arg, value", [
    ("num_units", 0), ("num_units", -4), ("D_input", 0), ("D_label", -1), ("n_layers", 0),
    ("n_ff", -1), ("num_units", 2.5), ("arch", "cnn"), ("arch", "LV1"), ("cell", "rnn"),
    ("cell_b", "lstm2"), ("merge", "avg"), ("stacking", "false"), ("learning_rate", -1e-3),
    ("L2_penalty", float("nan")), ("cell_dropout", "zoneout"), ("loops", "parallel"),
])
def test_bad_arguments(sess, arg, value):
    kw = dict(TINY, **{arg: value})
    with pytest.raises(ValueError, match=arg) as info:
        build_network(**kw)
    assert repr(value) in str(info.value)
    assert tf.compat.v1.global_variables() == []  # checked before the graph is built


def test_one_config_object_travels_to_the_graph(sess):
    """``build_network(config)`` builds from the object itself (a run's ``RunConfig`` too),
    equal to the same settings given as keyword arguments."""
    from tf1_birnn.core.config import network_config
    from tf1_birnn.training.config import preset_config
    config = network_config("lv1", **TINY)
    net = build_network(config)
    assert net.config == config.network_settings() and isinstance(net.cells[0][0], LSTMcell)
    with tf.Graph().as_default():
        run = preset_config("quick", num_units=UNITS, cell_b="none", loops="shared")
        net = build_network(run)
        assert net.config == run.network_settings() and net.cells[0][1] is None
        assert "epochs" not in net.config  # the network's settings only
    with pytest.raises(TypeError, match="not both"):
        build_network(config, num_units=8)
    with pytest.raises(TypeError, match="config must be a NetworkConfig.*dict"):
        build_network(dict(TINY))


def test_cell_keep_rate_defaults_to_dropout_keep(sess, rng):
    """With dropout inside the cells, ``cell_keep_rate`` (a run's ``--cell-keep-rate``) sets
    their keep rate apart from ``dropout_keep``, which it follows unless fed."""
    assert build_network(arch="lv1", **TINY).cell_keep_rate is None  # no dropout in the cells
    net = build_network(arch="lv1", cell_dropout="variational", **TINY)  # no other dropout
    sess.run(tf.compat.v1.global_variables_initializer())
    x, y = _data(rng, n_samples=2, n_steps=5)
    plain = sess.run(net.output, _feed(net, x, y))
    same = sess.run(net.output, {**_feed(net, x, y, keep=0.5), net.cell_keep_rate: 1.0})
    np.testing.assert_array_equal(same, plain)  # keep 1.0 in the cells: no mask drops
    for feed in ({**_feed(net, x, y), net.cell_keep_rate: 0.5}, _feed(net, x, y, keep=0.5)):
        assert np.abs(sess.run(net.output, feed) - plain).max() > 1e-3


def test_every_arch_says_what_it_has():
    from tf1_birnn.core.network import ARCH_PARTS, ARCHS
    assert sorted(ARCH_PARTS) == sorted(ARCHS)


def test_lv1_defaults_to_an_lstm_and_sizes_may_be_numpy_ints(sess):
    net = build_network("lv1", num_units=np.int64(4), D_input=3, D_label=2)
    (fcell, bcell), = net.cells
    assert isinstance(fcell, LSTMcell) and bcell is None
    assert fcell.D_cell == 4


def _bool_casts(graph):
    """Names of the ``Cast`` ops from a boolean tensor in ``graph`` and its functions."""
    graph_def = graph.as_graph_def()
    nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
    return [n.name for n in nodes
            if n.op == "Cast" and n.attr["SrcT"].type == tf.bool.as_datatype_enum]


@pytest.mark.parametrize("kw", [dict(cell="gru", cell_b="gru"),  # the quick start's network
                                dict(cell="lstm", cell_b="gru", variable_length=True, fast=True),
                                dict(cell="gru", cell_b="lstm", cell_dropout="variational"),
                                dict(cell="lstm", cell_b="gru", cell_dropout="candidate",
                                     fast=True)])
def test_no_boolean_mask_is_cast_into_the_graph(sess, kw):
    """The padding masks come from integer arithmetic: on hosts with TensorFlow's oneDNN
    rewrites on, a boolean mask cast to float and fed to the scan makes TensorFlow log
    "oneDNN supports DT_BOOL only on platforms with AVX-512" as an error when the graph first
    runs (``tf.sequence_mask(..., dtype=tf.float32)`` builds exactly that). The test reads the
    graph, so it holds on any CPU; test_quiet runs a training with the rewrites on."""
    build_network("birnn", num_units=4, **kw)
    assert _bool_casts(sess.graph) == []
    with tf.Graph().as_default() as graph:  # the check itself sees the op it looks for
        tf.sequence_mask([2], maxlen=3, dtype=tf.float32)
        assert _bool_casts(graph) != []


# ---------------------------------------------------------------- dropout inside the cells

@pytest.mark.slow
@pytest.mark.parametrize("form, fast", [("variational", False), ("candidate", True)])
def test_cell_dropout_at_keep_one_is_the_network_without_it(rng, new_session, loader, form,
                                                            fast):
    """Evaluation feeds ``dropout_keep`` 1.0: with the same weights, the network with cell
    dropout gives the outputs of the network without it bit for bit; at keep 0.5 it differs
    (the placeholder drives the cells' masks), and each cell has the form asked for."""
    x = rng.standard_normal((2, 6, TINY["D_input"])).astype(np.float32)
    values, outputs = None, []
    for cell_dropout in ("none", form):
        with new_session() as sess:
            net = build_network(cell="lstm", cell_dropout=cell_dropout, fast=fast, **TINY)
            variables = tf.compat.v1.trainable_variables()
            sess.run(tf.compat.v1.global_variables_initializer())
            if values is None:
                values = sess.run(variables)
            else:
                loader(variables)(sess, values)
            assert all(c.dropout == cell_dropout for pair in net.cells for c in pair)
            outputs.append([sess.run(net.output, {net.inputs: x, net.drop_keep_rate: keep})
                            for keep in (1.0, 0.5)])
    np.testing.assert_array_equal(outputs[0][0], outputs[1][0])
    assert not np.allclose(outputs[1][0], outputs[1][1])
