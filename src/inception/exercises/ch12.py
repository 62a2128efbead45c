"""Checkers for chapter 12: fast and small, after training (the digits' 8×8 format, int8, folding BN).

Exercise 12.5 asks for an argument (why batch normalization can be folded only for inference) and has no
checker.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

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


# --- 12.2: scale and zero point (Jacob et al.'s S and Z) ---------------------------------------------------

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
        raise WrongAnswer(f"expected a triple (S, Z, q) of three numbers, got {answer!r}")
    scale, zero_point, q = answer
    hint = "S = (x_max − x_min) / 255 spreads the range over the 256 integers 0..255; Z = round(−x_min / S)."
    expect_close(scale, SCALE, "the scale S, the real value of one integer step", rel=1e-3, hint=hint)
    expect_equal(zero_point, ZERO_POINT, "the zero point Z, the integer that stands for 0.0", hint=hint)
    expect_equal(q, Q_OF_ONE, "the integer q that stands for x = 1.0",
                 hint="q = round(x / S) + Z: round first, then add the zero point.")
    stands_for = SCALE * (Q_OF_ONE - ZERO_POINT)
    return f"S = {SCALE:.5f}, Z = {ZERO_POINT}; q = {Q_OF_ONE} stands for {stands_for:.4f} (error ≤ S/2)."


# --- 12.3: bytes of a convolution ---------------------------------------------------------------------------

CH_IN = CH_OUT = 96
KERNEL = 3
WEIGHTS = CH_OUT * CH_IN * KERNEL * KERNEL
FP32_BYTES = 4 * (WEIGHTS + CH_OUT)
# as the chapter's int8 ONNX file stores a layer, counted as if stored alone (the file may share a zero-point
# tensor between layers with as many channels): 1-byte weights; per output channel a float32 scale, a float32
# bias and an int8 zero point (0 for symmetric weights, stored all the same)
INT8_BYTES = WEIGHTS + 4 * CH_OUT + 4 * CH_OUT + CH_OUT
WITHOUT_ZERO_POINTS = WEIGHTS + 8 * CH_OUT


@exercise("12.3", "Bytes of a convolution, float and int8", "easy",
          wrong=[(FP32_BYTES, WEIGHTS), (4 * WEIGHTS, WEIGHTS), (FP32_BYTES, WEIGHTS + CH_OUT),
                 (FP32_BYTES, WEIGHTS + 4 * CH_OUT), (FP32_BYTES, WITHOUT_ZERO_POINTS),
                 (WEIGHTS + CH_OUT, (WEIGHTS + CH_OUT) // 4), FP32_BYTES])
def _bytes(answer):
    if (not isinstance(answer, tuple | list) or len(answer) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in answer)):
        raise WrongAnswer(f"expected a pair (float32 bytes, int8 bytes) of two numbers, got {answer!r}")
    fp32, int8 = answer
    expect_equal(fp32, FP32_BYTES, "the bytes of the float32 convolution (weights and biases, 4 bytes each)",
                 hint="a 3×3 convolution from 96 to 96 channels has 96 · 96 · 9 weights, and one bias per "
                      "output channel.")
    if int8 == WITHOUT_ZERO_POINTS:
        raise WrongAnswer("expected the int8 bytes with the zero points too; yours leaves them out. Hint: count "
                          "the layer as if stored alone: one 1-byte zero point per output channel, even though "
                          "every one is 0.")
    expect_equal(int8, INT8_BYTES, "the bytes of the int8 convolution (1-byte weights; per output channel a 4-byte "
                 "scale, a 4-byte bias and a 1-byte zero point)",
                 hint="the scales, the biases and the zero points are per output channel: 96 of each.")
    return f"{FP32_BYTES:,} and {INT8_BYTES:,} bytes: {FP32_BYTES / INT8_BYTES:.2f}× smaller, not quite 4×."


# --- 12.4: fold a BN into the 1×1 convolution after it ------------------------------------------------------

# (input channels, output channels, with a bias, ε): the first is square, so that a fold that scales the
# output channels instead of the input channels gives tensors of the right shapes and is caught by its values
FOLD_CASES = ((4, 4, True, 1e-3), (3, 5, False, 1e-3), (6, 2, True, 1e-5))


def _bn_then_conv(g: torch.Generator, c_in: int, c_out: int, with_bias: bool, eps: float
                  ) -> tuple[nn.BatchNorm2d, nn.Conv2d]:
    """A BN (eval mode, random statistics) before a 1×1 convolution with random weights."""
    bn = nn.BatchNorm2d(c_in, eps=eps).eval()
    conv = nn.Conv2d(c_in, c_out, 1, bias=with_bias)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(c_in, generator=g) + 0.5)
        bn.bias.copy_(torch.randn(c_in, generator=g))
        bn.running_mean.copy_(torch.randn(c_in, generator=g))
        bn.running_var.copy_(torch.rand(c_in, generator=g) * 0.01 + 1e-3)  # small: ε matters
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=g))
        if with_bias:
            conv.bias.copy_(torch.randn(c_out, generator=g))
    return bn, conv


def _reference_fold_before(weight: torch.Tensor, bias: torch.Tensor | None, gamma: torch.Tensor,
                           beta: torch.Tensor, mean: torch.Tensor, var: torch.Tensor, eps: float
                           ) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference: BN (eval mode) followed by a convolution without padding, as one convolution.
    W'[o, i] = W[o, i] · a_i and b'_o = b_o + Σ_i W[o, i] · (β_i − a_i E[x_i]), a_i = γ_i / √(Var[x_i] + ε)."""
    a = gamma / torch.sqrt(var + eps)
    shift = beta - a * mean
    b = torch.zeros(weight.shape[0], dtype=weight.dtype) if bias is None else bias
    return weight * a[None, :, None, None], b + (weight * shift[None, :, None, None]).sum(dim=(1, 2, 3))


def _call_fold_before(answer, bn: nn.BatchNorm2d, conv: nn.Conv2d) -> tuple[torch.Tensor, torch.Tensor]:
    args = (conv.weight.detach().clone(), None if conv.bias is None else conv.bias.detach().clone(),
            bn.weight.detach().clone(), bn.bias.detach().clone(), bn.running_mean.clone(), bn.running_var.clone(),
            bn.eps)
    shape = tuple(conv.weight.shape)
    try:
        result = answer(*args)
    except Exception as error:  # the student's function failed on a valid input
        raise WrongAnswer(f"expected a function fold_before(weight, bias, gamma, beta, mean, var, eps) that accepts a "
                          f"{shape} weight, bias={'a tensor' if conv.bias is not None else 'None'} and "
                          f"{shape[1]} BN channels; it raised {error!r}") from None
    if (not isinstance(result, tuple | list) or len(result) != 2
            or not all(isinstance(t, torch.Tensor) for t in result)):
        raise WrongAnswer(f"expected fold_before to return a pair of tensors (weight, bias), got "
                          f"{type(result).__name__}")
    return result[0].detach(), result[1].detach()


def _check_fold_before_on(answer, bn: nn.BatchNorm2d, conv: nn.Conv2d) -> None:
    weight, bias = _call_fold_before(answer, bn, conv)
    conv_bias = None if conv.bias is None else conv.bias.detach()
    ref_weight, ref_bias = _reference_fold_before(conv.weight.detach(), conv_bias, bn.weight.detach(),
                                                  bn.bias.detach(), bn.running_mean, bn.running_var, bn.eps)
    case = (f"a BN of {conv.in_channels} channels before a 1×1 convolution to {conv.out_channels} channels "
            f"{'with' if conv.bias is not None else 'without'} a bias")
    if tuple(weight.shape) != tuple(ref_weight.shape) or tuple(bias.shape) != tuple(ref_bias.shape):
        raise WrongAnswer(f"expected a weight of shape {tuple(ref_weight.shape)} and a bias of shape "
                          f"{tuple(ref_bias.shape)} for {case}, got {tuple(weight.shape)} and {tuple(bias.shape)}")
    if not torch.allclose(weight, ref_weight, rtol=1e-4, atol=1e-5):
        raise WrongAnswer(f"expected the folded weight for {case}; yours differs. Hint: BN comes first, so its "
                          "factor for channel i, γ_i / √(Var[x_i] + ε), scales what the convolution reads from its "
                          "INPUT channel i (dimension 1 of the weight); ε belongs under the square root.")
    if not torch.allclose(bias, ref_bias, rtol=1e-4, atol=1e-5):
        raise WrongAnswer(f"expected the folded bias for {case} (the convolution's bias counts as 0 when it has "
                          "none); yours differs. Hint: BN's shift of channel i, β_i − a_i E[x_i], is a constant input "
                          "that the convolution's original weights carry into every output channel, on top of its "
                          "own bias.")
    x = torch.randn(2, conv.in_channels, 5, 5, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        error = (F.conv2d(x, weight, bias) - conv(bn(x))).abs().max().item()
    if error > 1e-3:  # the formulas agree, so this only guards against a dtype or layout surprise
        raise WrongAnswer(f"expected the folded convolution to compute conv(bn(x)) for {case}; it differs by "
                          f"{error:.3g}")


@exercise("12.4", "Fold a BN into the 1×1 convolution after it", "medium",
          wrong=[lambda: _fold_as_if_after, lambda: _fold_without_shift, lambda: _fold_without_eps,
                 lambda: _fold_shift_through_folded, lambda: _fold_dropping_bias, (torch.zeros(4, 4, 1, 1),
                                                                                   torch.zeros(4))])
def _fold_before(answer):
    if not callable(answer) or isinstance(answer, nn.Module):
        raise WrongAnswer(f"expected a function fold_before(weight, bias, gamma, beta, mean, var, eps), got "
                          f"{type(answer).__name__}")
    g = torch.Generator().manual_seed(12)
    for c_in, c_out, with_bias, eps in FOLD_CASES:
        _check_fold_before_on(answer, *_bn_then_conv(g, c_in, c_out, with_bias, eps))
    return "input channels scaled, BN's shift carried into b' by W: exact without padding."


# Plausible wrong folds (the tests check that the checker rejects each).

def _scale(gamma, var, eps):
    return gamma / torch.sqrt(var + eps)


def _fold_as_if_after(weight, bias, gamma, beta, mean, var, eps):
    """The fold of a BN AFTER the convolution (section 1 of the chapter), applied here by mistake."""
    a = _scale(gamma, var, eps)
    b = torch.zeros_like(mean) if bias is None else bias
    return weight * a[:, None, None, None], a * (b - mean) + beta


def _fold_without_shift(weight, bias, gamma, beta, mean, var, eps):
    """Scales the input channels but forgets BN's shift: the bias is left as it was."""
    a = _scale(gamma, var, eps)
    b = torch.zeros(weight.shape[0]) if bias is None else bias
    return weight * a[None, :, None, None], b


def _fold_without_eps(weight, bias, gamma, beta, mean, var, eps):
    return _reference_fold_before(weight, bias, gamma, beta, mean, var, 0.0)


def _fold_shift_through_folded(weight, bias, gamma, beta, mean, var, eps):
    """Sends BN's shift through the folded weights W' instead of the original W."""
    a = _scale(gamma, var, eps)
    folded = weight * a[None, :, None, None]
    b = torch.zeros(weight.shape[0]) if bias is None else bias
    return folded, b + (folded * (beta - a * mean)[None, :, None, None]).sum(dim=(1, 2, 3))


def _fold_dropping_bias(weight, bias, gamma, beta, mean, var, eps):
    """Forgets the convolution's own bias b_o."""
    return _reference_fold_before(weight, None, gamma, beta, mean, var, eps)


__all__: list[str] = []
