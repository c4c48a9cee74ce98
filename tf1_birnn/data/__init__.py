"""Data: the embedded synthetic corpus, the tutorial's helpers (``Standardize``, ``data_prer``,
...) and the safe loader of the original ``X.npy``/``Y.npy``. Imports nothing else of the
package."""
