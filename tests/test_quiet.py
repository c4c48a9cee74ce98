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

from tf1_birnn.quiet import LineFilter, is_tf_log
from tiny import tiny_npz

ROOT = pathlib.Path(__file__).resolve().parents[1]
# a line of TensorFlow's C++ log ("I0000 00:00:... cudart_stub.cc:31] ...") or absl's note
TF_LOG = re.compile(r"^[IWEF]\d{4} [\d:.]+ +\d+ \w+\.cc:\d+\]|absl::InitializeLog", re.M)


def _clean_env(**extra):
    """This environment without TensorFlow's and our log settings, running this checkout."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TF_CPP_", "TF1_BIRNN_", "TF_ENABLE_ONEDNN"))}
    return dict(env, PYTHONPATH=str(ROOT), **extra)


def _python(*args, verbose=False, timeout=300, env=None):
    clean = _clean_env(**(env or {}))
    if verbose:
        clean["TF1_BIRNN_VERBOSE"] = "1"
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=clean,
                          cwd=ROOT, timeout=timeout)


@pytest.mark.slow
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
@pytest.mark.slow
def test_help_and_argument_errors_do_not_import_tensorflow():
    code = ("import sys\nfrom tf1_birnn.tools.cli import main\n"
            "for argv in (['--help'], ['train', '--help'], ['train', '--epochs', 'x']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print('tensorflow imported:', 'tensorflow' in sys.modules)")
    out = _python("-c", code)
    assert "tensorflow imported: False" in out.stdout, out.stdout + out.stderr
    assert "usage: tf1-birnn" in out.stdout and "expected a positive integer" in out.stderr


@pytest.mark.slow
def test_help_prints_no_tensorflow_log():
    out = _python("-m", "tf1_birnn", "--help")
    assert out.returncode == 0 and "usage: tf1-birnn" in out.stdout
    assert "--verbose" in out.stdout
    assert not TF_LOG.search(out.stdout + out.stderr), out.stderr


@pytest.mark.slow
@pytest.mark.parametrize("onednn", ["0", "1"])
def test_a_tiny_train_prints_no_tensorflow_log(tmp_path, onednn):
    """With TensorFlow's oneDNN rewrites forced on or off (their default depends on the CPU),
    a batched run on padded minibatches prints no TensorFlow line."""
    data = tiny_npz(tmp_path / "tiny.npz", n=6)
    out = _python("-m", "tf1_birnn", "train", "--data", data, "--num-units", "4",
                  "--epochs", "1", "--logdir", str(tmp_path / "logs"), "--run-name", "q",
                  "--no-progress", "--batch-size", "2", env={"TF_ENABLE_ONEDNN_OPTS": onednn})
    assert out.returncode == 0, out.stderr
    assert "(0, 'train:'" in out.stdout
    assert not TF_LOG.search(out.stdout + out.stderr), out.stdout + out.stderr
    assert out.stderr == "", out.stderr


@pytest.mark.slow
def test_verbose_shows_what_quiet_captured():
    code = ("import tf1_birnn, tensorflow, sys\nfrom tf1_birnn import quiet\n"
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


# TensorFlow's log lines at every level, in its current (absl) and its older format
TF_LINES = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    b"I0000 00:00:1796566729.867258    2231 cudart_stub.cc:31] Could not find cuda drivers",
    b"I0000 00:00:1796566729.909436    2231 cpu_feature_guard.cc:227] This TensorFlow binary",
    b"To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild "
    b"TensorFlow with the appropriate compiler flags.",
    b"W0000 00:00:1796566733.460592    2231 op_level_cost_estimator.cc:699] Error in cost",
    b"E0000 00:00:1796566926.279182    4348 util.cc:131] oneDNN supports DT_BOOL only on "
    b"platforms with AVX-512. Falling back to the default Eigen-based implementation.",
    b"E0000 00:00:1796566732.976308    2231 cuda_platform.cc:52] failed call to cuInit",
    b"2025-03-11 22:30:58.742701: E tensorflow/core/util/util.cc:131] oneDNN supports DT_HALF",
    b"2025-03-11 22:30:53.131491: I tensorflow/core/util/port.cc:153] oneDNN custom operations",
    b"2025-03-11 22:30:53.131491: W tensorflow/core/framework/op_kernel.cc:1840] OP_REQUIRES",
]
KEPT_LINES = [  # ours, Python's, and TensorFlow's fatal lines (they say why a process aborts)
    b"F0000 00:00:1796566926.279182    4348 tensor_shape.cc:420] Check failed: size >= 0",
    b"tf1-birnn train: error: logs/q: disk full",
    b"Traceback (most recent call last):",
    b"E: a line of ours that starts like a log line",
    b"2026-12-06 14:00:00 a timestamp of ours",
    b"I0 is not a log line",
    b"epoch 3/8:  40%|####      | 2/5 [00:01<00:02]",
    b"",
]


def _filtered(chunks):
    line_filter = LineFilter()
    return b"".join(line_filter.feed(c) for c in chunks) + line_filter.close()


def test_the_filter_drops_tensorflow_lines_of_every_level_and_keeps_the_rest():
    lines = [line for pair in zip(TF_LINES, KEPT_LINES + KEPT_LINES[:2]) for line in pair]
    stream = b"\n".join(lines) + b"\n"
    expected = b"".join(line + b"\n" for line in KEPT_LINES + KEPT_LINES[:2])
    assert _filtered([stream]) == expected
    # the same, written a byte at a time, or in pieces that split lines anywhere
    assert _filtered([stream[i:i + 1] for i in range(len(stream))]) == expected
    assert _filtered([stream[i:i + 37] for i in range(0, len(stream), 37)]) == expected
    assert all(is_tf_log(line) for line in TF_LINES)
    assert not any(is_tf_log(line) for line in KEPT_LINES)
    assert is_tf_log(TF_LINES[5].decode())  # str lines too


def test_the_filter_passes_a_progress_bar_and_an_unfinished_line_at_once():
    line_filter = LineFilter()
    assert line_filter.feed(b"epoch 0:  10%|#") == b"epoch 0:  10%|#"  # no newline yet
    assert line_filter.feed(b"\repoch 0:  20%|##") == b"\repoch 0:  20%|##"
    assert line_filter.feed(b"\rE0000 00:00:17.1 1 util.cc:131] oneD") == b"\r"  # held
    assert line_filter.feed(b"NN ...\r\n") == b""
    assert line_filter.feed(b"E0000 00:00:17.1 1 util.cc:131] cut off") == b""
    assert line_filter.close() == b""  # an unfinished log line at the end is still dropped
    line_filter = LineFilter()
    assert line_filter.feed(b"12 frames") == b""  # may be the old format's date: wait
    assert line_filter.close() == b"12 frames"


@pytest.mark.slow
def test_what_tensorflow_logs_at_run_time_is_filtered_unless_verbose():
    """The lines are written to file descriptor 2 as TensorFlow's C++ code writes them, so
    the check does not depend on what this host's TensorFlow happens to print."""
    written = b"\n".join(TF_LINES + KEPT_LINES) + b"\n"
    code = ("import os, sys, tf1_birnn, tensorflow\n"
            f"os.write(2, {written!r})\n"
            "sys.stderr.write('python: ok\\n')\n")
    quiet = _python("-c", code)
    assert quiet.returncode == 0, quiet.stderr
    kept = [line.decode() for line in KEPT_LINES]
    assert quiet.stderr.splitlines() == kept + ["python: ok"]
    loud = _python("-c", code, verbose=True)
    for line in TF_LINES:
        assert line.decode() in loud.stderr


def _fake_run(run_dir, data):
    """A run folder with a verified (but not restorable) checkpoint: enough for every check
    made before TensorFlow is imported."""
    import dataclasses
    import json
    from tf1_birnn.data.source import DataSource
    from tf1_birnn.training.checkpoints import write_manifest
    from tf1_birnn.training.config import preset_config
    config = preset_config("quick", data=DataSource.parse(data).to_json(), num_units=4)
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps(dataclasses.asdict(config)))
    for suffix in (".index", ".data-00000-of-00001"):
        (run_dir / f"model.ckpt-0{suffix}").write_bytes(b"x")
    write_manifest(str(run_dir), 0)


@pytest.mark.slow
def test_bad_input_is_refused_before_tensorflow_is_imported(tmp_path):
    """Each of these errors is found from files and arguments alone: the process answers
    without importing TensorFlow (which takes seconds), and names the problem."""
    data = tiny_npz(tmp_path / "tiny.npz", n=6)
    logs = tmp_path / "logs"
    _fake_run(logs / "r", data)
    (tmp_path / "empty").mkdir()
    cases = [
        (["evaluate", str(logs)], "not a tf1_birnn run folder"),
        (["evaluate", str(logs / "nope")], "no such file or directory"),
        (["predict", str(logs / "r"), "--utterance", "500"], "--utterance must be in 0..5"),
        (["train", "--data", "original", "--logdir", str(logs)], "tf1-birnn fetch-data"),
        (["train", "--data", data, "--logdir", str(logs), "--run-name", "r"], "already exists"),
        (["train", "--data", str(tmp_path / "no.npz"), "--logdir", str(logs)], "no.npz"),
        (["train", "--resume", "--run-name", "nope", "--logdir", str(logs)], "nope"),
        (["train", "--data", data, "--logdir", str(logs), "--run-name", "a/b"], "plain folder"),
    ]
    code = ("import sys\nfrom tf1_birnn.tools.cli import main\n"
            f"for argv in {[argv for argv, _ in cases]!r}:\n"
            "    print('status', main(argv), flush=True)\n"
            "print('tensorflow imported:', 'tensorflow' in sys.modules)")
    out = _python("-c", code, env={"TF1_BIRNN_DATA": str(tmp_path / "empty")})
    assert out.stdout.splitlines() == ["status 2"] * len(cases) + ["tensorflow imported: False"], \
        out.stdout + out.stderr
    errors = out.stderr.splitlines()
    assert len(errors) == len(cases), out.stderr
    for line, (argv, expected) in zip(errors, cases):
        assert line.startswith(f"tf1-birnn {argv[0]}: error:") and expected in line, line


def test_stderr_behind_the_filter_counts_as_the_terminal_it_was(monkeypatch):
    import io
    from tf1_birnn import quiet
    monkeypatch.setattr(quiet, "_child", object())  # as if the filter were running
    monkeypatch.setattr(quiet, "_stderr_was_terminal", True)
    assert quiet.is_terminal(sys.stderr) and not quiet.is_terminal(io.StringIO())
    monkeypatch.setattr(quiet, "_stderr_was_terminal", False)
    assert not quiet.is_terminal(sys.stderr)


@pytest.mark.slow
def test_a_train_on_a_terminal_draws_a_progress_bar(tmp_path):
    """stderr is a terminal (a pseudo-terminal here): the progress bar survives the filter."""
    import pty
    data = tiny_npz(tmp_path / "tiny.npz", n=10)
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tf1_birnn", "train", "--data", data, "--num-units", "4",
         "--epochs", "1", "--logdir", str(tmp_path / "logs"), "--run-name", "t"],
        stdout=subprocess.DEVNULL, stderr=child, env=_clean_env(), cwd=ROOT)
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closed: every writer is gone
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=300) == 0, seen.decode(errors="replace")
    os.close(main)
    assert re.search(rb"epoch 0: +\d+%\|", seen), seen  # tqdm's bar, not plain lines
    assert not TF_LOG.search(seen.decode(errors="replace"))


@pytest.mark.slow
def test_no_command_prints_a_tensorflow_log_line(tmp_path):
    """train, evaluate, predict, compare and reproduce, each in a fresh process with
    TensorFlow's oneDNN rewrites on (whatever this CPU's default): no TensorFlow line."""
    data = tiny_npz(tmp_path / "tiny.npz", n=6)
    logs = str(tmp_path / "logs")
    run = os.path.join(logs, "q")
    commands = [
        ["train", "--data", data, "--num-units", "4", "--epochs", "1", "--logdir", logs,
         "--run-name", "q", "--no-progress", "--batch-size", "2"],
        ["evaluate", run],
        ["predict", run, "--utterance", "1", "--out", str(tmp_path / "pred")],
        ["compare", run],
        ["reproduce", "--size", "tiny", "--models", "lv2", "--data", data, "--logdir", logs,
         "--epochs", "1"],
    ]
    for argv in commands:
        out = _python("-m", "tf1_birnn", *argv, env={"TF_ENABLE_ONEDNN_OPTS": "1"})
        assert out.returncode == 0, (argv, out.stderr)
        assert not TF_LOG.search(out.stdout + out.stderr), (argv, out.stdout + out.stderr)
