"""The ``tf1-birnn`` command line: one subcommand per tool.

Each tool module has ``register(subparsers)``, which adds its parser and sets
``func=run(args)``; ``build_parser`` calls them in the order ``--help`` lists them. A user
error (``UsageError``, ``ValueError`` from argument checks, a data error) prints one line and exits with status 2, never a traceback; set ``TF1_BIRNN_DEBUG=1``
to see the traceback anyway.

The tool modules import TensorFlow only in their run functions, so ``--help`` and argument
errors answer at once. TensorFlow's C++ start-up log is kept quiet (``tf1_birnn.core.quiet``);
``--verbose`` or ``TF1_BIRNN_VERBOSE=1`` shows it.
"""
import argparse
import os
import sys

from ..core import quiet
from ..core.checks import UsageError
from . import bench, commands, compare, reproduce

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
    for module in (commands, compare, bench, reproduce):
        module.register(sub)
    for p in sub.choices.values():  # also after the command: `tf1-birnn train --verbose`
        p.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        quiet.uninstall()
    try:
        return args.func(args) or 0
    except (UsageError, ValueError, TypeError, FileNotFoundError, FileExistsError) as err:
        if os.environ.get("TF1_BIRNN_DEBUG"):
            raise
        print(f"tf1-birnn {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tf1-birnn {args.command}: interrupted", file=sys.stderr)
        return 130
