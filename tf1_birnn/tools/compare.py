"""``tf1-birnn compare``: a run's per-epoch losses beside the blog's published curve.

The blog's figures and which of them match our network come from ``tf1_birnn.tools.blog``.
The report says which data the run used: the blog trained on the tutorial's X.npy/Y.npy
(public in YJango/tensorflow_basic_tutorial under GPL-3.0, not shipped here:
``tf1-birnn fetch-data`` downloads them), so a run on the embedded synthetic corpus can be
compared in shape (how fast the loss falls, train/test gap, ordering of models), not in value.
"""
from ..data.source import DataSource
from .blog import blog_match, blog_seconds_per_epoch, fmt

__all__ = ["compare_report", "register"]


def compare_report(run_dir):
    """A Markdown report of ``run_dir``'s losses and timings beside the blog's."""
    from ..training.folder import open_run

    config, history = open_run(run_dir)
    key, entry, point = blog_match(config.arch, config.n_layers)
    blog = {row["epoch"]: row for row in entry["curve"]}
    source = DataSource.from_json(config.data)
    if source.is_original:
        data_note = f"{source.describe()}: the original X.npy/Y.npy, as the blog"
    elif source.kind == "npz":
        data_note = (f"{source.describe()}: as the blog if it was converted from the "
                     "original X.npy/Y.npy")
    else:
        data_note = (f"{source.describe()}, SYNTHETIC: the blog used the original recordings "
                     "(`tf1-birnn fetch-data`, then `--data original`), so compare the shape "
                     "of the curves, not their values")
    if source.cut != (None, None):
        data_note += "; a cut corpus, so the values are not comparable with the blog's"
    lines = [f"# {run_dir} vs the blog's {key}",
             "",
             f"- ours: {config.arch}, {config.num_units} units, cells {config.cell}/"
             f"{config.cell_b}, merge {config.merge}, {config.n_layers} RNN layer(s), "
             f"learning rate {config.learning_rate:g}, batch {config.batch_size}, "
             f"seed {config.seed}",
             f"- blog: {entry['network']}, learning rate {entry['learning_rate']:g}",
             *([f"- blog, two layers (the text): epoch {point['epoch']}: train "
                f"{fmt(point['train'])}, test {fmt(point['test'])}"] if point else []),
             f"- data: {data_note}",
             "",
             "| epoch | our train | our test | blog train | blog test |",
             "|---:|---:|---:|---:|---:|"]
    epochs = sorted(set(blog) | {row["epoch"] for row in history})
    ours = {row["epoch"]: row for row in history}
    for k in epochs:
        if k not in ours and k > len(history) + 10 and k % 10:
            continue  # past our run: every 10th blog epoch is enough
        o, b = ours.get(k, {}), blog.get(k, {})
        lines.append(f"| {k} | {fmt(o.get('train'))} | {fmt(o.get('test'))} | "
                     f"{fmt(b.get('train'))} | {fmt(b.get('test'))} |")
    ours_sec = (sum(r["seconds"] for r in history) / len(history)) if history else None
    blog_sec = blog_seconds_per_epoch(entry)
    lines += ["",
              "| seconds per epoch | ours | blog |",
              "|---|---:|---:|",
              f"| train + evaluation | {fmt(ours_sec)} | {fmt(blog_sec, 1)} |",
              "",
              "Blog timings: a 2017 GPU, the full network, the original data; ours: this "
              "machine, the settings above."]
    return "\n".join(lines)


def register(sub):
    p = sub.add_parser("compare", help="a run's losses beside the blog's published curve")
    p.add_argument("run_dir", help="the run folder, e.g. logs/quick-...")
    p.set_defaults(func=lambda args: print(compare_report(args.run_dir)) or 0)
