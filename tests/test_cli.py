"""The ``tf1-birnn`` command line: the main job's companions and every user error."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tf1_birnn.tools.cli import main
from tiny import TINY, tiny_flags, tiny_npz


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny run trained through the CLI on a tiny .npz corpus."""
    tmp = tmp_path_factory.mktemp("cli")
    data = tiny_npz(tmp / "tiny.npz", n=8)
    logdir = str(tmp / "logs")
    code = main(["train", "--data", data, *tiny_flags(), "--logdir", logdir, "--run-name", "t",
                 "--no-progress"])
    assert code == 0
    return data, logdir, os.path.join(logdir, "t")


@pytest.mark.slow
def test_train_prints_the_tutorial_lines_and_the_tensorboard_command(trained, capsys):
    data, logdir, _ = trained
    code = main(["train", "--data", data, *tiny_flags(epochs=1), "--logdir", logdir,
                 "--run-name", "t2", "--no-progress", "--batch-size", "3"])
    out = capsys.readouterr().out
    assert code == 0
    assert "(0, 'train:', " in out and "'test:', " in out
    assert f"tensorboard --logdir {os.path.join(logdir, 't2')}" in out  # this run, not all
    assert "?smoothing=0" in out  # the raw curves, beside the printed losses


@pytest.mark.slow
def test_evaluate_and_predict(trained, capsys, tmp_path):
    data, _, run_dir = trained
    assert main(["evaluate", run_dir]) == 0
    assert "train:" in capsys.readouterr().out
    out_dir = str(tmp_path / "pred")
    assert main(["predict", run_dir, "--utterance", "1", "--out", out_dir]) == 0
    pred = np.load(os.path.join(out_dir, "utterance1.npy"))
    assert pred.ndim == 2 and pred.shape[1] == 24
    with open(os.path.join(out_dir, "utterance1.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    # a second predict would overwrite: refused
    assert main(["predict", run_dir, "--utterance", "1", "--out", out_dir]) == 2
    assert "exists" in capsys.readouterr().err


@pytest.mark.slow
def test_predict_says_what_its_picture_shows(trained, capsys, tmp_path, monkeypatch):
    from tf1_birnn.training import plot
    _, _, run_dir = trained
    drawn = {}
    real_png = plot.trajectory_png

    def spy(real, pred, **kwargs):
        drawn.update(kwargs, real=real, pred=pred)
        return real_png(real, pred, **kwargs)
    monkeypatch.setattr(plot, "trajectory_png", spy)
    out_dir = str(tmp_path / "pred")
    assert main(["predict", run_dir, "--utterance", "3", "--out", out_dir,
                 "--channels", "5,17"]) == 0
    out = capsys.readouterr().out
    mse = float(np.mean((drawn["pred"] - drawn["real"]) ** 2))
    assert drawn["channels"] == (5, 17)
    title = drawn["title"]
    assert os.path.basename(run_dir) in title and "utterance 3" in title
    assert f"MSE {mse:.4f}" in title and f"MSE {mse:.4f}" in out
    assert "standardized" in drawn["units"]
    assert "channels 5 (sensor 3 y), 17 (ΔΔ sensor 1 y) of 24" in out
    assert main(["predict", run_dir, "--utterance", "3", "--out", out_dir + "2",
                 "--channels", "2,24"]) == 2
    assert "--channels must be in 0..23" in capsys.readouterr().err


@pytest.mark.slow
def test_predict_writes_all_or_nothing(trained, capsys, tmp_path, monkeypatch):
    """A failure while drawing the picture leaves no .npy behind (a later predict into the
    same folder is not refused because of a half-made result)."""
    from tf1_birnn.training import plot
    _, _, run_dir = trained

    def broken(*args, **kwargs):
        raise RuntimeError("no picture")
    monkeypatch.setattr(plot, "trajectory_png", broken)
    out_dir = tmp_path / "pred"
    with pytest.raises(RuntimeError, match="no picture"):
        main(["predict", run_dir, "--utterance", "2", "--out", str(out_dir)])
    assert not out_dir.exists() or not list(out_dir.iterdir())
    monkeypatch.undo()
    assert main(["predict", run_dir, "--utterance", "2", "--out", str(out_dir)]) == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["utterance2.npy", "utterance2.png"]


@pytest.mark.slow
def test_compare_reports_beside_the_blog(trained, capsys):
    _, _, run_dir = trained
    assert main(["compare", run_dir]) == 0
    out = capsys.readouterr().out
    assert "| epoch | our train | our test | blog train | blog test |" in out
    assert "| 0 | " in out and "0.793" in out  # the blog's LV2 epoch-0 train loss
    assert "original X.npy/Y.npy" in out  # a .npz run counts as original-format data


def test_convert_writes_a_safe_npz(tmp_path, capsys):
    from tf1_birnn.data.loader import load_npz
    from tiny import tiny_corpus
    X, Y = tiny_corpus(n=3)
    for name, arrays in (("X.npy", X), ("Y.npy", Y)):
        obj = np.empty(len(arrays), dtype=object)
        obj[:] = arrays
        np.save(tmp_path / name, obj, allow_pickle=True)
    out = str(tmp_path / "out.npz")
    assert main(["convert", str(tmp_path / "X.npy"), str(tmp_path / "Y.npy"), out]) == 0
    X2, _ = load_npz(out)
    np.testing.assert_array_equal(X2[2], X[2])
    assert main(["convert", str(tmp_path / "X.npy"), str(tmp_path / "Y.npy"), out]) == 2


@pytest.mark.parametrize("argv, message", [
    (["train", "--epochs", "0"], "positive integer"),
    (["train", "--preset", "huge"], "invalid choice"),
    (["train", "--merge", "avg"], "invalid choice"),
    (["train", "--learning-rate", "-1"], "positive number"),
    (["train", "--data-x", "X.npy"], "--data-x and --data-y go together"),
    (["train", "--data", "missing.npz"], "missing.npz"),
    (["train", "--resume"], "--run-name"),
    (["evaluate", "."], "not a tf1_birnn run folder"),
    (["nonsense"], "invalid choice"),
])
def test_user_errors_give_one_line_and_status_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 2


@pytest.mark.slow
def test_resume_accepts_the_flags_of_the_original_run(trained, capsys):
    data, logdir, run_dir = trained
    # the same command line as the run in `trained`, with --resume and one epoch more
    code = main(["train", "--data", data, *tiny_flags(epochs=3), "--preset", "quick",
                 "--logdir", logdir, "--run-name", "t", "--no-progress", "--resume"])
    assert code == 0, capsys.readouterr().err
    assert "resuming" in capsys.readouterr().out
    with open(os.path.join(run_dir, "history.json"), encoding="utf-8") as f:
        assert [e["epoch"] for e in json.load(f)["epochs"]] == [0, 1, 2]


@pytest.mark.slow
def test_existing_run_name_is_refused(trained, capsys):
    data, logdir, _ = trained
    code = main(["train", "--data", data, *tiny_flags(epochs=1), "--logdir", logdir,
                 "--run-name", "t", "--no-progress"])
    assert code == 2 and "already exists" in capsys.readouterr().err


@pytest.mark.slow
def test_module_entry_point_without_traceback(tmp_path):
    out = subprocess.run([sys.executable, "-m", "tf1_birnn", "train", "--data",
                          str(tmp_path / "nope.npz")], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 2
    assert "nope.npz" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_resume_refuses_new_settings_and_predict_checks_the_index(trained, capsys):
    data, logdir, run_dir = trained
    code = main(["train", "--resume", "--run-name", "t", "--logdir", logdir, "--preset", "blog",
                 "--num-units", str(TINY["num_units"]), "--cell-b", "none", "--seed", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "only --epochs may change" in err
    # every real difference, with the value given and the saved one; not the equal ones
    assert "--preset 'blog' (saved: 'quick')" in err and "--cell-b 'none' (saved: 'gru')" in err
    assert "--num-units" not in err and "--seed" not in err
    assert main(["predict", run_dir, "--utterance", "99"]) == 2
    assert "--utterance must be in 0..7; got 99" in capsys.readouterr().err


@pytest.mark.slow
def test_resume_refuses_other_data_and_bad_seeds_leave_no_folder(trained, tmp_path, capsys):
    data, logdir, _ = trained
    other = tiny_npz(tmp_path / "other.npz", n=8, seed=1)
    code = main(["train", "--resume", "--run-name", "t", "--logdir", logdir, "--data", other])
    assert code == 2 and "saved data" in capsys.readouterr().err
    code = main(["train", "--data", data, "--seed", "-1", "--logdir", logdir, "--run-name", "s"])
    assert code == 2 and "seed must be an integer in [0, 2**32); got -1" in capsys.readouterr().err
    assert not os.path.exists(os.path.join(logdir, "s"))


def test_settings_a_network_would_ignore_are_refused(capsys):
    assert main(["train", "--preset", "lv1", "--cell-b", "gru"]) == 2
    assert "the lv1 network has no use for cell_b" in capsys.readouterr().err
    assert main(["train", "--preset", "ff", "--merge", "concat"]) == 2
    assert "the ff network has no use for merge" in capsys.readouterr().err


@pytest.mark.slow
def test_train_with_cell_dropout_on_both_paths(trained, capsys):
    """``--cell-dropout`` and ``--keep-rate`` reach the run's config (and so TensorBoard's text)."""
    data, logdir, _ = trained
    for form, path in (("variational", "--fast"), ("candidate", "--no-fast")):
        code = main(["train", "--data", data, *tiny_flags(epochs=1), "--logdir", logdir,
                     "--run-name", f"drop-{form}", "--no-progress", path,
                     "--cell-dropout", form, "--keep-rate", "0.5", "--batch-size", "2"])
        assert code == 0, capsys.readouterr().err
        with open(os.path.join(logdir, f"drop-{form}", "config.json")) as f:
            saved = json.load(f)
        assert saved["cell_dropout"] == form and saved["keep_rate"] == 0.5
    for argv, message in ((["--cell-dropout", "zoneout"], "invalid choice: 'zoneout'"),
                          (["--keep-rate", "1.5"], "expected a keep rate in (0, 1]; got '1.5'")):
        with pytest.raises(SystemExit) as info:  # argparse's one-line error
            main(["train"] + argv)
        assert info.value.code == 2 and message in capsys.readouterr().err
    assert main(["train", "--preset", "ff", "--cell-dropout", "variational"]) == 2
    assert "the ff network has no use for cell_dropout" in capsys.readouterr().err
