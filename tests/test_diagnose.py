"""Dead ReLU units: their share per layer (against NumPy) and the warning, forced with a huge
negative bias."""
import numpy as np
import pytest
import tensorflow as tf

from tf1_birnn.core.network import build_network
from tf1_birnn.training.diagnose import dead_relu_shares, dead_relu_warning
from tiny import tiny_corpus


def _pairs(n=3, D_input=5, D_label=2):
    X, Y = tiny_corpus(n=n, D_input=D_input, D_label=D_label)
    return [(x[None], y) for x, y in zip(X, Y)]  # x [1, n_frames, D_input]


def test_shares_match_numpy_and_a_huge_negative_bias_kills_a_layer(sess, rng):
    pairs = _pairs()
    net = build_network("ff", D_input=5, D_label=2, num_units=6, n_ff=1)
    sess.run(tf.compat.v1.global_variables_initializer())
    W, b = sess.run([net.weights["ff_in0/W"], net.weights["ff_in0/b"]])
    b = rng.standard_normal(6).astype(np.float32) * 3  # some units dead, some alive
    sess.run(net.weights["ff_in0/b"].assign(b))
    shares = dead_relu_shares(sess, net, pairs)
    frames = np.concatenate([x[0] for x, _ in pairs])  # [n_frames, D_input]
    active = (np.maximum(frames @ W + b, 0) > 0).sum(axis=0)  # [num_units]
    assert set(shares) == {"ff_in0", "ff_out0"}
    np.testing.assert_allclose(shares["ff_in0"], np.mean(active <= 0.01 * len(frames)))
    assert dead_relu_warning(shares) is None or shares["ff_out0"] == 1.0
    sess.run(net.weights["ff_out0/b"].assign(np.full(6, -1e3, np.float32)))
    shares = dead_relu_shares(sess, net, pairs)
    assert shares["ff_out0"] == 1.0
    warning = dead_relu_warning(shares)
    assert "ff_out0" in warning and "--num-units" in warning and "--learning-rate" in warning


def test_a_network_without_relu_layers_has_no_shares(sess):
    net = build_network("lv1", D_input=5, D_label=2, num_units=3)
    sess.run(tf.compat.v1.global_variables_initializer())
    assert net.relu_outputs == {} and dead_relu_shares(sess, net, _pairs()) == {}
    assert dead_relu_warning({}) is None


@pytest.mark.slow
def test_training_warns_once_about_a_dead_network(tmp_path, monkeypatch):
    from tf1_birnn.core import network
    from tf1_birnn.core.initializers import bias_init
    from tf1_birnn.training.run import preset_config, train_run

    def dead_bias(shape, name=None):  # every dense bias -1000: every ReLU unit dead
        v = bias_init(shape, name=name)
        return tf.Variable(v.initial_value - 1e3, name=name)

    monkeypatch.setattr(network, "bias_init", dead_bias)
    X, Y = tiny_corpus(n=6)
    lines = []
    run_dir = train_run(preset_config("quick", num_units=4, epochs=2), X, Y, str(tmp_path),
                        "dead", out=lines.append, show_progress=False)
    warnings = [line for line in lines if isinstance(line, str) and "dead ReLU" in line]
    assert len(warnings) == 1, lines
    assert "ff_in0" in warnings[0]
    from tf1_birnn.training.summaries import read_scalars
    scalars = read_scalars(run_dir)
    assert [v for _, v in scalars["relu/dead_share/ff_in0"]] == [1.0, 1.0]


def test_relu_activity_of_padded_batches_counts_real_frames_only(sess, rng):
    """``ReluActivity`` fed by ``evaluate``'s padded minibatches: the same counts as NumPy on
    the real frames (padded zero frames would switch on every unit with a positive bias),
    and the same shares as ``dead_relu_shares`` one utterance at a time."""
    from tf1_birnn.training.diagnose import ReluActivity
    from tf1_birnn.training.loop import evaluate
    pairs = _pairs(n=5)  # lengths differ, so batches of 2 are padded
    assert len({y.shape[0] for _, y in pairs}) > 1
    net = build_network("ff", D_input=5, D_label=2, num_units=6, n_ff=1)
    sess.run(tf.compat.v1.global_variables_initializer())
    b = np.array([3, 3, -3, -3, 0.5, -0.5], np.float32)  # alive, dead and in between
    sess.run(net.weights["ff_in0/b"].assign(b))
    W = sess.run(net.weights["ff_in0/W"])
    activity = ReluActivity(net)
    loss = evaluate(sess, net, pairs, batch_size=2, observe=activity)
    assert loss == evaluate(sess, net, pairs, batch_size=2)  # observing changes nothing
    frames = np.concatenate([x[0] for x, _ in pairs])  # [n_frames, D_input], real frames only
    np.testing.assert_array_equal(activity.active["ff_in0"],
                                  (np.maximum(frames @ W + b, 0) > 0).sum(axis=0))
    assert activity.frames == len(frames)
    assert activity.shares() == dead_relu_shares(sess, net, pairs)
