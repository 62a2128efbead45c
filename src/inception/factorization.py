"""Factorizing convolutions: an n×n convolution as a stack of smaller ones.

Rethinking the Inception Architecture (Szegedy et al. 2016, Sec. 3) replaces

* a 5×5 convolution by two 3×3 convolutions (Sec. 3.1, Fig. 1; the Fig. 5 module), and
* an n×n convolution by a 1×n followed by an n×1 convolution (Sec. 3.2; the order of the Fig. 6 module,
  while Fig. 3 draws the 3×1 first).

This module builds those two-layer stacks and the tools chapter 6 uses to compare them with the
convolution they replace: the region of the input one output pixel sees (:func:`receptive_field`, by
the gradient), and the single kernel a *linear* stack is equivalent to (:func:`equivalent_kernel`,
:func:`fit_equivalent_kernel`).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from inception.layers import BasicConv2d
from inception.validation import check_positive_int

__all__ = ["asymmetric", "equivalent_kernel", "fit_equivalent_kernel", "receptive_field", "stacked_3x3",
           "support_size"]


def _check_odd_kernel(kernel_size: object, smallest: int) -> int:
    check_positive_int("kernel_size", kernel_size)
    if kernel_size < smallest or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be an odd integer >= {smallest} (a kernel with a centre pixel), "
                         f"got {kernel_size}")
    return kernel_size  # type: ignore[return-value]


def _layer(in_channels: int, out_channels: int, kernel: tuple[int, int], padding: tuple[int, int],
           relu: bool, batch_norm: bool) -> nn.Module:
    if relu:
        return BasicConv2d(in_channels, out_channels, kernel, padding=padding, batch_norm=batch_norm)
    return nn.Conv2d(in_channels, out_channels, kernel, padding=padding, bias=False)


def stacked_3x3(in_channels: int, out_channels: int, kernel_size: int = 5, mid_channels: int | None = None,
                relu: bool = True, batch_norm: bool = True) -> nn.Sequential:
    """The n×n convolution as (n − 1)/2 stacked 3×3 convolutions (Szegedy et al. 2016, Sec. 3.1, Fig. 1).

    ``kernel_size=5`` gives two 3×3 layers, ``7`` three. Each layer is padded by 1, so the stack keeps
    the grid size, like an n×n convolution padded by (n − 1)/2. The layers are named ``conv1``,
    ``conv2``, ...; the inner ones have ``mid_channels`` (default ``out_channels``).

    ``relu=True``: every layer is a :class:`~inception.layers.BasicConv2d` (conv → BN → ReLU), as in
    the paper's modules. ``relu=False``: plain bias-free ``nn.Conv2d`` layers, a *linear* stack that is
    exactly one n×n convolution (see :func:`equivalent_kernel`).
    """
    check_positive_int("in_channels", in_channels)
    check_positive_int("out_channels", out_channels)
    n = _check_odd_kernel(kernel_size, 5)
    mid = out_channels if mid_channels is None else check_positive_int("mid_channels", mid_channels)
    depth = (n - 1) // 2
    channels = [in_channels] + [mid] * (depth - 1) + [out_channels]
    return nn.Sequential(OrderedDict(
        (f"conv{i + 1}", _layer(channels[i], channels[i + 1], (3, 3), (1, 1), relu, batch_norm)) for i in range(depth)
    ))


def asymmetric(in_channels: int, out_channels: int, kernel_size: int = 3, mid_channels: int | None = None,
               relu: bool = True, batch_norm: bool = True) -> nn.Sequential:
    """The n×n convolution as a 1×n then an n×1 convolution (Szegedy et al. 2016, Sec. 3.2; Fig. 6's order,
    Fig. 3 draws the 3×1 first).

    Padded by (0, n//2) and (n//2, 0), so the grid size is kept. Layers ``conv1`` (1×n, ``mid_channels``
    outputs, default ``out_channels``) and ``conv2`` (n×1). ``relu`` and ``batch_norm`` as in
    :func:`stacked_3x3`; with ``relu=False`` the stack is linear and equals one n×n convolution whose
    kernel, for one input and one output channel, is an outer product: a rank-1 (separable) kernel.
    """
    check_positive_int("in_channels", in_channels)
    check_positive_int("out_channels", out_channels)
    n = _check_odd_kernel(kernel_size, 3)
    mid = out_channels if mid_channels is None else check_positive_int("mid_channels", mid_channels)
    return nn.Sequential(OrderedDict([
        ("conv1", _layer(in_channels, mid, (1, n), (0, n // 2), relu, batch_norm)),
        ("conv2", _layer(mid, out_channels, (n, 1), (n // 2, 0), relu, batch_norm)),
    ]))


def _stack_geometry(module: nn.Module) -> tuple[int, int, int]:
    """(in_channels, field height, field width) of a stack of stride-1 convolutions."""
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError(f"expected a module made of nn.Conv2d layers, got {type(module).__name__} with none")
    for conv in convs:
        if conv.stride != (1, 1) or conv.dilation != (1, 1) or conv.groups != 1:
            raise ValueError(f"expected stride 1, dilation 1 and groups 1 in every convolution, got {conv}")
    height = 1 + sum(c.kernel_size[0] - 1 for c in convs)
    width = 1 + sum(c.kernel_size[1] - 1 for c in convs)
    return convs[0].in_channels, height, width


def _read_kernel(stack: nn.Module) -> torch.Tensor:
    """The outputs of the centre pixel for one-hot inputs: the kernel, if the stack is linear."""
    c_in, h, w = _stack_geometry(stack)
    param = next(stack.parameters())
    eye = torch.eye(c_in * h * w, dtype=param.dtype).reshape(c_in * h * w, c_in, h, w)
    out = stack(eye)
    centre = out[:, :, out.shape[-2] // 2, out.shape[-1] // 2]  # the pixel that sees exactly the h×w input
    return centre.T.reshape(-1, c_in, h, w)


def equivalent_kernel(stack: nn.Module) -> torch.Tensor:
    """The one convolution kernel, shape (C_out, C_in, h, w), that a linear stack of convolutions equals.

    A stack of stride-1 convolutions without bias and without a nonlinearity in between is linear, so
    one output pixel is a weighted sum of the h×w input pixels it sees: the weights form the kernel.
    They are read off by feeding one-hot images (one per input pixel and channel). The result is
    differentiable in the stack's weights. On a padded grid the stack equals the single convolution
    (padded once) everywhere, except, for stacks whose kernels extend along the same axis (a 3×3 on a
    3×3), the outermost ring of pixels, where each layer's zero padding differs from padding the input
    once; a 1×n then an n×1 pads along different axes and agrees everywhere. Raises ``ValueError``
    if the stack is not linear (a ReLU, a bias, a batch normalization's shift): then no single
    convolution computes what it computes.
    """
    kernel = _read_kernel(stack)
    c_in, h, w = kernel.shape[1:]
    param = next(stack.parameters())
    with torch.no_grad():
        probe = torch.randn(4, c_in, h, w, dtype=param.dtype, generator=torch.Generator().manual_seed(0))
        out = stack(torch.cat([probe, torch.zeros_like(probe[:1])]))
        out = out[:, :, out.shape[-2] // 2, out.shape[-1] // 2]
        direct, zero = out[:-1], out[-1:]
        through_kernel = torch.einsum("oihw,nihw->no", kernel, probe)
        scale = direct.abs().max().clamp_min(1e-12)
        if zero.abs().max() > 1e-6 * scale or (direct - through_kernel).abs().max() > 1e-4 * scale:
            raise ValueError(
                f"{type(stack).__name__} is not linear, so it is not one convolution: expected a stack of "
                "bias-free convolutions with nothing in between (build it with relu=False), got one with a "
                "nonlinearity, a bias or a normalization shift"
            )
    return kernel


def fit_equivalent_kernel(stack: nn.Module, target: torch.Tensor, steps: int = 200, restarts: int = 5,
                          seed: int = 0) -> float:
    """Fit a linear stack's weights so that its equivalent kernel is as close as possible to ``target``.

    ``target`` has the shape :func:`equivalent_kernel` returns. Runs L-BFGS on the squared error from
    ``restarts`` random starts (seeded), keeps the best weights in ``stack`` and returns the relative
    residual ``‖K − target‖ / ‖target‖``: 0 when the stack can express the target exactly.
    """
    if not isinstance(target, torch.Tensor):
        raise ValueError(f"target must be a torch.Tensor, got {type(target).__name__}")
    c_in, h, w = _stack_geometry(stack)
    with torch.no_grad():
        c_out = equivalent_kernel(stack).shape[0]
    if tuple(target.shape) != (c_out, c_in, h, w):
        raise ValueError(f"target must have the shape of the stack's equivalent kernel {(c_out, c_in, h, w)}, "
                         f"got {tuple(target.shape)}")
    check_positive_int("steps", steps)
    check_positive_int("restarts", restarts)
    params = list(stack.parameters())
    target = target.to(params[0].dtype)
    norm = target.norm().clamp_min(1e-12)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # thousands of tiny operations: more threads only add overhead
    try:
        best, best_state = _fit(stack, params, target, norm, steps, restarts, seed)
    finally:
        torch.set_num_threads(threads)
    with torch.no_grad():
        for p, value in zip(params, best_state, strict=True):
            p.copy_(value)
    return best


def _fit(stack, params, target, norm, steps, restarts, seed):
    generator = torch.Generator().manual_seed(seed)
    best, best_state = float("inf"), None
    for _ in range(restarts):
        with torch.no_grad():
            for p in params:
                p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) / p[0].numel() ** 0.5)
        optimizer = torch.optim.LBFGS(params, max_iter=steps, tolerance_grad=1e-12, tolerance_change=1e-14,
                                      line_search_fn="strong_wolfe")

        def closure(optimizer=optimizer):
            optimizer.zero_grad()
            loss = (_read_kernel(stack) - target).pow(2).sum()
            loss.backward()
            return loss

        optimizer.step(closure)
        with torch.no_grad():
            residual = ((equivalent_kernel(stack) - target).norm() / norm).item()
        if residual < best:
            best, best_state = residual, [p.detach().clone() for p in params]
    return best, best_state


def receptive_field(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """How strongly the centre output pixel of ``module`` depends on each input pixel: |∂y/∂x|, an H×W map.

    ``x`` is an (N, C, H, W) input. The gradient of the centre pixel's outputs (summed over channels)
    with respect to ``x`` is taken, made absolute and summed over the batch and the channels. Pixels
    outside the receptive field get exactly 0; inside, the value says how much each pixel counts.
    """
    if not isinstance(module, nn.Module):
        raise ValueError(f"expected a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"expected an input of shape (N, C, H, W), got {shape}")
    x = x.detach().clone().requires_grad_(True)
    y = module(x)
    y[:, :, y.shape[-2] // 2, y.shape[-1] // 2].sum().backward()
    return x.grad.abs().sum(dim=(0, 1))


def support_size(field: torch.Tensor) -> tuple[int, int]:
    """Height and width of the smallest box holding every non-zero entry of a 2-D map (e.g. a receptive field)."""
    if not isinstance(field, torch.Tensor) or field.dim() != 2:
        shape = tuple(field.shape) if isinstance(field, torch.Tensor) else type(field).__name__
        raise ValueError(f"expected a 2-D map, got {shape}")
    rows = field.ne(0).any(dim=1).nonzero()
    cols = field.ne(0).any(dim=0).nonzero()
    if rows.numel() == 0:
        return (0, 0)
    return (int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1))
