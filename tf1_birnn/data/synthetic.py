"""Synthetic stand-in for the tutorial's corpus (MFCC `X` -> articulatory trajectories `Y`).

**This corpus is synthetic.** The tutorial ("循环神经网络——双向LSTM&GRU", YJango) trains on
103 utterances of 39-dim MFCC frames (``X.npy``) and 24-dim electromagnetic-articulography
labels (``Y.npy``), public in the tutorial's repository under GPL-3.0 but not shipped here
(``tf1-birnn fetch-data`` downloads them). :func:`synthetic_corpus` makes a corpus with the
same layout so that every notebook and test runs without them:

* the same 103 utterance lengths in the same file order (39473 frames, first 20 = test);
* ``Y`` `[n_frames, 24]`: 8 coordinates of 4 sensors (x at channels 0, 2, 4, 6; y at 1, 3,
  5, 7), then their HTK deltas (:func:`deltas`), then the deltas of the deltas, like the
  original. Positions are phone-like random targets (gamma durations, mean 10 frames) passed
  through a critically damped third-order smoother, so lag-1 autocorrelation is about 0.99 at
  100 frames/s; they are mixed with the Cholesky factor of the original's position
  correlation matrix and scaled to the original's channel means and stds
  (``resources/original_corpus.json``, statistics only: the original data is not shipped);
* ``X`` `[n_frames, 39]`: 13 cepstra + deltas + delta-deltas made from the articulation by the
  nonlinear forward model of :mod:`tf1_birnn.data.synthetic_acoustics` (formants -> spectral
  envelope -> source -> log mel -> DCT), with silences at the edges and in pauses (the
  acoustics carry no articulatory information there), voiced/unvoiced phones, varying pitch
  and loudness, a per-utterance acoustic delay of 4..8 frames (the acoustics lag the
  articulators) and measurement noise. A frame alone does not determine the articulation;
  context helps, and context from both sides helps more (see :func:`context_ridge_mse`).

How it differs from the original: the articulation has no phonetic content, no speaker, and
no head movement; the "acoustics" are far simpler than speech and the inversion is easier in
some ways (noise-free articulation) and harder in others (random delay). Numbers obtained on it
(losses, curves) are not the blog's numbers; only the qualitative ordering is comparable.
"""

import functools
import importlib.resources
import json

import numpy as np

from .helpers import Standardize
from .synthetic_acoustics import cepstra

__all__ = ["deltas", "reference_statistics", "synthetic_corpus", "context_ridge_mse"]

N_POSITIONS = 8  # 4 sensors x (x, y)
MEAN_PHONE = 10.0  # mean phone duration in frames (100 frames/s)
SMOOTH_POLE = 0.78  # pole of the articulator smoother (3 first-order stages)
EDGE_SILENCE = (10, 40)  # frames of silence before and after speech
PAUSE_RATE = 0.05  # probability of a pause after a phone
ACOUSTIC_LAG = (4, 9)  # the acoustics lag the articulators by 4..8 frames
VOICED_PROB = 0.8  # share of voiced phones
OFFSET_STD = 0.3  # per-utterance posture offset, in units of the phone-target std


def deltas(c, N=2):
    """HTK regression deltas with edge padding.

    ``d_t = sum_{n=1..N} n * (c_{t+n} - c_{t-n}) / (2 * sum_{n=1..N} n^2)``, where frames
    before the first and after the last repeat the edge frame. Delta-deltas are
    ``deltas(deltas(c))``.

    Args:
        c: array `[n_frames, D]`.
        N: half window (HTK ``DELTAWINDOW``), a positive int.

    Returns:
        float64 array `[n_frames, D]`.
    """
    if not isinstance(N, (int, np.integer)) or N < 1:
        raise ValueError(f"N must be a positive int; got {N!r}")
    c = np.asarray(c, dtype=np.float64)
    if c.ndim != 2 or len(c) == 0:
        raise ValueError(f"deltas expects a non-empty 2-D array [n_frames, D]; got shape {c.shape}")
    T = len(c)
    padded = np.pad(c, ((N, N), (0, 0)), mode="edge")  # [n_frames + 2N, D]
    d = sum(n * (padded[N + n:N + n + T] - padded[N - n:N - n + T]) for n in range(1, N + 1))
    return d / (2.0 * sum(n * n for n in range(1, N + 1)))


@functools.lru_cache(maxsize=1)
def _reference_json():
    text = importlib.resources.files("tf1_birnn").joinpath(
        "resources", "original_corpus.json").read_text(encoding="utf-8")
    return text


def reference_statistics():
    """Statistics of the original corpus (utterance lengths, split, channel stats) as a dict."""
    return json.loads(_reference_json())


def _smoother(a=SMOOTH_POLE, order=3, length=120):
    """Impulse response `[length]` of ``order`` cascaded first-order lowpass stages."""
    k = np.arange(length)
    h = (1.0 - a) * a ** k
    out = h
    for _ in range(order - 1):
        out = np.convolve(out, h)[:length]
    return out


def _utterance_plan(T, rng):
    """Per-frame segment index `[T]` and speech flag `[T]` (silence at both ends and in pauses)."""
    lead, tail = (min(int(rng.integers(*EDGE_SILENCE)), T // 8) for _ in range(2))
    middle = T - lead - tail
    lengths, speech = [lead], [False]
    filled = 0
    while filled < middle:
        if len(lengths) > 2 and rng.random() < PAUSE_RATE:  # a pause inside the utterance
            n, is_speech = int(rng.integers(10, 40)), False
        else:  # a phone
            n, is_speech = max(3, int(round(rng.gamma(4.0, MEAN_PHONE / 4.0)))), True
        n = min(n, middle - filled)
        lengths.append(n)
        speech.append(is_speech)
        filled += n
    lengths.append(tail)
    speech.append(False)
    segment = np.repeat(np.arange(len(lengths)), lengths)  # [T]
    return segment, np.array(speech)[segment]


def _articulation(T, chol, rng):
    """Positions `[T, 8]` (correlated, arbitrary scale) and the plan of one utterance."""
    segment, speech = _utterance_plan(T, rng)
    n_seg = segment[-1] + 1
    targets = rng.standard_normal((n_seg, N_POSITIONS))  # phone targets, decorrelated space
    rest = 0.5 * rng.standard_normal(N_POSITIONS)  # posture during silences
    is_sil = np.zeros(n_seg, bool)
    is_sil[segment[~speech]] = True
    targets[is_sil] = rest + 0.2 * rng.standard_normal((is_sil.sum(), N_POSITIONS))
    u = targets[segment]  # [T, 8] piecewise constant
    h = _smoother()
    padded = np.concatenate([np.repeat(u[:1], len(h), axis=0), u])  # start at rest
    z = np.stack([np.convolve(padded[:, j], h)[len(h):len(h) + T] for j in range(N_POSITIONS)], 1)
    offset = OFFSET_STD * rng.standard_normal(N_POSITIONS)  # per-utterance posture offset
    return (z + offset) @ chol.T, segment, speech  # [T, 8] correlated like the original


def _source(segment, speech, rng):
    """Voicing `[T]`, source gain `[T]` and pitch `[T]` of one utterance."""
    n_seg = segment[-1] + 1
    voiced_seg = (rng.random(n_seg) < VOICED_PROB).astype(float)
    gain_seg = 10.0 ** (rng.normal(0.0, 0.4, n_seg))  # +-8 dB per phone
    ramp = np.ones(3) / 3.0  # 30 ms transitions
    voiced = np.convolve(np.pad(voiced_seg[segment], 1, mode="edge"), ramp, "valid")
    gain = np.convolve(np.pad(gain_seg[segment] * speech, 1, mode="edge"), ramp, "valid")
    T = len(segment)
    f0 = 120.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, T)) + rng.normal(0.0, 0.1))
    return voiced, gain * 10.0 ** rng.normal(0.0, 0.3), np.clip(f0, 70.0, 300.0)


def synthetic_corpus(seed=0):
    """Generate the synthetic corpus (see the module docstring for how and why).

    Args:
        seed: int seed; the same seed gives bitwise identical arrays.

    Returns:
        ``(X, Y)``: two lists of 103 float32 arrays, `X[i]` `[n_frames_i, 39]` and `Y[i]`
        `[n_frames_i, 24]`, with the original's frame counts in the original's file order.
    """
    stats = reference_statistics()
    lengths = stats["utterance_lengths_in_file_order"]
    chol = np.linalg.cholesky(np.array(stats["position_channel_correlation"]))
    rng = np.random.default_rng(seed)
    plans = [_articulation(T, chol, rng) for T in lengths]
    allp = np.concatenate([p for p, _, _ in plans])  # [total_frames, 8]
    p_mean, p_std = allp.mean(axis=0), allp.std(axis=0)
    mean = np.array(stats["channel_mean"][:N_POSITIONS])
    std = np.array(stats["channel_std"][:N_POSITIONS])
    X, Y = [], []
    for p, segment, speech in plans:
        unit = (p - p_mean) / p_std  # [T, 8], corpus-wide mean 0 and std 1
        pos = mean + std * unit  # [T, 8], the original's channel means and stds
        d = deltas(pos)
        Y.append(np.concatenate([pos, d, deltas(d)], axis=1).astype(np.float32))
        voiced, gain, f0 = _source(segment, speech, rng)
        c = cepstra(unit, voiced, gain, f0, rng)  # [T, 13], aligned with the articulation
        lag = int(rng.integers(*ACOUSTIC_LAG))  # the acoustics lag the articulators
        T = len(p)
        c = np.concatenate([np.repeat(c[:1], lag, axis=0), c[:T - lag]])  # [T, 13]
        dc = deltas(c)
        X.append(np.concatenate([c, dc, deltas(dc)], axis=1).astype(np.float32))
    return X, Y


def _windows(x, past, future, step):
    """Stack frames t-past..t+future every ``step`` (edge padded): `[T, D]` -> `[T, D * k]`."""
    T = len(x)
    padded = np.pad(x, ((past, future), (0, 0)), mode="edge")
    offsets = sorted(set(range(0, past + future + 1, step)) | {past})  # always frame t itself
    return np.concatenate([padded[k:k + T] for k in offsets], axis=1)


def context_ridge_mse(X, Y, past=0, future=0, n_test=20, ridge=1e-3, step=1):
    """Hardness probe: test loss of a linear (ridge) map from a window of input frames.

    Each utterance is standardized (:func:`~tf1_birnn.data.helpers.Standardize`), the frames
    ``t-past..t+future`` of `X` are stacked and mapped linearly to `Y[t]`; the first
    ``n_test`` utterances are the test set (the tutorial's split).

    Args:
        X, Y: lists of arrays `[n_frames, D_input]` and `[n_frames, D_label]`.
        past, future: frames of context before and after ``t``.
        step: use every ``step``-th frame of the window (a faster, coarser probe).
        n_test: number of leading test utterances.
        ridge: L2 penalty per training frame.

    Returns:
        dict with ``mse`` (mean over test utterances of the per-utterance MSE over all
        label channels, the tutorial's loss) and ``position_mse`` (the same over the first 8
        channels; ``1 - position_mse`` is the share of position variance explained).
    """
    feats = [_windows(Standardize(x), past, future, step) for x in X]
    labels = [Standardize(y) for y in Y]
    A = np.concatenate(feats[n_test:])  # [n_train_frames, n_features]
    B = np.concatenate(labels[n_test:])  # [n_train_frames, D_label]
    A = np.concatenate([A, np.ones((len(A), 1))], axis=1)  # bias column
    gram = A.T @ A + ridge * len(A) * np.eye(A.shape[1])
    W = np.linalg.solve(gram, A.T @ B)  # [n_features + 1, D_label]
    errors = []
    for f, y in zip(feats[:n_test], labels[:n_test]):
        pred = np.concatenate([f, np.ones((len(f), 1))], axis=1) @ W
        errors.append(np.mean((pred - y) ** 2, axis=0))  # [D_label]
    errors = np.array(errors)
    return {"mse": float(errors.mean()), "position_mse": float(errors[:, :N_POSITIONS].mean())}
