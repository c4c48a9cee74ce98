"""A network in its own graph and session: built from a config, or restored from a run.

``build_session(config)`` builds ``config``'s network (``tf1_birnn.core.network``) in a new
graph, seeded, and initializes or restores it; ``restore_newest(folder)`` restores a run's
newest checkpoint that restores, falling back to older ones and saying so.
"""
import os

import numpy as np
import tensorflow as tf

from ..core.network import build_network
from .checkpoints import CheckpointError, set_aside, verify_checkpoint
from .restore import restore

__all__ = ["build_session", "restore_newest", "check_memory"]

# a lower bound of an RNN layer's weights: at least 3 gates (a GRU), each with a recurrent
# matrix W_h [num_units, num_units] of float32 held 4 times (the graph's initial value, the
# variable and Adam's two slots)
_MIN_GATES, _COPIES, _FLOAT32 = 3, 4, 4


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(config):
    """Refuse a network that cannot fit in this machine's memory, before building it."""
    memory = _physical_memory()
    if memory is None or config.arch == "ff":
        return
    need = _MIN_GATES * _COPIES * _FLOAT32 * config.num_units ** 2
    if need > memory:
        raise MemoryError(f"num_units={config.num_units} needs at least {need / 2 ** 30:.0f} GiB "
                          f"for its weights; this machine has {memory / 2 ** 30:.0f} GiB")


def build_session(config, checkpoint=None):
    """Build ``config``'s network in a new graph; return ``(graph, sess, net, saver)``.

    Variables are restored from ``checkpoint`` or, without one, initialized with the seed.
    """
    check_memory(config)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(config.seed)  # weight_init and dropout
        np.random.seed(config.seed)  # the tutorial's orthogonal_initializer draws from NumPy
        try:
            net = build_network(config)  # the run's config itself: a NetworkConfig
        except MemoryError as e:
            raise MemoryError(f"not enough memory to build the network "
                              f"(num_units={config.num_units}): {e}") from None
        # checkpoints are kept and pruned by us (see checkpoints.py), not by Saver
        saver = tf.compat.v1.train.Saver(max_to_keep=None)
        sess = tf.compat.v1.Session(graph=graph)
        if checkpoint:
            restore(saver, sess, checkpoint)
        else:
            sess.run(tf.compat.v1.global_variables_initializer())
    return graph, sess, net, saver


def restore_newest(folder, out=print, move=False):
    """Build the network of ``folder`` (a ``RunFolder``) and restore its newest checkpoint
    that restores, falling back to older ones (and saying so, one line each) when one is
    damaged or does not fit the network; ``move=True`` (the caller holds the lock) moves
    those to ``damaged/``. A run whose records disagree is refused.

    Returns ``(checkpoint, (graph, sess, net, saver), damaged)``: a ``Checkpoint``, the
    session and the list of newer checkpoints that could not be used.
    """
    checkpoints = folder.checkpoints()
    if not checkpoints:
        raise CheckpointError(f"run {folder.path!r} has no checkpoint yet")
    folder.check_records(checkpoints)
    built, damaged = None, []
    for c in checkpoints:
        try:
            verify_checkpoint(c)
            if built is None:
                built = build_session(folder.config)
            graph, sess, _, saver = built
            with graph.as_default():
                restore(saver, sess, c.path)
        except CheckpointError as e:
            damaged.append((c, e))
            continue
        _report_damaged(folder.path, damaged, c, out, move)
        return c, built, [d for d, _ in damaged]
    if built is not None:
        built[1].close()
    raise CheckpointError(f"no checkpoint of run {folder.path!r} can be restored "
                          f"({'; '.join(str(e) for _, e in damaged)}); the run is left "
                          "as it is")


def _report_damaged(run_dir, damaged, used, out, move):
    """One line per damaged checkpoint (moved to ``damaged/`` when ``move``)."""
    aside = set_aside(run_dir, [d for d, _ in damaged]) if move else [None] * len(damaged)
    for (d, e), name in zip(damaged, aside):
        moved = f"; moved to {os.path.join(run_dir, 'damaged', name)}" if name else ""
        out(f"{d.name} (epoch {d.epoch}) is damaged: {e}; using {used.name} (epoch "
            f"{used.epoch}){moved}")
