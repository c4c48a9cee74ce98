"""TensorBoard output, read back with TensorBoard's own loader and its HTTP data API."""
import json
import re
import socket
import subprocess
import sys
import urllib.request

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tf1_birnn.training.run import train_run
from tiny import tiny_config, tiny_corpus, wait_for_line


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("logs")
    X, Y = tiny_corpus(n=8)
    config = tiny_config(epochs=3, image_every=2)
    return train_run(config, X, Y, str(logdir), "tiny", out=lambda *_: None, show_progress=False)


def _events(path, **guidance):
    acc = EventAccumulator(str(path), size_guidance={"scalars": 0, **guidance})
    acc.Reload()
    return acc


@pytest.mark.slow
def test_train_and_test_loss_are_one_tag_in_two_runs(run_dir):
    with open(f"{run_dir}/history.json") as f:
        history = json.load(f)["epochs"]
    for split in ("train", "test"):  # Keras's convention: <run>/train, <run>/test, tag "loss"
        acc = _events(f"{run_dir}/{split}")
        assert acc.Tags()["scalars"] == ["loss"]
        points = acc.Scalars("loss")
        assert [e.step for e in points] == [0, 1, 2]
        np.testing.assert_allclose([e.value for e in points], [h[split] for h in history],
                                   rtol=1e-6)
    # the per-step loss stays apart: its x axis counts Adam steps (7 train utterances/epoch)
    steps = _events(f"{run_dir}/steps")
    assert steps.Tags()["scalars"] == ["loss_per_step"]
    assert [e.step for e in steps.Scalars("loss_per_step")] == list(range(3 * 7))
    assert "loss" not in _events(run_dir).Tags()["scalars"]


@pytest.mark.slow
def test_histograms_are_named_after_the_tutorial(run_dir):
    acc = _events(run_dir, histograms=0)
    hist = set(acc.Tags()["histograms"])
    gates = {f"weights/rnn0/{d}/{g}/{w}" for d in ("fw", "bw") for g in ("rgate", "ugate", "cell")
             for w in ("Wx", "Wh", "b")}
    dense = {f"weights/{layer}/{w}" for layer in ("ff_in0", "ff_in1", "ff_out0", "ff_out1",
                                                  "output") for w in ("W", "b")}
    assert hist == gates | dense
    assert not [t for t in hist if re.search(r"_\d+$", t)]
    assert acc.Tags()["graph"] is True


@pytest.mark.slow
def test_dead_relu_shares_and_trajectory_image(run_dir):
    acc = _events(run_dir, images=0)
    tags = acc.Tags()
    layers = ("ff_in0", "ff_in1", "ff_out0", "ff_out1")
    assert {f"relu/dead_share/{k}" for k in layers} == set(tags["scalars"])
    for k in layers:
        shares = [e.value for e in acc.Scalars(f"relu/dead_share/{k}")]
        assert len(shares) == 3 and all(0.0 <= v <= 1.0 for v in shares)
    images = acc.Images("trajectory/test_utterance")
    assert [e.step for e in images] == [0, 2]  # every 2 epochs and the last one
    decoded = tf.io.decode_png(images[0].encoded_image_string).numpy()
    assert decoded.shape == (images[0].height, images[0].width, 4)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


@pytest.mark.slow
def test_tensorboard_server_serves_the_run(run_dir):
    logdir, port = str(run_dir).rsplit("/", 1)[0], _free_port()
    # --reload_task blocking: the logdir is read once, before the server starts; then
    # TensorBoard says on stderr where it serves
    cmd = [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host", "127.0.0.1",
           "--port", str(port), "--load_fast", "false", "--reload_interval", "0",
           "--reload_task", "blocking"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_line(proc.stderr, f" at {base}/ ", 90, "TensorBoard serving the logdir")
        scalars = _get_json(f"{base}/data/plugin/scalars/tags")
        assert {"tiny", "tiny/train", "tiny/test"} <= set(scalars), f"TensorBoard served {scalars}"
        assert "loss" in scalars.get("tiny/test", {}), f"TensorBoard served {scalars}"
        assert "loss" in scalars.get("tiny/train", {}), f"TensorBoard served {scalars}"
        histograms = _get_json(f"{base}/data/plugin/histograms/tags")
        assert "weights/rnn0/fw/rgate/Wx" in histograms["tiny"]
        points = _get_json(f"{base}/data/plugin/scalars/scalars?run=tiny/train&tag=loss")
        assert [p[1] for p in points] == [0, 1, 2]  # [wall_time, step, value] rows
        # the run's settings in the Text tab, e.g. its cell dropout
        assert _get_json(f"{base}/data/plugin/text/tags")["tiny"] == ["config"]
        text, = _get_json(f"{base}/data/plugin/text/text?run=tiny&tag=config")
        assert "cell_dropout" in text["text"] and "keep_rate" in text["text"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_read_scalars_gives_the_history(run_dir):
    from tf1_birnn.training.summaries import read_scalars
    scalars = read_scalars(run_dir)
    with open(f"{run_dir}/history.json") as f:
        history = json.load(f)["epochs"]
    for split in ("train", "test"):
        assert [s for s, _ in scalars[f"{split}/loss"]] == [h["epoch"] for h in history]
        np.testing.assert_allclose([v for _, v in scalars[f"{split}/loss"]],
                                   [h[split] for h in history], rtol=1e-6)
    assert len(scalars["steps/loss_per_step"]) == 3 * 7


@pytest.mark.slow
def test_config_text_shows_every_setting(run_dir):
    """TensorBoard's Text tab shows the run's settings (e.g. ``cell_dropout``), so that runs on
    one chart can be told apart."""
    from tf1_birnn.training.run import RunConfig
    from tf1_birnn.training.summaries import read_text
    from dataclasses import fields
    (step, text), = read_text(run_dir)
    assert step == 0
    for f in fields(RunConfig):
        assert f"| {f.name} | " in text
    assert "| cell_dropout | 'none' |" in text
