"""A quiet TensorFlow start-up, for the command line and the notebooks.

TensorFlow 2.21 prints its C++ start-up log to the process's stderr (file descriptor 2)
before its logging is set up, so ``TF_CPP_MIN_LOG_LEVEL`` cannot silence it:

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 ... cudart_stub.cc:31] Could not find cuda drivers on your machine, ...
    I0000 ... cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use ...
    E0000 ... cuda_platform.cc:52] failed call to cuInit: ... (a CPU machine, not a failure)

``install()`` (called by ``import tf1_birnn``, imports nothing heavy) wraps the first
``import tensorflow`` of the process: while TensorFlow loads and lists its devices (which
prints the cuInit line), file descriptor 2 goes to a temporary file, kept in ``captured``
and printed if the import fails. ``TF_CPP_MIN_LOG_LEVEL`` defaults to 1 (warnings and
errors stay) for the log lines after it.

TensorFlow's messages stay reachable: with ``TF1_BIRNN_VERBOSE=1`` in the environment, or
``tf1-birnn --verbose``, nothing is wrapped or changed. If TensorFlow is already imported,
``install()`` does nothing.

At run time TensorFlow logs more lines of its own, some of them at error level although
nothing failed: on hosts where its oneDNN rewrites are on, e.g. ``E0000 ... util.cc:131]
oneDNN supports DT_BOOL only on platforms with AVX-512`` when a graph first runs.
``TF_CPP_MIN_LOG_LEVEL`` does not hide absl's error lines, so after the import file
descriptor 2 is passed through ``LineFilter`` in a small child process (``start_filter``),
which drops TensorFlow's C++ log lines (``I``, ``W`` and ``E``, in TensorFlow's old and new
formats, and absl's note) and passes everything else on unchanged, at once: our messages,
Python's tracebacks, progress bars, and ``F`` (fatal) lines, which say why a process
aborts. The child outlives a crash of its parent (it ends when the last writer closes the
pipe), so nothing written before a crash is lost.
"""
import atexit
import contextlib
import importlib.abc
import importlib.util
import os
import re
import signal
import subprocess
import sys
import tempfile

__all__ = ["install", "uninstall", "verbose", "captured", "ENV", "is_tf_log", "LineFilter",
           "start_filter", "is_terminal"]

ENV = "TF1_BIRNN_VERBOSE"  # set to 1 to see TensorFlow's start-up log
captured = ""  # what TensorFlow printed while it started (empty until then)


def verbose():
    """True when ``TF1_BIRNN_VERBOSE`` asks for TensorFlow's start-up log."""
    return os.environ.get(ENV, "") not in ("", "0")


@contextlib.contextmanager
def _stderr_to_file():
    """Send file descriptor 2 (C++ and Python writes alike) to a temporary file; yield a
    function that returns what was written."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (a closed stderr): nothing to quiet
        yield lambda: ""
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield lambda: (tmp.seek(0), tmp.read().decode("utf-8", "replace"))[1]
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


class _QuietLoader(importlib.abc.Loader):
    """Loads ``tensorflow`` with its start-up log captured."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        global captured
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # later INFO lines
        ok = False
        with _stderr_to_file() as read:
            try:
                self.loader.exec_module(module)
                module.config.list_physical_devices()  # device set-up logs cuInit now
                ok = True
            finally:
                captured = read()
        if not ok and captured:  # the log may explain the failure
            sys.stderr.write(captured)
        if ok:
            start_filter()  # the lines TensorFlow logs later, while graphs run


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        uninstall()  # only the first import, and find the real spec without us
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


_finder = _Finder()


def install():
    """Quiet the next ``import tensorflow`` unless ``verbose()`` or it was imported already."""
    if verbose() or "tensorflow" in sys.modules or _finder in sys.meta_path:
        return
    sys.meta_path.insert(0, _finder)


def uninstall():
    """Let TensorFlow print its start-up log (``tf1-birnn --verbose``)."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)


# TensorFlow's C++ log lines: absl's "I0000 00:00:1796566729.867258    2231 util.cc:131] ..."
# and the older "2025-03-11 22:30:58.742701: E tensorflow/core/util/util.cc:131] ...";
# I, W, E (info, warning, error). F (fatal) is kept: it says why the process aborts.
_TF_LOG = re.compile(rb"^(?:[IWE]\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w.-]+:\d+\] "
                     rb"|\d{4}-\d\d-\d\d \d\d:\d\d:[\d.]+: [IWE] [\w./-]+:\d+\] "
                     rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
                     rb"|To enable the following instructions: .*rebuild TensorFlow with)")
_LINE_ENDS = re.compile(rb"(\r\n|\n|\r)")


def is_tf_log(line):
    """True for one of TensorFlow's C++ log lines at level I, W or E (bytes or str)."""
    if isinstance(line, str):
        line = line.encode("utf-8", "replace")
    return bool(_TF_LOG.match(line))


class LineFilter:
    """Drops TensorFlow's log lines from a byte stream and passes the rest on unchanged.

    ``feed(data)`` returns the bytes to write now. A line is judged when it is complete
    (``\\n`` or ``\\r``, so a progress bar redrawn with ``\\r`` passes at once); an
    unfinished tail that cannot be the start of a TensorFlow line is passed on without
    waiting. ``close()`` returns what is left.
    """

    def __init__(self):
        self.pending = b""

    def feed(self, data):
        parts = _LINE_ENDS.split(self.pending + data)  # [text, end, text, end, ..., tail]
        out = [text + end for text, end in zip(parts[0::2], parts[1::2])
               if not is_tf_log(text)]
        tail = parts[-1]
        if tail and not self._may_be_tf_log(tail):
            out.append(tail)
            tail = b""
        self.pending = tail
        return b"".join(out)

    def close(self):
        tail, self.pending = self.pending, b""
        return b"" if is_tf_log(tail) else tail

    @staticmethod
    def _may_be_tf_log(tail):
        """True while the unfinished ``tail`` could still become a TensorFlow log line."""
        if len(tail) > 4096:
            return False
        if re.match(rb"[IWE](?:\d|$)|\d", tail):
            return True
        return any(tail.startswith(start) or start.startswith(tail)
                   for start in (b"WARNING: All log messages", b"To enable the following"))


def _serve(source=0, sink=1):
    """The filter child: copy ``source`` to ``sink`` through ``LineFilter`` until end of file."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # end with the writers, not before
        signal.signal(sig, signal.SIG_IGN)
    line_filter = LineFilter()
    while True:
        data = os.read(source, 65536)
        out = line_filter.feed(data) if data else line_filter.close()
        while out:
            try:
                out = out[os.write(sink, out):]
            except OSError:  # the reader is gone: keep reading, so the writers never block
                out = b""
        if not data:
            return


_child = None
_stderr_was_terminal = False  # whether file descriptor 2 was a terminal before the filter


def is_terminal(file):
    """``file.isatty()``, except that ``sys.stderr`` behind the filter counts as the terminal
    it was (so progress bars stay bars)."""
    if _child is not None and file is sys.stderr:
        return _stderr_was_terminal
    try:
        return file.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def start_filter():
    """Pass this process's file descriptor 2 through ``LineFilter`` from now on (once, and
    not in verbose mode); at exit, restore it and wait for the filter to write the rest."""
    global _child, _stderr_was_terminal
    if _child is not None or verbose():
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no file descriptor 2 (a closed stderr): nothing to filter
        return
    try:
        read, write = os.pipe()
    except OSError:  # no file descriptors left
        os.close(saved)
        return
    try:
        _child = subprocess.Popen([sys.executable, "-I", "-S", __file__], stdin=read,
                                  stdout=saved, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
    except OSError:
        os.close(write)
        os.close(saved)
        return
    finally:
        os.close(read)
    _stderr_was_terminal = os.isatty(2)
    os.dup2(write, 2)
    os.close(write)
    atexit.register(_stop_filter, saved)


def _stop_filter(saved):
    """Give file descriptor 2 back and let the filter child write what is left."""
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os.dup2(saved, 2)  # closes our end of the pipe: the child reads to the end and exits
    os.close(saved)
    with contextlib.suppress(subprocess.TimeoutExpired):
        _child.wait(timeout=5)  # (longer only if a process we started still holds the pipe)


if __name__ == "__main__":  # the filter child of start_filter
    _serve()
