"""What a corpus is, whatever file it came from: :class:`DataError`, the checks of a data
file and of a ``.npy`` header, :func:`check_corpus` and :func:`corpus_fingerprint`.

The tutorial's corpus (``X.npy``/``Y.npy``) is a list of utterances, each a float32 array
`[n_frames, 39]` (MFCC + deltas) with its `[n_frames, 24]` articulatory labels. Every data
problem raises :class:`DataError` naming the file and the utterance index. Used by the safe
unpickler (:mod:`tf1_birnn.data.unpickle`) and the ``.npz`` format
(:mod:`tf1_birnn.data.loader`).
"""
import hashlib
import os

import numpy as np
from numpy.lib import format as npy_format

__all__ = ["DataError", "check_file", "read_npy_header", "check_corpus", "corpus_fingerprint"]


class DataError(ValueError):
    """A data file is missing, malformed, or does not hold a valid corpus."""


def read_npy_header(f, path):
    """Shape and dtype from a ``.npy`` header (format 1.0 or 2.0); nothing is unpickled."""
    try:
        version = npy_format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = npy_format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = npy_format.read_array_header_2_0(f)
        else:
            raise DataError(f"{path}: unsupported .npy format version {version}")
    except DataError:
        raise
    except ValueError as e:
        raise DataError(f"{path}: not a .npy file ({e})") from None
    return shape, dtype


def check_file(path):
    """Raise :class:`DataError` unless ``path`` is an existing regular file."""
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, not a file")
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise DataError(f"{path}: not a regular file (a pipe, socket or device)")


def check_corpus(X, Y, source, d_input=39, d_label=24):
    """Validate a corpus; raise :class:`DataError` naming ``source`` and the utterance index.

    Checks: as many utterances in `X` as in `Y`, at least one; each `X[i]` 2-D
    `[n_frames, d_input]` and `Y[i]` `[n_frames, d_label]` with the same non-zero `n_frames`;
    every value finite.
    """
    if len(X) != len(Y):
        raise DataError(f"{source}: X has {len(X)} utterances but Y has {len(Y)}")
    if len(X) == 0:
        raise DataError(f"{source}: the corpus has no utterances")
    for i, (x, y) in enumerate(zip(X, Y)):
        for name, a, dim, arg in (("X", x, d_input, "d_input"), ("Y", y, d_label, "d_label")):
            a = np.asarray(a)
            if a.ndim != 2:
                raise DataError(f"{source}: utterance {i}: {name} must be 2-D [n_frames, {dim}]; "
                                f"got shape {a.shape}")
            if a.shape[0] == 0:
                raise DataError(f"{source}: utterance {i}: {name} is empty (0 frames)")
            if a.shape[1] != dim:
                raise DataError(f"{source}: utterance {i}: {name} has {a.shape[1]} columns; "
                                f"expected {arg}={dim}")
            if not np.all(np.isfinite(a)):
                raise DataError(f"{source}: utterance {i}: {name} contains NaN or inf")
        if len(x) != len(y):
            raise DataError(f"{source}: utterance {i}: X has {len(x)} frames but Y has {len(y)}")


def corpus_fingerprint(X, Y):
    """A short hash of a loaded corpus (every utterance's shape and float32 values), e.g.
    ``"sha256:1f2e...", 16 hex digits``; equal corpora give equal fingerprints."""
    digest = hashlib.sha256()
    for arrays in (X, Y):
        digest.update(f"{len(arrays)};".encode())
        for a in arrays:
            a = np.ascontiguousarray(a, dtype=np.float32)
            digest.update(f"{a.shape};".encode())
            digest.update(a.tobytes())
    return f"sha256:{digest.hexdigest()[:16]}"
