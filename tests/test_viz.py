"""Trajectory plots (matplotlib) for the notebooks, and the smoothness measures."""
import numpy as np
import pytest

from tf1_birnn.tools.viz import lag1_autocorrelation, plot_trajectories, roughness


def test_plot_trajectories_draws_one_panel_per_channel():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    real = np.cumsum(np.random.default_rng(0).standard_normal((50, 24)), axis=0)
    fig = plot_trajectories(real, real + 0.1, channels=(0, 3, 5))
    assert len(fig.axes) == 3
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), real[:, 3])
    np.testing.assert_allclose(fig.axes[1].lines[1].get_ydata(), real[:, 3] + 0.1)


def test_plot_trajectories_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\(50, 24\) and \(49, 24\)"):
        plot_trajectories(np.zeros((50, 24)), np.zeros((49, 24)))


def test_roughness_and_autocorrelation_by_hand():
    t = np.arange(10.0)[:, None]  # [n_frames, 1]
    real = [np.hstack([t ** 2, -t ** 2])]  # second difference 2 everywhere
    jitter = [real[0] + np.array([[1.0, 0.0]] * 10) * (-1.0) ** t]  # +-1 on channel 0
    assert roughness(real, real) == pytest.approx(1.0)
    # channel 0: |2 +- 4| = 6 or 2 alternating -> mean 4; channel 1: 2; (4 + 2) / (2 + 2)
    assert roughness(real, jitter) == pytest.approx(1.5)
    assert lag1_autocorrelation([np.array([[1.0], [-1.0], [1.0], [-1.0]])]) == pytest.approx(-0.75)
