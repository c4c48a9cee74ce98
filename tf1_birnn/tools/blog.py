"""The blog's published numbers, which of them each of our networks is compared with, and
the one number formatter of the reports.

The numbers (YJango's LV1 and LV2 notebooks and the tutorial text) ship as package data,
``resources/blog_results.json``: the LV1 LSTM curve (10 epochs), the LV2 bidirectional GRU
curve (200 epochs), their timings, and the text's claims (two layers: 0.024/0.193 at epoch
190; "much better than feedforward"). They were measured on the original X.npy/Y.npy with
1024 units.

``blog_match`` is the only mapping from a network to them: 'lv1' -> the LV1 curve; every
other network -> the LV2 curve (the feedforward baseline has no curve of its own: the blog
only says LV2 beats it), plus the text's two-layer point for more than one RNN layer.
"""
import json
import math
from collections import namedtuple
from importlib import resources

__all__ = ["blog_results", "blog_match", "blog_seconds_per_epoch", "blog_figure", "fmt",
           "BlogMatch"]

BlogMatch = namedtuple("BlogMatch", "key entry point")
BlogMatch.__doc__ = """The blog's figures for one network: ``key`` ('lv1_lstm' or
'lv2_bigru'), ``entry`` (that experiment of ``blog_results()``: network, learning rate,
curve, timings) and ``point`` (the text's two-layer figure, or ``None``)."""


def blog_results():
    """The blog's published curves, timings and claims (a dict; see its "source" key)."""
    text = resources.files("tf1_birnn").joinpath("resources/blog_results.json").read_text("utf-8")
    return json.loads(text)


def blog_match(arch, n_layers=1):
    """The blog's figures to set beside our network ``arch`` with ``n_layers`` RNN layers."""
    blog = blog_results()
    key = "lv1_lstm" if arch == "lv1" else "lv2_bigru"
    point = blog["text_claims"]["two_layer_bigru"] if arch == "birnn" and n_layers > 1 else None
    return BlogMatch(key, blog[key], point)


def blog_seconds_per_epoch(entry):
    """The blog's wall seconds per epoch of one experiment entry of ``blog_results()``."""
    if "seconds_per_100_epochs" in entry:
        return sum(entry["seconds_per_100_epochs"]) / (100 * len(entry["seconds_per_100_epochs"]))
    return entry["seconds_for_all_epochs"] / entry["epochs"]


def fmt(value, digits=3):
    """A loss or a time as text with ``digits`` decimals; ``None`` and NaN as ""."""
    if value is None or math.isnan(value):
        return ""
    return f"{value:.{digits}f}"


def blog_figure(arch, n_layers=1, stacking="true"):
    """The blog's figure for our network, in a few words (original data, 1024 units)."""
    if arch == "ff":
        return "no figure (\"much better than feedforward\")"
    if stacking == "tutorial" and n_layers > 1:
        return "the text does not say which stacking gave the figure above"
    match = blog_match(arch, n_layers)
    if match.point:
        p = match.point
        return f"epoch {p['epoch']}: {fmt(p['train'])} / {fmt(p['test'])} (text)"
    entry, last = match.entry, match.entry["curve"][-1]
    seconds = (f"{fmt(entry['seconds_for_all_epochs'], 0)} s" if arch == "lv1"
               else f"{fmt(blog_seconds_per_epoch(entry), 0)} s/epoch")
    return f"{entry['epochs']} epochs: {fmt(last['train'])} / {fmt(last['test'])}, {seconds}"
