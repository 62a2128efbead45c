"""Checkers for chapter 12: fast and small, after training (folding BN, int8, the digits' 8×8 format).

Exercise 12.5 asks for an argument (why batch normalization can be folded only for inference) and has no
checker.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from inception.deploy import fold_conv_bn
from inception.drawing import block_counts
from inception.exercises.registry import WrongAnswer, exercise, expect_close, expect_equal

# --- 12.1: the digits' 8×8 image of a bitmap ---------------------------------------------------------------

BAR_COLUMNS = (14, 15, 16)


def _bar_bitmap() -> np.ndarray:
    """The exercise's 32×32 bitmap: columns 14, 15 and 16 on in every row, everything else off."""
    bitmap = np.zeros((32, 32), dtype=np.uint8)
    bitmap[:, list(BAR_COLUMNS)] = 1
    return bitmap


def _as_counts(answer) -> np.ndarray:
    if isinstance(answer, torch.Tensor):
        answer = answer.detach().cpu().numpy()
    try:
        counts = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        raise WrongAnswer(f"expected the 8×8 image as an array (numpy, a tensor or nested lists), got "
                          f"{type(answer).__name__}") from None
    if counts.shape != (8, 8):
        raise WrongAnswer(f"expected an 8×8 image (one count per 4×4 block of the 32×32 bitmap), got shape "
                          f"{counts.shape}")
    return counts


@exercise("12.1", "The digits' 8×8 image of a bitmap", "easy",
          wrong=[lambda: block_counts(_bar_bitmap()) / 16, lambda: block_counts(_bar_bitmap()).T,
                 lambda: np.pad(np.full((8, 1), 12), ((0, 0), (3, 4))),
                 lambda: block_counts(_bar_bitmap())[:, ::-1], lambda: _bar_bitmap()])
def _bar_counts(answer):
    counts = _as_counts(answer)
    expected = block_counts(_bar_bitmap())
    if counts.max() <= 1 and expected.max() > 1:
        raise WrongAnswer("expected counts of on pixels (integers from 0 to 16), not fractions of a block")
    if not np.array_equal(counts, expected):
        wrong = [(int(r), int(c)) for r, c in zip(*np.nonzero(counts != expected), strict=True)]
        raise WrongAnswer(f"expected the number of on pixels in each 4×4 block; {len(wrong)} of the 64 counts "
                          f"differ, the first at row {wrong[0][0]}, column {wrong[0][1]}. Hint: block column j "
                          f"holds the bitmap's columns 4j to 4j + 3, and each block has 4 rows of the bar.")
    return "8 and 4 in block columns 3 and 4 (2 and 1 bar columns × 4 rows); a full block: 16."


# --- 12.2: scale and zero point -----------------------------------------------------------------------------

RANGE_LOW, RANGE_HIGH, QMAX = -0.8, 1.6, 255
SCALE = (RANGE_HIGH - RANGE_LOW) / QMAX
ZERO_POINT = round(-RANGE_LOW / SCALE)
Q_OF_ONE = min(QMAX, max(0, round(1.0 / SCALE) + ZERO_POINT))


def _is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


@exercise("12.2", "Scale and zero point of uint8", "easy",
          wrong=[((RANGE_HIGH - RANGE_LOW) / 256, ZERO_POINT, Q_OF_ONE), (SCALE, -ZERO_POINT, Q_OF_ONE),
                 (SCALE, ZERO_POINT, round(1.0 / SCALE)), (SCALE, ZERO_POINT, math.ceil(1.0 / SCALE) + ZERO_POINT),
                 (RANGE_HIGH / 127.5, 0, round(1.0 / (RANGE_HIGH / 127.5))), (SCALE, ZERO_POINT)])
def _scale_zero_point(answer):
    if not isinstance(answer, tuple | list) or len(answer) != 3 or not all(_is_number(v) for v in answer):
        raise WrongAnswer(f"expected a triple (scale, zero_point, q) of three numbers, got {answer!r}")
    scale, zero_point, q = answer
    hint = "s = (b − a) / 255 spreads the range over the 256 integers 0..255; z = round(−a / s)."
    expect_close(scale, SCALE, "the scale s, the real value of one integer step", rel=1e-3, hint=hint)
    expect_equal(zero_point, ZERO_POINT, "the zero point z, the integer that stands for 0.0", hint=hint)
    expect_equal(q, Q_OF_ONE, "the integer that stands for x = 1.0",
                 hint="q = round(x / s) + z: round first, then add the zero point.")
    stands_for = SCALE * (Q_OF_ONE - ZERO_POINT)
    return f"s = {SCALE:.5f}, z = {ZERO_POINT}; q = {Q_OF_ONE} stands for {stands_for:.4f} (error ≤ s/2)."


# --- 12.3: bytes of a convolution ---------------------------------------------------------------------------

CH_IN = CH_OUT = 96
KERNEL = 3
WEIGHTS = CH_OUT * CH_IN * KERNEL * KERNEL
FP32_BYTES = 4 * (WEIGHTS + CH_OUT)
INT8_BYTES = WEIGHTS + 4 * CH_OUT + 4 * CH_OUT


@exercise("12.3", "Bytes of a convolution, float and int8", "easy",
          wrong=[(FP32_BYTES, WEIGHTS), (4 * WEIGHTS, WEIGHTS), (FP32_BYTES, WEIGHTS + CH_OUT),
                 (FP32_BYTES, WEIGHTS + 4 * CH_OUT), (WEIGHTS + CH_OUT, (WEIGHTS + CH_OUT) // 4), FP32_BYTES])
def _bytes(answer):
    if (not isinstance(answer, tuple | list) or len(answer) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in answer)):
        raise WrongAnswer(f"expected a pair (float32 bytes, int8 bytes) of two numbers, got {answer!r}")
    fp32, int8 = answer
    expect_equal(fp32, FP32_BYTES, "the bytes of the float32 convolution (weights and biases, 4 bytes each)",
                 hint="a 3×3 convolution from 96 to 96 channels has 96 · 96 · 9 weights, and one bias per "
                      "output channel.")
    expect_equal(int8, INT8_BYTES, "the bytes of the int8 convolution (1-byte weights, a 4-byte scale and a "
                 "4-byte bias per output channel)",
                 hint="the scales and the biases are per output channel: 96 of each, 4 bytes apiece.")
    return f"{FP32_BYTES:,} and {INT8_BYTES:,} bytes: {FP32_BYTES / INT8_BYTES:.2f}× smaller, not quite 4×."


# --- 12.4: fold a convolution and a BN ----------------------------------------------------------------------

def _random_pair(g: torch.Generator, kernel: tuple[int, int], with_bias: bool, eps: float
                 ) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    conv = nn.Conv2d(3, 5, kernel, padding=(kernel[0] // 2, kernel[1] // 2), bias=with_bias)
    bn = nn.BatchNorm2d(5, eps=eps).eval()
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=g))
        if with_bias:
            conv.bias.copy_(torch.randn(5, generator=g))
        bn.weight.copy_(torch.rand(5, generator=g) + 0.5)
        bn.bias.copy_(torch.randn(5, generator=g))
        bn.running_mean.copy_(torch.randn(5, generator=g))
        bn.running_var.copy_(torch.rand(5, generator=g) * 0.01 + 1e-3)  # small: ε matters
    return conv, bn


def _call_fold(answer, conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    args = (conv.weight.detach().clone(), None if conv.bias is None else conv.bias.detach().clone(),
            bn.weight.detach().clone(), bn.bias.detach().clone(), bn.running_mean.clone(), bn.running_var.clone(),
            bn.eps)
    try:
        result = answer(*args)
    except Exception as error:  # the student's function failed on a valid input
        raise WrongAnswer(f"expected a function fold(weight, bias, gamma, beta, mean, var, eps) that accepts a "
                          f"(5, 3, {conv.kernel_size[0]}, {conv.kernel_size[1]}) weight and bias="
                          f"{'a tensor' if conv.bias is not None else 'None'}; it raised {error!r}") from None
    if (not isinstance(result, tuple | list) or len(result) != 2
            or not all(isinstance(t, torch.Tensor) for t in result)):
        raise WrongAnswer(f"expected fold to return a pair of tensors (weight, bias), got {type(result).__name__}")
    return result[0].detach(), result[1].detach()


def _check_fold_on(answer, conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    weight, bias = _call_fold(answer, conv, bn)
    reference = fold_conv_bn(conv, bn)
    with_or_without = "with" if conv.bias is not None else "without"
    case = f"{conv.kernel_size[0]}×{conv.kernel_size[1]} convolution {with_or_without} a bias"
    if tuple(weight.shape) != tuple(reference.weight.shape) or tuple(bias.shape) != (conv.out_channels,):
        raise WrongAnswer(f"expected a weight of shape {tuple(reference.weight.shape)} and a bias of shape "
                          f"({conv.out_channels},) for a {case}, got {tuple(weight.shape)} and {tuple(bias.shape)}")
    hint = "s = gamma / sqrt(var + eps) scales each output channel's filter: weight * s[:, None, None, None]."
    if not torch.allclose(weight, reference.weight, rtol=1e-4, atol=1e-5):
        raise WrongAnswer(f"expected the folded weight W' = s · W for a {case}; yours differs. Hint: {hint}")
    if not torch.allclose(bias, reference.bias, rtol=1e-4, atol=1e-5):
        raise WrongAnswer(f"expected the folded bias b' = s · (b − mean) + beta for a {case} (b = 0 when there is "
                          "no bias); yours differs.")


@exercise("12.4", "Fold a convolution and its BN", "medium",
          wrong=[lambda: _fold_without_eps, lambda: _fold_by_variance, lambda: _fold_without_mean,
                 lambda: _fold_input_channels, lambda: _fold_ignoring_bias, (torch.zeros(5, 3, 3, 3), torch.zeros(5))])
def _fold(answer):
    if not callable(answer):
        raise WrongAnswer(f"expected a function fold(weight, bias, gamma, beta, mean, var, eps), got "
                          f"{type(answer).__name__}")
    g = torch.Generator().manual_seed(12)
    for kernel, with_bias, eps in (((3, 3), False, 1e-3), ((1, 3), True, 1e-3), ((3, 1), True, 1e-5)):
        _check_fold_on(answer, *_random_pair(g, kernel, with_bias, eps))
    return "the same weights and biases as fold_conv_bn, for 3×3, 1×3 and 3×1 kernels."


# Plausible wrong folds (the tests check that the checker rejects each).

def _scale(gamma, var, eps):
    return gamma / torch.sqrt(var + eps)


def _fold_without_eps(weight, bias, gamma, beta, mean, var, eps):
    s = gamma / torch.sqrt(var)
    b = torch.zeros_like(mean) if bias is None else bias
    return weight * s[:, None, None, None], s * (b - mean) + beta


def _fold_by_variance(weight, bias, gamma, beta, mean, var, eps):
    s = gamma / (var + eps)
    b = torch.zeros_like(mean) if bias is None else bias
    return weight * s[:, None, None, None], s * (b - mean) + beta


def _fold_without_mean(weight, bias, gamma, beta, mean, var, eps):
    s = _scale(gamma, var, eps)
    b = torch.zeros_like(mean) if bias is None else bias
    return weight * s[:, None, None, None], s * b + beta


def _fold_input_channels(weight, bias, gamma, beta, mean, var, eps):
    s = _scale(gamma, var, eps)
    b = torch.zeros_like(mean) if bias is None else bias
    return weight * s[None, :3, None, None], s * (b - mean) + beta


def _fold_ignoring_bias(weight, bias, gamma, beta, mean, var, eps):
    s = _scale(gamma, var, eps)
    return weight * s[:, None, None, None], beta - s * mean
