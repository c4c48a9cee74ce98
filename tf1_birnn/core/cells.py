"""The tutorial's ``LSTMcell`` and ``GRUcell`` with fused gate matrices.

LSTM: Hochreiter & Schmidhuber (1997), with the forget gate of Gers et al. (2000).
GRU: Cho et al. (2014). The code follows YJango's tutorial "循环神经网络——双向LSTM&GRU"
(RNN LV2) line by line: every gate is a tuple ``(Wx, Wh, b)`` made by ``Gate``; the gates
are concatenated into ``W_x`` `[D_input, n_gates*D_cell]`, ``W_h`` `[D_cell, n_gates*D_cell]`
and ``b`` `[n_gates*D_cell]` so that one matmul computes all gates, which ``Slice_W`` cuts
apart. Gate order, written once, as each class's ``GATES`` (from which the gates are made,
fused and sliced):

- LSTM ``[i, f, o, c]`` (input, forget, output gates, candidate cell);
- GRU ``[r, u, c]`` (reset, update gates, candidate state).

What differs between the two cells is said by the class, not by a type string:
``has_memory`` (an LSTM carries ``h`` and ``c`` stacked), ``init_states`` and ``hidden``
(the hidden states of a scan's output).

Equations (``*`` is elementwise):

- LSTM: ``i, f, o = sigmoid(x W_x + h W_h + b)[gate]``, ``c = tanh(...)[c]``,
  ``c_t = f * c_prev + i * c``, ``h_t = o * h_act(c_t)``.
- GRU: ``r, u = sigmoid(x W_x + b + h W_h)[gate]``, ``c = tanh(x W_xc + b_c + r * (h W_hc))``,
  ``h_t = (1 - u) * h_prev + u * c``.

Where this differs from the tutorial, on purpose:

- a given ``init_h`` / ``init_c`` is used (the tutorial then leaves ``previous`` unset and
  ``RNN`` fails); an LSTM given only ``init_h`` starts ``c`` at zero (and vice versa);
- every argument is checked before any variable is made, with an error naming it;
- every variable is named after the tutorial, in the cell's name scope: ``<gate>/Wx``,
  ``<gate>/Wh``, ``<gate>/b`` for each gate (``igate``, ``fgate``, ``ogate``, ``cell``; GRU
  ``rgate``, ``ugate``, ``cell``), and the fused tensors ``W_x``, ``W_h``, ``b``; naming
  creates no op, so the seeded initial values are those of unnamed variables.

Dropout inside the cells (``tf1_birnn.core.dropout``, beyond the tutorial, which only names the
idea): ``dropout='variational'`` multiplies ``current_x`` and ``prev_h`` by per-sequence masks
before the fused matmuls, ``dropout='candidate'`` multiplies the candidate ``c``; ``'none'``
(the default) adds no op. ``keep_rate`` (the network's ``cell_keep_rate`` placeholder, which
follows ``dropout_keep`` unless fed) drives the masks; ``masks`` gives fixed ones instead
(tests). ``Step`` applies them with ``drop``.
"""
import tensorflow as tf

from .checks import check_size
from .dropout import check_cell_dropout, check_keep_rate, check_masks, draw_masks

__all__ = ["LSTMcell", "GRUcell", "check_cell"]

GATE_BIAS = 0.001  # the tutorial's initial bias of every gate (the LSTM's forget gate: f_bias)


def _check_incoming(incoming, D_input):
    if not isinstance(incoming, (tf.Tensor, tf.Variable)):
        raise TypeError(f"incoming must be a tf.Tensor `[n_steps, n_samples, D_input]`; "
                        f"got {type(incoming).__name__}")
    shape = incoming.shape
    if shape.rank is not None and shape.rank != 3:
        raise ValueError(f"incoming must have rank 3 `[n_steps, n_samples, D_input]`; "
                         f"got shape {shape}")
    if shape.rank == 3 and shape[2] is not None and shape[2] != D_input:
        raise ValueError(f"the last dimension of incoming must equal D_input={D_input}; "
                         f"got shape {shape}")


def _check_state(state, name, D_cell):
    if state is None:
        return None
    state = tf.convert_to_tensor(state, dtype=tf.float32)
    shape = state.shape
    if shape.rank is not None and (shape.rank != 2 or shape[1] not in (None, D_cell)):
        raise ValueError(f"{name} must have shape `[n_samples, D_cell]` with D_cell={D_cell}; "
                         f"got shape {shape}")
    return state


def _named(name):
    """Give the next unnamed ``tf.Variable`` (made by any initializer) the name ``name``."""
    def creator(next_creator, **kwargs):
        if kwargs.get("name") is None:
            kwargs["name"] = name
        return next_creator(**kwargs)
    return tf.compat.v1.variable_creator_scope(creator)


class _Cell:
    """What both cells share: checks, ``Gate``, ``Slice_W``, fusing, the zero state and the
    dropout masks. A subclass names its gates in ``GATES``, in the fused order."""

    GATES = ()  # the gates' names, in the order of the fused W_x, W_h and b
    has_memory = False  # True when Step carries a memory cell beside h (the LSTM)

    def __init__(self, incoming, D_input, D_cell, initializer, dropout="none", keep_rate=1.0,
                 masks=None):
        check_size(D_input, "D_input")
        check_size(D_cell, "D_cell")
        _check_incoming(incoming, D_input)
        if not callable(initializer):
            raise TypeError(f"initializer must be callable like weight_init(shape); "
                            f"got {initializer!r}")
        dropout = check_cell_dropout(dropout)
        check_keep_rate(keep_rate)
        if masks is not None:
            masks = check_masks(masks, dropout, D_input, D_cell)
        self.incoming = incoming  # input data `[n_steps, n_samples, D_input]`
        self.D_input = D_input
        self.D_cell = D_cell
        self.initializer = initializer  # how the gate weights are initialized
        self.dropout = dropout  # which dropout inside the cell: 'none', 'variational', 'candidate'
        if masks is None and dropout != "none":  # one mask per sequence, drawn before the loop
            with tf.name_scope("dropout"):
                masks = draw_masks(dropout, keep_rate, tf.shape(incoming)[1], D_input, D_cell)
        self.dropout_masks = masks or {}  # name ('x', 'h', 'c') -> `[n_samples, D]`

    def drop(self, name, x):
        """``x`` `[..., n_samples, D]` times the dropout mask ``name`` ('x': inputs, 'h':
        recurrent state, 'c': candidate), or ``x`` itself when the cell has no such mask."""
        mask = self.dropout_masks.get(name)
        return x if mask is None else x * mask

    def zero_state(self):
        """Zeros `[n_samples, D_cell]`, as the tutorial's ``incoming[0] @ zeros``."""
        n_samples = tf.shape(self.incoming)[1]
        return tf.zeros(tf.stack([n_samples, self.D_cell]), dtype=tf.float32)

    def Gate(self, bias=GATE_BIAS, name=None):
        """Make one gate's parameters ``(Wx, Wh, b)``: `[D_input, D_cell]`, `[D_cell, D_cell]`,
        `[D_cell]` (``b`` is the constant ``bias``), named ``<name>/Wx``, ``<name>/Wh``,
        ``<name>/b`` (``name``: the gate, e.g. 'rgate')."""
        with tf.name_scope(name or "gate"):
            with _named("Wx"):
                Wx = self.initializer([self.D_input, self.D_cell])
            with _named("Wh"):
                Wh = self.initializer([self.D_cell, self.D_cell])
            b = tf.Variable(tf.constant(bias, shape=[self.D_cell], dtype=tf.float32),
                            trainable=True, name="b")
        return Wx, Wh, b

    def Slice_W(self, x, n):
        """Gate ``n`` of a fused result: `[n_samples, n_gates*D_cell]` -> `[n_samples, D_cell]`."""
        return x[:, n * self.D_cell:(n + 1) * self.D_cell]

    def split_gates(self, x):
        """A fused result `[n_samples, n_gates*D_cell]` cut with ``Slice_W`` into one
        `[n_samples, D_cell]` per gate, in ``GATES``' order."""
        return [self.Slice_W(x, n) for n in range(len(self.GATES))]

    def _make_gates(self, L2, **biases):
        """Make every gate of ``GATES`` with ``Gate`` (initial bias ``biases[name]``, else
        ``Gate``'s), keep each as the attribute of its name, and fuse them."""
        gates = []
        for name in self.GATES:
            gate = self.Gate(bias=biases.get(name, GATE_BIAS), name=name)
            setattr(self, name, gate)
            gates.append(gate)
        # all gates in one matmul: W_x `[D_input, n*D_cell]`, W_h `[D_cell, n*D_cell]`, b `[n*D_cell]`
        self.W_x = tf.concat(values=[g[0] for g in gates], axis=1, name="W_x")
        self.W_h = tf.concat(values=[g[1] for g in gates], axis=1, name="W_h")
        self.b = tf.concat(values=[g[2] for g in gates], axis=0, name="b")
        if L2:  # L2 regularization of the cell's weights
            self.L2_loss = tf.nn.l2_loss(self.W_x) + tf.nn.l2_loss(self.W_h)

    def variables(self):
        """The cell's trainable variables, gate by gate."""
        return [v for name in self.GATES for v in getattr(self, name)]

    @property
    def init_states(self):
        """The initial states ``Step`` starts from, each `[n_samples, D_cell]`: ``(init_h,)``,
        and ``init_c`` after it for a cell with a memory cell."""
        return (self.init_h,)

    def hidden(self, states):
        """The hidden states `[n_steps, n_samples, D_cell]` of ``Step``'s outputs scanned
        over time (this cell's ``previous`` with a leading ``n_steps`` axis)."""
        return states


class LSTMcell(_Cell):
    """LSTM cell; ``Step`` maps ``previous`` `[2, n_samples, D_cell]` (h, c stacked) and
    ``current_x`` `[n_samples, D_input]` to the next `[2, n_samples, D_cell]`.

    ``incoming``: `[n_steps, n_samples, D_input]`; ``f_bias``: initial forget-gate bias;
    ``h_act``: activation of ``c_t`` in ``h_t``; ``init_h``/``init_c``: `[n_samples, D_cell]`;
    ``dropout``, ``keep_rate``, ``masks``: dropout inside the cell (``tf1_birnn.core.dropout``).
    """

    # input, forget, output gates, candidate memory cell: [i, f, o, c]
    GATES = ("igate", "fgate", "ogate", "cell")
    gate_names = GATES  # (the name the notebooks read)
    has_memory = True  # Step returns h and c stacked
    type = 'lstm'  # the tutorial's tag, for its readers; nothing here dispatches on it

    def __init__(self, incoming, D_input, D_cell, initializer,
                 f_bias=1.0, L2=False, h_act=tf.tanh, init_h=None, init_c=None,
                 dropout="none", keep_rate=1.0, masks=None):
        super().__init__(incoming, D_input, D_cell, initializer, dropout, keep_rate, masks)
        if not callable(h_act):
            raise TypeError(f"h_act must be callable like tf.tanh; got {h_act!r}")
        self.f_bias = f_bias  # initial bias of the forget gate
        self.h_act = h_act  # activation of the memory cell in the hidden state
        init_h = _check_state(init_h, "init_h", D_cell)
        init_c = _check_state(init_c, "init_c", D_cell)
        self.init_h = self.zero_state() if init_h is None else init_h
        self.init_c = self.zero_state() if init_c is None else init_c
        self.previous = tf.stack([self.init_h, self.init_c])  # [2, n_samples, D_cell]
        # igate, fgate, ogate, cell; the forget gate starts at f_bias
        self._make_gates(L2, fgate=f_bias)

    @property
    def init_states(self):
        return (self.init_h, self.init_c)

    def hidden(self, states):
        # [n_steps, 2, n_samples, D_cell] -> hidden states [n_steps, n_samples, D_cell]
        return states[:, 0, :, :]

    def Step(self, previous_h_c_tuple, current_x):
        """One time step: `[2, n_samples, D_cell]`, `[n_samples, D_input]` -> `[2, n_samples, D_cell]`."""
        prev_h, prev_c = tf.unstack(previous_h_c_tuple)  # [n_samples, D_cell] each
        x, h = self.drop("x", current_x), self.drop("h", prev_h)  # 'variational' masks
        # all gates in one big matmul: [n_samples, 4*D_cell]
        gates = tf.matmul(x, self.W_x) + tf.matmul(h, self.W_h) + self.b
        z_i, z_f, z_o, z_c = self.split_gates(gates)  # [i, f, o, c]
        i = tf.sigmoid(z_i)  # input gate
        f = tf.sigmoid(z_f)  # forget gate
        o = tf.sigmoid(z_o)  # output gate
        c = self.drop("c", tf.tanh(z_c))  # new information ('candidate' mask)
        current_c = f * prev_c + i * c
        current_h = o * self.h_act(current_c)
        return tf.stack([current_h, current_c])


class GRUcell(_Cell):
    """GRU cell; ``Step`` maps ``prev_h`` `[n_samples, D_cell]` and ``current_x``
    `[n_samples, D_input]` to ``current_h`` `[n_samples, D_cell]`.

    ``incoming``: `[n_steps, n_samples, D_input]`; ``init_h``: `[n_samples, D_cell]`;
    ``dropout``, ``keep_rate``, ``masks``: dropout inside the cell (``tf1_birnn.core.dropout``).
    """

    GATES = ("rgate", "ugate", "cell")  # reset, update gates, candidate state: [r, u, c]
    gate_names = GATES  # (the name the notebooks read)
    type = 'gru'  # the tutorial's tag, for its readers; nothing here dispatches on it

    def __init__(self, incoming, D_input, D_cell, initializer, L2=False, init_h=None,
                 dropout="none", keep_rate=1.0, masks=None):
        super().__init__(incoming, D_input, D_cell, initializer, dropout, keep_rate, masks)
        init_h = _check_state(init_h, "init_h", D_cell)
        self.init_h = self.zero_state() if init_h is None else init_h
        self.previous = self.init_h  # [n_samples, D_cell]; a GRU has no memory cell
        self._make_gates(L2)  # rgate, ugate, cell

    def Step(self, prev_h, current_x):
        """One time step: `[n_samples, D_cell]`, `[n_samples, D_input]` -> `[n_samples, D_cell]`."""
        Wx = tf.matmul(self.drop("x", current_x), self.W_x) + self.b  # [n_samples, 3*D_cell]
        Wh = tf.matmul(self.drop("h", prev_h), self.W_h)  # [n_samples, 3*D_cell]
        x_r, x_u, x_c = self.split_gates(Wx)  # [r, u, c]
        h_r, h_u, h_c = self.split_gates(Wh)
        r = tf.sigmoid(x_r + h_r)  # reset gate
        u = tf.sigmoid(x_u + h_u)  # update gate
        # the reset gate already acts on the candidate ('candidate' mask on c)
        c = self.drop("c", tf.tanh(x_c + r * h_c))
        # the update gate does the work of the LSTM's input and output gates
        current_h = (1 - u) * prev_h + u * c
        return current_h


def check_cell(cell, name="cell"):
    """Raise ``TypeError`` unless ``cell`` is an ``LSTMcell`` or a ``GRUcell``."""
    if not isinstance(cell, _Cell):
        raise TypeError(f"{name} must be a tf1_birnn LSTMcell or GRUcell; "
                        f"got {type(cell).__name__}")
