"""Dependency-free trajectory plots: a small NumPy rasterizer and a PNG writer.

TensorBoard's image of "predicted vs real trajectory" and ``tf1-birnn predict``'s PNG both use
it, so training needs neither matplotlib nor an eager TensorFlow context.
"""
import struct
import zlib

import numpy as np

__all__ = ["trajectory_image", "encode_png", "write_png"]

REAL = (0, 0, 0)  # real trajectory: black
PRED = (220, 40, 40)  # predicted trajectory: red


def _draw_line(img, ys, x0, width, color):
    """Draw the polyline through ``ys`` `[n]` (pixel rows) across ``width`` columns from ``x0``."""
    n = len(ys)
    xs = x0 + np.linspace(0, width - 1, n)
    for k in range(n - 1):  # sample each segment densely enough to be continuous
        steps = int(max(abs(xs[k + 1] - xs[k]), abs(ys[k + 1] - ys[k]), 1)) + 1
        t = np.linspace(0.0, 1.0, steps)
        px = np.round(xs[k] + t * (xs[k + 1] - xs[k])).astype(int)
        py = np.round(ys[k] + t * (ys[k + 1] - ys[k])).astype(int)
        img[py, px] = color
        img[np.minimum(py + 1, img.shape[0] - 1), px] = color  # 2 px thick


def trajectory_image(real, pred, channels=(0, 1, 2, 3), panel_height=90, width=600):
    """Plot real and predicted trajectories `[n_frames, D_label]`, one panel per channel.

    Returns an RGB image `[len(channels)*panel_height, width, 3]` (uint8): real in black,
    predicted in red, each panel scaled to the range of both curves.
    """
    real, pred = np.asarray(real, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    if real.shape != pred.shape or real.ndim != 2:
        raise ValueError(f"real and pred must both be [n_frames, D_label]; got {real.shape} "
                         f"and {pred.shape}")
    channels = [c for c in channels if c < real.shape[1]]
    img = np.full((len(channels) * panel_height, width, 3), 255, dtype=np.uint8)
    margin = 6
    for row, ch in enumerate(channels):
        top = row * panel_height
        img[top, :] = (200, 200, 200)  # panel separator
        lo = min(real[:, ch].min(), pred[:, ch].min())
        hi = max(real[:, ch].max(), pred[:, ch].max())
        span = hi - lo if hi > lo else 1.0
        for series, color in ((real[:, ch], REAL), (pred[:, ch], PRED)):
            ys = top + margin + (hi - series) / span * (panel_height - 2 * margin - 1)
            _draw_line(img, ys, margin, width - 2 * margin, color)
    return img


def encode_png(img):
    """Encode an RGB image `[height, width, 3]` (uint8) as PNG bytes."""
    img = np.ascontiguousarray(img, dtype=np.uint8)
    height, width = img.shape[:2]
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(height))  # filter 0 per row

    def chunk(tag, data):
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def write_png(path, img):
    """Write ``img`` `[height, width, 3]` to ``path`` as a PNG file."""
    with open(path, "wb") as f:
        f.write(encode_png(img))
