"""Tools: the ``tf1-birnn`` command line and its subcommands (train, evaluate, predict,
compare, convert, bench, reproduce). The top layer: imports ``core``, ``data`` and
``training``."""
