"""Tests of tf1_birnn.core.initializers: shapes, dtype, bounds, orthogonality, seeding, errors."""
import numpy as np
import pytest
import tensorflow as tf

from tf1_birnn.core.initializers import bias_init, orthogonal_initializer, weight_init, zero_init

INITS = [weight_init, bias_init, zero_init, orthogonal_initializer]


def _value(init, shape, **kw):
    """Make one variable in a fresh graph and return its initial value."""
    with tf.Graph().as_default() as g, tf.compat.v1.Session(graph=g) as s:
        v = init(shape, **kw)
        s.run(tf.compat.v1.global_variables_initializer())
        return s.run(v)


@pytest.mark.parametrize("init", INITS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [[3, 5], [5, 3], [4, 4], [2, 3, 4]])
def test_shape_dtype_trainable(sess, init, shape):
    v = init(shape, name="v")
    assert v.shape.as_list() == shape
    assert v.dtype.base_dtype == tf.float32
    assert v in tf.compat.v1.trainable_variables()
    sess.run(tf.compat.v1.global_variables_initializer())
    value = sess.run(v)
    assert value.shape == tuple(shape) and value.dtype == np.float32


@pytest.mark.parametrize("fan_in", [1, 4, 20])
def test_weight_init_uniform_bound(fan_in):
    tf.compat.v1.set_random_seed(0)
    value = _value(weight_init, [fan_in, 500])
    bound = np.sqrt(5.0 / fan_in)
    assert np.abs(value).max() <= bound
    # a uniform sample this big gets close to both ends of the interval
    assert value.max() > 0.95 * bound and value.min() < -0.95 * bound
    # mean and std of U(-bound, bound)
    assert abs(value.mean()) < 0.1 * bound
    np.testing.assert_allclose(value.std(), bound / np.sqrt(3.0), rtol=0.05)


def test_bias_and_zero_values():
    np.testing.assert_array_equal(_value(bias_init, [7]), np.full([7], 0.01, np.float32))
    np.testing.assert_array_equal(_value(bias_init, [2, 3]), np.full([2, 3], 0.01, np.float32))
    np.testing.assert_array_equal(_value(zero_init, [3, 4]), np.zeros([3, 4], np.float32))


@pytest.mark.parametrize("shape", [[6, 6], [3, 7], [7, 3]])
def test_orthogonal_is_orthogonal(shape):
    np.random.seed(3)
    q = _value(orthogonal_initializer, shape).astype(np.float64)
    rows, cols = shape
    if rows >= cols:  # orthonormal columns
        np.testing.assert_allclose(q.T @ q, np.eye(cols), atol=1e-5)
    if rows <= cols:  # orthonormal rows
        np.testing.assert_allclose(q @ q.T, np.eye(rows), atol=1e-5)


def test_orthogonal_scale():
    np.random.seed(3)
    q = _value(orthogonal_initializer, [5, 5], scale=2.0).astype(np.float64)
    np.testing.assert_allclose(q.T @ q, 4.0 * np.eye(5), atol=1e-4)


def test_weight_init_follows_tf_graph_seed():
    def draw(seed):
        with tf.Graph().as_default() as g, tf.compat.v1.Session(graph=g) as s:
            tf.compat.v1.set_random_seed(seed)
            v = weight_init([4, 6])
            s.run(tf.compat.v1.global_variables_initializer())
            return s.run(v)
    a, b, c = draw(7), draw(7), draw(8)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_orthogonal_follows_np_seed():
    np.random.seed(11)
    a = _value(orthogonal_initializer, [4, 4])
    np.random.seed(11)
    b = _value(orthogonal_initializer, [4, 4])
    np.random.seed(12)
    c = _value(orthogonal_initializer, [4, 4])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("init", INITS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape, error", [
    ([], ValueError), ([0, 3], ValueError), ([3, -2], ValueError), ([2.5, 3], ValueError),
    (["a", 3], TypeError), (None, TypeError), (5, TypeError),
])
def test_bad_shapes_rejected(sess, init, shape, error):
    with pytest.raises(error, match="shape") as info:
        init(shape)
    assert repr(shape) in str(info.value)
    assert tf.compat.v1.global_variables() == []  # nothing was made
