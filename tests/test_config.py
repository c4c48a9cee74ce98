"""The one list of settings (tf1_birnn.core.config, tf1_birnn.training.config): presets, the
per-network policy, the flags derived from it, the resume check."""
import subprocess
import sys
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from tf1_birnn.core.config import NetworkConfig, network_config
from tf1_birnn.tools.blog import blog_results
from tf1_birnn.tools.cli import build_parser
from tf1_birnn.training.config import (PRESETS, RunConfig, check_resume, flag_fields, flag_name,
                                       preset_config)

PACKAGE = Path(__file__).resolve().parents[1] / "tf1_birnn"


def test_config_modules_do_not_import_tensorflow():
    # load the package's modules without its __init__ (which imports TensorFlow), with any
    # import of tensorflow failing
    code = (f"import sys, types; sys.modules['tensorflow'] = None; "
            f"p = types.ModuleType('tf1_birnn'); p.__path__ = [{str(PACKAGE)!r}]; "
            f"sys.modules['tf1_birnn'] = p; import tf1_birnn.training.config, tf1_birnn.tools.blog")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_blog_preset_is_the_tutorials_lv2_and_lv1_its_lv1():
    blog = blog_results()  # the settings as published, read from the blog's notebooks
    lv2, lv1 = preset_config("blog"), preset_config("lv1")
    entry = blog["lv2_bigru"]
    assert (lv2.learning_rate, lv2.L2_penalty, lv2.keep_rate, lv2.seed, lv2.epochs) == \
        (entry["learning_rate"], entry["L2_penalty"], entry["dropout_keep_train"], entry["seed"],
         entry["epochs"])
    assert f"relu {lv2.num_units}" in entry["network"] and f"BiGRU({lv2.num_units}" in entry["network"]
    entry = blog["lv1_lstm"]
    assert (lv1.arch, lv1.cell, lv1.cell_b, lv1.n_ff) == ("lv1", "lstm", None, 0)
    assert (lv1.learning_rate, lv1.epochs) == (entry["learning_rate"], entry["epochs"])
    assert f"LSTM({lv1.num_units}" in entry["network"]


def test_presets_override_only_what_they_name():
    base = asdict(RunConfig())
    for name, overrides in PRESETS.items():
        config = asdict(preset_config(name))
        changed = {k for k in base if config[k] != base[k]} - {"preset"}
        arch_own = {"cell", "cell_b", "n_ff", "L2_penalty"} if overrides.get("arch") else set()
        assert changed <= set(overrides) | arch_own, name


def test_a_saved_config_loads_back_equal():
    config = preset_config("quick", num_units=8, batch_size=3, cell_b="none")
    assert config.variable_length and config.cell_b is None
    assert RunConfig(**asdict(config)) == config


def test_a_config_json_of_the_previous_version_loads():
    # notebook 01's saved RunConfig, written before variable_length, cell_dropout and
    # cell_keep_rate were fields
    old = dict(preset="lv1", arch="lv1", num_units=128, cell="lstm", cell_b=None, merge="sum",
               n_layers=1, n_ff=0, stacking="true", learning_rate=0.001, L2_penalty=0.0,
               epochs=10, keep_rate=1.0, batch_size=1, seed=55, fast=False, image_every=5,
               D_input=39, D_label=24, data="synthetic:0")
    assert asdict(RunConfig(**old)) == dict(old, variable_length=False, cell_dropout="none",
                                            cell_keep_rate=None, loops="auto")
    assert RunConfig(**dict(old, arch="birnn", cell_b="gru", n_ff=2, batch_size=4)).variable_length


@pytest.mark.parametrize("arch, name, value", [
    ("lv1", "cell_b", "gru"), ("lv1", "n_ff", 2), ("lv1", "n_layers", 2), ("lv1", "L2_penalty", 0.1),
    ("ff", "cell", "lstm"), ("ff", "merge", "concat"), ("ff", "stacking", "tutorial"),
])
def test_a_setting_a_network_does_not_use_is_refused_everywhere(arch, name, value):
    message = f"the {arch} network has no use for {name}; got {name}={value!r}"
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        network_config(arch, **{name: value})
    with pytest.raises(ValueError, match=f"no use for {name}"):
        preset_config("lv1" if arch == "lv1" else "ff", **{name: value})
    with pytest.raises(ValueError, match=f"no use for {name}"):
        NetworkConfig(**dict(asdict(network_config(arch)), **{name: value}))


def test_network_config_names_unknown_settings():
    with pytest.raises(TypeError, match="num_unit"):
        network_config("birnn", num_unit=4)
    with pytest.raises(TypeError, match="epoch"):
        preset_config("quick", epoch=4)


def test_every_flag_has_help_and_shows_its_default():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    actions = {a.dest: a for a in train._actions}
    for f in flag_fields():
        action = actions[f.name]
        negated = ["--no-" + flag_name(f.name)[2:]] if f.type is bool else []  # --no-fast
        assert action.option_strings == [flag_name(f.name)] + negated and action.default is None
        assert f.metadata["help"] in action.help and "default: " in action.help
    assert "default: 128; blog, lv1, ff, stacked: 1024" in actions["num_units"].help
    assert "default: gru; lv1: lstm" in actions["cell"].help


def test_resume_accepts_equal_flags_and_names_each_difference():
    saved = preset_config("quick", num_units=8, cell_b="none")
    check_resume(saved, dict(preset="quick", num_units=8, cell_b="none", epochs=99, seed=None))
    with pytest.raises(ValueError) as info:
        check_resume(saved, dict(num_units=16, cell_b="gru", seed=0, fast=False))
    text = str(info.value)
    assert "--num-units 16 (saved: 8)" in text and "--cell-b 'gru' (saved: None)" in text
    assert "--fast False (saved: True)" in text and "--seed" not in text


def test_build_network_takes_exactly_the_config_fields():
    tf = pytest.importorskip("tensorflow")
    from tf1_birnn.core.network import build_network
    with tf.Graph().as_default():
        net = build_network(**dict(network_config("lv1", num_units=4, D_input=3, D_label=2)
                                   .network_settings()))
    assert set(net.config) == {f.name for f in fields(NetworkConfig)}
    assert net.config["cell"] == "lstm" and net.config["n_ff"] == 0


def test_loops_needs_the_fast_path_and_an_rnn():
    with pytest.raises(ValueError, match=r"loops='shared' says how the fast path runs; it needs"):
        preset_config("blog", loops="shared")  # the blog preset runs tf.scan
    assert preset_config("blog", fast=True, loops="shared").loops == "shared"
    with pytest.raises(ValueError, match="the ff network has no use for loops"):
        preset_config("ff", fast=True, loops="shared")


def test_cell_keep_rate_needs_dropout_in_the_cells():
    config = preset_config("blog", cell_dropout="candidate", cell_keep_rate=0.5)
    assert (config.keep_rate, config.cell_keep_rate) == (0.7, 0.5)  # two knobs
    with pytest.raises(ValueError, match="cell_keep_rate=0.5 needs dropout inside the cells"):
        preset_config("blog", cell_keep_rate=0.5)
    for bad in (0.0, 1.5, True, "0.5"):
        with pytest.raises(ValueError, match="cell_keep_rate must be a number in"):
            RunConfig(cell_dropout="variational", cell_keep_rate=bad)
    with pytest.raises(ValueError, match="keep_rate must be a number in"):
        RunConfig(keep_rate=None)


def test_the_resume_check_names_only_the_flags_given():
    """``--batch-size 4`` also changes the derived ``variable_length``; only the flag given
    is named."""
    with pytest.raises(ValueError) as err:
        check_resume(preset_config("quick"), dict(batch_size=4, epochs=50, seed=None))
    assert str(err.value).endswith("got --batch-size 4 (saved: 1)")
