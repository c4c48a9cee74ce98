"""TensorBoard output of a training run (``logs/<run-name>/``).

- scalars ``loss/train`` and ``loss/test`` per epoch (the tutorial's printed numbers), and
  in ``steps/`` ``loss/train_step`` per Adam step (the loss of the batch before that step,
  with dropout);
- histograms of every trainable weight matrix and bias ("record the learned weights");
- the graph;
- ``trajectory/test_utterance``: predicted vs real trajectory of a fixed test utterance.

Scalars and images are written as ``Summary`` protos from Python (no extra graph ops);
histograms come from one merged ``tf.compat.v1.summary.histogram`` op run once per epoch.
"""
import os
import time

import tensorflow as tf

from .plot import encode_png, trajectory_image

__all__ = ["RunWriter", "read_scalars"]

Summary = tf.compat.v1.Summary


class RunWriter:
    """Write a run's summaries: per-epoch ones into ``logdir``, the per-step training loss
    into ``logdir/steps`` (a second TensorBoard run, so that each has one step axis).

    When a run resumes after ``resume_epoch`` epochs (``resume_step`` Adam steps), a
    ``SessionLog.START`` at those steps makes TensorBoard drop what the interrupted process
    wrote after its last checkpoint, so the resumed curves have no duplicate points.
    """

    def __init__(self, logdir, graph, resume_epoch=None, resume_step=None):
        # event files are named by the second they are opened in; a nanosecond suffix keeps
        # two writers of the same second from overwriting each other and keeps them in order
        suffix = f".{time.time_ns()}"
        with graph.as_default():  # FileWriter refuses to be made in eager mode
            self.writer = tf.compat.v1.summary.FileWriter(
                logdir, graph=graph if resume_epoch is None else None, filename_suffix=suffix)
            self.step_writer = tf.compat.v1.summary.FileWriter(
                os.path.join(logdir, "steps"), filename_suffix=suffix)
            for writer, step in ((self.writer, resume_epoch), (self.step_writer, resume_step)):
                if step is not None:
                    start = tf.compat.v1.SessionLog(status=tf.compat.v1.SessionLog.START)
                    writer.add_session_log(start, global_step=step)
            hists = [tf.compat.v1.summary.histogram(v.name.replace(":", "_"), v)
                     for v in tf.compat.v1.trainable_variables()]
            self.histograms = tf.compat.v1.summary.merge(hists) if hists else None

    @staticmethod
    def _scalars(**values):
        return Summary(value=[Summary.Value(tag=f"loss/{k}", simple_value=float(v))
                              for k, v in values.items()])

    def scalars(self, epoch, **values):
        """Write per-epoch scalars ``loss/<name>`` (e.g. ``train``, ``test``) at ``epoch``."""
        self.writer.add_summary(self._scalars(**values), epoch)

    def step_loss(self, step, loss):
        """Write the training loss ``loss/train_step`` of Adam step ``step`` (in ``steps/``)."""
        self.step_writer.add_summary(self._scalars(train_step=loss), step)

    def weights(self, sess, step):
        """Write the histograms of all trainable variables at ``step``."""
        if self.histograms is not None:
            self.writer.add_summary(sess.run(self.histograms), step)

    def trajectory(self, real, pred, step, tag="trajectory/test_utterance"):
        """Write an image of ``real`` vs ``pred`` `[n_frames, D_label]` at ``step``."""
        img = trajectory_image(real, pred)
        image = Summary.Image(height=img.shape[0], width=img.shape[1], colorspace=3,
                              encoded_image_string=encode_png(img))
        self.writer.add_summary(Summary(value=[Summary.Value(tag=tag, image=image)]), step)

    def flush(self):
        self.writer.flush()
        self.step_writer.flush()

    def close(self):
        self.writer.close()
        self.step_writer.close()


def read_scalars(run_dir):
    """Read a run's scalars back with TensorBoard's loader: ``{tag: [(step, value), ...]}``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(run_dir, size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
