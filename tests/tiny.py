"""A tiny learnable corpus for the training, TensorBoard and CLI tests."""
import numpy as np


def tiny_corpus(n=10, seed=0, D_input=39, D_label=24):
    """``n`` utterances of 8-16 frames; labels are a smoothed linear map of the inputs."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((D_input, D_label)) / np.sqrt(D_input)
    X, Y = [], []
    for _ in range(n):
        T = int(rng.integers(8, 17))
        x = rng.standard_normal((T, D_input))
        y = np.cumsum(x @ W, axis=0) / np.sqrt(np.arange(1, T + 1))[:, None]
        X.append(x.astype(np.float32))
        Y.append(y.astype(np.float32))
    return X, Y


def tiny_npz(path, **kwargs):
    """Write ``tiny_corpus(**kwargs)`` to ``path`` with the package's own ``save_npz``."""
    from tf1_birnn.data.loader import save_npz
    X, Y = tiny_corpus(**kwargs)
    save_npz(str(path), X, Y)
    return str(path)
