"""Weight initializers of the tutorial (YJango's ``tensorflow_basic_tutorial``, RNN LV1/LV2).

Each takes a shape list and returns a float32, trainable ``tf.Variable`` created in the
current (``tf.compat.v1``) graph:

- ``weight_init``: uniform in ``±sqrt(5 / fan_in)`` (``fan_in = shape[0]``); drawn by
  TensorFlow, so it follows ``tf.compat.v1.set_random_seed``.
- ``bias_init``: the constant 0.01.
- ``zero_init``: zeros.
- ``orthogonal_initializer``: the orthogonal factor of a Gaussian matrix via SVD (Saxe et al.
  2014); drawn by NumPy, so it follows ``np.random.seed``.

Differences from the tutorial: ``zero_init`` wraps one variable instead of a variable of a
variable, and every shape is checked first.
"""
import numbers

import numpy as np
import tensorflow as tf

__all__ = ["weight_init", "bias_init", "zero_init", "orthogonal_initializer", "check_shape"]


def check_shape(shape, name="shape"):
    """Return ``shape`` as a list of positive ints, or raise naming it and its value."""
    try:
        dims = list(shape)
    except TypeError:
        raise TypeError(f"{name} must be a list of positive integers; got {shape!r}") from None
    if isinstance(shape, (str, bytes)) or not all(
            isinstance(d, numbers.Real) and not isinstance(d, bool) for d in dims):
        raise TypeError(f"{name} must be a list of positive integers; got {shape!r}")
    if not dims or any(not isinstance(d, numbers.Integral) or d <= 0 for d in dims):
        raise ValueError(f"{name} must be a non-empty list of positive integers; got {shape!r}")
    return [int(d) for d in dims]


def weight_init(shape, name=None):
    """Uniform ``±sqrt(5/shape[0])`` weights of shape ``shape`` (e.g. `[D_input, D_cell]`)."""
    shape = check_shape(shape)
    bound = np.sqrt(5.0) * np.sqrt(1.0 / shape[0])
    initial = tf.random.uniform(shape, minval=-bound, maxval=bound, dtype=tf.float32)
    return tf.Variable(initial, trainable=True, name=name)


def bias_init(shape, name=None):
    """Biases of shape ``shape`` (e.g. `[num_units]`), all 0.01."""
    shape = check_shape(shape)
    return tf.Variable(tf.constant(0.01, shape=shape, dtype=tf.float32), trainable=True, name=name)


def zero_init(shape, name=None):
    """Zeros of shape ``shape``."""
    shape = check_shape(shape)
    return tf.Variable(tf.zeros(shape, dtype=tf.float32), trainable=True, name=name)


def orthogonal_initializer(shape, scale=1.0, name=None):
    """Orthogonal weights of shape ``shape`` `[rows, cols]`, drawn with ``np.random``.

    The Gaussian matrix `[shape[0], prod(shape[1:])]` is factored by SVD and the factor of the
    right shape is kept, as in the tutorial (which also ignores ``scale``; we honour it).
    """
    shape = check_shape(shape)
    flat_shape = (shape[0], int(np.prod(shape[1:])))
    a = np.random.normal(0.0, 1.0, flat_shape)
    u, _, v = np.linalg.svd(a, full_matrices=False)
    q = u if u.shape == flat_shape else v
    q = q.reshape(shape)  # [shape[0], shape[1], ...]
    return tf.Variable((scale * q).astype(np.float32), trainable=True, name=name)
