"""The child process of ``tf1-birnn bench`` (``python -m tf1_birnn.tools.bench_child
'<config json>'``): one TensorFlow or Keras row measured in a fresh process, so that its peak
RSS is its own; the result is printed as one ``BENCH_RESULT <json>`` line. Also the matmul
peak that the parent measures. ``bench.py`` says what the rows are.
"""
import json

from .bench_epoch import loops_used, split_loops
from .bench_peers import D_INPUT, D_LABEL, TRAIN_KEEP, best_time, peak_rss_mib

__all__ = ["measure_matmul_peak", "measure_step", "TRAIN_KEEP", "PEAK_N"]

PEAK_N = 2048  # size of the square matmul that measures peak GFLOP/s


def measure_matmul_peak(repeats):
    """This machine's float32 matmul GFLOP/s: the fastest of several square matmuls."""
    import tensorflow as tf
    graph = tf.Graph()
    with graph.as_default():
        a = tf.Variable(tf.random.normal([PEAK_N, PEAK_N]))
        b = tf.Variable(tf.random.normal([PEAK_N, PEAK_N]))
        product = tf.matmul(a, b).op
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            seconds = best_time(lambda: sess.run(product), max(5, repeats))
    return 2 * PEAK_N ** 3 / seconds / 1e9


def measure_step(config):
    """One training step and one evaluation of a step row, timed: a dict of seconds, peak
    RSS and how the fast loops ran."""
    import numpy as np
    import tensorflow as tf
    U, T, N = config["num_units"], config["steps"], config["batch"]
    variant, loops = split_loops(config["variant"])  # a -<loops> row builds with loops=<loops>
    if variant.startswith("keras"):
        from .bench_peers import measure_keras
        return measure_keras(dict(config, jit=variant == "keras-xla"))
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(0)
        np.random.seed(0)
        used = None  # how the fast path's loops ran (fast.loop_mode)
        if variant == "tf":
            from .bench_peers import tf_peer_network
            inputs, labels, keep, output, train_step = tf_peer_network(U)
        else:
            from ..core import network
            from .unfused import UnfusedGRUcell
            if variant == "unfused":  # 'gru' is the unfused cell in this child process only
                network.CELLS["gru"] = UnfusedGRUcell
            cell = "lstm" if "-lstm" in variant else "gru"
            net = network.build_network(num_units=U, cell=cell, cell_b=cell,
                                        fast=variant.startswith("fast"), loops=loops)
            inputs, labels, keep, output, train_step = (
                net.inputs, net.labels, net.drop_keep_rate, net.output, net.train_step)
            used = loops_used(net) if variant.startswith("fast") else None
        init = tf.compat.v1.global_variables_initializer()
    rng = np.random.default_rng(0)
    feed = {inputs: rng.standard_normal((N, T, D_INPUT)).astype(np.float32),
            labels: rng.standard_normal((N * T, D_LABEL)).astype(np.float32)}
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        train_s = best_time(lambda: sess.run(train_step, {**feed, keep: TRAIN_KEEP}),
                            config["repeats"])
        eval_s = best_time(lambda: sess.run(output, {**feed, keep: 1.0}), config["repeats"])
    return {"train_s": train_s, "eval_s": eval_s, "rss_mib": peak_rss_mib(), "loops": used}


def _child_main(argv):
    config = json.loads(argv[0])
    if config.get("epochs"):
        from .bench_epoch import measure_epochs
        result = measure_epochs(config)
    else:
        result = measure_step(config)
    print("BENCH_RESULT " + json.dumps(result))


if __name__ == "__main__":
    import sys
    _child_main(sys.argv[1:])
