import pytest
import torch
import torchinfo
from torch import nn

from inception.cost import (
    Cost,
    conv2d_cost,
    conv_output_size,
    costs_of,
    count_macs,
    count_parameters,
    linear_cost,
    module_cost,
)
from inception.layers import BasicConv2d


@pytest.mark.parametrize(
    "size, k, s, p, ceil, expected",
    [(224, 7, 2, 3, False, 112), (112, 3, 2, 0, True, 56), (56, 3, 2, 0, True, 28), (28, 3, 2, 0, True, 14),
     (14, 3, 2, 0, True, 7), (14, 3, 2, 0, False, 6), (299, 3, 2, 0, False, 149), (5, 3, 2, 1, True, 3)],
)
def test_conv_output_size_matches_pytorch(size, k, s, p, ceil, expected):
    assert conv_output_size(size, k, s, p, ceil) == expected
    pool = nn.MaxPool2d(k, s, p, ceil_mode=ceil)
    assert pool(torch.zeros(1, 1, size, size)).shape[-1] == expected


def test_conv2d_cost_formula():
    cost = conv2d_cost(192, 64, 1, 28)
    assert cost == Cost(params=192 * 64 + 64, macs=(192 * 64 + 64) * 28 * 28)
    assert conv2d_cost(192, 64, 1, 28, bias=False).params == 192 * 64
    assert conv2d_cost(3, 64, 7, 224, stride=2, padding=3, bias=False).macs == 7 * 7 * 3 * 64 * 112 * 112
    assert conv2d_cost(8, 8, (1, 7), (17, 17), padding=(0, 3), bias=False).macs == 7 * 64 * 17 * 17


def test_linear_cost():
    assert linear_cost(1024, 1000) == Cost(1_025_000, 1_025_000)


def _torchinfo(model, size):
    stats = torchinfo.summary(model, input_size=size, verbose=0, device="cpu")
    return stats.total_params, stats.total_mult_adds


@pytest.mark.parametrize(
    "model, size",
    [
        (nn.Conv2d(3, 16, 3, padding=1), (1, 3, 32, 32)),
        (nn.Conv2d(16, 32, (1, 7), stride=2, padding=(0, 3), bias=False), (1, 16, 17, 17)),
        (BasicConv2d(3, 16, 5, stride=2, padding=2), (1, 3, 28, 28)),
        (nn.Sequential(BasicConv2d(3, 8, 3, batch_norm=False), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 7 * 7, 10)),
         (1, 3, 16, 16)),
    ],
)
def test_module_cost_agrees_with_torchinfo(model, size):
    params, macs = _torchinfo(model, size)
    assert module_cost(model, size) == Cost(params, macs)
    assert count_parameters(model) == params
    assert count_macs(model, size) == macs


def test_shape_formulas_agree_with_module_cost():
    conv = nn.Conv2d(192, 96, 3, padding=1)
    assert module_cost(conv, (1, 192, 28, 28)) == conv2d_cost(192, 96, 3, 28, padding=1)
    fc = nn.Linear(1024, 1000)
    assert module_cost(fc, (1, 1024)) == linear_cost(1024, 1000)


def test_macs_are_per_image():
    conv = nn.Conv2d(3, 4, 3)
    assert count_macs(conv, (4, 3, 8, 8)) == count_macs(conv, (1, 3, 8, 8))


def test_count_trainable_parameters():
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    model[0].requires_grad_(False)
    assert count_parameters(model) == 20 + 10
    assert count_parameters(model, trainable_only=True) == 10


def test_costs_of_named_submodules():
    model = nn.Sequential()
    model.add_module("a", nn.Conv2d(3, 4, 3, padding=1))
    model.add_module("b", nn.Conv2d(4, 2, 1))
    costs = costs_of(model, (1, 3, 8, 8), ["a", "b"])
    assert costs["a"] == conv2d_cost(3, 4, 3, 8, padding=1)
    assert costs["b"] == conv2d_cost(4, 2, 1, 8)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: conv_output_size(5, 9), "a 9-wide kernel does not fit an input of 5 padded by 0"),
        (lambda: conv2d_cost(3, 8, 7, 4, padding=1), "a 7-wide kernel does not fit an input of 4 padded by 1"),
        (lambda: conv2d_cost(0, 8, 3, 8), "in_channels must be a positive integer, got 0"),
        (lambda: conv2d_cost(3, 8, 3, 8, stride=0), "stride must be >= 1"),
        (lambda: linear_cost(10, -2), "out_features must be a positive integer, got -2"),
        (lambda: count_parameters("resnet"), "expected a torch.nn.Module, got str"),
        (lambda: module_cost(nn.Conv2d(3, 4, 3), (3, 8, 8, "x")), "input_size must be a tuple of positive ints"),
        (lambda: costs_of(nn.Sequential(nn.ReLU()), (1, 2), ["nope"]), "has no submodule named"),
    ],
)
def test_cost_helpers_reject_impossible_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_ceil_mode_window_may_hang_over_the_edge_like_pytorch():
    # a 3×3/2 pool in ceil mode still gives 1×1 from a 2×2 grid, but nothing from a 1×1 grid
    assert conv_output_size(2, 3, 2, 0, ceil_mode=True) == 1
    assert nn.MaxPool2d(3, 2, ceil_mode=True)(torch.zeros(1, 1, 2, 2)).shape[-1] == 1
    with pytest.raises(ValueError, match="leaves no output on an input of 1"):
        conv_output_size(1, 3, 2, 0, ceil_mode=True)
    with pytest.raises(RuntimeError):
        nn.MaxPool2d(3, 2, ceil_mode=True)(torch.zeros(1, 1, 1, 1))
