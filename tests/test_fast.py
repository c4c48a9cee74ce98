"""``RNN(fast=True)`` (``tf1_birnn.core.fast``) against the faithful ``RNN(fast=False)``.

Both paths run on the SAME cell objects (same variables), so outputs and the gradients of a
random projection of the outputs w.r.t. ``W_x``/``W_h``/``b`` of both cells, the initial states
and the input must agree to float32 round-off. The faithful path itself is checked against
the NumPy reference in ``tests/test_rnn.py``.
"""
import numpy as np
import pytest
import tensorflow as tf

from tf1_birnn.core import fast as fast_module
from tf1_birnn.core.cells import GRUcell, LSTMcell
from tf1_birnn.core.initializers import orthogonal_initializer
from tf1_birnn.core.rnn import RNN
from tiny import both_paths

T, N, D_IN, D_CELL = 5, 3, 4, 6


def _build(rng, fw, bw, D_b=D_CELL, h_act=tf.tanh):
    """A random input and initial states, and the two cells (``bw=None``: forward only)."""
    x = tf.Variable(rng.standard_normal((T, N, D_IN)).astype(np.float32))  # [n_steps, n_samples, D_input]
    inits = []

    def make(kind, D_cell):
        h0 = tf.Variable(0.5 * rng.standard_normal((N, D_cell)).astype(np.float32))
        inits.append(h0)
        if kind == "lstm":
            c0 = tf.Variable(0.5 * rng.standard_normal((N, D_cell)).astype(np.float32))
            inits.append(c0)
            return LSTMcell(x, D_IN, D_cell, orthogonal_initializer, h_act=h_act,
                            init_h=h0, init_c=c0)
        return GRUcell(x, D_IN, D_cell, orthogonal_initializer, init_h=h0)

    cell = make(fw, D_CELL)
    cell_b = None if bw is None else make(bw, D_b)
    return x, inits, cell, cell_b


def _compare(sess, randomize, rng, x, inits, cell, cell_b, merge, lengths=None, loops="auto"):
    slow, fast, g_slow, g_fast, wrt, weights = both_paths(cell, cell_b, merge, lengths, x,
                                                          inits, rng, loops=loops)
    assert fast.shape.as_list() == slow.shape.as_list()
    randomize(sess, weights, scale=0.4)
    out_slow, out_fast, gs, gf = sess.run([slow, fast, g_slow, g_fast])
    np.testing.assert_allclose(out_fast, out_slow, rtol=1e-5, atol=1e-5)
    if lengths is not None:  # padded frames output zeros
        for n, length in enumerate(lengths):
            assert not np.any(out_fast[length:, n])
    for v, a, b in zip(wrt, gf, gs):
        assert a is not None, v.name
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=v.name)


@pytest.mark.parametrize("fw,bw,merge,lengths", [
    ("gru", "gru", "sum", None), ("gru", "gru", "sum", [5, 2, 4]),
    ("lstm", "lstm", "concat", None), ("lstm", "lstm", "concat", [2, 5, 4]),
    ("gru", "lstm", "mul", [5, 1, 3]), ("lstm", "gru", "ave", None),
    ("gru", None, "sum", [3, 5, 1]), ("lstm", None, "sum", None)])
def test_fast_equals_faithful(sess, randomize, rng, fw, bw, merge, lengths):
    x, inits, cell, cell_b = _build(rng, fw, bw)
    _compare(sess, randomize, rng, x, inits, cell, cell_b, merge, lengths)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sequential", "concurrent", "shared"])
@pytest.mark.parametrize("fw,bw,lengths", [("gru", "gru", [5, 2, 4]), ("lstm", "lstm", [2, 5, 4]),
                                           ("lstm", "gru", None)])
def test_loop_modes_equal_faithful(sess, randomize, rng, mode, fw, bw, lengths):
    """Every ``loops`` setting gives the faithful numbers ('shared': one loop, leading
    direction axis K = 2, where the directions' kinds match)."""
    x, inits, cell, cell_b = _build(rng, fw, bw)
    _compare(sess, randomize, rng, x, inits, cell, cell_b, "concat", lengths, loops=mode)


def _loops(graph):
    """The graph's while loops (`While` ops), forward ones first, in the order built."""
    return [op for op in graph.get_operations() if op.type in ("While", "StatelessWhile")]


def _depends_on(op, other):
    """True when ``op`` waits for ``other`` through data or control edges."""
    seen, todo = set(), [op]
    while todo:
        node = todo.pop()
        for up in [t.op for t in node.inputs] + list(node.control_inputs):
            if up is other:
                return True
            if up not in seen:
                seen.add(up)
                todo.append(up)
    return False


@pytest.mark.parametrize("mode", ["sequential", "concurrent"])
def test_sequential_loops_wait_for_each_other(sess, rng, mode):
    """'sequential': the backward direction's loop waits for the forward one's, in the forward
    pass and in the gradient's; 'concurrent': the loops are independent."""
    x, inits, cell, cell_b = _build(rng, "lstm", "gru")
    out = RNN(cell, cell_b, "sum", sequence_length=[5, 2, 4], fast=True, loops=mode)
    n_forward = len(_loops(tf.compat.v1.get_default_graph()))
    tf.gradients(tf.reduce_sum(out), cell.variables() + cell_b.variables())
    loops = _loops(tf.compat.v1.get_default_graph())
    assert n_forward == 2 and len(loops) == 4
    for first, second in (loops[:2], loops[2:]):
        assert not _depends_on(first, second)
        assert _depends_on(second, first) == (mode == "sequential")


def test_auto_loop_mode_follows_the_cache(sess, rng, monkeypatch, tmp_path):
    """'auto': sequential when both directions' W_h exceed half the L3 that sysfs reports."""
    x, inits, cell, cell_b = _build(rng, "lstm", "gru")
    weights = 4 * D_CELL * (4 + 3) * D_CELL  # float32 W_h of both directions: 1,008 bytes
    size = tmp_path / "size"
    monkeypatch.setattr(fast_module, "L3_SYSFS", size)
    for text, mode in [("1K", "sequential"), ("2K", "concurrent"), ("1M", "concurrent")]:
        size.write_text(text + "\n")
        assert fast_module.loop_mode([cell, cell_b], "auto") == mode, (text, weights)
        assert fast_module.loop_mode([cell, cell_b], "shared") == "shared"
    size.write_text(str(2 * weights))  # plain bytes: half the cache equals the weights
    assert fast_module.loop_mode([cell, cell_b], "auto") == "concurrent"
    size.unlink()  # no sysfs: L3_DEFAULT
    assert fast_module.cache_bytes() == fast_module.L3_DEFAULT


@pytest.mark.parametrize("fast", [False, True])
def test_bad_loops_setting_is_named(sess, rng, fast):
    x, inits, cell, cell_b = _build(rng, "gru", "gru")
    with pytest.raises(ValueError, match="loops must be one of .*got 'parallel'"):
        RNN(cell, cell_b, "sum", fast=fast, loops="parallel")
    assert not hasattr(fast_module, "LOOPS")  # an argument, not a module global


def test_fast_concat_of_different_sizes(sess, randomize, rng):
    x, inits, cell, cell_b = _build(rng, "gru", "gru", D_b=3)
    _compare(sess, randomize, rng, x, inits, cell, cell_b, "concat", [1, 5, 3])


def test_fast_lstm_other_h_act_falls_back(sess, randomize, rng):
    """An LSTM without an analytic gradient here: the whole layer (its GRU direction too) runs
    the faithful ``tf.scan``, as Keras's ``GRU`` falls back from cuDNN."""
    x, inits, cell, cell_b = _build(rng, "lstm", "gru", h_act=tf.sigmoid)
    RNN(cell, cell_b, "sum", sequence_length=[4, 5, 1], fast=True)
    loops = [op.name for op in _loops(tf.compat.v1.get_default_graph())]
    assert loops == ["hstates/while", "b_hstates/while"]  # run_cell's tf.scans only
    _compare(sess, randomize, rng, x, inits, cell, cell_b, "sum", [4, 5, 1])


@pytest.mark.slow
def test_fast_network_matches_faithful(rng):
    """The whole birnn network: same loss and same gradients with ``fast=True``."""
    from tf1_birnn.core.network import build_network
    feed_x = rng.standard_normal((2, T, 39)).astype(np.float32)
    feed_y = rng.standard_normal((2 * T, 24)).astype(np.float32)
    results = []
    for fast in (False, True):
        graph = tf.Graph()
        with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
            tf.compat.v1.set_random_seed(0)
            np.random.seed(0)
            net = build_network(num_units=8, fast=fast, variable_length=True)
            variables = tf.compat.v1.trainable_variables()
            grads = tf.gradients(net.loss, variables)
            sess.run(tf.compat.v1.global_variables_initializer())
            feed = {net.inputs: feed_x, net.labels: feed_y, net.drop_keep_rate: 1.0,
                    net.sequence_length: [T, 3]}
            results.append(sess.run([net.loss] + grads, feed))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_matches_tf_scan(reverse):
    """``fast_loop.while_scan`` (while_loop, carry apart from outputs) against ``tf.scan``."""
    from tf1_birnn.core.fast_loop import while_scan
    rng = np.random.default_rng(3)
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        a = tf.constant(rng.standard_normal((T, N, D_CELL)).astype(np.float32))  # [n_steps, n_samples, D]
        b = tf.constant(rng.standard_normal((T, N, D_CELL)).astype(np.float32))
        h0 = tf.constant(rng.standard_normal((N, D_CELL)).astype(np.float32))

        def fn(carry, elems):
            h = tf.tanh(carry[0] * elems[0] + elems[1])
            return (h,), (h, 2 * h)

        (H, H2), carry = while_scan(fn, (a, b), (h0,), 2, reverse=reverse)
        ref = tf.scan(lambda h, e: tf.tanh(h * e[0] + e[1]), (a, b), initializer=h0,
                      reverse=reverse)
        assert H.shape.as_list() == [T, N, D_CELL]
        out, out2, last, want = sess.run([H, H2, carry[0], ref])
    np.testing.assert_allclose(out, want, rtol=1e-6)
    np.testing.assert_allclose(out2, 2 * want, rtol=1e-6)
    np.testing.assert_allclose(last, want[0] if reverse else want[-1], rtol=1e-6)


@pytest.mark.parametrize("module", ["fast", "fast_cells", "fast_loop"])
def test_fast_module_does_not_import_rnn(module):
    """One skeleton: ``rnn.RNN`` calls the fast recurrence, never the other way round; the
    fast path knows cells only by what they say (``has_memory``, ``init_states``)."""
    import ast
    import importlib
    path = importlib.import_module(f"tf1_birnn.core.{module}").__file__
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names]
    assert not [m for m in imported if m.endswith(("rnn", "cells")) and m != "fast_cells"
                or "tf1_birnn" in m], imported


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_fast_path_has_no_scan(sess, rng, kind):
    """The fast recurrence of both cell types is a ``while_loop``, not the faithful ``tf.scan``."""
    x, inits, cell, cell_b = _build(rng, kind, kind)
    RNN(cell, cell_b, "sum", sequence_length=[5, 2, 4], fast=True)
    names = [op.name for op in tf.compat.v1.get_default_graph().get_operations()]
    assert not [n for n in names if "hstates" in n]  # run_cell's tf.scan scopes
    assert any(op.type == "Enter" or op.type == "While" or op.type == "StatelessWhile"
               for op in tf.compat.v1.get_default_graph().get_operations())


def test_fast_lstm_mixed_sizes_concat(sess, randomize, rng):
    x, inits, cell, cell_b = _build(rng, "lstm", "gru", D_b=3)
    _compare(sess, randomize, rng, x, inits, cell, cell_b, "concat", [5, 1, 3])
