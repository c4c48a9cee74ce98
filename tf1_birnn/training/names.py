"""Run names and the log folder, checked before TensorFlow loads (no TensorFlow here).

A run name becomes a folder name and, through TensorFlow's file writers, UTF-8 text: a name
that is not a plain folder name, is too long for the file system, or cannot be written as
UTF-8 (undecodable bytes on the command line arrive as surrogates) is refused in one line.
"""
import os

__all__ = ["check_run_name", "check_new_run"]


def _name_limit(logdir):
    try:
        return os.pathconf(logdir if os.path.isdir(logdir) else ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _utf8(text, what):
    try:
        os.fspath(text).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} must be UTF-8 text (it holds bytes that are not); got "
                         f"{os.fspath(text)!a}") from None


def check_run_name(logdir, run_name):
    """Raise ``ValueError`` unless ``logdir`` and ``run_name`` (``None``: generated) can name
    a run folder."""
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
