"""Checks of user input, in one place: clear ``ValueError`` messages, never a deep PyTorch error.

Every public constructor checks its arguments with the ``check_*`` functions below, and every network
checks its batch once, at the entry of ``forward``, with :func:`check_image_batch`; a block checks only
its input's channels, with :func:`check_channels`. The two batch checks are registered with
``torch.fx.wrap``: when ``torch.fx`` traces a network (for a diagram, see :mod:`inception.diagrams`)
they become single opaque calls in the graph, so no ``forward`` needs to know that it is being traced.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.fx
from torch import nn


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an int ≥ 1 (a channel count, a size, a number of classes)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_channel_counts(**counts: object) -> None:
    """Check every channel count a block is given, by its own name: ``check_channel_counts(ch1x1=64, ...)``."""
    for name, value in counts.items():
        check_positive_int(name, value)


def check_image_size(network: str, image_size: int, min_input_size: int) -> int:
    """``image_size`` (what a network is built for) is at least the smallest input the network accepts."""
    if image_size < min_input_size:
        raise ValueError(f"image_size must be at least {min_input_size}, the smallest input {network} accepts, "
                         f"got {image_size}")
    return image_size


def check_count(name: str, value: object) -> int:
    """Return ``value`` if it is an int ≥ 0 (a number of modules, which may be zero)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return value


def check_flag(name: str, value: object) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (not 1, "yes" or None)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_probability(name: str, value: object) -> float:
    """Return ``value`` as a float if it lies in [0, 1) (a dropout rate, a label-smoothing ε)."""
    if not _is_real(value) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def check_positive(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite number > 0 (BN's ε, a learning rate, a width)."""
    if not _is_real(value) or value <= 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")
    return float(value)


def check_non_negative(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite number ≥ 0 (a loss weight, a weight decay)."""
    if not _is_real(value) or value < 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


def check_choice(name: str, value: object, choices: Sequence[object]) -> object:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_module(value: object) -> nn.Module:
    """Return ``value`` if it is a ``torch.nn.Module``."""
    if not isinstance(value, nn.Module):
        raise ValueError(f"expected a torch.nn.Module, got {type(value).__name__}")
    return value


def check_input_size(input_size: object) -> tuple[int, ...]:
    """An input shape with the batch first, e.g. ``(1, 3, 224, 224)``, as a tuple of positive ints."""
    try:
        size = tuple(input_size)  # type: ignore[arg-type]
    except TypeError:
        size = ()
    if len(size) < 2 or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in size):
        raise ValueError(f"input_size must be a tuple of positive ints with the batch first, "
                         f"e.g. (1, 3, 224, 224); got {input_size!r}")
    return size


def pair(name: str, value: int | Sequence[int], minimum: int = 0) -> tuple[int, int]:
    """Turn an int or an (h, w) pair into a tuple of two ints ≥ ``minimum``."""
    if isinstance(value, int) and not isinstance(value, bool):
        values = (value, value)
    else:
        try:
            values = tuple(value)  # type: ignore[arg-type]
        except TypeError:
            values = ()
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return values  # type: ignore[return-value]


def _check_tensor(x: object, network: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{network} expects a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(f"{network} expects a batch of images of shape (N, C, H, W), got a tensor of shape "
                         f"{tuple(x.shape)}; for a single image use x.unsqueeze(0)")
    if not x.is_floating_point() or x.dtype == torch.float64:
        raise ValueError(f"{network} expects a float32 (or float16/bfloat16) batch, got {x.dtype}; "
                         f"convert it with x.float() (and scale 8-bit images to [0, 1] with x.float() / 255)")
    return x


@torch.fx.wrap
def check_channels(x: torch.Tensor, in_channels: int, block: str) -> None:
    """A block's one check: ``x`` is a 4-D batch with ``in_channels`` channels."""
    _check_tensor(x, block)
    if x.shape[1] != in_channels:
        raise ValueError(f"{block} expects {in_channels} input channels, got {x.shape[1]} (shape {tuple(x.shape)})")


@torch.fx.wrap
def check_image_batch(x: torch.Tensor, in_channels: int, min_size: int, network: str,
                      train_size: int | None = None, rebuild: str = "build it with image_size={size}") -> None:
    """A network's entry check: a 4-D floating-point batch, ``in_channels`` channels, H, W ≥ ``min_size``.

    ``train_size``: the only side the network accepts (its auxiliary heads were built for it); the
    network passes it in training mode when it has auxiliary heads, ``None`` otherwise. ``rebuild``
    says how to build the network for another size (``{size}`` is the size given).
    """
    _check_tensor(x, network)
    if x.shape[1] != in_channels:
        noun = "channel" if in_channels == 1 else "channels"
        raise ValueError(f"{network} expects {in_channels} input {noun}, got {x.shape[1]} (shape {tuple(x.shape)})")
    h, w = x.shape[-2:]
    if h < min_size or w < min_size:
        raise ValueError(f"{network} needs an input of at least {min_size}×{min_size} pixels, got {h}×{w}")
    if train_size is not None and (h, w) != (train_size, train_size):
        raise ValueError(
            f"{network} was built for {train_size}×{train_size} images: in training mode its auxiliary heads "
            f"accept only that size, got {h}×{w}; {rebuild.format(size=h)} (or aux_logits=False), "
            f"or call model.eval()"
        )
