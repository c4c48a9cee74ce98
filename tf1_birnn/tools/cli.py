"""The ``tf1-birnn`` command line: one subcommand per tool.

Each tool module has ``register(subparsers)``, which adds its parser and sets
``func=run(args)``; ``build_parser`` calls them in the order ``--help`` lists them. A user
error (``UsageError``, ``ValueError`` from argument checks, a data error) prints one line and
exits with status 2, never a traceback; set ``TF1_BIRNN_DEBUG=1`` to see the traceback anyway.
An ``OSError`` prints the path and the cause (disk full, permission denied, not a directory,
name too long); Ctrl-C prints one line, exit status 130,
and SIGTERM is handled the same way (exit status 143).

The tool modules import TensorFlow only in their run functions, so ``--help`` and argument
errors answer at once. TensorFlow's C++ start-up log is kept quiet (``tf1_birnn.quiet``);
``--verbose`` or ``TF1_BIRNN_VERBOSE=1`` shows it.
"""
import argparse
import os
import signal
import sys
import threading

from .. import quiet
from ..training.lock import RunLocked
from ..training.oserrors import describe_os_error
from . import bench, commands, compare, fetch_data, reproduce
from .usage import UsageError

__all__ = ["main", "UsageError"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = _Parser(prog="tf1-birnn", description="The bidirectional LSTM/GRU tutorial on "
                     "TensorFlow 2's tf.compat.v1: train, evaluate, predict, compare with the "
                     "blog, benchmark, reproduce.")
    verbose = f"show TensorFlow's start-up log (or set {quiet.ENV}=1)"
    parser.add_argument("--verbose", action="store_true", help=verbose)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in (commands, fetch_data, compare, bench, reproduce):
        module.register(sub)
    for p in sub.choices.values():  # also after the command: `tf1-birnn train --verbose`
        p.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose)
    return parser


def _tf_out_of_memory(err):
    """True for TensorFlow's ``ResourceExhaustedError`` (an allocation that failed at run time)."""
    return any(c.__name__ == "ResourceExhaustedError" and c.__module__.startswith("tensorflow")
               for c in type(err).__mro__)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, Docker, Slurm), handled like Ctrl-C: a run keeps its saved epochs."""


def _on_sigterm(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough: let the clean-up finish
    raise _Terminated()


def main(argv=None):
    """Run the command line ``argv``; return the exit status. SIGTERM raises
    ``KeyboardInterrupt`` meanwhile (the handler before is put back after)."""
    if threading.current_thread() is not threading.main_thread():
        return _main(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv):
    command = "?"
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = args.command
        if args.verbose:
            quiet.uninstall()
        return args.func(args) or 0
    except KeyboardInterrupt as err:
        terminated = isinstance(err, _Terminated)
        print(f"tf1-birnn {command}: {'terminated' if terminated else 'interrupted'}",
              file=sys.stderr)
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)
    except (UsageError, ValueError, TypeError, OSError, MemoryError, RunLocked) as err:
        if os.environ.get("TF1_BIRNN_DEBUG"):
            raise
        text = describe_os_error(err) if isinstance(err, OSError) else str(err)
        if isinstance(err, MemoryError):  # the advice fits the command: only train sizes a network
            hint = "try a smaller --num-units" if command == "train" else "not enough memory"
            text = f"out of memory: {text or hint}"
        print(f"tf1-birnn {command}: error: {text}", file=sys.stderr)
        return 2
    except Exception as err:  # TensorFlow's own out-of-memory error, by name (no TF import here)
        if not _tf_out_of_memory(err) or os.environ.get("TF1_BIRNN_DEBUG"):
            raise
        # (file-system causes, such as a full disk, arrive as OSError: oserrors.os_errors)
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"tf1-birnn {command}: error: out of memory: TensorFlow could not allocate a "
              f"tensor ({first[:200]}); a run keeps the epochs it has saved (--resume "
              f"continues it); try a smaller --num-units or --batch-size", file=sys.stderr)
        return 2
