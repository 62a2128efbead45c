"""Checks of user input shared by the package: clear ``ValueError`` messages, never a deep shape error."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.fx


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an int ≥ 1, else raise ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


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


def check_image_batch(x: object, in_channels: int, min_size: int, network: str) -> None:
    """Check that ``x`` is an (N, C, H, W) tensor with ``in_channels`` channels and H, W ≥ ``min_size``.

    Does nothing while ``torch.fx`` traces the network for a diagram (``x`` is then a ``Proxy``).
    """
    if isinstance(x, torch.fx.Proxy):
        return
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{network} expects a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(
            f"{network} expects a batch of images of shape (N, C, H, W), got a tensor of shape "
            f"{tuple(x.shape)}; for a single image use x.unsqueeze(0)"
        )
    if x.shape[1] != in_channels:
        noun = "channel" if in_channels == 1 else "channels"
        raise ValueError(f"{network} expects {in_channels} input {noun}, got {x.shape[1]} (shape {tuple(x.shape)})")
    h, w = x.shape[-2:]
    if h < min_size or w < min_size:
        raise ValueError(
            f"{network} needs an input of at least {min_size}×{min_size} pixels, got {h}×{w}"
        )
