"""Read the tutorial's pickled object-array ``.npy`` files without running what they hold.

The tutorial loads its data with ``np.load('X.npy')``: each file is a 1-D object array of
float32 arrays `[n_frames, dim]`, pickled by Python 2 (so NumPy needs ``encoding='latin1'``).
Unpickling an untrusted file can run arbitrary code, so :func:`read_object_npy` never calls
``np.load(..., allow_pickle=True)``. It parses the ``.npy`` header with
``numpy.lib.format`` and unpickles the payload with :class:`_NumpyOnlyUnpickler`, which only
resolves the globals needed to rebuild arrays and dtypes and raises
:class:`UnsafePickleError` for anything else, before any of it runs.

An array in the pickle must be justified by the bytes of the file (a 166-byte pickle cannot
declare a gigabyte array), and only real float or integer utterances are accepted; what the
float32 copies will take, every use of a shared array counted, is added up and refused
beyond the limit of :mod:`tf1_birnn.data.limits` before it is allocated.
"""
import math
import os
import pickle

import numpy as np

from . import limits
from .corpus import DataError, check_file, read_npy_header

__all__ = ["UnsafePickleError", "read_object_npy"]


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
            raise UnsafePickleError(f"array dtype must be a numpy dtype; "
                                    f"got {type(dtype).__name__}")
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


def read_object_npy(path, limit=None, used=0):
    """Read a 1-D object-array ``.npy`` of arrays (the tutorial's format) without trusting it.

    ``limit`` (default :func:`~tf1_birnn.data.limits.max_corpus_bytes`) caps the bytes the
    file and its float32 utterances take, on top of ``used`` bytes already loaded.

    Returns:
        list of float32 arrays, e.g. `[n_frames, 39]` each for ``X.npy``.
    """
    check_file(path)
    limit = limits.max_corpus_bytes() if limit is None else limit
    what = "the corpus" if used else "its utterances"
    stored = used + os.path.getsize(path)  # the unpickled arrays take at most the file's bytes
    if stored > limit:
        raise DataError(limits.too_large(path, stored, limit, what))
    with open(path, "rb") as f:
        shape, dtype = read_npy_header(f, path)
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
