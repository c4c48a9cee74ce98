"""``tf1-birnn reproduce``: the tiny size end to end, resume, the smoothness measures."""
import json
import os

import numpy as np
import pytest

from tf1_birnn.tools.cli import main
from tf1_birnn.tools.reproduce import MODELS
from tf1_birnn.training.plot import lag1_autocorrelation, roughness
from tiny import tiny_npz


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    """All five models at ``--size tiny`` on a tiny corpus, with report and plot."""
    tmp = tmp_path_factory.mktemp("reproduce")
    data = tiny_npz(tmp / "tiny.npz", n=10)
    logdir, report, plot = str(tmp / "logs"), str(tmp / "report.md"), str(tmp / "curves.png")
    args = ["reproduce", "--size", "tiny", "--data", data, "--max-utterances", "6",
            "--max-frames", "12", "--logdir", logdir, "--name", "r", "--report", report]
    pytest.importorskip("matplotlib")
    code = main(args + ["--plot", plot])
    assert code == 0
    return args, os.path.join(logdir, "r"), report, plot


def test_every_model_is_a_tensorboard_run(reproduced):
    _, root, _, _ = reproduced
    for model in MODELS:
        files = os.listdir(os.path.join(root, model))
        assert any(f.startswith("events.out.tfevents") for f in files), model
        with open(os.path.join(root, model, "history.json"), encoding="utf-8") as f:
            assert len(json.load(f)["epochs"]) == 2  # the tiny size's epochs


def test_table_report_and_plot(reproduced, capsys):
    _, root, report, plot = reproduced
    with open(report, encoding="utf-8") as f:
        table = f.read()
    for model in MODELS:
        assert f"| {model} | 2 |" in table
    assert "0.226 / 0.453" in table  # the blog's LV1 figure beside ours
    assert "the blog's order lv2 < lv1 < ff" in table
    assert "tutorial's stacking" in table
    assert os.path.isfile(os.path.join(root, "results.md"))
    with open(plot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(os.path.join(root, "reproduce.json"), encoding="utf-8") as f:
        summary = json.load(f)
    assert summary["settings"]["seed"] == 55 and summary["size"] == "tiny"
    assert [m["model"] for m in summary["models"]] == list(MODELS)


def test_existing_name_is_refused_and_resume_reuses_it(reproduced, capsys):
    args, root, _, _ = reproduced
    args = args[:-2]  # keep the report of the full run
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err
    before = os.path.getmtime(os.path.join(root, "lv2", "history.json"))
    assert main(args + ["--resume", "--models", "lv2"]) == 0  # nothing left to train
    assert os.path.getmtime(os.path.join(root, "lv2", "history.json")) == before


def test_unknown_model_is_a_usage_error(capsys):
    assert main(["reproduce", "--models", "lv2,lstm3"]) == 2
    assert "lstm3" in capsys.readouterr().err


def test_roughness_and_autocorrelation_by_hand():
    t = np.arange(10.0)[:, None]  # [n_frames, 1]
    real = [np.hstack([t ** 2, -t ** 2])]  # second difference 2 everywhere
    jitter = [real[0] + np.array([[1.0, 0.0]] * 10) * (-1.0) ** t]  # +-1 on channel 0
    assert roughness(real, real) == pytest.approx(1.0)
    # channel 0: |2 +- 4| = 6 or 2 alternating -> mean 4; channel 1: 2; (4 + 2) / (2 + 2)
    assert roughness(real, jitter) == pytest.approx(1.5)
    assert lag1_autocorrelation([np.array([[1.0], [-1.0], [1.0], [-1.0]])]) == pytest.approx(-0.75)


def test_runs_remember_the_cut_corpus(reproduced, capsys):
    args, root, report, _ = reproduced
    with open(os.path.join(root, "lv2", "config.json"), encoding="utf-8") as f:
        data = json.load(f)["data"]
    assert data.endswith("#cut=6,12")
    assert main(["evaluate", os.path.join(root, "lv2")]) == 0
    assert "(5 train / 1 test utterances)" in capsys.readouterr().out


def test_reports_are_not_overwritten_and_an_empty_test_set_is_refused(reproduced, capsys):
    args, root, report, _ = reproduced
    before = open(report, encoding="utf-8").read()
    assert main(args[:-2] + ["--name", "r2", "--report", report]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert open(report, encoding="utf-8").read() == before
    data = args[args.index("--data") + 1]
    code = main(["reproduce", "--size", "tiny", "--data", data, "--max-utterances", "4",
                 "--logdir", os.path.dirname(root), "--name", "r3"])
    assert code == 2 and "no test utterance" in capsys.readouterr().err
    assert not os.path.exists(os.path.join(os.path.dirname(root), "r3"))
