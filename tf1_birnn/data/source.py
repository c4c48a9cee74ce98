"""Where a run's corpus comes from: one small value, :class:`DataSource`, saved in ``config.json``.

Kinds:

- ``synthetic``: the embedded synthetic corpus (:func:`tf1_birnn.data.synthetic.synthetic_corpus`)
  made with ``seed``;
- ``npz``: a pickle-free corpus file written by ``tf1-birnn convert`` (``paths = (npz,)``);
- ``original-files``: the tutorial's ``X.npy``/``Y.npy`` given by path (``--data-x/--data-y``,
  ``paths = (X.npy, Y.npy)``), read with the safe unpickler;
- ``fetched-original``: the same files as downloaded by ``tf1-birnn fetch-data`` into the
  per-user data folder (``--data original``; the folder is looked up when loading, see
  :func:`tf1_birnn.data.fetch.default_data_dir`).

``cut = (max_utterances, max_frames)`` keeps the first utterances and the first frames of each
(``None``: all). ``validation=True`` keeps the training utterances only (the corpus's test
split, ``train_test_split``, is left out before anything else): a run on it evaluates on
the first part of the training split, a validation set, so that settings such as a keep rate
can be chosen without looking at the test set. A run stores ``DataSource.to_json()`` (a JSON
string) in its ``data`` setting; :meth:`DataSource.from_json` also reads the strings of older
runs (``"synthetic:0"``, ``"npz:<path>"``, ``"original:<X>|<Y>"``, each optionally ending in
``"#cut=<n>,<f>"``).
"""
import json
import os
import re
from dataclasses import dataclass

from .loader import DataError

__all__ = ["DataSource", "KINDS"]

KINDS = ("synthetic", "npz", "original-files", "fetched-original")
_N_PATHS = {"synthetic": 0, "npz": 1, "original-files": 2, "fetched-original": 0}


def _check_cut_value(value, name):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise DataError(f"{name} must be a positive integer or None; got {value!r}")


@dataclass(frozen=True)
class DataSource:
    """A corpus: ``kind`` (one of :data:`KINDS`), ``seed`` (synthetic), ``paths`` (absolute),
    ``cut`` ``(max_utterances, max_frames)``, ``validation`` (the training split only).
    Equal values load equal corpora."""
    kind: str = "synthetic"
    seed: int = 0
    paths: tuple = ()
    cut: tuple = (None, None)
    validation: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise DataError(f"data kind must be one of {', '.join(map(repr, KINDS))}; "
                            f"got {self.kind!r}")
        object.__setattr__(self, "paths", tuple(str(p) for p in self.paths))
        object.__setattr__(self, "cut", tuple(self.cut))
        if len(self.paths) != _N_PATHS[self.kind]:
            raise DataError(f"a {self.kind} data source takes {_N_PATHS[self.kind]} path(s); "
                            f"got {list(self.paths)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise DataError(f"the corpus seed must be an integer; got {self.seed!r}")
        if self.kind != "synthetic" and self.seed != 0:
            raise DataError(f"a corpus seed only applies to the synthetic corpus; got seed "
                            f"{self.seed} for {self.kind} data")
        if not isinstance(self.validation, bool):
            raise DataError(f"validation must be True or False; got {self.validation!r}")
        if len(self.cut) != 2:
            raise DataError(f"cut must be (max_utterances, max_frames); got {self.cut!r}")
        _check_cut_value(self.cut[0], "max_utterances")
        _check_cut_value(self.cut[1], "max_frames")

    @classmethod
    def parse(cls, data=None, seed=None):
        """The source a ``--data`` value names: ``"original"`` (the fetched corpus),
        ``"synthetic"`` or ``None`` (the embedded corpus with ``seed``, default 0), or the path
        of a ``.npz`` corpus (write ``./original`` for a file named ``original``)."""
        if data in (None, "synthetic"):
            return cls("synthetic", seed=seed or 0)
        if seed is not None:
            raise DataError(f"--corpus-seed applies to the synthetic corpus only; got "
                            f"--data {data}")
        if data == "original":
            return cls("fetched-original")
        return cls("npz", paths=(os.path.abspath(data),))

    @classmethod
    def original_files(cls, x_path, y_path):
        """The tutorial's ``X.npy``/``Y.npy`` at these paths."""
        return cls("original-files", paths=(os.path.abspath(x_path), os.path.abspath(y_path)))

    def with_cut(self, max_utterances=None, max_frames=None):
        """This source keeping only the first ``max_utterances``, each cut to ``max_frames``."""
        if max_utterances is None and max_frames is None:
            return self
        return DataSource(self.kind, self.seed, self.paths, (max_utterances, max_frames),
                          self.validation)

    def train_split_only(self):
        """This source keeping the training utterances only (see ``validation``)."""
        return DataSource(self.kind, self.seed, self.paths, self.cut, True)

    @property
    def is_original(self):
        """True for the tutorial's own recordings (given by path or fetched)."""
        return self.kind in ("original-files", "fetched-original")

    def to_json(self):
        """A JSON string of this source (what a run's ``config.json`` stores)."""
        value = {"kind": self.kind}
        if self.kind == "synthetic":
            value["seed"] = self.seed
        if self.paths:
            value["paths"] = list(self.paths)
        if self.cut != (None, None):
            value["cut"] = list(self.cut)
        if self.validation:
            value["validation"] = True
        return json.dumps(value, sort_keys=True)

    @classmethod
    def from_json(cls, value):
        """A :class:`DataSource` from ``to_json()``'s string, its dict, an older run's string
        (``"npz:<path>#cut=6,12"``...), or a :class:`DataSource` (returned as is)."""
        if isinstance(value, DataSource):
            return value
        if isinstance(value, str) and value.lstrip().startswith("{"):
            try:
                value = json.loads(value)
            except ValueError as e:
                raise DataError(f"unreadable data source {value!r} ({e})") from None
        if isinstance(value, dict):
            unknown = set(value) - {"kind", "seed", "paths", "cut", "validation"}
            if unknown or "kind" not in value:
                raise DataError(f"unknown data source {value!r}")
            return cls(value["kind"], value.get("seed", 0), tuple(value.get("paths", ())),
                       tuple(value.get("cut") or (None, None)), value.get("validation", False))
        if isinstance(value, str):
            return cls._from_old_string(value)
        raise DataError(f"unknown data source {value!r}")

    @classmethod
    def _from_old_string(cls, text):
        """Parse the string format of runs made before :class:`DataSource` existed."""
        head, marker, cut = text.rpartition("#cut=")  # the cut was always appended last
        if not marker or not re.fullmatch(r"\d*,\d*", cut):  # "#cut=" was in the path
            head, marker, cut = text, "", ""
        kind, _, where = head.partition(":")
        try:
            if kind == "synthetic":
                source = cls("synthetic", seed=int(where))
            elif kind == "npz":
                source = cls("npz", paths=(where,))
            elif kind == "original":
                x_path, y_path = where.split("|")
                source = cls("original-files", paths=(x_path, y_path))
            else:
                raise ValueError(kind)
            if marker:
                n, _, f = cut.partition(",")
                source = source.with_cut(int(n) if n else None, int(f) if f else None)
        except ValueError:
            raise DataError(f"unknown data source {text!r}") from None
        return source

    def describe(self):
        """A short human-readable description, e.g. for reports and error messages."""
        if self.kind == "synthetic":
            text = f"the embedded synthetic corpus (seed {self.seed})"
        elif self.kind == "npz":
            text = f"the .npz corpus {self.paths[0]}"
        elif self.kind == "original-files":
            text = f"the tutorial's X.npy/Y.npy ({self.paths[0]}, {self.paths[1]})"
        else:
            text = "the tutorial's X.npy/Y.npy fetched by `tf1-birnn fetch-data`"
        if self.validation:
            text += ", its training split only (validation)"
        n, f = self.cut
        if n is not None:
            text += f", first {n} utterances"
        if f is not None:
            text += f", at most {f} frames each"
        return text

    def load(self):
        """The corpus ``(X, Y)``: lists of float32 arrays `[n_frames, D_input]` and
        `[n_frames, D_label]`, cut as :attr:`cut` says."""
        if self.kind == "synthetic":
            from .synthetic import synthetic_corpus
            X, Y = synthetic_corpus(seed=self.seed)
        elif self.kind == "npz":
            from .loader import load_npz
            X, Y = load_npz(self.paths[0])
        elif self.kind == "original-files":
            from .loader import load_original
            X, Y = load_original(*self.paths)
        else:
            from .fetch import load_fetched
            X, Y = load_fetched()
        if self.validation:  # the test split left out, before any cut
            from .helpers import train_test_split
            X, Y = train_test_split(X)[0], train_test_split(Y)[0]
        if self.cut != (None, None):
            from .helpers import cut_corpus
            X, Y = cut_corpus(X, Y, *self.cut)
        return X, Y
