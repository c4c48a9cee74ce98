"""What the tests share besides conftest's fixtures: a tiny learnable corpus (for the
loader, training, TensorBoard and CLI tests), the tiny run's settings (``TINY``,
``tiny_config``, ``tiny_flags``), ``CELLS``, the cell classes by name, ``both_paths``, the
faithful and fast RNN on the same cells with their gradients, and what tests of other
processes wait on (``hold_lock``, ``wait_for_line``, ``dead_pid``)."""
import numpy as np

from tf1_birnn.core.network import CELLS  # noqa: F401  ('gru', 'lstm') -> the cell class


def tiny_corpus(n=10, seed=0, D_input=39, D_label=24, lengths=None):
    """``n`` utterances of 8-16 frames (or of ``lengths`` frames, a list); labels are a
    smoothed linear map of the inputs. ``X[i]`` `[n_frames, D_input]`, ``Y[i]`` `[n_frames, D_label]`."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((D_input, D_label)) / np.sqrt(D_input)
    X, Y = [], []
    for k in range(n if lengths is None else len(lengths)):
        T = int(rng.integers(8, 17)) if lengths is None else lengths[k]
        x = rng.standard_normal((T, D_input))
        y = np.cumsum(x @ W, axis=0) / np.sqrt(np.arange(1, T + 1))[:, None]
        X.append(x.astype(np.float32))
        Y.append(y.astype(np.float32))
    return X, Y


def tiny_npz(path, **kwargs):
    """Write ``tiny_corpus(**kwargs)`` to ``path`` with the package's own ``save_npz``."""
    from tf1_birnn.data.loader import save_npz
    X, Y = tiny_corpus(**kwargs)
    save_npz(str(path), X, Y)
    return str(path)


HOLDER = """
import sys
from tf1_birnn.training.lock import RunLock
with RunLock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


class hold_lock:
    """``with hold_lock(run_dir) as pid:`` a live child process holds ``run_dir``'s lock for
    the block (it says so on a line before the block starts; no timing involved)."""

    def __init__(self, run_dir):
        self.run_dir = str(run_dir)

    def __enter__(self):
        import subprocess
        import sys
        self.proc = subprocess.Popen([sys.executable, "-c", HOLDER, self.run_dir],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline() == "held\n"
        return self.proc.pid

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait()


def both_paths(cell, cell_b, merge, lengths, x, inits, rng, loops="auto"):
    """``RNN`` of ``cell``/``cell_b`` on the faithful and on the fast path (its loops run as
    ``loops`` says), and the gradients of one random projection of each w.r.t. ``wrt`` (``x``,
    ``inits`` and the cells' weights): ``(slow, fast, g_slow, g_fast, wrt, weights)`` (tensors
    in the default graph)."""
    import tensorflow as tf
    from tf1_birnn.core.rnn import RNN
    seq = None if lengths is None else tf.constant(lengths, dtype=tf.int32)
    slow = RNN(cell, cell_b, merge, sequence_length=seq, fast=False)
    fast = RNN(cell, cell_b, merge, sequence_length=seq, fast=True, loops=loops)
    weights = [v for c in (cell, cell_b) if c is not None for v in c.variables()]
    wrt = [x] + inits + weights
    T, N = x.shape[0], x.shape[1]
    proj = tf.constant(rng.standard_normal((T, N, slow.shape[-1])).astype(np.float32))
    g_slow = tf.gradients(tf.reduce_sum(slow * proj), wrt)
    g_fast = tf.gradients(tf.reduce_sum(fast * proj), wrt)
    return slow, fast, g_slow, g_fast, wrt, weights


# the tiny run of the tests: the "quick" preset at 8 units for 2 epochs
TINY = dict(num_units=8, epochs=2)


def tiny_config(**overrides):
    """``preset_config("quick")`` with ``TINY`` and ``overrides``: ``tiny_config(epochs=1)``."""
    from tf1_birnn.training.config import preset_config
    return preset_config("quick", **dict(TINY, **overrides))


def tiny_flags(**overrides):
    """The same settings as ``tf1-birnn train`` flags: ``["--num-units", "8", "--epochs", "2"]``."""
    from tf1_birnn.training.config import flag_name
    return [text for name, value in dict(TINY, **overrides).items()
            for text in (flag_name(name), str(value))]


def wait_for_line(stream, needle, timeout, what):
    """Read ``stream`` (a child's text pipe) until a line holds ``needle``; return that line.

    Fails the test, naming ``what`` it waited for and the last lines read, when the stream ends
    or ``timeout`` seconds pass first. A thread reads the stream and keeps draining it
    afterwards, so the child never blocks on a full pipe."""
    import queue
    import threading
    import time
    import pytest
    lines = queue.Queue()

    def pump():
        for line in stream:
            lines.put(line)
        lines.put(None)  # the stream ended: the child closed it or exited
    threading.Thread(target=pump, daemon=True).start()
    seen, deadline = [], time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"waited {timeout} s for {what} (a line with {needle!r}); last lines "
                        f"read: {seen[-5:]}")
        if line is None:
            pytest.fail(f"the process ended before {what} (a line with {needle!r}); last lines "
                        f"read: {seen[-5:]}")
        seen.append(line)
        if needle in line:
            return line


def dead_pid():
    """The pid of a process that has exited, as a SIGKILLed run leaves it in its lock file."""
    import subprocess
    import sys
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return dead.pid
