"""One epoch as in the tutorial: one utterance per Adam step, then the evaluation.

``train_epoch`` mirrors the body of the tutorial's loop: shuffle the training utterances and
run one Adam step per utterance with dropout at the run's keep rate; ``evaluate`` gives, with
keep rate 1.0, the mean per-utterance MSE of a set, which ``tf1_birnn.training.trainer.Trainer``
(the loop over epochs) prints as ``(k, 'train:', x, 'test:', y)``. Where the tutorial divides by
the hard-coded 83 and 20, we divide by the real number of utterances.

Beyond the tutorial: ``batch_size > 1`` trains on padded minibatches with per-sequence
lengths (the loss is then the mean of the utterances' MSEs over their real frames), a
non-finite loss stops the run (``TrainingDiverged``), and evaluation batches utterances
(padded and masked), which changes no result.
"""
import math

import numpy as np

from ..data.helpers import shufflelists
from .progress import progress

__all__ = ["TrainingDiverged", "make_batches", "train_epoch", "evaluate", "predict_utterance"]


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite."""


def make_batches(pairs, batch_size):
    """Group `[x, y]` pairs into padded minibatches.

    ``x`` is `[1, n_frames, D_input]` and ``y`` `[n_frames, D_label]`, as ``data_prer`` makes
    them. Yields ``(inputs, labels, lengths)``: `[n_samples, n_steps, D_input]`,
    `[n_samples*n_steps, D_label]` (zero-padded rows) and `[n_samples]`.
    """
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start:start + batch_size]
        lengths = np.array([y.shape[0] for _, y in chunk], dtype=np.int32)
        n_steps = int(lengths.max())
        D_input, D_label = chunk[0][0].shape[2], chunk[0][1].shape[1]
        inputs = np.zeros((len(chunk), n_steps, D_input), np.float32)
        labels = np.zeros((len(chunk), n_steps, D_label), np.float32)
        for k, (x, y) in enumerate(chunk):
            inputs[k, :lengths[k]] = x[0]
            labels[k, :lengths[k]] = y
        yield inputs, labels.reshape(-1, D_label), lengths  # labels [n_samples*n_steps, D_label]


def _feed(net, batch, keep, cell_keep=None):
    """The feed of one batch at dropout keep rate ``keep`` (and ``cell_keep`` inside the
    cells; ``None``: the same as ``keep``)."""
    inputs, labels, lengths = batch
    feed = {net.inputs: inputs, net.labels: labels, net.drop_keep_rate: keep,
            net.sequence_length: lengths}
    if cell_keep is not None:
        feed[net.cell_keep_rate] = cell_keep
    return feed


def _check_train_batch(net, batch):
    """Training on padded minibatches needs the masked loss of ``variable_length=True``, whose
    lengths are a plain placeholder (otherwise they default to full lengths)."""
    if len(batch[2]) != 1 and net.sequence_length.op.type != "Placeholder":
        raise ValueError(f"this network takes one utterance per step; got a batch of "
                         f"{len(batch[2])} (build it with variable_length=True)")


def train_epoch(sess, net, train, rng, batch_size, keep_rate, *, cell_keep_rate=None,
                on_step=None, show_progress=True, desc="train"):
    """One pass of Adam steps over the shuffled ``train`` pairs; return the step losses.

    ``rng``: a ``np.random.Generator`` that shuffles the utterances; ``batch_size``
    utterances per Adam step at dropout ``keep_rate``, and ``cell_keep_rate`` inside the cells
    (``None``: ``keep_rate``); the run's ``RunConfig`` says which.
    ``on_step(i, loss)`` is called after each step with the loss of that batch before the
    update.
    """
    shuffled = shufflelists(train, rng)
    bar = progress(math.ceil(len(train) / batch_size), desc, show_progress)
    losses = []
    try:
        for i, batch in enumerate(make_batches(shuffled, batch_size)):
            _check_train_batch(net, batch)
            _, loss = sess.run([net.train_step, net.loss], _feed(net, batch, keep_rate,
                                                                     cell_keep_rate))
            if not np.isfinite(loss):
                raise TrainingDiverged(f"the training loss became {loss} at step {i} of the epoch; "
                                       "try a lower --learning-rate")
            losses.append(float(loss))
            if on_step is not None:
                on_step(i, float(loss))
            bar.update(1)
    finally:
        bar.close()
    return losses


def evaluate(sess, net, pairs, batch_size=16, observe=None):
    """Mean per-utterance MSE of ``pairs`` with dropout off: the tutorial's per-epoch number.

    Utterances go in padded minibatches of up to ``batch_size`` (sorted by length, so that
    little is padded), with their lengths fed to ``net.sequence_length``: the RNN freezes its
    state on padded frames and reverses each utterance within its own length, and
    ``net.per_utterance_loss`` counts real frames only, so every utterance's MSE is the one it
    gets alone (tested equal to ``batch_size=1``, the tutorial's one at a time).

    ``observe``: optional, an object with ``fetches`` (tensors fetched in the same runs) and
    ``add(values, lengths)``, called per minibatch (e.g. ``diagnose.ReluActivity``).
    """
    if not pairs:
        return float("nan")
    ordered = sorted(pairs, key=lambda p: p[1].shape[0])
    extra = list(observe.fetches) if observe is not None else []
    total = 0.0
    for batch in make_batches(ordered, batch_size):
        losses, *values = sess.run([net.per_utterance_loss] + extra, _feed(net, batch, 1.0))
        total += float(np.sum(losses))
        if observe is not None:
            observe.add(values, batch[2])
    return total / len(pairs)


def predict_utterance(sess, net, x):
    """Predict the trajectory of one utterance: ``x`` `[1, n_frames, D_input]` ->
    `[n_frames, D_label]`."""
    lengths = np.array([x.shape[1]], np.int32)
    labels = np.zeros((x.shape[1], net.labels.shape[1]), np.float32)
    return sess.run(net.output, _feed(net, (x, labels, lengths), 1.0))
