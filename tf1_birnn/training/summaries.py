"""TensorBoard output of a training run (``logs/<run-name>/``), in TensorBoard's (and
Keras's) convention of one tag per quantity, written by one run per split:

- ``train/`` and ``test/``: the scalar ``loss`` per epoch (the tutorial's printed numbers),
  so that TensorBoard draws the train and test curves on one chart;
- ``steps/``: ``loss_per_step``, the loss of every Adam step (of the batch before that step,
  with dropout); apart, because its x axis counts steps, not epochs;
- the run folder itself: the graph; histograms of every trainable variable under
  ``weights/`` with its name in the network (``weights/rnn0/fw/rgate/Wx``,
  ``weights/ff_in0/W``); ``relu/dead_share/<layer>``, the share of dead ReLU units per
  epoch; the image ``trajectory/test_utterance``, predicted vs real trajectory of a fixed
  test utterance; the text ``config``, the run's settings as a table (TensorBoard's Text
  tab), so that runs on one chart can be told apart (e.g. by ``cell_dropout``). Tags are
  chosen so that ``loss`` sorts first on TensorBoard's pages.

Scalars and images are written as ``Summary`` protos from Python (no extra graph ops);
histograms come from one merged summary op run once per epoch.
"""
import os
import time

import tensorflow as tf

from .plot import trajectory_png

__all__ = ["RunWriter", "read_scalars", "read_text", "SPLITS"]

Summary = tf.compat.v1.Summary
SPLITS = ("train", "test")  # the per-epoch runs, one subfolder each


class RunWriter:
    """Write a run's summaries: ``loss`` per epoch into ``logdir/train`` and ``logdir/test``,
    the per-step loss into ``logdir/steps``, and the rest into ``logdir``.

    When a run resumes after ``resume_epoch`` epochs (``resume_step`` Adam steps), a
    ``SessionLog.START`` at those steps in every folder makes TensorBoard drop what the
    interrupted process wrote after its last checkpoint, so the resumed curves have no
    duplicate points.
    """

    def __init__(self, logdir, graph, resume_epoch=None, resume_step=None):
        # event files are named by the second they are opened in; a nanosecond suffix keeps
        # two writers of the same second from overwriting each other and keeps them in order
        suffix = f".{time.time_ns()}"
        with graph.as_default():  # FileWriter refuses to be made in eager mode
            def writer(folder, **kwargs):
                return tf.compat.v1.summary.FileWriter(folder, filename_suffix=suffix, **kwargs)
            self.writer = writer(logdir, graph=graph if resume_epoch is None else None)
            self.split_writers = {s: writer(os.path.join(logdir, s)) for s in SPLITS}
            self.step_writer = writer(os.path.join(logdir, "steps"))
            starts = [(w, resume_epoch) for w in [self.writer, *self.split_writers.values()]]
            for w, step in starts + [(self.step_writer, resume_step)]:
                if step is not None:
                    start = tf.compat.v1.SessionLog(status=tf.compat.v1.SessionLog.START)
                    w.add_session_log(start, global_step=step)
            with tf.name_scope("summaries"):
                hists = [tf.raw_ops.HistogramSummary(tag=f"weights/{v.op.name}", values=v)
                         for v in tf.compat.v1.trainable_variables()]
            self.histograms = tf.compat.v1.summary.merge(hists) if hists else None

    @property
    def _all(self):
        return [self.writer, *self.split_writers.values(), self.step_writer]

    @staticmethod
    def _scalars(**values):
        return Summary(value=[Summary.Value(tag=k, simple_value=float(v))
                              for k, v in values.items()])

    def scalars(self, epoch, **losses):
        """Write each split's loss (e.g. ``train=0.9, test=1.0``) as ``loss`` in the split's
        folder at ``epoch``."""
        for split, loss in losses.items():
            if split not in self.split_writers:
                raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
            self.split_writers[split].add_summary(self._scalars(loss=loss), epoch)

    def step_loss(self, step, loss):
        """Write the training loss ``loss_per_step`` of Adam step ``step`` (in ``steps/``)."""
        self.step_writer.add_summary(self._scalars(loss_per_step=loss), step)

    def dead_relu(self, epoch, shares):
        """Write ``relu/dead_share/<layer>`` for each ``layer: share`` of ``shares``."""
        if shares:
            self.writer.add_summary(self._scalars(**{f"relu/dead_share/{k}": v
                                                     for k, v in shares.items()}), epoch)

    def config_text(self, settings, step):
        """Write ``settings`` (name -> value, e.g. ``asdict(config)``) as the text ``config``
        at ``step``: a Markdown table of one row per setting."""
        rows = ["| setting | value |", "|---|---|"]
        rows += [f"| {name} | {value!r} |" for name, value in settings.items()]
        meta = tf.compat.v1.SummaryMetadata(
            plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="text"))
        tensor = tf.compat.v1.make_tensor_proto("\n".join(rows), dtype=tf.string)
        self.writer.add_summary(Summary(value=[Summary.Value(tag="config", metadata=meta,
                                                             tensor=tensor)]), step)

    def weights(self, sess, step):
        """Write the histograms of all trainable variables at ``step``."""
        if self.histograms is not None:
            self.writer.add_summary(sess.run(self.histograms), step)

    def trajectory(self, real, pred, step, tag="trajectory/test_utterance"):
        """Write the picture of ``real`` vs ``pred`` `[n_frames, D_label]` (its first four
        channels, named, with a legend) at ``step``."""
        png = trajectory_png(real, pred, channels=tuple(range(min(4, real.shape[1]))),
                             title=f"test utterance, epoch {step}")
        height, width = int.from_bytes(png[20:24], "big"), int.from_bytes(png[16:20], "big")
        image = Summary.Image(height=height, width=width, colorspace=4,  # RGBA
                              encoded_image_string=png)
        self.writer.add_summary(Summary(value=[Summary.Value(tag=tag, image=image)]), step)

    def flush(self):
        for w in self._all:
            w.flush()

    def close(self):
        for w in self._all:
            w.close()


def read_text(run_dir, tag="config"):
    """Read a run's text summaries ``tag`` back with TensorBoard's loader: ``[(step, text)]``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(run_dir, size_guidance={"tensors": 0})
    acc.Reload()
    if tag not in acc.Tags()["tensors"]:
        return []
    return [(e.step, tf.make_ndarray(e.tensor_proto).item().decode("utf-8"))
            for e in acc.Tensors(tag)]


def read_scalars(run_dir):
    """Read a run's scalars back with TensorBoard's loader: ``{tag: [(step, value), ...]}``,
    where the tags of the ``train``, ``test`` and ``steps`` folders are prefixed with the
    folder (``train/loss``, ``test/loss``, ``steps/loss_per_step``)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    scalars = {}
    for folder in ("", *SPLITS, "steps"):
        path = os.path.join(run_dir, folder)
        if not os.path.isdir(path):
            continue
        acc = EventAccumulator(path, size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            key = f"{folder}/{tag}" if folder else tag
            scalars[key] = [(e.step, e.value) for e in acc.Scalars(tag)]
    return scalars
