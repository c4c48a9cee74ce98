"""Argument checks shared by the package: each raises ``ValueError`` naming the argument,
the value received and what was expected, before any graph is built."""
import numbers

__all__ = ["UsageError", "check_size", "check_choice"]


class UsageError(ValueError):
    """A bad argument or file given on the command line (printed as one line by the CLI)."""


def check_size(value, name, minimum=1):
    """Raise ``ValueError`` unless ``value`` is an integer >= ``minimum`` (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {kind}; got {value!r}")


def check_choice(value, name, choices):
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}; "
                         f"got {value!r}")
