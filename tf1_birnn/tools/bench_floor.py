"""This host's floor for the batch-1 recurrence, for ``tf1-birnn bench``.

At batch 1 the matmul peak says little: each time step's ``h @ W_h`` (`[1, D_cell]` times
`[D_cell, n_gates*D_cell]`) reads the whole ``W_h`` to do 2*D_cell*n_gates*D_cell FLOPs, so
its speed is set by where ``W_h`` lives (cache or memory), not by the arithmetic units. The
floor is a bare ``tf.while_loop`` of nothing but that product, for both directions, with the
loops run as the fast path runs them (the network setting ``loops``: one after the other, at
the same time, or both in one loop). A training step runs the recurrence twice (forward, and
the gradient's loop back in time, one product of the same size per step), so no training path
at batch 1 can beat ``1 / (2 * floor)`` frames per second; evaluation runs it once.
"""
import time

import numpy as np

from ..core.config import LOOP_MODES

__all__ = ["recurrence_floor", "FLOOR_MODES", "auto_mode", "measure_floors",
           "describe_floors", "train_floor_fps", "epoch_floor"]

FLOOR_MODES = tuple(m for m in LOOP_MODES if m != "auto")  # every mode but 'auto'


def _loop(h0, W, steps, after=None):
    """``steps`` times ``h = tanh(h @ W)[:, :D]``; ``after``: start only once it is done."""
    import tensorflow as tf
    D = h0.shape[1]

    def body(i, h):
        return i + 1, tf.tanh(tf.matmul(h, W)[:, :D])  # [n_samples, D_cell]
    if after is not None:
        with tf.control_dependencies([after]):
            h0 = tf.identity(h0)
    return tf.while_loop(lambda i, h: i < steps, body, (tf.constant(0), h0))[1]


def recurrence_floor(num_units, n_gates=3, batch=1, steps=400, repeats=3, mode="sequential"):
    """Seconds per time step of both directions' bare recurrence (``mode``: how the two loops
    run, one of ``FLOOR_MODES``): the best of ``repeats`` runs after a warm-up."""
    import tensorflow as tf
    if mode not in FLOOR_MODES:
        raise ValueError(f"mode must be one of {', '.join(FLOOR_MODES)}; got {mode!r}")
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        Ws = [tf.Variable(rng.standard_normal((num_units, n_gates * num_units), np.float32)
                          / num_units ** 0.5) for _ in range(2)]  # [D_cell, n_gates*D_cell]
        h0 = tf.constant(rng.standard_normal((batch, num_units), np.float32))
        if mode == "shared":  # one loop, both products in each step
            def body(i, h):
                return i + 1, tuple(tf.tanh(tf.matmul(x, W)[:, :num_units])
                                    for x, W in zip(h, Ws))
            outs = tf.while_loop(lambda i, h: i < steps, body, (tf.constant(0), (h0, h0)))[1]
        else:
            first = _loop(h0, Ws[0], steps)
            outs = (first, _loop(h0, Ws[1], steps,
                                 after=first if mode == "sequential" else None))
        done = tf.group(*outs)
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            sess.run(done)  # warm-up
            best = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                sess.run(done)
                best = min(best, time.perf_counter() - start)
    return best / steps


def auto_mode(num_units, n_gates):
    """The loop mode that ``loops='auto'`` picks for two directions of this size here."""
    from ..core.fast import auto_loop_mode
    return auto_loop_mode(2 * 4 * num_units * n_gates * num_units)  # both W_h, float32


def measure_floors(num_units, gate_counts, steps, repeats):
    """``{n_gates: {"sequential": s, "concurrent": s, "batch16": s}}``: seconds per time step
    of both directions at batch 1 in each mode, and at batch 16 in the 'auto' mode."""
    floors = {}
    for n in sorted(set(gate_counts)):
        f = {m: recurrence_floor(num_units, n, 1, steps, repeats, m)
             for m in ("sequential", "concurrent")}
        f["batch16"] = recurrence_floor(num_units, n, 16, steps, repeats, auto_mode(num_units, n))
        floors[n] = f
    return floors


def describe_floors(floors, num_units):
    """The lines ``tf1-birnn bench`` prints about the floors (markdown list items)."""
    lines = []
    for n, f in floors.items():
        mode, best = auto_mode(num_units, n), min(f["sequential"], f["concurrent"])
        other = "concurrent" if mode == "sequential" else "sequential"
        verdict = ("agrees with the floors" if f[mode] <= f[other] else
                   f"the {other} floor is {100 * (1 - f[other] / f[mode]):.0f}% lower here")
        lines.append(
            f"- recurrence floor, {'LSTM' if n == 4 else 'GRU'} ({n} gates, W_h {num_units}x"
            f"{n * num_units} per direction): bare while_loop of h @ W_h for both directions "
            f"at batch 1: sequential {1e3 * f['sequential']:.3f} ms, concurrent "
            f"{1e3 * f['concurrent']:.3f} ms per step; --loops 'auto' picks {mode} here "
            f"({verdict}); training at batch 1 cannot beat 1/(2 x {1e3 * best:.3f} ms) = "
            f"{1 / (2 * best):,.0f} frames/s")
    return lines


def train_floor_fps(floors, n_gates):
    """The batch-1 training frames/s that the recurrence floor allows."""
    f = floors[n_gates]
    return 1 / (2 * min(f["sequential"], f["concurrent"]))


def epoch_floor(floors, n_gates, train_frames, eval_frames, eval_batch=16):
    """Seconds of one epoch at the floor: training at batch 1 (two recurrences per frame),
    evaluation (one recurrence) one utterance at a time (``eval_batch=1``) or in batches of
    16, the two batch sizes measured."""
    f = floors[n_gates]
    if eval_batch not in (1, 16):
        raise ValueError(f"the floor is measured at evaluation batches of 1 and 16; "
                         f"got {eval_batch}")
    per_eval_frame = min(f["sequential"], f["concurrent"]) if eval_batch == 1 else f["batch16"] / 16
    return train_frames / train_floor_fps(floors, n_gates) + eval_frames * per_eval_frame
