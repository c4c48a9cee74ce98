"""``tf1-birnn bench`` (tf1_birnn.tools.bench): its LV1-style cell, the quick table, the whole-epoch
mode (``--epochs``), the Keras 3 peer and the help text. No speed is asserted; the tests check
what is measured and how it is reported."""
import numpy as np
import pytest
import tensorflow as tf

from tf1_birnn.core.cells import GRUcell
from tf1_birnn.core.initializers import orthogonal_initializer
from tf1_birnn.tools.unfused import UnfusedGRUcell
from tf1_birnn.tools.bench import blog_frames, training_flops_per_frame
from tf1_birnn.tools.bench_epoch import blog_corpus, print_epochs
from tf1_birnn.tools.cli import main


def test_help_description_is_whole(capsys):
    from tf1_birnn.tools.cli import main
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "peak memory of the tutorial's network." in out
    assert "--epochs" in out


def test_epochs_rejects_a_per_step_variant(capsys):
    from tf1_birnn.tools.cli import main
    assert main(["bench", "--quick", "--epochs", "1", "--variants", "fast,unfused"]) == 2
    err = capsys.readouterr().err
    assert "'unfused'" in err and "--epochs" in err


def test_blog_corpus_has_the_tutorial_sizes():
    from tf1_birnn.data.synthetic import reference_statistics
    train, test = blog_corpus()
    lengths = reference_statistics()["utterance_lengths_in_file_order"]
    assert (len(train), len(test)) == (83, 20)
    assert [y.shape[0] for _, y in test + train] == lengths
    assert all(x.shape == (1, y.shape[0], 39) and y.shape[1] == 24 for x, y in train + test)
    assert blog_frames() == (sum(lengths[20:]), sum(lengths))


def test_epoch_table_shares_and_bound(capsys):
    row = {"train_s": [12.0, 10.0], "eval_s": [4.0, 2.5], "losses": [[1.0, 2.0], [0.5, 0.7]],
           "losses_one_at_a_time": [0.5, 0.7], "eval1_s": 9.0, "rss_mib": 1500.0}
    flops = training_flops_per_frame(1024)[0]
    print_epochs({"fast": row}, 2, 30153, 39473, 400.0, lambda v: flops, [])
    out = capsys.readouterr().out
    assert "| fast | 2 | 12.5 | 10.0 | 2.5 | 80% | 9.0 |" in out  # 10 / 12.5 = 80%
    bound = (30153 * flops + 39473 * flops / 3) / 400e9
    assert f"matmul bound {bound:.1f} s" in out
    assert f"{12.5 / bound:.1f}x the bound" in out
    print_epochs({"fast": row}, 2, 30153, 39473, 400.0, lambda v: flops, [], lambda v: 5.0)
    out = capsys.readouterr().out
    assert "recurrence floor 5.0 s" in out and "2.5x the floor" in out


def test_recurrence_floor_arithmetic_and_the_auto_verdict(monkeypatch):
    from tf1_birnn.core import fast
    from tf1_birnn.tools import bench_floor
    floors = {3: {"sequential": 1e-3, "concurrent": 2e-3, "batch16": 4e-3}}
    assert bench_floor.train_floor_fps(floors, 3) == pytest.approx(500)  # 1 / (2 x 1 ms)
    assert bench_floor.epoch_floor(floors, 3, 1000, 1600) == pytest.approx(2.0 + 0.4)
    assert bench_floor.epoch_floor(floors, 3, 1000, 1600, 1) == pytest.approx(2.0 + 1.6)
    with pytest.raises(ValueError, match="batches of 1 and 16"):
        bench_floor.epoch_floor(floors, 3, 1000, 1600, 8)
    monkeypatch.setattr(fast, "cache_bytes", lambda: 2 ** 30)  # a huge L3: 'auto' is concurrent
    line, = bench_floor.describe_floors(floors, 1024)
    assert "'auto' picks concurrent here (the sequential floor is 50% lower here)" in line
    assert "500 frames/s" in line
    monkeypatch.setattr(fast, "cache_bytes", lambda: 2 ** 20)
    assert "'auto' picks sequential here (agrees with the floors)" in \
        bench_floor.describe_floors(floors, 1024)[0]


@pytest.mark.parametrize("mode", ["sequential", "concurrent", "shared"])
def test_recurrence_floor_runs_in_every_mode(mode):
    from tf1_birnn.tools.bench_floor import recurrence_floor
    assert recurrence_floor(8, 3, batch=2, steps=5, repeats=1, mode=mode) > 0
    with pytest.raises(ValueError, match="mode must be one of"):
        recurrence_floor(8, mode="both")


def test_lstm_rows_count_four_gates():
    gru, lstm = training_flops_per_frame(16, 3)[1], training_flops_per_frame(16, 4)[1]
    assert lstm - gru == 2 * 2 * 2 * 16 * 16  # two directions, x W_x and h W_h, one more gate


@pytest.mark.slow
def test_keras_peer_trains_and_predicts():
    from tf1_birnn.tools.bench_peers import keras_network, measure_keras
    model = keras_network(4)
    x = np.zeros((2, 5, 39), np.float32)
    assert model.predict_on_batch(x).shape == (2, 5, 24)
    import time
    from tf1_birnn.tools.bench_peers import peak_rss_mib
    rss_before, start = peak_rss_mib(), time.perf_counter()
    result = measure_keras(dict(num_units=4, steps=5, batch=2, repeats=1, jit=False))
    elapsed, rss_after = time.perf_counter() - start, peak_rss_mib()
    assert {"train_s", "eval_s", "rss_mib"} <= set(result)  # what a row of the table reads
    # one timed call each, in seconds: together less than the whole call, which also warms up
    assert 0 < result["train_s"] and 0 < result["eval_s"]
    assert result["train_s"] + result["eval_s"] < elapsed, (result, elapsed)
    assert rss_before <= result["rss_mib"] <= rss_after  # this process's peak, in MiB


T, N, D_IN, D_CELL = 5, 3, 4, 6


def test_unfused_bench_cell_equals_gru_cell(sess, randomize, rng):
    """The bench's LV1-style cell (one matmul per gate) computes ``GRUcell.Step``."""
    x = tf.constant(rng.standard_normal((T, N, D_IN)).astype(np.float32))
    cell = UnfusedGRUcell(x, D_IN, D_CELL, orthogonal_initializer)
    h = tf.constant(rng.standard_normal((N, D_CELL)).astype(np.float32))
    unfused, fused = cell.Step(h, x[0]), GRUcell.Step(cell, h, x[0])
    randomize(sess, cell.variables())
    a, b = sess.run([unfused, fused])
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.slow
def test_bench_quick_prints_table(capsys):
    status = main(["bench", "--quick", "--num-units", "8", "--steps", "6",
                   "--batch-sizes", "2", "--repeats", "1", "--variants", "unfused,fast"])
    out = capsys.readouterr().out
    assert status == 0
    assert "| variant | batch | train frames/s" in out
    assert "| unfused | 2 |" in out and "| fast | 2 |" in out
    assert "matmul peak" in out


@pytest.mark.slow
def test_bench_loop_rows(capsys):
    """The -<loops> rows build with the loops setting in their child; each fast row says how
    its loops ran ('auto' resolves to concurrent for 8 units' tiny weights)."""
    status = main(["bench", "--quick", "--num-units", "8", "--steps", "6", "--batch-sizes",
                   "1", "--repeats", "1", "--variants", "fast,fast-sequential,fast-lstm-shared"])
    out = capsys.readouterr().out
    assert status == 0
    assert "| fast-sequential | 1 |" in out and "| fast-lstm-shared | 1 |" in out
    assert ("loops: fast (batch 1) concurrent, fast-sequential (batch 1) sequential, "
            "fast-lstm-shared (batch 1) shared") in out
    assert "recurrence floor, GRU" in out and "recurrence floor, LSTM" in out
    row = next(line for line in out.splitlines() if line.startswith("| fast | 1 |"))
    assert float(row.split("|")[9]) > 0  # train x floor


def test_bench_rejects_unknown_variant(capsys):
    assert main(["bench", "--quick", "--variants", "fast,avg"]) == 2
    assert "avg" in capsys.readouterr().err


def test_a_killed_child_is_named(monkeypatch):
    """A child killed by SIGKILL (the kernel's OOM killer took keras-xla at 24 GiB) is a note
    that says so, not a bare exit code."""
    import subprocess
    from tf1_birnn.tools import bench

    def killed(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, -9, stdout="", stderr="")
    monkeypatch.setattr(bench.subprocess, "run", killed)
    note = bench._spawn(dict(variant="keras-xla"), timeout=5)
    assert note.startswith("killed (SIGKILL") and "out-of-memory" in note


@pytest.mark.slow
def test_bench_rounds_keep_every_round(capsys):
    """--rounds 2: every row is measured twice in turn; both rounds are printed and the table
    shows the better one."""
    import re
    status = main(["bench", "--quick", "--num-units", "8", "--steps", "6", "--repeats", "1",
                   "--rounds", "2", "--variants", "fast"])
    out = capsys.readouterr().out
    assert status == 0
    rounds = re.search(r"train frames/s of each round: fast \(batch 2\) ([\d,]+), ([\d,]+)\n", out)
    assert rounds, out
    best = max(float(x.replace(",", "")) for x in rounds.groups())
    row = re.search(r"\| fast \| 2 \| ([\d,]+) \|", out)
    assert float(row.group(1).replace(",", "")) == best


@pytest.mark.parametrize("argv,message", [
    (["--rounds", "0"], "--rounds must be a positive integer"),
    (["--rounds", "2", "--epochs", "1"], "--rounds is for the per-step rows")])
def test_bench_rejects_bad_rounds(capsys, argv, message):
    assert main(["bench", "--quick"] + argv) == 2
    assert message in capsys.readouterr().err
