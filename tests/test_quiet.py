"""A quiet start: no TensorFlow log line from our commands, and no TensorFlow at all for
``--help``; TensorFlow's start-up log stays reachable with ``TF1_BIRNN_VERBOSE=1``.

Each check runs in a fresh interpreter with a clean environment (no ``TF_CPP_MIN_LOG_LEVEL``:
conftest sets it for this process only)."""
import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

from tiny import tiny_npz

ROOT = pathlib.Path(__file__).resolve().parents[1]
# a line of TensorFlow's C++ log ("I0000 00:00:... cudart_stub.cc:31] ...") or absl's note
TF_LOG = re.compile(r"^[IWEF]\d{4} [\d:.]+ +\d+ \w+\.cc:\d+\]|absl::InitializeLog", re.M)


def _python(*args, verbose=False, timeout=300):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TF_CPP_", "TF1_BIRNN_"))}
    env["PYTHONPATH"] = str(ROOT)
    if verbose:
        env["TF1_BIRNN_VERBOSE"] = "1"
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=timeout)


def test_import_is_lazy_and_public_names_still_import():
    code = ("import sys, tf1_birnn; assert 'tensorflow' not in sys.modules; "
            "from tf1_birnn.tools import bench, compare; assert 'tensorflow' not in sys.modules; "
            "from tf1_birnn import LSTMcell, build_network, Standardize; "
            "assert 'tensorflow' in sys.modules; print(sorted(dir(tf1_birnn))[:2])")
    out = _python("-c", code)
    assert out.returncode == 0, out.stderr
    assert not TF_LOG.search(out.stdout + out.stderr), out.stderr
    out = _python("-c", "import tf1_birnn; tf1_birnn.nope")
    assert "module 'tf1_birnn' has no attribute 'nope'" in out.stderr


@pytest.mark.skipif(importlib.util.find_spec("tf1_birnn.training.config") is None,
                    reason="the train command's presets still live in the TensorFlow-heavy "
                           "training.run (issue 11 moves them to training.config)")
def test_help_and_argument_errors_do_not_import_tensorflow():
    code = ("import sys\nfrom tf1_birnn.tools.cli import main\n"
            "for argv in (['--help'], ['train', '--help'], ['train', '--epochs', 'x']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print('tensorflow imported:', 'tensorflow' in sys.modules)")
    out = _python("-c", code)
    assert "tensorflow imported: False" in out.stdout, out.stdout + out.stderr
    assert "usage: tf1-birnn" in out.stdout and "expected a positive integer" in out.stderr


def test_help_prints_no_tensorflow_log():
    out = _python("-m", "tf1_birnn", "--help")
    assert out.returncode == 0 and "usage: tf1-birnn" in out.stdout
    assert "--verbose" in out.stdout
    assert not TF_LOG.search(out.stdout + out.stderr), out.stderr


def test_a_tiny_train_prints_no_tensorflow_log(tmp_path):
    data = tiny_npz(tmp_path / "tiny.npz", n=6)
    out = _python("-m", "tf1_birnn", "train", "--data", data, "--num-units", "4",
                  "--epochs", "1", "--logdir", str(tmp_path / "logs"), "--run-name", "q",
                  "--no-progress")
    assert out.returncode == 0, out.stderr
    assert "(0, 'train:'" in out.stdout
    assert not TF_LOG.search(out.stdout + out.stderr), out.stdout + out.stderr
    assert out.stderr == "", out.stderr


def test_verbose_shows_what_quiet_captured():
    code = ("import tf1_birnn, tensorflow, sys\nfrom tf1_birnn.core import quiet\n"
            "sys.stdout.write(quiet.captured)")
    quiet = _python("-c", code)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    loud = _python("-c", code, verbose=True)
    assert loud.returncode == 0 and loud.stdout == ""  # nothing captured
    # whatever TensorFlow prints on this machine, quiet mode captured it and verbose shows it
    first = [line for line in quiet.stdout.splitlines() if TF_LOG.search(line)][:1]
    for line in first:
        assert line.split("]")[-1] in loud.stderr
    assert bool(first) == bool(TF_LOG.search(loud.stderr))
