"""TensorBoard output, read back with TensorBoard's own loader and its HTTP data API."""
import json
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tf1_birnn.training.plot import encode_png, trajectory_image
from tf1_birnn.training.run import preset_config, train_run
from tiny import tiny_corpus


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("logs")
    X, Y = tiny_corpus(n=8)
    config = preset_config("quick", num_units=8, epochs=3, image_every=2)
    return train_run(config, X, Y, str(logdir), "tiny", out=lambda *_: None, show_progress=False)


@pytest.mark.slow
def test_event_files_hold_scalars_histograms_graph_and_images(run_dir):
    acc = EventAccumulator(run_dir, size_guidance={"scalars": 0, "histograms": 0, "images": 0})
    acc.Reload()
    tags = acc.Tags()
    assert {"loss/train", "loss/test"} <= set(tags["scalars"])
    assert [e.step for e in acc.Scalars("loss/train")] == [0, 1, 2]
    steps = EventAccumulator(f"{run_dir}/steps", size_guidance={"scalars": 0})
    steps.Reload()
    # one point per Adam step: 7 training utterances per epoch
    assert [e.step for e in steps.Scalars("loss/train_step")] == list(range(3 * 7))
    with open(f"{run_dir}/history.json") as f:
        history = json.load(f)["epochs"]
    np.testing.assert_allclose([e.value for e in acc.Scalars("loss/test")],
                               [h["test"] for h in history], rtol=1e-6)
    hist = tags["histograms"]
    # one per trainable variable: 2 GRU cells x 3 gates x (Wx, Wh, b) + 5 dense layers x (W, b)
    assert len(hist) == len(set(hist)) == 2 * 3 * 3 + 5 * 2
    assert any("ff_in0/W" in t for t in hist) and any("fw" in t for t in hist)
    assert tags["graph"] is True
    images = acc.Images("trajectory/test_utterance")
    assert [e.step for e in images] == [0, 2]  # every 2 epochs and the last one
    decoded = tf.io.decode_png(images[0].encoded_image_string).numpy()
    assert decoded.shape == (images[0].height, images[0].width, 3)


def test_png_round_trips_through_tensorflow():
    real = np.sin(np.linspace(0, 6, 50))[:, None] * np.ones((1, 4))
    img = trajectory_image(real, real * 0.5)
    decoded = tf.io.decode_png(encode_png(img)).numpy()
    np.testing.assert_array_equal(decoded, img)
    assert (img == [220, 40, 40]).all(axis=2).any() and (img == 0).all(axis=2).any()


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
    cmd = [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host", "127.0.0.1",
           "--port", str(port), "--load_fast", "false"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base, scalars = f"http://127.0.0.1:{port}", {}
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                scalars = _get_json(f"{base}/data/plugin/scalars/tags")
                if "tiny" in scalars:
                    break
            except OSError:
                pass
            time.sleep(1)
        assert "loss/test" in scalars.get("tiny", {}), f"TensorBoard served {scalars}"
        histograms = _get_json(f"{base}/data/plugin/histograms/tags")
        assert any("ff_in0/W" in t for t in histograms["tiny"])
        points = _get_json(f"{base}/data/plugin/scalars/scalars?run=tiny&tag=loss/train")
        assert [p[1] for p in points] == [0, 1, 2]  # [wall_time, step, value] rows
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_read_scalars_gives_the_history(run_dir):
    from tf1_birnn.training.summaries import read_scalars
    scalars = read_scalars(run_dir)
    with open(f"{run_dir}/history.json") as f:
        history = json.load(f)["epochs"]
    assert [s for s, _ in scalars["loss/train"]] == [h["epoch"] for h in history]
    np.testing.assert_allclose([v for _, v in scalars["loss/train"]],
                               [h["train"] for h in history], rtol=1e-6)
