"""Tests of the tutorial's data helpers (tf1_birnn.data.helpers)."""
import numpy as np
import pytest

from tf1_birnn.data.helpers import Standardize, data_prer, shufflelists, train_test_split


def test_standardize_zero_mean_unit_std():
    rng = np.random.default_rng(0)
    seq = rng.normal(3.0, 5.0, (50, 4))
    out = Standardize(seq)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-12)


def test_standardize_constant_channel_becomes_zero_not_nan():
    seq = np.ones((10, 3))
    seq[:, 1] = np.arange(10)
    out = Standardize(seq)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out[:, 0], 0.0)
    np.testing.assert_array_equal(out[:, 2], 0.0)
    np.testing.assert_allclose(out[:, 1].std(), 1.0)


def test_standardize_rejects_1d():
    with pytest.raises(ValueError, match=r"\(5,\)"):
        Standardize(np.zeros(5))


def test_data_prer_shapes_and_dtypes():
    rng = np.random.default_rng(1)
    X = [rng.normal(size=(n, 39)) for n in (7, 12)]
    Y = [rng.normal(size=(n, 24)) for n in (7, 12)]
    data = data_prer(X, Y)
    assert len(data) == 2
    for (x, y), n in zip(data, (7, 12)):
        assert x.shape == (1, n, 39) and x.dtype == np.float32
        assert y.shape == (n, 24) and y.dtype == np.float32
        np.testing.assert_allclose(x[0], Standardize(X[0 if n == 7 else 1]), atol=1e-5)


def test_data_prer_mismatch_names_utterance():
    with pytest.raises(ValueError, match="utterance 1"):
        data_prer([np.zeros((3, 39)), np.zeros((4, 39))], [np.zeros((3, 24)), np.zeros((5, 24))])
    with pytest.raises(ValueError, match="2 utterances"):
        data_prer([np.zeros((3, 39))] * 2, [np.zeros((3, 24))])


def test_shufflelists_is_a_permutation_and_repeatable():
    data = list(range(20))
    out = shufflelists(data, rng=np.random.default_rng(3))
    assert sorted(out) == data and out != data
    assert out == shufflelists(data, rng=np.random.default_rng(3))
    np.random.seed(5)
    a = shufflelists(data)
    np.random.seed(5)
    assert a == shufflelists(data)


def test_train_test_split_tutorial_rule():
    data = list(range(103))
    train, test = train_test_split(data)
    assert len(test) == 20 and len(train) == 83
    assert test == list(range(20)) and train == list(range(20, 103))
    with pytest.raises(ValueError, match="1.5"):
        train_test_split(data, 1.5)
