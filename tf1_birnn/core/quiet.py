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
"""
import contextlib
import importlib.abc
import importlib.util
import os
import sys
import tempfile

__all__ = ["install", "uninstall", "verbose", "captured", "ENV"]

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
