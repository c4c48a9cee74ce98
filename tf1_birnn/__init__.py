"""tf1_birnn: the bidirectional LSTM/GRU tutorial (YJango, RNN LV2) on TensorFlow 2's
``tf.compat.v1``: fused-gate ``LSTMcell``/``GRUcell``, ``RNN`` with ``tf.scan``, the
tutorial's networks, data, training and TensorBoard logging."""
from .core.cells import GRUcell, LSTMcell
from .data.helpers import Standardize, data_prer, shufflelists, train_test_split
from .core.initializers import bias_init, orthogonal_initializer, weight_init, zero_init
from .data.loader import DataError, load_npz, load_original
from .core.network import Network, build_network
from .core.rnn import RNN
from .data.synthetic import synthetic_corpus

__version__ = "0.1.0"
__all__ = ["LSTMcell", "GRUcell", "RNN", "weight_init", "bias_init", "zero_init",
           "orthogonal_initializer", "build_network", "Network", "synthetic_corpus",
           "load_original", "load_npz", "DataError", "Standardize", "data_prer",
           "shufflelists", "train_test_split"]
