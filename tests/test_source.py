"""``DataSource``: the value a run stores for its corpus; JSON round trips, the strings of
older runs, awkward paths, cuts, and errors."""
import json
import os

import numpy as np
import pytest

from tf1_birnn.data.helpers import cut_corpus
from tf1_birnn.data.loader import DataError
from tf1_birnn.data.source import DataSource
from tf1_birnn.tools.cli import main
from tiny import tiny_corpus, tiny_flags, tiny_npz

AWKWARD = "a|b#cut=1,2:c"  # every separator of the old string format in one file name


@pytest.mark.parametrize("source", [
    DataSource(),
    DataSource("synthetic", seed=7, cut=(5, None)),
    DataSource("npz", paths=(f"/data/{AWKWARD}.npz",), cut=(6, 12)),
    DataSource("original-files", paths=(f"/d/{AWKWARD}/X.npy", "/d/Y.npy"), cut=(None, 3)),
    DataSource("fetched-original"),
    DataSource("synthetic", seed=3, cut=(40, 9), validation=True),
])
def test_json_round_trip(source):
    text = source.to_json()
    assert isinstance(text, str) and json.loads(text)["kind"] == source.kind
    assert DataSource.from_json(text) == source
    assert DataSource.from_json(json.loads(text)) == source


@pytest.mark.parametrize("old, new", [
    ("synthetic:0", DataSource()),
    ("synthetic:3#cut=,5", DataSource("synthetic", seed=3, cut=(None, 5))),
    ("npz:/p/c.npz#cut=6,12", DataSource("npz", paths=("/p/c.npz",), cut=(6, 12))),
    ("npz:/p/x#cut=.npz", DataSource("npz", paths=("/p/x#cut=.npz",))),
    ("original:/x/X.npy|/y/Y.npy", DataSource("original-files", paths=("/x/X.npy", "/y/Y.npy"))),
])
def test_older_runs_strings_are_read(old, new):
    assert DataSource.from_json(old) == new


@pytest.mark.parametrize("bad, message", [
    ("mp3:/x", "unknown data source 'mp3:/x'"),
    ("synthetic:x", "unknown data source"),
    ('{"kind": "cloud"}', "data kind must be one of"),
    ('{"kind": "npz"}', "takes 1 path(s)"),
    ('{"kind": "synthetic", "cut": [0, 3]}', "max_utterances must be a positive integer"),
    ('{"kind": "synthetic", "sead": 1}', "unknown data source"),
])
def test_bad_sources_are_refused(bad, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        DataSource.from_json(bad)


def test_parse_the_data_flag(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert DataSource.parse(None) == DataSource.parse("synthetic") == DataSource()
    assert DataSource.parse("synthetic", seed=2).seed == 2
    assert DataSource.parse("original").kind == "fetched-original"
    assert DataSource.parse("./original").paths == (str(tmp_path / "original"),)
    with pytest.raises(DataError, match="--corpus-seed applies to the synthetic corpus"):
        DataSource.parse("c.npz", seed=1)


def test_a_path_with_the_old_separators_loads_and_cuts(tmp_path):
    path = tiny_npz(tmp_path / f"{AWKWARD}.npz", n=7)
    source = DataSource.parse(path).with_cut(4, 9)
    X, Y = DataSource.from_json(source.to_json()).load()
    X0, Y0 = cut_corpus(*tiny_corpus(n=7), 4, 9)  # the reference: the helper on the raw corpus
    assert len(X) == 4 and all(len(x) <= 9 for x in X)
    for a, b in zip(X + Y, X0 + Y0):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_a_run_on_an_awkward_path_and_an_old_config_keep_working(tmp_path, capsys):
    path = tiny_npz(tmp_path / f"{AWKWARD}.npz", n=8)
    logdir = str(tmp_path / "logs")
    assert main(["train", "--data", path, *tiny_flags(epochs=1), "--logdir", logdir,
                 "--run-name", "t", "--no-progress"]) == 0
    config_path = os.path.join(logdir, "t", "config.json")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    assert DataSource.from_json(config["data"]) == DataSource("npz", paths=(path,))
    capsys.readouterr()
    assert main(["evaluate", os.path.join(logdir, "t")]) == 0
    assert "(7 train / 1 test utterances)" in capsys.readouterr().out
    # a run folder written before DataSource: the old string with a cut; same path again
    plain = tiny_npz(tmp_path / "plain.npz", n=8)
    config["data"] = f"npz:{plain}#cut=5,"
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f)
    assert main(["evaluate", os.path.join(logdir, "t")]) == 0
    assert "(4 train / 1 test utterances)" in capsys.readouterr().out
    # resuming on other data than the saved (cut) corpus is refused
    code = main(["train", "--resume", "--run-name", "t", "--logdir", logdir, "--data", path])
    assert code == 2 and "saved data" in capsys.readouterr().err


def test_validation_keeps_the_training_split_only(tmp_path):
    """``validation``: the corpus's test utterances (the first 20%, ``train_test_split``) are
    gone before the cut, so a run on it is evaluated on training utterances only."""
    path = tiny_npz(tmp_path / "c.npz", n=10)
    full = DataSource("npz", paths=(path,))
    X, Y = full.load()
    Xv, Yv = full.train_split_only().load()
    assert len(Xv) == 8 and all(np.array_equal(a, b) for a, b in zip(Xv, X[2:]))
    assert all(np.array_equal(a, b) for a, b in zip(Yv, Y[2:]))
    Xc, _ = full.train_split_only().with_cut(3, 4).load()  # the cut applies to what is kept
    assert len(Xc) == 3 and np.array_equal(Xc[0], X[2][:4])
    assert "training split only" in full.train_split_only().describe()
    with pytest.raises(DataError, match="validation must be True or False"):
        DataSource(validation="yes")


@pytest.mark.slow
def test_train_with_validation_saves_it_and_resumes_on_it(tmp_path, capsys):
    path = tiny_npz(tmp_path / "c.npz", n=10)
    logdir = str(tmp_path / "logs")
    args = ["train", "--data", path, "--validation", "--logdir", logdir, "--run-name", "v",
            "--no-progress"]
    assert main(args + tiny_flags(epochs=1)) == 0
    saved = json.load(open(os.path.join(logdir, "v", "config.json")))
    assert DataSource.from_json(saved["data"]) == DataSource("npz", paths=(path,), validation=True)
    # --resume without data flags continues on the saved (validation) data
    assert main(["train", "--logdir", logdir, "--run-name", "v", "--resume", "--epochs", "2",
                 "--no-progress"]) == 0
    # naming the full corpus instead is refused: not the run's data
    assert main(["train", "--data", path, "--logdir", logdir, "--run-name", "v", "--resume",
                 "--epochs", "3", "--no-progress"]) == 2
    assert "saved data" in capsys.readouterr().err
