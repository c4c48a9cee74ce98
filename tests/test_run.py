"""Run folders, checkpoints and resume (including after SIGKILL)."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf

from tf1_birnn.run import build_session, open_run, preset_config, train_run
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
