"""The tutorial's data helpers: ``Standardize``, ``data_prer``, ``shufflelists`` and the split.

These follow the data idiom of the tutorial's code LV1 (YJango's *tensorflow_basic_tutorial*,
"循环神经网络——双向LSTM&GRU" continues it): every utterance is standardized on its own, the
input of one utterance becomes a batch of one sequence ``[1, n_frames, D_input]`` (the LV2
network reads ``[n_samples, n_steps, D_input]`` with ``n_samples = 1``), its labels stay
``[n_frames, D_label]``, the first 20 % of the utterances are the test set, and the training
utterances are shuffled with ``np.random.permutation`` before each epoch.

Deliberate differences from the tutorial:

* ``Standardize`` divides a constant channel by 1 instead of 0, so it becomes 0 and not NaN.
* ``shufflelists`` returns a Python list (``np.array`` of ragged pairs fails in NumPy >= 1.24)
  and accepts an optional ``rng`` so a run can be repeated without touching the global seed.
"""

import numpy as np

__all__ = ["Standardize", "data_prer", "shufflelists", "train_test_split", "check_split",
           "cut_corpus"]


def Standardize(seq):
    """Standardize one utterance channel by channel.

    Args:
        seq: array-like `[n_frames, D]`.

    Returns:
        float64 array `[n_frames, D]` whose channels have mean 0 and std 1. A constant
        channel (std 0) is divided by 1 instead, so it becomes all zeros instead of NaN.
    """
    seq = np.asarray(seq, dtype=np.float64)
    if seq.ndim != 2:
        raise ValueError(f"Standardize expects a 2-D array [n_frames, D]; got shape {seq.shape}")
    centered = seq - seq.mean(axis=0)  # [n_frames, D]
    std = centered.std(axis=0)  # [D]
    std[std == 0] = 1.0  # constant channel: 0 / 1 = 0, not 0 / 0 = NaN
    return centered / std


def data_prer(X, Y):
    """Pair and standardize every utterance, as the tutorial's ``data_prer`` does.

    Args:
        X: sequence of input arrays, each `[n_frames, D_input]`.
        Y: sequence of label arrays, each `[n_frames, D_label]` (same `n_frames` per pair).

    Returns:
        list of `[x, y]` pairs: `x` float32 `[1, n_frames, D_input]`, `y` float32
        `[n_frames, D_label]`, both standardized per utterance with :func:`Standardize`.
    """
    if len(X) != len(Y):
        raise ValueError(f"X has {len(X)} utterances but Y has {len(Y)}")
    data = []
    for i, (x, y) in enumerate(zip(X, Y)):
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
            raise ValueError(
                f"utterance {i}: expected X [n_frames, D_input] and Y [n_frames, D_label] "
                f"with the same n_frames; got {x.shape} and {y.shape}")
        D_input = x.shape[1]
        x_std = Standardize(x).reshape((1, -1, D_input)).astype(np.float32)  # [1, n_frames, D_input]
        y_std = Standardize(y).astype(np.float32)  # [n_frames, D_label]
        data.append([x_std, y_std])
    return data


def shufflelists(data, rng=None):
    """Return the items of ``data`` in a random order (``np.random.permutation``).

    Args:
        data: list of `[x, y]` pairs (or any sequence).
        rng: optional ``np.random.Generator``; by default the global NumPy random state is
            used, as in the tutorial (so ``np.random.seed`` makes it repeatable).

    Returns:
        a new list with the same items, permuted.
    """
    permutation = np.random.permutation if rng is None else rng.permutation
    ri = permutation(len(data))
    return [data[i] for i in ri]


def train_test_split(data, test_fraction=0.2):
    """Split utterances with the tutorial's rule: the first ``int(len * test_fraction)`` are test.

    With the 103 utterances of the corpus this gives 20 test and 83 train utterances.

    Returns:
        ``(train, test)``: ``data[n_test:]`` and ``data[:n_test]``.
    """
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1); got {test_fraction!r}")
    n_test = int(len(data) * test_fraction)
    return data[n_test:], data[:n_test]


def check_split(n, test_fraction=0.2):
    """Refuse a corpus of ``n`` utterances whose split (``train_test_split``) leaves no train
    or no test utterance: a loss over nothing is no result."""
    train, test = train_test_split(range(n), test_fraction)
    if not train or not test:
        raise ValueError(f"the corpus has {n} utterance(s): the tutorial's split (the first "
                         f"20 % are test) leaves {len(train)} train and {len(test)} test "
                         "utterances; give at least 5")


def cut_corpus(X, Y, max_utterances=None, max_frames=None):
    """The first ``max_utterances`` utterances, each cut to its first ``max_frames`` frames
    (``None``: no limit); for quick experiments and tests."""
    n = len(X) if max_utterances is None else min(max_utterances, len(X))
    f = slice(None, max_frames)
    return [x[f] for x in X[:n]], [y[f] for y in Y[:n]]
