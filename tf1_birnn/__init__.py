"""tf1_birnn: the bidirectional LSTM/GRU tutorial (YJango, RNN LV2) on TensorFlow 2's
``tf.compat.v1``: fused-gate ``LSTMcell``/``GRUcell``, ``RNN`` with ``tf.scan``, the
tutorial's networks, data, training and TensorBoard logging."""
from .cells import GRUcell, LSTMcell
from .initializers import bias_init, orthogonal_initializer, weight_init, zero_init
from .network import Network, build_network
from .rnn import RNN

__version__ = "0.1.0"
__all__ = ["LSTMcell", "GRUcell", "RNN", "weight_init", "bias_init", "zero_init",
           "orthogonal_initializer", "build_network", "Network"]
