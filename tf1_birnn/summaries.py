"""TensorBoard output of a training run (``logs/<run-name>/``).

- scalars ``loss/train`` and ``loss/test`` per epoch (the tutorial's printed numbers) and
  ``loss/train_step`` per Adam step (the loss of the batch before that step, with dropout);
- histograms of every trainable weight matrix and bias ("record the learned weights");
- the graph;
- ``trajectory/test_utterance``: predicted vs real trajectory of a fixed test utterance.

Scalars and images are written as ``Summary`` protos from Python (no extra graph ops);
histograms come from one merged ``tf.compat.v1.summary.histogram`` op run once per epoch.
"""
import tensorflow as tf

from .plot import encode_png, trajectory_image

__all__ = ["RunWriter", "read_scalars"]

Summary = tf.compat.v1.Summary


class RunWriter:
    """Write a run's summaries into ``logdir``; ``resume_step`` purges events after it."""

    def __init__(self, logdir, graph, resume_step=None):
        with graph.as_default():  # FileWriter refuses to be made in eager mode
            self.writer = tf.compat.v1.summary.FileWriter(
                logdir, graph=graph if resume_step is None else None)
            if resume_step is not None:
                # TensorBoard drops the events the interrupted run wrote after this step
                start = tf.compat.v1.SessionLog(status=tf.compat.v1.SessionLog.START)
                self.writer.add_session_log(start, global_step=resume_step)
            hists = [tf.compat.v1.summary.histogram(v.name.replace(":", "_"), v)
                     for v in tf.compat.v1.trainable_variables()]
            self.histograms = tf.compat.v1.summary.merge(hists) if hists else None

    def scalars(self, step, **values):
        """Write scalars ``loss/<name>`` at ``step``."""
        summ = Summary(value=[Summary.Value(tag=f"loss/{k}", simple_value=float(v))
                              for k, v in values.items()])
        self.writer.add_summary(summ, step)

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

    def close(self):
        self.writer.close()


def read_scalars(run_dir):
    """Read a run's scalars back with TensorBoard's loader: ``{tag: [(step, value), ...]}``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(run_dir, size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
