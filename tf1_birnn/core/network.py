"""The tutorial's networks, built in a ``tf.compat.v1`` graph.

- ``'birnn'`` (the tutorial's LV2 network): ``inputs`` `[n_samples, n_steps, D_input]` ->
  ``n_ff`` ReLU layers of ``num_units`` -> ``n_layers`` bidirectional RNN layers -> ``n_ff``
  ReLU layers -> linear ``D_label``, dropout after every hidden layer, MSE + ``L2_penalty`` *
  L2 of the dense weights, Adam.
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
"""
from dataclasses import asdict, dataclass, field

import tensorflow as tf

from .cells import GRUcell, LSTMcell
from .config import ARCHS, network_config
from .initializers import bias_init, orthogonal_initializer, weight_init
from .rnn import RNN, frame_mask

__all__ = ["Network", "build_network", "ARCHS", "CELLS"]

CELLS = {"gru": GRUcell, "lstm": LSTMcell}


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
    config: dict = field(default_factory=dict)  # the NetworkConfig it was built from
    relu_outputs: dict = field(default_factory=dict)  # layer -> ReLU output [n_rows, num_units]


def _dense(x, D_in, D_out, name, weights):
    """``x @ W + b`` with the tutorial's initializers: `[n, D_in]` -> `[n, D_out]`; call it in
    the layer's name scope ``name``."""
    W = weight_init([D_in, D_out], name="W")
    b = bias_init([D_out], name="b")
    weights[f"{name}/W"], weights[f"{name}/b"] = W, b
    return tf.matmul(x, W) + b


def build_network(arch="birnn", **settings):
    """Build ``arch`` in the default graph and return a ``Network``.

    ``settings`` are the fields of ``tf1_birnn.core.config.NetworkConfig`` (their help says
    what each is for), checked before the graph is built; ``arch``'s own defaults
    (``ARCH_SETTINGS``: the 'lv1' network is one LSTM layer, no ReLU layers, no L2) fill what
    is not given, and a setting that ``arch`` has no use for is refused. ``sequence_length``
    values fed with ``variable_length=True`` must be >= 1.
    """
    c = network_config(arch, **settings)  # every setting checked, before any graph op
    D_input, D_label, num_units = c.D_input, c.D_label, c.num_units
    cell, cell_b, merge, n_layers, n_ff, stacking = (c.cell, c.cell_b, c.merge, c.n_layers,
                                                     c.n_ff, c.stacking)

    inputs = tf.compat.v1.placeholder(tf.float32, [None, None, D_input], name="inputs")
    labels = tf.compat.v1.placeholder(tf.float32, [None, D_label], name="labels")
    drop_keep_rate = tf.compat.v1.placeholder(tf.float32, name="dropout_keep")  # keep rate
    n_samples, n_steps = tf.shape(inputs)[0], tf.shape(inputs)[1]
    if c.variable_length:
        sequence_length = tf.compat.v1.placeholder(tf.int32, [None], name="sequence_length")
    else:  # every utterance full length unless fed: evaluation feeds it to batch utterances
        sequence_length = tf.compat.v1.placeholder_with_default(
            tf.fill([n_samples], n_steps), [None], name="sequence_length")
    weights, cells, relu_outputs = {}, [], {}

    def dropout(x):
        return tf.nn.dropout(x, rate=1 - drop_keep_rate)

    def relu_layer(x, D_in, name):  # one ReLU layer, its ops in its name scope
        with tf.name_scope(name):
            relu_outputs[name] = tf.nn.relu(_dense(x, D_in, num_units, name, weights))
            return dropout(relu_outputs[name])  # [n_samples*n_steps, num_units]

    h, D_h = tf.reshape(inputs, [-1, D_input]), D_input  # [n_samples*n_steps, D_input]
    for k in range(n_ff):  # feedforward layers before the RNN
        h = relu_layer(h, D_h, f"ff_in{k}")
        D_h = num_units
    if arch != "ff":
        with tf.name_scope("inputs_T"):
            x_T = tf.transpose(tf.reshape(h, [n_samples, n_steps, D_h]), perm=[1, 0, 2])  # [n_steps, n_samples, D_h]
        layer_in, D_in = x_T, D_h
        for layer in range(n_layers):
            with tf.name_scope(f"rnn{layer}"):
                with tf.name_scope("fw"):
                    fcell = CELLS[cell](layer_in, D_in, num_units, orthogonal_initializer)
                bcell = None
                if cell_b is not None:
                    with tf.name_scope("bw"):
                        bcell = CELLS[cell_b](layer_in, D_in, num_units, orthogonal_initializer)
                out = RNN(fcell, bcell, merge, sequence_length=sequence_length, fast=c.fast)
            cells.append((fcell, bcell))
            D_out = 2 * num_units if (bcell is not None and merge == "concat") else num_units
            if stacking == "true":
                layer_in, D_in = out, D_out
            else:  # the tutorial's example: every layer reads inputs_T
                if D_out != D_h:
                    raise ValueError("stacking='tutorial' needs merge != 'concat' and "
                                     f"num_units == the RNN input size; got {D_out} and {D_h}")
        with tf.name_scope("rnn_out"):
            # back to [n_samples, n_steps, D_out], then [n_samples*n_steps, D_out]
            h = tf.reshape(tf.transpose(out, perm=[1, 0, 2]), [-1, D_out])
            D_h = D_out
            if arch == "birnn":
                h = dropout(h)
    for k in range(n_ff):  # feedforward layers after the RNN
        h = relu_layer(h, D_h, f"ff_out{k}")
        D_h = num_units
    with tf.name_scope("output"):
        output = _dense(h, D_h, D_label, "output", weights)  # [n_samples*n_steps, D_label]
    with tf.name_scope("loss"):
        sq = tf.reshape((output - labels) ** 2, [n_samples, n_steps, D_label])
        mask = frame_mask(sequence_length, n_steps)  # [n_samples, n_steps]
        frames = tf.cast(sequence_length, tf.float32) * D_label
        # each utterance's MSE on its real frames `[n_samples]`
        per_utterance_loss = tf.reduce_sum(sq * mask[:, :, None], axis=[1, 2]) / frames
        if c.variable_length:
            loss = tf.reduce_mean(per_utterance_loss)
        else:
            loss = tf.reduce_mean((output - labels) ** 2)  # the tutorial's loss
        dense_W = [v for k, v in weights.items() if k.endswith("/W")]
        L2_total = tf.add_n([tf.nn.l2_loss(W) for W in dense_W])
        objective = loss + c.L2_penalty * L2_total  # what Adam minimizes
    train_step = tf.compat.v1.train.AdamOptimizer(c.learning_rate).minimize(objective)
    return Network(inputs=inputs, labels=labels, drop_keep_rate=drop_keep_rate, output=output,
                   loss=loss, per_utterance_loss=per_utterance_loss, train_step=train_step,
                   L2_total=L2_total, sequence_length=sequence_length, cells=cells,
                   weights=weights, config=asdict(c), relu_outputs=relu_outputs)
