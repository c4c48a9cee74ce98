"""Is the network dead? The share of dead ReLU units per layer, and a warning saying what
to try.

A ReLU unit is dead when it outputs 0 on (nearly) every frame: no gradient reaches its
weights, so it stays dead. Here "dead" means 0 on at least ``DEAD_FRAMES`` (99%) of the
frames evaluated. When every unit of a layer is dead, that layer passes on a constant and
the network predicts a constant: the loss is 1.000, the variance of the
standardized labels, until enough units come back (the training frames and the frames a
unit still fires on pass some gradient: runs at ``--num-units 16`` and ``32`` have
recovered within 2-3 epochs, so the warning says "now", not "for good"). This happens with ``--num-units 16`` or ``32`` (a few large Adam
steps kill a small layer): ``tf1-birnn train --num-units 16 --epochs 3`` ended with every
unit of ``ff_out1`` dead. Healthy runs have dead units too: ``tf1-birnn train --epochs 2``
(the quick preset, 128 units) had 85% of ``ff_out0`` dead after epoch 0 and 45% after
epoch 1 (both on the embedded corpus's test set). So only a whole dead layer is warned
about.
"""
import numpy as np

__all__ = ["ReluActivity", "dead_relu_shares", "dead_relu_warning", "DEAD_FRAMES"]

DEAD_FRAMES = 0.99  # a unit is dead when it outputs 0 on at least this share of frames


class ReluActivity:
    """Counts, per ReLU layer of ``net``, the real frames on which each unit is > 0, from the
    forward passes that ``loop.evaluate(..., observe=activity)`` runs anyway (padded
    minibatches: padded frames are left out). ``shares()`` then equals ``dead_relu_shares``
    on the same utterances (tested), without a second pass over them."""

    def __init__(self, net):
        self.names = list(net.relu_outputs)
        # each [n_samples*n_steps, num_units]
        self.fetches = [net.relu_outputs[name] for name in self.names]
        self.active = {name: 0 for name in self.names}
        self.frames = 0

    def add(self, outputs, lengths):
        """``outputs``: the fetched ReLU outputs of one minibatch (utterance-major rows);
        ``lengths``: its utterances' lengths `[n_samples]`."""
        if not self.names:
            return
        n_steps = outputs[0].shape[0] // len(lengths)
        real = (np.arange(n_steps)[None, :] < np.asarray(lengths)[:, None]).reshape(-1)
        for name, out in zip(self.names, outputs):
            self.active[name] = self.active[name] + (out[real] > 0).sum(axis=0)
        self.frames += int(np.sum(lengths))

    def shares(self):
        """``{layer: share of units dead}`` over the frames added so far (``{}`` if none)."""
        if not self.frames:
            return {}
        return {name: float(np.mean(self.active[name] <= (1 - DEAD_FRAMES) * self.frames))
                for name in self.names}


def dead_relu_shares(sess, net, pairs):
    """``{layer: share}``: the share of each ReLU layer's units that output 0 on at least
    ``DEAD_FRAMES`` of the frames of ``pairs`` (``[x, y]`` with ``x`` `[1, n_frames,
    D_input]`), dropout off; ``{}`` for a network without ReLU layers. Utterances go one at
    a time, so no padding counts."""
    names = list(net.relu_outputs)
    if not names or not pairs:
        return {}
    active = {name: 0 for name in names}  # frames on which each unit is > 0: [num_units]
    frames = 0
    for x, _ in pairs:
        feed = {net.inputs: x, net.drop_keep_rate: 1.0}
        if net.sequence_length is not None:
            feed[net.sequence_length] = np.array([x.shape[1]], np.int32)
        outputs = sess.run([net.relu_outputs[name] for name in names], feed)
        for name, out in zip(names, outputs):  # out: [n_frames, num_units]
            active[name] = active[name] + (out > 0).sum(axis=0)
        frames += x.shape[1]
    return {name: float(np.mean(active[name] <= (1 - DEAD_FRAMES) * frames))
            for name in names}


def dead_relu_warning(shares):
    """A one-line warning naming the layers of ``shares`` whose units are all dead, else
    ``None``."""
    dead = [name for name, share in shares.items() if share >= 1.0]
    if not dead:
        return None
    return (f"warning: every ReLU unit of {', '.join(dead)} outputs 0 on the test frames "
            "(dead ReLUs), so the network now predicts a constant (loss near 1.000); small "
            "networks sometimes recover within a few epochs, else try a lower "
            "--learning-rate, more --num-units or another --seed")
