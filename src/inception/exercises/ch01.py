"""Checkers for chapter 1: the cost of a convolution, and the 1×1 convolution."""

from __future__ import annotations

from torch import nn

from inception.cost import conv2d_cost, conv_output_size, count_parameters
from inception.exercises.registry import (
    WrongAnswer,
    exercise,
    expect_close,
    expect_equal,
    expect_module,
    run_module,
    seeded_input,
)
from inception.layers import BasicConv2d


@exercise("1.1", "Parameters of GoogLeNet's 3×3 stem convolution", "easy",
          wrong=[9 * 64 * 192, 3 * 64 * 192 + 192, 9 * 64 * 192 * 56 * 56])
def _stem_conv_params(answer):
    expected = conv2d_cost(64, 192, 3, 56, padding=1).params
    expect_equal(answer, expected, "the number of weights and biases of a 3×3 convolution from 64 to 192 channels",
                 hint="k·k·C_in·C_out weights, plus one bias per output channel; the grid size does not matter.")
    return f"{answer:,} parameters: 3·3·64·192 weights plus 192 biases."


@exercise("1.2", "The first grid of Inception-v2", "easy", wrong=[150, 148, 299])
def _first_grid(answer):
    expected = conv_output_size(299, 3, stride=2, padding=0)
    expect_equal(answer, expected, "the output height of a 3×3 stride-2 convolution without padding on 299 rows",
                 hint="floor((H + 2p − k) / s) + 1.")
    return f"{answer}: floor((299 − 3) / 2) + 1, the 149×149 grid of Rethinking's Table 1."


def _reduction_layer_wrong_bn():
    return BasicConv2d(480, 64, 1)


def _reduction_layer_wrong_kernel():
    return BasicConv2d(480, 64, 3, padding=1, batch_norm=False)


@exercise("1.3", "A 1×1 reduction layer for GoogLeNet", "easy",
          wrong=[_reduction_layer_wrong_bn, _reduction_layer_wrong_kernel, lambda: nn.Conv2d(480, 64, 1)])
def _reduction_layer(answer):
    layer = expect_module(answer, "a layer that reduces 480 channels to 64")
    y = run_module(layer, seeded_input(2, 480, 14, 14), "a layer")
    if tuple(y.shape) != (2, 64, 14, 14):
        raise WrongAnswer(f"expected an output of shape (2, 64, 14, 14), got {tuple(y.shape)}")
    expected = conv2d_cost(480, 64, 1, 14).params
    expect_equal(count_parameters(layer), expected, "the parameter count of a 1×1 convolution with bias and no BN",
                 hint="GoogLeNet has no batch normalization: use batch_norm=False, and a 1×1 kernel.")
    if (y < 0).any():
        raise WrongAnswer("expected a ReLU after the convolution (no negative outputs), got negative values")
    return f"a 1×1 convolution with {expected:,} parameters followed by a ReLU, as in GoogLeNet."


def _saving_3x3(bias: bool) -> float:
    """Multiply-adds of module 3a's direct 3×3 (192 → 128, 28×28) over those of a 1×1 to 96, then the 3×3."""
    direct = conv2d_cost(192, 128, 3, 28, padding=1, bias=bias).macs
    reduced = conv2d_cost(192, 96, 1, 28, bias=bias).macs + conv2d_cost(96, 128, 3, 28, padding=1, bias=bias).macs
    return direct / reduced


@exercise("1.4", "What a 1×1 reduction saves in module 3a's 3×3 branch", "medium",
          wrong=[1 / 1.714, 128 / 96, 1.0,
                 lambda: _saving_3x3(bias=True)])  # biases counted (1.7123), though the exercise says weights only
def _reduction_ratio(answer):
    # rel 5e-4 accepts 1.714 and 1.7143, and rejects the ratio with biases, 0.12% away
    expect_close(answer, _saving_3x3(bias=False), "the multiply-adds of the direct 3×3 divided by those of "
                 "1×1-then-3×3, weights only", rel=5e-4,
                 hint="compute both costs with conv2d_cost(..., bias=False), divide direct by reduced, "
                      "and give the ratio unrounded.")
    return f"{answer:.3f}: the reduction makes the branch {answer:.2f}× cheaper."
