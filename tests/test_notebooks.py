"""Execute every notebook in ``notebooks/`` end to end with a real Jupyter kernel, tiny.

Each notebook has one code cell tagged "parameters" (plain assignments: sizes, epochs, the log
folder). The test appends tiny values to that cell and runs the notebook with
``notebooks/run_notebooks.py``'s ``execute`` (``nbclient``, a kernel of this very interpreter),
and fails on any error. Logs go to ``tmp_path``, never to ``logs/``.

The committed notebooks also must carry outputs (they are run at their stated size by
``notebooks/run_notebooks.py``), with no error output and no stale execution counts.
"""
import os
import sys
from pathlib import Path

import nbformat
import pytest

from tf1_birnn.quiet import is_tf_log

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
sys.path.insert(0, str(NOTEBOOKS))
from run_notebooks import code_digest, execute  # noqa: E402

# small corpus: the first few utterances, truncated (the first 20 % are the test set)
TINY_DATA = dict(N_UTTERANCES=6, MAX_FRAMES=40)
TINY = {
    "01_lstm_scan_lv1.ipynb": dict(NUM_UNITS=4, EPOCHS=1, **TINY_DATA),
    "02_bigru_blstm_scan_lv2.ipynb": dict(NUM_UNITS=4, EPOCHS=1, **TINY_DATA),
    # an empty LOGDIR: the notebook trains its own short run first, then reads it
    "03_compare_with_blog.ipynb": dict(NUM_UNITS=4, EPOCHS=2, **TINY_DATA),
    "04_going_further.ipynb": dict(NUM_UNITS=4, EPOCHS=1, BATCH_SIZE=3, N_UTTERANCES=10,
                                   MAX_FRAMES=30),
}

# the notebooks whose committed outputs must include a plot (losses, trajectories)
PLOTS = {"01_lstm_scan_lv1.ipynb", "02_bigru_blstm_scan_lv2.ipynb", "03_compare_with_blog.ipynb"}


def parameters_cell(nb):
    """The one code cell tagged "parameters"."""
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"expected one cell tagged 'parameters'; found {len(cells)}"
    assert cells[0].cell_type == "code"
    return cells[0]


def assigned_names(source):
    """Names assigned at the top level of a parameters cell (``NAME = value`` lines)."""
    return {line.split("=", 1)[0].strip() for line in source.splitlines()
            if "=" in line and not line.lstrip().startswith("#")}


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(TINY)
    assert not list(NOTEBOOKS.rglob(".ipynb_checkpoints"))


@pytest.mark.parametrize("name", sorted(TINY))
def test_committed_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    # the outputs belong to this code: run_notebooks.py stores a digest of the code it ran
    assert nb.metadata.get("tf1_birnn", {}).get("code_sha256") == code_digest(nb), \
        f"{name}'s code changed since its outputs were made (run notebooks/run_notebooks.py)"
    # run top to bottom in one kernel session: execution counts 1, 2, 3, ...
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), \
        f"{name} was not executed top to bottom in one go (run notebooks/run_notebooks.py)"
    outputs = [o for c in code for o in c.outputs]
    assert outputs, f"{name} carries no outputs"
    assert not _tf_log_lines(outputs), f"{name} carries TensorFlow's log: {_tf_log_lines(outputs)}"
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, f"{name} carries an error output: {errors[0].get('ename')}"
    if name in PLOTS:
        assert any(o.output_type == "display_data" and "image/png" in o.get("data", {})
                   for o in outputs), f"{name} carries no plot"


def _tf_log_lines(outputs):
    """TensorFlow's C++ log lines in a notebook's stream outputs."""
    return [line for o in outputs if o.output_type == "stream"
            for line in o.get("text", "").splitlines() if is_tf_log(line)]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TINY))
def test_notebook_runs_tiny(name, tmp_path, monkeypatch):
    # TensorFlow's oneDNN rewrites on, whatever this CPU's default (they log at run time)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    cell = parameters_cell(nb)
    tiny = dict(TINY[name], LOGDIR=str(tmp_path / "logs"))
    missing = set(tiny) - assigned_names(cell.source)
    assert not missing, f"{name}'s parameters cell does not set {sorted(missing)}"
    cell.source += "\n\n# tiny sizes for tests/test_notebooks.py\n" + "\n".join(
        f"{k} = {v!r}" for k, v in tiny.items())
    work = tmp_path / "cwd"
    work.mkdir()
    execute(nb, work, timeout=600)  # raises CellExecutionError on the first failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not _tf_log_lines(outputs), _tf_log_lines(outputs)
    assert not list(work.rglob("*.ckpt*")), "the notebook wrote outside LOGDIR"
    assert os.listdir(tmp_path / "logs"), "the notebook wrote no run to LOGDIR"
