"""Plots and smoothness measures of predicted trajectories (notebooks, ``reproduce``).

``roughness`` and ``lag1_autocorrelation`` check the blog's claim that the predicted
trajectories are smooth with a number; ``plot_trajectories`` draws real vs predicted with
matplotlib (an optional dependency: ``pip install tf1_birnn[notebooks]``).
"""
import numpy as np

__all__ = ["roughness", "lag1_autocorrelation", "plot_trajectories"]


def roughness(real, pred):
    """Mean absolute second difference of ``pred`` over that of ``real``.

    ``real``, ``pred``: lists of `[n_frames, D_label]` arrays (one per utterance). 1 means as
    smooth as the real trajectories, larger is rougher; frame-by-frame jitter raises it.
    """
    num = sum(float(np.abs(np.diff(p, n=2, axis=0)).sum()) for p in pred)
    den = sum(float(np.abs(np.diff(r, n=2, axis=0)).sum()) for r in real)
    return num / den if den > 0 else float("nan")  # flat real trajectories: undefined


def lag1_autocorrelation(seqs):
    """Mean over utterances and channels of the lag-1 autocorrelation of `[n_frames, D]` arrays."""
    values = []
    for s in seqs:
        c = s - s.mean(axis=0)  # [n_frames, D]
        den = (c ** 2).sum(axis=0)  # [D]
        ok = den > 0
        values.append(((c[1:] * c[:-1]).sum(axis=0)[ok] / den[ok]).mean())
    return float(np.mean(values))


def plot_trajectories(real, pred, channels=(0, 1, 2, 3), title=None, names=None):
    """Plot real (black) and predicted (red) trajectories `[n_frames, D_label]`, one panel per
    channel of ``channels``; return the matplotlib figure."""
    import matplotlib.pyplot as plt  # optional: only plots need it

    real, pred = np.asarray(real), np.asarray(pred)
    if real.shape != pred.shape or real.ndim != 2:
        raise ValueError(f"real and pred must both be [n_frames, D_label]; got {real.shape} "
                         f"and {pred.shape}")
    fig, axes = plt.subplots(len(channels), 1, figsize=(9, 1.6 * len(channels)), sharex=True,
                             squeeze=False)
    for ax, ch in zip(axes[:, 0], channels):
        ax.plot(real[:, ch], color="black", lw=1.2, label="real")
        ax.plot(pred[:, ch], color="tab:red", lw=1.2, label="predicted")
        ax.set_ylabel(names[ch] if names else f"channel {ch}")
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("frame (10 ms)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
