"""Tests of the synthetic corpus (tf1_birnn.data.synthetic): layout, deltas, statistics, hardness."""
import json

import numpy as np
import pytest

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
    Y = np.load(path, allow_pickle=True, encoding="latin1")  # trusted reference file
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


def test_statistics_near_original(corpus):
    stats = reference_statistics()
    Y = np.concatenate(corpus[1]).astype(np.float64)
    np.testing.assert_allclose(Y.mean(axis=0)[:8], stats["channel_mean"][:8], atol=0.1)
    np.testing.assert_allclose(Y.std(axis=0)[:8], stats["channel_std"][:8], rtol=0.02)
    np.testing.assert_allclose(Y.std(axis=0)[8:], stats["channel_std"][8:], rtol=0.45)
    corr = np.corrcoef(Y[:, :8].T)
    np.testing.assert_allclose(corr, stats["position_channel_correlation"], atol=0.15)
    standardized = [(y - y.mean(0)) / y.std(0) for y in corpus[1]]
    lag1 = sum((s[1:] * s[:-1]).sum(0) for s in standardized) / sum(
        (s * s).sum(0) for s in standardized)
    expected = stats["lag1_autocorrelation_after_per_utterance_standardization"]
    np.testing.assert_allclose(lag1, expected, atol=0.02)


def test_context_from_both_sides_helps(corpus):
    """Ridge probe on the tutorial split: single frame > past window > symmetric window."""
    X, Y = corpus
    single = context_ridge_mse(X, Y, past=0, future=0)
    past = context_ridge_mse(X, Y, past=10, future=0, step=2)
    both = context_ridge_mse(X, Y, past=10, future=10, step=2)
    assert single["mse"] - past["mse"] > 0.04
    assert past["mse"] - both["mse"] > 0.06
    assert both["position_mse"] < 0.55  # learnable: > 45 % of position variance explained
    assert single["position_mse"] > 0.55  # but one frame is not enough
