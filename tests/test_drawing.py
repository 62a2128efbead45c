"""From a drawing to the digits data set's 8×8, 17-level format (UCI: 32×32 bitmaps, 4×4 blocks)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from inception.drawing import BITMAP_SIZE, WIDTHS, block_counts, draw_strokes, fit_to_box


def test_block_counts_counts_the_on_pixels_of_each_4x4_block():
    bitmap = np.zeros((32, 32), dtype=np.uint8)
    bitmap[0:4, 0:4] = 1          # a full block: 16
    bitmap[4, 4:8] = 1            # one row of the next block: 4
    bitmap[31, 31] = 1            # one pixel in the last block: 1
    counts = block_counts(bitmap)
    assert counts.shape == (8, 8) and counts[0, 0] == 16 and counts[1, 1] == 4 and counts[7, 7] == 1
    assert counts.sum() == bitmap.sum()


def test_the_format_has_the_data_sets_17_levels():
    rng = np.random.default_rng(0)
    counts = block_counts(rng.integers(0, 2, (32, 32)))
    assert counts.min() >= 0 and counts.max() <= 16
    assert block_counts(np.ones((32, 32), dtype=int)).max() == 16
    levels = np.unique(load_digits().images)
    assert levels.tolist() == list(range(17))


def test_fit_to_box_fills_the_height_and_brings_the_width_into_range():
    ink = np.zeros((300, 200))
    ink[50:250, 40:150] = 1.0  # 200 high, 110 wide: 17.6 -> 18 pixels with its proportions, widened to 20
    rows, cols = np.nonzero(fit_to_box(ink))
    assert rows.min() == 0 and rows.max() == BITMAP_SIZE - 1  # the height fills the box
    assert (cols.min(), cols.max()) == (6, 25)  # 20 pixels, centred
    ink = np.zeros((100, 300))
    ink[40:60, 50:250] = 1.0  # 20 high, 200 wide: would be 320 wide, narrowed to 24
    rows, cols = np.nonzero(fit_to_box(ink))
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (0, 31, 4, 27)
    assert WIDTHS == (20, 24)


def test_a_digit_in_range_keeps_its_proportions():
    ink = np.zeros((160, 120))
    ink[:, :] = 1.0  # 160 high, 120 wide: 24 pixels wide with its proportions
    cols = np.nonzero(fit_to_box(ink))[1]
    assert (cols.min(), cols.max()) == (4, 27)


def test_the_data_sets_digits_fill_the_height_not_the_width():
    """Why fit_to_box fills the height: every digit of the data set has ink in its top and bottom rows,
    and almost none in its first column."""
    images = load_digits().images
    assert (images[:, 0].sum(1) > 0).all() and (images[:, 7].sum(1) > 0).all()
    assert (images[:, :, 0].sum(1) > 0).mean() < 0.05
    widths = (images.sum(1) > 0).sum(1)  # block columns with ink
    assert (widths == 6).sum() > 0.75 * len(images)


def test_fit_to_box_keeps_position_and_size_out_of_the_result():
    stroke = [[(60, 50), (170, 50), (110, 200)]]
    small = [[(x / 2 + 10, y / 2 + 30) for x, y in stroke[0]]]
    big, little = fit_to_box(draw_strokes(stroke)), fit_to_box(draw_strokes(small, width=14))
    assert (big != little).mean() < 0.05  # the same digit drawn smaller elsewhere


def test_an_empty_drawing_gives_an_empty_image():
    assert block_counts(fit_to_box(np.zeros((10, 10)))).sum() == 0


def test_a_half_covered_pixel_is_on():
    ink = np.zeros((2, 64))
    ink[:, :] = 0.5
    assert fit_to_box(ink).sum() == 32 * 24  # 2×64 -> 32 high, narrowed to 24 wide, each pixel half covered


@pytest.mark.parametrize("bad, message", [
    (np.zeros((3, 32, 32)), "2-D"),
    (np.full((8, 8), 2.0), r"\[0, 1\]"),
    ("ink", "2-D"),
])
def test_fit_to_box_rejects_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        fit_to_box(bad)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((30, 32)), "multiples of 4"),
    (np.full((32, 32), 3), "on/off"),
    (torch.zeros(2, 32, 32), "2-D"),
])
def test_block_counts_rejects_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        block_counts(bad)


def test_draw_strokes_rejects_no_strokes():
    with pytest.raises(ValueError, match="strokes"):
        draw_strokes([])
