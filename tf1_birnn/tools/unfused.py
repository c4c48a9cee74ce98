"""``UnfusedGRUcell``: the tutorial's LV1 style of gates, for ``tf1-birnn bench``.

The tutorial's LV1 code multiplies each gate's own ``Wx`` and ``Wh`` (one matmul per gate);
its LV2 code fuses them (``tf1_birnn.core.cells``). The bench's ``unfused`` row runs this cell
to test the claim that fusing saves time; ``tests/test_bench.py`` checks it equals
``GRUcell.Step``. It is not part of the tutorial's core, which has only the fused cells.
"""
import tensorflow as tf

from ..core.cells import GRUcell

__all__ = ["UnfusedGRUcell"]


class UnfusedGRUcell(GRUcell):
    """``GRUcell`` whose ``Step`` does one matmul per gate, like the tutorial's LV1 code
    (6 small matmuls per step instead of 2 fused ones). Same variables, same numbers."""

    def Step(self, prev_h, current_x):
        """One time step: `[n_samples, D_cell]`, `[n_samples, D_input]` -> `[n_samples, D_cell]`."""
        (Wxr, Whr, br), (Wxu, Whu, bu), (Wxc, Whc, bc) = self.rgate, self.ugate, self.cell
        x, h = self.drop("x", current_x), self.drop("h", prev_h)  # 'variational' masks
        r = tf.sigmoid(tf.matmul(x, Wxr) + br + tf.matmul(h, Whr))  # reset gate
        u = tf.sigmoid(tf.matmul(x, Wxu) + bu + tf.matmul(h, Whu))  # update gate
        c = self.drop("c", tf.tanh(tf.matmul(x, Wxc) + bc + r * tf.matmul(h, Whc)))  # candidate
        return (1 - u) * prev_h + u * c
