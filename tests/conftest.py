"""Shared fixtures: a fresh ``tf.Graph()`` and ``tf.compat.v1.Session`` per test.

Graph mode is entered only inside ``with graph.as_default()``; eager execution stays on
globally, because the Keras 3 reference layers run eagerly.

Sessions run single-threaded and without Grappler's graph rewrites: on graphs this tiny the
rewrites cost far more than they save, and the tests check the math, not the optimizer.
"""
import contextlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(__file__))  # so tests can `import reference`

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402


def _session_config():
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1,
                                      inter_op_parallelism_threads=1)
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    return config


@contextlib.contextmanager
def _fresh_session():
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph,
                                                  config=_session_config()) as session:
        yield session


@pytest.fixture
def sess():
    """A session on a fresh default graph; build the test's graph inside the test body."""
    with _fresh_session() as session:
        yield session


@pytest.fixture
def new_session():
    """``with new_session() as sess:`` for tests that need more than one fresh graph."""
    return _fresh_session


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def make_loader(variables):
    """Return ``load(sess, values)`` that sets all ``variables`` in one ``session.run``."""
    placeholders = [tf.compat.v1.placeholder(v.dtype.base_dtype, v.shape) for v in variables]
    assign = tf.group(*[v.assign(p) for v, p in zip(variables, placeholders)])

    def load(session, values):
        session.run(assign, dict(zip(placeholders, values)))
    return load


@pytest.fixture
def loader():
    return make_loader


@pytest.fixture
def randomize(rng):
    """``randomize(sess, variables, scale)``: initialize the graph, then give every variable
    random values (normal, std ``scale``) so that biases are not constants."""
    def _randomize(session, variables=None, scale=0.5):
        session.run(tf.compat.v1.global_variables_initializer())
        if variables is None:
            variables = tf.compat.v1.trainable_variables()
        make_loader(variables)(session, [scale * rng.standard_normal(v.shape.as_list())
                                         for v in variables])
    return _randomize


def shared_reference_dir():
    """The folder of the tutorial's reference files (``original_Y.npy``, ...), not shipped.

    ``$TF1_BIRNN_REFERENCE`` if set, else ``shared/reference`` inside the checkout, else
    ``../shared/reference`` beside it; tests that need a file there skip when it is absent.
    """
    import pathlib
    repo = pathlib.Path(__file__).resolve().parents[1]
    candidates = [os.environ.get("TF1_BIRNN_REFERENCE"), repo / "shared" / "reference",
                  repo.parent / "shared" / "reference"]
    for c in candidates:
        if c and pathlib.Path(c).is_dir():
            return pathlib.Path(c)
    return pathlib.Path(candidates[-1])
