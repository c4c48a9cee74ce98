"""Tests of the synthetic corpus (tf1_birnn.data.synthetic): layout, deltas, statistics, hardness."""
import json

import numpy as np
import pytest

from tf1_birnn.data import synthetic
from tf1_birnn.data.loader import read_object_npy
from tf1_birnn.data.synthetic import (context_ridge_mse, deltas, reference_statistics,
                                      synthetic_corpus)

from conftest import shared_reference_dir

REFERENCE = shared_reference_dir()


@pytest.fixture(scope="module")
def corpus():
    return synthetic_corpus(seed=0)


def deltas_loop(c, N=2):
    """Direct transcription of the HTK formula, one frame at a time."""
    T = len(c)
    out = np.zeros_like(c, dtype=np.float64)
    for t in range(T):
        num = 0.0
        for n in range(1, N + 1):
            num = num + n * (c[min(t + n, T - 1)] - c[max(t - n, 0)])
        out[t] = num / (2 * sum(n * n for n in range(1, N + 1)))
    return out


def test_layout_matches_original(corpus):
    X, Y = corpus
    lengths = reference_statistics()["utterance_lengths_in_file_order"]
    assert len(X) == len(Y) == 103
    assert [len(x) for x in X] == lengths == [len(y) for y in Y]
    assert sum(lengths) == 39473
    assert all(x.shape[1] == 39 and x.dtype == np.float32 for x in X)
    assert all(y.shape[1] == 24 and y.dtype == np.float32 for y in Y)
    assert all(np.all(np.isfinite(a)) for a in X + Y)


def test_packaged_statistics_match_shared_reference():
    path = REFERENCE / "original_corpus.json"
    if not path.exists():
        pytest.skip(f"{path} not available")
    ref, ours = json.loads(path.read_text()), reference_statistics()
    for key in ("utterance_lengths_in_file_order", "channel_mean", "channel_std",
                "position_channel_correlation"):
        assert ours[key] == ref[key]


@pytest.mark.parametrize("N", [1, 2, 3])
def test_deltas_match_loop(N):
    c = np.random.default_rng(N).normal(size=(9, 3))
    np.testing.assert_allclose(deltas(c, N), deltas_loop(c, N), atol=1e-12)


def test_deltas_rejects_bad_input():
    with pytest.raises(ValueError, match="0"):
        deltas(np.zeros((4, 2)), N=0)
    with pytest.raises(ValueError, match=r"\(4,\)"):
        deltas(np.zeros(4))


def test_deltas_reproduce_original_labels():
    path = REFERENCE / "original_Y.npy"
    if not path.exists():
        pytest.skip(f"{path} not available")
    Y = read_object_npy(path)  # the safe loader, no pickle execution
    for y in Y[:10]:
        d = deltas(y[:, :8])
        np.testing.assert_allclose(d, y[:, 8:16], atol=1e-3)
        np.testing.assert_allclose(deltas(d), y[:, 16:24], atol=1e-3)


def test_labels_are_positions_with_deltas(corpus):
    for y in corpus[1][:5]:
        d = deltas(y[:, :8])
        np.testing.assert_allclose(y[:, 8:16], d, atol=1e-4)
        np.testing.assert_allclose(y[:, 16:], deltas(d), atol=1e-4)


@pytest.mark.slow
def test_deterministic_and_seed_dependent(corpus):
    X, Y = corpus
    X2, Y2 = synthetic_corpus(seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(X + Y, X2 + Y2))
    X3, Y3 = synthetic_corpus(seed=1)
    assert not np.array_equal(X[0], X3[0]) and not np.array_equal(Y[0], Y3[0])


def lag_autocorrelation(positions, lag):
    """Pooled lag-``lag`` autocorrelation `[8]` of per-utterance standardized positions."""
    s = [(p - p.mean(0)) / p.std(0) for p in positions]
    return sum((a[lag:] * a[:-lag]).sum(0) for a in s) / sum((a * a).sum(0) for a in s)


def skewness(a):
    a = a - a.mean(0)
    return (a ** 3).mean(0) / a.std(0) ** 3


def dynamics(Y):
    """The statistics of ``resources/original_corpus.json``'s ``dynamics_definitions``."""
    P = [np.asarray(y[:, :8], np.float64) for y in Y]
    D = np.concatenate([np.asarray(y[:, 8:16], np.float64) for y in Y])
    return dict(position_delta_std=D.std(0), position_lag10_autocorrelation=lag_autocorrelation(P, 10),
                position_skewness=skewness(np.concatenate(P)),
                velocity_channel_correlation=np.corrcoef(D.T))


def test_packaged_dynamics_match_original_labels():
    """The JSON's dynamics are those of the real Y.npy (only where the file is available)."""
    path = REFERENCE / "original_Y.npy"
    if not path.exists():
        pytest.skip(f"{path} not available")
    ours, real = reference_statistics(), dynamics(read_object_npy(path))
    for key, value in real.items():
        np.testing.assert_allclose(ours[key], value, atol=0.006, err_msg=key)


def positions_of_seed(seed):
    """Labels of corpus ``seed`` without the acoustics (the same arrays, much faster)."""
    plans = synthetic._positions(synthetic.default_params(), np.random.default_rng(seed))
    return [np.concatenate([pos, deltas(pos)], axis=1) for pos, _, _, _ in plans]


def test_labels_without_acoustics_are_the_corpus_labels(corpus):
    for y, y2 in zip(corpus[1], positions_of_seed(0)):
        np.testing.assert_array_equal(y[:, :16], y2.astype(np.float32))


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_dynamics_calibrated_per_channel(seed):
    """Per position channel, against the original's statistics: delta std and lag-10
    autocorrelation within 10 %, skewness of the same sign within 0.25 (it varies that much
    between corpus seeds), velocity correlations near their own matrix."""
    stats, ours = reference_statistics(), dynamics(positions_of_seed(seed))
    np.testing.assert_allclose(ours["position_delta_std"], stats["position_delta_std"], rtol=0.1)
    np.testing.assert_allclose(ours["position_lag10_autocorrelation"],
                               stats["position_lag10_autocorrelation"], rtol=0.1)
    real_skew = np.array(stats["position_skewness"])
    assert np.all(np.sign(ours["position_skewness"]) == np.sign(real_skew))
    np.testing.assert_allclose(ours["position_skewness"], real_skew, atol=0.25)
    velocity = np.array(stats["velocity_channel_correlation"])
    np.testing.assert_allclose(ours["velocity_channel_correlation"], velocity, atol=0.13)


def test_velocity_correlations_are_their_own(corpus):
    """The velocities follow the original's velocity correlations, not a copy of the
    position correlations: channels 7 and 6, 7 and 0 differ in the original."""
    stats = reference_statistics()
    D = np.concatenate([y[:, 8:16] for y in corpus[1]]).astype(np.float64)
    ours = np.corrcoef(D.T)
    velocity = np.array(stats["velocity_channel_correlation"])
    position = np.array(stats["position_channel_correlation"])
    assert np.abs(ours - velocity).mean() < np.abs(ours - position).mean()


def test_no_frame_is_still(corpus):
    """Silences carry no acoustics, but the articulators keep moving: no frame repeats."""
    for y in corpus[1]:
        assert np.all(np.abs(np.diff(y[:, :8], axis=0)).max(axis=1) > 0)


def test_statistics_near_original(corpus):
    stats = reference_statistics()
    Y = np.concatenate(corpus[1]).astype(np.float64)
    np.testing.assert_allclose(Y.mean(axis=0)[:8], stats["channel_mean"][:8], atol=0.1)
    np.testing.assert_allclose(Y.std(axis=0)[:8], stats["channel_std"][:8], rtol=0.02)
    np.testing.assert_allclose(Y.std(axis=0)[8:16], stats["channel_std"][8:16], rtol=0.1)
    # delta-deltas: 1.2-1.5x the original's (the coarticulation kernel has a corner at lag 0),
    # a departure stated in the module docstring
    assert np.all(Y.std(axis=0)[16:] / stats["channel_std"][16:] < 1.6)
    assert np.all(Y.std(axis=0)[16:] / stats["channel_std"][16:] > 1.0)
    corr = np.corrcoef(Y[:, :8].T)
    np.testing.assert_allclose(corr, stats["position_channel_correlation"], atol=0.08)
    standardized = [(y - y.mean(0)) / y.std(0) for y in corpus[1]]
    lag1 = sum((s[1:] * s[:-1]).sum(0) for s in standardized) / sum(
        (s * s).sum(0) for s in standardized)
    expected = stats["lag1_autocorrelation_after_per_utterance_standardization"]
    np.testing.assert_allclose(lag1[:8], expected[:8], atol=0.015)
    # deltas and delta-deltas are less smooth than the original's (the coarticulation
    # kernel's corner at lag 0; stated in the module docstring): up to 0.05 and 0.1 lower
    assert np.all(np.array(expected[8:16]) - lag1[8:16] < 0.06)
    assert np.all(np.array(expected[16:]) - lag1[16:] < 0.11)


def test_acoustics_are_synchronous_and_both_sides_help(corpus):
    """Ridge probes on the tutorial split. The acoustics are not delayed, so 10 frames of
    past and 10 of future help about equally; both sides together help more (coarticulation:
    the articulators anticipate the next target and carry over the last)."""
    X, Y = corpus
    single = context_ridge_mse(X, Y, past=0, future=0)
    past = context_ridge_mse(X, Y, past=10, future=0, step=2)
    future = context_ridge_mse(X, Y, past=0, future=10, step=2)
    both = context_ridge_mse(X, Y, past=10, future=10, step=2)
    assert abs(past["mse"] - future["mse"]) < 0.03
    assert single["mse"] - min(past["mse"], future["mse"]) > 0.04
    assert min(past["mse"], future["mse"]) - both["mse"] > 0.01
    assert both["position_mse"] < 0.6  # informative: > 40 % of position variance explained
