"""``tf1-birnn train | evaluate | predict | convert``: the main job and its companions."""
import argparse
import os

import numpy as np

from ..core.checks import UsageError
from ..data import loader
from ..data.helpers import cut_corpus, data_prer, train_test_split
from ..training.loop import evaluate, predict_utterance, TrainingDiverged
from ..training.run import PRESETS  # TensorFlow-heavy until presets move out of run.py

# TensorFlow-heavy modules (training.run, training.plot) are imported in the run functions,
# so that `tf1-birnn --help` and argument errors never load TensorFlow

__all__ = ["register", "load_data", "describe_data", "cut_data", "add_data_args",
           "positive_int", "positive_float"]


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text!r}")
    return value


def add_data_args(p):
    g = p.add_argument_group("data (default: the embedded synthetic corpus)")
    g.add_argument("--data-x", metavar="X.npy", help="the tutorial's original X.npy (MFCC)")
    g.add_argument("--data-y", metavar="Y.npy", help="the tutorial's original Y.npy (labels)")
    g.add_argument("--data", metavar="FILE.npz", help="a corpus saved by `tf1-birnn convert`")
    g.add_argument("--corpus-seed", type=int, default=None,
                   help="seed of the synthetic corpus (default 0)")


def _data_given(args):
    """True when the command line names data (else a run's saved data source is used)."""
    return bool(args.data or args.data_x or args.data_y or args.corpus_seed is not None)


def describe_data(args):
    """The ``config.data`` string of the data that ``args`` name."""
    if args.data and (args.data_x or args.data_y):
        raise UsageError("give either --data FILE.npz or --data-x/--data-y, not both")
    if bool(args.data_x) != bool(args.data_y):
        raise UsageError("--data-x and --data-y go together")
    if args.data:
        return f"npz:{os.path.abspath(args.data)}"
    if args.data_x:
        return f"original:{os.path.abspath(args.data_x)}|{os.path.abspath(args.data_y)}"
    return f"synthetic:{args.corpus_seed or 0}"


def cut_data(data, max_utterances=None, max_frames=None):
    """``data`` with a cut of the corpus recorded in it (see ``load_data``)."""
    if max_utterances is None and max_frames is None:
        return data
    return f"{data}#cut={max_utterances or ''},{max_frames or ''}"


def load_data(data):
    """Load ``(X, Y)`` for a ``config.data`` string: "synthetic:<seed>", "npz:<path>" or
    "original:<X.npy>|<Y.npy>", optionally followed by "#cut=<utterances>,<frames>"."""
    data, _, cut = data.partition("#cut=")
    if cut:
        n, _, f = cut.partition(",")
        X, Y = load_data(data)
        return cut_corpus(X, Y, int(n) if n else None, int(f) if f else None)
    kind, _, where = data.partition(":")
    if kind == "synthetic":
        from ..data.synthetic import synthetic_corpus
        return synthetic_corpus(seed=int(where))
    if kind == "npz":
        return loader.load_npz(where)
    if kind == "original":
        x_path, y_path = where.split("|")
        return loader.load_original(x_path, y_path)
    raise UsageError(f"unknown data source {data!r}")


def register(sub):
    p = sub.add_parser("train", help="train a network (default: the quick preset on the "
                       "embedded corpus)", description="Train the tutorial's network and log "
                       "the run to TensorBoard.")
    p.add_argument("--preset", choices=tuple(PRESETS),
                   help="quick (default, ~3 min on 2 cores), blog (the tutorial's LV2), "
                        "lv1 (LSTM network), ff (feedforward), stacked (two BiRNN layers)")
    p.add_argument("--epochs", type=positive_int)
    p.add_argument("--num-units", type=positive_int)
    p.add_argument("--seed", type=int)
    p.add_argument("--learning-rate", type=positive_float)
    p.add_argument("--cell", choices=("gru", "lstm"), help="forward cell")
    p.add_argument("--cell-b", choices=("gru", "lstm", "none"), help="backward cell")
    p.add_argument("--merge", choices=("sum", "concat", "mul", "ave"))
    p.add_argument("--batch-size", type=positive_int,
                   help="utterances per Adam step (1 = the tutorial)")
    p.add_argument("--fast", action="store_true", default=None, help="use the fast RNN path")
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
    add_data_args(p)
    p.set_defaults(func=run_predict)

    p = sub.add_parser("convert", help="check the original X.npy/Y.npy and save a safe .npz")
    p.add_argument("x_path", metavar="X.npy")
    p.add_argument("y_path", metavar="Y.npy")
    p.add_argument("out_path", metavar="OUT.npz")
    p.set_defaults(func=run_convert)


def run_train(args):
    from ..training.run import check_new_run, open_run, preset_config, train_run
    if args.resume:
        if not args.run_name:
            raise UsageError("--resume needs --run-name of the run to continue")
        changed = [name for name in ("preset", "num_units", "seed", "learning_rate", "cell",
                                     "cell_b", "merge", "batch_size", "fast")
                   if getattr(args, name) is not None]
        if changed:
            raise UsageError("--resume continues a run with its saved settings; only --epochs "
                             f"may change (got --{changed[0].replace('_', '-')})")
        saved, _ = open_run(os.path.join(args.logdir, args.run_name))
        if _data_given(args) and describe_data(args) != saved.data:
            raise UsageError(f"--resume continues a run on its saved data ({saved.data}); "
                             f"got {describe_data(args)}")
        X, Y = load_data(saved.data)
        config = None
    else:
        data = describe_data(args)
        check_new_run(args.logdir, args.run_name)  # before the data is loaded
        settings = dict(num_units=args.num_units, seed=args.seed,
                        learning_rate=args.learning_rate, cell=args.cell, cell_b=args.cell_b,
                        merge=args.merge, batch_size=args.batch_size, fast=args.fast)
        preset_config(args.preset or "quick", **settings)  # check the settings first
        X, Y = load_data(data)
        config = preset_config(args.preset or "quick", data=data, D_input=int(X[0].shape[1]),
                               D_label=int(Y[0].shape[1]), **settings)
    try:
        run_dir = train_run(config, X, Y, args.logdir, args.run_name, args.resume,
                            show_progress=not args.no_progress, epochs=args.epochs)
    except TrainingDiverged as err:
        print(f"tf1-birnn train: stopped: {err}; the last good checkpoint is kept")
        return 1
    print(f"run saved in {run_dir}")
    print(f"view it with: tensorboard --logdir {args.logdir}")
    return 0


def _restore(args, check_data=None):
    """A run's last checkpoint and its data: ``(checkpoint, X, Y, sess, net)``.

    ``check_data(X)`` runs before the network is built, to refuse bad arguments early."""
    from ..training.run import build_session, last_checkpoint, open_run
    config, _ = open_run(args.run_dir)
    checkpoint = last_checkpoint(args.run_dir)
    X, Y = load_data(describe_data(args) if _data_given(args) else config.data)
    if check_data is not None:
        check_data(X)
    _, sess, net, _ = build_session(config, checkpoint)
    return checkpoint, X, Y, sess, net


def run_evaluate(args):
    checkpoint, X, Y, sess, net = _restore(args)
    train, test = train_test_split(data_prer(X, Y))
    with sess:
        tl, dl = evaluate(sess, net, train), evaluate(sess, net, test)
    print(f"{checkpoint}: train: {tl:.4f} test: {dl:.4f} "
          f"({len(train)} train / {len(test)} test utterances)")
    return 0


def run_predict(args):
    from ..training.plot import trajectory_png
    out = args.out or os.path.join(args.run_dir, "predictions")
    stem = os.path.join(out, f"utterance{args.utterance}")
    for path in (f"{stem}.npy", f"{stem}.png"):
        if os.path.exists(path):
            raise FileExistsError(f"{path!r} exists; choose another --out")

    def check_utterance(X):
        if not 0 <= args.utterance < len(X):
            raise UsageError(f"--utterance must be in 0..{len(X) - 1}; got {args.utterance}")

    checkpoint, X, Y, sess, net = _restore(args, check_utterance)
    with sess:
        x, y = data_prer([X[args.utterance]], [Y[args.utterance]])[0]
        pred = predict_utterance(sess, net, x)  # [n_frames, D_label], standardized units
    os.makedirs(out, exist_ok=True)
    np.save(f"{stem}.npy", pred)
    with open(f"{stem}.png", "wb") as f:
        f.write(trajectory_png(y, pred))
    mse = float(np.mean((pred - y) ** 2))
    print(f"utterance {args.utterance}: MSE {mse:.4f} (standardized); wrote {stem}.npy "
          f"(predicted [n_frames, {pred.shape[1]}]) and {stem}.png (black real, red predicted)")
    return 0


def run_convert(args):
    loader.convert(args.x_path, args.y_path, args.out_path)
    print(f"wrote {args.out_path}")
    return 0
