"""Our cells' weights in the layout of TensorFlow's own Keras ``GRU`` / ``LSTM`` layers.

With these weights Keras computes the same outputs as our cells, which is how the tests and
notebook 04 check the cells against an implementation we did not write:

- GRU: ours is ``[r, u, c]`` with ``h = (1 - u) * h_prev + u * c``; Keras's
  ``GRU(reset_after=True, recurrent_activation='sigmoid')`` is ``[z, r, h]`` with
  ``h = z * h_prev + (1 - z) * hh``, so ``z = 1 - u = sigmoid(-pre_u)``: the u columns map to
  z with a sign flip. Our recurrent bias is zero (the tutorial has one bias per gate); Keras's
  ``reset_after`` bias has an input row and a recurrent row.
- LSTM: ours is ``[i, f, o, c]``, Keras's ``[i, f, c, o]``; one bias vector each.

Dropout inside the cells (``tf1_birnn.core.dropout``): our ``'variational'`` form is Keras's
``dropout`` (mask on the input before the kernel) plus ``recurrent_dropout`` (mask on
``h_tm1`` before the recurrent kernel), which ``keras_layer`` passes on. Keras 3 then runs
``implementation=1`` and draws one mask per gate; our fused gates share one mask, so a
comparison gives every Keras gate the same mask. Our ``'candidate'`` form has no Keras
counterpart.

Keras 3 runs eagerly, not inside a ``tf.compat.v1`` graph: read our weights from a session
first, then build the Keras layer outside the graph.
"""
import numpy as np

__all__ = ["keras_weights", "keras_layer"]


def keras_weights(kind, W_x, W_h, b):
    """Map our fused ``W_x`` `[D_input, G*D_cell]`, ``W_h`` `[D_cell, G*D_cell]`, ``b``
    `[G*D_cell]` (NumPy) to the weight list of Keras's ``kind`` ('gru'/'lstm') layer."""
    n_gates = {"gru": 3, "lstm": 4}.get(kind)
    if n_gates is None:
        raise ValueError(f"kind must be 'gru' or 'lstm'; got {kind!r}")
    for name, W in (("W_x", W_x), ("W_h", W_h), ("b", b)):
        if np.shape(W)[-1] % n_gates:
            raise ValueError(f"{name} has {np.shape(W)[-1]} columns; a {kind.upper()} needs "
                             f"{n_gates}*D_cell")
    if kind == "gru":
        def to_keras(W):
            r, u, c = np.split(W, 3, axis=-1)
            return np.concatenate([-u, r, c], axis=-1)  # z = sigmoid(-pre_u) = 1 - u
        bias = np.stack([to_keras(b), np.zeros_like(b)])  # [input bias row, recurrent bias row]
        return [to_keras(W_x), to_keras(W_h), bias]

    def to_keras(W):  # LSTM
        i, f, o, c = np.split(W, 4, axis=-1)
        return np.concatenate([i, f, c, o], axis=-1)
    return [to_keras(W_x), to_keras(W_h), to_keras(b)]


def keras_layer(kind, D_input, D_cell, weights=None, go_backwards=False, dropout=0.0,
                recurrent_dropout=0.0):
    """A Keras ``GRU``/``LSTM`` layer (``return_sequences=True``) equal to our ``kind`` cell.

    ``weights``: our ``(W_x, W_h, b)`` as NumPy arrays, mapped with ``keras_weights``.
    The layer takes batch-major input `[n_samples, n_steps, D_input]`. ``dropout`` and
    ``recurrent_dropout``: Keras's drop rates (``1 - keep_rate``), active with ``training=True``.
    """
    import keras  # Keras 3, eager only

    drop = dict(dropout=dropout, recurrent_dropout=recurrent_dropout)
    if kind == "gru":
        layer = keras.layers.GRU(D_cell, reset_after=True, recurrent_activation="sigmoid",
                                 return_sequences=True, go_backwards=go_backwards, **drop)
    elif kind == "lstm":
        layer = keras.layers.LSTM(D_cell, recurrent_activation="sigmoid",
                                  return_sequences=True, go_backwards=go_backwards, **drop)
    else:
        raise ValueError(f"kind must be 'gru' or 'lstm'; got {kind!r}")
    layer.build((None, None, D_input))
    if weights is not None:
        mapped = keras_weights(kind, *weights)
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if [m.shape for m in mapped] != expected:
            raise ValueError(f"weights of shapes {[m.shape for m in mapped]} do not fit a Keras "
                             f"{kind.upper()} layer with shapes {expected}")
        layer.set_weights(mapped)
    return layer
