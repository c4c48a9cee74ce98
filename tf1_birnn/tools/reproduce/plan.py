"""The plan of ``tf1-birnn reproduce``: which networks, at which size and seed, in which folders.

A size is a few overrides of the tutorial's settings (``RunConfig``'s defaults, which are
the 'blog' preset), shared by every model so that all train for the same epochs; a model is
a preset plus its own overrides (``MODELS``). Every setting comes from
``tf1_birnn.training.config``: this module restates none of its numbers.

A reproduction lives in ``<logdir>/<name>/<model>/`` (``Plan``). The same command continues
it: a model whose folder exists resumes, and a folder made with other settings or data is
refused (``check_same_plan``, through ``RunConfig.diff``).
"""
import os
from dataclasses import dataclass, fields

from ...data.source import DataSource
from ...training import checkpoints
from ...training.config import RunConfig, preset_config
from ...training.folder import open_run
from ..usage import UsageError

__all__ = ["SIZES", "SIZED", "MODELS", "DEFAULT_MODELS", "Plan", "make_plan", "size_settings",
           "config_default", "check_models", "check_same_plan", "default_name", "seed_name",
           "network"]

# what a size sets, the same for every model (so LV1 gets LV2's epochs, unlike the blog)
SIZED = ("num_units", "learning_rate", "epochs")
# size -> (the preset whose SIZED settings it starts from, its own overrides of them)
SIZES = {
    "full": ("blog", {}),  # the tutorial's own settings: RunConfig's defaults
    "reduced": ("quick", dict(epochs=30)),  # the quick preset's width and rate; timing: --size
    "tiny": ("quick", dict(num_units=8, epochs=2)),  # tests
}
# model -> (preset, overrides, what it is)
MODELS = {
    "ff": ("ff", {}, "feedforward: 4 ReLU layers, no RNN"),
    "lv1": ("lv1", {}, "LV1: one LSTM layer -> linear"),
    "lv2": ("blog", {}, "LV2: 2 ReLU -> BiGRU -> 2 ReLU"),
    "stacked": ("stacked", {}, "LV2 with 2 BiGRU layers, truly stacked"),
    "stacked_tutorial": ("stacked", dict(stacking="tutorial"),
                         "2 BiGRU layers, the tutorial's code (layer 2 reads inputs_T)"),
    "lv2_variational": ("blog", dict(cell_dropout="variational"),
                        "LV2, variational dropout in the cells (inputs and h)"),
    "lv2_candidate": ("blog", dict(cell_dropout="candidate"),
                      "LV2, dropout on the cells' candidate only"),
}
DEFAULT_MODELS = ("ff", "lv1", "lv2", "stacked", "stacked_tutorial")  # the blog's claims


def config_default(name):
    """``RunConfig``'s default of the setting ``name``: the tutorial's."""
    return next(f.default for f in fields(RunConfig) if f.name == name)


def size_settings(size, **overrides):
    """The settings that every model of a reproduction at ``size`` shares: the size's
    ``SIZED`` settings, the tutorial's seed and batch size (one utterance per Adam step), the
    fast RNN path (equal to tf.scan's, ``tests/test_fast.py``), then ``overrides``
    (``None``: not given). Saved as ``reproduce.json``'s ``settings``."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(map(repr, SIZES))}; got {size!r}")
    preset, own = SIZES[size]
    sized = preset_config(preset, **own)
    settings = {name: getattr(sized, name) for name in SIZED}
    settings.update(seed=config_default("seed"), fast=True,
                    batch_size=config_default("batch_size"))
    settings.update({k: v for k, v in overrides.items() if v is not None})
    return settings


def check_models(models):
    """Refuse an empty ``models`` or one that ``MODELS`` does not have."""
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValueError(f"models must be among {', '.join(MODELS)}; got {','.join(models)!r}")


def network(model):
    """``(arch, n_layers, stacking)`` of ``model``: what the blog's figures are matched by."""
    preset, extra, _ = MODELS[model]
    config = preset_config(preset, **extra)
    return config.arch, config.n_layers, config.stacking


def default_name(size, data):
    """``reproduce-<size>-<data>``: the folder that the same command finds again."""
    source = DataSource.from_json(data)
    if source.kind == "synthetic":
        tag = f"synthetic{source.seed}"
    elif source.kind == "fetched-original":
        tag = "original"
    elif source.kind == "original-files":
        tag = "original-files"
    else:
        tag = os.path.splitext(os.path.basename(source.paths[0]))[0]
    n, f = source.cut
    if source.cut != (None, None):
        tag += f"-cut{n or ''}x{f or ''}"
    if source.validation:
        tag += "-validation"
    return f"reproduce-{size}-{tag}"


def seed_name(name, seed):
    """The folder name of the reproduction with model seed ``seed`` among several:
    ``<name>/seed<N>`` (``None``: the one reproduction, ``name``)."""
    return name if seed is None else os.path.join(name, f"seed{seed}")


@dataclass
class Plan:
    """One reproduction: its folder, the settings its models share, each model's config."""
    root: str  # <logdir>/<name>
    settings: dict  # size_settings(...)
    configs: dict  # model -> RunConfig, in the order they train

    def run_dir(self, model):
        """``<logdir>/<name>/<model>``: the model's run folder."""
        return os.path.join(self.root, model)

    def exists(self, model):
        """True when ``model`` was started before (its folder holds its ``config.json``)."""
        return os.path.isfile(os.path.join(self.run_dir(model), "config.json"))

    def epochs_done(self, model):
        """Epochs of ``model`` that have a checkpoint (what ``train_run(resume=True)`` keeps)."""
        if not self.exists(model):
            return 0
        run_dir = self.run_dir(model)
        return min(checkpoints.epochs_done(run_dir), len(open_run(run_dir)[1]))

    def epochs_left(self, model):
        """Epochs that ``model`` still has to train (0 when it is finished)."""
        return max(self.configs[model].epochs - self.epochs_done(model), 0)


def make_plan(X, Y, root, size, models, data, **overrides):
    """The ``Plan`` of ``models`` at ``size`` on ``X``/``Y`` (from the ``DataSource``
    ``data``) in ``root``; refuses a folder there made with other settings or data."""
    check_models(models)
    settings = size_settings(size, **overrides)
    shapes = dict(data=DataSource.from_json(data).to_json(), D_input=int(X[0].shape[1]),
                  D_label=int(Y[0].shape[1]))
    configs = {}
    for model in models:
        preset, extra, _ = MODELS[model]
        values = dict(settings, **extra)
        if values.get("cell_dropout", "none") == "none":  # only models with cell dropout
            values.pop("cell_keep_rate", None)
        configs[model] = preset_config(preset, **shapes, **values)
    plan = Plan(root, settings, configs)
    for model in models:
        check_same_plan(plan.run_dir(model), configs[model])  # before anything is written
    return plan


def check_same_plan(run_dir, config):
    """Refuse to continue ``run_dir`` if it was made with other settings or data than
    ``config`` (its ``epochs`` may differ, to extend a run)."""
    if not os.path.isfile(os.path.join(run_dir, "config.json")):
        return
    saved, _ = open_run(run_dir)
    if DataSource.from_json(saved.data) != DataSource.from_json(config.data):
        raise UsageError(f"{run_dir} was trained on {DataSource.from_json(saved.data).describe()}"
                         f"; this command uses {DataSource.from_json(config.data).describe()}: "
                         "choose another --name")
    changes = {k: v for k, v in saved.diff(config).items() if k not in ("data", "epochs")}
    if changes:
        listed = ", ".join(f"{k} {ours!r} there, {theirs!r} here"
                           for k, (ours, theirs) in changes.items())
        raise UsageError(f"{run_dir} was made with other settings ({listed}): choose another "
                         "--name")
