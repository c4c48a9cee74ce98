"""The one trajectory picture (notebooks, TensorBoard, ``predict``) and the smoothness measures."""
import io

import matplotlib
import numpy as np
import pytest

from tf1_birnn.training.plot import (channel_names, lag1_autocorrelation, plot_trajectories,
                                     roughness, trajectory_png)

matplotlib.use("Agg")


def _curves(n=50, D=24):
    real = np.cumsum(np.random.default_rng(0).standard_normal((n, D)), axis=0)
    return real, real + 0.1


def test_plot_trajectories_draws_one_named_panel_per_channel():
    real, pred = _curves()
    fig = plot_trajectories(real, pred, channels=(0, 3, 5))
    assert len(fig.axes) == 3
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), real[:, 3])
    np.testing.assert_allclose(fig.axes[1].lines[1].get_ydata(), pred[:, 3])
    # the original's 24 label channels: 4 sensors x (x, y), then deltas and delta-deltas
    assert [ax.get_ylabel() for ax in fig.axes] == ["sensor 1 x", "sensor 2 y", "sensor 3 y"]
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["real", "predicted"]
    assert fig.axes[-1].get_xlabel() == "frame (10 ms)"


def test_channel_names_follow_the_label_layout():
    names = channel_names(24)
    assert names[7] == "sensor 4 y" and names[8] == "Δ sensor 1 x" and names[23] == "ΔΔ sensor 4 y"
    assert channel_names(3) == ["channel 0", "channel 1", "channel 2"]


def test_trajectory_png_is_the_same_drawing_as_a_png():
    import matplotlib.pyplot as plt
    real, pred = _curves(D=3)
    png = trajectory_png(real, pred, channels=(0, 2), title="t")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = plt.imread(io.BytesIO(png), format="png")  # [height, width, 4] in [0, 1]
    assert img.shape[2] == 4 and img.shape[0] > 100 and img.shape[1] > 300
    red = (img[..., 0] > 0.7) & (img[..., 1] < 0.4) & (img[..., 2] < 0.4)  # tab:red line
    black = img[..., :3].max(axis=2) < 0.15  # real line, axes and text
    assert red.sum() > 100 and black.sum() > 100


@pytest.mark.parametrize("draw", [plot_trajectories, trajectory_png])
def test_bad_shapes_and_channels_are_refused(draw):
    with pytest.raises(ValueError, match=r"\(50, 24\) and \(49, 24\)"):
        draw(np.zeros((50, 24)), np.zeros((49, 24)))
    with pytest.raises(ValueError, match=r"channels .* in 0\.\.2; got \(0, 5\)"):
        draw(np.zeros((50, 3)), np.zeros((50, 3)), channels=(0, 5))


def test_roughness_and_autocorrelation_by_hand():
    t = np.arange(10.0)[:, None]  # [n_frames, 1]
    real = [np.hstack([t ** 2, -t ** 2])]  # second difference 2 everywhere
    jitter = [real[0] + np.array([[1.0, 0.0]] * 10) * (-1.0) ** t]  # +-1 on channel 0
    assert roughness(real, real) == pytest.approx(1.0)
    # channel 0: |2 +- 4| = 6 or 2 alternating -> mean 4; channel 1: 2; (4 + 2) / (2 + 2)
    assert roughness(real, jitter) == pytest.approx(1.5)
    assert lag1_autocorrelation([np.array([[1.0], [-1.0], [1.0], [-1.0]])]) == pytest.approx(-0.75)
