"""``tf1-birnn bench`` (tf1_birnn.tools.bench): its LV1-style cell and the quick table."""
import numpy as np
import pytest
import tensorflow as tf

from tf1_birnn.core.cells import GRUcell
from tf1_birnn.core.initializers import orthogonal_initializer
from tf1_birnn.tools.bench import UnfusedGRUcell
from tf1_birnn.tools.cli import main

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
def test_bench_quick_prints_table(capsys):
    status = main(["bench", "--quick", "--num-units", "8", "--steps", "6",
                   "--batch-sizes", "2", "--repeats", "1", "--variants", "unfused,fast"])
    out = capsys.readouterr().out
    assert status == 0
    assert "| variant | batch | train frames/s" in out
    assert "| unfused | 2 |" in out and "| fast | 2 |" in out
    assert "matmul peak" in out


def test_bench_rejects_unknown_variant(capsys):
    assert main(["bench", "--quick", "--variants", "fast,avg"]) == 2
    assert "avg" in capsys.readouterr().err
