"""``tf1-birnn bench``: training and evaluation speed and peak memory of the tutorial's network.

Faithful path vs fast path vs the tutorial's unfused gates vs TensorFlow's, Keras 3's and
PyTorch's GRUs, per training step; with ``--epochs N``, whole blog epochs instead
(``bench_epoch.py``).

Every variant and batch size runs in its own child process (``python -m
tf1_birnn.tools.bench_child``; PyTorch via ``bench_peers.py`` so that it never loads TensorFlow), so each peak
RSS is that child's own. In each child: build the birnn (39 -> ReLU x2 -> BiGRU 'sum' ->
ReLU x2 -> 24, ``num_units`` wide), one warm-up step, then ``repeats`` timed steps; the
fastest counts; with ``--rounds R`` all rows are measured R times in turn and each row's best
round counts. A large float32 matmul (in the parent) measures this machine's peak GFLOP/s,
and each variant's training FLOPs (3x the forward matmul FLOPs) are shown as a share of it.

Variants: ``faithful`` (``RNN(fast=False)``, the tutorial's ``tf.scan``), ``unfused`` (the
tutorial's LV1 style: one matmul per gate, to test its claim that fusing the gates saves
time), ``fast`` (``RNN(fast=True)``, see ``tf1_birnn.core.fast``), ``faithful-lstm`` and
``fast-lstm`` (the same with LSTM cells in both directions), ``fast-<loops>`` and
``fast-lstm-<loops>`` with ``<loops>`` one of ``sequential``, ``concurrent``, ``shared`` (the
fast path built with the network setting ``loops`` so, instead of 'auto'; only when asked
for), ``tf`` (``tf.compat.v1.nn.bidirectional_dynamic_rnn`` + ``GRUCell``; needs
``tf_keras``), ``keras`` and ``keras-xla`` (Keras 3 ``Bidirectional(GRU)``, compiled as a
``tf.function`` or with ``jit_compile=True``) and ``torch`` (``torch.nn.GRU(bidirectional=True)``); a missing peer is
skipped with a note.
"""
import json
import os
import platform
import subprocess
import sys
from datetime import date
from importlib.util import find_spec

from .bench_floor import describe_floors, epoch_floor, measure_floors, train_floor_fps
from .estimate import host
from .bench_child import PEAK_N, TRAIN_KEEP, measure_matmul_peak
from .bench_epoch import EPOCH_VARIANTS, LOOP_VARIANTS, print_epochs, print_loops
from .bench_peers import D_INPUT, D_LABEL
from ..data.synthetic import reference_statistics
from ..training.config import RunConfig

__all__ = ["register", "run", "training_flops_per_frame"]

DEFAULT_VARIANTS = ("faithful", "unfused", "fast", "faithful-lstm", "fast-lstm", "tf", "keras",
                    "keras-xla", "torch")
VARIANTS = DEFAULT_VARIANTS + LOOP_VARIANTS
PEER_MODULES = {"tf": "tf_keras", "keras": "keras", "keras-xla": "keras",
                "torch": "torch"}  # what each peer needs importable
FULL = dict(num_units=RunConfig().num_units, steps=400, batch_sizes="1,8,16", repeats=2, rounds=1,
            variants=",".join(DEFAULT_VARIANTS))
QUICK = dict(num_units=8, steps=10, batch_sizes="2", repeats=1, rounds=1,
             variants="faithful,fast")
EPOCH_DEFAULT = "fast,fast-lstm,keras"  # rows of --epochs


def _n_gates(variant):
    return 4 if "lstm" in variant else 3


def training_flops_per_frame(num_units, n_gates=3):
    """Matmul FLOPs of one training frame of the birnn: 3x the forward (2*K*N per frame)."""
    U = num_units
    forward = 2 * (D_INPUT * U + U * U)  # two ReLU layers in
    forward += 2 * 2 * (U * n_gates * U + U * n_gates * U)  # two directions: x W_x and h W_h
    forward += 2 * (U * U + U * U + U * D_LABEL)  # two ReLU layers out, linear output
    return 3 * forward, forward


def blog_frames():
    """Frames of the blog's epoch: (training = last 83 utterances, evaluation = all 103)."""
    corpus = reference_statistics()
    lengths = corpus["utterance_lengths_in_file_order"]
    n_test = corpus["n_test"]
    return sum(lengths[n_test:]), sum(lengths)


# ---------------------------------------------------------------- in the parent

def _spawn(config, timeout):
    """Run one measurement in a fresh child process; return its result dict, or a note."""
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(filter(None, [package_root,
                                                        os.environ.get("PYTHONPATH")])))
    if config["variant"] == "torch":
        cmd = [sys.executable, os.path.join(os.path.dirname(__file__), "bench_peers.py")]
    else:
        cmd = [sys.executable, "-m", "tf1_birnn.tools.bench_child"]
        env.pop("TF_USE_LEGACY_KERAS", None)  # Keras 3 for the keras rows
        if config["variant"] == "tf":  # must be set before TensorFlow is imported
            env["TF_USE_LEGACY_KERAS"] = "1"
    try:
        proc = subprocess.run(cmd + [json.dumps(config)], capture_output=True, text=True,
                              env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout} s"
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    if proc.returncode == -9:  # SIGKILL: the child cannot have sent it to itself by accident
        return (f"killed (SIGKILL, exit -9; on Linux usually the out-of-memory killer: "
                f"`dmesg` says): {tail}")
    return f"failed (exit {proc.returncode}): {tail}"


def _parse(args):
    """Fill defaults (full or ``--quick``) and check every option; return the settings."""
    defaults = QUICK if args.quick else FULL
    opts = {k: defaults[k] if getattr(args, k) is None else getattr(args, k) for k in defaults}
    for name in ("num_units", "steps", "repeats", "rounds"):
        if opts[name] <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive integer; "
                             f"got {opts[name]}")
    try:
        batches = [int(b) for b in str(opts["batch_sizes"]).split(",")]
    except ValueError:
        batches = []
    if not batches or min(batches) <= 0:
        raise ValueError(f"--batch-sizes must be comma-separated positive integers like "
                         f"'1,8,16'; got {opts['batch_sizes']!r}")
    if args.epochs is not None and args.epochs <= 0:
        raise ValueError(f"--epochs must be a positive integer; got {args.epochs}")
    if args.epochs and opts["rounds"] > 1:
        raise ValueError("--rounds is for the per-step rows; with --epochs, time more epochs "
                         "(--epochs N) instead")
    allowed = EPOCH_VARIANTS if args.epochs else VARIANTS
    if args.epochs and args.variants is None:
        opts["variants"] = EPOCH_DEFAULT
    variants = [v.strip() for v in opts["variants"].split(",")]
    for v in variants:
        if v not in allowed:
            raise ValueError(f"--variants must be among {', '.join(allowed)}"
                             f"{' with --epochs' if args.epochs else ''}; got {v!r}")
    opts.update(batch_sizes=batches, variants=variants)
    return opts


def _fmt(x, spec=",.0f"):
    return "—" if x is None else format(x, spec)


def run(args):
    opts = _parse(args)
    import tensorflow as tf
    U, T = opts["num_units"], opts["steps"]
    train_flops, eval_flops = training_flops_per_frame(U)
    print(f"# tf1-birnn bench ({date.today().isoformat()})\n")
    print(f"- machine: {host()}, {os.cpu_count()} CPUs; Python {platform.python_version()},"
          f" TensorFlow {tf.__version__}")
    rounds = opts["rounds"]
    how = ("whole blog epochs" if args.epochs else
           f"{T} frames per utterance; best of {opts['repeats']} timed steps after a warm-up"
           + (f"; all rows {rounds} times in turn, each row's best round counts"
              if rounds > 1 else ""))
    print(f"- network: birnn 39 -> {U} x2 -> BiGRU {U} (sum) -> {U} x2 -> 24 (BiLSTM in the "
          f"-lstm rows); {how}; one child process per row")
    print(f"- matmul FLOPs per frame: training {train_flops / 1e6:.3g} M, "
          f"evaluation {eval_flops / 1e6:.3g} M")
    print(f"- load average at the start: {_load()} (ratios hold only within one run; a "
          f"busy machine lowers the matmul peak below and moves rows measured minutes apart)")
    gflops = measure_matmul_peak(opts["repeats"])
    print(f"- matmul peak: {gflops:.1f} GFLOP/s (float32 tf.matmul {PEAK_N}x{PEAK_N}, best "
          f"of {max(5, opts['repeats'])})")
    floors = measure_floors(U, [_n_gates(v) for v in opts["variants"]], T if not args.epochs
                            else FULL["steps"], max(3, opts["repeats"]))
    for line in describe_floors(floors, U):
        print(line)
    if args.epochs:
        return _run_epochs(args, opts, gflops, floors)
    notes, rows, rounds_seen = [], {}, {}
    for rnd in range(rounds):  # a burst of load then hits one round, not a whole row
        for variant in opts["variants"]:
            need = PEER_MODULES.get(variant)
            if need and find_spec(need) is None:
                if rnd == 0:
                    notes.append(f"{variant}: skipped, `{need}` is not installed "
                                 f"(pip install -e .[bench-{variant}])")
                continue
            for batch in opts["batch_sizes"]:
                row = _measure_row(variant, batch, opts, args.timeout, notes)
                if row is None:
                    continue
                rounds_seen.setdefault((variant, batch), []).append(row["train"])
                best = rows.get((variant, batch))
                if best is None or row["train"] > best["train"]:
                    rows[variant, batch] = row
                print(f"  measured {variant} at batch {batch}"
                      + (f" (round {rnd + 1} of {rounds})" if rounds > 1 else ""),
                      file=sys.stderr, flush=True)
    _refuse_empty(rows, notes)
    print()
    _print_table(rows, opts, gflops, floors)
    _print_summary(rows, opts, train_flops, gflops, floors)
    print_loops({f"{v} (batch {b})": r for (v, b), r in rows.items()})
    if rounds > 1:
        print("- train frames/s of each round: " + "; ".join(
            f"{v} (batch {b}) " + ", ".join(f"{x:,.0f}" for x in xs)
            for (v, b), xs in rounds_seen.items()))
    for note in notes:
        print(f"- note: {note}")
    print(f"- load average at the end: {_load()}")
    return 0


def _refuse_empty(rows, notes):
    """A bench that measured nothing fails (exit status 2), saying why in one line."""
    if not rows:
        raise ValueError(f"no row could be measured: {'; '.join(notes) or 'no variant ran'}")


def _measure_row(variant, batch, opts, timeout, notes):
    """One row in its own child process: frames/s and peak RSS, or None with a note."""
    config = dict(variant=variant, num_units=opts["num_units"], steps=opts["steps"],
                  batch=batch, repeats=opts["repeats"], keep=TRAIN_KEEP)
    result = _spawn(config, timeout)
    if isinstance(result, str):
        notes.append(f"{variant} at batch {batch}: {result}")
        return None
    frames = batch * opts["steps"]
    return dict(train=frames / result["train_s"], eval=frames / result["eval_s"],
                rss=result["rss_mib"], loops=result.get("loops"))


def _run_epochs(args, opts, gflops, floors):
    """``--epochs N``: each variant's N whole blog epochs in its own child process."""
    notes, rows = [], {}
    for variant in opts["variants"]:
        need = PEER_MODULES.get(variant)
        if need and find_spec(need) is None:
            notes.append(f"{variant}: skipped, `{need}` is not installed")
            continue
        config = dict(variant=variant, num_units=opts["num_units"], epochs=args.epochs)
        result = _spawn(config, args.timeout)
        if isinstance(result, str):
            notes.append(f"{variant}: {result}")
            continue
        rows[variant] = result
        print(f"  measured {variant}", file=sys.stderr, flush=True)
    _refuse_empty(rows, notes)
    print()
    train_frames, eval_frames = blog_frames()
    print_epochs(rows, args.epochs, train_frames, eval_frames, gflops,
                 lambda v: training_flops_per_frame(opts["num_units"], _n_gates(v))[0], notes,
                 lambda v: epoch_floor(floors, _n_gates(v), train_frames, eval_frames))
    print(f"- load average at the end: {_load()}")
    return 0


def _print_table(rows, opts, gflops, floors):
    print("| variant | batch | train frames/s | eval frames/s | train x faithful | train x tf "
          "| train x torch | train % of matmul peak | train x floor | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for batch in opts["batch_sizes"]:
        for variant in opts["variants"]:
            row = rows.get((variant, batch))
            if row is None:
                continue
            ratios = [row["train"] / rows[ref, batch]["train"] if (ref, batch) in rows else None
                      for ref in ("faithful", "tf", "torch")]
            flops = training_flops_per_frame(opts["num_units"], _n_gates(variant))[0]
            share = 100 * row["train"] * flops / (gflops * 1e9) if gflops else None
            # the batch-1 floor: how far this row is from the bare recurrence (1 = at it)
            floor = (train_floor_fps(floors, _n_gates(variant)) / row["train"]
                     if batch == 1 else None)
            print(f"| {variant} | {batch} | {row['train']:,.0f} | {row['eval']:,.0f} | "
                  + " | ".join(_fmt(r, ".2f") for r in ratios)
                  + f" | {_fmt(share, '.0f')} | {_fmt(floor, '.1f')} | {row['rss']:,.0f} |")
    print("(train x floor: the batch-1 recurrence floor's frames/s over the row's; 1.0 would "
          "be the bare h @ W_h loops alone)")
    print()


def _print_summary(rows, opts, train_flops, gflops, floors):
    train_frames, eval_frames = blog_frames()
    for variant in opts["variants"]:
        row = rows.get((variant, 1))
        if row:
            epoch = train_frames / row["train"] + eval_frames / row["eval"]
            floor = epoch_floor(floors, _n_gates(variant), train_frames, eval_frames, 1)
            print(f"- {variant}: blog epoch at batch 1 ({train_frames} training + {eval_frames} "
                  f"evaluation frames) ~ {epoch:.0f} s; the recurrence floor's {floor:.0f} s "
                  f"(evaluating at batch 1 too): {epoch / floor:.1f}x")
    if gflops:
        bound = gflops * 1e9 / train_flops
        print(f"- matmul-peak bound for training: {bound:,.0f} frames/s")


def _load():
    """The 1, 5 and 15-minute load averages as text (the 2 cores are often shared)."""
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def register(subparsers):
    """Add the ``bench`` subcommand."""
    p = subparsers.add_parser(
        "bench", help="speed and memory: faithful vs fast path vs unfused gates vs TF/PyTorch",
        description=" ".join(__doc__.split("\n\n")[0].split()).replace("``", ""))
    p.add_argument("--num-units", type=int, help="RNN and dense width (default 1024)")
    p.add_argument("--steps", "--frames", dest="steps", type=int,
                   help="frames per utterance T (default 400)")
    p.add_argument("--batch-sizes", help="comma-separated utterances per step (default 1,8,16)")
    p.add_argument("--repeats", type=int, help="timed steps after the warm-up (default 2)")
    p.add_argument("--rounds", type=int,
                   help="measure all rows this many times in turn and keep each row's best "
                        "round, by training frames/s (default 1): on a shared machine a "
                        "burst of load then slows one round of a row, not the whole row")
    p.add_argument("--variants", help=f"comma-separated, among {','.join(VARIANTS)} (default "
                                      f"{','.join(DEFAULT_VARIANTS)})")
    p.add_argument("--quick", action="store_true",
                   help="tiny smoke run: 8 units, 10 frames, batch 2, faithful and fast")
    p.add_argument("--epochs", type=int,
                   help="time N whole blog epochs per variant instead (83 training steps at "
                        f"batch 1 + evaluation of all 103 utterances; variants among "
                        f"{','.join(EPOCH_VARIANTS)}, default {EPOCH_DEFAULT})")
    p.add_argument("--timeout", type=int, default=1800, help="seconds per child process")
    p.set_defaults(func=run)

