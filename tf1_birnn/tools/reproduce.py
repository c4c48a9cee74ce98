"""``tf1-birnn reproduce``: the blog's comparison of networks, trained and tabulated.

YJango's tutorial ("循环神经网络——双向LSTM&GRU") reports, on the original X.npy/Y.npy: the LV1
LSTM network at 0.226/0.453 (train/test) after 10 epochs in 563 s; the LV2 bidirectional GRU
network at 0.022/0.222 after 200 epochs (107 s per epoch, ``blog_seconds_per_epoch``); two
bidirectional layers at 0.024/0.193 at epoch 190; "much better than feedforward"; smooth
predicted trajectories.

This command trains, with fixed seeds and the same number of epochs for every model, the
networks that make these claims (``MODELS``) and logs each to TensorBoard in
``<logdir>/<name>/<model>/``. It then measures how smooth the predicted trajectories are
(``roughness``), writes ``<logdir>/<name>/reproduce.json`` and a Markdown table beside the
blog's figures, and optionally plots our curves over the blog's. With ``--seeds 55,56,57``
it repeats all this once per model seed in ``<logdir>/<name>/seed<N>/`` and adds a table of
the mean and spread over the seeds and of how many seeds agree on each ordering
(``seeds_table``): one seed cannot decide an ordering whose gap is within seed noise. The
tables go to ``<logdir>/<name>/results.md`` (with a single ``--seeds N``: to
``<logdir>/<name>/seed<N>/results.md``, so that one process per seed can run side by side).

Sizes (``SIZES``): ``full`` is the tutorial's settings (1024 units, learning rate 7e-5, 200
epochs); ``reduced`` is 128 units, learning rate 3e-3, 30 epochs; ``tiny`` is for tests.
Every size trains one utterance per Adam step, as the tutorial, and uses the fast RNN path
(``tf1_birnn.core.fast``, equal to the faithful path to float32 round-off, see
``tests/test_fast.py``).

A reproduction lives in ``<logdir>/<name>/`` (default name ``reproduce-<size>-<data>``).
Running the same command again continues it: finished models are skipped and an interrupted
one resumes from its last checkpoint (``train_run(resume=True)``); a folder made with other
settings or data is refused. ``--estimate`` measures each model on this machine
(``tf1_birnn.tools.estimate``) and prints the time it would take, with the blog's own timing
for a GPU: no GPU was measured by this project. Before each model a run prints its own
seconds per epoch so far.

Beyond the blog, the tutorial's last suggestion ("rnn的dropout"): ``lv2_variational`` and
``lv2_candidate`` are LV2 with dropout inside the cells (``tf1_birnn.core.dropout``) at the
run's keep rate (``--keep-rate``, default 0.7), not run by default (``DEFAULT_MODELS`` are the
blog's five): ``--models lv2,lv2_variational,lv2_candidate --seeds 55,56,57``.

Where this differs from the blog: every model gets the same epochs (the blog ran LV1 for 10,
LV2 for 200); the two-layer network is run both truly stacked and with the tutorial's code,
whose second layer reads ``inputs_T`` (``stacking='tutorial'``), to measure that bug.
"""
import argparse
import json
import os
import time

from ..core.checks import keep_rate_float
from .usage import UsageError
from .blog import blog_figure, blog_match, blog_results, blog_seconds_per_epoch, fmt
from .estimate import ASSUMPTIONS, host, measure
from .commands import add_data_args, cut_data, describe_data, positive_float, positive_int
from ..data.helpers import data_prer, train_test_split
from ..data.source import DataSource
from ..training.config import preset_config
from ..training.loop import predict_utterance
from ..training.plot import lag1_autocorrelation, roughness
# TensorFlow and training.run are imported in the functions that need them, so that
# `tf1-birnn --help` never loads TensorFlow

__all__ = ["SIZES", "MODELS", "DEFAULT_MODELS", "SEED", "roughness", "lag1_autocorrelation",
           "reproduce", "default_name", "results_table",
           "seeds_table", "plot_curves", "register", "run"]

SEED = 55  # the tutorial's seed (weights, dropout, shuffling) for every model
SIZES = {
    "full": dict(num_units=1024, learning_rate=7e-5, epochs=200),  # the tutorial's
    "reduced": dict(num_units=128, learning_rate=3e-3, epochs=30),  # timing: the --size help
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
    "lv2_variational": ("blog", dict(cell_dropout="variational"),
                        "LV2, variational dropout in the cells (inputs and h)"),
    "lv2_candidate": ("blog", dict(cell_dropout="candidate"),
                      "LV2, dropout on the cells' candidate only"),
}
DEFAULT_MODELS = ("ff", "lv1", "lv2", "stacked", "stacked_tutorial")  # the blog's claims


def _gpu_reference(model, config):
    """The only GPU figure we have: the blog's own timing (2017 GPU, tf.scan, 1024 units)."""
    if config.num_units != 1024:
        return "no GPU reference at this size"
    blog = blog_results()
    if model == "lv1":
        return (f"{blog_seconds_per_epoch(blog['lv1_lstm']):.0f} s/epoch on the blog's own 2017 "
                "GPU")
    if model == "lv2":
        return (f"{blog_seconds_per_epoch(blog['lv2_bigru']):.0f} s/epoch on the blog's own 2017 "
                "GPU")
    return "the blog gives no timing for this network"


def _hours(seconds):
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _measured(run_dir):
    """Median wall seconds per epoch of ``run_dir``'s epochs after the first, or ``None``."""
    from ..training.folder import open_run
    path = os.path.join(run_dir, "history.json")
    if not os.path.isfile(path):
        return None
    seconds = sorted(r["seconds"] for r in open_run(run_dir)[1][1:])
    return seconds[len(seconds) // 2] if seconds else None


def _estimate_line(model, config, epochs_left, measured_here=None, run_dir=None):
    """One model's line: this machine's estimate (if measured), its own epochs (if any), the
    blog's GPU figure."""
    history = _measured(run_dir) if run_dir else None
    parts = []
    if measured_here is not None:
        parts.append(f"~{measured_here:.0f} s/epoch, ~{_hours(measured_here * epochs_left)} "
                     f"for {epochs_left} epochs on this machine")
    if history is not None:
        parts.append(f"this run so far: {history:.0f} s/epoch, "
                     f"~{_hours(history * epochs_left)} for the {epochs_left} left")
    parts.append(f"GPU: not measured by this project; {_gpu_reference(model, config)}")
    return "   estimate: " + "; ".join(parts)


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
    return f"reproduce-{size}-{tag}"


def _epochs_done(run_dir):
    """Epochs of ``run_dir`` that have a checkpoint (what ``train_run(resume=True)`` keeps)."""
    from ..training.checkpoints import epochs_done
    from ..training.folder import open_run
    if not os.path.isfile(os.path.join(run_dir, "config.json")):
        return 0
    return min(epochs_done(run_dir), len(open_run(run_dir)[1]))


def _check_same_plan(root, model, config):
    """Refuse to continue ``root/model`` if it was made with other settings or data."""
    from ..training.folder import open_run
    run_dir = os.path.join(root, model)
    if not os.path.isfile(os.path.join(run_dir, "config.json")):
        return
    saved, _ = open_run(run_dir)
    if DataSource.from_json(saved.data) != DataSource.from_json(config.data):
        raise UsageError(f"{run_dir} was trained on {DataSource.from_json(saved.data).describe()}"
                         f"; this command uses {DataSource.from_json(config.data).describe()}: "
                         "choose another --name")
    for key in ("num_units", "learning_rate", "seed", "batch_size", "fast", "arch", "cell",
                "cell_b", "merge", "n_layers", "n_ff", "stacking", "cell_dropout", "keep_rate"):
        if getattr(saved, key) != getattr(config, key):
            raise UsageError(f"{run_dir} was made with {key}={getattr(saved, key)!r}; this "
                             f"command has {key}={getattr(config, key)!r}: choose another --name")


def _network(model):
    """``(arch, n_layers, stacking)`` of ``model``: what the blog's figures are matched by."""
    preset, extra, _ = MODELS[model]
    config = preset_config(preset, **extra)
    return config.arch, config.n_layers, config.stacking


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
    from ..training.folder import open_run
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


def reproduce(X, Y, logdir, name, size="reduced", models=DEFAULT_MODELS, data=DataSource(),
              resume=False, out=print, estimate_only=False, **overrides):
    """Train ``models`` on ``X``/``Y`` at ``size`` into ``logdir/name/<model>``.

    ``data``: the ``DataSource`` (or its JSON) that ``X``/``Y`` came from, saved with the
    runs. ``overrides`` (``epochs``, ``num_units``...) change the size's settings. An existing
    ``logdir/name`` made with the same settings and data is continued: finished models are
    reused and an interrupted one resumes from its last checkpoint (``resume=True`` insists
    that the folder exists); ``epochs`` may differ, to extend the runs. With
    ``estimate_only=True`` only the time estimates are printed (returns ``None``). Returns the
    summary dict that is also saved as ``logdir/name/reproduce.json``.
    """
    import tensorflow as tf

    from ..training.run import train_run

    data = DataSource.from_json(data).to_json()
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(map(repr, SIZES))}; got {size!r}")
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValueError(f"models must be among {', '.join(MODELS)}; got {','.join(models)!r}")
    settings = dict(SIZES[size], seed=SEED, fast=True, batch_size=1)
    settings.update({k: v for k, v in overrides.items() if v is not None})
    root = os.path.join(logdir, name)
    if resume and not os.path.isdir(root) and not estimate_only:
        raise FileNotFoundError(f"{root!r} does not exist: nothing to resume (the same command "
                                "without --resume starts it)")
    train, test = train_test_split(data_prer(X, Y))
    if not test:
        raise ValueError(f"the corpus has {len(X)} utterances, so the tutorial's split (first "
                         "20%) leaves no test utterance; use at least 5")
    configs, left = {}, {}
    for model in models:
        preset, extra, what = MODELS[model]
        configs[model] = preset_config(preset, data=data, D_input=int(X[0].shape[1]),
                                       D_label=int(Y[0].shape[1]), **dict(settings, **extra))
        _check_same_plan(root, model, configs[model])  # before anything is written
        left[model] = configs[model].epochs - _epochs_done(os.path.join(root, model))
    if estimate_only:
        out(f"estimates ({ASSUMPTIONS}):")
        total = 0.0
        for model in models:
            cpu = measure(configs[model], train, test).seconds_per_epoch
            total += cpu * max(left[model], 0)
            out(f"== {model}: {MODELS[model][2]}; {max(left[model], 0)} of "
                f"{configs[model].epochs} epochs left")
            out(_estimate_line(model, configs[model], max(left[model], 0), cpu,
                               os.path.join(root, model)))
        out(f"estimated time for what is left: ~{_hours(total)} on this machine "
            f"({host()}, {os.cpu_count()} CPUs)")
        return None
    if os.path.isdir(root):
        out(f"continuing {root}: " + ", ".join(
            f"{m} {configs[m].epochs - max(left[m], 0)}/{configs[m].epochs} epochs"
            for m in models))
    os.makedirs(root, exist_ok=True)
    results = []
    for model in models:
        config, what = configs[model], MODELS[model][2]
        run_dir = os.path.join(root, model)
        existing = os.path.isfile(os.path.join(run_dir, "config.json"))
        done = _epochs_done(run_dir)
        out(f"== {model}: {what}; {config.num_units} units, learning rate "
            f"{config.learning_rate:g}, {config.epochs} epochs, seed {config.seed}")
        if done < config.epochs:
            out(_estimate_line(model, config, config.epochs - done, run_dir=run_dir))
            train_run(None if existing else config, X, Y, root, model, resume=existing,
                      out=out, show_progress=False, epochs=config.epochs)
        results.append(_summary(model, run_dir, _smoothness(run_dir, test)))
    summary = dict(size=size, settings=settings, data=data, name=name,
                   date=time.strftime("%Y-%m-%d"), tensorflow=tf.__version__,
                   machine=f"{host()}, {os.cpu_count()} CPUs", models=results)
    with open(os.path.join(root, "reproduce.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    return summary


def results_table(summary):
    """The Markdown table of ``summary`` (from ``reproduce``) beside the blog's figures."""
    lines = ["| model | epochs | final train | final test | best test (epoch) | test after "
             "10 epochs | wall time (s/epoch) | roughness | blog (original data, 1024 units) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in summary["models"]:
        lines.append(
            f"| {r['model']} | {r['epochs']} | {fmt(r['final_train'])} | {fmt(r['final_test'])} | "
            f"{fmt(r['best_test'])} ({r['best_epoch']}) | {fmt(r['test_at_10'])} | "
            f"{fmt(r['seconds'], 0)} s ({fmt(r['seconds_per_epoch'], 1)}) | {fmt(r['roughness'], 2)} | "
            f"{blog_figure(*_network(r['model']))} |")
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
    real = summary["models"][0]["lag1_real"]
    notes.append("Roughness: mean |second difference| of the predicted test trajectories over "
                 f"that of the real ones (1 = as smooth as the real; real lag-1 "
                 f"autocorrelation {fmt(real)}; predicted: "
                 + ", ".join(f"{r['model']} {fmt(r['lag1_pred'])}" for r in summary["models"])
                 + ").")
    return "\n".join(lines + [""] + notes)


# orderings that one seed can decide: (a, b, what a < b means)
SEED_ORDERINGS = (("lv2", "lv1", "LV2 beats LV1"), ("lv1", "ff", "LV1 beats feedforward"),
                  ("stacked", "lv2", "two layers beat one"),
                  ("stacked", "stacked_tutorial", "true stacking beats the tutorial's"),
                  ("lv2_variational", "lv2", "variational cell dropout beats none"),
                  ("lv2_candidate", "lv2", "candidate cell dropout beats none"))


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
        cells = []
        for key in ("best_test", "final_test"):
            v = [r[key] for r in by_seed.values()]
            cells.append(f"{sum(v) / len(v):.3f} ({min(v):.3f}..{max(v):.3f})")
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
                gaps.append(f"{model} {sum(v) / len(v):.3f} ({min(v):.3f}..{max(v):.3f})")
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
        ep = [h["epoch"] + 1 for h in r["history"]]  # epochs done, for a log axis
        ax.plot(ep, [h["test"] for h in r["history"]], "C0-", label="ours test")
        ax.plot(ep, [h["train"] for h in r["history"]], "C0--", label="ours train")
        key, entry, two = blog_match(*_network(r["model"])[:2])
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
    axes[0][0].set_ylabel("MSE (standardized)")
    fig.suptitle(f"ours ({DataSource.from_json(summary['data']).kind} data, "
                 f"{summary['size']} size) "
                 "vs the blog (original data, 1024 units)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _seed_list(text):
    try:
        seeds = [int(v) for v in text.split(",")]
    except ValueError:
        seeds = []
    if not seeds or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"expected distinct comma-separated ints, e.g. "
                                         f"55,56,57; got {text!r}")
    return seeds


def register(sub):
    p = sub.add_parser("reproduce", help="train the blog's networks and compare with its figures",
                       description="Train the blog's networks with fixed seeds, log them to "
                       "TensorBoard and tabulate them beside the blog's figures.")
    p.add_argument("--size", choices=tuple(SIZES), default="reduced",
                   help="full (the tutorial's settings: 1024 units, 200 epochs), reduced "
                        "(default: 128 units, 30 epochs; --estimate said ~7 min for the five "
                        "models on an idle 2-core AMD EPYC on 2026-12-06), tiny (tests); "
                        "--estimate measures yours")
    p.add_argument("--epochs", type=positive_int, help="epochs of every model")
    p.add_argument("--num-units", type=positive_int)
    p.add_argument("--learning-rate", type=positive_float, help="of every model")
    p.add_argument("--models", default=",".join(DEFAULT_MODELS),
                   help=f"comma-separated, among {','.join(MODELS)} (default: "
                   f"{','.join(DEFAULT_MODELS)}, the blog's)")
    p.add_argument("--keep-rate", type=keep_rate_float, help="dropout keep rate of every model "
                   "while training, between layers and inside the cells (default: each "
                   "preset's, 0.7; lv1: 1)")
    p.add_argument("--logdir", default="logs", help="where runs go (default: logs)")
    p.add_argument("--name", help="folder of this reproduction (default: "
                   "reproduce-<size>-<data>); the same command continues it")
    p.add_argument("--seeds", type=_seed_list,
                   help=f"comma-separated model seeds, e.g. 55,56,57: one reproduction per seed "
                   f"in <name>/seed<N>/ and a table of mean and spread (default: {SEED})")
    p.add_argument("--resume", action="store_true",
                   help="insist on continuing an existing --name (the same command continues "
                        "by itself: finished models are reused, an interrupted one resumes)")
    p.add_argument("--estimate", action="store_true",
                   help="print the time estimate of each model and stop")
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
    X, Y = data.load()
    name = args.name or default_name(args.size, data)
    # one reproduction, or one per seed in <name>/seed<N>/ with the table over the seeds
    seeds = args.seeds or [None]
    summaries = []
    for seed in seeds:
        if seed is not None:
            print(f"==== seed {seed}")
        summaries.append(reproduce(
            X, Y, args.logdir, name if seed is None else os.path.join(name, f"seed{seed}"),
            args.size, models, data, args.resume, estimate_only=args.estimate,
            epochs=args.epochs, num_units=args.num_units, learning_rate=args.learning_rate,
            keep_rate=args.keep_rate, seed=seed))
    if args.estimate:
        return 0
    tables = [results_table(s) for s in summaries]
    if args.seeds:
        tables = [seeds_table(summaries)] + [
            f"Seed {s['settings']['seed']}:\n\n{t}" for s, t in zip(summaries, tables)]
    table = "\n\n".join(tables)
    print(table)
    root = os.path.join(args.logdir, name)
    # one seed alone (e.g. one process per seed) writes in its own folder, so that parallel
    # processes do not overwrite each other's tables
    here = os.path.join(root, f"seed{args.seeds[0]}") if args.seeds and len(args.seeds) == 1 \
        else root
    reports = [os.path.join(here, "results.md")] + ([args.report] if args.report else [])
    for path in reports:
        with open(path, "w", encoding="utf-8") as f:
            f.write(table + "\n")
    if args.plot:
        plot_curves(summaries[0], args.plot)
        print(f"wrote {args.plot}" + (f" (seed {seeds[0]})" if args.seeds else ""))
    print(f"tables in {', '.join(reports)}; view the runs with: tensorboard --logdir {root}")
    return 0
