"""``tf1-birnn reproduce``: the blog's comparison of networks, trained and tabulated.

``plan``: which models, at which size and seed, in which folders, and what a rerun continues;
``report``: smoothness, ``reproduce.json``, the tables and the plot; ``command``: the
command line and ``reproduce()``, which trains a plan and reports it.
"""
from .command import SETTING_FLAGS, add_setting_args, register, reproduce, run
from .plan import DEFAULT_MODELS, MODELS, SIZED, SIZES, default_name, size_settings
from .report import (SEED_ORDERINGS, lag1_autocorrelation, plot_curves, results_table,
                     roughness, seeds_table)

__all__ = ["SIZES", "SIZED", "MODELS", "DEFAULT_MODELS", "size_settings", "roughness",
           "lag1_autocorrelation", "reproduce", "default_name", "results_table",
           "SEED_ORDERINGS", "seeds_table", "plot_curves", "SETTING_FLAGS", "add_setting_args",
           "register", "run"]
