"""``tf1-birnn bench --epochs N``: whole training epochs of ``--preset blog``, timed.

One epoch is the tutorial's: the 83 training utterances, one Adam step each (batch 1,
dropout keep 0.7), in a shuffled order, then the evaluation of all 103 utterances (the
training set and the test set, dropout off), by ``tf1_birnn.training.loop.train_epoch`` and
``evaluate``, the code ``tf1-birnn train`` runs. The corpus has the original corpus's 103
utterance lengths (``data.synthetic.reference_statistics``) and the tutorial's split (first 20
test); the frames are random normal values, which changes no timing.

Rows (each in its own child process, so that peak RSS is its own):

- ``fast``: ``--preset blog --fast`` (bidirectional GRU, ``RNN(fast=True)``);
- ``fast-lstm``: the same with LSTM cells in both directions;
- ``fast-<loops>``, ``fast-lstm-<loops>`` (``<loops>``: sequential, concurrent or shared): the
  same built with the network setting ``loops`` so instead of 'auto' (``LOOP_VARIANTS``; as
  in the step rows);
- ``faithful``: ``--preset blog`` (the tutorial's ``tf.scan``);
- ``keras``: the same network on Keras 3 ``Bidirectional(GRU)`` (``bench_peers.keras_network``),
  ``train_on_batch`` per utterance, evaluation ``predict_on_batch`` per utterance.

Evaluation is timed twice: in padded minibatches of 16 (what training now does) and one
utterance at a time (the tutorial's way), and both give the same losses (printed). One
untimed training step and evaluation batch come first (graph and kernel warm-up).
"""
import json
import time

from ..core.config import LOOP_MODES, NetworkConfig

__all__ = ["EPOCH_VARIANTS", "LOOP_VARIANTS", "measure_epochs", "blog_corpus", "split_loops"]

LOOP_VARIANTS = tuple(f"{fast}-{mode}" for fast in ("fast", "fast-lstm")
                      for mode in LOOP_MODES if mode != "auto")  # A/B of the loops setting
EPOCH_VARIANTS = ("fast", "fast-lstm", "faithful", "keras") + LOOP_VARIANTS
EVAL_BATCH = 16  # utterances per evaluation minibatch


def split_loops(variant):
    """A row's variant without its ``-<loops>`` suffix (``LOOP_VARIANTS``) and the network
    setting ``loops`` that the row builds with (the setting's default for other rows)."""
    if variant not in LOOP_VARIANTS:
        return variant, NetworkConfig.loops
    base, loops = variant.rsplit("-", 1)
    return base, loops


def loops_used(net):
    """How the fast loops of ``net``'s first layer ran: its ``loops`` setting, 'auto'
    resolved (``fast.loop_mode``)."""
    from ..core import fast
    return fast.loop_mode([c for c in net.cells[0] if c is not None], net.config["loops"])


def blog_corpus(seed=0):
    """103 utterances with the original corpus's lengths: ``(train, test)`` lists of `[x, y]`
    pairs, ``x`` `[1, n_frames, 39]`, ``y`` `[n_frames, 24]`, split as the tutorial does."""
    import numpy as np
    from ..data.helpers import data_prer, train_test_split
    from ..data.synthetic import reference_statistics
    from .bench_peers import D_INPUT, D_LABEL
    rng = np.random.default_rng(seed)
    lengths = reference_statistics()["utterance_lengths_in_file_order"]
    X = [rng.standard_normal((T, D_INPUT)) for T in lengths]
    Y = [rng.standard_normal((T, D_LABEL)) for T in lengths]
    return train_test_split(data_prer(X, Y))


def measure_epochs(config):
    """Time ``config['epochs']`` blog epochs of ``config['variant']``; return a dict of lists
    (seconds per epoch: ``train_s``, ``eval_s`` batched, plus ``eval1_s`` one at a time once)."""
    import numpy as np
    from .bench_peers import peak_rss_mib
    train, test = blog_corpus()
    variant, loops = split_loops(config["variant"])
    out = {"train_s": [], "eval_s": [], "losses": []}
    if variant == "keras":
        from .bench_peers import keras_epoch_functions
        keras_train, keras_eval = keras_epoch_functions(config["num_units"])
        rng = np.random.default_rng(0)

        def train_one(pairs=train):
            keras_train(pairs, rng)

        def eval_set(pairs, batch_size):  # always one utterance at a time
            return keras_eval(pairs)
    else:
        from ..training.loop import evaluate, train_epoch
        from ..training.run import build_session, preset_config
        cell = "lstm" if variant == "fast-lstm" else "gru"
        run = preset_config("blog", fast=variant != "faithful", cell=cell, cell_b=cell,
                            num_units=config["num_units"], loops=loops)
        graph, sess, net, _ = build_session(run)
        if run.fast:
            out["loops"] = loops_used(net)
        rng = np.random.default_rng(run.seed)

        def train_one(pairs=train):
            train_epoch(sess, net, pairs, rng, 1, run.keep_rate, show_progress=False)

        def eval_set(pairs, batch_size):
            return evaluate(sess, net, pairs, batch_size)
    train_one(train[:1])  # warm-up: one training step and one evaluation batch, untimed
    eval_set(test[:2], EVAL_BATCH)
    for _ in range(config["epochs"]):
        start = time.perf_counter()
        train_one()
        mid = time.perf_counter()
        losses = [eval_set(train, EVAL_BATCH), eval_set(test, EVAL_BATCH)]
        out["train_s"].append(mid - start)
        out["eval_s"].append(time.perf_counter() - mid)
        out["losses"].append(losses)
    start = time.perf_counter()
    out["losses_one_at_a_time"] = [eval_set(train, 1), eval_set(test, 1)]
    out["eval1_s"] = time.perf_counter() - start
    out["rss_mib"] = peak_rss_mib()
    return out


def print_epochs(rows, epochs, train_frames, eval_frames, gflops, flops_of, notes,
                 floor_of=None):
    """The markdown table of ``rows`` {variant: result}, and each row's matmul bound and
    recurrence floor of an epoch; ``flops_of(variant)``: training matmul FLOPs per frame (3x
    the forward); ``floor_of(variant)``: the epoch's seconds at the recurrence floor."""
    print(f"Whole blog epochs at batch 1 ({train_frames} training frames in 83 steps, then "
          f"evaluation of all 103 utterances = {eval_frames} frames), after one untimed "
          f"training step and evaluation batch.\n")
    print("| variant | epoch | seconds | train s | eval s (batches of 16) | train share | "
          "eval s one at a time | train, test loss | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for variant, r in rows.items():
        for e in range(epochs):
            total = r["train_s"][e] + r["eval_s"][e]
            one = f"{r['eval1_s']:.1f}" if e == epochs - 1 else ""
            print(f"| {variant} | {e + 1} | {total:.1f} | {r['train_s'][e]:.1f} | "
                  f"{r['eval_s'][e]:.1f} | {100 * r['train_s'][e] / total:.0f}% | {one} | "
                  f"{r['losses'][e][0]:.4f}, {r['losses'][e][1]:.4f} | {r['rss_mib']:,.0f} |")
    print()
    if "keras" in rows:
        print("- keras evaluates one utterance at a time in both columns (no masking)")
    print_loops(rows)
    for variant, r in rows.items():
        b, o = r["losses"][-1], r["losses_one_at_a_time"]
        print(f"- {variant}: last epoch's losses, batches of 16 vs one at a time: "
              f"{b[0]:.6f} vs {o[0]:.6f} (train), {b[1]:.6f} vs {o[1]:.6f} (test)")
    for variant, r in rows.items():
        if not gflops:
            break
        # the epoch's matmul FLOPs at the measured peak: the time a perfect path would need
        flops = flops_of(variant)
        bound = (train_frames * flops + eval_frames * flops / 3) / (gflops * 1e9)
        best = min(t + v for t, v in zip(r["train_s"], r["eval_s"]))
        floor = "" if floor_of is None else (
            f"; recurrence floor {floor_of(variant):.1f} s (training at batch 1, evaluation in "
            f"batches of 16): {best / floor_of(variant):.1f}x the floor")
        print(f"- {variant}: fastest epoch {best:.1f} s; matmul bound {bound:.1f} s (training "
              f"3x, evaluation 1x the forward FLOPs at {gflops:.0f} GFLOP/s): "
              f"{best / bound:.1f}x the bound{floor}")
    for note in notes:
        print(f"- note: {note}")


def print_loops(rows):
    """One line: how each fast row's loops ran (the ``loops`` setting, 'auto' resolved)."""
    used = [f"{name} {r['loops']}" for name, r in rows.items() if r.get("loops")]
    if used:
        print(f"- the fast rows' loops: {', '.join(used)} (--loops 'auto': sequential "
              f"when both directions' W_h exceed half the last-level cache)")


if __name__ == "__main__":
    import sys
    print("BENCH_RESULT " + json.dumps(measure_epochs(json.loads(sys.argv[1]))))
