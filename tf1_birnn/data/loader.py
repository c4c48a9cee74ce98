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
"""

import os
import pickle
import zipfile

import numpy as np
from numpy.lib import format as npy_format

__all__ = ["DataError", "UnsafePickleError", "load_original", "read_object_npy",
           "check_corpus", "save_npz", "load_npz", "convert"]


class DataError(ValueError):
    """A data file is missing, malformed, or does not hold a valid corpus."""


class UnsafePickleError(DataError):
    """A pickle asked for a global that is not needed to rebuild NumPy arrays."""


# The only callables an object-array .npy needs: array/dtype constructors and scalars.
# Names from NumPy 1.x (``numpy.core``, also what Python 2 wrote) and 2.x (``numpy._core``).
_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy._core.multiarray._reconstruct
_SCALAR = np.float32(0).__reduce__()[0]  # numpy._core.multiarray.scalar
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.multiarray", "scalar"): _SCALAR,
    ("numpy._core.multiarray", "scalar"): _SCALAR,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
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


def read_object_npy(path):
    """Read a 1-D object-array ``.npy`` of arrays (the tutorial's format) without trusting it.

    Returns:
        list of float32 arrays, e.g. `[n_frames, 39]` each for ``X.npy``.
    """
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    with open(path, "rb") as f:
        shape, dtype = _read_header(f, path)
        if dtype != np.dtype(object) or len(shape) != 1:
            raise DataError(f"{path}: expected a 1-D object array of utterances; got dtype "
                            f"{dtype} and shape {shape}")
        try:
            array = _NumpyOnlyUnpickler(f, path).load()
        except DataError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
                IndexError, KeyError) as e:  # a truncated or corrupt pickle; nothing unsafe ran
            raise DataError(f"{path}: cannot unpickle the utterances ({type(e).__name__}: {e})")
    if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
        raise DataError(f"{path}: the payload is not an array of shape {shape}")
    utterances = []
    for i, item in enumerate(array):
        if not isinstance(item, np.ndarray) or item.dtype.kind not in "fiu":
            raise DataError(f"{path}: utterance {i} is not a numeric array ({type(item).__name__})")
        utterances.append(np.ascontiguousarray(item, dtype=np.float32))
    return utterances


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


def load_original(x_path, y_path, d_input=39, d_label=24):
    """Load the tutorial's ``X.npy`` and ``Y.npy`` (Python 2 object-array pickles), safely.

    Returns:
        ``(X, Y)``: lists of float32 arrays `[n_frames, d_input]` and `[n_frames, d_label]`.
    """
    X, Y = read_object_npy(x_path), read_object_npy(y_path)
    check_corpus(X, Y, f"{x_path} + {y_path}", d_input, d_label)
    return X, Y


def save_npz(path, X, Y, overwrite=False, d_input=39, d_label=24):
    """Write a corpus as ``.npz`` without pickles.

    The file holds ``X`` `[total_frames, d_input]`, ``Y`` `[total_frames, d_label]` (float32,
    all utterances concatenated in order) and ``lengths`` `[n_utterances]` (int64).
    An existing ``path`` is refused unless ``overwrite=True``.
    """
    check_corpus(X, Y, str(path), d_input, d_label)
    arrays = {
        "X": np.concatenate([np.asarray(x, np.float32) for x in X]),  # [total_frames, d_input]
        "Y": np.concatenate([np.asarray(y, np.float32) for y in Y]),  # [total_frames, d_label]
        "lengths": np.array([len(x) for x in X], dtype=np.int64),  # [n_utterances]
    }
    try:
        f = open(path, "wb" if overwrite else "xb")
    except FileExistsError:
        raise DataError(f"{path}: file exists; pass overwrite=True to replace it") from None
    with f, zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, array in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                npy_format.write_array(member, array, allow_pickle=False)


def load_npz(path, d_input=39, d_label=24):
    """Read a corpus written by :func:`save_npz` (``allow_pickle=False``).

    Returns:
        ``(X, Y)``: lists of float32 arrays `[n_frames, d_input]` and `[n_frames, d_label]`.
    """
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = {"X", "Y", "lengths"} - set(npz.files)
            if missing:
                raise DataError(f"{path}: missing arrays {sorted(missing)}; found {npz.files}")
            frames_x, frames_y, lengths = npz["X"], npz["Y"], npz["lengths"]
    except DataError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: not a readable .npz corpus ({e})") from None
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu" or np.any(lengths < 0):
        raise DataError(f"{path}: 'lengths' must be 1-D non-negative integers; got {lengths!r}")
    if len(lengths) == 0:
        raise DataError(f"{path}: the corpus has no utterances")
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


def convert(x_path, y_path, out_path, overwrite=False):
    """Convert the tutorial's ``X.npy`` + ``Y.npy`` into one safe ``.npz`` at ``out_path``.

    Returns:
        the number of utterances written.
    """
    X, Y = load_original(x_path, y_path)
    save_npz(out_path, X, Y, overwrite=overwrite)
    return len(X)
