"""Checkpoints a user can trust: numbered by epoch, verified, found by listing the folder.

A run folder holds ``model.ckpt-<epoch>.index`` + ``.data-*`` (``tf.compat.v1.train.Saver``,
``<epoch>`` counts from 0 like the printed epochs) and, written after them,
``model.ckpt-<epoch>.manifest.json`` with the size and SHA-256 of each file. A checkpoint
counts only once its manifest exists and matches its files, so a save cut short (kill, disk
full) or a damaged file is skipped and the previous checkpoint is used, saying so.

Checkpoints are found by listing the folder, never through the absolute paths in TensorFlow's
``checkpoint`` file (which we still write, with relative paths, for TensorFlow's tools): a
moved or copied run folder uses its own weights.

``save_checkpoint`` saves, writes the manifest and keeps the three newest; ``last_checkpoint``
names the file that fails (restoring is ``tf1_birnn.training.restore``); ``set_aside``
moves a damaged checkpoint to ``damaged/`` instead of deleting it, never over an earlier one.

Tests stop a save between its steps with ``TF1_BIRNN_TEST_KILL_AT=<step>:<epoch>``
(:func:`kill_point`: the process SIGKILLs itself there), to show that a kill at any
instant of a save leaves a run that resumes.

Run folders written before manifests existed (``model.ckpt-<epochs done>``, numbered from 1)
are read as they are, unverified (their old variable names: ``tf1_birnn.training.restore``).
"""
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal

__all__ = ["CheckpointError", "Checkpoint", "list_checkpoints", "epochs_done", "write_manifest",
           "write_atomic",
           "verify_checkpoint", "remove_checkpoint", "last_checkpoint", "save_checkpoint",
           "set_aside", "kill_point", "remove_leftovers", "PREFIX"]

PREFIX = "model.ckpt"
_INDEX = re.compile(r"^model\.ckpt-(\d+)\.index$")
_MANIFEST = ".manifest.json"
_MANIFEST_NAME = re.compile(r"^model\.ckpt-(\d+)\.manifest\.json$")


class CheckpointError(ValueError):
    """A run has no checkpoint that can be restored, or one is damaged."""


def kill_point(step, epoch):
    """Signal this process at save step ``step`` of ``epoch`` when the tests ask for it:
    ``TF1_BIRNN_TEST_KILL_AT=<step>:<epoch>`` sends SIGKILL, ``<step>:<epoch>:TERM`` SIGTERM;
    otherwise nothing."""
    wanted = os.environ.get("TF1_BIRNN_TEST_KILL_AT")
    if wanted in (f"{step}:{epoch}", f"{step}:{epoch}:TERM"):
        os.kill(os.getpid(), signal.SIGTERM if wanted.endswith(":TERM") else signal.SIGKILL)


class Checkpoint:
    """One checkpoint of a run: ``path`` (the prefix ``Saver`` takes), ``epoch`` (the last
    finished epoch, from 0) and ``verified`` (``False`` for a legacy one without manifest)."""

    def __init__(self, path, epoch, number, verified):
        self.path, self.epoch, self.number, self.verified = path, epoch, number, verified

    @property
    def name(self):
        return os.path.basename(self.path)

    def __repr__(self):
        return f"Checkpoint({self.path!r}, epoch={self.epoch})"


def _files_of(run_dir, number):
    """The files of checkpoint ``number`` (``.index`` and ``.data-<i>-of-<n>``; not the
    ``.tempstate`` files of a save cut short), sorted."""
    files = re.compile(rf"^{re.escape(PREFIX)}-{number}\.(index|data-\d+-of-\d+)$")
    return sorted(f for f in os.listdir(run_dir) if files.match(f))


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(run_dir, number):
    return os.path.join(run_dir, f"{PREFIX}-{number}{_MANIFEST}")


def write_manifest(run_dir, epoch):
    """Write the manifest of checkpoint ``model.ckpt-<epoch>`` (after its files are saved)."""
    files = {f: dict(size=os.path.getsize(os.path.join(run_dir, f)),
                     sha256=_sha256(os.path.join(run_dir, f)))
             for f in _files_of(run_dir, epoch)}
    write_atomic(manifest_path(run_dir, epoch),
                 json.dumps(dict(epoch=epoch, files=files), indent=1))


def write_atomic(path, data):
    """Write ``data`` (str or bytes) to ``path`` through ``<path>.tmp``, synced and renamed:
    an error or a kill leaves the old file or the new one, never half of one."""
    tmp = f"{path}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def verify_checkpoint(checkpoint):
    """Raise :class:`CheckpointError` naming the file unless ``checkpoint`` matches its
    manifest (legacy checkpoints without one pass unverified)."""
    if not checkpoint.verified:
        return
    run_dir = os.path.dirname(checkpoint.path)
    path = manifest_path(run_dir, checkpoint.number)
    try:
        with open(path, encoding="utf-8") as f:
            files = json.load(f)["files"]
        items = [(name, int(info["size"]), str(info["sha256"])) for name, info in files.items()]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise CheckpointError(f"{path}: not a readable checkpoint manifest ({e})") from None
    if not any(name.endswith(".index") for name, _, _ in items):
        raise CheckpointError(f"{path}: the manifest lists no .index file")
    outside = [name for name, _, _ in items if os.path.basename(name) != name]
    if outside:
        raise CheckpointError(f"{path}: the manifest names a file outside the run folder "
                              f"({outside[0]!r})")
    for name, size, sha in items:
        file = os.path.join(run_dir, name)
        if not os.path.isfile(file):
            raise CheckpointError(f"{file}: missing")
        if os.path.getsize(file) != size:
            raise CheckpointError(f"{file}: {os.path.getsize(file)} bytes; the manifest "
                                  f"says {size}")
        if _sha256(file) != sha:
            raise CheckpointError(f"{file}: its checksum does not match the manifest")


def list_checkpoints(run_dir):
    """The checkpoints in ``run_dir``, newest first (found by listing the folder).

    A checkpoint whose manifest was never written (the save was cut short) is left out,
    unless the folder has no manifest at all: then it is a run written before manifests,
    whose ``model.ckpt-<n>`` holds ``n`` epochs (its last epoch is ``n - 1``).
    """
    try:
        names = os.listdir(run_dir)
    except OSError:
        return []
    with_manifest = {int(m.group(1)) for m in map(_MANIFEST_NAME.match, names) if m}
    numbers = sorted({int(m.group(1)) for m in map(_INDEX.match, names) if m} | with_manifest,
                     reverse=True)  # a manifest whose .index is gone: listed, then fails
    legacy = not with_manifest
    found = []
    for n in numbers:
        path = os.path.join(run_dir, f"{PREFIX}-{n}")
        if n in with_manifest:
            found.append(Checkpoint(path, n, n, True))
        elif legacy and n >= 1:
            found.append(Checkpoint(path, n - 1, n, False))
    return found


def epochs_done(run_dir):
    """Epochs that the newest checkpoint of ``run_dir`` holds (0 if it has none): where
    ``train_run(resume=True)`` continues."""
    found = list_checkpoints(run_dir)
    return found[0].epoch + 1 if found else 0


def remove_checkpoint(run_dir, number):
    """Delete the files and manifest of checkpoint ``number`` (manifest first)."""
    for path in [manifest_path(run_dir, number)] + [os.path.join(run_dir, f)
                                                    for f in _files_of(run_dir, number)]:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def write_checkpoint_state(run_dir, checkpoints):
    """TensorFlow's ``checkpoint`` file with paths relative to the run folder (newest last)."""
    names = [c.name for c in reversed(checkpoints)]
    if not names:
        return
    lines = [f'model_checkpoint_path: "{names[-1]}"'] + \
            [f'all_model_checkpoint_paths: "{n}"' for n in names]
    path = os.path.join(run_dir, "checkpoint")
    with open(f"{path}.tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(f"{path}.tmp", path)


def last_checkpoint(run_dir):
    """The prefix of ``run_dir``'s newest checkpoint that matches its manifest (found by
    listing the folder, so a moved or copied run uses its own files); ``ValueError`` if none."""
    checkpoints = list_checkpoints(run_dir)
    if not checkpoints:
        raise CheckpointError(f"run {run_dir!r} has no checkpoint yet")
    problems = []
    for c in checkpoints:
        try:
            verify_checkpoint(c)
            return c.path
        except CheckpointError as e:
            problems.append(str(e))
    raise CheckpointError(f"no checkpoint of run {run_dir!r} is intact: {'; '.join(problems)}")


def set_aside(run_dir, damaged):
    """Move damaged checkpoints to ``run_dir/damaged/`` (they are never deleted); return the
    names they got there: ``model.ckpt-2``, or ``model.ckpt-2~1``, ``~2``... when an
    earlier one of that name is already there (the caller holds the run's lock)."""
    aside = os.path.join(run_dir, "damaged")
    os.makedirs(aside, exist_ok=True)
    names = []
    for c in damaged:
        stem, taken = f"{c.name}.", os.listdir(aside)
        name, k = c.name, 0
        while any(f.startswith(f"{name}.") for f in taken):
            k += 1
            name = f"{c.name}~{k}"
        for f in os.listdir(run_dir):
            if f.startswith(stem):
                os.replace(os.path.join(run_dir, f),
                           os.path.join(aside, name + f[len(c.name):]))
        names.append(name)
    return names


def remove_leftovers(run_dir):
    """Delete what saves cut short left behind: TensorFlow's ``*.tempstate*`` files and
    ``*_temp*/`` folders of a checkpoint, and our own ``*.tmp`` files."""
    for f in os.listdir(run_dir):
        path = os.path.join(run_dir, f)
        ours = f.endswith(".tmp") and os.path.isfile(path)
        if f.startswith(PREFIX) and ("tempstate" in f or "_temp" in f) or ours:
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.remove(path)


def save_checkpoint(saver, sess, run_dir, epoch, keep=3):
    """Save checkpoint ``model.ckpt-<epoch>``, then its manifest; keep the ``keep`` newest.

    A save that fails (disk full...) leaves no partial checkpoint behind.
    """
    try:
        saver.save(sess, os.path.join(run_dir, PREFIX), global_step=epoch,
                   write_meta_graph=False, write_state=False)
        kill_point("saved", epoch)
        write_manifest(run_dir, epoch)
    except BaseException:
        remove_checkpoint(run_dir, epoch)
        raise
    kill_point("manifest", epoch)
    checkpoints = list_checkpoints(run_dir)
    for old in checkpoints[keep:]:
        remove_checkpoint(run_dir, old.number)
        kill_point("pruned", epoch)
    write_checkpoint_state(run_dir, checkpoints[:keep])
    kill_point("state", epoch)
