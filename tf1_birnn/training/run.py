"""A training run: the run folder, checkpoints, resume, TensorBoard and the loop over epochs.

One epoch (the Adam steps, the evaluation) is ``tf1_birnn.training.loop``; the settings
(``RunConfig``, presets) are ``tf1_birnn.training.config``.

Everything a run writes goes to ``<logdir>/<run-name>/``:

- ``config.json``: the settings and where the data came from;
- ``history.json``: per-epoch train/test loss and seconds, and the corpus fingerprint;
- ``model.ckpt-<epoch>.*`` + ``.manifest.json``: ``tf.compat.v1.train.Saver`` after each
  epoch, verified by a manifest (the three newest are kept; see
  ``tf1_birnn.training.checkpoints``); ``lock`` while a process trains it;
- TensorBoard event files: the loss per epoch in ``train/`` and ``test/``, per Adam step in
  ``steps/``, the rest here (see ``tf1_birnn.training.summaries``).

A run folder is never reused silently: a new run needs a new name, ``resume=True``
continues after the newest checkpoint that restores and never starts over. A checkpoint
counts once its manifest is written, and ``history.json`` is replaced atomically, so
killing the process (even SIGKILL) loses at most the epoch in progress.
"""
import contextlib
import errno
import os
import shutil
import time
from dataclasses import asdict, replace

import numpy as np
import tensorflow as tf

from ..data.helpers import check_split, data_prer, train_test_split
from ..data.loader import corpus_fingerprint
from .checkpoints import (PREFIX, CheckpointError, kill_point, last_checkpoint,
                          list_checkpoints, remove_leftovers, restore, save_checkpoint,
                          set_aside, verify_checkpoint)
from .lock import RunLock
from ..core.network import build_network
from .config import PRESETS, RunConfig, preset_config
from .summaries import RunWriter
from .diagnose import ReluActivity, dead_relu_warning
from .folder import check_new_run, find_runs, new_run_dir, open_run, read_json, write_json
from .loop import TrainingDiverged, evaluate, predict_utterance, train_epoch

__all__ = ["PRESETS", "RunConfig", "preset_config", "train_run", "open_run", "new_run_dir",
           "check_new_run", "build_session", "last_checkpoint", "find_runs"]


def _recorded_corpus(run_dir):
    """The corpus fingerprint recorded in ``run_dir/history.json`` (``None``: not recorded)."""
    path = os.path.join(run_dir, "history.json")
    return read_json(path).get("corpus") if os.path.isfile(path) else None


def _check_records(run_dir, checkpoints):
    """Refuse a run whose checkpoints and ``history.json`` tell different epochs, rather
    than relabel its checkpoints (e.g. its manifests deleted: ``model.ckpt-1`` would read as
    a run made before manifests, holding 1 epoch, while history.json records 2)."""
    if not checkpoints or not os.path.isfile(os.path.join(run_dir, "history.json")):
        return
    recorded = len(open_run(run_dir)[1])
    newest = checkpoints[0]
    legacy = not newest.verified
    zero = legacy and any(f.startswith(f"{PREFIX}-0.") for f in os.listdir(run_dir))
    if not zero and recorded == newest.epoch + 1 or not legacy and recorded > newest.epoch:
        return  # (more rows than checkpoints: the epoch in progress, or a damaged one)
    if zero:  # a run made before manifests numbered its checkpoints from 1
        why = f"{PREFIX}-0 has no manifest, so its checkpoints' manifests are missing"
    else:
        why = f"{newest.name} holds {newest.epoch + 1} epochs" + (
            " (read as a run made before manifests: it has none)" if legacy else "")
    raise CheckpointError(f"the records of run {run_dir!r} disagree: history.json records "
                          f"{recorded} epochs but {why}; the run is left as it is")


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(config):
    """Refuse a network that cannot fit in this machine's memory, before building it.

    A lower bound: an RNN layer has at least 3 gates, each with a recurrent matrix `W_h`
    `[num_units, num_units]` held four times in float32 (the graph's initial value, the
    variable and Adam's two slots): 3 * 4 * 4 * num_units**2 bytes.
    """
    memory = _physical_memory()
    if memory is None or config.arch == "ff":
        return
    need = 3 * 4 * 4 * config.num_units ** 2
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
        np.random.seed(config.seed)  # orthogonal_initializer
        try:
            net = build_network(**config.network_settings())
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


def restore_newest(config, run_dir, out=print, move=False):
    """Build ``config``'s network and restore the newest checkpoint of ``run_dir`` that
    restores, falling back to older ones (and saying so, one line each) when one is damaged
    or does not fit the network; ``move=True`` (the caller holds the lock) moves those to
    ``damaged/``. A run whose records disagree is refused (``_check_records``).

    Returns ``(checkpoint, (graph, sess, net, saver), damaged)``: a ``Checkpoint``, the
    session and the list of newer checkpoints that could not be used.
    """
    checkpoints = list_checkpoints(run_dir)
    if not checkpoints:
        raise CheckpointError(f"run {run_dir!r} has no checkpoint yet")
    _check_records(run_dir, checkpoints)
    built, damaged = None, []
    for c in checkpoints:
        try:
            verify_checkpoint(c)
            if built is None:
                built = build_session(config)
            graph, sess, _, saver = built
            with graph.as_default():
                restore(saver, sess, c.path)
        except CheckpointError as e:
            damaged.append((c, e))
            continue
        aside = set_aside(run_dir, [d for d, _ in damaged]) if move else [None] * len(damaged)
        for (d, e), name in zip(damaged, aside):  # one line each
            moved = f"; moved to {os.path.join(run_dir, 'damaged', name)}" if name else ""
            out(f"{d.name} (epoch {d.epoch}) is damaged: {e}; using {c.name} (epoch "
                f"{c.epoch}){moved}")
        return c, built, [d for d, _ in damaged]
    if built is not None:
        built[1].close()
    raise CheckpointError(f"no checkpoint of run {run_dir!r} can be restored "
                          f"({'; '.join(str(e) for _, e in damaged)}); the run is left "
                          "as it is")


# file-system causes that TensorFlow reports in the text of its own errors
_OS_CAUSES = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.ENOTDIR,
              errno.ENAMETOOLONG)


@contextlib.contextmanager
def _os_errors(where):
    """Re-raise a TensorFlow error caused by the file system (disk full while writing
    events or a checkpoint...) as the ``OSError`` it is, naming the file (or ``where``)."""
    try:
        yield
    except (RuntimeError, tf.errors.OpError) as err:
        text = str(getattr(err, "message", err)).strip()
        for code in _OS_CAUSES:
            if os.strerror(code) in text:
                path = text.split(";")[0].strip()
                if not os.path.isabs(path) or "\n" in path:
                    path = where
                raise OSError(code, os.strerror(code), path) from None
        raise


def train_run(config, X, Y, logdir="logs", run_name=None, resume=False, out=print,
              show_progress=True, epochs=None):
    """Train ``config`` on utterances ``X``/``Y`` and log to ``logdir/run_name``.

    With ``resume=True`` the existing run ``run_name`` continues after its newest checkpoint
    that restores, with its saved settings (``config`` is ignored and may be ``None``) and on
    the same corpus (checked by fingerprint); ``epochs`` changes the total number of epochs
    (fewer than the epochs done is refused; as many is a no-op). A resumed run never starts
    over. A new run whose first epoch does not finish leaves no folder behind. Returns the
    run folder.
    """
    check_split(len(X))
    fingerprint = corpus_fingerprint(X, Y)
    train, test = train_test_split(data_prer(X, Y))
    if resume:
        if run_name is None:
            raise ValueError("resume needs the name of the run to continue (--run-name)")
        run_dir = os.path.join(logdir, run_name)
        saved, history = open_run(run_dir)
        with RunLock(run_dir), _os_errors(run_dir):
            return _resume(saved, history, run_dir, train, test, fingerprint, out,
                           show_progress, epochs)
    if epochs is not None:
        config = replace(config, epochs=epochs)
    check_new_run(logdir, run_name)
    built = build_session(config)
    run_dir = new_run_dir(logdir, run_name, config.preset)  # only once the network is built
    state = dict(saved=False)
    try:
        with RunLock(run_dir), _os_errors(run_dir):
            write_json(os.path.join(run_dir, "config.json"), asdict(config))
            _train(config, built, run_dir, train, test, [], 0, fingerprint, out, show_progress,
                   state)
    except BaseException:
        if not state["saved"]:  # no epoch finished: no half-made run folder
            built[1].close()
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return run_dir


def _resume(saved, history, run_dir, train, test, fingerprint, out, show_progress, epochs):
    checkpoints = list_checkpoints(run_dir)
    if checkpoints and not os.path.isfile(os.path.join(run_dir, "history.json")):
        raise ValueError(f"{os.path.join(run_dir, 'history.json')} is missing: the corpus "
                         "and the epochs of this run cannot be checked; the run is left as "
                         "it is")
    recorded = _recorded_corpus(run_dir)
    if recorded is not None and recorded != fingerprint:
        raise ValueError(f"the corpus differs from the one run {run_dir!r} was trained on "
                         f"(recorded {recorded}, loaded {fingerprint}; data: {saved.data}); "
                         "the run is left as it is")
    _check_records(run_dir, checkpoints)
    done = checkpoints[0].epoch + 1 if checkpoints else 0
    if not done and len(history) > 1:
        raise CheckpointError(f"the records of run {run_dir!r} disagree: history.json records "
                              f"{len(history)} epochs but no checkpoint is left; the run is "
                              "left as it is")
    total = epochs or saved.epochs
    if total < done:
        raise ValueError(f"--epochs {total} is fewer than the {done} epochs run {run_dir!r} "
                         "has done; the run is left as it is")
    if total == done:
        out(f"run {run_dir} has done its {done} epochs; nothing to do (pass a larger --epochs "
            "to continue it)")
        return run_dir
    config = replace(saved, epochs=total)
    remove_leftovers(run_dir)
    if done:
        checkpoint, built, _ = restore_newest(config, run_dir, out, move=True)
        done = checkpoint.epoch + 1
        out(f"resuming {run_dir} after epoch {done - 1}")
    else:  # killed before its first checkpoint counted: nothing trained can be lost
        built = build_session(config)
        out(f"run {run_dir} has no finished epoch (its first save was cut short); training "
            "it from its first epoch")
    if total != saved.epochs:
        write_json(os.path.join(run_dir, "config.json"), asdict(config))
    # drop the rows of epochs whose checkpoint was not written (killed before the save)
    _train(config, built, run_dir, train, test, history[:done], done, fingerprint, out,
           show_progress, dict(saved=bool(done), resumed=True))
    return run_dir


def _train(config, built, run_dir, train, test, history, done, fingerprint, out,
           show_progress, state):
    """Epochs ``done .. config.epochs-1``; ``state["saved"]`` turns True at the first save."""
    graph, sess, net, saver = built
    steps_per_epoch = -(-len(train) // config.batch_size)
    resume = state.get("resumed", False)  # drop the events a killed process wrote after `done`
    writer = RunWriter(run_dir, graph, resume_epoch=done if resume else None,
                       resume_step=done * steps_per_epoch if resume else None)
    writer.config_text(asdict(config), done)  # TensorBoard's Text tab: which settings ran
    warned = False  # about dead ReLU units, once
    with graph.as_default(), sess:
        try:
            for k in range(done, config.epochs):
                start = time.time()
                rng = np.random.default_rng([config.seed, k])  # same order whether resumed or not
                first_step = k * steps_per_epoch  # of this epoch, for the per-step curve

                def log_step(i, loss):
                    writer.step_loss(first_step + i, loss)

                try:
                    train_epoch(sess, net, train, rng, config.batch_size, config.keep_rate,
                                on_step=log_step, show_progress=show_progress,
                                desc=f"epoch {k}")
                except TrainingDiverged as err:
                    kept = (f"the last good checkpoint, {PREFIX}-{k - 1} (epoch {k - 1}), is "
                            f"kept in {run_dir}" if state["saved"] else "no epoch had finished"
                            + ("" if state.get("resumed") else ", so no run folder is kept"))
                    raise TrainingDiverged(f"{err}; {kept}") from None
                train_seconds = time.time() - start
                activity = ReluActivity(net)  # dead ReLUs, counted on the test set's passes
                tl = evaluate(sess, net, train, observe=None if test else activity)
                dl = evaluate(sess, net, test, observe=activity)
                out((k, 'train:', round(tl, 3), 'test:', round(dl, 3)))
                writer.scalars(k, train=tl, test=dl)
                shares = activity.shares()
                writer.dead_relu(k, shares)
                warning = None if warned else dead_relu_warning(shares)
                if warning:
                    out(warning)
                    warned = True
                writer.weights(sess, k)
                if k % config.image_every == 0 or k == config.epochs - 1:
                    writer.trajectory(test[0][1], predict_utterance(sess, net, test[0][0]), k)
                writer.flush()
                history.append(dict(epoch=k, train=tl, test=dl, train_seconds=train_seconds,
                                    seconds=time.time() - start))
                kill_point("evaluated", k)
                write_json(os.path.join(run_dir, "history.json"),
                            dict(corpus=fingerprint, epochs=history))
                kill_point("history", k)
                save_checkpoint(saver, sess, run_dir, k)
                state["saved"] = True
        finally:
            writer.close()
