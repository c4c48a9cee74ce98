"""``RunLock``: one process at a time trains a run folder.

The lock is an exclusive ``flock`` on ``run_dir/lock``, held while the process trains; the
file holds the owner's pid, for the message. The kernel drops the ``flock`` when its
process ends, however it ends (SIGKILL included), so a lock left by a dead process is free
without any check-then-remove step that two processes could run at once: taking it over is
the same single system call as taking a fresh one. No TensorFlow here, so the command line
can name ``RunLocked`` without importing it.
"""
import fcntl
import os

__all__ = ["RunLock", "RunLocked"]


class RunLocked(RuntimeError):
    """Another live process holds the run's lock."""


class RunLock:
    """``with RunLock(run_dir):`` holds ``run_dir/lock`` (an exclusive ``flock``, the file
    holding our pid) for the block.

    Raises :class:`RunLocked` when another process holds it; the lock file of a process that
    has ended (its ``flock`` gone with it) is taken over.
    """

    def __init__(self, run_dir):
        self.path = os.path.join(run_dir, "lock")
        self.fd = None

    @property
    def held(self):
        return self.fd is not None

    def acquire(self):
        while True:
            # never through a symbolic link: we truncate what we open
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = self._owner(fd)
                os.close(fd)
                who = f"process {owner}" if owner else "another process"
                raise RunLocked(f"{os.path.dirname(self.path)} is in use by {who} (lock file "
                                f"{self.path}); wait for it to finish") from None
            if self._still_at_path(fd):
                break
            os.close(fd)  # its owner removed it between our open and flock: take the new one
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def _still_at_path(self, fd):
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    @staticmethod
    def _owner(fd):
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None

    def release(self):
        if self.fd is not None:
            fd, self.fd = self.fd, None
            try:  # removed while held: whoever opened it meanwhile sees it is gone and retries
                if self._still_at_path(fd):
                    os.remove(self.path)
            finally:
                os.close(fd)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
