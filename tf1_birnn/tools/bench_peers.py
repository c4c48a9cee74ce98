"""The peers of ``tf1-birnn bench``: the tutorial's network built on TensorFlow's own
``tf.compat.v1.nn.bidirectional_dynamic_rnn`` + ``GRUCell``, on Keras 3's
``Bidirectional(GRU)`` (what a modern user would pick) and on PyTorch's
``torch.nn.GRU(bidirectional=True)``; plus the timing helper every measurement uses.

The network is the tutorial's birnn (``network.build_network('birnn')``): 39 -> ReLU
``num_units`` x2 -> bidirectional GRU ``num_units`` (merge 'sum') -> ReLU ``num_units`` x2 ->
linear 24, dropout after every hidden layer, MSE + L2 of the dense weights, Adam. The peers'
GRU equations differ in detail (TF's and PyTorch's reset gates act on ``h`` before or after
``W_h``), but every matmul has the same size, so the FLOP count is the same.

This module imports only the TensorFlow-free config from ``tf1_birnn`` (the tutorial's
settings, ``RunConfig``'s defaults), and neither TensorFlow nor PyTorch at import time:
``python bench_peers.py '<json>'`` runs the PyTorch peer in a child process that never loads
TensorFlow, so its peak memory is its own.
"""
import json
import resource
import sys
import time

__all__ = ["best_time", "tf_peer_network", "measure_torch", "keras_network", "measure_keras",
           "keras_epoch_functions", "peak_rss_mib"]

from tf1_birnn.training.config import RunConfig  # absolute: this file also runs as a script

# the tutorial's LV2 settings, from the one config: MFCC features in, articulatory channels
# out, Adam's learning rate, the L2 weight of the dense weights, the keep rate while training
_BLOG = RunConfig()
D_INPUT, D_LABEL = _BLOG.D_input, _BLOG.D_label
LEARNING_RATE, L2_PENALTY, TRAIN_KEEP = _BLOG.learning_rate, _BLOG.L2_penalty, _BLOG.keep_rate


def best_time(fn, repeats):
    """Run ``fn`` once to warm up, then ``repeats`` times; return the fastest run's seconds."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_rss_mib():
    """This process's peak resident memory (Linux ``ru_maxrss`` is in KiB), in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def tf_peer_network(num_units):
    """Build the birnn on ``tf.compat.v1.nn.bidirectional_dynamic_rnn`` in the default graph.

    Needs ``tf_keras`` and ``TF_USE_LEGACY_KERAS=1`` set before TensorFlow was imported.
    Returns ``(inputs, labels, keep, output, train_step)``; ``inputs`` `[n_samples, n_steps, 39]`.
    """
    import tensorflow as tf
    v1 = tf.compat.v1
    inputs = v1.placeholder(tf.float32, [None, None, D_INPUT], name="inputs")
    labels = v1.placeholder(tf.float32, [None, D_LABEL], name="labels")
    keep = v1.placeholder(tf.float32, name="dropout_keep")
    n_samples, n_steps = tf.shape(inputs)[0], tf.shape(inputs)[1]
    dense_W = []

    def dense(x, D_in, D_out, act=tf.nn.relu):
        W = tf.Variable(tf.random.uniform([D_in, D_out], -(5 / D_in) ** 0.5, (5 / D_in) ** 0.5))
        dense_W.append(W)
        y = tf.matmul(x, W) + tf.Variable(tf.fill([D_out], 0.01))
        return y if act is None else tf.nn.dropout(act(y), rate=1 - keep)

    h = dense(dense(tf.reshape(inputs, [-1, D_INPUT]), D_INPUT, num_units), num_units, num_units)
    x_T = tf.transpose(tf.reshape(h, [n_samples, n_steps, num_units]), [1, 0, 2])  # [n_steps, n_samples, num_units]
    cell_fw = v1.nn.rnn_cell.GRUCell(num_units)
    cell_bw = v1.nn.rnn_cell.GRUCell(num_units)
    (out_fw, out_bw), _ = v1.nn.bidirectional_dynamic_rnn(cell_fw, cell_bw, x_T,
                                                          dtype=tf.float32, time_major=True)
    rnn = tf.nn.dropout(out_fw + out_bw, rate=1 - keep)  # merge 'sum'
    h = tf.reshape(tf.transpose(rnn, [1, 0, 2]), [-1, num_units])  # [n_samples*n_steps, num_units]
    output = dense(dense(dense(h, num_units, num_units), num_units, num_units),
                   num_units, D_LABEL, act=None)
    loss = tf.reduce_mean((output - labels) ** 2)
    L2 = tf.add_n([tf.nn.l2_loss(W) for W in dense_W])
    train_step = v1.train.AdamOptimizer(LEARNING_RATE).minimize(loss + L2_PENALTY * L2)
    return inputs, labels, keep, output, train_step


def measure_torch(config):
    """Training and evaluation seconds of the birnn on ``torch.nn.GRU(bidirectional=True)``.

    ``config``: ``num_units``, ``steps``, ``batch``, ``repeats``, ``keep`` (dropout keep rate).
    """
    import numpy as np
    import torch
    from torch import nn

    U, T, N = config["num_units"], config["steps"], config["batch"]
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.ff_in = nn.ModuleList([nn.Linear(D_INPUT, U), nn.Linear(U, U)])
            self.gru = nn.GRU(U, U, bidirectional=True)  # time-major, like the tutorial
            self.ff_out = nn.ModuleList([nn.Linear(U, U), nn.Linear(U, U)])
            self.out = nn.Linear(U, D_LABEL)
            self.drop = nn.Dropout(1 - config["keep"])

        def forward(self, x):  # x: [n_steps, n_samples, 39]
            for layer in self.ff_in:
                x = self.drop(torch.relu(layer(x)))
            y, _ = self.gru(x)  # [n_steps, n_samples, 2*U]
            x = self.drop(y[..., :U] + y[..., U:])  # merge 'sum'
            for layer in self.ff_out:
                x = self.drop(torch.relu(layer(x)))
            return self.out(x)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    dense_W = [m.weight for m in list(net.ff_in) + list(net.ff_out) + [net.out]]
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((T, N, D_INPUT)).astype(np.float32))
    y = torch.from_numpy(rng.standard_normal((T, N, D_LABEL)).astype(np.float32))

    def train():
        net.train()
        opt.zero_grad()
        loss = ((net(x) - y) ** 2).mean() + L2_PENALTY * sum((W ** 2).sum() / 2 for W in dense_W)
        loss.backward()
        opt.step()

    def evaluate():
        net.eval()
        with torch.no_grad():
            net(x)

    return {"train_s": best_time(train, config["repeats"]),
            "eval_s": best_time(evaluate, config["repeats"]),
            "rss_mib": peak_rss_mib(), "threads": torch.get_num_threads()}


def keras_network(num_units, jit_compile=False, cell="gru"):
    """The birnn on Keras 3: ``Dense`` ReLU x2 -> ``Bidirectional(GRU, merge_mode='sum')`` ->
    ``Dense`` ReLU x2 -> ``Dense`` 24, dropout ``1 - TRAIN_KEEP`` after every hidden layer,
    MSE + L2 of the dense kernels (``tf.nn.l2_loss`` * L2_PENALTY = ``L2(L2_PENALTY / 2)``),
    Adam; compiled with
    ``jit_compile`` (XLA) or as a plain ``tf.function``. Input `[n_samples, n_steps, 39]`."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(0)
    drop = 1 - TRAIN_KEEP  # the blog's keep rate while training
    reg = keras.regularizers.L2(L2_PENALTY / 2)  # tf.nn.l2_loss is sum(W**2) / 2

    def dense(x, D_out, act="relu"):
        x = layers.Dense(D_out, activation=act, kernel_regularizer=reg)(x)
        return layers.Dropout(drop)(x) if act else x

    inputs = keras.Input((None, D_INPUT))
    x = dense(dense(inputs, num_units), num_units)
    rnn = layers.GRU if cell == "gru" else layers.LSTM
    x = layers.Dropout(drop)(layers.Bidirectional(rnn(num_units, return_sequences=True),
                                                  merge_mode="sum")(x))
    outputs = dense(dense(dense(x, num_units), num_units), D_LABEL, act=None)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse",
                  jit_compile=jit_compile)
    return model


def measure_keras(config):
    """Training and evaluation seconds of ``keras_network`` (``train_on_batch`` and
    ``predict_on_batch`` of `[batch, steps, 39]`); ``config`` as in ``measure_torch`` plus
    ``jit`` (XLA)."""
    import numpy as np
    U, T, N = config["num_units"], config["steps"], config["batch"]
    model = keras_network(U, config["jit"])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D_INPUT)).astype(np.float32)
    y = rng.standard_normal((N, T, D_LABEL)).astype(np.float32)
    return {"train_s": best_time(lambda: model.train_on_batch(x, y), config["repeats"]),
            "eval_s": best_time(lambda: model.predict_on_batch(x), config["repeats"]),
            "rss_mib": peak_rss_mib()}


def keras_epoch_functions(num_units, jit_compile=False):
    """``(train_one, eval_set)`` of a blog epoch on ``keras_network``: ``train_one(pairs, rng)``
    runs one ``train_on_batch`` per utterance in a shuffled order; ``eval_set(pairs)`` returns
    the mean per-utterance MSE, one ``predict_on_batch`` per utterance. ``pairs``: `[x, y]`,
    ``x`` `[1, n_frames, 39]`, ``y`` `[n_frames, 24]`."""
    import numpy as np
    model = keras_network(num_units, jit_compile)

    def train_one(pairs, rng):
        for k in rng.permutation(len(pairs)):
            x, y = pairs[k]
            model.train_on_batch(x, y[None])

    def eval_set(pairs):
        return float(np.mean([np.mean((model.predict_on_batch(x)[0] - y) ** 2) for x, y in pairs]))

    return train_one, eval_set


if __name__ == "__main__":  # the PyTorch child of ``tf1-birnn bench``
    print("BENCH_RESULT " + json.dumps(measure_torch(json.loads(sys.argv[1]))))
