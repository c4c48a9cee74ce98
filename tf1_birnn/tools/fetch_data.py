"""``tf1-birnn fetch-data``: download and verify the tutorial's X.npy/Y.npy (see
``tf1_birnn.data.fetch``), then write the pickle-free ``original.npz`` that ``--data original``
uses."""
import os

from ..data.fetch import DEFAULT_BASE_URL, default_data_dir, fetch_data

__all__ = ["register", "run"]


def register(sub):
    p = sub.add_parser("fetch-data", help="download the tutorial's X.npy/Y.npy (for --data "
                       "original)", description="Download the tutorial's own X.npy and Y.npy "
                       "(public in YJango/tensorflow_basic_tutorial, GPL-3.0; not shipped with "
                       "tf1_birnn), keep each only if its git blob id is the repository's, and "
                       "save them as a pickle-free original.npz for `--data original`.")
    p.add_argument("--dest", metavar="DIR",
                   help="where to put them (default: $TF1_BIRNN_DATA, else "
                        "$XDG_CACHE_HOME/tf1_birnn, else ~/.cache/tf1_birnn; the later "
                        "commands look there)")
    p.add_argument("--base-url", metavar="URL", default=DEFAULT_BASE_URL,
                   help=f"where <URL>/X.npy and <URL>/Y.npy are (default: {DEFAULT_BASE_URL})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args):
    dest = os.path.abspath(args.dest or default_data_dir())
    npz = fetch_data(dest, args.base_url, show_progress=not args.no_progress)
    if dest != default_data_dir():
        print(f"the corpus is ready in {dest}, but --data original looks in "
              f"{default_data_dir()}: set TF1_BIRNN_DATA={dest}, or pass --data {npz}")
    else:
        print("the corpus is ready: train on it with `tf1-birnn train --data original`")
    return 0
