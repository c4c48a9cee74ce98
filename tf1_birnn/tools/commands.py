"""``tf1-birnn train | evaluate | predict | convert``: the main job and its companions."""
import argparse
import io
import os
import sys

import numpy as np

from ..core.checks import positive_float, positive_int
from ..data import loader
from ..data.helpers import check_split, data_prer, train_test_split
from ..data.source import DataSource
from ..training.config import (DEFAULT_PRESET, PRESETS, check_resume, flag_fields, flag_name,
                               preset_config)
from ..training.loop import evaluate, predict_utterance, TrainingDiverged
from .usage import UsageError

# TensorFlow-heavy modules (training.run, training.plot) are imported in the run functions,
# so that `tf1-birnn --help` and argument errors never load TensorFlow

__all__ = ["register", "load_data", "describe_data", "cut_data", "add_data_args",
           "add_config_args", "add_setting_flags", "positive_int", "positive_float"]


def add_data_args(p):
    g = p.add_argument_group("data (default: the embedded synthetic corpus)")
    g.add_argument("--data", metavar="original|synthetic|FILE.npz",
                   help="original: the tutorial's X.npy/Y.npy downloaded by `tf1-birnn "
                        "fetch-data`; synthetic: the embedded corpus; or a corpus saved by "
                        "`tf1-birnn convert`")
    g.add_argument("--data-x", metavar="X.npy", help="the tutorial's X.npy (MFCC), by path")
    g.add_argument("--data-y", metavar="Y.npy", help="the tutorial's Y.npy (labels), by path")
    g.add_argument("--corpus-seed", type=int, default=None,
                   help="seed of the synthetic corpus (default 0)")
    g.add_argument("--validation", action="store_true", default=None,
                   help="leave the corpus's test utterances out: the run trains on the rest "
                        "of the training split and evaluates on its first 20%%, a validation "
                        "set for choosing settings (e.g. --keep-rate) without the test set")


def _data_given(args):
    """True when the command line names data (else a run's saved data source is used)."""
    return bool(args.data or args.data_x or args.data_y or args.corpus_seed is not None
                or args.validation)


def describe_data(args):
    """The ``DataSource`` that the command line ``args`` name."""
    if args.data and (args.data_x or args.data_y):
        raise UsageError("give either --data or --data-x/--data-y, not both")
    if bool(args.data_x) != bool(args.data_y):
        raise UsageError("--data-x and --data-y go together")
    if args.data_x:
        if args.corpus_seed is not None:
            raise UsageError("--corpus-seed applies to the synthetic corpus only")
        source = DataSource.original_files(args.data_x, args.data_y)
    else:
        source = DataSource.parse(args.data, args.corpus_seed)
    return source.train_split_only() if args.validation else source


def cut_data(data, max_utterances=None, max_frames=None):
    """``data`` (a ``DataSource``) keeping the first utterances and frames (see ``load_data``)."""
    return DataSource.from_json(data).with_cut(max_utterances, max_frames)


def load_data(data):
    """Load ``(X, Y)`` for a ``DataSource``, its ``to_json()`` string or an older run's
    ``config.data`` string ("synthetic:<seed>", "npz:<path>", "original:<X>|<Y>", ...)."""
    return DataSource.from_json(data).load()


def _shown_default(name):
    """``name``'s default under the default preset, and where another preset differs."""
    values = {p: getattr(preset_config(p), name) for p in PRESETS}
    def shown(v):
        return "none" if v is None else f"{v:g}" if isinstance(v, float) else f"{v}"
    if name == "preset":
        return f"default: {DEFAULT_PRESET}"
    others = {}
    for p, v in values.items():
        if v != values[DEFAULT_PRESET]:
            others.setdefault(shown(v), []).append(p)
    return "; ".join([f"default: {shown(values[DEFAULT_PRESET])}"]
                     + [f"{', '.join(ps)}: {v}" for v, ps in others.items()])


def add_setting_flags(g, names, describe):
    """One flag per ``RunConfig`` field in ``names`` (``num_units`` -> ``--num-units``), typed
    by the field's metadata (``parse``, ``choices``; a bool is ``--x``/``--no-x``) and
    explained by ``describe(field)``; ``None`` when not given, so that presets, sizes and
    ``--resume`` see what was given."""
    by_name = {f.name: f for f in flag_fields()}
    for name in names:
        f = by_name[name]
        if f.type is bool:
            g.add_argument(flag_name(name), action=argparse.BooleanOptionalAction,
                           default=None, help=describe(f))
        else:
            g.add_argument(flag_name(name), type=f.metadata["parse"] or str,
                           help=describe(f), choices=f.metadata["choices"], default=None,
                           metavar=None if f.metadata["choices"] else "N")


def add_config_args(p):
    """The ``train`` flags: one per ``RunConfig`` field marked ``flag``, ``--preset`` first,
    each with its help and shown defaults."""
    g = p.add_argument_group("settings (tf1_birnn.training.config.RunConfig)")
    names = sorted((f.name for f in flag_fields()), key=lambda name: name != "preset")
    add_setting_flags(g, names, lambda f: f"{f.metadata['help']} ({_shown_default(f.name)})")


def _given_settings(args):
    """The ``RunConfig`` settings named on the command line (name -> value)."""
    return {f.name: getattr(args, f.name) for f in flag_fields()
            if getattr(args, f.name) is not None}


def register(sub):
    p = sub.add_parser("train", help="train a network (default: the quick preset on the "
                       "embedded corpus)", description="Train the tutorial's network and log "
                       "the run to TensorBoard.")
    add_config_args(p)
    p.add_argument("--logdir", default="logs", help="where runs go (default: logs)")
    p.add_argument("--run-name", help="folder name of the run (default: <preset>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run --run-name")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_data_args(p)
    p.set_defaults(func=run_train)

    p = sub.add_parser("evaluate", help="losses of a run's last checkpoint")
    p.add_argument("run_dir", help="the run folder, e.g. logs/quick-...")
    add_data_args(p)
    p.set_defaults(func=run_evaluate)

    p = sub.add_parser("predict", help="predict trajectories with a run's last checkpoint")
    p.add_argument("run_dir", help="the run folder, e.g. logs/quick-...")
    p.add_argument("--utterance", type=int, default=0,
                   help="utterance index in the corpus (default 0, the first test utterance)")
    p.add_argument("--out", help="output folder (default: <run_dir>/predictions)")
    p.add_argument("--channels", type=_channel_list, default=(0, 1, 2, 3),
                   help="comma-separated label channels to draw in the PNG (default 0,1,2,3: "
                        "the x and y of sensors 1 and 2 in the original's 24); the .npy holds all")
    add_data_args(p)
    p.set_defaults(func=run_predict)

    p = sub.add_parser("convert", help="check the original X.npy/Y.npy and save a safe .npz")
    p.add_argument("x_path", metavar="X.npy")
    p.add_argument("y_path", metavar="Y.npy")
    p.add_argument("out_path", metavar="OUT.npz")
    p.add_argument("--force", action="store_true", help="replace OUT.npz if it exists")
    p.set_defaults(func=run_convert)


def _channel_list(text):
    try:
        channels = tuple(int(c) for c in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated channel numbers such as "
                                         f"0,1,2,3; got {text!r}") from None
    if not channels or min(channels) < 0:
        raise argparse.ArgumentTypeError(f"channels are numbers from 0; got {text!r}")
    return channels


def run_train(args):
    """``tf1-birnn train``: every argument, the run's name and the data checked first, then
    TensorFlow imported and the run started (or resumed)."""
    if args.resume:
        folder, X, Y = _resumed_run(args)
    else:
        folder, X, Y, config = _new_run(args)
    from ..training.run import resume_run, start_run  # TensorFlow, once all is checked
    try:
        if args.resume:
            run_dir = resume_run(folder, X, Y, args.epochs, show_progress=not args.no_progress)
        else:
            run_dir = start_run(config, X, Y, folder, show_progress=not args.no_progress)
    except TrainingDiverged as err:  # it says whether a checkpoint was kept
        print(f"tf1-birnn train: stopped: {err}", file=sys.stderr)
        return 1
    print(f"run saved in {run_dir}")
    print(f"view it with: tensorboard --logdir {run_dir}")
    print("  then open http://localhost:6006/?smoothing=0#timeseries (each epoch's own loss; "
          "TensorBoard smooths curves by default)")
    return 0


def _new_run(args):
    """``(folder, X, Y, config)`` of a new run: its name and settings checked before the
    data is loaded."""
    from ..training.folder import RunFolder
    settings = _given_settings(args)
    preset = settings.pop("preset", DEFAULT_PRESET)
    folder = RunFolder.new(args.logdir, args.run_name, preset)
    data = describe_data(args)
    config = preset_config(preset, **dict(settings, data=data.to_json()))  # checked, once
    X, Y = data.load()  # (checked by its loader: 2-D, the same frames in X and Y, >= 1 each)
    config.D_input, config.D_label = int(X[0].shape[1]), int(Y[0].shape[1])  # the data's sizes
    return folder, X, Y, config


def _resumed_run(args):
    """``(folder, X, Y)`` of the run ``--resume`` continues, on its saved data; the flags
    given must agree with its saved settings."""
    from ..training.folder import RunFolder, check_run_name
    if not args.run_name:
        raise UsageError("--resume needs --run-name of the run to continue")
    check_run_name(args.logdir, args.run_name)
    folder = RunFolder.open(os.path.join(args.logdir, args.run_name))
    check_resume(folder.config, _given_settings(args))
    saved_data = DataSource.from_json(folder.config.data)
    if _data_given(args) and describe_data(args) != saved_data:
        raise UsageError(f"--resume continues a run on its saved data "
                         f"({saved_data.describe()}); got {describe_data(args).describe()}")
    X, Y = saved_data.load()
    return folder, X, Y


def _restore(args, check_data=None):
    """A run's last checkpoint and its data: ``(checkpoint, X, Y, sess, net)``.

    ``check_data(X, Y)`` runs before TensorFlow is imported, to refuse bad arguments at once."""
    from ..training.checkpoints import last_checkpoint
    from ..training.folder import RunFolder
    folder = RunFolder.open(args.run_dir)
    last_checkpoint(args.run_dir)  # a run without any checkpoint: say so before loading data
    X, Y = load_data(describe_data(args) if _data_given(args) else folder.config.data)
    if check_data is not None:
        check_data(X, Y)
    from ..training.session import restore_newest  # TensorFlow, once all is checked
    # the newest checkpoint that restores; a damaged one is reported and skipped
    checkpoint, (_, sess, net, _), _ = restore_newest(folder, out=_warn)
    return checkpoint.path, X, Y, sess, net


def _warn(text):
    print(f"tf1-birnn: warning: {text}", file=sys.stderr)


def run_evaluate(args):
    checkpoint, X, Y, sess, net = _restore(args, lambda X, Y: check_split(len(X)))
    train, test = train_test_split(data_prer(X, Y))
    with sess:
        tl, dl = evaluate(sess, net, train), evaluate(sess, net, test)
    print(f"{checkpoint}: train: {tl:.4f} test: {dl:.4f} "
          f"({len(train)} train / {len(test)} test utterances)")
    return 0


def run_predict(args):
    from ..training.checkpoints import write_atomic
    from ..training.plot import channel_names, trajectory_png
    out = args.out or os.path.join(args.run_dir, "predictions")
    stem = os.path.join(out, f"utterance{args.utterance}")
    for path in (f"{stem}.npy", f"{stem}.png"):
        if os.path.exists(path):
            raise FileExistsError(f"{path!r} exists; choose another --out")

    def check_arguments(X, Y):
        if not 0 <= args.utterance < len(X):
            raise UsageError(f"--utterance must be in 0..{len(X) - 1}; got {args.utterance}")
        D_label = Y[0].shape[1]
        if max(args.channels) >= D_label:
            raise UsageError(f"--channels must be in 0..{D_label - 1} (the labels have "
                             f"{D_label}); got {','.join(map(str, args.channels))}")

    checkpoint, X, Y, sess, net = _restore(args, check_arguments)
    with sess:
        x, y = data_prer([X[args.utterance]], [Y[args.utterance]])[0]
        pred = predict_utterance(sess, net, x)  # [n_frames, D_label], standardized units
    mse = float(np.mean((pred - y) ** 2))
    names = channel_names(y.shape[1])
    run = os.path.basename(os.path.normpath(args.run_dir))
    title = (f"{run}, {os.path.basename(checkpoint)}: utterance {args.utterance}, MSE {mse:.4f} "
             f"over all {y.shape[1]} channels, {len(args.channels)} of them shown")
    # both drawn before the first byte is written; each file through a .tmp renamed into
    # place, so an error or a kill leaves no half-made result under its real name
    npy = io.BytesIO()
    np.save(npy, pred)
    png = trajectory_png(y, pred, channels=args.channels, title=title,
                         units="standardized units (each channel: mean 0, s.d. 1)")
    files = {f"{stem}.npy": npy.getvalue(), f"{stem}.png": png}
    os.makedirs(out, exist_ok=True)
    for path, data in files.items():
        write_atomic(path, data)
    shown = ", ".join(f"{c} ({names[c]})" for c in args.channels)
    print(f"utterance {args.utterance}: MSE {mse:.4f} (standardized); wrote {stem}.npy "
          f"(predicted [n_frames, {pred.shape[1]}]) and {stem}.png (channels {shown} of "
          f"{pred.shape[1]}; black real, red predicted)")
    return 0


def run_convert(args):
    loader.convert(args.x_path, args.y_path, args.out_path, overwrite=args.force)
    print(f"wrote {args.out_path}")
    return 0
