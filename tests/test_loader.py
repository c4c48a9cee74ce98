"""Tests of the safe loaders (tf1_birnn.data.loader)."""
import builtins
import os
import pickle

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


def write_evil_npy(path, payload):
    """A .npy whose header promises an object array and whose pickle runs ``payload``."""
    with open(path, "wb") as f:
        npy_format.write_array_header_1_0(
            f, {"descr": "|O", "fortran_order": False, "shape": (1,)})
        f.write(pickle.dumps(payload, protocol=2))


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
