"""The training loop: batching, evaluation, repeatability, divergence."""
import numpy as np
import pytest
import tensorflow as tf

from tf1_birnn.data.helpers import data_prer, train_test_split
from tf1_birnn.core.network import build_network
from tf1_birnn.training.run import open_run, train_run
from tf1_birnn.training.loop import TrainingDiverged, evaluate, make_batches, train_epoch
from tiny import TINY, tiny_config, tiny_corpus


def test_make_batches_pads_and_keeps_order():
    pairs = data_prer(*tiny_corpus(n=5))
    batches = list(make_batches(pairs, 2))
    assert [len(b[2]) for b in batches] == [2, 2, 1]
    inputs, labels, lengths = batches[0]
    T = int(lengths.max())
    assert inputs.shape == (2, T, 39) and labels.shape == (2 * T, 24)
    for k in range(2):
        x, y = pairs[k]
        np.testing.assert_array_equal(inputs[k, :lengths[k]], x[0])
        np.testing.assert_array_equal(labels.reshape(2, T, 24)[k, :lengths[k]], y)
        assert not inputs[k, lengths[k]:].any()


def _network(sess, **kw):
    """A seeded tiny network in ``sess``'s graph (conftest's fresh one), initialized."""
    tf.compat.v1.set_random_seed(3)
    np.random.seed(3)
    net = build_network(num_units=TINY["num_units"], **kw)
    sess.run(tf.compat.v1.global_variables_initializer())
    return net


def test_batched_evaluation_equals_one_utterance_at_a_time(sess):
    pairs = data_prer(*tiny_corpus(n=7))
    net = _network(sess, variable_length=True)
    batched = evaluate(sess, net, pairs, batch_size=4)
    single = evaluate(sess, net, pairs, batch_size=1)
    by_hand = np.mean([sess.run(net.loss, {net.inputs: x, net.labels: y,
                                           net.sequence_length: [x.shape[1]],
                                           net.drop_keep_rate: 1.0}) for x, y in pairs])
    assert batched == pytest.approx(single, rel=1e-5)
    assert batched == pytest.approx(by_hand, rel=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [1, 3])
def test_train_epoch_lowers_the_loss(sess, batch_size):
    pairs = data_prer(*tiny_corpus(n=6))
    net = _network(sess, variable_length=batch_size > 1, learning_rate=3e-3)
    before = evaluate(sess, net, pairs)
    for k in range(5):
        losses = train_epoch(sess, net, pairs, np.random.default_rng(k), batch_size,
                             keep_rate=1.0, show_progress=False)
    after = evaluate(sess, net, pairs)
    assert len(losses) == -(-len(pairs) // batch_size)
    assert after < 0.9 * before


def test_one_utterance_network_refuses_a_batch(sess):
    pairs = data_prer(*tiny_corpus(n=4))
    net = _network(sess)
    with pytest.raises(ValueError, match="one utterance per step"):
        train_epoch(sess, net, pairs, np.random.default_rng(0), batch_size=2, keep_rate=1.0,
                    show_progress=False)


@pytest.mark.slow
def test_same_seed_same_losses(tmp_path):
    X, Y = tiny_corpus(n=8)
    lines = {}
    for name in ("a", "b"):
        printed = []
        train_run(tiny_config(seed=7), X, Y, str(tmp_path), name, out=printed.append,
                  show_progress=False)
        lines[name] = printed
    assert lines["a"] == lines["b"]
    assert [p[0] for p in lines["a"]] == [0, 1] and lines["a"][0][1] == 'train:'
    other = []
    train_run(tiny_config(seed=8), X, Y, str(tmp_path), "c", out=other.append, show_progress=False)
    assert other != lines["a"]


@pytest.mark.slow
def test_printed_losses_are_means_over_the_real_counts(tmp_path):
    X, Y = tiny_corpus(n=9)  # 9 utterances: 1 test, 8 train (not 20 and 83)
    run_dir = train_run(tiny_config(epochs=1), X, Y, str(tmp_path), "r", out=lambda *_: None,
                        show_progress=False)
    _, history = open_run(run_dir)
    train, test = train_test_split(data_prer(X, Y))
    assert (len(train), len(test)) == (8, 1)
    from tf1_birnn.training.run import build_session
    graph, sess, net, _ = build_session(open_run(run_dir)[0], tf.train.latest_checkpoint(run_dir))
    with graph.as_default(), sess:
        per_utt = [sess.run(net.loss, {net.inputs: x, net.labels: y, net.drop_keep_rate: 1.0})
                   for x, y in train]
    assert history[0]["train"] == pytest.approx(np.mean(per_utt), rel=1e-5)


@pytest.mark.slow
def test_divergence_stops_the_run_and_keeps_no_bad_checkpoint(tmp_path):
    X, Y = tiny_corpus(n=6)
    with pytest.raises(TrainingDiverged, match="learning-rate"):
        train_run(tiny_config(learning_rate=1e30), X, Y, str(tmp_path), "nan",
                  out=lambda *_: None, show_progress=False)
    assert tf.train.latest_checkpoint(str(tmp_path / "nan")) is None


@pytest.mark.parametrize("arch,fast", [("birnn", False), ("birnn", True), ("lv1", True)])
def test_tutorial_network_evaluates_in_batches(sess, arch, fast):
    """Without variable_length (the tutorial's one-utterance network) evaluation still batches:
    padded, masked minibatches give every utterance the MSE it gets alone, and the training
    loss at batch 1 (lengths not fed) is the tutorial's ``mean((output - labels)**2)``."""
    pairs = data_prer(*tiny_corpus(n=7))
    net = _network(sess, arch=arch, fast=fast)
    batched = evaluate(sess, net, pairs, batch_size=4)
    single = evaluate(sess, net, pairs, batch_size=1)
    alone = []
    for x, y in pairs:  # the tutorial's evaluation: one utterance, lengths not fed
        out, loss = sess.run([net.output, net.loss], {net.inputs: x, net.labels: y,
                                                      net.drop_keep_rate: 1.0})
        np.testing.assert_allclose(loss, np.mean((out - y) ** 2), rtol=1e-5)
        alone.append(loss)
    assert batched == pytest.approx(single, rel=1e-5)
    assert batched == pytest.approx(float(np.mean(alone)), rel=1e-5)


def test_train_epoch_feeds_the_cell_keep_rate(sess):
    """``cell_keep_rate`` reaches the masks inside the cells, apart from ``keep_rate``: at keep
    1.0 between the layers and 1.0 in the cells the first step's loss (taken before its update)
    is the evaluation loss; at 0.3 in the cells it is not."""
    pairs = data_prer(*tiny_corpus(n=1))
    net = _network(sess, cell_dropout="variational")
    start = sess.run(tf.compat.v1.global_variables())  # as initialized, Adam's slots too

    def first_loss(cell_keep_rate):
        for v, value in zip(tf.compat.v1.global_variables(), start):
            v.load(value, sess)
        return train_epoch(sess, net, pairs, np.random.default_rng(0), 1, 1.0,
                           cell_keep_rate=cell_keep_rate, show_progress=False)[0]

    clean = evaluate(sess, net, pairs)
    assert first_loss(1.0) == pytest.approx(clean, rel=1e-5)
    assert first_loss(None) == pytest.approx(clean, rel=1e-5)  # follows keep_rate (1.0)
    assert abs(first_loss(0.3) - clean) > 1e-3
