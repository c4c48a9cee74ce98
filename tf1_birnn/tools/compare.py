"""``tf1-birnn compare``: a run's per-epoch losses beside the blog's published curve.

The blog's figures (YJango's LV1 and LV2 notebooks and the tutorial text) ship as package
data (``resources/blog_results.json``); ``blog_results()`` returns them. The report says
which data the run used: the blog trained on the original X.npy/Y.npy, which are not
public, so a run on the embedded synthetic corpus can be compared in shape (how fast the
loss falls, train/test gap, ordering of models), not in value.
"""
import json
import math
from importlib import resources


__all__ = ["blog_results", "blog_curve", "blog_seconds_per_epoch", "compare_report", "register"]


def blog_results():
    """The blog's published curves, timings and claims (a dict; see its "source" key)."""
    text = resources.files("tf1_birnn").joinpath("resources/blog_results.json").read_text("utf-8")
    return json.loads(text)


def blog_curve(arch):
    """``(name, entry)`` of the blog's experiment that matches ``arch`` ('lv1' or another)."""
    blog = blog_results()
    key = "lv1_lstm" if arch == "lv1" else "lv2_bigru"
    return key, blog[key]


def blog_seconds_per_epoch(entry):
    """The blog's wall seconds per epoch of one experiment entry of ``blog_results()``."""
    if "seconds_per_100_epochs" in entry:
        return sum(entry["seconds_per_100_epochs"]) / (100 * len(entry["seconds_per_100_epochs"]))
    return entry["seconds_for_all_epochs"] / entry["epochs"]


def _fmt(value):
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def compare_report(run_dir):
    """A Markdown report of ``run_dir``'s losses and timings beside the blog's."""
    from ..training.run import open_run  # TensorFlow-heavy: imported when used

    config, history = open_run(run_dir)
    key, entry = blog_curve(config.arch)
    blog = {row["epoch"]: row for row in entry["curve"]}
    kind = config.data.partition(":")[0]
    data_note = ("the original X.npy/Y.npy, as the blog" if kind in ("original", "npz")
                 else "the embedded SYNTHETIC corpus: the blog used the original recordings, "
                      "so compare the shape of the curves, not their values")
    lines = [f"# {run_dir} vs the blog's {key}",
             "",
             f"- ours: {config.arch}, {config.num_units} units, cells {config.cell}/"
             f"{config.cell_b}, merge {config.merge}, {config.n_layers} RNN layer(s), "
             f"learning rate {config.learning_rate:g}, batch {config.batch_size}, "
             f"seed {config.seed}",
             f"- blog: {entry['network']}, learning rate {entry['learning_rate']:g}",
             f"- data: {data_note}",
             "",
             "| epoch | our train | our test | blog train | blog test |",
             "|---:|---:|---:|---:|---:|"]
    epochs = sorted(set(blog) | {row["epoch"] for row in history})
    ours = {row["epoch"]: row for row in history}
    for k in epochs:
        if k not in ours and k > len(history) + 10 and k % 10:
            continue  # past our run: every 10th blog epoch is enough
        o, b = ours.get(k, {}), blog.get(k, {})
        lines.append(f"| {k} | {_fmt(o.get('train'))} | {_fmt(o.get('test'))} | "
                     f"{_fmt(b.get('train'))} | {_fmt(b.get('test'))} |")
    ours_sec = (sum(r["seconds"] for r in history) / len(history)) if history else None
    blog_sec = blog_seconds_per_epoch(entry)
    lines += ["",
              "| seconds per epoch | ours | blog |",
              "|---|---:|---:|",
              f"| train + evaluation | {_fmt(ours_sec)} | {blog_sec:.1f} |",
              "",
              "Blog timings: a 2017 GPU, the full network, the original data; ours: this "
              "machine, the settings above."]
    return "\n".join(lines)


def register(sub):
    p = sub.add_parser("compare", help="a run's losses beside the blog's published curve")
    p.add_argument("run_dir", help="the run folder, e.g. logs/quick-...")
    p.set_defaults(func=lambda args: print(compare_report(args.run_dir)) or 0)
