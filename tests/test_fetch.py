"""``tf1-birnn fetch-data`` against a local HTTP server (no network): verification by git blob
id, temporary files, existing files, failures, and ``--data original`` afterwards."""
import contextlib
import hashlib
import http.server
import os
import shutil
import socket
import subprocess
import threading

import numpy as np
import pytest

from conftest import shared_reference_dir
from tf1_birnn.data import fetch
from tf1_birnn.data.fetch import FetchError, NetworkError, fetch_data, git_blob_id
from tf1_birnn.data.loader import load_npz
from tf1_birnn.data.source import DataSource
from tf1_birnn.tools.cli import main
from tiny import tiny_corpus, tiny_flags


def blob_id(data):
    """The reference: git's blob id, written out from its definition."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def object_npy_bytes(arrays, path):
    """The tutorial's file format: a 1-D object array of float32 arrays, pickled."""
    obj = np.empty(len(arrays), dtype=object)
    obj[:] = arrays
    np.save(path, obj, allow_pickle=True)
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """``(X, Y, {name: bytes})`` of a tiny corpus in the tutorial's format."""
    tmp = tmp_path_factory.mktemp("files")
    X, Y = tiny_corpus(n=6)
    files = {"X.npy": object_npy_bytes(X, tmp / "X.npy"),
             "Y.npy": object_npy_bytes(Y, tmp / "Y.npy")}
    return X, Y, files


class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {}  # URL path -> (bytes, "ok" | "truncated")

    def do_GET(self):
        if self.path not in self.routes:
            self.send_error(404, "Not Found")
            return
        body, mode = self.routes[self.path]
        self.send_response(200)
        extra = 1000 if mode == "truncated" else 0  # promise more than is sent, then close
        self.send_header("Content-Length", str(len(body) + extra))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):  # keep the test output clean
        pass


def serving(routes):
    """A local server of ``routes``; yields its base URL ``http://127.0.0.1:P/rnn``."""
    return _serve(type("Handler", (_Handler,), {"routes": routes}))


@contextlib.contextmanager
def _serve(handler):
    """A local server of ``handler`` on an ephemeral port; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/rnn"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def routes_for(files, **modes):
    return {f"/rnn/{name}": (data, modes.get(name[0], "ok")) for name, data in files.items()}


def ids_of(files):
    return {name: blob_id(data) for name, data in files.items()}


def leftovers(dest):
    return sorted(f for f in os.listdir(dest) if f.endswith(".part"))


def test_good_files_are_kept_and_converted(corpus, tmp_path, capsys):
    X, Y, files = corpus
    with serving(routes_for(files)) as url:
        npz = fetch_data(tmp_path, url, expected=ids_of(files))
    for name, data in files.items():
        assert (tmp_path / name).read_bytes() == data
    assert npz == str(tmp_path / "original.npz") and leftovers(tmp_path) == []
    X2, Y2 = load_npz(npz)  # pickle-free
    assert len(X2) == 6
    for a, b in zip(X + Y, X2 + Y2):
        np.testing.assert_array_equal(a, b)
    err = capsys.readouterr().err
    assert f"X.npy: {len(files['X.npy']):,} of {len(files['X.npy']):,} bytes" in err  # progress


@pytest.mark.parametrize("case", ["forged", "changed byte", "truncated"])
def test_a_bad_file_is_refused_and_the_good_one_kept(case, corpus, tmp_path):
    _, _, files = corpus
    expected = ids_of(files)
    served, modes = dict(files), {}
    if case == "forged":
        served["X.npy"] = files["Y.npy"]  # a real .npy, but not the expected one
    elif case == "changed byte":
        data = bytearray(files["X.npy"])
        data[len(data) // 2] ^= 1
        served["X.npy"] = bytes(data)
    else:
        modes["X"] = "truncated"
    with serving(routes_for(served, **modes)) as url:
        with pytest.raises(FetchError) as err:
            fetch_data(tmp_path, url, expected=expected, show_progress=False)
    message = str(err.value)
    assert "X.npy" in message
    if case == "truncated":
        assert "truncated" in message or "broke off" in message
    else:
        assert expected["X.npy"] in message and blob_id(served["X.npy"]) in message
    assert not (tmp_path / "X.npy").exists() and not (tmp_path / "original.npz").exists()
    assert (tmp_path / "Y.npy").read_bytes() == files["Y.npy"]  # verified on its own: kept
    assert leftovers(tmp_path) == []


def test_an_interrupted_download_leaves_nothing(corpus, tmp_path, monkeypatch):
    _, _, files = corpus

    def interrupt(self, n):
        raise KeyboardInterrupt  # Ctrl-C in the middle of the transfer
    monkeypatch.setattr(fetch._Bytes, "update", interrupt)
    with serving(routes_for(files)) as url:
        with pytest.raises(KeyboardInterrupt):
            fetch_data(tmp_path, url, expected=ids_of(files))
    assert os.listdir(tmp_path) == []


def test_a_404_names_the_url(corpus, tmp_path):
    _, _, files = corpus
    with serving({"/rnn/Y.npy": (files["Y.npy"], "ok")}) as url:
        with pytest.raises(FetchError, match="HTTP 404") as err:
            fetch_data(tmp_path, url, expected=ids_of(files), show_progress=False)
    assert f"{url}/X.npy" in str(err.value)
    assert os.listdir(tmp_path) == ["Y.npy"]


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_server_says_how_to_get_the_files(corpus, tmp_path):
    _, _, files = corpus
    with pytest.raises(NetworkError) as err:
        fetch_data(tmp_path, f"http://127.0.0.1:{closed_port()}/rnn", expected=ids_of(files),
                   show_progress=False)
    message = str(err.value)
    assert "by hand" in message and str(tmp_path) in message and "--data-x" in message
    assert "\n" not in message and os.listdir(tmp_path) == []


def test_a_failed_fetch_removes_the_folders_it_created(corpus, tmp_path):
    """An offline first fetch leaves no empty data folder (e.g. ~/.cache/tf1_birnn) behind;
    a folder that existed before, or that holds a verified file, stays."""
    _, _, files = corpus
    dest = tmp_path / "cache" / "tf1_birnn"
    with pytest.raises(NetworkError):
        fetch_data(dest, f"http://127.0.0.1:{closed_port()}/rnn", expected=ids_of(files),
                   show_progress=False)
    assert os.listdir(tmp_path) == []
    dest.mkdir(parents=True)
    with pytest.raises(NetworkError):
        fetch_data(dest, f"http://127.0.0.1:{closed_port()}/rnn", expected=ids_of(files),
                   show_progress=False)
    assert dest.is_dir()


def test_existing_files_same_skipped_different_refused(corpus, tmp_path, capsys):
    _, _, files = corpus
    (tmp_path / "X.npy").write_bytes(files["X.npy"])  # the same file: skipped
    (tmp_path / "Y.npy").write_bytes(b"my own notes")  # another file: never overwritten
    before = os.stat(tmp_path / "X.npy").st_mtime_ns
    with serving(routes_for(files)) as url:
        with pytest.raises(FetchError) as err:
            fetch_data(tmp_path, url, expected=ids_of(files), show_progress=False)
    assert "already in" in capsys.readouterr().out
    assert os.stat(tmp_path / "X.npy").st_mtime_ns == before
    assert (tmp_path / "Y.npy").read_bytes() == b"my own notes"
    message = str(err.value)
    assert str(tmp_path / "Y.npy") in message and blob_id(files["Y.npy"]) in message
    # once the user moves it away, the same call completes (X.npy skipped, Y.npy fetched)
    os.unlink(tmp_path / "Y.npy")
    with serving(routes_for(files)) as url:
        fetch_data(tmp_path, url, expected=ids_of(files), show_progress=False)
    assert (tmp_path / "Y.npy").read_bytes() == files["Y.npy"]
    assert (tmp_path / "original.npz").is_file()


def test_blob_id_matches_git(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"hello\x00world" * 1000)
    assert git_blob_id(path) == blob_id(path.read_bytes())
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    out = subprocess.run(["git", "hash-object", str(path)], capture_output=True, text=True,
                         check=True)
    assert git_blob_id(path) == out.stdout.strip()


def test_the_real_Y_npy_has_the_repository_id(tmp_path):
    real = shared_reference_dir() / "original_Y.npy"
    if not real.is_file():
        pytest.skip(f"{real} is not here (the tutorial's file is not shipped)")
    assert git_blob_id(real) == fetch.EXPECTED["Y.npy"]
    # and downloaded with the real expected id, it is kept
    with serving({"/rnn/Y.npy": (real.read_bytes(), "ok")}) as url:
        assert fetch.fetch_file(f"{url}/Y.npy", tmp_path / "Y.npy", fetch.EXPECTED["Y.npy"],
                                show_progress=False) == "downloaded"
    assert (tmp_path / "Y.npy").read_bytes() == real.read_bytes()


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TF1_BIRNN_DATA", str(tmp_path / "mine"))
    assert fetch.default_data_dir() == str(tmp_path / "mine")
    monkeypatch.delenv("TF1_BIRNN_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert fetch.default_data_dir() == str(tmp_path / "cache" / "tf1_birnn")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert fetch.default_data_dir() == str(tmp_path / ".cache" / "tf1_birnn")


@pytest.mark.slow
def test_cli_fetch_then_data_original(corpus, tmp_path, monkeypatch, capsys):
    X, Y, files = corpus
    monkeypatch.setenv("TF1_BIRNN_DATA", str(tmp_path / "data"))
    logdir = str(tmp_path / "logs")
    args = ["train", "--data", "original", *tiny_flags(epochs=1), "--logdir", logdir,
            "--run-name", "o", "--no-progress"]
    assert main(args) == 2  # nothing fetched yet
    err = capsys.readouterr().err
    assert "run `tf1-birnn fetch-data`" in err and "Traceback" not in err
    monkeypatch.setattr(fetch, "EXPECTED", ids_of(files))
    with serving(routes_for(files)) as url:
        assert main(["fetch-data", "--base-url", url, "--no-progress"]) == 0
        assert main(["fetch-data", "--base-url", url, "--no-progress"]) == 0  # all skipped
    out = capsys.readouterr().out
    assert "--data original" in out and out.count("skipped") == 3
    X2, _ = DataSource.parse("original").load()
    np.testing.assert_array_equal(X2[5], X[5])
    assert main(args) == 0
    assert main(["compare", os.path.join(logdir, "o")]) == 0
    assert "fetched by `tf1-birnn fetch-data`" in capsys.readouterr().out


def test_cli_errors_are_one_line(corpus, tmp_path, monkeypatch, capsys):
    _, _, files = corpus
    monkeypatch.setattr(fetch, "EXPECTED", ids_of(files))
    code = main(["fetch-data", "--dest", str(tmp_path), "--base-url",
                 f"http://127.0.0.1:{closed_port()}/rnn"])
    err = capsys.readouterr().err
    assert code == 2 and "by hand" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    served = dict(files, **{"X.npy": files["Y.npy"]})
    with serving(routes_for(served)) as url:
        code = main(["fetch-data", "--dest", str(tmp_path), "--base-url", url, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "X.npy" in err and blob_id(files["X.npy"]) in err
    assert len(err.strip().splitlines()) == 1


class _Endless(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a body that never ends (and, if ``announce``, a Content-Length
    that says so)."""
    announce = None

    def do_GET(self):
        self.send_response(200)
        if self.announce:
            self.send_header("Content-Length", str(self.announce))
        self.end_headers()
        block = b"\0" * 65536
        try:
            while True:
                self.wfile.write(block)
        except OSError:  # the client hung up
            pass
        self.close_connection = True

    def log_message(self, *args):
        pass


def endless(announce=None):
    """A local server whose files never end (``announce``: the Content-Length it claims)."""
    return _serve(type("Handler", (_Endless,), {"announce": announce}))


@pytest.mark.parametrize("announce", [None, 10 ** 15])
def test_an_endless_download_stops_at_the_size_a_file_can_have(corpus, tmp_path, monkeypatch,
                                                                announce):
    _, _, files = corpus
    monkeypatch.setenv("TF1_BIRNN_MAX_CORPUS_BYTES", str(2 ** 20))  # test files: the limit
    with endless(announce) as url:
        with pytest.raises(FetchError) as info:
            fetch_data(tmp_path, url, ids_of(files), show_progress=False, out=lambda *_: None)
    text = str(info.value)
    if announce:
        assert "X.npy: " in text and "announces 1,000,000,000,000,000 bytes, more than the " \
            "1,048,576 this file can have" in text
    else:
        assert "X.npy: the download from " in text and "passed 1,048,576 bytes" in text
    assert "Y.npy: " in text  # both refused, each on its own
    assert leftovers(tmp_path) == [] and sorted(os.listdir(tmp_path)) == []


def test_the_tutorials_files_stop_near_their_known_sizes(tmp_path, monkeypatch):
    seen = {}

    def fake_fetch_file(url, path, blob, show_progress, max_size):
        seen[os.path.basename(path)] = max_size
        raise FetchError("stop here")
    monkeypatch.setattr(fetch, "fetch_file", fake_fetch_file)
    with pytest.raises(FetchError):
        fetch_data(tmp_path, "http://127.0.0.1:9/rnn", show_progress=False)
    assert seen == {name: size + fetch._SLACK for name, size in fetch.EXPECTED_SIZES.items()}
    assert fetch.EXPECTED_SIZES["Y.npy"] == 3_793_010
    reference = shared_reference_dir() / "original_Y.npy"
    if reference.exists():
        assert reference.stat().st_size == fetch.EXPECTED_SIZES["Y.npy"]
