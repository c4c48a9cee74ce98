"""Run folders, checkpoints and resume (including after SIGKILL)."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tf1_birnn.training.run import build_session, open_run, preset_config, train_run
from tiny import tiny_corpus, tiny_npz


def quiet(*_):
    pass


def test_an_existing_run_is_never_overwritten(tmp_path):
    X, Y = tiny_corpus(n=6)
    config = preset_config("quick", num_units=8, epochs=1)
    train_run(config, X, Y, str(tmp_path), "r", out=quiet, show_progress=False)
    before = sorted(os.listdir(tmp_path / "r"))
    with pytest.raises(FileExistsError, match="--resume"):
        train_run(config, X, Y, str(tmp_path), "r", out=quiet, show_progress=False)
    assert sorted(os.listdir(tmp_path / "r")) == before


def test_resume_continues_the_curve(tmp_path):
    X, Y = tiny_corpus(n=6)
    whole = train_run(preset_config("quick", num_units=8, epochs=3), X, Y, str(tmp_path),
                      "whole", out=quiet, show_progress=False)
    part = train_run(preset_config("quick", num_units=8, epochs=1), X, Y, str(tmp_path),
                     "part", out=quiet, show_progress=False)
    printed = []
    train_run(None, X, Y, str(tmp_path), "part", resume=True, epochs=3, out=printed.append,
              show_progress=False)
    assert "resuming" in printed[0]
    _, h_whole = open_run(whole)
    _, h_part = open_run(part)
    assert [h["epoch"] for h in h_part] == [0, 1, 2]
    assert h_part[0]["test"] == h_whole[0]["test"]  # the first epoch is kept as it was
    assert h_part[2]["train"] < h_part[0]["train"]  # and the curve goes on falling
    assert tf.train.latest_checkpoint(part).endswith("model.ckpt-3")


def test_sigkill_loses_at_most_the_epoch_in_progress(tmp_path):
    data = tiny_npz(tmp_path / "tiny.npz", n=12)
    logdir = tmp_path / "logs"
    cmd = [sys.executable, "-m", "tf1_birnn", "train", "--data", data, "--logdir", str(logdir),
           "--run-name", "k", "--no-progress"]
    proc = subprocess.Popen(cmd + ["--num-units", "8", "--epochs", "400"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    index = logdir / "k" / "checkpoint"
    deadline = time.time() + 120
    while not index.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(1.0)  # kill in the middle of a later epoch (or a save)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert index.exists(), "no checkpoint was written before the kill"
    config, history = open_run(str(logdir / "k"))
    checkpoint = tf.train.latest_checkpoint(str(logdir / "k"))
    done = int(checkpoint.rsplit("-", 1)[1])
    assert len(history) >= done >= 1  # history.json may hold the epoch being saved
    graph, sess, net, _ = build_session(config, checkpoint)  # restores cleanly
    sess.close()
    # resume to a small total: the run ends with exactly that many epochs
    total = done + 2
    out = subprocess.run(cmd + ["--epochs", str(total), "--resume"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    with open(logdir / "k" / "history.json") as f:
        epochs = [h["epoch"] for h in json.load(f)["epochs"]]
    assert epochs == list(range(total))
    assert tf.train.latest_checkpoint(str(logdir / "k")).endswith(f"model.ckpt-{total}")
    # TensorBoard sees each epoch and each Adam step once: what the killed process wrote
    # after its last checkpoint is purged
    acc = EventAccumulator(str(logdir / "k" / "test"), size_guidance={"scalars": 0})
    acc.Reload()
    assert [e.step for e in acc.Scalars("loss")] == list(range(total))
    steps = EventAccumulator(str(logdir / "k" / "steps"), size_guidance={"scalars": 0})
    steps.Reload()
    assert [e.step for e in steps.Scalars("loss_per_step")] == list(range(total * 10))


def test_resume_purges_events_written_after_the_last_checkpoint(tmp_path):
    from tf1_birnn.training.summaries import RunWriter
    X, Y = tiny_corpus(n=6)  # 1 test, 5 train utterances: 5 Adam steps per epoch
    run_dir = train_run(preset_config("quick", num_units=8, epochs=2), X, Y, str(tmp_path), "p",
                        out=quiet, show_progress=False)
    # what a process killed in epoch 2, after logging but before saving, leaves behind
    stale = RunWriter(run_dir, tf.Graph())
    stale.scalars(2, train=99.0, test=99.0)
    for step in range(10, 15):
        stale.step_loss(step, 99.0)
    stale.close()
    train_run(None, X, Y, str(tmp_path), "p", resume=True, epochs=3, out=quiet,
              show_progress=False)
    acc = EventAccumulator(f"{run_dir}/test", size_guidance={"scalars": 0})
    acc.Reload()
    test_points = [(e.step, e.value) for e in acc.Scalars("loss")]
    assert [s for s, _ in test_points] == [0, 1, 2] and 99.0 not in [v for _, v in test_points]
    steps = EventAccumulator(f"{run_dir}/steps", size_guidance={"scalars": 0})
    steps.Reload()
    points = steps.Scalars("loss_per_step")
    assert [e.step for e in points] == list(range(15)) and all(e.value != 99.0 for e in points)


def test_last_checkpoint_names_a_run_without_one(tmp_path):
    from tf1_birnn.training.run import last_checkpoint
    with pytest.raises(ValueError, match="has no checkpoint yet"):
        last_checkpoint(str(tmp_path))
