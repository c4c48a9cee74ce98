"""How long an epoch of a network takes on this machine, from a short measurement.

``tf1-birnn reproduce --estimate`` calls ``measure`` once per model: it builds the model's
network at the size asked for, runs one warm-up Adam step and one warm-up evaluation (the
first runs of a graph also optimize it), then times ``steps`` more Adam steps (one utterance
each) and three evaluations of the utterances in one batch, and scales the median seconds
per frame to a whole epoch:

    epoch ≈ train frames × (training s/frame) + evaluated frames × (evaluation s/frame)

where an epoch trains on the training split one utterance per step and evaluates the
training and test splits (``tf1_birnn.training.loop``). Not counted: building the graph,
the checkpoint and TensorBoard summaries of each epoch; other jobs on the same cores slow
an epoch down. The measured utterances are those nearest the median length.
"""
import platform
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["EpochEstimate", "measure", "ASSUMPTIONS", "host"]

ASSUMPTIONS = ("measured here: one warm-up, then a few Adam steps and evaluations of each "
               "model at its size, the median seconds per frame scaled to the epoch's frames; "
               "graph building, checkpoints and summaries not counted, other jobs on these "
               "cores slow it")


@dataclass
class EpochEstimate:
    """Seconds per frame measured for one network, and what they make for one epoch."""
    train_s_per_frame: float
    eval_s_per_frame: float
    seconds_per_epoch: float


def _median_sample(pairs, k):
    """``k`` of ``pairs`` whose lengths are nearest the median (at least 1)."""
    lengths = np.array([len(y) for _, y in pairs])
    order = np.argsort(np.abs(lengths - np.median(lengths)), kind="stable")
    return [pairs[i] for i in order[:max(1, min(k, len(pairs)))]]


def measure(config, train, test, steps=5):
    """Measure ``config``'s network on this machine; return an ``EpochEstimate``.

    ``train``, ``test``: ``[(x, y), ...]`` as ``data_prer`` makes them (``x``
    `[n_frames, D_input]`, ``y`` `[n_frames, D_label]`). The network is built and dropped.
    """
    from ..training.loop import evaluate, train_epoch
    from ..training.run import build_session

    sample = _median_sample(train, steps + 1)
    rng = np.random.default_rng(0)
    _, sess, net, _ = build_session(config)
    with sess:
        def seconds_per_frame(fn, pairs):
            start = time.perf_counter()
            fn(pairs)
            return (time.perf_counter() - start) / sum(len(y) for _, y in pairs)

        def adam(pairs):
            train_epoch(sess, net, pairs, rng, batch_size=config.batch_size,
                        keep_rate=config.keep_rate, cell_keep_rate=config.cell_keep_rate,
                        show_progress=False)

        def evaluation(pairs):  # in one padded batch, as an epoch evaluates (batches of 16)
            evaluate(sess, net, pairs)

        adam(sample[:1])  # warm-up: the first runs also optimize the graph
        evaluation(sample)
        # medians: a burst of other work then moves one measurement, not the estimate
        train_rate = float(np.median([seconds_per_frame(adam, [pair])
                                      for pair in sample[1:] or sample]))
        eval_rate = float(np.median([seconds_per_frame(evaluation, sample) for _ in range(3)]))
    train_frames = sum(len(y) for _, y in train)
    eval_frames = train_frames + sum(len(y) for _, y in test)  # evaluate(train) + (test)
    return EpochEstimate(train_rate, eval_rate,
                         train_frames * train_rate + eval_frames * eval_rate)


def host():
    """This machine's CPU model, as ``/proc/cpuinfo`` names it (e.g. 'AMD EPYC')."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
