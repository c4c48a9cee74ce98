"""Read the tutorial's original ``X.npy``/``Y.npy`` safely, and a safe ``.npz`` corpus format.

The tutorial loads its data with ``np.load('X.npy')``: each file is a 1-D object array of
float32 arrays `[n_frames, dim]`, pickled by Python 2 (so NumPy needs ``encoding='latin1'``).
Unpickling an untrusted file can run arbitrary code, so :func:`load_original` never calls
``np.load(..., allow_pickle=True)``. It parses the ``.npy`` header with
``numpy.lib.format`` and unpickles the payload with :class:`_NumpyOnlyUnpickler`, which only
resolves the globals needed to rebuild arrays and dtypes and raises
:class:`UnsafePickleError` for anything else, before any of it runs.

:func:`convert` turns the original pair into one ``.npz`` (frames concatenated plus the
utterance lengths, no pickles), which :func:`load_npz` reads with ``allow_pickle=False``.
Every data problem raises :class:`DataError` naming the file and the utterance index.

Limits come before allocation: an array in the pickle must be justified by the bytes of the
file (a 166-byte pickle cannot declare a gigabyte array), a ``.npz`` member's header must
agree with the size the zip declares for it, and only real float or integer arrays are
accepted (no complex, strings, dates, objects or raw bytes members). What a corpus will take
in memory (its float32 copies, every use of a shared array, the stored members, its
utterances) is added up before it is allocated and refused beyond the one limit of
:mod:`tf1_birnn.data.limits` (a deflate bomb is refused unread).
:func:`corpus_fingerprint` hashes a loaded corpus, so a run can tell when its data changed.
"""

import hashlib
import math
import os
import pickle
import zipfile

import numpy as np
from numpy.lib import format as npy_format

from . import limits

__all__ = ["DataError", "UnsafePickleError", "load_original", "read_object_npy",
           "check_corpus", "save_npz", "load_npz", "convert", "corpus_fingerprint",
           "MAX_CORPUS_BYTES"]

MAX_CORPUS_BYTES = limits.DEFAULT_MAX_CORPUS_BYTES  # see tf1_birnn.data.limits


class DataError(ValueError):
    """A data file is missing, malformed, or does not hold a valid corpus."""


class UnsafePickleError(DataError):
    """A pickle asked for a global that is not needed to rebuild NumPy arrays."""


# The only callables an object-array .npy needs: array/dtype constructors and scalars.
# Names from NumPy 1.x (``numpy.core``, also what Python 2 wrote) and 2.x (``numpy._core``).
_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy._core.multiarray._reconstruct
_SCALAR = np.float32(0).__reduce__()[0]  # numpy._core.multiarray.scalar


class _NdarrayToken:
    """What ``numpy.ndarray`` resolves to: ``_reconstruct``'s first argument, not callable
    (``ndarray(shape, dtype)`` would allocate any shape the pickle names)."""

    def __call__(self, *args):
        raise UnsafePickleError(f"refusing to call numpy.ndarray{args!r:.60} from a data file")


_NDARRAY = _NdarrayToken()


class _CheckedArray(np.ndarray):
    """The arrays the unpickler builds: ``__setstate__`` refuses a declared shape that the
    data in the file does not fill, before NumPy allocates it."""

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise UnsafePickleError(f"unexpected array state {type(state).__name__}")
        shape, dtype, _, data = state[-4:]
        if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise UnsafePickleError(f"array shape must be non-negative integers; got {shape!r:.60}")
        if not isinstance(dtype, np.dtype):
            raise UnsafePickleError(f"array dtype must be a numpy dtype; got {type(dtype).__name__}")
        n = math.prod(shape)
        if dtype.hasobject:
            ok = dtype == np.dtype(object) and isinstance(data, list) and len(data) == n
            have = f"{len(data)} items" if isinstance(data, list) else type(data).__name__
        else:
            # bytes, or a Python 2 str that encoding="latin1" made one character per byte
            raw = isinstance(data, (bytes, str))
            ok = raw and len(data) == n * dtype.itemsize
            have = f"{len(data)} bytes" if raw else type(data).__name__
        if not ok:
            raise UnsafePickleError(f"an array declares shape {shape!r:.60} of {dtype} but the "
                                    f"file holds {have} for it")
        super().__setstate__(state)


def _checked_reconstruct(subtype, shape, dtype):
    """``numpy._core.multiarray._reconstruct`` as NumPy's pickles call it: an empty array
    whose ``__setstate__`` then fills it."""
    if subtype is not _NDARRAY or shape != (0,) or dtype not in (b"b", "b"):
        raise UnsafePickleError(f"unexpected _reconstruct{(subtype, shape, dtype)!r:.80}")
    return _RECONSTRUCT(_CheckedArray, (0,), b"b")


def _latin1_encode(text, encoding):
    """``_codecs.encode``, as Python 3 protocol-2 pickles (NumPy <= 1.16) write bytes."""
    if not isinstance(text, str) or encoding != "latin1":
        raise UnsafePickleError(f"refusing _codecs.encode of {type(text).__name__} with "
                                f"{encoding!r:.20}; only latin1 byte strings are allowed")
    return text.encode("latin1")


def _empty_bytes(*args):
    if args:
        raise UnsafePickleError("refusing bytes(...) with arguments in a data file")
    return b""


def _checked_scalar(dtype, *args):
    if not isinstance(dtype, np.dtype) or dtype.hasobject or len(args) != 1 \
            or not isinstance(args[0], bytes) or len(args[0]) != dtype.itemsize:
        raise UnsafePickleError("refusing a NumPy scalar that is not plain numbers")
    return _SCALAR(dtype, args[0])


_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _checked_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _checked_reconstruct,
    ("numpy.core.multiarray", "scalar"): _checked_scalar,
    ("numpy._core.multiarray", "scalar"): _checked_scalar,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,  # bytes in Python 3 protocol-2 pickles
    ("__builtin__", "bytes"): _empty_bytes,  # b"" in the same pickles
    ("builtins", "bytes"): _empty_bytes,
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals in ``_ALLOWED_GLOBALS``."""

    def __init__(self, file, source):
        super().__init__(file, encoding="latin1")  # Python 2 str -> bytes via latin1
        self.source = source

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self.source}: refusing to unpickle global '{module}.{name}'; only NumPy "
                f"arrays and dtypes are allowed in a data file") from None

    def persistent_load(self, pid):
        raise UnsafePickleError(f"{self.source}: refusing persistent id {pid!r} in a data file")


def _read_header(f, path):
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


def _check_file(path):
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, not a file")
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise DataError(f"{path}: not a regular file (a pipe, socket or device)")


def read_object_npy(path, limit=None, used=0):
    """Read a 1-D object-array ``.npy`` of arrays (the tutorial's format) without trusting it.

    ``limit`` (default :func:`~tf1_birnn.data.limits.max_corpus_bytes`) caps the bytes the
    file and its float32 utterances take, on top of ``used`` bytes already loaded.

    Returns:
        list of float32 arrays, e.g. `[n_frames, 39]` each for ``X.npy``.
    """
    _check_file(path)
    limit = limits.max_corpus_bytes() if limit is None else limit
    what = "the corpus" if used else "its utterances"
    stored = used + os.path.getsize(path)  # the unpickled arrays take at most the file's bytes
    if stored > limit:
        raise DataError(limits.too_large(path, stored, limit, what))
    with open(path, "rb") as f:
        shape, dtype = _read_header(f, path)
        if dtype != np.dtype(object) or len(shape) != 1:
            raise DataError(f"{path}: expected a 1-D object array of utterances; got dtype "
                            f"{dtype} and shape {shape}")
        if shape[0] > os.path.getsize(path):  # every utterance takes bytes of the file
            raise DataError(f"{path}: the header declares {shape[0]} utterances in a file of "
                            f"{os.path.getsize(path)} bytes")
        try:
            array = _NumpyOnlyUnpickler(f, path).load()
        except UnsafePickleError as e:
            text = str(e)
            raise UnsafePickleError(text if text.startswith(f"{path}:") else f"{path}: {text}") \
                from None
        except DataError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
                IndexError, KeyError) as e:  # a truncated or corrupt pickle; nothing unsafe ran
            raise DataError(f"{path}: cannot unpickle the utterances ({type(e).__name__}: {e})")
    if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
        raise DataError(f"{path}: the payload is not an array of shape {shape}")
    array = array.view(np.ndarray)
    for i, item in enumerate(array):
        if not isinstance(item, np.ndarray) or item.dtype.kind not in "fiu":
            kind = f"dtype {item.dtype}" if isinstance(item, np.ndarray) else type(item).__name__
            raise DataError(f"{path}: utterance {i} is not a numeric array ({kind})")
    # every use counts, also of an array the pickle shares: each becomes its own float32 copy
    need = stored + sum(4 * item.size + limits.PER_UTTERANCE_BYTES // 2 for item in array)
    if need > limit:
        raise DataError(limits.too_large(path, need, limit, what))
    return [np.ascontiguousarray(item, dtype=np.float32) for item in array]


def _nbytes(arrays):
    return sum(a.nbytes + limits.PER_UTTERANCE_BYTES // 2 for a in arrays)


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
        _check_file(path)
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
                    shape, dtype = _read_header(f, f"{path}: member '{name}'")
                    header = f.tell()
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise DataError(f"{path}: member '{name}' cannot be read ({e})") from None
            kinds = "iu" if name == "lengths" else "fiu"
            if dtype.kind not in kinds or dtype.hasobject:
                raise DataError(f"{path}: member '{name}' has dtype {dtype}; expected "
                                f"{'integers' if name == 'lengths' else 'real float or integer numbers'}")
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
    _check_file(path)
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
