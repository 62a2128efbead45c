"""Checkers for chapter 7: the modules of Inception-v2 (Figures 5, 6, 7) and the grid-size reduction (Figure 10)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from inception.cost import conv2d_cost, count_macs
from inception.exercises.registry import (
    WrongAnswer,
    exercise,
    expect_close,
    expect_equal,
    expect_module,
    run_module,
    seeded_input,
)
from inception.inception_v2 import GridReduction, InceptionFig7
from inception.layers import BasicConv2d


@exercise("7.1", "Channels out of a Figure 7 module", "easy", wrong=[1280, 320 + 384 + 448 + 192, 2048])
def _fig7_channels(answer):
    expected = InceptionFig7(2048, 256, 256, 256, 384, 320, 128).out_channels
    expect_equal(answer, expected, "the channels that InceptionFig7(2048, 256, 256, 256, 384, 320, 128) outputs",
                 hint="the arguments are in_channels, ch1x1, ch3x3red, ch3x3, ch3x3dbl_red, ch3x3dbl, pool_proj; "
                      "a reduce width feeds a branch without being an output, and each split branch (1×3 and 3×1 "
                      "side by side) counts twice.")
    return f"{answer} channels: 256 + 2·256 + 2·320 + 128; each split branch counts twice."


def _factorized_7x7() -> int:
    return (conv2d_cost(160, 160, (1, 7), 17, padding=(0, 3), bias=False).params
            + conv2d_cost(160, 160, (7, 1), 17, padding=(3, 0), bias=False).params)


@exercise("7.2", "Weights of a factorized 7×7", "easy",
          wrong=[49 * 160 * 160, 7 * 160 * 160, lambda: _factorized_7x7() * 17 * 17])
def _factorized_params(answer):
    expect_equal(answer, _factorized_7x7(), "the weights of a 1×7 convolution followed by a 7×1 convolution, "
                 "160 channels in, between and out, without bias",
                 hint="each of the two convolutions has k_h·k_w·C_in·C_out weights; the grid size does not matter.")
    full = 49 * 160 * 160
    return f"{answer:,} weights, against {full:,} for a full 7×7: {full / answer:.1f}× fewer."


def _naive_conv_then_pool() -> int:
    return conv2d_cost(320, 640, 3, 35, padding=1, bias=False).macs


def _efficient() -> int:
    return conv2d_cost(320, 320, 3, 35, stride=2, bias=False).macs


@exercise("7.3", "How much cheaper the efficient reduction is", "easy",
          wrong=[lambda: _efficient() / _naive_conv_then_pool(), 4.0,
                 lambda: conv2d_cost(320, 640, 3, 17, padding=1, bias=False).macs / _efficient()])
def _reduction_ratio(answer):
    expected = _naive_conv_then_pool() / _efficient()
    expect_close(answer, expected, "the multiply-adds of the naive 'conv at 35×35, then pool' way divided by those "
                 "of the efficient stride-2 conv branch (both 3×3, no bias)",
                 hint="the naive conv goes 320 → 640 on the full 35×35 grid; the efficient conv goes 320 → 320 "
                      "with stride 2 onto a 17×17 grid; the pool costs no multiply-adds.")
    return f"{answer:.2f}× fewer multiply-adds, with no representational bottleneck."


def _pair_and_5x5_weights() -> tuple[int, int]:
    pair = (conv2d_cost(64, 64, 3, 35, padding=1, bias=False).params
            + conv2d_cost(64, 96, 3, 35, padding=1, bias=False).params)
    return pair, conv2d_cost(64, 96, 5, 35, padding=2, bias=False).params


@exercise("7.4", "Where the 28% went", "medium",
          wrong=[1 - 18 / 25, 0.1, 40.0, 0.6, 1 - 2 * 9 * 64 * 64 / (25 * 64 * 96)])
def _saving_with_narrow_middle(answer):
    if isinstance(answer, int | float) and not isinstance(answer, bool) and answer > 1:
        raise WrongAnswer(f"expected a fraction between 0 and 1, got {answer!r}; "
                          "if you computed a percentage, divide it by 100")
    pair, five = _pair_and_5x5_weights()
    expect_close(answer, 1 - pair / five, "the fraction of the weights of a 5×5 convolution from 64 to 96 channels "
                 "that a 3×3 (64 → 64) then a 3×3 (64 → 96) saves", rel=1e-3,
                 hint="1 minus the pair's weights divided by the 5×5's; only the second 3×3 widens to 96 channels.")
    return f"{answer:.0%} of the 5×5's {five:,} weights saved: the pair has {pair:,}."


def _wrong_naive_reduction() -> nn.Module:
    return nn.Sequential(BasicConv2d(320, 640, 3, padding=1), nn.MaxPool2d(3, stride=2))


def _wrong_bottleneck_reduction() -> nn.Module:
    return nn.Sequential(nn.MaxPool2d(3, stride=2), BasicConv2d(320, 640, 3, padding=1))


def _wrong_padded_reduction() -> nn.Module:
    class Padded(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = BasicConv2d(320, 320, 3, stride=2, padding=1)
            self.pool = nn.MaxPool2d(3, stride=2, padding=1)

        def forward(self, x):
            return torch.cat([self.conv(x), self.pool(x)], 1)

    return Padded()


@exercise("7.6", "A grid reduction of Figure 10", "medium",
          wrong=[_wrong_naive_reduction, _wrong_bottleneck_reduction, _wrong_padded_reduction,
                 lambda: GridReduction(320, 64, 128, 64, 128)])
def _grid_reduction(answer):
    module = expect_module(answer, "a module that takes a 35×35×320 grid to 17×17×640")
    x = seeded_input(2, 320, 35, 35)
    y = run_module(module, x, "a module")
    if not isinstance(y, torch.Tensor) or tuple(y.shape) != (2, 640, 17, 17):
        raise WrongAnswer(f"expected an output of shape (2, 640, 17, 17), got "
                          f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}"
                          " (stride-2 layers without padding take 35 to 17)")
    pooled = F.max_pool2d(x, 3, stride=2)
    if not any(torch.equal(y[:, i:i + 320], pooled) for i in range(0, 321)):
        raise WrongAnswer("expected the 320 input channels max-pooled 3×3/2 among the outputs, unchanged "
                          "(Figure 10's pool branch, concatenated with the conv branches); did not find them")
    macs, naive = count_macs(module, (1, 320, 35, 35)), count_macs(_wrong_naive_reduction(), (1, 320, 35, 35))
    if macs >= naive / 2:
        raise WrongAnswer(f"expected far fewer multiply-adds than convolving at 35×35 first ({naive:,}); got "
                          f"{macs:,}. Put the stride in the convolutions that run in parallel with the pool.")
    return f"35×35×320 → 17×17×640 in {macs:,} multiply-adds, {naive / macs:.1f}× fewer than conv first."
