"""How the synthetic corpus's per-channel settings were found: label statistics and a fit.

:mod:`tf1_birnn.data.synthetic` keeps four per-channel settings (``ANTICIPATION`` and
``CARRY_OVER``, ``DRIFT_SHARE``, ``SKEW_RATE``). :func:`calibrate_channels` finds them again:
it generates the labels only (no acoustics) for a few corpus seeds and moves each channel's
settings until its pooled statistics (:func:`label_dynamics`) meet the original's in
``resources/original_corpus.json``:

- the coarticulation pole sets the delta std (a slower articulator moves less per frame);
- the drift share sets the lag-10 autocorrelation (the slow drift keeps a channel correlated
  over 100 ms);
- the saturation rate sets the skewness.

Rerun it after changing anything else in the generator, and paste its result over the
module constants (``python -c "from tf1_birnn.data.calibration import calibrate_channels;
print(calibrate_channels())"``); ``tests/test_synthetic.py`` checks the result per seed.
"""
import numpy as np

from . import synthetic
from .helpers import Standardize
from .synthetic import deltas, reference_statistics

__all__ = ["label_dynamics", "lag_autocorrelation", "positions_of_seed", "calibrate_channels",
           "context_ridge_mse"]


def positions_of_seed(seed, params=None):
    """The 8 position channels of corpus ``seed``'s labels, without the acoustics (the same
    arrays as ``synthetic_corpus(seed)[1][i][:, :8]``, much faster): list of `[T, 8]`."""
    params = dict(synthetic.default_params(), **(params or {}))
    plans = synthetic._positions(params, np.random.default_rng(seed))
    return [pos for pos, _, _, _ in plans]


def lag_autocorrelation(P, lag):
    """Pooled lag-``lag`` autocorrelation `[D]` of per-utterance standardized arrays `[T, D]`."""
    s = [(p - p.mean(0)) / p.std(0) for p in P]
    return sum((a[lag:] * a[:-lag]).sum(0) for a in s) / sum((a * a).sum(0) for a in s)


def label_dynamics(P):
    """Statistics of position arrays ``P`` (list of `[T, 8]`), as ``original_corpus.json``'s
    ``dynamics_definitions`` define them: per channel the delta std, the lag-10
    autocorrelation after per-utterance standardization, the skewness, the share of the
    variance that lies between the utterances' means `[8]` each, and the velocity (delta)
    correlation matrix `[8, 8]`."""
    P = [np.asarray(p, np.float64) for p in P]
    D = np.concatenate([deltas(p) for p in P])
    allp = np.concatenate(P)
    centered = allp - allp.mean(0)
    return dict(position_delta_std=D.std(0),
                position_lag10_autocorrelation=lag_autocorrelation(P, 10),
                position_skewness=(centered ** 3).mean(0) / centered.std(0) ** 3,
                position_between_utterance_share=np.var([p.mean(0) for p in P], axis=0)
                / allp.var(0),
                velocity_channel_correlation=np.corrcoef(D.T))


def calibrate_channels(seeds=(0, 1, 2, 3, 4), iterations=10, start=None):
    """Fit the per-channel settings to the original's label statistics, pooled over ``seeds``.

    Returns a dict like :func:`~tf1_birnn.data.synthetic.default_params` (tuples `[8]`,
    rounded to 3 decimals) and, under ``"errors"``, what remains with these settings: the
    relative errors of the delta std and the lag-10 autocorrelation, the skewness difference.
    """
    stats = reference_statistics()
    want_d = np.array(stats["position_delta_std"])
    want_l = np.array(stats["position_lag10_autocorrelation"])
    want_s = np.array(stats["position_skewness"])
    p = {k: np.array(v, np.float64) for k, v in (start or synthetic.default_params()).items()}

    def pooled(params):  # mean over the seeds of delta std, lag-10 autocorrelation, skewness
        got = [label_dynamics(positions_of_seed(s, params)) for s in seeds]
        return [np.mean([g[key] for g in got], axis=0) for key in (
            "position_delta_std", "position_lag10_autocorrelation", "position_skewness")]

    for _ in range(iterations):
        d, lag, skew = pooled(p)
        tau = 1.0 / (1.0 - p["anticipation"]) * (d / want_d)  # delta std ~ 1 / time constant
        p["anticipation"] = p["carry_over"] = np.clip(1.0 - 1.0 / tau, 0.05, 0.95)
        p["drift_share"] = np.clip(p["drift_share"] + 1.5 * (want_l - lag), 0.02, 0.9)
        p["skew_rate"] = p["skew_rate"] + 0.4 * (skew - want_s)
    p = {k: np.round(v, 3) for k, v in p.items()}  # what is returned, and measured
    d, lag, skew = pooled(p)
    errors = dict(delta_std=d / want_d - 1.0, lag10=lag / want_l - 1.0, skew=skew - want_s)
    out = {k: tuple(round(float(x), 3) for x in v) for k, v in p.items()}
    out["errors"] = {k: np.round(v, 3).tolist() for k, v in errors.items()}
    return out


def _windows(x, past, future, step):
    """Stack frames t-past..t+future every ``step`` (edge padded): `[T, D]` -> `[T, D * k]`."""
    T = len(x)
    padded = np.pad(x, ((past, future), (0, 0)), mode="edge")
    offsets = sorted(set(range(0, past + future + 1, step)) | {past})  # always frame t itself
    return np.concatenate([padded[k:k + T] for k in offsets], axis=1)


def context_ridge_mse(X, Y, past=0, future=0, n_test=20, ridge=1e-3, step=1,
                      random_features=0, seed=0):
    """Hardness probe: test loss of a ridge map from a window of input frames.

    Each utterance is standardized (:func:`~tf1_birnn.data.helpers.Standardize`), the frames
    ``t-past..t+future`` of `X` are stacked and mapped to `Y[t]`; the first ``n_test``
    utterances are the test set (the tutorial's split). With ``random_features=0`` the map
    is linear; with ``random_features=n`` the ridge also sees ``n`` fixed random ReLU
    features of the window, ``relu(w . x + b)`` (``w`` normal with std ``1/sqrt(dim)``, ``b``
    normal, from ``seed``): the simplest nonlinear model, which shows how much a
    nonlinear map can gain over a linear one on the same context.

    Args:
        X, Y: lists of arrays `[n_frames, D_input]` and `[n_frames, D_label]`.
        past, future: frames of context before and after ``t``.
        step: use every ``step``-th frame of the window (a faster, coarser probe).
        random_features, seed: see above.
        n_test: number of leading test utterances.
        ridge: L2 penalty per training frame.

    Returns:
        dict with ``mse`` (mean over test utterances of the per-utterance MSE over all
        label channels, the tutorial's loss) and ``position_mse`` (the same over the first 8
        channels; ``1 - position_mse`` is the share of position variance explained).
    """
    feats = [_windows(Standardize(x), past, future, step) for x in X]
    if random_features:
        rng = np.random.default_rng(seed)
        dim = feats[0].shape[1]
        W = rng.normal(0.0, 1.0 / np.sqrt(dim), (dim, random_features))
        b = rng.normal(0.0, 1.0, random_features)
        feats = [np.concatenate([f, np.maximum(f @ W + b, 0.0)], axis=1) for f in feats]
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
    return {"mse": float(errors.mean()), "position_mse": float(errors[:, :synthetic.N_POSITIONS].mean())}
