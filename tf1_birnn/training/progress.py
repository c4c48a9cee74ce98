"""Progress per epoch: a ``tqdm`` bar with ETA on a terminal, plain lines elsewhere."""
import shutil
import sys
import time

from ..quiet import is_terminal

__all__ = ["progress"]


class _Lines:
    """Plain progress lines (a log file, CI, a notebook): at most ``n_lines`` per epoch."""

    def __init__(self, total, desc, file, n_lines=4):
        self.total, self.desc, self.file = total, desc, file
        self.n, self.start = 0, time.time()
        self.marks = {max(1, round(total * k / n_lines)) for k in range(1, n_lines + 1)}

    def update(self, n=1):
        self.n += n
        if self.n in self.marks and self.n < self.total:
            elapsed = time.time() - self.start
            eta = elapsed / self.n * (self.total - self.n)
            print(f"{self.desc}: {self.n}/{self.total} steps, {elapsed:.0f} s, ETA {eta:.0f} s",
                  file=self.file, flush=True)

    def close(self):
        pass


def progress(total, desc, enabled=True, file=None):
    """Return an object with ``update(n)`` and ``close()`` counting ``total`` steps."""
    file = file or sys.stderr
    if not enabled:
        return _Lines(total, desc, file, n_lines=0)
    if is_terminal(file):
        try:
            from tqdm import tqdm
        except ImportError:  # tqdm is optional: `pip install tf1_birnn[progress]`
            pass
        else:  # (the width from the terminal: stderr may be quiet's filter, a pipe)
            return tqdm(total=total, desc=desc, file=file, leave=False, unit="step",
                        ncols=shutil.get_terminal_size().columns)
    return _Lines(total, desc, file)
