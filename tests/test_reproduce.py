"""``tf1-birnn reproduce``: the tiny size end to end, resume, the smoothness measures; its
sizes and flags derived from ``RunConfig``."""
import json
import os
import re

import pytest

from tf1_birnn.tools.cli import build_parser, main
from tf1_birnn.tools.reproduce import DEFAULT_MODELS as MODELS  # what runs by default
from tiny import tiny_corpus, tiny_npz

slow = pytest.mark.slow  # trains networks (and the unknown-model check loads the corpus)


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


@slow
def test_every_model_is_a_tensorboard_run(reproduced):
    _, root, _, _ = reproduced
    for model in MODELS:
        files = os.listdir(os.path.join(root, model))
        assert any(f.startswith("events.out.tfevents") for f in files), model
        with open(os.path.join(root, model, "history.json"), encoding="utf-8") as f:
            assert len(json.load(f)["epochs"]) == 2  # the tiny size's epochs


@slow
def test_table_report_and_plot(reproduced, capsys):
    _, root, report, plot = reproduced
    with open(report, encoding="utf-8") as f:
        table = f.read()
    for model in MODELS:
        assert f"| {model} | 2 |" in table
    assert "0.226 / 0.453" in table  # the blog's LV1 figure beside ours
    assert os.path.isfile(os.path.join(root, "results.md"))
    with open(plot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(os.path.join(root, "reproduce.json"), encoding="utf-8") as f:
        summary = json.load(f)
    assert summary["settings"]["seed"] == 55 and summary["size"] == "tiny"
    assert [m["model"] for m in summary["models"]] == list(MODELS)
    # the verdicts follow the losses saved in reproduce.json, whichever way they went
    best = {m["model"]: m["best_test"] for m in summary["models"]}
    order = sorted(("ff", "lv1", "lv2"), key=best.get)
    verdict = "holds" if order == ["lv2", "lv1", "ff"] else "does NOT hold"
    assert f"Best test loss: {' < '.join(order)}; the blog's order lv2 < lv1 < ff {verdict}." \
        in table
    better = "better" if best["stacked"] < best["lv2"] else "NOT better"
    assert f"Two layers vs one: best test {best['stacked']:.3f} vs {best['lv2']:.3f} " \
        f"(two layers {better})." in table
    change = (best["stacked_tutorial"] - best["stacked"]) / best["stacked"]
    assert f"best test {best['stacked_tutorial']:.3f} vs {best['stacked']:.3f} truly stacked " \
        f"({change:+.1%})." in table


@slow
def test_the_same_command_continues_and_other_settings_are_refused(reproduced, capsys):
    args, root, _, _ = reproduced
    args = args[:-2]  # keep the report of the full run
    before = os.path.getmtime(os.path.join(root, "lv2", "history.json"))
    assert main(args + ["--models", "lv2"]) == 0  # nothing left to train
    assert "continuing" in capsys.readouterr().out
    assert os.path.getmtime(os.path.join(root, "lv2", "history.json")) == before
    assert main(args + ["--num-units", "9"]) == 2
    assert "num_units 8 there, 9 here" in capsys.readouterr().err
    i = args.index("--max-frames")
    assert main(args[:i] + args[i + 2:]) == 2  # the corpus without the frame cut
    assert "first 6 utterances, at most 12 frames each" in capsys.readouterr().err
    assert main(args[:-2] + ["--name", "nothing-here", "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err


@slow
def test_an_interrupted_model_resumes_from_its_checkpoint(reproduced, tmp_path, capsys):
    """Copy a finished model, cut it back to its first epoch as a kill would leave it, rerun."""
    import shutil
    args, root, _, _ = reproduced
    copy = str(tmp_path / "r")
    shutil.copytree(root, copy)
    lv1 = os.path.join(copy, "lv1")
    for f in os.listdir(lv1):
        if f.startswith("model.ckpt-1."):  # epoch 1's checkpoint (numbered from 0)
            os.unlink(os.path.join(lv1, f))
    with open(os.path.join(lv1, "checkpoint"), "w", encoding="utf-8") as f:
        f.write('model_checkpoint_path: "model.ckpt-0"\n'
                'all_model_checkpoint_paths: "model.ckpt-0"\n')
    args = args[:-2]
    args[args.index("--logdir") + 1] = str(tmp_path)
    assert main(args + ["--models", "lv1,lv2"]) == 0
    out = capsys.readouterr().out
    assert "lv1 1/2 epochs" in out and "lv2 2/2 epochs" in out
    assert "resuming" in out and "after epoch 0" in out
    assert "this run so far" in out  # lv1's second epoch, kept in its history
    with open(os.path.join(lv1, "history.json"), encoding="utf-8") as f:
        assert [r["epoch"] for r in json.load(f)["epochs"]] == [0, 1]


@slow
def test_measure_scales_the_measured_rates_to_an_epoch():
    from tf1_birnn.data.helpers import data_prer, train_test_split
    from tf1_birnn.tools.estimate import measure
    from tf1_birnn.training.config import preset_config
    X, Y = tiny_corpus(n=10)
    train, test = train_test_split(data_prer(X, Y))
    est = measure(preset_config("quick", num_units=4, D_input=39, D_label=24), train, test)
    assert est.train_s_per_frame > 0 and est.eval_s_per_frame > 0
    frames = sum(len(y) for _, y in train)
    assert est.seconds_per_epoch == pytest.approx(
        frames * est.train_s_per_frame
        + (frames + sum(len(y) for _, y in test)) * est.eval_s_per_frame)


@slow
@pytest.mark.parametrize("size, models", [("full", "lv2"), ("reduced", "lv1,ff"),
                                          ("tiny", "stacked")])
def test_estimate_gives_a_number_at_every_size(size, models, tmp_path, capsys):
    from tf1_birnn.tools.reproduce import size_settings
    data = tiny_npz(tmp_path / "tiny.npz", n=10)
    assert main(["reproduce", "--size", size, "--data", data, "--estimate", "--logdir",
                 str(tmp_path), "--models", models]) == 0
    out = capsys.readouterr().out
    epochs = size_settings(size)["epochs"]
    for model in models.split(","):
        line = out.split(f"== {model}:")[1].splitlines()[1]
        assert re.search(rf"~\d+ s/epoch, ~\d+(\.\d)? (s|min|h) for {epochs} epochs on this "
                         r"machine", line), line
    assert "not measured by this project" in out
    assert re.search(r"estimated time for what is left: ~\S+ (s|min|h) on this machine", out)
    assert "measured here: one warm-up" in out  # the assumptions, in one line
    if size == "full":
        assert "blog's own 2017 GPU" in out
    assert os.listdir(tmp_path) == ["tiny.npz"]  # an estimate writes nothing


@slow
def test_unknown_model_is_a_usage_error(capsys):
    assert main(["reproduce", "--models", "lv2,lstm3"]) == 2
    assert "lstm3" in capsys.readouterr().err


@slow
def test_runs_remember_the_cut_corpus(reproduced, capsys):
    args, root, report, _ = reproduced
    with open(os.path.join(root, "lv2", "config.json"), encoding="utf-8") as f:
        data = json.load(f)["data"]
    from tf1_birnn.data.source import DataSource
    assert DataSource.from_json(data).cut == (6, 12)
    assert main(["evaluate", os.path.join(root, "lv2")]) == 0
    assert "(5 train / 1 test utterances)" in capsys.readouterr().out


@slow
def test_reports_are_not_overwritten_and_an_empty_test_set_is_refused(reproduced, capsys):
    args, root, report, _ = reproduced
    before = open(report, encoding="utf-8").read()
    assert main(args[:-2] + ["--name", "r2", "--report", report]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert open(report, encoding="utf-8").read() == before
    data = args[args.index("--data") + 1]
    code = main(["reproduce", "--size", "tiny", "--data", data, "--max-utterances", "4",
                 "--logdir", os.path.dirname(root), "--name", "r3"])
    assert code == 2 and "4 train and 0 test utterances" in capsys.readouterr().err
    assert not os.path.exists(os.path.join(os.path.dirname(root), "r3"))


def test_seeds_table_gives_mean_spread_and_orderings():
    from tf1_birnn.tools.reproduce import seeds_table
    best = {55: dict(lv2=0.50, stacked=0.52), 56: dict(lv2=0.60, stacked=0.55)}
    summaries = [dict(settings=dict(seed=seed), models=[
        dict(model=m, best_test=v, final_test=v + 0.01) for m, v in by_model.items()])
        for seed, by_model in best.items()]
    table = seeds_table(summaries)
    assert "| lv2 | 55,56 | 0.550 (0.500..0.600) | 0.560 (0.510..0.610) |" in table
    assert "| stacked | 55,56 | 0.535 (0.520..0.550) |" in table
    # stacked - lv2: +0.02 (seed 55), -0.05 (seed 56)
    assert ("two layers beat one (stacked < lv2, best test): 1 of 2 seeds; difference "
            "stacked - lv2: mean -0.015 (-0.050..+0.020)") in table


@slow
def test_seeds_run_one_reproduction_per_seed(tmp_path, capsys):
    data = tiny_npz(tmp_path / "tiny.npz", n=10)
    logdir = str(tmp_path / "logs")
    args = ["reproduce", "--size", "tiny", "--data", data, "--max-utterances", "6",
            "--max-frames", "12", "--logdir", logdir, "--name", "s", "--models", "ff,lv2"]
    with pytest.raises(SystemExit) as exit_info:  # argparse's usage error
        main(args + ["--seeds", "3,x"])
    assert exit_info.value.code == 2
    assert "'3,x'" in capsys.readouterr().err
    assert main(args + ["--seeds", "3,4"]) == 0
    for seed in (3, 4):
        with open(os.path.join(logdir, "s", f"seed{seed}", "reproduce.json")) as f:
            assert json.load(f)["settings"]["seed"] == seed
    with open(os.path.join(logdir, "s", "results.md")) as f:
        text = f.read()
    assert "| lv2 | 3,4 |" in text and "Seed 4:" in text
    # one seed alone (one process per seed) writes its tables in its own folder
    assert main(args + ["--seeds", "4"]) == 0
    with open(os.path.join(logdir, "s", "seed4", "results.md")) as f:
        assert "| lv2 | 4 |" in f.read()
    with open(os.path.join(logdir, "s", "results.md")) as f:
        assert f.read() == text


@slow
def test_cell_dropout_models_beside_lv2(tmp_path, capsys):
    """``lv2_variational`` and ``lv2_candidate`` train at ``--keep-rate`` and are reported
    beside ``lv2``: best test and the train/test gap, per seed and over the seeds."""
    data = tiny_npz(tmp_path / "tiny.npz", n=10)
    logdir = str(tmp_path / "logs")
    assert main(["reproduce", "--size", "tiny", "--data", data, "--max-utterances", "6",
                 "--max-frames", "12", "--logdir", logdir, "--name", "d", "--keep-rate", "0.5",
                 "--models", "lv2,lv2_variational,lv2_candidate", "--seeds", "3,4"]) == 0
    for model, form in (("lv2", "none"), ("lv2_variational", "variational"),
                        ("lv2_candidate", "candidate")):
        with open(os.path.join(logdir, "d", "seed3", model, "config.json")) as f:
            saved = json.load(f)
        assert (saved["cell_dropout"], saved["keep_rate"]) == (form, 0.5)
    with open(os.path.join(logdir, "d", "results.md")) as f:
        table = f.read()
    assert "Cell dropout, lv2_candidate: best test " in table
    assert "variational cell dropout beats none (lv2_variational < lv2, best test): " in table
    assert "Final train/test gap (test - train), mean (min..max): lv2 " in table


def test_sizes_are_overrides_of_the_config():
    """``full`` is the tutorial's own settings (``RunConfig``'s defaults, the 'blog' preset);
    ``reduced`` takes the quick preset's width and learning rate; every size has the
    tutorial's seed and batch size."""
    from tf1_birnn.tools.reproduce import SIZED, SIZES, size_settings
    from tf1_birnn.training.config import PRESETS, RunConfig
    tutorial = RunConfig()
    assert SIZES["full"] == ("blog", {}) and PRESETS["blog"] == {}
    full = size_settings("full")
    assert {k: full[k] for k in SIZED} == {k: getattr(tutorial, k) for k in SIZED}
    reduced = size_settings("reduced")
    assert (reduced["num_units"], reduced["learning_rate"]) == \
        (PRESETS["quick"]["num_units"], PRESETS["quick"]["learning_rate"])
    for size in SIZES:
        settings = size_settings(size)
        assert (settings["seed"], settings["batch_size"]) == (tutorial.seed, tutorial.batch_size)
    assert size_settings("tiny", seed=3, epochs=None)["seed"] == 3  # None: not given
    with pytest.raises(ValueError, match="size must be one of"):
        size_settings("huge")


def test_setting_flags_come_from_the_config_fields():
    """``--epochs``, ``--num-units``, ``--learning-rate``, ``--keep-rate``: the ``RunConfig``
    fields' own help and parser, and the default each size or preset gives."""
    from dataclasses import fields
    from tf1_birnn.tools.reproduce import SETTING_FLAGS
    from tf1_birnn.training.config import PRESETS, RunConfig
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["reproduce"]
    actions = {a.dest: a for a in sub._actions}
    for f in fields(RunConfig):
        if f.name in SETTING_FLAGS:
            assert actions[f.name].help.startswith(f.metadata["help"])
            assert actions[f.name].type is f.metadata["parse"]
            assert actions[f.name].default is None
    tutorial, quick = RunConfig(), PRESETS["quick"]
    assert f"full {tutorial.num_units}, reduced {quick['num_units']}, tiny " \
        in actions["num_units"].help
    assert f"lv1: {PRESETS['lv1']['keep_rate']:g}" in actions["keep_rate"].help
    assert f"(default: {tutorial.seed})" in actions["seeds"].help
    args = parser.parse_args(["reproduce", "--keep-rate", "0.5", "--epochs", "3"])
    assert (args.keep_rate, args.epochs, args.num_units) == (0.5, 3, None)
