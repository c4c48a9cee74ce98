"""Pictures and smoothness measures of predicted trajectories: the one home of both.

- ``plot_trajectories``: real (black) vs predicted (red) trajectories, one panel per
  channel, with the channel's name, a legend and the frame axis (matplotlib figure, for the
  notebooks);
- ``trajectory_png``: the same drawing as PNG bytes, for TensorBoard's image
  ``trajectory/test_utterance`` and ``tf1-birnn predict``'s PNG (matplotlib's Agg canvas,
  no pyplot and no display needed);
- ``roughness`` and ``lag1_autocorrelation`` check the blog's claim that the predicted
  trajectories are smooth with a number (``tf1-birnn reproduce``, the notebooks).

matplotlib is imported when a picture is drawn, so importing this module is cheap.
"""
import io

import numpy as np

__all__ = ["roughness", "lag1_autocorrelation", "channel_names", "plot_trajectories",
           "trajectory_png"]

N_POSITIONS = 8  # the original labels: 4 sensors x (x, y), then their deltas, delta-deltas


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


def channel_names(D_label):
    """Names of the label channels: for the original's 24 (see ``label_layout`` in
    ``resources/original_corpus.json``) 'sensor 1 x' ... 'sensor 4 y', then 'Δ ...' and
    'ΔΔ ...'; otherwise 'channel 0', 'channel 1', ..."""
    if D_label != 3 * N_POSITIONS:
        return [f"channel {k}" for k in range(D_label)]
    positions = [f"sensor {k // 2 + 1} {'xy'[k % 2]}" for k in range(N_POSITIONS)]
    return positions + [f"Δ {p}" for p in positions] + [f"ΔΔ {p}" for p in positions]


def _check(real, pred, channels):
    real, pred = np.asarray(real), np.asarray(pred)
    if real.shape != pred.shape or real.ndim != 2:
        raise ValueError(f"real and pred must both be [n_frames, D_label]; got {real.shape} "
                         f"and {pred.shape}")
    bad = [c for c in channels if not 0 <= c < real.shape[1]]
    if bad or not channels:
        raise ValueError(f"channels must be a non-empty list of label channels in "
                         f"0..{real.shape[1] - 1}; got {tuple(channels)}")
    return real, pred


def _draw(fig, real, pred, channels, title, names, units=None):
    """Draw ``real``/``pred`` `[n_frames, D_label]` into ``fig``: one panel per channel;
    ``units``: what the values are in (one label beside all panels)."""
    names = names or channel_names(real.shape[1])
    axes = fig.subplots(len(channels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, ch in zip(axes, channels):
        ax.plot(real[:, ch], color="black", lw=1.2, label="real")
        ax.plot(pred[:, ch], color="tab:red", lw=1.2, label="predicted")
        ax.set_ylabel(names[ch], fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0].legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("frame (10 ms)")
    if title:
        fig.suptitle(title)
    if units:
        fig.supylabel(units, fontsize=9)
    fig.tight_layout()


def plot_trajectories(real, pred, channels=(0, 1, 2, 3), title=None, names=None):
    """Plot real (black) and predicted (red) trajectories `[n_frames, D_label]`, one panel per
    channel of ``channels`` (``names``: the channels' names, default ``channel_names``);
    return the matplotlib figure (made with pyplot, so a notebook shows it)."""
    import matplotlib.pyplot as plt

    real, pred = _check(real, pred, channels)
    fig = plt.figure(figsize=(9, 1.6 * len(channels)))
    _draw(fig, real, pred, channels, title, names)
    return fig


def trajectory_png(real, pred, channels=(0, 1, 2, 3), title=None, names=None, dpi=100,
                   units=None):
    """The picture of ``plot_trajectories`` as PNG bytes (drawn off-screen, without pyplot);
    ``units``: what the values are in, e.g. 'standardized units'."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    real, pred = _check(real, pred, channels)
    fig = Figure(figsize=(9, 1.6 * len(channels)), dpi=dpi)
    FigureCanvasAgg(fig)
    _draw(fig, real, pred, channels, title, names, units)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
