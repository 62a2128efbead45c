"""Checkers for chapter 4: batch normalization (Ioffe & Szegedy 2015).

Exercise 4.4 (why BN tolerates a large learning rate) asks for an argument: its solution is in prose, with no
checker here."""

from __future__ import annotations

import copy

import torch
from torch import nn

from inception.batchnorm import BatchNorm2d
from inception.exercises.registry import WrongAnswer, exercise, expect_close, expect_module
from inception.layers import BasicConv2d


@exercise("4.1", "The running mean after three steps", "easy", wrong=[5.0, 1.5, 0.5])
def _running_mean(answer):
    running = 0.0
    for _ in range(3):
        running = 0.9 * running + 0.1 * 5.0
    expect_close(answer, running, "the running mean after three training steps (momentum 0.1, starting at 0, "
                 "every batch mean 5)", rel=1e-6,
                 hint="new = (1 − momentum)·old + momentum·batch, applied three times from 0.")
    return f"{answer:.4f} = 5·(1 − 0.9³): after three steps the running mean still remembers its start."


@exercise("4.2", "The unbiased factor of the running variance", "easy",
          wrong=[64 / 63, 1.0, 4095 / 4096, 4097 / 4096, 2048 / 2047, 1856 / 1855])
def _unbiased_factor(answer):
    m = 64 * 8 * 8
    expect_close(answer, m / (m - 1), "the factor m/(m − 1) for a batch of 64 single-channel 8×8 images", rel=1e-9,
                 hint="m counts every value of one channel in the batch: images × height × width.")
    return f"{answer:.6f} = 4096/4095: one channel's statistics are taken over 64·8·8 values, not 64."


def identity_batch() -> torch.Tensor:
    """The batch of exercise 4.3."""
    return torch.randn(16, 3, 4, 4, generator=torch.Generator().manual_seed(4)) * 3 + 1


def _bn_with(weight: torch.Tensor, bias: torch.Tensor) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.copy_(weight)
        bn.bias.copy_(bias)
    return bn


def _wrong_variance_scale() -> nn.BatchNorm2d:
    x = identity_batch()
    return _bn_with(x.var(dim=(0, 2, 3), unbiased=False), x.mean(dim=(0, 2, 3)))


def _wrong_unbiased() -> nn.BatchNorm2d:
    x = identity_batch()
    return _bn_with(x.var(dim=(0, 2, 3), unbiased=True).add(1e-5).sqrt(), x.mean(dim=(0, 2, 3)))


@exercise("4.3", "γ and β that give the input back", "medium",
          wrong=[lambda: nn.BatchNorm2d(3), _wrong_variance_scale, _wrong_unbiased, lambda: nn.Identity()])
def _identity_bn(answer):
    module = expect_module(answer, "a batch normalization layer for 3 channels")
    if not isinstance(module, nn.BatchNorm2d | BatchNorm2d):
        raise WrongAnswer(f"expected a BatchNorm2d (torch's or inception.batchnorm's), got {type(module).__name__}")
    x = identity_batch()
    with torch.no_grad():
        y = copy.deepcopy(module).train()(x)
    error = (y - x).abs().max().item()
    if error > 1e-4:
        raise WrongAnswer(f"expected the layer, in training mode, to return the batch unchanged (within 1e-4); "
                          f"the largest difference is {error:.3g}. Hint: Algorithm 1 divides by √(σ²_B + ε_BN), "
                          "with the biased variance.")
    return "γ = √(σ²_B + ε_BN), β = μ_B undo the normalization: BN can be the identity (Sec. 3)."


def _fold_ignoring_eps(layer: BasicConv2d) -> nn.Conv2d:
    conv, bn = layer.conv, layer.bn
    scale = bn.weight / bn.running_var.sqrt()
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True)
    with torch.no_grad():
        folded.weight.copy_(conv.weight * scale[:, None, None, None])
        folded.bias.copy_(bn.bias - bn.running_mean * scale)
    return folded


def _fold_without_shift(layer: BasicConv2d) -> nn.Conv2d:
    conv, bn = layer.conv, layer.bn
    scale = bn.weight / (bn.running_var + bn.eps).sqrt()
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True)
    with torch.no_grad():
        folded.weight.copy_(conv.weight * scale[:, None, None, None])
        folded.bias.copy_(bn.bias)
    return folded


def _fold_unchanged(layer: BasicConv2d) -> nn.Conv2d:
    return layer.conv


def _layers_to_fold() -> list[BasicConv2d]:
    g = torch.Generator().manual_seed(7)
    layers = []
    for c_in, c_out, k, s, p in [(3, 8, 3, 1, 1), (8, 4, 1, 1, 0), (4, 6, 3, 2, 1)]:
        layer = BasicConv2d(c_in, c_out, k, s, p, batch_norm=True)
        with torch.no_grad():
            layer.conv.weight.copy_(torch.randn(layer.conv.weight.shape, generator=g))
            layer.bn.weight.copy_(torch.rand(c_out, generator=g) + 0.5)
            layer.bn.bias.copy_(torch.randn(c_out, generator=g))
            layer.bn.running_mean.copy_(torch.randn(c_out, generator=g))
            layer.bn.running_var.copy_(torch.rand(c_out, generator=g) * 0.01 + 1e-4)  # small: ε_BN matters
        layers.append(layer.eval())
    return layers


@exercise("4.5", "Fold BN into the convolution for inference", "hard",
          wrong=[lambda: _fold_ignoring_eps, lambda: _fold_without_shift, lambda: _fold_unchanged])
def _fold(answer):
    if not callable(answer) or isinstance(answer, nn.Module):
        raise WrongAnswer(f"expected a function fold(layer) that returns an nn.Conv2d, got {type(answer).__name__}")
    x = torch.randn(2, 3, 9, 9, generator=torch.Generator().manual_seed(8))
    for layer in _layers_to_fold():
        try:
            folded = answer(copy.deepcopy(layer))
        except Exception as error:  # the student's function failed on a layer the exercise describes
            raise WrongAnswer(f"expected fold(layer) to work on {layer.conv}; it raised {error}") from None
        if not isinstance(folded, nn.Conv2d):
            raise WrongAnswer(f"expected fold(layer) to return one nn.Conv2d, got {type(folded).__name__}")
        with torch.no_grad():
            expected = layer.bn(layer.conv(x))
            got = folded(x)
        if got.shape != expected.shape:
            raise WrongAnswer(f"expected the folded convolution to output shape {tuple(expected.shape)}, "
                              f"got {tuple(got.shape)}")
        error = ((got - expected).abs().max() / expected.abs().max()).item()
        if error > 1e-4:
            raise WrongAnswer(f"expected the folded convolution to equal convolution → BN in eval mode (relative "
                              f"error under 1e-4) for {layer.conv}; the error is {error:.3g}")
        x = layer(x)
    return "BN in eval mode is affine per channel (Algorithm 2, line 11): one conv with a bias."


__all__ = ["identity_batch"]
