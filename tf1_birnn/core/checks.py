"""Argument checks shared by the package: each raises ``ValueError`` naming the argument,
the value received and what was expected, before any graph is built."""
import argparse
import math
import numbers

__all__ = ["check_size", "check_choice", "positive_int", "positive_float",
           "keep_rate_float"]


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


def positive_int(text):
    """A command-line flag's text as an integer > 0 (``argparse.ArgumentTypeError`` if not)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def positive_float(text):
    """A command-line flag's text as a finite number > 0 (``argparse.ArgumentTypeError`` if not)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text!r}") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text!r}")
    return value


def keep_rate_float(text):
    """A command-line flag's text as a keep rate in (0, 1] (``argparse.ArgumentTypeError`` if not)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a keep rate in (0, 1]; got {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a keep rate in (0, 1]; got {text!r}")
    return value
