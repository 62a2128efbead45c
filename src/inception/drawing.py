"""From a drawing to the digits data set's format: 8×8 images with 17 grey levels (0 to 16).

The UCI data set "Optical Recognition of Handwritten Digits" (Alpaydin & Kaynak 1998), which scikit-learn
ships, was made from forms filled in by hand. UCI's description of how: NIST's preprocessing programs
extracted *normalized bitmaps* of 32×32 pixels, each pixel on or off; each bitmap was divided into
non-overlapping blocks of 4×4 pixels, and the number of on pixels in each block was counted. That gives
an 8×8 image whose values are integers from 0 (no ink in the block) to 16 (all 16 pixels on).

The book's draw-a-digit widget (chapter 12) does the same in the reader's browser, in JavaScript:

1. :func:`fit_to_box`: crop the drawing to its ink and scale it so that its height fills the 32-pixel
   box, and its width to the width it would have with its proportions kept, brought into 20 to 24
   pixels, centred across. UCI does not describe NIST's size normalization; this is our stand-in, read
   off the data set itself: every one of its 1,797 images has ink in its top and bottom rows, 1,388 of
   them span exactly 6 of the 8 block columns, and 6 is the commonest width of every class (though
   fewer than half of the 1s have it); a width of 20 to 24 pixels, centred, gives those 6 columns;
2. a pixel is on where the scaled ink covers at least half of it;
3. :func:`block_counts`: the 4×4 counts, the 8×8 image the network reads.

Step 3 is the data set's own rule, exactly; steps 1 and 2 are ours. The site test checks the widget's
steps 1 to 3 against these functions on the same ink.
"""

from __future__ import annotations

import numpy as np
import torch

BITMAP_SIZE = 32
#: The narrowest and widest a drawing is made across the 32-pixel box (see the module docstring).
WIDTHS = (20, 24)
BLOCK = 4
LEVELS = BLOCK * BLOCK  # 0..16


def _as_2d_array(name: str, image: object) -> np.ndarray:
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
    if not isinstance(image, np.ndarray) or image.ndim != 2 or image.size == 0:
        shape = getattr(image, "shape", type(image).__name__)
        raise ValueError(f"{name} expects a 2-D array (height, width), got {shape}")
    if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
        raise ValueError(f"{name} expects ink values in [0, 1] (0 = paper, 1 = ink), got values from "
                         f"{image.min()} to {image.max()}")
    return image.astype(np.float64)


def _pool_edges(length: int, out: int) -> list[tuple[int, int]]:
    """Adaptive average pooling's windows: output ``i`` averages inputs ``floor(i·L/n)`` to ``ceil((i+1)·L/n)``
    (PyTorch's ``adaptive_avg_pool``, which ``F.interpolate(mode="area")`` is)."""
    return [((i * length) // out, -((-(i + 1) * length) // out)) for i in range(out)]


def fit_to_box(ink: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """The on/off 32×32 bitmap of a drawing: its ink cropped, scaled so that its height fills the box and
    its width to ``crop width × 32 / crop height`` (rounded half up) brought into :data:`WIDTHS`, centred
    across (the odd pixel to the right), and a pixel on where the ink covers at least ``threshold`` of it
    on average (area averaging, as ``F.interpolate(mode="area")``).

    ``ink`` is (height, width) with values in [0, 1]. An empty drawing gives an empty bitmap. The widget's
    JavaScript computes the same steps with the same integer arithmetic.
    """
    ink = _as_2d_array("fit_to_box", ink)
    rows, cols = np.nonzero(ink > 0)
    bitmap = np.zeros((BITMAP_SIZE, BITMAP_SIZE), dtype=np.uint8)
    if rows.size == 0:
        return bitmap
    crop = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    tall, wide = crop.shape
    narrowest, widest = WIDTHS
    width = min(widest, max(narrowest, (2 * wide * BITMAP_SIZE + tall) // (2 * tall)))
    left = (BITMAP_SIZE - width) // 2
    for i, (r0, r1) in enumerate(_pool_edges(tall, BITMAP_SIZE)):
        for j, (c0, c1) in enumerate(_pool_edges(wide, width)):
            # 1e-9: the same decision as the widget's exact integer test for inks that are multiples of 1/255
            bitmap[i, left + j] = crop[r0:r1, c0:c1].mean() >= threshold - 1e-9
    return bitmap


def block_counts(bitmap: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """The digits data set's image of a 32×32 on/off bitmap: the number of on pixels in each
    non-overlapping ``block``×``block`` block, an 8×8 array of integers from 0 to 16."""
    if isinstance(bitmap, torch.Tensor):
        bitmap = bitmap.detach().cpu().numpy()
    bitmap = np.asarray(bitmap)
    if bitmap.ndim != 2 or bitmap.shape[0] % block or bitmap.shape[1] % block or bitmap.size == 0:
        raise ValueError(f"block_counts expects a 2-D bitmap whose sides are multiples of {block}, "
                         f"got shape {bitmap.shape}")
    if not np.isin(bitmap, (0, 1)).all():
        raise ValueError("block_counts expects an on/off bitmap (values 0 and 1 only)")
    h, w = bitmap.shape
    return bitmap.astype(np.int64).reshape(h // block, block, w // block, block).sum(axis=(1, 3))


def draw_strokes(strokes: list[list[tuple[float, float]]], size: int = 224, width: float = 28.0) -> np.ndarray:
    """A ``size``×``size`` ink image of polylines (points in pixels, x to the right, y down), each drawn
    as a line of ``width`` pixels with round ends: what a finger or a mouse leaves on the widget's canvas."""
    if not strokes or not all(isinstance(s, list | tuple) and len(s) >= 1 for s in strokes):
        raise ValueError(f"draw_strokes expects a non-empty list of strokes, each a list of (x, y) points, "
                         f"got {strokes!r}")
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    ink = np.zeros((size, size), dtype=bool)
    for stroke in strokes:
        points = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        for (x0, y0), (x1, y1) in zip(points, np.vstack([points[1:], points[-1:]]), strict=True):
            dx, dy = x1 - x0, y1 - y0
            t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / max(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
            ink |= (xx - x0 - t * dx) ** 2 + (yy - y0 - t * dy) ** 2 <= (width / 2) ** 2
    return ink.astype(np.float64)


__all__ = ["BITMAP_SIZE", "BLOCK", "LEVELS", "WIDTHS", "block_counts", "draw_strokes", "fit_to_box"]
