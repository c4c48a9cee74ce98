"""``UsageError``: a bad argument or file given on the command line.

A command-line concept, so it lives beside the commands; ``tools.cli`` prints it as one line
and exits with status 2 (as any ``ValueError`` from an argument check)."""

__all__ = ["UsageError"]


class UsageError(ValueError):
    """A bad argument or file given on the command line (printed as one line by the CLI)."""
