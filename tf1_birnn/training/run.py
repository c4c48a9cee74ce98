"""A training run: presets, the run folder, checkpoints, resume and TensorBoard.

Everything a run writes goes to ``<logdir>/<run-name>/``:

- ``config.json``: the settings and where the data came from;
- ``history.json``: per-epoch train/test loss and seconds;
- ``model.ckpt-<epochs done>.*`` + ``checkpoint``: ``tf.compat.v1.train.Saver`` after each
  epoch (the three newest are kept);
- TensorBoard event files: the loss per epoch in ``train/`` and ``test/``, per Adam step in
  ``steps/``, the rest here (see ``tf1_birnn.training.summaries``).

A run folder is never reused silently: a new run needs a new name, ``resume=True``
continues the last finished epoch of an existing one. ``Saver`` writes the ``checkpoint``
index only after a checkpoint is complete, and ``history.json`` is replaced atomically, so
killing the process (even SIGKILL) loses at most the epoch in progress.
"""
import json
import os
import time
from dataclasses import asdict, dataclass, fields

import numpy as np
import tensorflow as tf

from ..core.checks import check_choice, check_size
from ..data.helpers import data_prer, train_test_split
from ..core.network import build_network
from .summaries import RunWriter
from .diagnose import dead_relu_shares, dead_relu_warning
from .loop import evaluate, predict_utterance, train_epoch

__all__ = ["PRESETS", "RunConfig", "preset_config", "train_run", "open_run", "new_run_dir",
           "check_new_run", "build_session", "last_checkpoint"]

# the tutorial's LV2 settings; presets change what they name
_BLOG = dict(arch="birnn", num_units=1024, cell="gru", cell_b="gru", merge="sum", n_layers=1,
             n_ff=2, learning_rate=7e-5, L2_penalty=1e-4, epochs=200, keep_rate=0.7, seed=55)
PRESETS = {
    # the tutorial's network, small enough for about three minutes on 2 CPU cores
    "quick": dict(_BLOG, num_units=128, epochs=8, learning_rate=3e-3, seed=0, batch_size=1),
    "blog": dict(_BLOG),  # the tutorial's exact LV2 hyperparameters
    "lv1": dict(_BLOG, arch="lv1", cell="lstm", cell_b=None, n_ff=0, L2_penalty=0.0, epochs=10,
                keep_rate=1.0),  # the LV1 network: one LSTM layer + linear
    "ff": dict(_BLOG, arch="ff", cell_b=None),  # the feedforward baseline
    "stacked": dict(_BLOG, n_layers=2),  # two bidirectional layers, truly stacked
}


@dataclass
class RunConfig:
    """Every setting of a run (saved as ``config.json``)."""
    preset: str = "quick"
    arch: str = "birnn"
    num_units: int = 128
    cell: str = "gru"
    cell_b: str = "gru"
    merge: str = "sum"
    n_layers: int = 1
    n_ff: int = 2
    stacking: str = "true"
    learning_rate: float = 3e-3
    L2_penalty: float = 1e-4
    epochs: int = 8
    keep_rate: float = 0.7
    batch_size: int = 1
    seed: int = 0
    fast: bool = False
    image_every: int = 5
    D_input: int = 39
    D_label: int = 24
    data: str = "synthetic:0"  # "synthetic:<seed>", "original:<X.npy>|<Y.npy>" or "npz:<path>"

    def network_kwargs(self):
        return dict(arch=self.arch, D_input=self.D_input, D_label=self.D_label,
                    num_units=self.num_units, cell=self.cell, cell_b=self.cell_b,
                    merge=self.merge, n_layers=self.n_layers, n_ff=self.n_ff,
                    stacking=self.stacking, learning_rate=self.learning_rate,
                    L2_penalty=self.L2_penalty, fast=self.fast,
                    variable_length=self.batch_size > 1)


# settings that a network without them would silently ignore
_UNUSED = {"lv1": ("cell_b", "merge", "n_layers", "n_ff", "stacking"),
           "ff": ("cell", "cell_b", "merge", "n_layers", "stacking")}


def preset_config(preset="quick", **overrides):
    """The ``RunConfig`` of ``preset`` with ``overrides`` (``None`` values are ignored;
    ``cell_b="none"`` makes the RNN layers unidirectional)."""
    check_choice(preset, "preset", tuple(PRESETS))
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(overrides) - {f.name for f in fields(RunConfig)}
    if unknown:
        raise TypeError(f"unknown run settings: {sorted(unknown)}")
    if overrides.get("cell_b") == "none":
        overrides["cell_b"] = None
    values = dict(PRESETS[preset], preset=preset, **overrides)
    unused = [k for k in _UNUSED.get(values["arch"], ()) if k in overrides]
    if unused:
        raise ValueError(f"the {values['arch']} network has no use for {unused[0]}; "
                         f"got {unused[0]}={overrides[unused[0]]!r}")
    config = RunConfig(**values)
    for name in ("epochs", "batch_size", "image_every"):
        check_size(getattr(config, name), name)
    if isinstance(config.seed, bool) or not isinstance(config.seed, int) \
            or not 0 <= config.seed < 2 ** 32:
        raise ValueError(f"seed must be an integer in [0, 2**32); got {config.seed!r}")
    if not 0.0 < config.keep_rate <= 1.0:
        raise ValueError(f"keep_rate must be in (0, 1]; got {config.keep_rate!r}")
    return config


def _write_json(path, obj):
    """Write ``obj`` to ``path`` atomically (a kill leaves the old file or the new one)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def check_new_run(logdir, run_name):
    """Raise unless ``run_name`` (``None``: a generated name) can be a new run in ``logdir``."""
    if run_name is None:
        return
    if not run_name or os.sep in run_name or run_name in (".", ".."):
        raise ValueError(f"run name must be a plain folder name; got {run_name!r}")
    run_dir = os.path.join(logdir, run_name)
    if os.path.exists(run_dir):
        raise FileExistsError(f"run {run_dir!r} already exists; pass --resume to continue it "
                              "or choose another --run-name")


def new_run_dir(logdir, run_name=None, preset="run"):
    """Create and return ``logdir/run_name``; refuse an existing one."""
    check_new_run(logdir, run_name)
    if run_name is None:
        base = f"{preset}-{time.strftime('%Y%m%d-%H%M%S')}"
        run_name, k = base, 1
        while os.path.exists(os.path.join(logdir, run_name)):
            k += 1
            run_name = f"{base}-{k}"
    run_dir = os.path.join(logdir, run_name)
    os.makedirs(run_dir)
    return run_dir


def open_run(run_dir):
    """Read a run's ``(RunConfig, history)``; ``ValueError`` if it is not a run folder."""
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        raise ValueError(f"{run_dir!r} is not a tf1_birnn run folder (no config.json)")
    with open(path, encoding="utf-8") as f:
        config = RunConfig(**json.load(f))
    history = []
    hist_path = os.path.join(run_dir, "history.json")
    if os.path.isfile(hist_path):
        with open(hist_path, encoding="utf-8") as f:
            history = json.load(f)["epochs"]
    return config, history


def last_checkpoint(run_dir):
    """The prefix of ``run_dir``'s newest checkpoint; ``ValueError`` if it has none."""
    checkpoint = tf.train.latest_checkpoint(run_dir)
    if checkpoint is None:
        raise ValueError(f"run {run_dir!r} has no checkpoint yet")
    return checkpoint


def build_session(config, checkpoint=None):
    """Build ``config``'s network in a new graph; return ``(graph, sess, net, saver)``.

    Variables are restored from ``checkpoint`` or, without one, initialized with the seed.
    """
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(config.seed)  # weight_init and dropout
        np.random.seed(config.seed)  # orthogonal_initializer
        net = build_network(**config.network_kwargs())
        saver = tf.compat.v1.train.Saver(max_to_keep=3)
        sess = tf.compat.v1.Session(graph=graph)
        if checkpoint:
            saver.restore(sess, checkpoint)
        else:
            sess.run(tf.compat.v1.global_variables_initializer())
    return graph, sess, net, saver


def train_run(config, X, Y, logdir="logs", run_name=None, resume=False, out=print,
              show_progress=True, epochs=None):
    """Train ``config`` on utterances ``X``/``Y`` and log to ``logdir/run_name``.

    With ``resume=True`` the existing run ``run_name`` continues after its last checkpoint
    with its saved settings (``config`` is ignored and may be ``None``); ``epochs`` changes
    the total number of epochs. Returns the run folder.
    """
    if resume:
        if run_name is None:
            raise ValueError("resume needs the name of the run to continue (--run-name)")
        run_dir = os.path.join(logdir, run_name)
        saved, history = open_run(run_dir)
        config = RunConfig(**dict(asdict(saved), epochs=epochs or saved.epochs))
        checkpoint = tf.train.latest_checkpoint(run_dir)
        done = int(checkpoint.rsplit("-", 1)[1]) if checkpoint else 0
        history = history[:done]  # drop an epoch whose checkpoint was not written
    else:
        if epochs is not None:
            config = RunConfig(**dict(asdict(config), epochs=epochs))
        check_new_run(logdir, run_name)
        checkpoint, done, history = None, 0, []
    train, test = train_test_split(data_prer(X, Y))
    graph, sess, net, saver = build_session(config, checkpoint)
    if not resume:  # the folder is made only once the network is built
        run_dir = new_run_dir(logdir, run_name, config.preset)
    _write_json(os.path.join(run_dir, "config.json"), asdict(config))
    steps_per_epoch = -(-len(train) // config.batch_size)
    writer = RunWriter(run_dir, graph, resume_epoch=done if resume else None,
                       resume_step=done * steps_per_epoch if resume else None)
    if done:
        out(f"resuming {run_dir} after epoch {done - 1}")
    warned = False  # about dead ReLU units, once
    with graph.as_default(), sess:
        try:
            for k in range(done, config.epochs):
                start = time.time()
                rng = np.random.default_rng([config.seed, k])  # same order whether resumed or not
                first_step = k * steps_per_epoch  # of this epoch, for the per-step curve

                def log_step(i, loss):
                    writer.step_loss(first_step + i, loss)

                train_epoch(sess, net, train, rng, config.batch_size, config.keep_rate,
                            on_step=log_step, show_progress=show_progress, desc=f"epoch {k}")
                train_seconds = time.time() - start
                tl, dl = evaluate(sess, net, train), evaluate(sess, net, test)
                out((k, 'train:', round(tl, 3), 'test:', round(dl, 3)))
                writer.scalars(k, train=tl, test=dl)
                shares = dead_relu_shares(sess, net, test or train)
                writer.dead_relu(k, shares)
                if not warned and dead_relu_warning(shares):
                    out(dead_relu_warning(shares))
                    warned = True
                writer.weights(sess, k)
                if test and (k % config.image_every == 0 or k == config.epochs - 1):
                    writer.trajectory(test[0][1], predict_utterance(sess, net, test[0][0]), k)
                writer.flush()
                history.append(dict(epoch=k, train=tl, test=dl, train_seconds=train_seconds,
                                    seconds=time.time() - start))
                _write_json(os.path.join(run_dir, "history.json"), dict(epochs=history))
                saver.save(sess, os.path.join(run_dir, "model.ckpt"), global_step=k + 1)
        finally:
            writer.close()
    return run_dir
