"""``RunFolder``: one run folder and the files it owns, without TensorFlow.

A run folder ``<logdir>/<run-name>/`` holds ``config.json`` (the ``RunConfig``),
``history.json`` (per-epoch losses and seconds, the corpus fingerprint), ``lock`` while a
process trains it, and its checkpoints (``tf1_birnn.training.checkpoints``). ``RunFolder``
reads and writes them, each JSON file atomically (a kill leaves the old file or the new one).

- ``RunFolder.new(logdir, run_name, preset)`` checks a new run's name once (UTF-8, a plain
  name the file system allows, not taken) and ``make()`` creates it later, once the network
  is built, so a run that cannot start leaves no folder;
- ``RunFolder.open(run_dir)`` reads an existing run's config and history, checked once.

Kept apart from the modules that build graphs (``session``, ``run``) so that the commands can
check a run folder, a run name or a ``--utterance`` before TensorFlow is imported.
"""
import errno
import json
import os
import shutil
import time
from dataclasses import asdict

from .checkpoints import PREFIX, CheckpointError, list_checkpoints, write_atomic
from .config import RunConfig
from .lock import RunLock

__all__ = ["RunFolder", "open_run", "check_run_name", "find_runs", "read_json", "write_json"]


def write_json(path, obj):
    """Write ``obj`` to ``path`` atomically (a kill leaves the old file or the new one)."""
    write_atomic(path, json.dumps(obj, indent=1))


def read_json(path):
    """The JSON object in ``path``; ``ValueError`` naming the file if it is not one."""
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not a JSON file ({e.reason})") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a JSON object; got {type(obj).__name__}")
    return obj


def _name_limit(logdir):
    try:
        return os.pathconf(logdir if os.path.isdir(logdir) else ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _utf8(text, what):
    """Refuse text that cannot be written as UTF-8 (undecodable bytes on the command line
    arrive as surrogates; TensorFlow's file writers would fail on them much later)."""
    try:
        os.fspath(text).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} must be UTF-8 text (it holds bytes that are not); got "
                         f"{os.fspath(text)!a}") from None


def check_run_name(logdir, run_name):
    """Raise unless ``logdir`` and ``run_name`` (``None``: a generated name) can name a run
    folder: UTF-8 text, a folder for ``logdir``, a plain name the file system allows."""
    _utf8(logdir, "--logdir")
    if os.path.exists(logdir) and not os.path.isdir(logdir):
        raise NotADirectoryError(f"--logdir {logdir!r} is a file, not a folder")
    if run_name is None:
        return
    _utf8(run_name, "run name")
    if not run_name or os.sep in run_name or run_name in (".", "..") or "\0" in run_name:
        raise ValueError(f"run name must be a plain folder name; got {run_name!r}")
    limit = _name_limit(logdir)
    if len(os.fsencode(run_name)) > limit:
        raise ValueError(f"run name is too long: {len(os.fsencode(run_name))} bytes, the file "
                         f"system allows {limit}; got {run_name[:40]!r}...")


_HISTORY_KEYS = ("epoch", "train", "test", "seconds")


def open_run(run_dir):
    """Read a run's ``(RunConfig, history)``; ``ValueError`` naming the file if it is not a
    run folder or a file in it is malformed (``RunFolder.open`` without the folder)."""
    folder = RunFolder.open(run_dir)
    return folder.config, folder.history


def _read_run(run_dir):
    _utf8(run_dir, "the run folder")  # TensorFlow reads its checkpoints by UTF-8 path
    path = os.path.join(run_dir, "config.json")
    if not os.path.isdir(run_dir):
        raise FileNotFoundError(errno.ENOENT, "no such run folder", run_dir)
    if not os.path.isfile(path):
        raise ValueError(f"{run_dir!r} is not a tf1_birnn run folder (no config.json)")
    try:
        config = RunConfig(**read_json(path))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path}: not a run's settings ({e})") from None
    return (config, *_read_history(run_dir))


def _read_history(run_dir):
    """``(history, corpus)`` of ``run_dir/history.json`` (``([], None)``: none yet)."""
    hist_path = os.path.join(run_dir, "history.json")
    if not os.path.isfile(hist_path):
        return [], None
    obj = read_json(hist_path)
    return _check_history(obj, hist_path), obj.get("corpus")


class RunFolder:
    """One run folder: its ``config`` (``RunConfig``), ``history`` (one dict per epoch), the
    ``corpus`` fingerprint it recorded, its lock and its checkpoints.

    Make one with ``RunFolder.new`` (a run to start: ``path`` is ``None`` until ``make()``)
    or ``RunFolder.open`` (an existing run).
    """

    def __init__(self, logdir, name, preset="run", config=None, history=(), corpus=None):
        self.logdir, self.name, self.preset = logdir, name, preset
        self.path = None  # set by make() or open()
        self.config, self.history, self.corpus = config, list(history), corpus

    @classmethod
    def new(cls, logdir, run_name=None, preset="run"):
        """A new run ``logdir/run_name`` (``None``: ``<preset>-<time>``), not made yet; raise
        unless the name can be a new run folder (checked here, once)."""
        check_run_name(logdir, run_name)
        if run_name is not None and os.path.exists(os.path.join(logdir, run_name)):
            raise FileExistsError(f"run {os.path.join(logdir, run_name)!r} already exists; pass "
                                  "--resume to continue it or choose another --run-name")
        return cls(logdir, run_name, preset)

    @classmethod
    def open(cls, run_dir):
        """The existing run ``run_dir``, its config and history read and checked."""
        config, history, corpus = _read_run(run_dir)
        head, name = os.path.split(os.path.normpath(run_dir))
        folder = cls(head, name, config.preset, config, history, corpus)
        folder.path = run_dir
        return folder

    def make(self):
        """Create the folder (a generated name takes the first free ``-2``, ``-3``...);
        refuse one made meanwhile. Returns its path."""
        name = self.name
        if name is None:
            base = f"{self.preset}-{time.strftime('%Y%m%d-%H%M%S')}"
            name, k = base, 1
            while os.path.exists(os.path.join(self.logdir, name)):
                k += 1
                name = f"{base}-{k}"
        os.makedirs(self.logdir, exist_ok=True)
        os.mkdir(os.path.join(self.logdir, name))  # refuses a folder made meanwhile
        self.name, self.path = name, os.path.join(self.logdir, name)
        return self.path

    def remove(self):
        """Delete the folder (a new run whose first epoch did not finish)."""
        shutil.rmtree(self.path, ignore_errors=True)

    def file(self, name):
        return os.path.join(self.path, name)

    def lock(self):
        """``with folder.lock():`` one process at a time trains the run (``RunLock``)."""
        return RunLock(self.path)

    def write_config(self, config):
        """Save ``config`` as ``config.json``."""
        write_json(self.file("config.json"), asdict(config))
        self.config = config

    def write_history(self, corpus, history):
        """Save ``history`` (one dict per epoch) and the ``corpus`` fingerprint."""
        write_json(self.file("history.json"), dict(corpus=corpus, epochs=history))
        self.history, self.corpus = list(history), corpus

    def has_history(self):
        return os.path.isfile(self.file("history.json"))

    def checkpoints(self):
        """The run's checkpoints, newest first (``list_checkpoints``)."""
        return list_checkpoints(self.path)

    def check_records(self, checkpoints):
        """Refuse a run whose ``checkpoints`` and ``history.json`` tell different epochs,
        rather than relabel its checkpoints (e.g. its manifests deleted: ``model.ckpt-1``
        would read as a run made before manifests, holding 1 epoch, while history.json
        records 2)."""
        if not self.has_history():
            return
        # read afresh: another process may have finished an epoch since the folder was opened
        self.history, self.corpus = _read_history(self.path)
        recorded = len(self.history)
        if not checkpoints:
            if recorded > 1:  # (one row: killed before its first checkpoint counted)
                raise CheckpointError(f"the records of run {self.path!r} disagree: history.json "
                                      f"records {recorded} epochs but no checkpoint is left; "
                                      "the run is left as it is")
            return
        newest = checkpoints[0]
        legacy = not newest.verified
        zero = legacy and any(f.startswith(f"{PREFIX}-0.") for f in os.listdir(self.path))
        if not zero and recorded == newest.epoch + 1 or not legacy and recorded > newest.epoch:
            return  # (more rows than checkpoints: the epoch in progress, or a damaged one)
        if zero:  # a run made before manifests numbered its checkpoints from 1
            why = f"{PREFIX}-0 has no manifest, so its checkpoints' manifests are missing"
        else:
            why = f"{newest.name} holds {newest.epoch + 1} epochs" + (
                " (read as a run made before manifests: it has none)" if legacy else "")
        raise CheckpointError(f"the records of run {self.path!r} disagree: history.json "
                              f"records {recorded} epochs but {why}; the run is left as it is")


def _check_history(obj, path):
    rows = obj.get("epochs")
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected {{\"epochs\": [...]}}; got keys {sorted(obj)}")
    for k, row in enumerate(rows):
        if not isinstance(row, dict) or any(key not in row for key in _HISTORY_KEYS):
            raise ValueError(f"{path}: epoch row {k} must have {', '.join(_HISTORY_KEYS)}; "
                             f"got {row!r}")
        if row["epoch"] != k:
            raise ValueError(f"{path}: row {k} is epoch {row['epoch']!r}; expected {k}")
    return rows


def find_runs(logdir):
    """The run folders (those with a ``config.json``) directly inside ``logdir``, by name;
    ``[]`` if ``logdir`` does not exist."""
    if not os.path.isdir(logdir):
        return []
    return [os.path.join(logdir, d) for d in sorted(os.listdir(logdir))
            if os.path.isfile(os.path.join(logdir, d, "config.json"))]
