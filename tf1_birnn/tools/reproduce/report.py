"""What ``tf1-birnn reproduce`` reports: each model's losses and smoothness, beside the blog's.

The blog says its predicted trajectories are smooth; ``smoothness`` measures ours on the test
utterances (``tf1_birnn.training.plot.roughness`` and ``lag1_autocorrelation``).
``model_summary`` gathers one model's figures into the summary that ``write_summary`` saves
as ``<logdir>/<name>/reproduce.json``; ``results_table`` sets one summary beside the blog's
figures (``tf1_birnn.tools.blog``), ``seeds_table`` gives the mean and spread over several
seeds and how many seeds agree on each ordering (one seed cannot decide an ordering whose gap
is within seed noise), ``plot_curves`` draws our curves over the blog's. Every file is
written atomically (a kill leaves the old file or the new one).
"""
import io
import os
import time

from ...data.source import DataSource
from ...training.checkpoints import last_checkpoint, write_atomic
from ...training.folder import open_run, write_json
from ...training.loop import predict_utterance
from ...training.plot import lag1_autocorrelation, roughness
from ..blog import blog_figure, blog_match, fmt
from ..estimate import host
from ..usage import UsageError
from .plan import network

__all__ = ["roughness", "lag1_autocorrelation", "smoothness", "model_summary", "make_summary",
           "write_summary", "write_tables", "results_table", "SEED_ORDERINGS", "seeds_table",
           "plot_curves"]

# orderings that one seed can decide: (a, b, what a < b means)
SEED_ORDERINGS = (("lv2", "lv1", "LV2 beats LV1"), ("lv1", "ff", "LV1 beats feedforward"),
                  ("stacked", "lv2", "two layers beat one"),
                  ("stacked", "stacked_tutorial", "true stacking beats the tutorial's"),
                  ("lv2_variational", "lv2", "variational cell dropout beats none"),
                  ("lv2_candidate", "lv2", "candidate cell dropout beats none"))


def smoothness(run_dir, test):
    """Roughness and lag-1 autocorrelation of the last checkpoint's test predictions.

    ``test``: ``[(x, y), ...]`` as ``data_prer`` makes them (``x`` `[n_frames, D_input]`,
    ``y`` `[n_frames, D_label]`)."""
    from ...training.run import build_session  # TensorFlow
    config, _ = open_run(run_dir)
    _, sess, net, _ = build_session(config, last_checkpoint(run_dir))
    with sess:
        pred = [predict_utterance(sess, net, x) for x, _ in test]  # [n_frames, D_label] each
    real = [y for _, y in test]
    return dict(roughness=roughness(real, pred), lag1_pred=lag1_autocorrelation(pred),
                lag1_real=lag1_autocorrelation(real))


def model_summary(model, run_dir, smooth):
    """One model's entry of ``reproduce.json``: its losses, times and ``smooth`` figures."""
    _, history = open_run(run_dir)
    best = min(history, key=lambda r: r["test"])
    at10 = history[9]["test"] if len(history) >= 10 else None
    return dict(model=model, run_dir=run_dir, epochs=len(history),
                final_train=history[-1]["train"], final_test=history[-1]["test"],
                best_train=min(r["train"] for r in history), best_test=best["test"],
                best_epoch=best["epoch"], test_at_10=at10,
                seconds=sum(r["seconds"] for r in history),
                seconds_per_epoch=sum(r["seconds"] for r in history) / len(history),
                history=history, **smooth)


def make_summary(size, settings, data, name, models):
    """The summary saved as ``reproduce.json``: the run's ``settings`` (``size_settings``),
    its data, date, TensorFlow and machine, and ``models`` (``model_summary`` each)."""
    import tensorflow as tf
    return dict(size=size, settings=settings, data=data, name=name,
                date=time.strftime("%Y-%m-%d"), tensorflow=tf.__version__,
                machine=f"{host()}, {os.cpu_count()} CPUs", models=models)


def write_summary(root, summary):
    """Save ``summary`` as ``root/reproduce.json``."""
    write_json(os.path.join(root, "reproduce.json"), summary)


def write_tables(paths, text):
    """Write the Markdown ``text`` to each of ``paths``."""
    for path in paths:
        write_atomic(path, text + "\n")


def results_table(summary):
    """The Markdown table of ``summary`` (from ``reproduce``) beside the blog's figures."""
    lines = ["| model | epochs | final train | final test | best test (epoch) | test after "
             "10 epochs | wall time (s/epoch) | roughness | blog (original data, 1024 units) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in summary["models"]:
        lines.append(
            f"| {r['model']} | {r['epochs']} | {fmt(r['final_train'])} | {fmt(r['final_test'])} | "
            f"{fmt(r['best_test'])} ({r['best_epoch']}) | {fmt(r['test_at_10'])} | "
            f"{fmt(r['seconds'], 0)} s ({fmt(r['seconds_per_epoch'], 1)}) | "
            f"{fmt(r['roughness'], 2)} | {blog_figure(*network(r['model']))} |")
    real = summary["models"][0]["lag1_real"]
    notes = _claims({r["model"]: r for r in summary["models"]})
    notes.append("Roughness: mean |second difference| of the predicted test trajectories over "
                 f"that of the real ones (1 = as smooth as the real; real lag-1 "
                 f"autocorrelation {fmt(real)}; predicted: "
                 + ", ".join(f"{r['model']} {fmt(r['lag1_pred'])}" for r in summary["models"])
                 + ").")
    return "\n".join(lines + [""] + notes)


def _claims(by):
    """One line per claim of the blog that the models ``by`` (name -> entry) can check."""
    notes = []
    if {"ff", "lv1", "lv2"} <= set(by):
        for key, what in (("best_test", "Best test loss"), ("final_test", "Final test loss")):
            order = sorted(("ff", "lv1", "lv2"), key=lambda m: by[m][key])
            holds = order == ["lv2", "lv1", "ff"]
            notes.append(f"{what}: {' < '.join(order)}; the blog's order lv2 < lv1 < ff "
                         f"{'holds' if holds else 'does NOT hold'}.")
    if {"stacked", "lv2"} <= set(by):
        a, b = by["stacked"]["best_test"], by["lv2"]["best_test"]
        notes.append(f"Two layers vs one: best test {fmt(a)} vs {fmt(b)} "
                     f"({'two layers better' if a < b else 'two layers NOT better'}).")
    if {"stacked", "stacked_tutorial"} <= set(by):
        a, b = by["stacked"]["best_test"], by["stacked_tutorial"]["best_test"]
        notes.append(f"The tutorial's stacking (layer 2 reads inputs_T): best test {fmt(b)} vs "
                     f"{fmt(a)} truly stacked ({(b - a) / a:+.1%}).")
    for model in ("lv2_variational", "lv2_candidate"):
        if {model, "lv2"} <= set(by):
            a, b = by[model], by["lv2"]
            notes.append(f"Cell dropout, {model}: best test {fmt(a['best_test'])} vs "
                         f"{fmt(b['best_test'])} without; final train/test gap "
                         f"{fmt(a['final_test'] - a['final_train'])} vs "
                         f"{fmt(b['final_test'] - b['final_train'])} without.")
    return notes


def _spread(values):
    """``mean (min..max)`` of ``values``, three decimals."""
    return f"{sum(values) / len(values):.3f} ({min(values):.3f}..{max(values):.3f})"


def seeds_table(summaries):
    """Markdown table over ``summaries`` (one ``reproduce`` summary per seed): per model the
    mean and spread (min..max) of the best and final test loss, then how many seeds agree
    on each ordering of ``SEED_ORDERINGS`` (best test loss, same seed)."""
    runs = {}  # model -> {seed: summary of that model}
    for summary in summaries:
        for r in summary["models"]:
            runs.setdefault(r["model"], {})[summary["settings"]["seed"]] = r
    lines = ["| model | seeds | best test: mean (min..max) | final test: mean (min..max) |",
             "|---|---|---:|---:|"]
    for model, by_seed in runs.items():
        cells = [_spread([r[key] for r in by_seed.values()])
                 for key in ("best_test", "final_test")]
        lines.append(f"| {model} | {','.join(map(str, by_seed))} | {cells[0]} | {cells[1]} |")
    notes = []
    for a, b, what in SEED_ORDERINGS:
        common = [s for s in runs.get(a, {}) if s in runs.get(b, {})]
        if common:
            wins = [s for s in common if runs[a][s]["best_test"] < runs[b][s]["best_test"]]
            diffs = [runs[a][s]["best_test"] - runs[b][s]["best_test"] for s in common]
            notes.append(f"{what} ({a} < {b}, best test): {len(wins)} of {len(common)} seeds; "
                         f"difference {a} - {b}: mean {sum(diffs) / len(diffs):+.3f} "
                         f"({min(diffs):+.3f}..{max(diffs):+.3f}).")
    if {"lv2_variational", "lv2_candidate"} & set(runs):  # does cell dropout close the gap?
        gaps = []
        for model in ("lv2", "lv2_variational", "lv2_candidate"):
            v = [r["final_test"] - r["final_train"] for r in runs.get(model, {}).values()]
            if v:
                gaps.append(f"{model} {_spread(v)}")
        notes.append("Final train/test gap (test - train), mean (min..max): "
                     + "; ".join(gaps) + ".")
    return "\n".join(lines + [""] + notes)


def plot_curves(summary, path):
    """Plot each model's train/test curves over the blog's (needs matplotlib)."""
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise UsageError("--plot needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    models = summary["models"]
    fig, axes = plt.subplots(1, len(models), figsize=(3.2 * len(models), 3.4), sharey=True,
                             squeeze=False)
    for ax, r in zip(axes[0], models):
        _plot_model(ax, r)
    axes[0][0].set_ylabel("MSE (standardized)")
    fig.suptitle(f"ours ({DataSource.from_json(summary['data']).kind} data, "
                 f"{summary['size']} size) "
                 "vs the blog (original data, 1024 units)", fontsize=9)
    fig.tight_layout()
    png = io.BytesIO()  # in the format the path's extension names (.png, .svg, .pdf...)
    fig.savefig(png, format=os.path.splitext(path)[1][1:].lower() or "png", dpi=110)
    plt.close(fig)
    write_atomic(path, png.getvalue())


def _plot_model(ax, r):
    """One model's curves (``r``: its entry of the summary) over the blog's, on ``ax``."""
    ep = [h["epoch"] + 1 for h in r["history"]]  # epochs done, for a log axis
    ax.plot(ep, [h["test"] for h in r["history"]], "C0-", label="ours test")
    ax.plot(ep, [h["train"] for h in r["history"]], "C0--", label="ours train")
    key, entry, two = blog_match(*network(r["model"])[:2])
    curve, label = entry["curve"], f"blog {key.partition('_')[0].upper()}"
    ax.plot([c["epoch"] + 1 for c in curve], [c["test"] for c in curve], "C3-",
            label=f"{label} test", alpha=0.7)
    ax.plot([c["epoch"] + 1 for c in curve], [c["train"] for c in curve], "C3--",
            label=f"{label} train", alpha=0.7)
    if two:
        ax.plot([two["epoch"] + 1] * 2, [two["test"], two["train"]], "k*",
                label="blog 2 layers")
    ax.set_xscale("log")
    ax.set_title(r["model"])
    ax.set_xlabel("epochs done")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
