"""``Trainer``: the loop over epochs of one run, in the manner of minGPT's ``Trainer``.

A ``Trainer`` takes one config, a built session and the ``RunFolder``; ``run(history)``
trains epochs ``len(history) .. config.epochs - 1``. Each epoch: the Adam steps
(``loop.train_epoch``, one shuffled order per epoch from ``[seed, epoch]``, so a resumed
run sees the order an uninterrupted one would), the losses on both splits (printed as the
tutorial does: ``(epoch, 'train:', loss, 'test:', loss)``), TensorBoard (``RunWriter``),
then ``history.json`` and the checkpoint, in that order, so that a kill at any instant loses
at most the epoch in progress. ``saved`` says how many epochs the run folder holds.
"""
import time
from dataclasses import asdict

import numpy as np

from .checkpoints import PREFIX, kill_point, save_checkpoint
from .diagnose import ReluActivity, dead_relu_warning
from .loop import TrainingDiverged, evaluate, predict_utterance, train_epoch
from .summaries import RunWriter

__all__ = ["Trainer"]


class Trainer:
    """Train ``config`` with ``built`` (``(graph, sess, net, saver)``) into ``folder``.

    ``train``/``test``: lists of ``(x, y)`` utterances; ``corpus``: their fingerprint, saved
    with the history; ``out``: where the per-epoch lines go; ``resumed``: the run continues
    an earlier process's (TensorBoard drops what that process wrote after its last save).
    """

    def __init__(self, config, built, folder, train, test, corpus, out=print,
                 show_progress=True, resumed=False):
        self.config, self.folder = config, folder
        self.graph, self.sess, self.net, self.saver = built
        self.train, self.test, self.corpus = train, test, corpus
        self.out, self.show_progress, self.resumed = out, show_progress, resumed
        self.steps_per_epoch = -(-len(train) // config.batch_size)
        self.saved = 0  # epochs the run folder holds
        self._warned = False  # about dead ReLU units, once

    def run(self, history):
        """Train the epochs after those of ``history`` (one dict per epoch done, kept);
        return the history of all epochs."""
        history, done = list(history), len(history)
        self.saved = done
        resume = dict(resume_epoch=done, resume_step=done * self.steps_per_epoch) \
            if self.resumed else {}
        self.writer = RunWriter(self.folder.path, self.graph, **resume)
        self.writer.config_text(asdict(self.config), done)  # which settings ran
        with self.graph.as_default(), self.sess:
            try:
                for k in range(done, self.config.epochs):
                    history.append(self._epoch(k))
                    kill_point("evaluated", k)
                    self.folder.write_history(self.corpus, history)
                    kill_point("history", k)
                    save_checkpoint(self.saver, self.sess, self.folder.path, k)
                    self.saved = k + 1
            finally:
                self.writer.close()
        return history

    def _epoch(self, k):
        """Train and evaluate epoch ``k``; return its history row."""
        start = time.time()
        first_step = k * self.steps_per_epoch  # of this epoch, for the per-step curve
        rng = np.random.default_rng([self.config.seed, k])  # the same order if resumed
        try:
            train_epoch(self.sess, self.net, self.train, rng, self.config.batch_size,
                        self.config.keep_rate, cell_keep_rate=self.config.cell_keep_rate,
                        on_step=lambda i, loss: self.writer.step_loss(first_step + i, loss),
                        show_progress=self.show_progress, desc=f"epoch {k}")
        except TrainingDiverged as err:
            raise TrainingDiverged(f"{err}; {self._what_is_kept(k)}") from None
        train_seconds = time.time() - start
        tl, dl = self._evaluate(k)
        return dict(epoch=k, train=tl, test=dl, train_seconds=train_seconds,
                    seconds=time.time() - start)

    def _what_is_kept(self, k):
        if self.saved:
            return (f"the last good checkpoint, {PREFIX}-{k - 1} (epoch {k - 1}), is kept in "
                    f"{self.folder.path}")
        return "no epoch had finished" + ("" if self.resumed else ", so no run folder is kept")

    def _evaluate(self, k):
        """Both splits' losses, printed and logged with the epoch's other summaries."""
        sess, net, writer = self.sess, self.net, self.writer
        activity = ReluActivity(net)  # dead ReLUs, counted on the test set's passes
        tl = evaluate(sess, net, self.train, observe=None if self.test else activity)
        dl = evaluate(sess, net, self.test, observe=activity)
        self.out((k, 'train:', round(tl, 3), 'test:', round(dl, 3)))
        writer.scalars(k, train=tl, test=dl)
        shares = activity.shares()
        writer.dead_relu(k, shares)
        warning = None if self._warned else dead_relu_warning(shares)
        if warning:
            self.out(warning)
            self._warned = True
        writer.weights(sess, k)
        if k % self.config.image_every == 0 or k == self.config.epochs - 1:
            writer.trajectory(self.test[0][1], predict_utterance(sess, net, self.test[0][0]), k)
        writer.flush()
        return tl, dl
