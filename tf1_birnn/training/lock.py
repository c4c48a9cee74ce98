"""``RunLock``: a ``lock`` file holding the owner's pid, so that two processes never train
the same run folder at once. A lock whose process no longer exists is taken over. No
TensorFlow here, so the command line can name ``RunLocked`` without importing it."""
import errno
import os

__all__ = ["RunLock", "RunLocked"]


class RunLocked(RuntimeError):
    """Another live process holds the run's lock."""


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


class RunLock:
    """``with RunLock(run_dir):`` holds ``run_dir/lock`` (the pid) for the block.

    Raises :class:`RunLocked` when a live process holds it; a lock left by a dead process is
    taken over.
    """

    def __init__(self, run_dir):
        self.path = os.path.join(run_dir, "lock")
        self.held = False

    def acquire(self):
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                pid = self._owner()
                if pid is not None and pid != os.getpid() and _alive(pid):
                    raise RunLocked(f"{os.path.dirname(self.path)} is in use by process {pid} "
                                    f"(lock file {self.path}); wait for it to finish") from None
                try:  # a stale lock (dead owner, or garbage): take it over
                    os.remove(self.path)
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as f:
                f.write(f"{os.getpid()}\n")
            self.held = True
            return self
        raise RunLocked(f"cannot take the lock {self.path}: another process keeps taking it")

    def _owner(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def release(self):
        if self.held:
            self.held = False
            try:
                if self._owner() == os.getpid():
                    os.remove(self.path)
            except OSError as e:
                if e.errno != errno.ENOENT:
                    raise

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
