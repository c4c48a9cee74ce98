"""A run folder's files, read and written without TensorFlow: ``config.json`` and
``history.json`` (atomic JSON), the checks on a new run's name, and the list of runs.

Kept apart from ``tf1_birnn.training.run`` (which builds graphs) so that the commands can
check a run folder, a run name or a ``--utterance`` before TensorFlow is imported.
"""
import errno
import json
import os
import time

from .checkpoints import write_atomic
from .config import RunConfig

__all__ = ["open_run", "check_run_name", "check_new_run", "new_run_dir", "find_runs",
           "read_json", "write_json"]


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


def check_new_run(logdir, run_name):
    """Raise unless ``run_name`` (``None``: a generated name) can be a new run in ``logdir``."""
    check_run_name(logdir, run_name)
    if run_name is not None and os.path.exists(os.path.join(logdir, run_name)):
        raise FileExistsError(f"run {os.path.join(logdir, run_name)!r} already exists; pass "
                              "--resume to continue it or choose another --run-name")


def new_run_dir(logdir, run_name=None, preset="run"):
    """Create and return ``logdir/run_name``; refuse an existing one."""
    check_new_run(logdir, run_name)
    if run_name is None:
        base = f"{preset}-{time.strftime('%Y%m%d-%H%M%S')}"
        run_name, k = base, 1
        while os.path.exists(os.path.join(logdir, run_name)):
            k += 1
            run_name = f"{base}-{k}"
    run_dir = os.path.join(logdir, run_name)
    os.makedirs(logdir, exist_ok=True)
    os.mkdir(run_dir)  # refuses a folder made meanwhile
    return run_dir


_HISTORY_KEYS = ("epoch", "train", "test", "seconds")


def open_run(run_dir):
    """Read a run's ``(RunConfig, history)``; ``ValueError`` naming the file if it is not a
    run folder or a file in it is malformed."""
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
    history = []
    hist_path = os.path.join(run_dir, "history.json")
    if os.path.isfile(hist_path):
        history = _check_history(read_json(hist_path), hist_path)
    return config, history


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
