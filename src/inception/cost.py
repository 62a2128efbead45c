"""What a layer costs: parameters and multiply-adds (MACs), from shapes or from a module.

The papers count cost this way: GoogLeNet's Table 1 lists "params" and "ops" per layer (Szegedy et al.
2014), and Rethinking the Inception Architecture (Szegedy et al. 2016, Sec. 3) argues in multiply-adds.

For a convolution with a k_h×k_w kernel, C_in input and C_out output channels, producing an H×W grid:

    params = k_h·k_w·C_in·C_out (+ C_out biases)
    MACs   = params · H · W        (each weight is used once per output position)

Like torchinfo, we count one multiply-add per bias per output position and, for batch normalization,
one per parameter per image; the papers count the weights only. The difference is well under 1%.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import prod

import torch
from torch import nn

from inception.validation import check_positive_int, pair


@dataclass(frozen=True)
class Cost:
    """Parameters and multiply-adds (per image) of a layer or a module."""

    params: int
    macs: int

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.params + other.params, self.macs + other.macs)

    def __str__(self) -> str:
        return f"{self.params:,} parameters, {self.macs:,} multiply-adds"


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                     ceil_mode: bool = False) -> int:
    """Output length along one axis of a convolution or pooling window (PyTorch's formula).

    ``floor((size + 2·padding − kernel_size) / stride) + 1``, or the ceiling with ``ceil_mode`` (as
    in GoogLeNet's pools, which go 112 → 56 → 28 → 14 → 7). Raises ``ValueError`` when nothing is
    left: a kernel wider than the padded input, or (ceil mode) a window that would start past the end.
    """
    check_positive_int("size", size)
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("stride", stride)
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be a non-negative integer, got {padding!r}")
    span = size + 2 * padding - kernel_size
    if not ceil_mode and span < 0:
        raise ValueError(
            f"a {kernel_size}-wide kernel does not fit an input of {size} padded by {padding} "
            f"(padded size {size + 2 * padding}); expected kernel_size <= {size + 2 * padding}"
        )
    out = -(-span // stride) + 1 if ceil_mode else span // stride + 1
    # PyTorch's rule in ceil mode: the last window may hang over the edge, but must start inside the
    # input or the left padding (so a 3×3/2 pool still gives 1×1 from a 2×2 grid)
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        raise ValueError(
            f"a {kernel_size}-wide window with stride {stride} leaves no output on an input of {size} "
            f"padded by {padding}; expected a larger input"
        )
    return out


def conv2d_cost(in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                input_size: int | Sequence[int], stride: int | Sequence[int] = 1,
                padding: int | Sequence[int] = 0, bias: bool = True) -> Cost:
    """Parameters and MACs of one ``nn.Conv2d`` on an input grid of ``input_size`` (an int or (H, W))."""
    check_positive_int("in_channels", in_channels)
    check_positive_int("out_channels", out_channels)
    kernel = pair("kernel_size", kernel_size, minimum=1)
    grid = pair("input_size", input_size, minimum=1)
    strides = pair("stride", stride, minimum=1)
    pads = pair("padding", padding, minimum=0)
    out_grid = [conv_output_size(n, k, s, p) for n, k, s, p in zip(grid, kernel, strides, pads, strict=True)]
    params = prod(kernel) * in_channels * out_channels + (out_channels if bias else 0)
    return Cost(params=params, macs=params * prod(out_grid))


def linear_cost(in_features: int, out_features: int, bias: bool = True) -> Cost:
    """Parameters and MACs of one ``nn.Linear``: every weight is used once per image."""
    check_positive_int("in_features", in_features)
    check_positive_int("out_features", out_features)
    params = in_features * out_features + (out_features if bias else 0)
    return Cost(params=params, macs=params)


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``module`` (only those with ``requires_grad`` if ``trainable_only``)."""
    _check_module(module)
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


_COUNTED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _layer_macs(layer: nn.Module, output: torch.Tensor) -> int:
    """Multiply-adds of one layer for one image (torchinfo's count divided by the batch size)."""
    params = sum(p.numel() for p in layer.parameters(recurse=False))
    if isinstance(layer, nn.Conv1d | nn.Conv2d | nn.Conv3d):
        return params * prod(output.shape[2:])
    return params  # Linear and BatchNorm: each parameter once per image, as torchinfo counts


def count_macs(module: nn.Module, input_size: Sequence[int]) -> int:
    """Multiply-adds per image of one forward pass of ``module`` on an input of ``input_size``.

    ``input_size`` includes the batch dimension, e.g. ``(1, 3, 224, 224)``. The module runs once on
    zeros; only layers that actually run are counted (auxiliary heads in eval mode are not).
    """
    return module_cost(module, input_size).macs


def module_cost(module: nn.Module, input_size: Sequence[int]) -> Cost:
    """Parameters (all of them) and multiply-adds per image (of the layers that run) of ``module``."""
    _check_module(module)
    size = _check_input_size(input_size)
    counted: list[int] = []
    hooks = [m.register_forward_hook(lambda m, i, o: counted.append(_layer_macs(m, o)))
             for m in module.modules() if isinstance(m, _COUNTED)]
    try:
        param = next(module.parameters(), None)
        x = torch.zeros(size, dtype=param.dtype if param is not None else torch.float32)
        with torch.no_grad():
            module(x)
    finally:
        for h in hooks:
            h.remove()
    return Cost(params=count_parameters(module), macs=sum(counted))


def costs_of(model: nn.Module, input_size: Sequence[int], names: Iterable[str]) -> dict[str, Cost]:
    """Cost of each named submodule of ``model`` (e.g. ``"inception3a"``) in one forward pass of ``model``.

    Parameters count the whole submodule; MACs count what ran inside it, per image.
    """
    _check_module(model)
    size = _check_input_size(input_size)
    names = list(names)
    submodules = dict(model.named_modules())
    missing = [n for n in names if n not in submodules]
    if missing:
        raise ValueError(f"{type(model).__name__} has no submodule named {missing}; "
                         f"expected names like {list(submodules)[1:6]}")
    macs = dict.fromkeys(names, 0)
    hooks = []
    for name in names:
        for layer in submodules[name].modules():
            if isinstance(layer, _COUNTED):
                def hook(m, i, o, name=name):
                    macs[name] += _layer_macs(m, o)
                hooks.append(layer.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(torch.zeros(size))
    finally:
        for h in hooks:
            h.remove()
    return {n: Cost(count_parameters(submodules[n]), macs[n]) for n in names}


def _check_module(module: object) -> None:
    if not isinstance(module, nn.Module):
        raise ValueError(f"expected a torch.nn.Module, got {type(module).__name__}")


def _check_input_size(input_size: object) -> tuple[int, ...]:
    try:
        size = tuple(input_size)  # type: ignore[arg-type]
    except TypeError:
        size = ()
    if len(size) < 2 or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in size):
        raise ValueError(f"input_size must be a tuple of positive ints with the batch first, "
                         f"e.g. (1, 3, 224, 224); got {input_size!r}")
    return size
