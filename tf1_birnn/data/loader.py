"""The tutorial's original ``X.npy``/``Y.npy`` and the safe ``.npz`` corpus format.

:func:`load_original` reads the tutorial's pair with the safe unpickler of
:mod:`tf1_birnn.data.unpickle` (no ``allow_pickle=True``, see there) and checks it with
:func:`~tf1_birnn.data.corpus.check_corpus`. :func:`convert` turns the pair into one
``.npz`` (frames concatenated plus the utterance lengths, no pickles), which
:func:`load_npz` reads with ``allow_pickle=False``. Every data problem raises
:class:`DataError` naming the file and the utterance index.

Limits come before allocation: a ``.npz`` member's header must agree with the size the zip
declares for it, and only real float or integer arrays are accepted (no complex, strings,
dates, objects or raw bytes members). What a corpus will take in memory (its float32
copies, the stored members, its utterances) is added up before it is allocated and refused
beyond the one limit of :mod:`tf1_birnn.data.limits` (a deflate bomb is refused unread).

The public names of :mod:`~tf1_birnn.data.corpus` and :mod:`~tf1_birnn.data.unpickle`
(:class:`DataError`, :class:`UnsafePickleError`, :func:`read_object_npy`,
:func:`check_corpus`, :func:`corpus_fingerprint`) are importable from here too.
"""

import math
import os
import zipfile

import numpy as np
from numpy.lib import format as npy_format

from . import limits
from .corpus import DataError, check_corpus, check_file, corpus_fingerprint, read_npy_header
from .unpickle import UnsafePickleError, read_object_npy

__all__ = ["DataError", "UnsafePickleError", "load_original", "read_object_npy",
           "check_corpus", "save_npz", "load_npz", "convert", "corpus_fingerprint",
           "MAX_CORPUS_BYTES"]

MAX_CORPUS_BYTES = limits.DEFAULT_MAX_CORPUS_BYTES  # see tf1_birnn.data.limits


def _nbytes(arrays):
    return sum(a.nbytes + limits.PER_UTTERANCE_BYTES // 2 for a in arrays)


def load_original(x_path, y_path, d_input=39, d_label=24, limit=None):
    """Load the tutorial's ``X.npy`` and ``Y.npy`` (Python 2 object-array pickles), safely;
    together they may take ``limit`` bytes (default: ``limits.max_corpus_bytes()``).

    Returns:
        ``(X, Y)``: lists of float32 arrays `[n_frames, d_input]` and `[n_frames, d_label]`.
    """
    limit = limits.max_corpus_bytes() if limit is None else limit
    X = read_object_npy(x_path, limit)
    Y = read_object_npy(y_path, limit, used=_nbytes(X))
    check_corpus(X, Y, f"{x_path} + {y_path}", d_input, d_label)
    return X, Y


def _refuse_existing(path):
    if os.path.exists(path):
        raise DataError(f"{path}: file exists; pass overwrite=True (`tf1-birnn convert "
                        "--force`) to replace it")


def save_npz(path, X, Y, overwrite=False, d_input=39, d_label=24):
    """Write a corpus as ``.npz`` without pickles.

    The file holds ``X`` `[total_frames, d_input]`, ``Y`` `[total_frames, d_label]` (float32,
    all utterances concatenated in order) and ``lengths`` `[n_utterances]` (int64).
    An existing ``path`` is refused unless ``overwrite=True``. The file is written beside
    ``path`` under a temporary name and renamed once complete, so a failure (disk full...)
    leaves no partial ``.npz``.
    """
    path = os.fspath(path)
    check_corpus(X, Y, path, d_input, d_label)
    if os.path.exists(path) and not os.path.isfile(path):  # a folder, a device, a pipe...
        check_file(path)
    if not overwrite:
        _refuse_existing(path)
    # members written utterance by utterance: no second copy of the corpus in memory
    members = {"X": (X, d_input),  # [total_frames, d_input]
               "Y": (Y, d_label),  # [total_frames, d_label]
               "lengths": ([np.array([len(x) for x in X], dtype=np.int64)], None)}  # [n_utt]
    tmp = os.path.join(os.path.dirname(path) or ".",
                       f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "xb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
                for name, (parts, dim) in members.items():
                    with zf.open(name + ".npy", "w", force_zip64=True) as member:
                        _write_concatenated(member, parts, dim)
            f.flush()
            os.fsync(f.fileno())
        if not overwrite:
            _refuse_existing(path)  # made meanwhile?
        try:
            os.replace(tmp, path)
        except OSError as e:  # name the file asked for, not the temporary one
            raise OSError(e.errno, e.strerror, path) from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _write_concatenated(f, parts, dim):
    """Write the ``.npy`` of ``np.concatenate(parts)`` (float32 `[rows, dim]`, or the int64
    vector ``parts[0]`` when ``dim`` is None) without building it."""
    dtype = parts[0].dtype if dim is None else np.dtype(np.float32)
    rows = sum(len(p) for p in parts)
    npy_format.write_array_header_1_0(f, {"descr": npy_format.dtype_to_descr(dtype),
                                          "fortran_order": False,
                                          "shape": (rows,) if dim is None else (rows, dim)})
    for p in parts:
        f.write(np.ascontiguousarray(p, dtype).tobytes())


def _npz_members(path, max_bytes, d_input, d_label):
    """Check a ``.npz``'s members from the zip's directory and the ``.npy`` headers alone,
    before anything is inflated or allocated, with what loading them will take in memory;
    return the member names."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        hint = (" (a .npy file; --data takes a .npz corpus written by `tf1-birnn convert`)"
                if str(path).endswith(".npy") else "")
        raise DataError(f"{path}: not a .npz corpus: {e}{hint}") from None
    with zf:
        infos = {info.filename: info for info in zf.infolist()}
        need = sum(info.file_size for info in infos.values())  # inflated, as np.load reads
        if need > max_bytes:
            raise DataError(limits.too_large(path, need, max_bytes, "its members, inflated,"))
        for name, dim in (("X", d_input), ("Y", d_label), ("lengths", None)):
            info = infos.get(f"{name}.npy")
            if info is None:
                if name in infos:
                    raise DataError(f"{path}: member '{name}' is raw bytes, not a .npy array")
                continue
            try:
                with zf.open(info) as f:
                    shape, dtype = read_npy_header(f, f"{path}: member '{name}'")
                    header = f.tell()
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise DataError(f"{path}: member '{name}' cannot be read ({e})") from None
            kinds, expected = (("iu", "integers") if name == "lengths"
                               else ("fiu", "real float or integer numbers"))
            if dtype.kind not in kinds or dtype.hasobject:
                raise DataError(f"{path}: member '{name}' has dtype {dtype}; expected {expected}")
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes != info.file_size - header:
                raise DataError(f"{path}: member '{name}' declares shape {shape} "
                                f"({nbytes} bytes) but holds {info.file_size - header} bytes")
            if dim is None:  # lengths: the objects of every utterance
                need += math.prod(shape) * limits.PER_UTTERANCE_BYTES
            elif len(shape) != 2 or shape[1] != dim:
                raise DataError(f"{path}: '{name}' has shape {shape}; expected "
                                f"[total_frames, {dim}]")
            elif dtype != np.dtype(np.float32):  # a float32 copy of every frame
                need += math.prod(shape) * 4
        if need > max_bytes:
            raise DataError(limits.too_large(path, need, max_bytes, "its corpus"))
        return [n[:-4] if n.endswith(".npy") else n for n in infos]


def load_npz(path, d_input=39, d_label=24, max_bytes=None):
    """Read a corpus written by :func:`save_npz` (``allow_pickle=False``).

    Sizes and dtypes are checked before anything is read (see the module's docstring);
    ``max_bytes`` (default: ``limits.max_corpus_bytes()``) caps what loading may allocate.

    Returns:
        ``(X, Y)``: lists of float32 arrays `[n_frames, d_input]` and `[n_frames, d_label]`.
    """
    check_file(path)
    max_bytes = limits.max_corpus_bytes() if max_bytes is None else max_bytes
    files = _npz_members(path, max_bytes, d_input, d_label)
    missing = {"X", "Y", "lengths"} - set(files)
    if missing:
        raise DataError(f"{path}: missing arrays {sorted(missing)}; found {files}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            frames_x, frames_y, lengths = npz["X"], npz["Y"], npz["lengths"]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: not a readable .npz corpus ({e})") from None
    if lengths.ndim != 1 or len(lengths) == 0:
        raise DataError(f"{path}: 'lengths' must be a 1-D vector with one entry per utterance; "
                        f"got shape {lengths.shape}")
    if np.any(lengths <= 0) or np.any(lengths > len(frames_x)):  # before any sum or split
        i = int(np.argmax((lengths <= 0) | (lengths > len(frames_x))))
        raise DataError(f"{path}: utterance {i}: 'lengths' gives it {lengths[i]} frames; "
                        f"expected 1..{len(frames_x)}")
    total = int(lengths.sum())
    for name, frames in (("X", frames_x), ("Y", frames_y)):
        if frames.ndim != 2 or len(frames) != total:
            raise DataError(f"{path}: '{name}' has shape {frames.shape}; the lengths add up "
                            f"to {total} frames")
    bounds = np.cumsum(lengths)[:-1]
    X = [np.asarray(a, np.float32) for a in np.split(frames_x, bounds)]
    Y = [np.asarray(a, np.float32) for a in np.split(frames_y, bounds)]
    check_corpus(X, Y, str(path), d_input, d_label)
    return X, Y


def _same_file(a, b):
    """True when paths ``a`` and ``b`` name one file (links and ``..`` resolved)."""
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def convert(x_path, y_path, out_path, overwrite=False):
    """Convert the tutorial's ``X.npy`` + ``Y.npy`` into one safe ``.npz`` at ``out_path``
    (an existing one is refused before anything is read, unless ``overwrite=True``).

    Returns:
        the number of utterances written.
    """
    for source in (x_path, y_path):
        if _same_file(source, out_path):
            raise DataError(f"{out_path}: is also an input of convert ({source}); it never "
                            "writes over its own input: choose another output")
    if not overwrite:
        _refuse_existing(os.fspath(out_path))
    X, Y = load_original(x_path, y_path)
    save_npz(out_path, X, Y, overwrite=overwrite)
    return len(X)

