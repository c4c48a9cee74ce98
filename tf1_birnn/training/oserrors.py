"""File-system errors said plainly, without TensorFlow: one table of causes.

``describe_os_error`` turns an ``OSError`` into one line for the command line
(``logs/r: disk full``); ``os_errors(where)`` re-raises an error that TensorFlow reports in
its own text (a full disk while writing events or a checkpoint...) as the ``OSError`` it is.
"""
import contextlib
import errno
import os

__all__ = ["OS_CAUSES", "describe_os_error", "os_errors"]

# what an OSError's errno means to a user
OS_CAUSES = {errno.ENOSPC: "disk full", errno.EDQUOT: "disk quota exceeded",
             errno.EACCES: "permission denied", errno.EPERM: "permission denied",
             errno.EROFS: "read-only file system", errno.ENOTDIR: "not a directory",
             errno.EISDIR: "is a directory", errno.ENAMETOOLONG: "name too long",
             errno.ENOENT: "no such file or directory", errno.EEXIST: "already exists"}
# the causes recognised in the text of TensorFlow's errors: those of writing a file (a
# missing file is TensorFlow's own NotFoundError, reported where it is read)
_WRITE_CAUSES = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.ENOTDIR,
                 errno.ENAMETOOLONG)


def describe_os_error(err):
    """One line for an ``OSError``: the path and the cause, e.g. ``logs/r: disk full``."""
    if err.errno is None or err.strerror is None:  # raised by us with a full message
        return str(err)
    cause = OS_CAUSES.get(err.errno, err.strerror)
    if err.filename is None:
        return cause
    where = os.fsdecode(err.filename)
    if err.filename2 is not None:
        where += f" -> {os.fsdecode(err.filename2)}"
    return f"{where}: {cause}"


def _from_tensorflow(err):
    """True for TensorFlow's ``OpError`` (by name: no TensorFlow import here) or a
    ``RuntimeError`` (what its event writers raise)."""
    return isinstance(err, RuntimeError) or any(
        c.__name__ == "OpError" and c.__module__.startswith("tensorflow")
        for c in type(err).__mro__)


@contextlib.contextmanager
def os_errors(where):
    """Re-raise a TensorFlow error caused by the file system as the ``OSError`` it is,
    naming the file it names (or ``where``)."""
    try:
        yield
    except Exception as err:
        if not _from_tensorflow(err):
            raise
        text = str(getattr(err, "message", err)).strip()
        for code in _WRITE_CAUSES:
            if os.strerror(code) in text:
                path = text.split(";")[0].strip()
                if not os.path.isabs(path) or "\n" in path:
                    path = where
                raise OSError(code, os.strerror(code), path) from None
        raise
