"""Trajectory plots (matplotlib) for the notebooks."""
import numpy as np
import pytest

from tf1_birnn.tools.viz import plot_trajectories


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
