"""The network's settings, written down once: ``NetworkConfig`` (TensorFlow-free).

Every setting is a dataclass field whose metadata says what it is for (``help``) and, for
the ones the command line offers, its flag's parser (``parse``) and ``choices``.
``build_network``'s keyword arguments are these fields, and ``tf1_birnn.training.config.RunConfig``
adds the run's settings to them; the ``train`` flags and the resume check are derived from
the same fields, in the way minGPT derives everything from ``GPT.get_default_config()``.

The defaults are the tutorial's LV2 network (1024 units, learning rate 7e-5, L2 1e-4).
What each network does not use is decided here, in ``ARCH_SETTINGS``: the LV1 network is one
forward LSTM layer -> linear with plain MSE, so it fixes ``cell_b=None``, ``n_layers=1``,
``n_ff=0`` and ``L2_penalty=0``; the feedforward baseline has no RNN cell. A setting that a
network has no use for is refused when it is given another value, never silently dropped.
"""
import math
import numbers
from dataclasses import dataclass, field, fields

from .checks import check_choice, check_size, positive_float, positive_int

__all__ = ["NetworkConfig", "network_config", "setting", "ARCHS", "CELL_TYPES", "MERGES",
           "STACKINGS", "CELL_DROPOUTS", "LOOP_MODES", "ARCH_SETTINGS", "check_arch_settings"]

ARCHS = ("birnn", "lv1", "ff")
CELL_TYPES = ("gru", "lstm")
MERGES = ("sum", "concat", "mul", "ave")  # how the two directions' outputs are combined
STACKINGS = ("true", "tutorial")
# dropout inside the RNN cells (tf1_birnn.core.dropout): one mask per utterance
CELL_DROPOUTS = ("none", "variational", "candidate")
# how the fast path runs the directions' loops (tf1_birnn.core.fast)
LOOP_MODES = ("auto", "sequential", "concurrent", "shared")


def setting(default, help, flag=False, parse=None, choices=None):
    """A config field: its default, what it is for, whether ``train`` has a flag for it
    (``flag``) and that flag's parser (``parse``) or ``choices``."""
    return field(default=default, metadata=dict(help=help, flag=flag, parse=parse,
                                                choices=choices))


# arch -> (its own defaults, the settings it has no use for: these must keep that value)
ARCH_SETTINGS = {
    "birnn": ({}, ()),
    "lv1": (dict(cell="lstm", cell_b=None, n_layers=1, n_ff=0, L2_penalty=0.0),
            ("cell_b", "merge", "n_layers", "n_ff", "stacking", "L2_penalty")),
    "ff": (dict(cell_b=None), ("cell", "cell_b", "merge", "n_layers", "stacking", "loops",
                               "cell_dropout")),
}


@dataclass
class NetworkConfig:
    """Every setting of a network (the keyword arguments of ``build_network``)."""
    arch: str = setting("birnn", "the network: birnn (the tutorial's LV2), lv1 (one LSTM "
                        "layer + linear), ff (feedforward baseline)", choices=ARCHS)
    D_input: int = setting(39, "input features per frame (39 MFCC)")
    D_label: int = setting(24, "label values per frame (24 articulatory positions)")
    num_units: int = setting(1024, "units of every layer, D_cell of the RNN cells",
                             flag=True, parse=positive_int)
    cell: str = setting("gru", "forward cell", flag=True, choices=CELL_TYPES)
    cell_b: str = setting("gru", "backward cell ('none': the RNN layers run forward only)",
                          flag=True, choices=CELL_TYPES + ("none",))
    merge: str = setting("sum", "how the two directions' outputs are combined", flag=True,
                         choices=MERGES)
    cell_dropout: str = setting("none", "dropout inside the RNN cells, at the run's keep "
                                "rate (or --cell-keep-rate), one mask per utterance: "
                                "variational (on the cell's input and on h before W_h, as "
                                "Keras's dropout + recurrent_dropout), candidate (on the "
                                "candidate c only, Semeniuta et al. 2016) or none", flag=True,
                                choices=CELL_DROPOUTS)
    n_layers: int = setting(1, "stacked RNN layers")
    n_ff: int = setting(2, "ReLU layers before and after the RNN layers")
    stacking: str = setting("true", "true: each RNN layer reads the one below; tutorial: "
                            "every layer reads inputs_T, as the tutorial's code",
                            choices=STACKINGS)
    learning_rate: float = setting(7e-5, "Adam's learning rate", flag=True,
                                   parse=positive_float)
    L2_penalty: float = setting(1e-4, "weight of the L2 loss of the dense weights")
    fast: bool = setting(False, "use the fast RNN path (tf1_birnn.core.fast), equal to "
                         "tf.scan's to float32 round-off", flag=True)
    loops: str = setting("auto", "how the fast path runs the two directions' loops: "
                         "sequential (one after the other), concurrent (both at once), "
                         "shared (both in one loop) or auto (sequential when both "
                         "directions' recurrent weights exceed half the CPU's last-level "
                         "cache, else concurrent); the same numbers either way",
                         flag=True, choices=LOOP_MODES)
    variable_length: bool = setting(False, "feed sequence_length: padded minibatches of "
                                    "utterances of different lengths")

    def __post_init__(self):
        if self.cell_b == "none":  # the command line's spelling
            self.cell_b = None
        check_choice(self.arch, "arch", ARCHS)
        for name in ("D_input", "D_label", "num_units", "n_layers"):
            check_size(getattr(self, name), name)
        check_size(self.n_ff, "n_ff", minimum=0)
        check_choice(self.cell, "cell", CELL_TYPES)
        if self.cell_b is not None:
            check_choice(self.cell_b, "cell_b", CELL_TYPES)
        check_choice(self.merge, "merge", MERGES)
        check_choice(self.stacking, "stacking", STACKINGS)
        check_choice(self.cell_dropout, "cell_dropout", CELL_DROPOUTS)
        check_choice(self.loops, "loops", LOOP_MODES)
        if self.loops != "auto" and not self.fast:
            raise ValueError(f"loops={self.loops!r} says how the fast path runs; it needs "
                             "fast=True (--fast)")
        for name in ("learning_rate", "L2_penalty"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0 \
                    or math.isnan(value):
                raise ValueError(f"{name} must be a non-negative number; got {value!r}")
        check_arch_settings(self)

    def network_settings(self):
        """The fields of ``NetworkConfig`` only, as ``build_network``'s keyword arguments."""
        return {f.name: getattr(self, f.name) for f in fields(NetworkConfig)}


def check_arch_settings(config):
    """Raise ``ValueError`` if ``config`` sets what its network has no use for to another value."""
    own, unused = ARCH_SETTINGS[config.arch]
    fixed = dict({f.name: f.default for f in fields(NetworkConfig)}, **own)
    for name in unused:
        if getattr(config, name) != fixed[name]:
            raise ValueError(f"the {config.arch} network has no use for {name}; "
                             f"got {name}={getattr(config, name)!r}")


def network_config(arch="birnn", **settings):
    """The ``NetworkConfig`` of ``arch`` (with that network's own defaults) and ``settings``."""
    check_choice(arch, "arch", ARCHS)
    unknown = set(settings) - {f.name for f in fields(NetworkConfig)}
    if unknown:
        raise TypeError(f"unknown network settings: {sorted(unknown)}")
    return NetworkConfig(**dict(ARCH_SETTINGS[arch][0], **settings, arch=arch))
