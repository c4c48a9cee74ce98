"""tf1_birnn: the bidirectional LSTM/GRU tutorial (YJango, RNN LV2) on TensorFlow 2's
``tf.compat.v1``: fused-gate ``LSTMcell``/``GRUcell``, ``RNN`` with ``tf.scan``, the
tutorial's networks, data, training and TensorBoard logging.

``import tf1_birnn`` is cheap: the names below are imported on first use (PEP 562), so
``tf1-birnn --help`` never loads TensorFlow, and TensorFlow's C++ start-up log is kept
quiet when it does load (``tf1_birnn.quiet``; ``TF1_BIRNN_VERBOSE=1`` shows it).
"""
import importlib

from . import quiet

quiet.install()

__version__ = "0.1.0"
_HOMES = {  # public name -> the module that defines it
    "LSTMcell": "core.cells", "GRUcell": "core.cells", "RNN": "core.rnn",
    "weight_init": "core.initializers", "bias_init": "core.initializers",
    "zero_init": "core.initializers", "orthogonal_initializer": "core.initializers",
    "build_network": "core.network", "Network": "core.network",
    "synthetic_corpus": "data.synthetic", "load_original": "data.loader",
    "load_npz": "data.loader", "DataError": "data.loader", "Standardize": "data.helpers",
    "data_prer": "data.helpers", "shufflelists": "data.helpers",
    "train_test_split": "data.helpers",
}
__all__ = list(_HOMES)


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f"module 'tf1_birnn' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(_HOMES))
