"""Synthetic stand-in for the tutorial's corpus (MFCC `X` -> articulatory trajectories `Y`).

**This corpus is synthetic.** The tutorial ("循环神经网络——双向LSTM&GRU", YJango) trains on
103 utterances of 39-dim MFCC frames (``X.npy``) and 24-dim electromagnetic-articulography
labels (``Y.npy``), public in the tutorial's repository under GPL-3.0 but not shipped here
(``tf1-birnn fetch-data`` downloads them). :func:`synthetic_corpus` makes a corpus with the
same layout so that every notebook and test runs without them:

* the same 103 utterance lengths in the same file order (39473 frames, first 20 = test);
* ``Y`` `[n_frames, 24]`: 8 coordinates of 4 sensors (x at channels 0, 2, 4, 6; y at 1, 3,
  5, 7), then their HTK deltas (:func:`deltas`), then the deltas of the deltas, like the
  original. Each position is the sum of two parts:

  - phone targets (gamma durations, mean 10 frames at 100 frames/s) correlated with the
    original's *velocity* correlation and smoothed by a two-sided coarticulation kernel
    (:func:`_coarticulation_kernel`): the articulators move towards a target before it is
    reached (anticipation) and its effect lingers after it (carry-over);
  - a smooth posture drift (a double pole ``DRIFT_POLE``, about 0.7 s) whose correlation is
    chosen so that the sum comes near the original's *position* correlation. It never
    stops: silences carry no acoustics, but no frame is exactly still. Being smooth, it adds
    little to the velocities, which keep the targets' correlation;

  then a Gaussian lowpass of ``SMOOTH_SIGMA`` = 2 frames (the articulators' mass: it removes
  the kernel's corner at lag 0, which made the delta-deltas too large and too rough) and a
  saturating transform per channel (an articulator pressed against the palate) that gives
  the original's skewness; the channels are scaled to the original's means and stds. Every
  utterance starts from nearly the same rest posture (``REST_STD``), so that, as in the
  original, only about an eighth of the position variance lies between the utterances'
  means (with per-utterance standardization, the tutorial's, a larger share makes the labels'
  scale an unknown of each utterance).
  The per-channel settings (``ANTICIPATION``, ``CARRY_OVER``, ``DRIFT_SHARE``, ``SKEW_RATE``)
  come from :func:`tf1_birnn.data.calibration.calibrate_channels`: for corpus seeds 0-4, each
  position channel's delta std and lag-10 autocorrelation are within 10 % of the original's
  (channel 1's lag-10 within 15 %; pooled over the seeds within 10 %), its skewness within 0.25 and its between-utterance share within 0.09
  (``tests/test_synthetic.py``). The statistics are in ``resources/original_corpus.json``
  (statistics only: the original data is not shipped);
* ``X`` `[n_frames, 39]`: 13 cepstra + deltas + delta-deltas made from the articulation, frame
  by frame and synchronously (up to a per-utterance misalignment of -1..+1 frames), by the
  nonlinear forward model of :mod:`tf1_birnn.data.synthetic_acoustics`: saturating units,
  folded (many-to-one) units, formants with plateaus (quantal regions), spectral envelope,
  source, log mel, DCT. Silences at the edges and in pauses carry only the noise floor;
  voiced/unvoiced phones, varying pitch and loudness, measurement noise. A frame alone does
  not determine the articulation; past and future context help about equally, and both
  together more; and a nonlinear map of ONE frame (random ReLU features) beats a linear map
  of 21 frames (the folded units are invisible to a linear map): see
  :func:`tf1_birnn.data.calibration.context_ridge_mse` and docs/results.md.

Where it departs from the original on purpose: the articulation has no phonetic content, no
speaker and no head movement; the anticipation and carry-over are symmetric; the
delta-deltas' stds are 0.91-1.06 times the original's and their lag-1 autocorrelations
0.94-0.97 (the original's 0.95-0.96; deltas 0.97-0.99, the same as the original's); the
position correlation of channel 7 with channels 4 and 6 is 0.20 and 0.02 against 0.31 and
0.17 (the drift is too small a share of those channels to supply it); the lag-10
autocorrelation of channel 1 (the original's least persistent, 0.37) is up to 11 % high;
the difficulty depends on the corpus seed (the +/-10-frame ridge probe gives 0.472 for
seed 0 and 0.516-0.550 for seeds 1-4, docs/results.md); the velocity correlation is
matched only approximately (within about 0.13); the "acoustics" are far simpler than
speech, and their nonlinearity (a fixed random network, ``MODEL_SEED``) is invented, not
measured. Numbers obtained on it (losses, curves) are not the blog's numbers;
only the qualitative ordering is comparable.
"""

import functools
import importlib.resources
import json

import numpy as np

from .synthetic_acoustics import cepstra

__all__ = ["deltas", "reference_statistics", "synthetic_corpus", "default_params"]

N_POSITIONS = 8  # 4 sensors x (x, y)
MEAN_PHONE = 10.0  # mean phone duration in frames (100 frames/s)
EDGE_SILENCE = (5, 25)  # frames of silence before and after speech
PAUSE_RATE = 0.03  # probability of a pause after a phone
ACOUSTIC_JITTER = 1  # per-utterance misalignment of the acoustics, -1..+1 frames
VOICED_PROB = 0.8  # share of voiced phones
SILENCE_TARGET_STD = 0.25  # spread of the rest posture between pauses (target std = 1)
REST_STD = 0.1  # spread of the rest posture between utterances (target std = 1)
DRIFT_POLE = 0.97  # double pole of the posture drift (about 0.7 s)
SMOOTH_SIGMA = 2.0  # std in frames of the Gaussian that smooths the articulation (muscle lowpass)
# Per position channel (x0, y0, ..., x3, y3), calibrated against the original Y.npy by
# tf1_birnn.data.calibration.calibrate_channels (rerun it after changing the generator):
ANTICIPATION = (0.626, 0.522, 0.672, 0.642, 0.692, 0.619, 0.697, 0.594)  # pole before a target (look-ahead)
CARRY_OVER = (0.626, 0.522, 0.672, 0.642, 0.692, 0.619, 0.697, 0.594)  # pole after a target (lingering)
DRIFT_SHARE = (0.219, 0.02, 0.133, 0.177, 0.06, 0.157, 0.02, 0.162)  # variance share of the slow drift
SKEW_RATE = (0.185, 0.203, 0.12, 0.102, 0.177, 0.093, 0.19, -0.104)  # saturation of the skew transform


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


def _coarticulation_kernel(anticipation, carry_over, half=100):
    """Two-sided smoothing kernel `[2 * half + 1]`, index ``half`` = lag 0, sum 1.

    The position at frame t mixes the targets of frames t-half..t+half: a second-order decay
    with pole ``carry_over`` over past targets (a target's effect lingers) and one with pole
    ``anticipation`` over future targets (the articulators move towards a target before it
    is reached).
    """
    k = np.arange(half + 1)
    past = (k + 1.0) * carry_over ** k  # second-order lowpass impulse response
    future = (k + 1.0) * anticipation ** k
    kernel = np.concatenate([future[:0:-1], past])  # lags -half..half
    return kernel / kernel.sum()


def _smooth(u, sigma):
    """Gaussian lowpass of `[T, D]` along time (edge padded); ``sigma`` in frames, 0 = none."""
    if sigma <= 0:
        return u
    half = int(np.ceil(4 * sigma))
    g = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    padded = np.pad(u, ((half, half), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, j], g / g.sum(), "valid") for j in range(u.shape[1])],
                    axis=1)


def _nearest_correlation(C):
    """The correlation matrix nearest to symmetric ``C`` by eigenvalue clipping `[8, 8]`."""
    w, V = np.linalg.eigh((C + C.T) / 2.0)
    C = (V * np.clip(w, 1e-3, None)) @ V.T
    d = np.sqrt(np.diag(C))
    return C / np.outer(d, d)


def _mixing(stats, share):
    """Cholesky factors `[8, 8]` of the phone-target and the drift correlations.

    Phone targets move fast, so the velocities take their correlation; the drift is chosen
    so that the positions (a ``share``-weighted sum of both) take the original's position
    correlation.
    """
    V = np.array(stats["velocity_channel_correlation"])
    P = np.array(stats["position_channel_correlation"])
    a, b = np.sqrt(1.0 - share), np.sqrt(share)  # [8] weights of targets and drift
    C = (P - np.outer(a, a) * V) / np.outer(b, b)
    np.fill_diagonal(C, 1.0)
    return np.linalg.cholesky(V), np.linalg.cholesky(_nearest_correlation(C))


def _skew(u, rate):
    """Saturating transform `[T, 8]`: ``(1 - exp(-rate * u)) / rate`` per channel.

    A positive rate squeezes high values (an articulator pressed against the palate or the
    teeth) and leaves a long tail of low ones: negative skewness; a negative rate the reverse.
    """
    rate = np.asarray(rate, dtype=np.float64)
    safe = np.where(rate == 0.0, 1.0, rate)
    return np.where(rate == 0.0, u, -np.expm1(-safe * u) / safe)


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


def _articulation(T, mixing, rng, params):
    """Phone-target trajectories `[T, 8]`, slow drift `[T, 8]` and the plan of one utterance."""
    chol_targets, chol_drift = mixing
    segment, speech = _utterance_plan(T, rng)
    n_seg = segment[-1] + 1
    targets = rng.standard_normal((n_seg, N_POSITIONS)) @ chol_targets.T  # phone targets
    is_sil = np.zeros(n_seg, bool)
    is_sil[segment[~speech]] = True
    rest = REST_STD * rng.standard_normal(N_POSITIONS) @ chol_targets.T  # posture in pauses
    targets[is_sil] = rest + SILENCE_TARGET_STD * rng.standard_normal(
        (is_sil.sum(), N_POSITIONS)) @ chol_targets.T
    u = targets[segment]  # [T, 8] piecewise constant
    half = 100
    padded = np.pad(u, ((half, half), (0, 0)), mode="edge")  # [T + 2 half, 8]
    fast = np.stack([np.convolve(padded[:, j], _coarticulation_kernel(
        params["anticipation"][j], params["carry_over"][j], half)[::-1], "valid")
        for j in range(N_POSITIONS)], axis=1)  # [T, 8]
    n_drift = 500  # the drift's impulse response (second order: smooth), truncated
    k = np.arange(n_drift)
    ar = (k + 1.0) * DRIFT_POLE ** k
    ar /= np.sqrt((ar * ar).sum())  # unit variance
    noise = rng.standard_normal((T + n_drift, N_POSITIONS)) @ chol_drift.T
    drift = np.stack([np.convolve(noise[:, j], ar, "valid")[1:]
                      for j in range(N_POSITIONS)], axis=1)  # [T, 8], unit variance
    return fast, drift, segment, speech


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


def default_params():
    """The generator's per-channel settings (module constants) as a dict of tuples `[8]`."""
    return dict(anticipation=ANTICIPATION, carry_over=CARRY_OVER, drift_share=DRIFT_SHARE,
                skew_rate=SKEW_RATE)


def _positions(params, rng):
    """Positions of every utterance: list of ``(pos, unit, segment, speech)``.

    ``pos`` `[T, 8]` has the original's channel means and stds, ``unit`` `[T, 8]` is the
    same standardized over the corpus, ``segment`` and ``speech`` `[T]` are the plan.
    """
    stats = reference_statistics()
    share = np.asarray(params["drift_share"])
    mixing = _mixing(stats, share)
    plans = [_articulation(T, mixing, rng, params)
             for T in stats["utterance_lengths_in_file_order"]]
    fast_std = np.concatenate([f for f, _, _, _ in plans]).std(axis=0)  # [8]
    plans = [(_skew(_smooth(np.sqrt(1.0 - share) * f / fast_std + np.sqrt(share) * drift,
                            SMOOTH_SIGMA), params["skew_rate"]), segment, speech)
             for f, drift, segment, speech in plans]  # positions [T, 8], about unit variance
    allp = np.concatenate([p for p, _, _ in plans])  # [total_frames, 8]
    p_mean, p_std = allp.mean(axis=0), allp.std(axis=0)
    mean = np.array(stats["channel_mean"][:N_POSITIONS])
    std = np.array(stats["channel_std"][:N_POSITIONS])
    out = []
    for p, segment, speech in plans:
        unit = (p - p_mean) / p_std  # [T, 8], corpus-wide mean 0 and std 1
        out.append((mean + std * unit, unit, segment, speech))  # the original's means, stds
    return out


def synthetic_corpus(seed=0, params=None):
    """Generate the synthetic corpus (see the module docstring for how and why).

    Args:
        seed: int seed; the same seed gives bitwise identical arrays.
        params: per-channel settings (:func:`default_params`, for calibration only).

    Returns:
        ``(X, Y)``: two lists of 103 float32 arrays, `X[i]` `[n_frames_i, 39]` and `Y[i]`
        `[n_frames_i, 24]`, with the original's frame counts in the original's file order.
    """
    rng = np.random.default_rng(seed)
    plans = _positions(dict(default_params(), **(params or {})), rng)
    X, Y = [], []
    for pos, unit, segment, speech in plans:
        d = deltas(pos)
        Y.append(np.concatenate([pos, d, deltas(d)], axis=1).astype(np.float32))
        shift = int(rng.integers(-ACOUSTIC_JITTER, ACOUSTIC_JITTER + 1))  # misalignment
        T = len(pos)
        heard = np.pad(unit, ((max(shift, 0), max(-shift, 0)), (0, 0)), mode="edge")
        heard = heard[max(-shift, 0):max(-shift, 0) + T]  # [T, 8], unit[t - shift]
        voiced, gain, f0 = _source(segment, speech, rng)
        c = cepstra(heard, voiced, gain, f0, rng)  # [T, 13]
        dc = deltas(c)
        X.append(np.concatenate([c, dc, deltas(dc)], axis=1).astype(np.float32))
    return X, Y
