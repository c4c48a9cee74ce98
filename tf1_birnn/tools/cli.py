"""The ``tf1-birnn`` command line: one subcommand per tool.

Each tool module has ``register(subparsers)``, which adds its parser and sets
``func=run(args)``; ``build_parser`` calls them in the order ``--help`` lists them. A user
error (``UsageError``, ``ValueError`` from argument checks, a data error) prints one line and exits with status 2, never a traceback; set ``TF1_BIRNN_DEBUG=1``
to see the traceback anyway.
"""
import argparse
import os
import sys

from ..core.checks import UsageError
from . import bench, commands, compare, fetch_data, reproduce

__all__ = ["main", "UsageError"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = _Parser(prog="tf1-birnn", description="The bidirectional LSTM/GRU tutorial on "
                     "TensorFlow 2's tf.compat.v1: train, evaluate, predict, compare with the "
                     "blog, benchmark, reproduce.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in (commands, fetch_data, compare, bench, reproduce):
        module.register(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
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
