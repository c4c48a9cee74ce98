"""The ``tf1-birnn`` command line: one subcommand per tool.

Each tool module has ``register(subparsers)``, which adds its parser and sets
``func=run(args)``. A user error (``UsageError``, ``ValueError`` from argument checks, a data
error) prints one line and exits with status 2, never a traceback; set ``TF1_BIRNN_DEBUG=1``
to see the traceback anyway.
"""
import argparse
import importlib
import os
import sys

__all__ = ["main", "UsageError"]

# subcommand modules, in the order ``--help`` lists them
TOOLS = ("train", "evaluate", "predict", "compare", "convert", "bench", "reproduce")
MODULES = {"train": "commands", "evaluate": "commands", "predict": "commands",
           "compare": "compare", "convert": "commands", "bench": "bench",
           "reproduce": "reproduce"}


class UsageError(ValueError):
    """A bad argument or file given on the command line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = _Parser(prog="tf1-birnn", description="The bidirectional LSTM/GRU tutorial on "
                     "TensorFlow 2's tf.compat.v1: train, evaluate, predict, compare with the "
                     "blog, benchmark, reproduce.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    registered = set()
    for tool in TOOLS:
        module = MODULES[tool]
        if module in registered:
            continue
        try:
            mod = importlib.import_module(f"tf1_birnn.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"tf1_birnn.{module}":
                raise
            continue  # that tool is not built (yet)
        mod.register(sub)
        registered.add(module)
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
