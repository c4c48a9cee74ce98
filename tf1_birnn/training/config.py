"""A run's settings, written down once: ``RunConfig`` and its presets (TensorFlow-free).

``RunConfig`` is ``NetworkConfig`` (``tf1_birnn.core.config``) plus the run's own settings;
it is what a run folder saves as ``config.json``. Its defaults are the tutorial's LV2 run.
A preset is a dict of overrides of those defaults, merged in one line by ``preset_config``
(as minGPT's ``model_type`` presets). The ``train`` command's flags, their help and shown
defaults are derived from the fields marked ``flag``, and ``check_resume`` compares the
flags given with ``--resume`` against a run's saved config.
"""
from dataclasses import dataclass, fields, replace

from ..core.checks import check_choice, check_size, keep_rate_float, positive_int
from ..core.config import ARCH_SETTINGS, ARCHS, NetworkConfig, setting

__all__ = ["RunConfig", "PRESETS", "PRESET_HELP", "DEFAULT_PRESET", "preset_config",
           "flag_fields", "flag_name", "check_resume", "describe_changes"]

# preset -> overrides of RunConfig's defaults (the tutorial's LV2 run)
PRESETS = {
    # the newcomer's first run: the fast RNN path (the same numbers as tf.scan's, tested in
    # tests/test_fast.py) keeps it short (timing in PRESET_HELP); --no-fast runs tf.scan
    "quick": dict(num_units=128, epochs=8, learning_rate=3e-3, seed=0, fast=True),
    "blog": dict(),
    "lv1": dict(arch="lv1", epochs=10, keep_rate=1.0),
    "ff": dict(arch="ff"),
    "stacked": dict(n_layers=2),
}
PRESET_HELP = {
    "quick": "the tutorial's network at 128 units for 8 epochs on the fast RNN path (25-27 s on "
             "an idle 2-core AMD EPYC, 2026-12-06)",
    "blog": "the tutorial's LV2 settings (1024 units, 200 epochs)",
    "lv1": "the LV1 network: one LSTM layer + linear",
    "ff": "the feedforward baseline",
    "stacked": "two bidirectional layers, truly stacked",
}
DEFAULT_PRESET = "quick"


@dataclass
class RunConfig(NetworkConfig):
    """Every setting of a run: the network's (``NetworkConfig``) and the run's (saved as
    ``config.json``). ``variable_length`` follows ``batch_size``: minibatches need it."""
    preset: str = setting("blog", "the preset the settings start from: "
                          + "; ".join(f"{k}: {v}" for k, v in PRESET_HELP.items()),
                          flag=True, choices=tuple(PRESETS))
    epochs: int = setting(200, "epochs to train (with --resume: the new total)", flag=True,
                          parse=positive_int)
    keep_rate: float = setting(0.7, "dropout keep rate while training, after every hidden "
                               "layer and, with --cell-dropout, inside the RNN cells unless "
                               "--cell-keep-rate says otherwise", flag=True,
                               parse=keep_rate_float)
    cell_keep_rate: float = setting(None, "keep rate inside the RNN cells while training, "
                                    "with --cell-dropout (none: the --keep-rate)", flag=True,
                                    parse=keep_rate_float)
    batch_size: int = setting(1, "utterances per Adam step (1 = the tutorial)", flag=True,
                              parse=positive_int)
    seed: int = setting(55, "seed of the weights, dropout and shuffling", flag=True,
                        parse=int)  # its range is checked by RunConfig, naming the value
    image_every: int = setting(5, "epochs between two trajectory images in TensorBoard")
    data: str = setting("synthetic:0", "where the corpus came from: \"synthetic:<seed>\", "
                        "\"original:<X.npy>|<Y.npy>\" or \"npz:<path>\"")

    def __post_init__(self):
        check_choice(self.preset, "preset", tuple(PRESETS))
        for name in ("epochs", "batch_size", "image_every"):
            check_size(getattr(self, name), name)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) \
                or not 0 <= self.seed < 2 ** 32:
            raise ValueError(f"seed must be an integer in [0, 2**32); got {self.seed!r}")
        _check_keep_rate(self.keep_rate, "keep_rate")
        if self.cell_keep_rate is not None:
            _check_keep_rate(self.cell_keep_rate, "cell_keep_rate")
        if self.cell_keep_rate is not None and self.cell_dropout == "none":
            raise ValueError(f"cell_keep_rate={self.cell_keep_rate!r} needs dropout inside the "
                             "cells (cell_dropout 'variational' or 'candidate')")
        self.variable_length = self.batch_size > 1
        super().__post_init__()

    def diff(self, other):
        """The settings in which ``other`` differs: name -> (this value, ``other``'s)."""
        return {f.name: (getattr(self, f.name), getattr(other, f.name)) for f in fields(self)
                if getattr(self, f.name) != getattr(other, f.name)}


def _check_keep_rate(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value <= 1.0:
        raise ValueError(f"{name} must be a number in (0, 1]; got {value!r}")


def preset_config(preset=DEFAULT_PRESET, **overrides):
    """The ``RunConfig`` of ``preset`` with ``overrides`` (``None`` values are ignored).

    Settings merge in this order: ``RunConfig``'s defaults, the network's own defaults
    (``ARCH_SETTINGS``), the preset, ``overrides``.
    """
    check_choice(preset, "preset", tuple(PRESETS))
    overrides = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(overrides) - {f.name for f in fields(RunConfig)}
    if unknown:
        raise TypeError(f"unknown run settings: {sorted(unknown)}")
    values = dict(PRESETS[preset], **overrides)
    arch = values.get("arch", "birnn")
    check_choice(arch, "arch", ARCHS)
    return RunConfig(**dict(ARCH_SETTINGS[arch][0], **values, preset=preset))


def flag_fields():
    """The ``RunConfig`` fields that the ``train`` command has a flag for."""
    return [f for f in fields(RunConfig) if f.metadata.get("flag")]


def flag_name(name):
    """``num_units`` -> ``--num-units``."""
    return "--" + name.replace("_", "-")


def describe_changes(saved, given):
    """The settings ``given`` (name -> value; ``None``: not given) that differ from the
    ``saved`` ``RunConfig``, as ``--name value (saved: value)``, in one string ('' if none)."""
    given = {k: v for k, v in given.items() if v is not None}
    try:
        differ = saved.diff(replace(saved, **given))
    except ValueError:  # no valid run has these settings: name each one that differs
        differ = {k: (getattr(saved, k), v) for k, v in given.items() if v != getattr(saved, k)}
    return ", ".join(f"{flag_name(k)} {given[k]!r} (saved: {ours!r})"  # as the user wrote it
                     for k, (ours, _) in differ.items() if k in given)


def check_resume(saved, given):
    """Raise ``ValueError`` unless the settings ``given`` (name -> value; ``None``: not given)
    agree with the ``saved`` ``RunConfig``; ``epochs`` may change. All differences are
    named in one message, each with the value given and the saved value."""
    changes = describe_changes(saved, {k: v for k, v in given.items() if k != "epochs"})
    if changes:
        raise ValueError("--resume continues a run with its saved settings (only --epochs may "
                         f"change); got {changes}")
