"""Run folders, checkpoints and resume (including after SIGKILL)."""
import json
import os
import signal
import subprocess
import sys

import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tf1_birnn.training.run import build_session, open_run, preset_config, train_run
from tiny import dead_pid, hold_lock, tiny_config, tiny_corpus, tiny_flags, tiny_npz, wait_for_line


pytestmark = pytest.mark.slow  # every test trains a run (pytest.ini: slow)


def quiet(*_):
    pass


@pytest.mark.slow
def test_an_existing_run_is_never_overwritten(tmp_path):
    X, Y = tiny_corpus(n=6)
    config = tiny_config(epochs=1)
    train_run(config, X, Y, str(tmp_path), "r", out=quiet, show_progress=False)
    before = sorted(os.listdir(tmp_path / "r"))
    with pytest.raises(FileExistsError, match="--resume"):
        train_run(config, X, Y, str(tmp_path), "r", out=quiet, show_progress=False)
    assert sorted(os.listdir(tmp_path / "r")) == before


@pytest.mark.slow
def test_resume_continues_the_curve(tmp_path):
    X, Y = tiny_corpus(n=6)
    whole = train_run(tiny_config(epochs=3), X, Y, str(tmp_path), "whole", out=quiet,
                      show_progress=False)
    part = train_run(tiny_config(epochs=1), X, Y, str(tmp_path), "part", out=quiet,
                     show_progress=False)
    printed = []
    train_run(None, X, Y, str(tmp_path), "part", resume=True, epochs=3, out=printed.append,
              show_progress=False)
    assert "resuming" in printed[0]
    _, h_whole = open_run(whole)
    _, h_part = open_run(part)
    assert [h["epoch"] for h in h_part] == [0, 1, 2]
    assert h_part[0]["test"] == h_whole[0]["test"]  # the first epoch is kept as it was
    assert h_part[2]["train"] < h_part[0]["train"]  # and the curve goes on falling
    assert tf.train.latest_checkpoint(part).endswith("model.ckpt-2")  # numbered by epoch


@pytest.mark.slow
def test_sigkill_loses_at_most_the_epoch_in_progress(tmp_path):
    data = tiny_npz(tmp_path / "tiny.npz", n=12)
    logdir = tmp_path / "logs"
    cmd = [sys.executable, "-m", "tf1_birnn", "train", "--data", data, "--logdir", str(logdir),
           "--run-name", "k", "--no-progress"]
    proc = subprocess.Popen(cmd + tiny_flags(epochs=400), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))  # lines as printed
    index = logdir / "k" / "checkpoint"
    try:
        # epoch 1's line: epoch 0 is saved, and epoch 1 is being logged and saved (or epoch 2
        # has begun) when the kill lands
        wait_for_line(proc.stdout, "(1, 'train:', ", 120, "the line of epoch 1")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert index.exists(), "no checkpoint was written before the kill"
    config, history = open_run(str(logdir / "k"))
    checkpoint = tf.train.latest_checkpoint(str(logdir / "k"))
    done = int(checkpoint.rsplit("-", 1)[1]) + 1  # model.ckpt-<last epoch>
    assert len(history) >= done >= 1  # history.json may hold the epoch being saved
    graph, sess, net, _ = build_session(config, checkpoint)  # restores cleanly
    sess.close()
    # resume to a small total: the run ends with exactly that many epochs
    total = done + 2
    out = subprocess.run(cmd + ["--epochs", str(total), "--resume"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    with open(logdir / "k" / "history.json") as f:
        epochs = [h["epoch"] for h in json.load(f)["epochs"]]
    assert epochs == list(range(total))
    assert tf.train.latest_checkpoint(str(logdir / "k")).endswith(f"model.ckpt-{total - 1}")
    # TensorBoard sees each epoch and each Adam step once: what the killed process wrote
    # after its last checkpoint is purged
    acc = EventAccumulator(str(logdir / "k" / "test"), size_guidance={"scalars": 0})
    acc.Reload()
    assert [e.step for e in acc.Scalars("loss")] == list(range(total))
    steps = EventAccumulator(str(logdir / "k" / "steps"), size_guidance={"scalars": 0})
    steps.Reload()
    assert [e.step for e in steps.Scalars("loss_per_step")] == list(range(total * 10))


@pytest.mark.slow
def test_resume_purges_events_written_after_the_last_checkpoint(tmp_path):
    from tf1_birnn.training.summaries import RunWriter
    X, Y = tiny_corpus(n=6)  # 1 test, 5 train utterances: 5 Adam steps per epoch
    run_dir = train_run(tiny_config(epochs=2), X, Y, str(tmp_path), "p",
                        out=quiet, show_progress=False)
    # what a process killed in epoch 2, after logging but before saving, leaves behind
    stale = RunWriter(run_dir, tf.Graph())
    stale.scalars(2, train=99.0, test=99.0)
    for step in range(10, 15):
        stale.step_loss(step, 99.0)
    stale.close()
    train_run(None, X, Y, str(tmp_path), "p", resume=True, epochs=3, out=quiet,
              show_progress=False)
    acc = EventAccumulator(f"{run_dir}/test", size_guidance={"scalars": 0})
    acc.Reload()
    test_points = [(e.step, e.value) for e in acc.Scalars("loss")]
    assert [s for s, _ in test_points] == [0, 1, 2] and 99.0 not in [v for _, v in test_points]
    steps = EventAccumulator(f"{run_dir}/steps", size_guidance={"scalars": 0})
    steps.Reload()
    points = steps.Scalars("loss_per_step")
    assert [e.step for e in points] == list(range(15)) and all(e.value != 99.0 for e in points)


def test_last_checkpoint_names_a_run_without_one(tmp_path):
    from tf1_birnn.training.run import last_checkpoint
    with pytest.raises(ValueError, match="has no checkpoint yet"):
        last_checkpoint(str(tmp_path))


# --- checkpoints a user can trust (issue 13) ---

import shutil  # noqa: E402

from tf1_birnn.training.checkpoints import CheckpointError, list_checkpoints  # noqa: E402
from tf1_birnn.training.lock import RunLocked  # noqa: E402
from tf1_birnn.training.run import last_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def three_epochs(tmp_path_factory):
    """A finished 3-epoch run (tiny) and its corpus; tests work on copies of it."""
    X, Y = tiny_corpus(n=6)
    logdir = tmp_path_factory.mktemp("three")
    run_dir = train_run(tiny_config(epochs=3), X, Y, str(logdir), "r",
                        out=quiet, show_progress=False)
    return run_dir, X, Y


def copy_run(three_epochs, tmp_path, name="r"):
    run_dir, X, Y = three_epochs
    logdir = tmp_path / "logs"
    shutil.copytree(run_dir, logdir / name)
    return str(logdir), str(logdir / name), X, Y


def files(run_dir):
    return {f: os.path.getsize(os.path.join(run_dir, f)) for f in os.listdir(run_dir)
            if os.path.isfile(os.path.join(run_dir, f))}


def test_checkpoints_are_numbered_by_epoch_with_manifests_and_relative_paths(three_epochs):
    run_dir, _, _ = three_epochs
    assert [c.epoch for c in list_checkpoints(run_dir)] == [2, 1, 0]
    for epoch in range(3):
        assert os.path.isfile(os.path.join(run_dir, f"model.ckpt-{epoch}.manifest.json"))
    with open(os.path.join(run_dir, "checkpoint")) as f:
        state = f.read()
    assert 'model_checkpoint_path: "model.ckpt-2"' in state and os.sep not in state
    assert tf.train.latest_checkpoint(run_dir).endswith("model.ckpt-2")
    assert not os.path.exists(os.path.join(run_dir, "lock"))  # released


def test_a_moved_run_uses_its_own_checkpoints_and_resumes(three_epochs, tmp_path):
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path, "moved")
    assert last_checkpoint(run_dir) == os.path.join(run_dir, "model.ckpt-2")
    _, before = open_run(run_dir)
    train_run(None, X, Y, logdir, "moved", resume=True, epochs=4, out=quiet,
              show_progress=False)
    _, after = open_run(run_dir)
    assert [h["epoch"] for h in after] == [0, 1, 2, 3] and after[:3] == before


def test_evaluate_on_a_copied_run_uses_the_copys_weights(three_epochs, tmp_path, capsys):
    from tf1_birnn.tools.cli import main
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path, "copy")
    shutil.copytree(run_dir, os.path.join(logdir, "other"))
    # give the copy different weights: its newest checkpoint becomes one of another run
    other = train_run(tiny_config(epochs=1, seed=5), X, Y, logdir,
                      "seed5", out=quiet, show_progress=False)
    for f in os.listdir(other):
        if f.startswith("model.ckpt-0."):
            shutil.copy(os.path.join(other, f),
                        os.path.join(run_dir, f.replace("ckpt-0", "ckpt-2")))
    with open(os.path.join(run_dir, "model.ckpt-2.manifest.json")) as f:
        manifest = json.load(f)
    manifest["epoch"] = 2
    manifest["files"] = {k.replace("ckpt-0", "ckpt-2"): v for k, v in manifest["files"].items()}
    with open(os.path.join(run_dir, "model.ckpt-2.manifest.json"), "w") as f:
        json.dump(manifest, f)
    data = tiny_npz(tmp_path / "tiny.npz", n=6)
    lines = {}
    for name in ("copy", "other", "seed5"):
        assert main(["evaluate", os.path.join(logdir, name), "--data", data]) == 0
        lines[name] = capsys.readouterr().out.split(": ", 1)[1]
    assert lines["copy"] == lines["seed5"] != lines["other"]


def test_resume_without_the_newest_index_falls_back_and_never_restarts(three_epochs, tmp_path):
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    os.remove(os.path.join(run_dir, "model.ckpt-2.index"))
    os.remove(os.path.join(run_dir, "checkpoint"))
    _, before = open_run(run_dir)
    printed = []
    train_run(None, X, Y, logdir, "r", resume=True, epochs=4, out=printed.append,
              show_progress=False)
    text = "\n".join(map(str, printed))
    assert "model.ckpt-2 (epoch 2) is damaged" in text and "model.ckpt-1" in text
    _, after = open_run(run_dir)
    assert [h["epoch"] for h in after] == [0, 1, 2, 3] and after[:2] == before[:2]
    assert sorted(os.listdir(os.path.join(run_dir, "damaged"))) == [
        "model.ckpt-2.data-00000-of-00001", "model.ckpt-2.manifest.json"]  # set aside, kept


def test_a_truncated_data_file_falls_back_to_the_previous_checkpoint(three_epochs, tmp_path,
                                                                     capsys):
    from tf1_birnn.tools.cli import main
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    data = os.path.join(run_dir, "model.ckpt-2.data-00000-of-00001")
    with open(data, "r+b") as f:
        f.truncate(os.path.getsize(data) // 2)
    assert main(["evaluate", run_dir, "--data", tiny_npz(tmp_path / "t.npz", n=6)]) == 0
    out = capsys.readouterr()
    assert "model.ckpt-2" in out.err and "damaged" in out.err
    assert out.out.startswith(os.path.join(run_dir, "model.ckpt-1") + ":")


def test_resume_with_nothing_restorable_stops_and_changes_nothing(three_epochs, tmp_path):
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    for f in os.listdir(run_dir):
        if ".data-" in f:
            with open(os.path.join(run_dir, f), "r+b") as fh:
                fh.truncate(10)
    before = files(run_dir)
    with pytest.raises(CheckpointError, match="no checkpoint of run .* can be restored"):
        train_run(None, X, Y, logdir, "r", resume=True, epochs=5, out=quiet,
                  show_progress=False)
    assert files(run_dir) == before
    for f in os.listdir(run_dir):  # every checkpoint gone, history.json records 3 epochs
        if f.startswith("model.ckpt-"):
            os.remove(os.path.join(run_dir, f))
    before = files(run_dir)
    with pytest.raises(CheckpointError, match="history.json records 3 epochs but no checkpoint "
                                              "is left; the run is left as it is"):
        train_run(None, X, Y, logdir, "r", resume=True, epochs=5, out=quiet,
                  show_progress=False)
    assert files(run_dir) == before


def test_resume_to_fewer_or_as_many_epochs_changes_nothing(three_epochs, tmp_path):
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    before = {f: open(os.path.join(run_dir, f), "rb").read() for f in files(run_dir)}
    with pytest.raises(ValueError, match="--epochs 1 is fewer than the 3 epochs"):
        train_run(None, X, Y, logdir, "r", resume=True, epochs=1, out=quiet,
                  show_progress=False)
    printed = []
    train_run(None, X, Y, logdir, "r", resume=True, out=printed.append, show_progress=False)
    assert "nothing to do" in printed[0]
    assert {f: open(os.path.join(run_dir, f), "rb").read() for f in files(run_dir)} == before


def test_a_live_lock_refuses_a_second_process_and_a_stale_one_is_taken_over(three_epochs,
                                                                           tmp_path):
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    lock = os.path.join(run_dir, "lock")
    with hold_lock(run_dir) as pid:
        with pytest.raises(RunLocked, match=f"in use by process {pid}"):
            train_run(None, X, Y, logdir, "r", resume=True, epochs=4, out=quiet,
                      show_progress=False)
    with open(lock, "w") as f:  # the pid of a process that has exited, as a SIGKILL leaves it
        f.write(f"{dead_pid()}\n")
    train_run(None, X, Y, logdir, "r", resume=True, epochs=4, out=quiet, show_progress=False)
    assert len(open_run(run_dir)[1]) == 4 and not os.path.exists(lock)


def test_resume_refuses_a_changed_corpus(three_epochs, tmp_path):
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    X2 = [x.copy() for x in X]
    X2[3][0, 0] += 1.0
    before = files(run_dir)
    with pytest.raises(ValueError, match=r"corpus differs .*recorded sha256:\w+, loaded sha256:"):
        train_run(None, X2, Y, logdir, "r", resume=True, epochs=4, out=quiet,
                  show_progress=False)
    assert files(run_dir) == before


def test_a_run_folder_written_before_manifests_is_read(three_epochs, tmp_path):
    """Old runs: model.ckpt-<epochs done> (numbered from 1), no manifests."""
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    for f in sorted(os.listdir(run_dir), reverse=True):
        if f.endswith(".manifest.json"):
            os.remove(os.path.join(run_dir, f))
        elif f.startswith("model.ckpt-"):
            n, rest = f[len("model.ckpt-"):].split(".", 1)
            os.rename(os.path.join(run_dir, f),
                      os.path.join(run_dir, f"model.ckpt-{int(n) + 1}.{rest}"))
    assert [c.epoch for c in list_checkpoints(run_dir)] == [2, 1, 0]
    printed = []
    train_run(None, X, Y, logdir, "r", resume=True, epochs=4, out=printed.append,
              show_progress=False)
    assert "after epoch 2" in printed[0]
    assert [h["epoch"] for h in open_run(run_dir)[1]] == [0, 1, 2, 3]


@pytest.mark.parametrize("name, text, message", [
    ("history.json", "{}", r"history.json: expected \{\"epochs\": \[...\]\}"),
    ("history.json", '{"epochs": [{"epoch": 0}]}', "history.json: epoch row 0 must have"),
    ("history.json", "{garbled", "history.json: not valid JSON"),
    ("config.json", "[1, 2]", "config.json: expected a JSON object"),
    ("config.json", '{"colour": 1}', "config.json: not a run's settings"),
])
def test_malformed_run_files_are_named(three_epochs, tmp_path, name, text, message):
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    with open(os.path.join(run_dir, name), "w") as f:
        f.write(text)
    with pytest.raises(ValueError, match=message):
        open_run(run_dir)
    with pytest.raises(ValueError, match=message):
        train_run(None, X, Y, logdir, "r", resume=True, epochs=4, out=quiet,
                  show_progress=False)


def test_a_garbled_manifest_is_named_and_skipped(three_epochs, tmp_path):
    _, run_dir, _, _ = copy_run(three_epochs, tmp_path)
    with open(os.path.join(run_dir, "checkpoint"), "w") as f:
        f.write("garbled {")  # TensorFlow's index: not needed, checkpoints are listed
    assert last_checkpoint(run_dir).endswith("model.ckpt-2")
    with open(os.path.join(run_dir, "model.ckpt-2.manifest.json"), "w") as f:
        f.write("garbled")
    assert last_checkpoint(run_dir).endswith("model.ckpt-1")
    from tf1_birnn.training.checkpoints import verify_checkpoint
    with pytest.raises(CheckpointError, match="model.ckpt-2.manifest.json: not a readable"):
        verify_checkpoint(list_checkpoints(run_dir)[0])


def test_a_one_utterance_corpus_is_refused_before_a_folder_exists(tmp_path):
    X, Y = tiny_corpus(n=1)
    with pytest.raises(ValueError, match="1 utterance.* 0 test .*give at least 5"):
        train_run(tiny_config(epochs=1), X, Y, str(tmp_path), "one",
                  out=quiet, show_progress=False)
    assert not os.path.exists(tmp_path / "one")


def test_disk_full_while_saving_keeps_the_finished_epochs_and_no_partial_checkpoint(
        tmp_path, monkeypatch):
    import errno
    from tf1_birnn.training import checkpoints
    X, Y = tiny_corpus(n=6)
    real = tf.compat.v1.train.Saver.save

    def save(self, sess, path, global_step=None, **kwargs):
        if global_step == 1:  # TensorFlow's error when the disk fills up mid-save
            real(self, sess, path, global_step=global_step, **kwargs)
            raise tf.errors.ResourceExhaustedError(
                None, None, f"{path}-1_temp/part-00000-of-00001.data-00000-of-00001."
                "tempstate1; No space left on device")
        return real(self, sess, path, global_step=global_step, **kwargs)

    monkeypatch.setattr(tf.compat.v1.train.Saver, "save", save)
    with pytest.raises(OSError) as info:
        train_run(tiny_config(epochs=3), X, Y, str(tmp_path), "full",
                  out=quiet, show_progress=False)
    assert info.value.errno == errno.ENOSPC and "model.ckpt-1_temp" in info.value.filename
    run_dir = str(tmp_path / "full")
    assert [c.epoch for c in list_checkpoints(run_dir)] == [0]
    assert not [f for f in os.listdir(run_dir) if f.startswith("model.ckpt-1")]
    # a new run that fails before its first checkpoint leaves no folder at all
    monkeypatch.setattr(checkpoints, "write_manifest",
                        lambda *a: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full", "m")))
    with pytest.raises(OSError):
        train_run(tiny_config(epochs=1), X, Y, str(tmp_path), "none",
                  out=quiet, show_progress=False)
    assert not os.path.exists(tmp_path / "none")


def test_divergence_says_whether_a_checkpoint_was_kept(tmp_path):
    from tf1_birnn.training.loop import TrainingDiverged
    X, Y = tiny_corpus(n=6)
    with pytest.raises(TrainingDiverged, match="no epoch had finished, so no run folder is kept"):
        train_run(tiny_config(epochs=1, learning_rate=1e30), X, Y,
                  str(tmp_path), "nan", out=quiet, show_progress=False)
    assert not os.path.exists(tmp_path / "nan")


def test_a_network_beyond_memory_is_refused_before_it_is_built():
    from tf1_birnn.training.run import check_memory
    with pytest.raises(MemoryError, match=r"num_units=1000000 needs at least \d+ GiB"):
        check_memory(preset_config("quick", num_units=1000000))
    check_memory(preset_config("quick", num_units=1024))


# ---- records and checkpoints that do not agree with the run ------------------------------

@pytest.fixture(scope="module")
def other_sizes(tmp_path_factory):
    """A finished 1-epoch run of 16 units (the three_epochs run has 8)."""
    X, Y = tiny_corpus(n=6)
    logdir = tmp_path_factory.mktemp("sixteen")
    return train_run(tiny_config(num_units=16, epochs=1), X, Y, str(logdir), "s",
                     out=quiet, show_progress=False)


def put_foreign_checkpoint(run_dir, other_run):
    """Replace ``run_dir``'s newest checkpoint (2) by ``other_run``'s checkpoint 0, with a
    manifest that matches it: it passes the manifest but does not fit the network."""
    from tf1_birnn.training.checkpoints import write_manifest
    for f in os.listdir(run_dir):
        if f.startswith("model.ckpt-2."):
            os.remove(os.path.join(run_dir, f))
    for f in os.listdir(other_run):
        if f.startswith("model.ckpt-0.") and not f.endswith(".json"):
            shutil.copy(os.path.join(other_run, f),
                        os.path.join(run_dir, f.replace("ckpt-0", "ckpt-2")))
    write_manifest(run_dir, 2)


def test_a_checkpoint_that_does_not_fit_is_damaged_like_any_other(three_epochs, other_sizes,
                                                                  tmp_path, capsys):
    from tf1_birnn.tools.cli import main
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    put_foreign_checkpoint(run_dir, other_sizes)
    assert main(["evaluate", run_dir, "--data", tiny_npz(tmp_path / "t.npz", n=6)]) == 0
    out = capsys.readouterr()
    assert out.err.count("\n") == 1 and "model.ckpt-2 (epoch 2) is damaged: " in out.err
    assert "does not fit this network" in out.err and "using model.ckpt-1 (epoch 1)" in out.err
    assert out.out.startswith(os.path.join(run_dir, "model.ckpt-1") + ":")
    printed = []
    train_run(None, X, Y, logdir, "r", resume=True, epochs=4, out=printed.append,
              show_progress=False)
    moved = [line for line in printed if "is damaged" in line]
    assert len(moved) == 1 and moved[0].endswith(os.path.join(run_dir, "damaged", "model.ckpt-2"))
    assert "resuming" in printed[1] and "after epoch 1" in printed[1]
    assert [h["epoch"] for h in open_run(run_dir)[1]] == [0, 1, 2, 3]
    assert "model.ckpt-2.index" in os.listdir(os.path.join(run_dir, "damaged"))


def test_deleted_manifests_are_refused_never_relabelled(three_epochs, tmp_path, capsys):
    from tf1_birnn.tools.cli import main
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    for f in os.listdir(run_dir):
        if f.endswith(".manifest.json"):
            os.remove(os.path.join(run_dir, f))
    before = {f: open(os.path.join(run_dir, f), "rb").read() for f in files(run_dir)}
    with pytest.raises(CheckpointError, match=r"the records of run .* disagree: history.json "
                                              r"records 3 epochs but model.ckpt-0 has no "
                                              r"manifest.*; the run is left as it is"):
        train_run(None, X, Y, logdir, "r", resume=True, epochs=5, out=quiet,
                  show_progress=False)
    assert main(["evaluate", run_dir]) == 2
    assert "disagree" in capsys.readouterr().err
    for f in [f for f in before if f.startswith("model.ckpt-0.")]:  # pruned: 1 and 2 remain
        os.remove(os.path.join(run_dir, f))
        del before[f]
    with pytest.raises(CheckpointError, match=r"records 3 epochs but model.ckpt-2 holds 2 "
                                              r"epochs \(read as a run made before manifests"):
        train_run(None, X, Y, logdir, "r", resume=True, epochs=5, out=quiet,
                  show_progress=False)
    assert {f: open(os.path.join(run_dir, f), "rb").read() for f in files(run_dir)} == before


def test_a_history_older_than_the_checkpoints_is_refused(three_epochs, tmp_path):
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    path = os.path.join(run_dir, "history.json")
    with open(path) as f:
        history = json.load(f)
    history["epochs"] = history["epochs"][:1]  # an older copy put back
    with open(path, "w") as f:
        json.dump(history, f)
    with pytest.raises(CheckpointError, match="history.json records 1 epochs but model.ckpt-2 "
                                              "holds 3 epochs; the run is left as it is"):
        train_run(None, X, Y, logdir, "r", resume=True, epochs=5, out=quiet,
                  show_progress=False)


def test_resume_without_history_json_is_refused_so_the_corpus_check_cannot_be_skipped(
        three_epochs, tmp_path):
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    os.remove(os.path.join(run_dir, "history.json"))
    before = files(run_dir)
    X2, Y2 = tiny_corpus(n=6, seed=1)  # another corpus
    with pytest.raises(ValueError, match=r"history.json is missing: the corpus and the epochs "
                                         r"of this run cannot be checked"):
        train_run(None, X2, Y2, logdir, "r", resume=True, epochs=5, out=quiet,
                  show_progress=False)
    assert files(run_dir) == before


# ---- a kill at any instant of a save ----------------------------------------------------

KILLED_CHILD = """
import sys
sys.path.insert(0, sys.argv[4])
from tiny import tiny_config, tiny_corpus
from tf1_birnn.training.run import train_run
X, Y = tiny_corpus(n=6)
config = None if sys.argv[2] == "resume" else tiny_config()
train_run(config, X, Y, sys.argv[1], "r", resume=sys.argv[2] == "resume",
          epochs=int(sys.argv[3]), out=lambda *_: None, show_progress=False)
"""

# the steps of a save, in order (run._train and checkpoints.save_checkpoint)
FIRST_SAVE = ("evaluated", "history", "saved", "manifest", "state")
LATER_SAVE = ("evaluated", "history", "saved", "manifest", "pruned", "state")


def kill_at(step, logdir, mode, epochs):
    """Run training in a child that SIGKILLs itself at ``step`` (TF1_BIRNN_TEST_KILL_AT)."""
    env = dict(os.environ, TF1_BIRNN_TEST_KILL_AT=step, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", KILLED_CHILD, str(logdir), mode, str(epochs),
                           os.path.dirname(__file__)], env=env, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def assert_complete(run_dir, epochs):
    from tf1_birnn.training.checkpoints import verify_checkpoint
    assert [h["epoch"] for h in open_run(run_dir)[1]] == list(range(epochs))
    checkpoints = list_checkpoints(run_dir)
    assert [c.epoch for c in checkpoints] == list(range(epochs - 1, -1, -1))[:3]
    for c in checkpoints:
        verify_checkpoint(c)
    left = [f for f in os.listdir(run_dir) if f.endswith(".tmp") or "tempstate" in f
            or "_temp" in f or f == "lock"]
    assert not left


@pytest.mark.slow
@pytest.mark.parametrize("step", FIRST_SAVE)
def test_a_kill_at_any_step_of_the_first_save_resumes(tmp_path, step):
    X, Y = tiny_corpus(n=6)
    logdir = tmp_path / "logs"
    kill_at(f"{step}:0", logdir, "new", 2)
    # what a kill inside TensorFlow's own write of the data file leaves
    (logdir / "r" / "model.ckpt-0.data-00000-of-00001.tempstate8127").write_bytes(b"x")
    train_run(None, X, Y, str(logdir), "r", resume=True, epochs=2, out=quiet,
              show_progress=False)
    assert_complete(str(logdir / "r"), 2)


@pytest.mark.slow
@pytest.mark.parametrize("step", LATER_SAVE)
def test_a_kill_at_any_step_of_a_later_save_resumes(three_epochs, tmp_path, step):
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    kill_at(f"{step}:3", logdir, "resume", 5)  # epoch 3's save prunes checkpoint 0
    train_run(None, X, Y, logdir, "r", resume=True, epochs=5, out=quiet, show_progress=False)
    assert_complete(run_dir, 5)


def test_a_manifest_naming_a_file_outside_the_run_is_damaged(three_epochs, tmp_path):
    logdir, run_dir, X, Y = copy_run(three_epochs, tmp_path)
    path = os.path.join(run_dir, "model.ckpt-2.manifest.json")
    with open(path) as f:
        manifest = json.load(f)
    manifest["files"]["../../outside"] = dict(size=1, sha256="0" * 64)
    with open(path, "w") as f:
        json.dump(manifest, f)
    with pytest.raises(CheckpointError, match="names a file outside the run folder"):
        from tf1_birnn.training.checkpoints import verify_checkpoint
        verify_checkpoint(list_checkpoints(run_dir)[0])
    assert last_checkpoint(run_dir).endswith("model.ckpt-1")


@pytest.mark.slow
def test_a_run_opened_before_another_epoch_is_saved_still_restores(tmp_path):
    """``evaluate``/``predict`` open a run, then load data and TensorFlow: an epoch that the
    training process saves meanwhile must not read as records that disagree."""
    from tf1_birnn.training.folder import RunFolder
    from tf1_birnn.training.session import restore_newest
    X, Y = tiny_corpus(n=10)
    run_dir = train_run(tiny_config(epochs=1), X, Y, str(tmp_path), "r", out=quiet,
                        show_progress=False)
    opened = RunFolder.open(run_dir)  # one epoch recorded
    train_run(None, X, Y, str(tmp_path), "r", resume=True, epochs=2, out=quiet,
              show_progress=False)
    checkpoint, (_, sess, _, _), damaged = restore_newest(opened, out=quiet)
    sess.close()
    assert (checkpoint.epoch, damaged) == (1, [])
