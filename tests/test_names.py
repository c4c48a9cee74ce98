"""The graph reads as the tutorial's network: variables named after the tutorial, ops in the
layers' name scopes, and naming changed no seeded initial value or random draw."""
import pathlib
import re

import numpy as np
import pytest
import tensorflow as tf

from tf1_birnn.core.network import build_network

FIXTURE = pathlib.Path(__file__).parent / "data" / "seeded_network.npz"
# tests/data/seeded_network.npz was written by the code of commit 3e72698, BEFORE the variables
# were named (they were "Variable", "Variable_1", ...): every trainable variable's initial
# value in creation order, then the loss of two Adam steps with dropout and the output after
# them, for each network below under tf.compat.v1.set_random_seed(7) and np.random.seed(7),
# fed the arrays "x" `[1, 5, 3]` and "y" `[5, 2]` stored beside them.
CONFIGS = {
    "birnn": dict(arch="birnn", D_input=3, D_label=2, num_units=4, cell="gru", cell_b="lstm",
                  n_layers=2, n_ff=1, merge="sum"),
    "lv1": dict(arch="lv1", D_input=3, D_label=2, num_units=4),
}
GRU_GATES, LSTM_GATES = ("rgate", "ugate", "cell"), ("igate", "fgate", "ogate", "cell")


def _gates(prefix, gates):
    return [f"{prefix}/{g}/{w}" for g in gates for w in ("Wx", "Wh", "b")]


EXPECTED_NAMES = {
    "birnn": ["ff_in0/W", "ff_in0/b"]
    + _gates("rnn0/fw", GRU_GATES) + _gates("rnn0/bw", LSTM_GATES)
    + _gates("rnn1/fw", GRU_GATES) + _gates("rnn1/bw", LSTM_GATES)
    + ["ff_out0/W", "ff_out0/b", "output/W", "output/b"],
    "lv1": _gates("rnn0/fw", LSTM_GATES) + ["output/W", "output/b"],
}


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(CONFIGS))
def test_seeded_values_and_draws_are_those_before_the_renaming(key, new_session):
    saved = np.load(FIXTURE)
    with new_session() as sess:
        tf.compat.v1.set_random_seed(7)
        np.random.seed(7)
        net = build_network(**CONFIGS[key])
        sess.run(tf.compat.v1.global_variables_initializer())
        variables = tf.compat.v1.trainable_variables()
        assert [v.op.name for v in variables] == EXPECTED_NAMES[key]
        n_saved = len([k for k in saved.files if k.startswith(f"{key}/var")])
        assert len(variables) == n_saved
        for i, v in enumerate(variables):  # initial values: bit for bit
            np.testing.assert_array_equal(sess.run(v), saved[f"{key}/var{i:02d}"],
                                          err_msg=v.op.name)
        feed = {net.inputs: saved["x"], net.labels: saved["y"], net.drop_keep_rate: 0.7}
        losses = [sess.run([net.train_step, net.loss], feed)[1] for _ in range(2)]
        output = sess.run(net.output, {**feed, net.drop_keep_rate: 1.0})
    # the same dropout masks and Adam steps (float sums may differ in the last bits)
    np.testing.assert_allclose(losses, saved[f"{key}/losses"], rtol=1e-5)
    np.testing.assert_allclose(output, saved[f"{key}/output"], rtol=1e-4, atol=1e-6)


def test_ops_sit_in_the_layers_name_scopes():
    graph = tf.Graph()
    with graph.as_default():
        net = build_network(D_input=3, D_label=2, num_units=4, n_ff=1)
    ops = graph.get_operations()
    top = {op.name.split("/")[0] for op in ops}
    layers = {"ff_in0", "inputs_T", "rnn0", "rnn_out", "ff_out0", "output", "loss"}
    assert layers <= top
    for op in ops:  # no matmul, ReLU, dropout or loss op outside a layer's scope
        scoped = "/" in op.name
        assert scoped or op.type not in ("MatMul", "Relu", "Square", "Mean", "L2Loss"), op.name
        assert scoped or op.type == "Placeholder" or "dropout" not in op.name, op.name
    assert net.loss.name.startswith("loss/") and net.output.name.startswith("output/")
    assert sorted(net.relu_outputs) == ["ff_in0", "ff_out0"]
    assert net.relu_outputs["ff_in0"].op.type == "Relu"
    fused = [t.name for t in (net.cells[0][0].W_x, net.cells[0][0].W_h, net.cells[0][0].b)]
    assert fused == ["rnn0/fw/W_x:0", "rnn0/fw/W_h:0", "rnn0/fw/b:0"]
    with graph.as_default():
        unnamed = [v.op.name for v in tf.compat.v1.trainable_variables()
                   if re.search(r"Variable|_\d+$", v.op.name)]
    assert not unnamed


def test_a_custom_initializer_names_its_variables_too():
    from tf1_birnn.core.cells import GRUcell
    calls = []

    def init(shape):  # an initializer that does not know about names
        calls.append(shape)
        return tf.Variable(tf.zeros(shape))

    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, None, 3])
        with tf.name_scope("mine"):
            GRUcell(x, 3, 2, init)
        names = [v.op.name for v in tf.compat.v1.global_variables()]
    assert names == _gates("mine", GRU_GATES) and len(calls) == 6
