"""The one memory limit of a corpus: what the loaders may allocate, counted before they do.

A corpus file can declare more than it stores: an int8 ``.npz`` member becomes four times
its size as float32, and a pickle can name one array 20,000 times, each use converted on
its own. So the loaders add up what they *will* allocate (every float32 copy, each use of
a shared array counted again, the stored members, and a fixed cost per utterance for its
array objects) over the whole corpus, and refuse the file before allocating when the sum
passes :func:`max_corpus_bytes`: 1 GiB, or ``$TF1_BIRNN_MAX_CORPUS_BYTES`` (the
tutorial's own corpus needs about 20 MB).
"""
import os

__all__ = ["ENV", "DEFAULT_MAX_CORPUS_BYTES", "PER_UTTERANCE_BYTES", "max_corpus_bytes",
           "too_large"]

ENV = "TF1_BIRNN_MAX_CORPUS_BYTES"
DEFAULT_MAX_CORPUS_BYTES = 2 ** 30
# the Python objects of one utterance: X and Y, each a view and a float32 array (~100 B each)
PER_UTTERANCE_BYTES = 512


def max_corpus_bytes():
    """The limit in bytes: ``$TF1_BIRNN_MAX_CORPUS_BYTES`` if set (e.g. ``4000000000``), else
    :data:`DEFAULT_MAX_CORPUS_BYTES`."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return DEFAULT_MAX_CORPUS_BYTES
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"{ENV} must be a positive number of bytes; got {text!r}")
    return int(text)


def too_large(source, nbytes, limit, what="it"):
    """The one-line refusal of ``source`` (a file), whose ``what`` needs ``nbytes``."""
    return (f"{source}: {what} would take {_size(nbytes)} in memory; the limit of a corpus "
            f"is {_size(limit)} (set {ENV} to raise it)")


def _size(n):
    return f"{n / 2 ** 30:.2f} GiB" if n >= 2 ** 30 else f"{n / 2 ** 20:.1f} MiB" \
        if n >= 2 ** 20 else f"{n:,} bytes"
