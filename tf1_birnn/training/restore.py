"""Restoring a checkpoint into a network: its variables checked against the network's, and
the names of checkpoints written before the gates were named mapped onto today's.

A checkpoint whose variables do not fit the network (another run's, of other sizes) fails
``restore`` like a damaged one, naming the file. Run folders written before the gates were
named carry the names TensorFlow gave their RNN weights then (``rnn0/fw/Variable``,
``Variable_1``, ... in creation order), which ``restore`` maps onto today's names after the
tutorial (``rnn0/fw/rgate/Wx``, ...; see ``legacy_names``). TensorFlow is imported when
``restore`` runs, so that listing and verifying a run needs none.
"""
import re

from .checkpoints import CheckpointError

__all__ = ["restore", "legacy_names"]

# a cell's gate variable as named today: <cell scope>/<gate>/<Wx|Wh|b>[/<Adam slot>]
_GATE_VARIABLE = re.compile(r"^(.+)/(?:igate|fgate|ogate|cell|rgate|ugate)/(?:Wx|Wh|b)(/.*)?$")


def legacy_names(variables):
    """``{name in a checkpoint written before the gates were named: variable}``.

    ``variables`` in creation order (``tf.compat.v1.global_variables()``). The k-th gate
    variable of a cell scope was ``<scope>/Variable`` (k = 0) or ``<scope>/Variable_<k>``;
    Adam's slots follow their variable; every other name is unchanged.
    """
    mapping, counts, old = {}, {}, {}
    for v in variables:
        name = v.op.name
        m = _GATE_VARIABLE.match(name)
        if m is None:
            mapping[name] = v
            continue
        primary = name[:len(name) - len(m.group(2) or "")]
        if primary not in old:  # a primary variable (slots come after all primaries)
            k = counts.get(m.group(1), 0)
            counts[m.group(1)] = k + 1
            old[primary] = f"{m.group(1)}/Variable" + (f"_{k}" if k else "")
        mapping[old[primary] + (m.group(2) or "")] = v
    return mapping


def _check_fits(path, saved, mapping):
    """Refuse a checkpoint whose variables have other shapes than this network's (TensorFlow
    would restore them and fail only when the network runs)."""
    for name, v in mapping.items():
        if name in saved and list(saved[name]) != v.shape.as_list():
            raise CheckpointError(f"{path}: does not fit this network ({name} is "
                                  f"{list(saved[name])} there, {v.shape.as_list()} here)")


def restore(saver, sess, path):
    """``saver.restore``, or from a checkpoint of the old variable names (``legacy_names``);
    :class:`CheckpointError` naming ``path`` when it fails or does not fit the network."""
    import tensorflow as tf  # here, so that listing and verifying a run needs no TensorFlow
    try:
        saved = dict(tf.train.list_variables(path))
        with sess.graph.as_default():
            variables = tf.compat.v1.global_variables()
        mapping = {v.op.name: v for v in variables}
        if set(mapping) <= set(saved):
            _check_fits(path, saved, mapping)
            saver.restore(sess, path)
        else:  # a name missing: maybe a checkpoint of old names
            missing = sorted(set(mapping) - set(saved))
            mapping = legacy_names(variables)
            if not set(mapping) <= set(saved):
                raise CheckpointError(f"{path}: does not fit this network (it has no "
                                      f"{missing[0]}{' ...' if len(missing) > 1 else ''})")
            _check_fits(path, saved, mapping)
            with sess.graph.as_default():
                tf.compat.v1.train.Saver(var_list=mapping).restore(sess, path)
    except CheckpointError:
        raise
    except (tf.errors.OpError, ValueError) as e:
        first = str(getattr(e, "message", e)).strip().splitlines()[0]
        raise CheckpointError(f"{path}: cannot be restored ({type(e).__name__}: {first})") \
            from None
