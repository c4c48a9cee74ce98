"""Run the notebooks in place at the sizes their parameters cells state.

    python notebooks/run_notebooks.py          # all notebooks, 01 to 04, in this order
    python notebooks/run_notebooks.py 02 03    # those whose names start with 02 or 03

The committed outputs come from this: each notebook runs top to bottom in a fresh Jupyter kernel
of this interpreter, in the folder ``notebooks/`` (so ``LOGDIR = "../logs"`` is the project's
``logs/``), and is saved with its outputs; the seconds each took are printed. Run 01 and 02
before 03, which plots the runs they leave in ``logs/``.

The kernel is a plain one: the notebooks ``import tf1_birnn`` before TensorFlow, which keeps
TensorFlow's C++ start-up log out of the outputs (``tf1_birnn/quiet.py``). ``tests/test_notebooks.py`` runs the
notebooks tiny with the same ``execute``.
"""
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent
KERNEL = "tf1-birnn-notebooks"


def write_kernelspec(root):
    """Write a kernelspec for ``sys.executable`` under ``root/kernels``; return its name."""
    spec = Path(root) / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "tf1_birnn notebooks", "language": "python"}))
    return KERNEL


def code_digest(nb):
    """SHA-256 of the notebook's code cells, stored when it is run: outputs of edited code are stale."""
    code = "\n\0".join(c.source for c in nb.cells if c.cell_type == "code")
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def execute(nb, cwd, timeout=1800):
    """Run ``nb`` (a ``NotebookNode``, changed in place) in a fresh kernel of this interpreter
    with working folder ``cwd``; raises ``nbclient.exceptions.CellExecutionError`` on an error."""
    with tempfile.TemporaryDirectory() as jupyter_dir:
        name = write_kernelspec(jupyter_dir)
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = jupyter_dir  # where the kernelspec is found
        try:
            NotebookClient(nb, timeout=timeout, kernel_name=name,
                           resources={"metadata": {"path": str(cwd)}}).execute()
        finally:
            if old is None:
                del os.environ["JUPYTER_PATH"]
            else:
                os.environ["JUPYTER_PATH"] = old
    # the saved notebook names the ordinary kernel, not the temporary one
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    return nb


def main(prefixes):
    paths = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    if prefixes:
        paths = [p for p in paths if p.name.startswith(tuple(prefixes))]
        if not paths:
            raise SystemExit(f"no notebook starts with {prefixes}")
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.time()
        execute(nb, NOTEBOOKS)
        nb.metadata["tf1_birnn"] = {"code_sha256": code_digest(nb)}
        nbformat.write(nb, path)
        print(f"{path.name}: {time.time() - start:.0f} s", flush=True)
    for checkpoints in NOTEBOOKS.rglob(".ipynb_checkpoints"):
        shutil.rmtree(checkpoints)


if __name__ == "__main__":
    main(sys.argv[1:])
