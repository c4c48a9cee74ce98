"""``tf1_birnn.training.checkpoints``: checkpoints of runs written before the gate variables
were named after the tutorial still restore.

The old names are those the graph of commit 3e72698 gave (printed from that code): every
cell's variables were ``<scope>/Variable``, ``<scope>/Variable_1``, ... in creation order
(gate by gate, ``Wx``, ``Wh``, ``b``), e.g. ``rnn0/fw/Variable_8`` for a GRU's last bias.
"""
import os

import numpy as np
import pytest
import tensorflow as tf

from tf1_birnn.core.network import build_network
from tf1_birnn.training.checkpoints import CheckpointError, epochs_done
from tf1_birnn.training.restore import legacy_names, restore

SETTINGS = dict(num_units=4, cell="gru", cell_b="lstm", n_ff=1)  # 9 + 12 gate variables


def _old_name(new):
    """What the code of 3e72698 called today's variable ``new`` (test's own table)."""
    gates = {"rnn0/fw": ("rgate", "ugate", "cell"), "rnn0/bw": ("igate", "fgate", "ogate", "cell")}
    for scope, names in gates.items():
        for g, gate in enumerate(names):
            for w, part in enumerate(("Wx", "Wh", "b")):
                prefix = f"{scope}/{gate}/{part}"
                if new == prefix or new.startswith(prefix + "/"):
                    k = 3 * g + w
                    return f"{scope}/Variable" + (f"_{k}" if k else "") + new[len(prefix):]
    return new


def _trained_values(session, net):
    rng = np.random.default_rng(0)
    feed = {net.inputs: rng.standard_normal((1, 5, 39)).astype(np.float32),
            net.labels: rng.standard_normal((5, 24)).astype(np.float32), net.drop_keep_rate: 1.0}
    session.run(tf.compat.v1.global_variables_initializer())
    session.run(net.train_step, feed)  # Adam's slots are not zero any more
    return {v.op.name: session.run(v) for v in tf.compat.v1.global_variables()}


def test_legacy_names_match_the_old_graph(new_session):
    with new_session():
        build_network("birnn", **SETTINGS)
        mapping = legacy_names(tf.compat.v1.global_variables())
        assert {old: v.op.name for old, v in mapping.items()} == {
            _old_name(v.op.name): v.op.name for v in tf.compat.v1.global_variables()}
        assert "rnn0/fw/Variable_8" in mapping and "rnn0/bw/Variable_11/Adam_1" in mapping


@pytest.mark.slow
def test_a_checkpoint_of_old_names_restores(new_session, tmp_path):
    path = str(tmp_path / "model.ckpt-1")
    with new_session() as sess:  # write a checkpoint as the old code named its variables
        net = build_network("birnn", **SETTINGS)
        values = _trained_values(sess, net)
        old = {_old_name(v.op.name): v for v in tf.compat.v1.global_variables()}
        assert "rnn0/fw/Variable" in old
        tf.compat.v1.train.Saver(var_list=old).save(sess, path, write_meta_graph=False)
    with new_session() as sess:  # today's graph, today's Saver
        tf.compat.v1.set_random_seed(1)
        build_network("birnn", **SETTINGS)
        restore(tf.compat.v1.train.Saver(), sess, path)
        for v in tf.compat.v1.global_variables():
            np.testing.assert_array_equal(sess.run(v), values[v.op.name])


@pytest.mark.slow
def test_a_checkpoint_of_another_network_is_refused(new_session, tmp_path):
    path = str(tmp_path / "model.ckpt-0")
    with new_session() as sess:
        net = build_network("birnn", **dict(SETTINGS, cell="lstm"))
        _trained_values(sess, net)
        tf.compat.v1.train.Saver().save(sess, path, write_meta_graph=False)
    with new_session() as sess:
        build_network("birnn", **SETTINGS)
        with pytest.raises(CheckpointError, match="model.ckpt-0: does not fit this network"):
            restore(tf.compat.v1.train.Saver(), sess, path)


def test_epochs_done_counts_the_newest_checkpoint(tmp_path):
    assert epochs_done(tmp_path / "missing") == 0
    for n in (0, 2):  # model.ckpt-<epoch> with its manifest: epochs 0..n are done
        (tmp_path / f"model.ckpt-{n}.index").write_bytes(b"")
        (tmp_path / f"model.ckpt-{n}.manifest.json").write_text("{}")
    assert epochs_done(tmp_path) == 3


@pytest.mark.slow
def test_a_checkpoint_of_other_sizes_is_refused_before_anything_is_restored(new_session,
                                                                            tmp_path):
    path = str(tmp_path / "model.ckpt-0")
    with new_session() as sess:
        net = build_network("birnn", **dict(SETTINGS, num_units=2 * SETTINGS["num_units"]))
        _trained_values(sess, net)
        tf.compat.v1.train.Saver().save(sess, path, write_meta_graph=False)
    with new_session() as sess:
        build_network("birnn", **SETTINGS)
        sess.run(tf.compat.v1.global_variables_initializer())
        before = {v.op.name: sess.run(v) for v in tf.compat.v1.global_variables()}
        with pytest.raises(CheckpointError, match=r"model.ckpt-0: does not fit this network "
                                                  r"\(.* is \[\d+, \d+\] there, \[\d+, \d+\] here\)"):
            restore(tf.compat.v1.train.Saver(), sess, path)
        for v in tf.compat.v1.global_variables():  # untouched
            np.testing.assert_array_equal(sess.run(v), before[v.op.name])


def test_set_aside_never_overwrites_an_earlier_damaged_copy(tmp_path):
    from tf1_birnn.training.checkpoints import Checkpoint, set_aside
    for round_ in range(3):  # the same epoch damaged three times
        for suffix in ("index", "data-00000-of-00001", "manifest.json"):
            (tmp_path / f"model.ckpt-2.{suffix}").write_text(f"round {round_}")
        names = set_aside(str(tmp_path), [Checkpoint(str(tmp_path / "model.ckpt-2"), 2, 2,
                                                     True)])
        assert names == ["model.ckpt-2" + (f"~{round_}" if round_ else "")]
    aside = tmp_path / "damaged"
    assert sorted(os.listdir(aside)) == sorted(
        f"{stem}.{suffix}" for stem in ("model.ckpt-2", "model.ckpt-2~1", "model.ckpt-2~2")
        for suffix in ("index", "data-00000-of-00001", "manifest.json"))
    assert (aside / "model.ckpt-2.index").read_text() == "round 0"
    assert (aside / "model.ckpt-2~2.index").read_text() == "round 2"
    assert not [f for f in os.listdir(tmp_path) if f.startswith("model.ckpt")]
