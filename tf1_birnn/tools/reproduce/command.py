"""``tf1-birnn reproduce``: the blog's comparison of networks, trained and tabulated.

YJango's tutorial ("循环神经网络——双向LSTM&GRU") reports, on the original X.npy/Y.npy: the LV1
LSTM network at 0.226/0.453 (train/test) after 10 epochs in 563 s; the LV2 bidirectional GRU
network at 0.022/0.222 after 200 epochs (107 s per epoch, ``blog_seconds_per_epoch``); two
bidirectional layers at 0.024/0.193 at epoch 190; "much better than feedforward"; smooth
predicted trajectories.

This command trains, with fixed seeds and the same number of epochs for every model, the
networks that make these claims (``plan.MODELS``) and logs each to TensorBoard in
``<logdir>/<name>/<model>/``. It then measures how smooth the predicted trajectories are
(``report.smoothness``), writes ``<logdir>/<name>/reproduce.json`` and a Markdown table beside
the blog's figures, and optionally plots our curves over the blog's. With ``--seeds 55,56,57``
it repeats all this once per model seed in ``<logdir>/<name>/seed<N>/`` and adds a table of
the mean and spread over the seeds and of how many seeds agree on each ordering
(``report.seeds_table``). The tables go to ``<logdir>/<name>/results.md`` (with a single
``--seeds N``: to ``<logdir>/<name>/seed<N>/results.md``, so that one process per seed can
run side by side).

Sizes (``plan.SIZES``): ``full`` is the tutorial's own settings (``RunConfig``'s defaults);
``reduced`` is the quick preset's width and learning rate for 30 epochs; ``tiny`` is for
tests. Every size trains one utterance per Adam step, as the tutorial, and uses the fast RNN
path (``tf1_birnn.core.fast``, equal to the faithful path to float32 round-off, see
``tests/test_fast.py``). ``--epochs``, ``--num-units``, ``--learning-rate`` and
``--keep-rate`` are ``RunConfig``'s own flags, given to every model; ``--cell-keep-rate`` to
the models with dropout inside the cells.

A reproduction lives in ``<logdir>/<name>/`` (default name ``reproduce-<size>-<data>``).
Running the same command again continues it: finished models are skipped and an interrupted
one resumes from its last checkpoint (``train_run(resume=True)``); a folder made with other
settings or data is refused. ``--estimate`` measures each model on this machine
(``tf1_birnn.tools.estimate``) and prints the time it would take, with the blog's own timing
for a GPU: no GPU was measured by this project. Before each model a run prints its own
seconds per epoch so far.

Beyond the blog, the tutorial's last suggestion ("rnn的dropout"): ``lv2_variational`` and
``lv2_candidate`` are LV2 with dropout inside the cells (``tf1_birnn.core.dropout``) at
``--cell-keep-rate`` (default: the run's ``--keep-rate``), not run by default
(``DEFAULT_MODELS`` are the blog's five): ``--models lv2,lv2_variational,lv2_candidate
--seeds 55,56,57``; with ``--validation`` on the training split only, to choose that keep
rate without the test set (docs/results.md).

Where this differs from the blog: every model gets the same epochs (the blog ran LV1 for 10,
LV2 for 200); the two-layer network is run both truly stacked and with the tutorial's code,
whose second layer reads ``inputs_T`` (``stacking='tutorial'``), to measure that bug.
"""
import argparse
import os

from ...core.checks import positive_int
from ...data.helpers import check_split, data_prer, train_test_split
from ...data.source import DataSource
from ...training.config import preset_config
from ...training.folder import open_run
from ..blog import blog_results, blog_seconds_per_epoch
from ..commands import add_data_args, add_setting_flags, cut_data, describe_data
from ..estimate import ASSUMPTIONS, host, measure
from ..usage import UsageError
from .plan import (DEFAULT_MODELS, MODELS, SIZED, SIZES, config_default, default_name,
                   make_plan, seed_name, size_settings)
from .report import (make_summary, model_summary, plot_curves, results_table, seeds_table,
                     smoothness, write_summary, write_tables)
# TensorFlow and training.run are imported in the functions that need them, so that
# `tf1-birnn --help` never loads TensorFlow

__all__ = ["reproduce", "register", "run", "SETTING_FLAGS", "add_setting_args"]

# the RunConfig settings that reproduce has a flag for, given to every model
SETTING_FLAGS = ("epochs", "num_units", "learning_rate", "keep_rate", "cell_keep_rate")
PLOT_FORMATS = (".png", ".svg", ".pdf")  # what --plot can write (its extension says which)
# the blog's experiment that each model's GPU timing comes from (the others have none)
_BLOG_TIMING = {"lv1": "lv1_lstm", "lv2": "lv2_bigru"}


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
    data = DataSource.from_json(data).to_json()
    check_split(len(X))
    plan = make_plan(X, Y, os.path.join(logdir, name), size, models, data, **overrides)
    if resume and not os.path.isdir(plan.root) and not estimate_only:
        raise FileNotFoundError(f"{plan.root!r} does not exist: nothing to resume (the same "
                                "command without --resume starts it)")
    train, test = train_test_split(data_prer(X, Y))
    if estimate_only:
        _print_estimates(plan, train, test, out)
        return None
    summary = make_summary(size, plan.settings, data, name, _train(plan, X, Y, test, out))
    write_summary(plan.root, summary)
    return summary


def _train(plan, X, Y, test, out):
    """Train what is left of each model of ``plan``; return each model's summary."""
    from ...training.run import train_run
    if os.path.isdir(plan.root):
        out(f"continuing {plan.root}: " + ", ".join(
            f"{m} {c.epochs - plan.epochs_left(m)}/{c.epochs} epochs"
            for m, c in plan.configs.items()))
    os.makedirs(plan.root, exist_ok=True)
    results = []
    for model, config in plan.configs.items():
        run_dir, left, existing = plan.run_dir(model), plan.epochs_left(model), plan.exists(model)
        out(f"== {model}: {MODELS[model][2]}; {config.num_units} units, learning rate "
            f"{config.learning_rate:g}, {config.epochs} epochs, seed {config.seed}")
        if left:
            out(_estimate_line(model, config, left, run_dir=run_dir))
            train_run(None if existing else config, X, Y, plan.root, model, resume=existing,
                      out=out, show_progress=False, epochs=config.epochs)
        results.append(model_summary(model, run_dir, smoothness(run_dir, test)))
    return results


def _print_estimates(plan, train, test, out):
    """Measure each model of ``plan`` on this machine and print the time it would take."""
    out(f"estimates ({ASSUMPTIONS}):")
    total = 0.0
    for model, config in plan.configs.items():
        cpu = measure(config, train, test).seconds_per_epoch
        left = plan.epochs_left(model)
        total += cpu * left
        out(f"== {model}: {MODELS[model][2]}; {left} of {config.epochs} epochs left")
        out(_estimate_line(model, config, left, cpu, plan.run_dir(model)))
    out(f"estimated time for what is left: ~{_hours(total)} on this machine "
        f"({host()}, {os.cpu_count()} CPUs)")


def _gpu_reference(model, config):
    """The only GPU figure we have: the blog's own timing (2017 GPU, tf.scan, the tutorial's
    size: ``RunConfig``'s default ``num_units``)."""
    if config.num_units != config_default("num_units"):
        return "no GPU reference at this size"
    if model not in _BLOG_TIMING:
        return "the blog gives no timing for this network"
    seconds = blog_seconds_per_epoch(blog_results()[_BLOG_TIMING[model]])
    return f"{seconds:.0f} s/epoch on the blog's own 2017 GPU"


def _hours(seconds):
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _measured(run_dir):
    """Median wall seconds per epoch of ``run_dir``'s epochs after the first, or ``None``."""
    if not os.path.isfile(os.path.join(run_dir, "history.json")):
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


def _shown(value):
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else f"{value}"


def _setting_default(name):
    """Where setting ``name`` comes from when its flag is not given: the size's (``SIZED``),
    else each model's preset's (the tutorial's, and where a model differs)."""
    if name in SIZED:
        return "default: the --size's: " + ", ".join(
            f"{size} {_shown(size_settings(size)[name])}" for size in SIZES)
    others = {}  # shown value -> the models that differ from the tutorial's
    for model, (preset, extra, _) in MODELS.items():
        value = _shown(getattr(preset_config(preset, **extra), name))
        if value != _shown(config_default(name)):
            others.setdefault(value, []).append(model)
    return "; ".join([f"default: each model's preset's, {_shown(config_default(name))}"]
                     + [f"{', '.join(ms)}: {v}" for v, ms in others.items()])


def add_setting_args(p, names=SETTING_FLAGS):
    """The flags of the ``RunConfig`` fields ``names``, as the ``train`` flags
    (``tools.commands.add_setting_flags``); ``None`` when not given, so that the size and
    the presets decide."""
    dropping = ", ".join(m for m, (_, extra, _) in MODELS.items() if "cell_dropout" in extra)

    def describe(f):
        which = (f"of the models with cell dropout ({dropping})" if f.name == "cell_keep_rate"
                 else "of every model")
        return f"{f.metadata['help']}; {which} ({_setting_default(f.name)})"
    add_setting_flags(p, names, describe)


def _seed_list(text):
    try:
        seeds = [int(v) for v in text.split(",")]
    except ValueError:
        seeds = []
    if not seeds or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"expected distinct comma-separated ints, e.g. "
                                         f"55,56,57; got {text!r}")
    return seeds


def _size_help():
    full, reduced = size_settings("full"), size_settings("reduced")
    return (f"full (the tutorial's settings: {full['num_units']} units, {full['epochs']} "
            f"epochs), reduced (default: {reduced['num_units']} units, {reduced['epochs']} "
            "epochs; --estimate said ~7 min for the five models on an idle 2-core AMD EPYC on "
            "2026-12-06), tiny (tests); --estimate measures yours")


def register(sub):
    p = sub.add_parser("reproduce", help="train the blog's networks and compare with its figures",
                       description="Train the blog's networks with fixed seeds, log them to "
                       "TensorBoard and tabulate them beside the blog's figures.")
    p.add_argument("--size", choices=tuple(SIZES), default="reduced", help=_size_help())
    add_setting_args(p)
    p.add_argument("--models", default=",".join(DEFAULT_MODELS),
                   help=f"comma-separated, among {','.join(MODELS)} (default: "
                   f"{','.join(DEFAULT_MODELS)}, the blog's)")
    p.add_argument("--logdir", default="logs", help="where runs go (default: logs)")
    p.add_argument("--name", help="folder of this reproduction (default: "
                   "reproduce-<size>-<data>); the same command continues it")
    p.add_argument("--seeds", type=_seed_list,
                   help=f"comma-separated model seeds, e.g. 55,56,57: one reproduction per seed "
                   f"in <name>/seed<N>/ and a table of mean and spread (default: "
                   f"{config_default('seed')})")
    p.add_argument("--resume", action="store_true",
                   help="insist on continuing an existing --name (the same command continues "
                        "by itself: finished models are reused, an interrupted one resumes)")
    p.add_argument("--estimate", action="store_true",
                   help="print the time estimate of each model and stop")
    p.add_argument("--max-utterances", type=positive_int, help="use only the first N")
    p.add_argument("--max-frames", type=positive_int, help="cut utterances to N frames")
    p.add_argument("--report", help="write the Markdown table here too")
    p.add_argument("--plot", help="plot the curves over the blog's to this .png, .svg or .pdf "
                   "(matplotlib)")
    p.add_argument("--force", action="store_true",
                   help="replace existing --report/--plot files")
    add_data_args(p)
    p.set_defaults(func=run)


def run(args):
    models = tuple(m for m in args.models.split(",") if m)
    for path in (args.report, args.plot):
        if path and os.path.exists(path) and not args.force:
            raise UsageError(f"{path!r} exists; pass --force to replace it")
    if args.plot and os.path.splitext(args.plot)[1].lower() not in PLOT_FORMATS:
        raise UsageError(f"--plot must end in {', '.join(PLOT_FORMATS)}; got {args.plot!r}")
    data = cut_data(describe_data(args), args.max_utterances, args.max_frames)
    X, Y = data.load()
    name = args.name or default_name(args.size, data)
    settings = {key: getattr(args, key) for key in SETTING_FLAGS}
    # one reproduction, or one per seed in <name>/seed<N>/ with the table over the seeds
    summaries = []
    for seed in args.seeds or [None]:
        if seed is not None:
            print(f"==== seed {seed}")
        summaries.append(reproduce(X, Y, args.logdir, seed_name(name, seed), args.size,
                                   models, data, args.resume, estimate_only=args.estimate,
                                   seed=seed, **settings))
    if not args.estimate:
        _write_report(args, name, summaries)
    return 0


def _write_report(args, name, summaries):
    """Print the tables of ``summaries``, write them and the plot, say where they are."""
    tables = [results_table(s) for s in summaries]
    if args.seeds:
        tables = [seeds_table(summaries)] + [
            f"Seed {s['settings']['seed']}:\n\n{t}" for s, t in zip(summaries, tables)]
    table = "\n\n".join(tables)
    print(table)
    root = os.path.join(args.logdir, name)
    # one seed alone (e.g. one process per seed) writes in its own folder, so that parallel
    # processes do not overwrite each other's tables
    alone = args.seeds[0] if args.seeds and len(args.seeds) == 1 else None
    reports = [os.path.join(args.logdir, seed_name(name, alone), "results.md")]
    reports += [args.report] if args.report else []
    write_tables(reports, table)
    if args.plot:
        plot_curves(summaries[0], args.plot)
        print(f"wrote {args.plot}" + (f" (seed {args.seeds[0]})" if args.seeds else ""))
    print(f"tables in {', '.join(reports)}; view the runs with: tensorboard --logdir {root}")
