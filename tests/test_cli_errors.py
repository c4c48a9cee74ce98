"""The command line on OS errors, malformed files and interrupts: one line, no debris."""
import errno
import json
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from tf1_birnn.tools.cli import main
from tiny import hold_lock, tiny_corpus, tiny_npz


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

    monkeypatch.setattr(loader, "_write_concatenated", full)
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
    capsys.readouterr()
    with hold_lock(copy) as pid:
        assert main(["train", "--resume", "--logdir", str(tmp_path / "logs"), "--run-name", "r",
                     "--epochs", "3", "--no-progress"]) == 2
    one_line(capsys, f"in use by process {pid}")


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
    from tf1_birnn.training import trainer as run

    def oom(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(
            None, None, "OOM when allocating tensor with shape[2347,1,4096] and type float\n"
            "\t [[{{node while/body/MatMul}}]]")
    monkeypatch.setattr(run, "train_epoch", oom)
    assert main(train_args(data, tmp_path / "logs", "oom")) == 2
    one_line(capsys, "error: out of memory: TensorFlow could not allocate",
             "shape[2347,1,4096]", "--resume continues it")


# ---- SIGTERM is Ctrl-C --------------------------------------------------------------------

def cli(args, **env):
    """``python -m tf1_birnn args`` in a child; its CompletedProcess."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1", **env)
    return subprocess.run([sys.executable, "-m", "tf1_birnn", *args], capture_output=True,
                          text=True, env=env)


@pytest.mark.slow
def test_sigterm_in_a_new_runs_first_epoch_leaves_no_folder(tmp_path, data):
    logdir = tmp_path / "logs"
    out = cli(train_args(data, logdir, "t", "--epochs", "3"),
              TF1_BIRNN_TEST_KILL_AT="evaluated:0:TERM")  # SIGTERM before epoch 0 is saved
    assert out.returncode == 143 and out.stderr.strip() == "tf1-birnn train: terminated", out
    assert not (logdir / "t").exists()
    assert cli(train_args(data, logdir, "t")).returncode == 0  # the name is free


@pytest.mark.slow
def test_sigterm_later_leaves_a_run_that_resumes(tmp_path, data):
    logdir = tmp_path / "logs"
    args = train_args(data, logdir, "t", "--epochs", "400")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "tf1_birnn", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    for line in proc.stdout:  # epoch 1's line is printed after epoch 0's checkpoint counts
        if line.startswith("(1, 'train:'"):
            break
    proc.send_signal(signal.SIGTERM)  # from outside, as kill, Docker and Slurm send it
    _, err = proc.communicate()
    assert proc.returncode == 143 and err.strip() == "tf1-birnn train: terminated", err
    resumed = cli(["train", "--resume", "--logdir", str(logdir), "--run-name", "t",
                   "--epochs", "5", "--no-progress"])
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout
    assert [h["epoch"] for h in json.loads((logdir / "t" / "history.json").read_text())[
        "epochs"]] == [0, 1, 2, 3, 4]


# ---- no command overwrites its inputs or reports a result over nothing ---------------------

def original_files(folder, n=3):
    X, Y = tiny_corpus(n=n)
    for name, arrays in (("X.npy", X), ("Y.npy", Y)):
        obj = np.empty(len(arrays), dtype=object)
        obj[:] = arrays
        np.save(folder / name, obj, allow_pickle=True)
    return folder / "X.npy", folder / "Y.npy"


def test_convert_never_writes_over_its_own_input(tmp_path, capsys):
    x, y = original_files(tmp_path)
    before = x.read_bytes()
    (tmp_path / "sub").mkdir()
    os.link(y, tmp_path / "hard.npy")
    os.symlink(x, tmp_path / "soft.npy")
    for out, source in ((x, x), (tmp_path / "sub" / ".." / "Y.npy", y),
                        (tmp_path / "hard.npy", y), (tmp_path / "soft.npy", x)):
        assert main(["convert", "--force", str(x), str(y), str(out)]) == 2
        one_line(capsys, f"{out}: is also an input of convert ({source})")
    assert x.read_bytes() == before and sorted(os.listdir(tmp_path)) == [
        "X.npy", "Y.npy", "hard.npy", "soft.npy", "sub"]


def test_convert_to_a_directory_says_so_without_internal_names(tmp_path, capsys):
    x, y = original_files(tmp_path)
    (tmp_path / "adir.npy").mkdir()
    assert main(["convert", "--force", str(x), str(y), str(tmp_path / "adir.npy")]) == 2
    line = one_line(capsys, "adir.npy: is a directory")
    assert ".tmp" not in line
    assert main(["convert", str(tmp_path / "adir.npy"), str(y), str(tmp_path / "o.npz")]) == 2
    one_line(capsys, "adir.npy: is a directory")


def test_a_pickled_utterance_of_another_type_names_its_dtype_not_our_class(tmp_path, capsys):
    obj = np.empty(1, dtype=object)
    obj[0] = np.zeros((3, 39), np.complex64)
    np.save(tmp_path / "X.npy", obj, allow_pickle=True)
    (tmp_path / "good").mkdir()
    x, y = tmp_path / "X.npy", original_files(tmp_path / "good", n=1)[1]
    assert main(["convert", str(x), str(y), str(tmp_path / "o.npz")]) == 2
    line = one_line(capsys, "X.npy: utterance 0 is not a numeric array (dtype complex64)")
    assert "_CheckedArray" not in line


def test_evaluate_on_a_corpus_with_no_test_utterance_fails(run_dir, tmp_path, capsys):
    two = tiny_npz(tmp_path / "two.npz", n=2)
    capsys.readouterr()
    assert main(["evaluate", run_dir, "--data", two]) == 2
    one_line(capsys, "tf1-birnn evaluate: error: the corpus has 2 utterance(s)",
             "2 train and 0 test utterances")


def test_bench_with_every_row_failed_fails(capsys, monkeypatch):
    from tf1_birnn.tools import bench
    monkeypatch.setattr(bench, "_spawn", lambda config, timeout: "failed (exit 1): no memory")
    assert main(["bench", "--quick", "--num-units", "8", "--steps", "6", "--batch-sizes", "2",
                 "--repeats", "1", "--variants", "unfused,fast"]) == 2
    one_line(capsys, "tf1-birnn bench: error: no row could be measured: unfused at batch 2: "
             "failed (exit 1): no memory; fast at batch 2")


CLI_NO_TF = ("import sys\nfrom tf1_birnn.tools.cli import main\nrc = main(sys.argv[1:])\n"
             "print('tensorflow loaded' if 'tensorflow' in sys.modules else 'no tensorflow', rc)")


@pytest.mark.parametrize("flag, value", [("--run-name", b"r\xff\xfe"),
                                         ("--run-name", b"a/b"),
                                         ("--logdir", b"logs\xff")])
def test_a_run_name_is_checked_with_its_encoding_before_tensorflow_loads(tmp_path, data, flag,
                                                                         value):
    args = [b"train", b"--data", os.fsencode(data), b"--no-progress", flag.encode(), value]
    if flag == "--logdir":
        args += [b"--run-name", b"r"]
    out = subprocess.run([sys.executable, "-c", CLI_NO_TF, *args], capture_output=True,
                         cwd=tmp_path, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert out.stdout.decode().split() == ["no", "tensorflow", "2"], out
    err = out.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert ("must be UTF-8 text" if b"\xff" in value else "plain folder name") in err
    assert os.listdir(tmp_path) == ["tiny.npz"]


def test_out_of_memory_advice_fits_the_command(run_dir, tmp_path, capsys, monkeypatch):
    from tf1_birnn.data import loader

    def no_memory(*args, **kwargs):
        raise MemoryError()
    monkeypatch.setattr(loader, "load_npz", no_memory)
    data = tiny_npz(tmp_path / "t.npz", n=6)
    capsys.readouterr()
    assert main(["evaluate", run_dir, "--data", data]) == 2
    line = one_line(capsys, "tf1-birnn evaluate: error: out of memory")
    assert "--num-units" not in line


def test_a_directory_given_as_data_is_named_a_directory(run_dir, tmp_path, capsys):
    (tmp_path / "d.npz").mkdir()
    capsys.readouterr()
    assert main(["evaluate", run_dir, "--data", str(tmp_path / "d.npz")]) == 2
    one_line(capsys, "d.npz: is a directory, not a file")


def test_a_pipe_as_data_or_as_convert_output_is_refused_unread(run_dir, tmp_path, capsys):
    pipe = tmp_path / "p.npz"
    os.mkfifo(pipe)  # opening it to read would wait for ever
    x, y = original_files(tmp_path)
    capsys.readouterr()
    assert main(["evaluate", run_dir, "--data", str(pipe)]) == 2
    one_line(capsys, "p.npz: not a regular file")
    assert main(["convert", "--force", str(x), str(y), str(pipe)]) == 2
    one_line(capsys, "p.npz: not a regular file")
    assert main(["convert", str(pipe), str(y), str(tmp_path / "o.npz")]) == 2
    one_line(capsys, "p.npz: not a regular file")


def test_a_run_folder_with_undecodable_bytes_is_refused_before_tensorflow(run_dir, tmp_path):
    odd = os.path.join(os.fsencode(tmp_path), b"r\xff")
    shutil.copytree(os.fsencode(run_dir), odd)
    out = subprocess.run([sys.executable, "-c", CLI_NO_TF, b"evaluate", odd], capture_output=True,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert out.stdout.decode().split() == ["no", "tensorflow", "2"], out
    assert "the run folder must be UTF-8 text" in out.stderr.decode()


def test_main_puts_back_the_sigterm_handler_it_replaced(capsys):
    before = signal.getsignal(signal.SIGTERM)
    assert main(["bench", "--quick", "--variants", "avg"]) == 2  # a quick usage error
    assert signal.getsignal(signal.SIGTERM) is before
