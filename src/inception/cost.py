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

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from math import prod

import torch
from torch import nn
from torch.func import functional_call

from inception.validation import check_input_size, check_module, check_positive_int, pair


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
    check_module(module)
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
    check_module(module)
    size = check_input_size(input_size)
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


def named_submodules(model: nn.Module, names: Iterable[str]) -> dict[str, nn.Module]:
    """The submodules of ``model`` called ``names`` (e.g. ``"inception3a"``), or a ``ValueError`` naming the missing."""
    submodules = dict(model.named_modules())
    missing = [n for n in names if n not in submodules]
    if missing:
        raise ValueError(f"{type(model).__name__} has no submodule named {missing}; "
                         f"expected names like {list(submodules)[1:6]}")
    return {n: submodules[n] for n in names}


def costs_of(model: nn.Module, input_size: Sequence[int], names: Iterable[str]) -> dict[str, Cost]:
    """Cost of each named submodule of ``model`` (e.g. ``"inception3a"``) in one forward pass of ``model``.

    Parameters count the whole submodule; MACs count what ran inside it, per image.
    """
    check_module(model)
    size = check_input_size(input_size)
    names = list(names)
    submodules = named_submodules(model, names)
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
            param = next(model.parameters(), None)
            model(torch.zeros(size, dtype=param.dtype if param is not None else torch.float32))
    finally:
        for h in hooks:
            h.remove()
    return {n: Cost(count_parameters(submodules[n]), macs[n]) for n in names}


#: Layers that keep the shape of their input; :func:`output_shape` skips their arithmetic.
SHAPE_PRESERVING = (nn.BatchNorm1d, nn.BatchNorm2d, nn.ReLU, nn.Dropout, nn.LocalResponseNorm, nn.Identity)


@contextmanager
def _shape_only(module: nn.Module) -> Iterator[None]:
    """Let the shape-preserving layers of ``module`` pass their input through, for as long as the block runs."""
    skipped = [m for m in module.modules() if isinstance(m, SHAPE_PRESERVING)]
    for m in skipped:
        m.forward = _identity
    try:
        yield
    finally:
        for m in skipped:
            del m.forward


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def output_shape(module: nn.Module, input_size: Sequence[int]) -> torch.Size:
    """The shape of ``module``'s output for an input of ``input_size`` (batch first).

    Found on PyTorch's ``meta`` device: every layer works out the shape of its output and none computes
    a value (layers that keep the shape, such as BN and ReLU, are passed through), so it costs
    milliseconds even for a large network. A too-small input raises PyTorch's ``RuntimeError`` (or a
    block's ``ValueError``). For a network with auxiliary heads in training mode, the main logits' shape.
    """
    check_module(module)
    size = check_input_size(input_size)
    state = {name: torch.empty_like(t, device="meta")
             for name, t in chain(module.named_parameters(), module.named_buffers())}
    with torch.no_grad(), _shape_only(module):
        out = functional_call(module, state, (torch.empty(size, device="meta"),))
    return (out[0] if isinstance(out, tuple) else out).shape


def _fits(module: nn.Module, input_size: tuple[int, ...]) -> bool:
    try:
        output_shape(module, input_size)
    except (RuntimeError, ValueError):
        return False
    return True


@contextmanager
def _probing(module: nn.Module) -> Iterator[None]:
    """Eval mode, and no recorded ``min_input_size`` (a network's entry check reads it), while measuring."""
    was_training, recorded = module.training, module.__dict__.get("min_input_size")
    module.eval()
    module.min_input_size = 1
    try:
        yield
    finally:
        module.train(was_training)
        if recorded is None:
            del module.min_input_size
        else:
            module.min_input_size = recorded


def smallest_input_size(module: nn.Module, in_channels: int, limit: int = 1024) -> int:
    """The smallest square input (in pixels) on which every layer of ``module`` has an output, in eval mode.

    Measured from the module's actual layers, not from a formula: the module runs on the meta device
    (see :func:`output_shape`) on inputs of growing size, and a bisection finds the first that fits.
    Auxiliary heads do not run in eval mode, so they do not count; a ``min_input_size`` the module
    records (and checks in ``forward``) is ignored while measuring, so a changed layer is measured anew.
    224-pixel GoogLeNet: 31; the paper's Inception-v2: 75.
    """
    check_module(module)
    check_positive_int("in_channels", in_channels)
    check_positive_int("limit", limit)
    with _probing(module):
        if not _fits(module, (1, in_channels, limit, limit)):
            raise ValueError(f"{type(module).__name__} does not run on a {limit}×{limit} input; expected a "
                             f"module that accepts {in_channels}-channel images of at most {limit} pixels")
        low, high = 0, limit  # low does not fit (or is 0), high fits
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if _fits(module, (1, in_channels, middle, middle)) else (middle, high)
    return high


def grid_sizes(model: nn.Module, image_size: int, names: Iterable[str]) -> dict[str, int]:
    """The side of the grid that each named submodule of ``model`` outputs, for square inputs of ``image_size``.

    Measured like :func:`output_shape`, on the meta device, in eval mode; ``model`` must have an
    ``in_channels`` attribute (every network of the book has). GoogLeNet at 224:
    ``grid_sizes(net, 224, ["conv1", "maxpool1", "maxpool2", "maxpool3", "maxpool4"])`` gives 112, 56,
    28, 14, 7. Raises ``ValueError`` for an input too small for the network.
    """
    check_module(model)
    check_positive_int("image_size", image_size)
    in_channels = check_positive_int(f"{type(model).__name__}.in_channels", getattr(model, "in_channels", None))
    names = list(names)
    submodules = named_submodules(model, names)
    sides: dict[str, int] = {}

    def record(name: str):
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            sides.setdefault(name, output.shape[-1])
        return hook

    hooks = [submodules[n].register_forward_hook(record(n)) for n in names]
    was_training = model.training
    model.eval()
    try:
        output_shape(model, (1, in_channels, image_size, image_size))
    except (RuntimeError, ValueError) as error:
        raise ValueError(f"{type(model).__name__} does not run on {image_size}×{image_size} inputs: {error}") from None
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    idle = [n for n in names if n not in sides]
    if idle:
        raise ValueError(f"{idle} of {type(model).__name__} do not run in eval mode (auxiliary heads run only in "
                         f"training); expected names of layers on the main path")
    return {n: sides[n] for n in names}
