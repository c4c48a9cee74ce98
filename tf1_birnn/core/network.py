"""The tutorial's networks, built in a ``tf.compat.v1`` graph.

- ``'birnn'`` (the tutorial's LV2 network): ``inputs`` `[n_samples, n_steps, D_input]` ->
  ``n_ff`` ReLU layers of ``num_units`` -> ``n_layers`` bidirectional RNN layers -> ``n_ff``
  ReLU layers -> linear ``D_label``, dropout after every hidden layer, MSE + ``L2_penalty`` *
  L2 of the dense weights, Adam. ``cell_dropout`` ('variational' or 'candidate') adds dropout
  inside the RNN cells (``tf1_birnn.core.dropout``), one mask per utterance, at the keep rate
  ``cell_keep_rate`` (a placeholder that defaults to ``dropout_keep``; a run's
  ``--cell-keep-rate`` feeds its own): evaluation feeds 1.0, which is exactly the network
  without it.
- ``'lv1'`` (the tutorial's LV1 network): one forward RNN layer (an LSTM by default) ->
  linear, plain MSE, Adam.
- ``'ff'`` (a feedforward baseline): the LV2 network without its RNN layers.

Placeholders are named as in the tutorial: "inputs", "labels" `[n_samples*n_steps, D_label]`,
"dropout_keep"; and "sequence_length" `[n_samples]`: with ``variable_length=True`` it must be
fed and the loss is the mean over utterances of each utterance's MSE on its real frames only;
otherwise it defaults to full lengths and the loss is the tutorial's, and only evaluation
feeds it (``per_utterance_loss`` of padded minibatches).

Where this differs from the tutorial:

- the RNN output is transposed back to `[n_samples, n_steps, D]` before it is flattened, so
  that rows line up with ``labels`` when ``n_samples > 1`` (the tutorial reshapes the
  time-major tensor, which is only right for one utterance per step);
- stacked layers feed each layer the previous layer's output. The tutorial's example feeds
  ``inputs_T`` to both layers, so its first layer is dead code; ``stacking='tutorial'``
  rebuilds exactly that for comparison;
- with ``merge='concat'`` the next layer takes ``2*num_units`` inputs.

``build_network`` takes one ``NetworkConfig`` (``tf1_birnn.core.config``; a run's ``RunConfig``
is one), so the object the command line made is the one the graph is built from, or the same
settings as keyword arguments (the tutorial's way, and the notebooks').
"""
from collections import namedtuple
from dataclasses import dataclass, field

import tensorflow as tf

from .cells import GRUcell, LSTMcell
from .config import ARCHS, NetworkConfig, network_config
from .initializers import bias_init, orthogonal_initializer, weight_init
from .rnn import RNN, frame_mask

__all__ = ["Network", "build_network", "ARCHS", "ARCH_PARTS", "CELLS"]

CELLS = {"gru": GRUcell, "lstm": LSTMcell}

Parts = namedtuple("Parts", "rnn rnn_dropout")
# arch -> what the network has besides its settings: RNN layers, dropout on the RNN's output
ARCH_PARTS = {"birnn": Parts(rnn=True, rnn_dropout=True), "lv1": Parts(rnn=True, rnn_dropout=False),
              "ff": Parts(rnn=False, rnn_dropout=False)}


@dataclass
class Network:
    """Handles to one built network (all tensors live in the graph it was built in)."""
    inputs: tf.Tensor  # [n_samples, n_steps, D_input]
    labels: tf.Tensor  # [n_samples*n_steps, D_label]
    drop_keep_rate: tf.Tensor  # scalar keep probability of dropout
    output: tf.Tensor  # [n_samples*n_steps, D_label]
    loss: tf.Tensor  # scalar mean squared error
    per_utterance_loss: tf.Tensor  # [n_samples] each utterance's MSE
    train_step: tf.Operation
    L2_total: tf.Tensor
    sequence_length: tf.Tensor = None  # [n_samples]; defaults to full lengths unless variable_length
    cells: list = field(default_factory=list)  # the RNN cells, layer by layer (fw, bw)
    weights: dict = field(default_factory=dict)  # name -> dense weight or bias variable
    config: dict = field(default_factory=dict)  # the NetworkConfig's fields it was built from
    relu_outputs: dict = field(default_factory=dict)  # layer -> ReLU output [n_rows, num_units]
    cell_keep_rate: tf.Tensor = None  # keep rate inside the cells (None without cell_dropout)


def _as_config(config, settings):
    """The ``NetworkConfig`` to build: ``config`` as it is, or one made of ``settings`` (an
    arch name as ``config`` is ``arch=``, as in ``build_network('lv1')``)."""
    if isinstance(config, NetworkConfig):
        if settings:
            raise TypeError(f"build_network takes a NetworkConfig or keyword settings, not "
                            f"both; got a {type(config).__name__} and {sorted(settings)}")
        return config
    if config is None:
        return network_config(**settings)
    if isinstance(config, str):
        return network_config(config, **settings)
    raise TypeError(f"config must be a NetworkConfig (or an arch name); "
                    f"got {type(config).__name__}")


def _rnn_sizes(c):
    """``(D_in, D_out)``: the size of the first RNN layer's input and of each RNN layer's
    output (``2*num_units`` for a bidirectional 'concat')."""
    D_in = c.num_units if c.n_ff else c.D_input
    D_out = 2 * c.num_units if (c.cell_b is not None and c.merge == "concat") else c.num_units
    return D_in, D_out


def _check_stacking(c):
    """Raise ``ValueError`` when ``stacking='tutorial'`` (every layer reads ``inputs_T``) has
    layers whose output size differs from their input's."""
    D_in, D_out = _rnn_sizes(c)
    if ARCH_PARTS[c.arch].rnn and c.stacking == "tutorial" and D_out != D_in:
        raise ValueError("stacking='tutorial' needs merge != 'concat' and num_units == the "
                         f"RNN input size; got {D_out} and {D_in}")


class _Dense:
    """The dense layers of one network, with the tutorial's initializers and dropout at the
    keep rate ``keep``; keeps every weight (``weights``) and ReLU output (``relu_outputs``)."""

    def __init__(self, keep, num_units):
        self.keep, self.num_units = keep, num_units
        self.weights, self.relu_outputs = {}, {}

    def dropout(self, x):
        return tf.nn.dropout(x, rate=1 - self.keep)

    def linear(self, x, D_in, D_out, name):
        """``x @ W + b``: `[n, D_in]` -> `[n, D_out]`, in the layer's name scope ``name``."""
        W = weight_init([D_in, D_out], name="W")
        b = bias_init([D_out], name="b")
        self.weights[f"{name}/W"], self.weights[f"{name}/b"] = W, b
        return tf.matmul(x, W) + b

    def relus(self, x, D_in, n, prefix):
        """``n`` ReLU layers ``<prefix>0``, ... of ``num_units``, each with dropout, its ops in
        its name scope: `[n_rows, D_in]` -> ``(h, D_h)``."""
        for k in range(n):
            name = f"{prefix}{k}"
            with tf.name_scope(name):
                self.relu_outputs[name] = tf.nn.relu(self.linear(x, D_in, self.num_units, name))
                x = self.dropout(self.relu_outputs[name])  # [n_rows, num_units]
            D_in = self.num_units
        return x, D_in


def _placeholders(c):
    """``inputs``, ``labels``, ``dropout_keep`` and ``sequence_length`` (see the module's
    docstring), and ``n_samples``, ``n_steps`` (scalar tensors)."""
    inputs = tf.compat.v1.placeholder(tf.float32, [None, None, c.D_input], name="inputs")
    labels = tf.compat.v1.placeholder(tf.float32, [None, c.D_label], name="labels")
    keep = tf.compat.v1.placeholder(tf.float32, name="dropout_keep")  # keep rate
    n_samples, n_steps = tf.shape(inputs)[0], tf.shape(inputs)[1]
    if c.variable_length:
        sequence_length = tf.compat.v1.placeholder(tf.int32, [None], name="sequence_length")
    else:  # every utterance full length unless fed: evaluation feeds it to batch utterances
        sequence_length = tf.compat.v1.placeholder_with_default(
            tf.fill([n_samples], n_steps), [None], name="sequence_length")
    return inputs, labels, keep, sequence_length, n_samples, n_steps


def _rnn_layers(c, h, D_h, sequence_length, dense, shape):
    """``n_layers`` RNN layers over ``h`` `[n_samples*n_steps, D_h]` (``shape``: ``(n_samples,
    n_steps)``), and the dropout on their output where ``arch`` has it: ``(out, cells,
    cell_keep)``, ``out`` `[n_samples*n_steps, D_out]` (``_rnn_sizes``), ``cell_keep`` the
    keep-rate placeholder of the dropout inside the cells (None without it)."""
    n_samples, n_steps = shape
    with tf.name_scope("inputs_T"):
        x_T = tf.transpose(tf.reshape(h, [n_samples, n_steps, D_h]), perm=[1, 0, 2])  # [n_steps, n_samples, D_h]
    layer_in, D_in = x_T, D_h
    D_out = _rnn_sizes(c)[1]
    cell_keep = None  # the keep rate inside the cells: dropout_keep unless fed
    cell_drop = dict(dropout=c.cell_dropout, keep_rate=dense.keep)  # 'none': read by no op
    if c.cell_dropout != "none":
        cell_keep = tf.compat.v1.placeholder_with_default(dense.keep, [], name="cell_keep_rate")
        cell_drop["keep_rate"] = cell_keep
    cells = []
    for layer in range(c.n_layers):
        with tf.name_scope(f"rnn{layer}"):
            with tf.name_scope("fw"):
                fcell = CELLS[c.cell](layer_in, D_in, c.num_units, orthogonal_initializer,
                                      **cell_drop)
            bcell = None
            if c.cell_b is not None:
                with tf.name_scope("bw"):
                    bcell = CELLS[c.cell_b](layer_in, D_in, c.num_units, orthogonal_initializer,
                                            **cell_drop)
            out = RNN(fcell, bcell, c.merge, sequence_length=sequence_length, fast=c.fast,
                      loops=c.loops)
        cells.append((fcell, bcell))
        if c.stacking == "true":
            layer_in, D_in = out, D_out
        # else the tutorial's example: every layer reads inputs_T (sizes: _check_stacking)
    with tf.name_scope("rnn_out"):
        # back to [n_samples, n_steps, D_out], then [n_samples*n_steps, D_out]
        h = tf.reshape(tf.transpose(out, perm=[1, 0, 2]), [-1, D_out])
        if ARCH_PARTS[c.arch].rnn_dropout:
            h = dense.dropout(h)
    return h, cells, cell_keep


def _loss(c, output, labels, sequence_length, shape, weights):
    """``(loss, per_utterance_loss, L2_total, objective)`` of ``output`` against ``labels``
    (see the module's docstring), in the name scope 'loss'."""
    n_samples, n_steps = shape
    with tf.name_scope("loss"):
        sq = tf.reshape((output - labels) ** 2, [n_samples, n_steps, c.D_label])
        mask = frame_mask(sequence_length, n_steps)  # [n_samples, n_steps]
        frames = tf.cast(sequence_length, tf.float32) * c.D_label
        # each utterance's MSE on its real frames `[n_samples]`
        per_utterance_loss = tf.reduce_sum(sq * mask[:, :, None], axis=[1, 2]) / frames
        if c.variable_length:
            loss = tf.reduce_mean(per_utterance_loss)
        else:
            loss = tf.reduce_mean((output - labels) ** 2)  # the tutorial's loss
        dense_W = [v for k, v in weights.items() if k.endswith("/W")]
        L2_total = tf.add_n([tf.nn.l2_loss(W) for W in dense_W])
        objective = loss + c.L2_penalty * L2_total  # what Adam minimizes
    return loss, per_utterance_loss, L2_total, objective


def build_network(config=None, **settings):
    """Build a network in the default graph and return a ``Network``.

    ``config``: a ``NetworkConfig`` (or a subclass, such as a run's ``RunConfig``), used as it
    is; or, instead, its fields as keyword ``settings`` (their help says what each is for;
    ``build_network(arch='lv1', num_units=128)``), checked by ``network_config``: ``arch``'s
    own defaults (``ARCH_SETTINGS``: the 'lv1' network is one LSTM layer, no ReLU layers, no
    L2) fill what is not given, and a setting that ``arch`` has no use for is refused. Every
    check runs before the graph is built. ``sequence_length`` values fed with
    ``variable_length=True`` must be >= 1.
    """
    c = _as_config(config, settings)
    _check_stacking(c)  # every setting checked, before any graph op
    inputs, labels, keep, sequence_length, *shape = _placeholders(c)
    dense = _Dense(keep, c.num_units)
    h, D_h = dense.relus(tf.reshape(inputs, [-1, c.D_input]), c.D_input, c.n_ff, "ff_in")
    cells, cell_keep = [], None
    if ARCH_PARTS[c.arch].rnn:
        h, cells, cell_keep = _rnn_layers(c, h, D_h, sequence_length, dense, shape)
        D_h = _rnn_sizes(c)[1]
    h, D_h = dense.relus(h, D_h, c.n_ff, "ff_out")  # feedforward layers after the RNN
    with tf.name_scope("output"):
        output = dense.linear(h, D_h, c.D_label, "output")  # [n_samples*n_steps, D_label]
    loss, per_utterance_loss, L2_total, objective = _loss(c, output, labels, sequence_length,
                                                          shape, dense.weights)
    train_step = tf.compat.v1.train.AdamOptimizer(c.learning_rate).minimize(objective)
    return Network(inputs=inputs, labels=labels, drop_keep_rate=keep, output=output,
                   loss=loss, per_utterance_loss=per_utterance_loss, train_step=train_step,
                   L2_total=L2_total, sequence_length=sequence_length, cells=cells,
                   weights=dense.weights, config=c.network_settings(),
                   relu_outputs=dense.relu_outputs, cell_keep_rate=cell_keep)
