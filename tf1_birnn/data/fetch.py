"""Download the tutorial's own ``X.npy``/``Y.npy`` and keep them only if they are the real ones.

The tutorial (YJango, "循环神经网络——双向LSTM&GRU") trains on ``X.npy`` (39-dim MFCC + deltas)
and ``Y.npy`` (24-dim articulatory trajectories), 103 utterances. Both are public: they sit in
the tutorial's repository ``YJango/tensorflow_basic_tutorial`` (branch ``master``, folder
``JupyterNotebook_version/RNN/``, copies in ``Py_version/RNNs_Demo/``) under that repository's
GPL-3.0 license. tf1_birnn does not ship them; :func:`fetch_data` downloads them.

A file is kept only if its git blob id (the SHA-1 of ``b"blob %d\\0" % len(data) + data``)
equals the id of the file in the repository's tree (:data:`EXPECTED`). Each file is
downloaded into a temporary file beside its destination and moved into place only after
that check, so an interrupted, refused or truncated download leaves nothing behind; an
existing file is never replaced (the same verified file is skipped). A download stops as soon
as it passes the size the file should have (:data:`EXPECTED_SIZES`, or the corpus limit of
:mod:`tf1_birnn.data.limits` for other files), so a server that sends without end cannot
fill the disk. Then the pair is read
with the safe unpickler of :mod:`tf1_birnn.data.unpickle` and saved as the pickle-free
``original.npz`` that ``--data original`` loads (:func:`load_fetched`).

Standard library only (``urllib``); no TensorFlow.
"""
import contextlib
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request

from ..quiet import is_terminal
from . import limits, loader

__all__ = ["EXPECTED", "EXPECTED_SIZES", "DEFAULT_BASE_URL", "REPOSITORY_URL", "NPZ_NAME",
           "FetchError", "NetworkError", "default_data_dir", "git_blob_id", "fetch_file",
           "fetch_data", "load_fetched"]

# git blob ids of the two files in YJango/tensorflow_basic_tutorial@master
EXPECTED = {"X.npy": "e7a331c8f3d4595a2a582488825e438f4d87fad3",
            "Y.npy": "93847e83cbb2f6aaf741c8f8d58c8ecafb9806ac"}
# their sizes in bytes: Y.npy as measured; X.npy derived (its 39473 frames x 39 float32 plus the
# 3,602 bytes of header and pickle that Y.npy has around the same utterances)
EXPECTED_SIZES = {"X.npy": 6_161_390, "Y.npy": 3_793_010}
_SLACK = 1 << 16  # bytes allowed past an expected size (the blob id checks the exact file)
DEFAULT_BASE_URL = ("https://raw.githubusercontent.com/YJango/tensorflow_basic_tutorial/"
                    "master/JupyterNotebook_version/RNN")
REPOSITORY_URL = ("https://github.com/YJango/tensorflow_basic_tutorial/tree/master/"
                  "JupyterNotebook_version/RNN")
NPZ_NAME = "original.npz"  # the pickle-free copy written beside X.npy/Y.npy
_CHUNK = 1 << 16  # bytes per read
_TIMEOUT = 30  # seconds without data before a download counts as failed


class FetchError(loader.DataError):
    """A download failed or a file is not the tutorial's own; the message says which."""


class NetworkError(FetchError):
    """The server could not be reached at all."""


def default_data_dir():
    """The per-user data folder: ``$TF1_BIRNN_DATA``, else ``$XDG_CACHE_HOME/tf1_birnn``, else
    ``~/.cache/tf1_birnn``. ``fetch-data`` writes there and ``--data original`` reads there."""
    if os.environ.get("TF1_BIRNN_DATA"):
        return os.path.abspath(os.path.expanduser(os.environ["TF1_BIRNN_DATA"]))
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.abspath(os.path.join(cache, "tf1_birnn"))


def git_blob_id(path):
    """The git blob id of the file at ``path``: SHA-1 of ``b"blob <size>\\0"`` + its bytes."""
    sha = hashlib.sha1(b"blob %d\0" % os.path.getsize(path))
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            sha.update(block)
    return sha.hexdigest()


class _Bytes:
    """Download progress: a ``tqdm`` bar on a terminal (if installed), else plain lines."""

    def __init__(self, total, desc, enabled, file=None):
        self.total, self.desc, self.n = total, desc, 0
        self.file = file or sys.stderr
        self.bar, self.enabled, self.next_mark = None, enabled, 0.25
        if enabled and is_terminal(self.file):
            try:
                from tqdm import tqdm
            except ImportError:  # tqdm is optional
                pass
            else:
                self.bar = tqdm(total=total, desc=desc, file=self.file, unit="B",
                                unit_scale=True, leave=False)

    def update(self, n):
        self.n += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.enabled and self.total and self.n >= self.next_mark * self.total:
            print(f"{self.desc}: {self.n:,} of {self.total:,} bytes", file=self.file, flush=True)
            while self.next_mark * self.total <= self.n:
                self.next_mark += 0.25

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _download(url, tmp, name, show_progress, max_size):
    """Stream ``url`` into the open file ``tmp``, at most ``max_size`` bytes; return the
    number of bytes written."""
    try:
        response = urllib.request.urlopen(url, timeout=_TIMEOUT)
    except urllib.error.HTTPError as e:
        raise FetchError(f"{name}: {url} answered HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise NetworkError(f"cannot reach {url} ({reason})") from None
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > max_size:
            raise FetchError(f"{name}: {url} announces {total:,} bytes, more than the "
                             f"{max_size:,} this file can have; nothing was kept")
        bar = _Bytes(total, name, show_progress)
        size = 0
        try:
            while True:
                block = response.read(min(_CHUNK, max_size + 1 - size))
                if not block:
                    break
                if size + len(block) > max_size:
                    raise FetchError(f"{name}: the download from {url} passed {max_size:,} "
                                     "bytes, more than this file can have; stopped, nothing "
                                     "was kept")
                tmp.write(block)
                size += len(block)
                bar.update(len(block))
        except (OSError, http.client.HTTPException) as e:  # reset, timeout, cut short
            raise FetchError(f"{name}: the download from {url} broke off after {size:,} "
                             f"bytes ({e})") from None
        finally:
            bar.close()
    if total is not None and size != total:
        raise FetchError(f"{name}: the download from {url} was truncated: {size:,} of "
                         f"{total:,} bytes")
    return size


def fetch_file(url, path, expected, show_progress=True, max_size=None):
    """Download ``url`` to ``path`` if its git blob id is ``expected``; the download stops
    past ``max_size`` bytes (default: the corpus limit, ``limits.max_corpus_bytes()``).

    Returns ``"skipped"`` when ``path`` already is that file, ``"downloaded"`` otherwise.
    Raises :class:`FetchError` (nothing written) for a refused, failed or truncated download
    and when ``path`` holds a different file (left untouched); :class:`NetworkError` when
    the server cannot be reached.
    """
    name = os.path.basename(path)
    if os.path.exists(path):
        found = git_blob_id(path)
        if found == expected:
            return "skipped"
        raise FetchError(f"{path} exists and is not the tutorial's {name} (git blob {found}, "
                         f"expected {expected}); it was left untouched: move it away and run "
                         "again")
    folder = os.path.dirname(path) or "."
    try:
        fd, tmp_path = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    except OSError as e:
        raise FetchError(f"cannot write in {folder} ({e.strerror or e})") from None
    try:
        with os.fdopen(fd, "wb") as tmp:
            _download(url, tmp, name, show_progress,
                      limits.max_corpus_bytes() if max_size is None else max_size)
        found = git_blob_id(tmp_path)
        if found != expected:
            raise FetchError(f"{name} from {url} is not the tutorial's file: git blob {found}, "
                             f"expected {expected}; it was not kept")
        try:
            os.link(tmp_path, path)  # fails if path appeared meanwhile: never overwrite
        except FileExistsError:
            raise FetchError(f"{path} appeared during the download; it was left untouched") \
                from None
        except OSError:  # a file system without hard links
            if os.path.exists(path):
                raise FetchError(f"{path} appeared during the download; it was left "
                                 "untouched") from None
            os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
    return "downloaded"


def _no_network_message(err, dest):
    return (f"{err}. Get X.npy and Y.npy by hand from {REPOSITORY_URL} and put them in {dest}, "
            "then run `tf1-birnn fetch-data` again to verify them (or use them where they are "
            "with --data-x X.npy --data-y Y.npy)")


def fetch_data(dest=None, base_url=DEFAULT_BASE_URL, expected=None, show_progress=True,
               out=print):
    """Download the tutorial's ``X.npy`` and ``Y.npy`` from ``base_url`` into ``dest``.

    Args:
        dest: the folder (default :func:`default_data_dir`), created if needed.
        base_url: where ``<base_url>/X.npy`` and ``<base_url>/Y.npy`` are.
        expected: ``{file name: git blob id}`` (default :data:`EXPECTED`; tests pass others;
            their downloads stop at the corpus limit, the default ones near
            :data:`EXPECTED_SIZES`).
    Each file is verified on its own and a verified one is kept even if the other fails.
    Once both are there, they are read with the safe unpickler and saved as
    ``dest/original.npz`` (X `[total_frames, 39]`, Y `[total_frames, 24]`, lengths).
    Returns the path of ``original.npz``; raises :class:`FetchError` with every failure.
    """
    dest = os.path.abspath(dest or default_data_dir())
    sizes = {n: size + _SLACK for n, size in EXPECTED_SIZES.items()} if expected is None else {}
    expected = EXPECTED if expected is None else expected
    created = _missing_folders(dest)  # removed again if nothing ends up in them
    try:
        os.makedirs(dest, exist_ok=True)
    except OSError as e:
        raise FetchError(f"cannot create the data folder {dest} ({e.strerror or e})") from None
    try:
        return _fetch_into(dest, base_url, expected, sizes, show_progress, out)
    except BaseException:
        for folder in reversed(created):  # the deepest first; a folder with files stays
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise


def _missing_folders(path):
    """The folders that ``os.makedirs(path)`` would create, outermost first."""
    missing = []
    while not os.path.exists(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return missing[::-1]


def _fetch_into(dest, base_url, expected, sizes, show_progress, out):
    errors = []
    for name, blob in expected.items():
        url = f"{base_url.rstrip('/')}/{name}"
        path = os.path.join(dest, name)
        try:
            done = fetch_file(url, path, blob, show_progress, sizes.get(name))
        except NetworkError as e:
            raise NetworkError(_no_network_message(e, dest)) from None
        except FetchError as e:
            errors.append(str(e))
            continue
        if done == "skipped":
            out(f"{name}: already in {dest} and verified (git blob {blob}); skipped")
        else:
            out(f"{name}: downloaded and verified (git blob {blob}) -> {path}")
    if errors:
        raise FetchError("; ".join(errors))
    return _write_npz(dest, [os.path.join(dest, name) for name in expected], out)


def _write_npz(dest, paths, out):
    """Read ``X.npy``/``Y.npy`` safely and write ``dest/original.npz`` (never replacing a
    different one)."""
    import numpy as np
    X, Y = loader.load_original(*paths)
    npz = os.path.join(dest, NPZ_NAME)
    if os.path.exists(npz):
        X2, Y2 = loader.load_npz(npz)
        same = len(X2) == len(X) and all(np.array_equal(a, b) for a, b in zip(X + Y, X2 + Y2))
        if not same:
            raise FetchError(f"{npz} exists and does not hold these X.npy/Y.npy; it was left "
                             "untouched: move it away and run again")
        out(f"{NPZ_NAME}: already in {dest} and equal to X.npy/Y.npy; skipped")
        return npz
    tmp = f"{npz}.part"
    try:
        loader.save_npz(tmp, X, Y, overwrite=True)
        os.replace(tmp, npz)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    out(f"{NPZ_NAME}: {len(X)} utterances, {sum(len(x) for x in X):,} frames, no pickles "
        f"-> {npz}")
    return npz


def load_fetched(dest=None):
    """``(X, Y)`` of the corpus that ``fetch_data`` put in ``dest`` (default
    :func:`default_data_dir`): ``original.npz``, else ``X.npy``/``Y.npy`` read safely.

    Returns lists of float32 arrays `[n_frames, 39]` and `[n_frames, 24]`.
    """
    dest = os.path.abspath(dest or default_data_dir())
    npz = os.path.join(dest, NPZ_NAME)
    if os.path.isfile(npz):
        return loader.load_npz(npz)
    x_path, y_path = os.path.join(dest, "X.npy"), os.path.join(dest, "Y.npy")
    if os.path.isfile(x_path) and os.path.isfile(y_path):
        return loader.load_original(x_path, y_path)
    missing = ", ".join(n for n in (NPZ_NAME, "X.npy", "Y.npy")
                        if not os.path.isfile(os.path.join(dest, n)))
    raise loader.DataError(f"the tutorial's original corpus is not in {dest} (no {missing}): "
                           "run `tf1-birnn fetch-data` to download it (the data folder is "
                           "$TF1_BIRNN_DATA, else $XDG_CACHE_HOME/tf1_birnn, else "
                           "~/.cache/tf1_birnn)")
