"""The command line on OS errors, malformed files and interrupts: one line, no debris."""
import errno
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from tf1_birnn.tools.cli import main
from tiny import tiny_corpus, tiny_npz


pytestmark = pytest.mark.slow  # the commands train, restore or start processes


def one_line(capsys, *expected):
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def train_args(data, logdir, name="r", *extra):
    return ["train", "--data", data, "--num-units", "8", "--epochs", "1", "--logdir",
            str(logdir), "--run-name", name, "--no-progress", *extra]


@pytest.fixture
def data(tmp_path):
    return tiny_npz(tmp_path / "tiny.npz", n=6)


@pytest.fixture
def tmpfs(tmp_path):
    """``make(size, *options)``: a small tmpfs mounted under ``tmp_path`` (skip if we cannot)."""
    mounted = []

    def make(size, *options):
        where = tmp_path / f"fs{len(mounted)}"
        where.mkdir()
        opts = ",".join((f"size={size}",) + options)
        if shutil.which("mount") is None or subprocess.run(
                ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)],
                capture_output=True).returncode != 0:
            pytest.skip("cannot mount a tmpfs here (needs root)")
        mounted.append(where)
        return where
    yield make
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_logdir_that_is_a_file(tmp_path, data, capsys):
    logdir = tmp_path / "afile"
    logdir.write_text("x")
    assert main(train_args(data, logdir)) == 2
    one_line(capsys, "afile", "is a file, not a folder")


def test_a_300_character_run_name(tmp_path, data, capsys):
    assert main(train_args(data, tmp_path / "logs", "n" * 300)) == 2
    one_line(capsys, "run name is too long: 300 bytes")
    assert not (tmp_path / "logs").exists() or not os.listdir(tmp_path / "logs")


def test_a_read_only_logdir(tmpfs, data, capsys):
    logdir = tmpfs("1m", "ro")
    assert main(train_args(data, logdir)) == 2
    one_line(capsys, f"{logdir}/r: read-only file system")


def test_permission_denied_names_the_path(tmp_path, data, capsys, monkeypatch):
    from tf1_birnn.training import run as run_module

    def denied(path, *args):  # as a non-root user would see a read-only folder
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr(run_module.os, "mkdir", denied)
    assert main(train_args(data, tmp_path)) == 2
    one_line(capsys, f"{tmp_path}/r: permission denied")


@pytest.mark.slow
def test_disk_full_while_writing_events(tmpfs, data, capsys):
    logdir = tmpfs("100k")  # TensorBoard's graph alone does not fit
    assert main(train_args(data, logdir)) == 2
    one_line(capsys, f"{logdir}/r", "disk full")
    assert os.listdir(logdir) == []  # no half-made run folder


def test_convert_force_and_no_partial_output(tmp_path, capsys, monkeypatch):
    from tf1_birnn.data import loader
    X, Y = tiny_corpus(n=3)
    for name, arrays in (("X.npy", X), ("Y.npy", Y)):
        obj = np.empty(len(arrays), dtype=object)
        obj[:] = arrays
        np.save(tmp_path / name, obj, allow_pickle=True)
    argv = ["convert", str(tmp_path / "X.npy"), str(tmp_path / "Y.npy")]
    out = tmp_path / "out.npz"
    out.write_bytes(b"old")
    assert main(argv + [str(out)]) == 2
    one_line(capsys, "out.npz: file exists", "--force")
    assert main(argv + [str(out), "--force"]) == 0
    assert len(loader.load_npz(out)[0]) == 3

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "new.npz"))

    monkeypatch.setattr(loader.npy_format, "write_array", full)
    assert main(argv + [str(tmp_path / "new.npz")]) == 2
    one_line(capsys, "new.npz: disk full")
    assert sorted(os.listdir(tmp_path)) == ["X.npy", "Y.npy", "out.npz"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli_errors")
    data = tiny_npz(tmp / "tiny.npz", n=6)
    assert main(train_args(data, tmp / "logs", "r")) == 0
    return str(tmp / "logs" / "r")


@pytest.mark.parametrize("command", ["evaluate", "compare", "train"])
def test_history_json_that_is_empty_braces(run_dir, tmp_path, command, capsys):
    copy = tmp_path / "logs" / "r"
    shutil.copytree(run_dir, copy)
    (copy / "history.json").write_text("{}")
    argv = {"evaluate": ["evaluate", str(copy)], "compare": ["compare", str(copy)],
            "train": ["train", "--resume", "--logdir", str(tmp_path / "logs"), "--run-name",
                      "r", "--epochs", "3", "--no-progress"]}[command]
    capsys.readouterr()
    assert main(argv) == 2
    one_line(capsys, f"{copy}/history.json: expected")


def test_a_garbled_checkpoint_manifest_or_config_is_named(run_dir, tmp_path, capsys):
    copy = tmp_path / "r"
    shutil.copytree(run_dir, copy)
    (copy / "config.json").write_text("{garbled")
    capsys.readouterr()
    assert main(["evaluate", str(copy)]) == 2
    one_line(capsys, f"{copy}/config.json: not valid JSON")


def test_a_npy_passed_as_data(tmp_path, capsys):
    path = tmp_path / "X.npy"
    np.save(path, np.zeros((3, 39)))
    assert main(train_args(str(path), tmp_path / "logs")) == 2
    one_line(capsys, f"{path}: not a .npz corpus")


def test_huge_num_units(tmp_path, data, capsys):
    assert main(train_args(data, tmp_path / "logs", "big", "--num-units", "1000000")) == 2
    one_line(capsys, "out of memory", "num_units=1000000")
    assert not (tmp_path / "logs" / "big").exists()


def test_divergence_tells_the_truth_about_checkpoints(tmp_path, data, capsys):
    assert main(train_args(data, tmp_path / "logs", "nan", "--learning-rate", "1e30")) == 1
    one_line(capsys, "stopped", "no epoch had finished, so no run folder is kept")
    assert not (tmp_path / "logs" / "nan").exists()


def test_a_locked_run(run_dir, tmp_path, capsys):
    copy = tmp_path / "logs" / "r"
    shutil.copytree(run_dir, copy)
    (copy / "lock").write_text(f"{os.getppid()}\n")  # our parent: alive
    capsys.readouterr()
    assert main(["train", "--resume", "--logdir", str(tmp_path / "logs"), "--run-name", "r",
                 "--epochs", "3", "--no-progress"]) == 2
    one_line(capsys, f"in use by process {os.getppid()}")


def _imports_tensorflow_eagerly():
    code = "import sys; import tf1_birnn; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    return out.stdout.strip() == "True"


@pytest.mark.slow
def test_ctrl_c_during_start_up_is_one_line(tmp_path, data):
    if _imports_tensorflow_eagerly():
        pytest.xfail("`import tf1_birnn` imports TensorFlow before any code of ours can "
                     "catch Ctrl-C (the lazy imports of issue 12 fix that)")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    # Ctrl-C as in a terminal: a suite started as a background job (`cmd &` in a script)
    # passes SIGINT on as ignored, and the child would then train to the end
    proc = subprocess.Popen([sys.executable, "-m", "tf1_birnn"] + train_args(data, tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        proc.wait(timeout=0.5)  # still starting: TensorFlow takes seconds to import
    except subprocess.TimeoutExpired:
        pass
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 1, err
    assert proc.returncode in (130, -signal.SIGINT)


def test_tensorflow_out_of_memory_is_one_line(tmp_path, data, capsys, monkeypatch):
    """TensorFlow's ResourceExhaustedError at run time (an allocation that failed) is one line
    that says so, with TensorFlow's first line, not a traceback."""
    import tensorflow as tf
    from tf1_birnn.training import run

    def oom(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(
            None, None, "OOM when allocating tensor with shape[2347,1,4096] and type float\n"
            "\t [[{{node while/body/MatMul}}]]")
    monkeypatch.setattr(run, "train_epoch", oom)
    assert main(train_args(data, tmp_path / "logs", "oom")) == 2
    one_line(capsys, "error: out of memory: TensorFlow could not allocate",
             "shape[2347,1,4096]", "--resume continues it")
