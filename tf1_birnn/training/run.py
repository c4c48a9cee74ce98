"""A training run: start a new run or resume one, in its run folder.

Everything a run writes goes to ``<logdir>/<run-name>/`` (``RunFolder``):

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
killing the process (even SIGKILL) loses at most the epoch in progress. The epochs
themselves are the ``Trainer``'s (``tf1_birnn.training.trainer``); the network and its
session, ``tf1_birnn.training.session``.
"""
import os
from dataclasses import replace

from ..data.helpers import check_split, data_prer, train_test_split
from ..data.loader import corpus_fingerprint
from .checkpoints import last_checkpoint, remove_leftovers
from .config import PRESETS, RunConfig, preset_config
from .folder import RunFolder, find_runs, open_run
from .oserrors import os_errors
from .session import build_session, check_memory, restore_newest
from .trainer import Trainer

__all__ = ["PRESETS", "RunConfig", "preset_config", "train_run", "start_run", "resume_run",
           "open_run", "build_session", "restore_newest", "check_memory", "last_checkpoint",
           "find_runs"]


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
    if resume:
        if run_name is None:
            raise ValueError("resume needs the name of the run to continue (--run-name)")
        folder = RunFolder.open(os.path.join(logdir, run_name))
        return resume_run(folder, X, Y, epochs, out, show_progress)
    if epochs is not None:
        config = replace(config, epochs=epochs)
    return start_run(config, X, Y, RunFolder.new(logdir, run_name, config.preset), out,
                     show_progress)


def _split(X, Y):
    """``(train, test, fingerprint)`` of the utterances ``X``/``Y``."""
    check_split(len(X))
    return (*train_test_split(data_prer(X, Y)), corpus_fingerprint(X, Y))


def start_run(config, X, Y, folder, out=print, show_progress=True):
    """Train ``config`` as the new run ``folder`` (``RunFolder.new``, not made yet: it is
    made once the network is built, and removed if no epoch finishes). Returns its path."""
    train, test, fingerprint = _split(X, Y)
    built = build_session(config)
    folder.make()
    trainer = Trainer(config, built, folder, train, test, fingerprint, out, show_progress)
    try:
        with folder.lock(), os_errors(folder.path):
            folder.write_config(config)
            trainer.run([])
    except BaseException:
        if not trainer.saved:  # no epoch finished: no half-made run folder
            built[1].close()
            folder.remove()
        raise
    return folder.path


def resume_run(folder, X, Y, epochs=None, out=print, show_progress=True):
    """Continue the run ``folder`` (``RunFolder.open``) on ``X``/``Y`` up to ``epochs``
    (``None``: its saved total). Returns its path."""
    train, test, fingerprint = _split(X, Y)
    with folder.lock(), os_errors(folder.path):
        folder = RunFolder.open(folder.path)  # as it is now that we hold the lock
        done = _epochs_to_resume(folder, fingerprint)
        total = epochs or folder.config.epochs
        if total < done:
            raise ValueError(f"--epochs {total} is fewer than the {done} epochs run "
                             f"{folder.path!r} has done; the run is left as it is")
        if total == done:
            out(f"run {folder.path} has done its {done} epochs; nothing to do (pass a larger "
                "--epochs to continue it)")
            return folder.path
        remove_leftovers(folder.path)
        if done:
            checkpoint, built, _ = restore_newest(folder, out, move=True)
            done = checkpoint.epoch + 1
            out(f"resuming {folder.path} after epoch {done - 1}")
        else:  # killed before its first checkpoint counted: nothing trained can be lost
            built = build_session(folder.config)
            out(f"run {folder.path} has no finished epoch (its first save was cut short); "
                "training it from its first epoch")
        if total != folder.config.epochs:
            folder.write_config(replace(folder.config, epochs=total))
        # drop the rows of epochs whose checkpoint was not written (killed before the save)
        Trainer(folder.config, built, folder, train, test, fingerprint, out, show_progress,
                resumed=True).run(folder.history[:done])
    return folder.path


def _epochs_to_resume(folder, fingerprint):
    """The epochs the newest checkpoint of ``folder`` holds, once its corpus and records
    are checked against ``fingerprint`` and each other."""
    checkpoints = folder.checkpoints()
    if checkpoints and not folder.has_history():
        raise ValueError(f"{folder.file('history.json')} is missing: the corpus and the epochs "
                         "of this run cannot be checked; the run is left as it is")
    if folder.corpus is not None and folder.corpus != fingerprint:
        raise ValueError(f"the corpus differs from the one run {folder.path!r} was trained on "
                         f"(recorded {folder.corpus}, loaded {fingerprint}; data: "
                         f"{folder.config.data}); the run is left as it is")
    folder.check_records(checkpoints)
    return checkpoints[0].epoch + 1 if checkpoints else 0
