"""Tests of the safe loaders (tf1_birnn.data.loader)."""
import builtins
import os
import pickle
import re

import numpy as np
import pytest
from numpy.lib import format as npy_format

from tf1_birnn.data.loader import (DataError, UnsafePickleError, check_corpus, convert, load_npz,
                              load_original, read_object_npy, save_npz)

from conftest import shared_reference_dir
from tiny import tiny_corpus

REFERENCE_Y = shared_reference_dir() / "original_Y.npy"


LENGTHS = (5, 3, 7)  # frames of the three utterances of tiny_corpus(lengths=LENGTHS)


def save_object_npy(path, arrays):
    """Write arrays the tutorial's way (an object array, pickled); we trust our own file."""
    obj = np.empty(len(arrays), dtype=object)
    obj[:] = arrays
    np.save(path, obj, allow_pickle=True)


def write_evil_npy(path, payload, protocol=2):
    """A .npy whose header promises an object array and whose pickle runs ``payload``."""
    with open(path, "wb") as f:
        npy_format.write_array_header_1_0(
            f, {"descr": "|O", "fortran_order": False, "shape": (1,)})
        f.write(pickle.dumps(payload, protocol=protocol))


class SystemCall:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


class EvalCall:
    def __init__(self, source):
        self.source = source

    def __reduce__(self):
        return builtins.eval, (self.source,)


def test_object_npy_round_trip(tmp_path):
    X, Y = tiny_corpus(lengths=LENGTHS)
    save_object_npy(tmp_path / "X.npy", X)
    save_object_npy(tmp_path / "Y.npy", Y)
    X2, Y2 = load_original(tmp_path / "X.npy", tmp_path / "Y.npy")
    assert all(np.array_equal(a, b) for a, b in zip(X + Y, X2 + Y2))
    assert all(a.dtype == np.float32 for a in X2 + Y2)


def test_reads_original_python2_file_like_numpy():
    if not REFERENCE_Y.exists():
        pytest.skip(f"{REFERENCE_Y} not available")
    ours = read_object_npy(REFERENCE_Y)
    trusted = np.load(REFERENCE_Y, allow_pickle=True, encoding="latin1")
    assert len(ours) == len(trusted) == 103
    assert all(np.array_equal(a, b) for a, b in zip(ours, trusted))
    with pytest.raises(DataError, match=r"utterance 0: X has 24 columns; expected d_input=39"):
        load_original(REFERENCE_Y, REFERENCE_Y)


@pytest.mark.parametrize("make_payload, rejected", [
    (lambda sentinel: SystemCall(f"touch {sentinel}"), "system"),
    (lambda sentinel: EvalCall(f"open({str(sentinel)!r}, 'w').close()"), r"builtin\w*\.eval"),
])
def test_malicious_pickle_is_rejected_before_it_runs(tmp_path, make_payload, rejected):
    sentinel = tmp_path / "pwned"
    path = tmp_path / "X.npy"
    write_evil_npy(path, make_payload(sentinel))
    with pytest.raises(UnsafePickleError, match=rejected) as info:
        read_object_npy(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, DataError) and isinstance(info.value, ValueError)
    assert not sentinel.exists()
    pickle.loads(pickle.dumps(make_payload(sentinel), protocol=2))  # control: the payload is live
    assert sentinel.exists()


def test_missing_and_malformed_files_name_the_path(tmp_path):
    missing = tmp_path / "nope.npy"
    with pytest.raises(DataError, match="nope.npy"):
        read_object_npy(missing)
    with pytest.raises(DataError, match="nope.npz"):
        load_npz(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npy"
    junk.write_bytes(b"not numpy at all")
    with pytest.raises(DataError, match="junk.npy"):
        read_object_npy(junk)
    plain = tmp_path / "plain.npy"
    np.save(plain, np.zeros((3, 39)))
    with pytest.raises(DataError, match="plain.npy.*object"):
        read_object_npy(plain)


def test_npz_round_trip_and_overwrite(tmp_path):
    X, Y = tiny_corpus(lengths=LENGTHS)
    path = tmp_path / "corpus.npz"
    save_npz(path, X, Y)
    X2, Y2 = load_npz(path)
    assert [len(x) for x in X2] == [5, 3, 7]
    assert all(np.array_equal(a, b) for a, b in zip(X + Y, X2 + Y2))
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["X", "Y", "lengths"]
    with pytest.raises(DataError, match="exists"):
        save_npz(path, X, Y)
    save_npz(path, X[:1], Y[:1], overwrite=True)
    assert len(load_npz(path)[0]) == 1


def test_convert(tmp_path):
    X, Y = tiny_corpus(lengths=LENGTHS)
    save_object_npy(tmp_path / "X.npy", X)
    save_object_npy(tmp_path / "Y.npy", Y)
    out = tmp_path / "out.npz"
    assert convert(tmp_path / "X.npy", tmp_path / "Y.npy", out) == 3
    X2, Y2 = load_npz(out)
    assert all(np.array_equal(a, b) for a, b in zip(X + Y, X2 + Y2))
    with pytest.raises(DataError, match="exists"):
        convert(tmp_path / "X.npy", tmp_path / "Y.npy", out)


def corrupt(kind):
    X, Y = tiny_corpus(lengths=LENGTHS)
    if kind == "x_columns":
        X[1] = X[1][:, :38]
    elif kind == "y_columns":
        Y[1] = np.zeros((3, 23), np.float32)
    elif kind == "nan":
        X[1][0, 0] = np.nan
    elif kind == "inf":
        Y[1][2, 5] = np.inf
    elif kind == "empty":
        X[1], Y[1] = np.zeros((0, 39), np.float32), np.zeros((0, 24), np.float32)
    elif kind == "one_d":
        X[1] = np.zeros(39, np.float32)
    elif kind == "frames":
        Y[1] = np.zeros((4, 24), np.float32)
    return X, Y


@pytest.mark.parametrize("kind, message", [
    ("x_columns", "X has 38 columns; expected d_input=39"),
    ("y_columns", "Y has 23 columns; expected d_label=24"),
    ("nan", "X contains NaN or inf"),
    ("inf", "Y contains NaN or inf"),
    ("empty", "X is empty"),
    ("one_d", "X must be 2-D"),
    ("frames", "X has 3 frames but Y has 4"),
])
def test_check_corpus_names_source_and_utterance(kind, message):
    X, Y = corrupt(kind)
    with pytest.raises(DataError) as info:
        check_corpus(X, Y, "data/X.npy")
    text = str(info.value)
    assert text.startswith("data/X.npy: utterance 1: ") and message in text


def test_check_corpus_counts_and_dims():
    X, Y = tiny_corpus(lengths=LENGTHS)
    with pytest.raises(DataError, match="data.npz: X has 3 utterances but Y has 2"):
        check_corpus(X, Y[:2], "data.npz")
    with pytest.raises(DataError, match="no utterances"):
        check_corpus([], [], "data.npz")
    X, Y = tiny_corpus(lengths=LENGTHS, D_input=13, D_label=8)
    check_corpus(X, Y, "small", d_input=13, d_label=8)


def test_npz_with_inconsistent_lengths_is_rejected(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, X=np.zeros((5, 39)), Y=np.zeros((5, 24)), lengths=np.array([2, 2]))
    with pytest.raises(DataError, match="bad.npz.*'X' has shape"):
        load_npz(path)


# --- limits before allocation, dtypes, old pickles (issue 13) ---

class Reduce:
    """An object that pickles as ``func(*args)`` (then ``BUILD state`` if given)."""

    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args) if self.state is None else (self.func, self.args,
                                                                  self.state)


_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]


@pytest.mark.parametrize("payload", [
    Reduce(np.ndarray, ((10 ** 12,), "O")),  # ndarray(shape, 'O') allocates the shape
    Reduce(_RECONSTRUCT, (np.ndarray, (0,), b"b"),  # a huge shape declared in the state
           (1, (10 ** 12,), np.dtype(object), False, [1.0])),
    Reduce(_RECONSTRUCT, (np.ndarray, (0,), b"b"),
           (1, (10 ** 12,), np.dtype(np.float32), False, b"\0" * 8)),
    Reduce(_RECONSTRUCT, (np.ndarray, (10 ** 12,), b"b")),
], ids=["ndarray-call", "object-state", "float-state", "reconstruct-shape"])
def test_a_declared_size_the_file_cannot_fill_is_refused_before_allocation(tmp_path, payload):
    path = tmp_path / "X.npy"
    write_evil_npy(path, payload, protocol=4)  # bytes without _codecs.encode
    assert path.stat().st_size < 1000
    with pytest.raises(UnsafePickleError) as info:  # today: a MemoryError (or 4 TB allocated)
        read_object_npy(path)
    assert str(path) in str(info.value)


def test_a_header_declaring_more_utterances_than_bytes_is_refused(tmp_path):
    path = tmp_path / "X.npy"
    with open(path, "wb") as f:
        npy_format.write_array_header_1_0(
            f, {"descr": "|O", "fortran_order": False, "shape": (10 ** 9,)})
        f.write(pickle.dumps(np.empty(0, object), protocol=2))
    with pytest.raises(DataError, match=r"X.npy: the header declares 1000000000 utterances"):
        read_object_npy(path)


def test_old_numpy_python3_protocol2_pickle_loads(tmp_path):
    """numpy <= 1.16 on Python 3 wrote object arrays with pickle protocol 2: bytes become
    ``_codecs.encode(text, 'latin1')`` and the module is ``numpy.core.multiarray``."""
    X, _ = tiny_corpus()
    obj = np.empty(len(X), dtype=object)
    obj[:] = X
    payload = pickle.dumps(obj, protocol=2).replace(b"cnumpy._core.multiarray\n",
                                                    b"cnumpy.core.multiarray\n")
    assert b"c_codecs\nencode\n" in payload and b"numpy._core" not in payload
    path = tmp_path / "X.npy"
    with open(path, "wb") as f:
        npy_format.write_array_header_1_0(
            f, {"descr": "|O", "fortran_order": False, "shape": (len(X),)})
        f.write(payload)
    ours = read_object_npy(path)
    assert all(np.array_equal(a, b) for a, b in zip(ours, X))


def test_codecs_encode_is_allowed_for_latin1_text_only(tmp_path):
    import _codecs
    path = tmp_path / "X.npy"
    write_evil_npy(path, Reduce(_codecs.encode, ("abc", "rot13")))
    with pytest.raises(UnsafePickleError, match="latin1"):
        read_object_npy(path)


def write_npz_members(path, members, compression=0):
    """A zip with raw ``members`` {name: bytes} (no checks: any file a user could have)."""
    import zipfile
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def npy_bytes(array=None, header=None):
    import io
    buf = io.BytesIO()
    if header is not None:
        npy_format.write_array_header_1_0(buf, header)
    else:
        npy_format.write_array(buf, array, allow_pickle=False)
    return buf.getvalue()


def good_members(**replace):
    X, Y = tiny_corpus()
    members = {"X.npy": npy_bytes(np.concatenate(X)), "Y.npy": npy_bytes(np.concatenate(Y)),
               "lengths.npy": npy_bytes(np.array([5, 3, 7]))}
    members.update(replace)
    return {k: v for k, v in members.items() if v is not None}


def test_npz_header_claiming_a_huge_shape_is_refused(tmp_path):
    path = tmp_path / "big.npz"
    huge = npy_bytes(header={"descr": "<f4", "fortran_order": False, "shape": (10 ** 10, 39)})
    write_npz_members(path, good_members(**{"X.npy": huge + b"\0" * 64}))
    with pytest.raises(DataError, match=r"big.npz: member 'X' declares shape \(10000000000, 39\)"):
        load_npz(path)  # today: MemoryError


def test_npz_deflate_bomb_is_refused_before_inflating(tmp_path):
    import zipfile
    path = tmp_path / "bomb.npz"
    zeros = np.zeros((40000, 39), np.float32)  # 6 MB of zeros deflate to a few kB
    write_npz_members(path, good_members(**{"X.npy": npy_bytes(zeros)}), zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 100_000
    with pytest.raises(DataError, match=r"bomb.npz: its members inflate to \d+ bytes, beyond the "
                                        r"1000000-byte limit"):
        load_npz(path, max_bytes=1_000_000)


@pytest.mark.parametrize("member, array", [
    ("X", np.zeros((15, 39), np.complex64)),
    ("X", np.full((15, 39), "1.5")),
    ("X", np.zeros((15, 39), "datetime64[s]")),
    ("Y", np.zeros((15, 24), bool)),
    ("lengths", np.array([5.0, 3.0, 7.0])),
])
def test_npz_members_must_be_real_numbers(tmp_path, member, array):
    path = tmp_path / "odd.npz"
    write_npz_members(path, good_members(**{f"{member}.npy": npy_bytes(array)}))
    expected = f"odd.npz: member '{member}' has dtype {array.dtype}"
    with pytest.raises(DataError, match=re.escape(expected)):
        load_npz(path)


def test_npz_raw_bytes_member_is_refused(tmp_path):
    path = tmp_path / "raw.npz"
    write_npz_members(path, good_members(**{"X.npy": None, "X": b"\0" * 100}))
    with pytest.raises(DataError, match="raw.npz: member 'X' is raw bytes"):
        load_npz(path)  # today: AttributeError


def test_a_npy_given_as_npz_names_the_file(tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, np.zeros((3, 39)))
    with pytest.raises(DataError, match=r"X.npy: not a .npz corpus.*a .npy file"):
        load_npz(path)


def test_save_npz_leaves_no_partial_file(tmp_path, monkeypatch):
    import errno
    from tf1_birnn.data import loader
    X, Y = tiny_corpus()
    path = tmp_path / "out.npz"
    save_npz(path, X, Y)
    before = path.read_bytes()
    real = loader.npy_format.write_array

    def full(member, array, **kwargs):  # the disk fills up in the middle of the file
        if array.shape[1:] == (24,):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(member, array, **kwargs)

    monkeypatch.setattr(loader.npy_format, "write_array", full)
    for target, overwrite in ((tmp_path / "new.npz", False), (path, True)):
        with pytest.raises(OSError, match="No space"):
            save_npz(target, X[:1], Y[:1], overwrite=overwrite)
    assert sorted(os.listdir(tmp_path)) == ["out.npz"]  # no partial file, no temporary
    assert path.read_bytes() == before


def test_convert_refuses_an_existing_output_before_reading(tmp_path):
    out = tmp_path / "out.npz"
    out.write_bytes(b"keep me")
    with pytest.raises(DataError, match=r"out.npz: file exists; pass overwrite=True .*--force"):
        convert(tmp_path / "missing_X.npy", tmp_path / "missing_Y.npy", out)
    assert out.read_bytes() == b"keep me"


def test_corpus_fingerprint():
    from tf1_birnn.data.loader import corpus_fingerprint
    X, Y = tiny_corpus()
    same = corpus_fingerprint([x.copy() for x in X], [y.astype(np.float64) for y in Y])
    assert corpus_fingerprint(X, Y) == same and same.startswith("sha256:")
    X[2] = X[2].copy()
    X[2][6, 38] += 1e-3
    assert corpus_fingerprint(X, Y) != same
    assert corpus_fingerprint(X[:2], Y[:2]) != corpus_fingerprint(X, Y)
