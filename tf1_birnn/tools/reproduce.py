"""``tf1-birnn reproduce``: the blog's comparison of networks, trained and tabulated.

YJango's tutorial ("循环神经网络——双向LSTM&GRU") reports, on the original X.npy/Y.npy: the LV1
LSTM network at 0.226/0.453 (train/test) after 10 epochs in 563 s; the LV2 bidirectional GRU
network at 0.022/0.222 after 200 epochs (about 109 s per epoch); two bidirectional layers at
0.024/0.193 at epoch 190; "much better than feedforward"; smooth predicted trajectories.

This command trains, with fixed seeds and the same number of epochs for every model, the
networks that make these claims (``MODELS``) and logs each to TensorBoard in
``<logdir>/<name>/<model>/``. It then measures how smooth the predicted trajectories are
(``roughness``), writes ``<logdir>/<name>/reproduce.json`` and a Markdown table beside the
blog's figures, and optionally plots our curves over the blog's.

Sizes (``SIZES``): ``full`` is the tutorial's settings (1024 units, learning rate 7e-5, 200
epochs: days on 2 CPU cores); ``reduced`` is what fits under an hour on 2 busy CPU cores (128
units, learning rate 3e-3, 30 epochs); ``tiny`` is for tests. Every size trains one utterance
per Adam step, as the tutorial, and uses the fast RNN path (``tf1_birnn.core.fast``, equal to the
faithful path to float32 round-off, see ``tests/test_fast.py``).

Where this differs from the blog: every model gets the same epochs (the blog ran LV1 for 10,
LV2 for 200); the two-layer network is run both truly stacked and with the tutorial's code,
whose second layer reads ``inputs_T`` (``stacking='tutorial'``), to measure that bug.
"""
import json
import os
import platform
import time

from ..core.checks import UsageError
from .commands import (add_data_args, cut_data, describe_data, load_data, positive_float,
                       positive_int)
from .compare import blog_results, blog_seconds_per_epoch
from ..data.helpers import data_prer, train_test_split
from ..training.loop import predict_utterance
from ..training.plot import lag1_autocorrelation, roughness
# TensorFlow and training.run are imported in the functions that need them, so that
# `tf1-birnn --help` never loads TensorFlow

__all__ = ["SIZES", "MODELS", "SEED", "roughness", "lag1_autocorrelation", "reproduce",
           "results_table", "plot_curves", "register", "run"]

SEED = 55  # the tutorial's seed (weights, dropout, shuffling) for every model
SIZES = {
    "full": dict(num_units=1024, learning_rate=7e-5, epochs=200),  # the tutorial's
    "reduced": dict(num_units=128, learning_rate=3e-3, epochs=30),  # 26 min on 2 busy cores
    "tiny": dict(num_units=8, learning_rate=3e-3, epochs=2),  # tests
}
# model -> (preset, overrides, what it is)
MODELS = {
    "ff": ("ff", {}, "feedforward: 4 ReLU layers, no RNN"),
    "lv1": ("lv1", {}, "LV1: one LSTM layer -> linear"),
    "lv2": ("blog", {}, "LV2: 2 ReLU -> BiGRU -> 2 ReLU"),
    "stacked": ("stacked", {}, "LV2 with 2 BiGRU layers, truly stacked"),
    "stacked_tutorial": ("stacked", dict(stacking="tutorial"),
                         "2 BiGRU layers, the tutorial's code (layer 2 reads inputs_T)"),
}


def _blog_figures():
    """model -> the blog's figure as a short text (original data, 1024 units)."""
    blog = blog_results()
    lv1, lv2 = blog["lv1_lstm"], blog["lv2_bigru"]
    two = blog["text_claims"]["two_layer_bigru"]
    lv2_sec = blog_seconds_per_epoch(lv2)
    last1, last2 = lv1["curve"][-1], lv2["curve"][-1]
    return {
        "ff": "no figure (\"much better than feedforward\")",
        "lv1": f"{lv1['epochs']} epochs: {last1['train']:.3f} / {last1['test']:.3f}, "
               f"{lv1['seconds_for_all_epochs']:.0f} s",
        "lv2": f"{lv2['epochs']} epochs: {last2['train']:.3f} / {last2['test']:.3f}, "
               f"{lv2_sec:.0f} s/epoch",
        "stacked": f"epoch {two['epoch']}: {two['train']:.3f} / {two['test']:.3f} (text)",
        "stacked_tutorial": "the text does not say which stacking gave the figure above",
    }


def _smoothness(run_dir, test):
    """Roughness and lag-1 autocorrelation of the last checkpoint's test predictions."""
    from ..training.run import build_session, last_checkpoint, open_run
    config, _ = open_run(run_dir)
    _, sess, net, _ = build_session(config, last_checkpoint(run_dir))
    with sess:
        pred = [predict_utterance(sess, net, x) for x, _ in test]  # [n_frames, D_label] each
    real = [y for _, y in test]
    return dict(roughness=roughness(real, pred), lag1_pred=lag1_autocorrelation(pred),
                lag1_real=lag1_autocorrelation(real))


def _summary(model, run_dir, smooth):
    from ..training.run import open_run
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


def reproduce(X, Y, logdir, name, size="reduced", models=tuple(MODELS), data="synthetic:0",
              resume=False, out=print, **overrides):
    """Train ``models`` on ``X``/``Y`` at ``size`` into ``logdir/name/<model>``.

    ``overrides`` (``epochs``, ``num_units``...) change the size's settings. With
    ``resume=True`` finished models are reused and an interrupted one continues from its last
    checkpoint. Returns the summary dict that is also saved as ``logdir/name/reproduce.json``.
    """
    import tensorflow as tf

    from ..training.run import open_run, preset_config, train_run

    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(map(repr, SIZES))}; got {size!r}")
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValueError(f"models must be among {', '.join(MODELS)}; got {','.join(models)!r}")
    settings = dict(SIZES[size], seed=SEED, fast=True, batch_size=1)
    settings.update({k: v for k, v in overrides.items() if v is not None})
    root = os.path.join(logdir, name)
    if os.path.exists(root) and not resume:
        raise FileExistsError(f"{root!r} exists; pass --resume to continue it or choose "
                              "another --name")
    _, test = train_test_split(data_prer(X, Y))
    if not test:
        raise ValueError(f"the corpus has {len(X)} utterances, so the tutorial's split (first "
                         "20%) leaves no test utterance; use at least 5")
    os.makedirs(root, exist_ok=True)
    results = []
    for model in models:
        preset, extra, what = MODELS[model]
        config = preset_config(preset, data=data, D_input=int(X[0].shape[1]),
                               D_label=int(Y[0].shape[1]), **dict(settings, **extra))
        run_dir = os.path.join(root, model)
        existing = resume and os.path.isfile(os.path.join(run_dir, "config.json"))
        done = len(open_run(run_dir)[1]) if existing else 0
        out(f"== {model}: {what}; {config.num_units} units, learning rate "
            f"{config.learning_rate:g}, {config.epochs} epochs, seed {config.seed}")
        if done < config.epochs:
            train_run(None if existing else config, X, Y, root, model, resume=existing,
                      out=out, show_progress=False, epochs=config.epochs)
        results.append(_summary(model, run_dir, _smoothness(run_dir, test)))
    summary = dict(size=size, settings=settings, data=data, name=name,
                   date=time.strftime("%Y-%m-%d"), tensorflow=tf.__version__,
                   machine=f"{platform.machine()}, {os.cpu_count()} CPUs", models=results)
    with open(os.path.join(root, "reproduce.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    return summary


def _f(value, digits=3):
    return "" if value is None else f"{value:.{digits}f}"


def results_table(summary):
    """The Markdown table of ``summary`` (from ``reproduce``) beside the blog's figures."""
    blog = _blog_figures()
    lines = ["| model | epochs | final train | final test | best test (epoch) | test after "
             "10 epochs | wall time (s/epoch) | roughness | blog (original data, 1024 units) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in summary["models"]:
        lines.append(
            f"| {r['model']} | {r['epochs']} | {_f(r['final_train'])} | {_f(r['final_test'])} | "
            f"{_f(r['best_test'])} ({r['best_epoch']}) | {_f(r['test_at_10'])} | "
            f"{r['seconds']:.0f} s ({r['seconds_per_epoch']:.1f}) | {_f(r['roughness'], 2)} | "
            f"{blog[r['model']]} |")
    by = {r["model"]: r for r in summary["models"]}
    notes = []
    if {"ff", "lv1", "lv2"} <= set(by):
        for key, what in (("best_test", "Best test loss"), ("final_test", "Final test loss")):
            order = sorted(("ff", "lv1", "lv2"), key=lambda m: by[m][key])
            holds = order == ["lv2", "lv1", "ff"]
            notes.append(f"{what}: {' < '.join(order)}; the blog's order lv2 < lv1 < ff "
                         f"{'holds' if holds else 'does NOT hold'}.")
    if {"stacked", "lv2"} <= set(by):
        a, b = by["stacked"]["best_test"], by["lv2"]["best_test"]
        notes.append(f"Two layers vs one: best test {a:.3f} vs {b:.3f} "
                     f"({'two layers better' if a < b else 'two layers NOT better'}).")
    if {"stacked", "stacked_tutorial"} <= set(by):
        a, b = by["stacked"]["best_test"], by["stacked_tutorial"]["best_test"]
        notes.append(f"The tutorial's stacking (layer 2 reads inputs_T): best test {b:.3f} vs "
                     f"{a:.3f} truly stacked ({(b - a) / a:+.1%}).")
    real = summary["models"][0]["lag1_real"]
    notes.append("Roughness: mean |second difference| of the predicted test trajectories over "
                 f"that of the real ones (1 = as smooth as the real; real lag-1 "
                 f"autocorrelation {real:.3f}; predicted: "
                 + ", ".join(f"{r['model']} {r['lag1_pred']:.3f}" for r in summary["models"])
                 + ").")
    return "\n".join(lines + [""] + notes)


def plot_curves(summary, path):
    """Plot each model's train/test curves over the blog's (needs matplotlib)."""
    try:
        import matplotlib
    except ModuleNotFoundError:
        raise UsageError("--plot needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    blog = blog_results()
    two = blog["text_claims"]["two_layer_bigru"]
    ref = {"lv1": blog["lv1_lstm"]["curve"], "lv2": blog["lv2_bigru"]["curve"],
           "stacked": blog["lv2_bigru"]["curve"], "stacked_tutorial": blog["lv2_bigru"]["curve"]}
    models = summary["models"]
    fig, axes = plt.subplots(1, len(models), figsize=(3.2 * len(models), 3.4), sharey=True,
                             squeeze=False)
    for ax, r in zip(axes[0], models):
        ep = [h["epoch"] + 1 for h in r["history"]]  # epochs done, for a log axis
        ax.plot(ep, [h["test"] for h in r["history"]], "C0-", label="ours test")
        ax.plot(ep, [h["train"] for h in r["history"]], "C0--", label="ours train")
        curve = ref.get(r["model"])
        if curve:
            label = "blog LV2" if r["model"].startswith("stacked") else "blog"
            ax.plot([c["epoch"] + 1 for c in curve], [c["test"] for c in curve], "C3-",
                    label=f"{label} test", alpha=0.7)
            ax.plot([c["epoch"] + 1 for c in curve], [c["train"] for c in curve], "C3--",
                    label=f"{label} train", alpha=0.7)
        if r["model"].startswith("stacked"):
            ax.plot([two["epoch"] + 1] * 2, [two["test"], two["train"]], "k*",
                    label="blog 2 layers")
        ax.set_xscale("log")
        ax.set_title(r["model"])
        ax.set_xlabel("epochs done")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("MSE (standardized)")
    fig.suptitle(f"ours ({summary['data'].partition(':')[0]} data, {summary['size']} size) "
                 "vs the blog (original data, 1024 units)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def register(sub):
    p = sub.add_parser("reproduce", help="train the blog's networks and compare with its figures",
                       description="Train the blog's networks with fixed seeds, log them to "
                       "TensorBoard and tabulate them beside the blog's figures.")
    p.add_argument("--size", choices=tuple(SIZES), default="reduced",
                   help="full (the tutorial's settings), reduced (default, <1 h on 2 cores), tiny")
    p.add_argument("--epochs", type=positive_int, help="epochs of every model")
    p.add_argument("--num-units", type=positive_int)
    p.add_argument("--learning-rate", type=positive_float, help="of every model")
    p.add_argument("--models", default=",".join(MODELS),
                   help=f"comma-separated, among {','.join(MODELS)} (default: all)")
    p.add_argument("--logdir", default="logs", help="where runs go (default: logs)")
    p.add_argument("--name", help="folder of this reproduction (default: reproduce-<date>)")
    p.add_argument("--resume", action="store_true",
                   help="reuse finished models of --name and continue an interrupted one")
    p.add_argument("--max-utterances", type=positive_int, help="use only the first N")
    p.add_argument("--max-frames", type=positive_int, help="cut utterances to N frames")
    p.add_argument("--report", help="write the Markdown table here too")
    p.add_argument("--plot", help="plot the curves over the blog's to this PNG (matplotlib)")
    p.add_argument("--force", action="store_true",
                   help="replace existing --report/--plot files")
    add_data_args(p)
    p.set_defaults(func=run)


def run(args):
    models = tuple(m for m in args.models.split(",") if m)
    for path in (args.report, args.plot):
        if path and os.path.exists(path) and not args.force:
            raise UsageError(f"{path!r} exists; pass --force to replace it")
    data = cut_data(describe_data(args), args.max_utterances, args.max_frames)
    X, Y = load_data(data)
    name = args.name or f"reproduce-{time.strftime('%Y%m%d')}"
    summary = reproduce(X, Y, args.logdir, name, args.size, models, data, args.resume,
                        epochs=args.epochs, num_units=args.num_units,
                        learning_rate=args.learning_rate)
    table = results_table(summary)
    print(table)
    root = os.path.join(args.logdir, name)
    reports = [os.path.join(root, "results.md")] + ([args.report] if args.report else [])
    for path in reports:
        with open(path, "w", encoding="utf-8") as f:
            f.write(table + "\n")
    if args.plot:
        plot_curves(summary, args.plot)
        print(f"wrote {args.plot}")
    print(f"tables in {', '.join(reports)}; view the runs with: tensorboard --logdir {root}")
    return 0
