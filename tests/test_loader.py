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
    with pytest.raises(DataError, match=r"bomb.npz: its members, inflated, would take 6.0 MiB in "
                                        r"memory; the limit of a corpus is 1,000,000 bytes"):
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
    real = loader._write_concatenated

    def full(member, parts, dim):  # the disk fills up in the middle of the file
        if dim == 24:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(member, parts, dim)

    monkeypatch.setattr(loader, "_write_concatenated", full)
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


# ---- memory bombs: each refused by what it would allocate, before allocating it ----------

def shared_reference_bomb(path, entries=20_000):
    """A 3.9 MB object-array pickle whose ``entries`` utterances all reference one 3.9 MB
    uint8 array: each use would become its own float32 copy (~312 GB in all)."""
    shared = np.ones((100_000, 39), np.uint8)
    obj = np.empty(entries, dtype=object)
    obj[:] = [shared] * entries
    np.save(path, obj, allow_pickle=True)  # the pickle memoizes: one copy in the file
    assert os.path.getsize(path) < 4_100_000


def int8_npz(path, limit):
    """A deflated ``.npz`` of int8 X/Y whose stored members stay under ``limit`` but whose
    float32 copies take four times as much."""
    import zipfile
    rows = int(0.9 * limit) // (39 + 24) // 100 * 100
    members = {"X.npy": npy_bytes(np.ones((rows, 39), np.int8)),
               "Y.npy": npy_bytes(np.ones((rows, 24), np.int8)),
               "lengths.npy": npy_bytes(np.full(rows // 100, 100, np.int64))}
    write_npz_members(path, members, zipfile.ZIP_DEFLATED)


def zero_lengths_npz(path, n=10 ** 8):
    """A deflated ``.npz`` whose ``lengths`` holds ``n`` zeros (800 MB inflated, 3.5 MB
    stored), streamed so that the test never holds them."""
    import zipfile
    X, Y = tiny_corpus(n=1, lengths=[4])
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("X.npy", npy_bytes(X[0]))
        zf.writestr("Y.npy", npy_bytes(Y[0]))
        with zf.open("lengths.npy", "w", force_zip64=True) as f:
            npy_format.write_array_header_1_0(f, {"descr": "<i8", "fortran_order": False,
                                                  "shape": (n,)})
            block = np.zeros(10 ** 6, np.int64).tobytes()
            for _ in range(n // 10 ** 6):
                f.write(block)


def test_shared_references_in_a_pickle_count_once_per_use(tmp_path):
    path = tmp_path / "Xbomb.npy"
    shared_reference_bomb(path)
    with pytest.raises(DataError, match=r"Xbomb.npy: its utterances would take 290\.\d\d GiB "
                                        r"in memory; the limit of a corpus is 1\.00 GiB \(set "
                                        r"TF1_BIRNN_MAX_CORPUS_BYTES to raise it\)"):
        convert(path, path, tmp_path / "o.npz")
    assert not (tmp_path / "o.npz").exists()


def test_an_int8_npz_is_counted_as_its_float32_copies(tmp_path):
    path = tmp_path / "int8.npz"
    int8_npz(path, limit=8 * 2 ** 20)
    assert path.stat().st_size < 200_000
    with pytest.raises(DataError, match=r"int8.npz: its corpus would take 3\d\.\d MiB in memory; "
                                        r"the limit of a corpus is 8\.0 MiB"):
        load_npz(path, max_bytes=8 * 2 ** 20)
    load_npz(path, max_bytes=64 * 2 ** 20)  # a raised limit lets it in (it is a valid corpus)


@pytest.mark.slow
def test_lengths_of_a_hundred_million_zeros_are_refused_unread(tmp_path):
    path = tmp_path / "zeros.npz"
    zero_lengths_npz(path)
    assert path.stat().st_size < 5_000_000
    with pytest.raises(DataError, match=r"zeros.npz: its corpus would take 48\.\d\d GiB"):
        load_npz(path)
    zero_lengths_npz(path, n=10 ** 6)  # within the limit: refused for what the lengths say
    with pytest.raises(DataError, match=r"zeros.npz: utterance 0: 'lengths' gives it 0 frames"):
        load_npz(path)


def test_the_limit_is_one_setting_the_user_can_raise(tmp_path, monkeypatch):
    from tf1_birnn.data import limits
    path = tmp_path / "Xbomb.npy"
    shared_reference_bomb(path, entries=30)  # 30 uses of 3.9 MB: 470 MB as float32
    monkeypatch.setenv(limits.ENV, str(400 * 2 ** 20))
    with pytest.raises(DataError, match=r"the limit of a corpus is 400\.0 MiB"):
        read_object_npy(path)
    monkeypatch.setenv(limits.ENV, "lots")
    with pytest.raises(ValueError, match="TF1_BIRNN_MAX_CORPUS_BYTES must be a positive number "
                                         "of bytes; got 'lots'"):
        read_object_npy(path)


BOMB_CHILD = """
import resource, sys
from tf1_birnn.data import loader
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
try:
    {call}
except loader.DataError as e:
    print("refused:", e)
print("grew", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before)
"""


@pytest.mark.slow
@pytest.mark.parametrize("make, call", [
    (shared_reference_bomb, "loader.convert(sys.argv[1], sys.argv[1], sys.argv[1] + '.npz')"),
    (lambda p: int8_npz(p, 2 ** 26), "loader.load_npz(sys.argv[1])"),
    (zero_lengths_npz, "loader.load_npz(sys.argv[1])"),
])
def test_no_bomb_grows_a_process_past_one_and_a_half_times_its_limit(tmp_path, make, call):
    """Each bomb in a child process given a 64 MiB limit (and a 1 GiB address-space cap, so
    that a regression fails here instead of filling the machine's memory)."""
    import resource
    import subprocess
    import sys
    path = tmp_path / "bomb.npy"
    make(path)
    limit = 64 * 2 ** 20
    env = dict(os.environ, TF1_BIRNN_MAX_CORPUS_BYTES=str(limit), OPENBLAS_NUM_THREADS="1")

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (2 ** 31, 2 ** 31))

    out = subprocess.run([sys.executable, "-c", BOMB_CHILD.format(call=call), str(path)],
                         env=env, capture_output=True, text=True, preexec_fn=cap).stdout
    assert "refused: " in out and "the limit of a corpus is 64.0 MiB" in out, out
    assert int(out.split("grew ")[1]) < 1.5 * limit
