"""What the tests share besides conftest's fixtures: a tiny learnable corpus (for the
loader, training, TensorBoard and CLI tests) and ``CELLS``, the cell classes by name."""
import numpy as np

from tf1_birnn.core.network import CELLS  # noqa: F401  ('gru', 'lstm') -> the cell class


def tiny_corpus(n=10, seed=0, D_input=39, D_label=24, lengths=None):
    """``n`` utterances of 8-16 frames (or of ``lengths`` frames, a list); labels are a
    smoothed linear map of the inputs. ``X[i]`` `[n_frames, D_input]`, ``Y[i]`` `[n_frames, D_label]`."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((D_input, D_label)) / np.sqrt(D_input)
    X, Y = [], []
    for k in range(n if lengths is None else len(lengths)):
        T = int(rng.integers(8, 17)) if lengths is None else lengths[k]
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
