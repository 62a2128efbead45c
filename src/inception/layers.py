"""Building blocks shared by every network in the book.

``BasicConv2d`` is the unit all three papers stack: a convolution followed by a ReLU, with batch
normalization in between for BN-Inception (Ioffe & Szegedy 2015, Sec. 3.2) and Inception-v2
(Szegedy et al. 2016). GoogLeNet (Szegedy et al. 2014, Sec. 5) has no BN: its convolutions carry a bias.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from inception.validation import check_flag, check_positive, check_positive_int, pair


class BasicConv2d(nn.Module):
    """Convolution → [batch normalization] → ReLU.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size, stride, padding: as for ``nn.Conv2d``; an int or an (h, w) pair, so the
            asymmetric 1×n and n×1 kernels of Rethinking the Inception Architecture (Fig. 6) work.
        batch_norm: put ``nn.BatchNorm2d`` between the convolution and the ReLU. The convolution then
            has no bias: BN's learned shift β does its job (Ioffe & Szegedy 2015, Sec. 3.2).
        bn_eps: BN's ε. PyTorch's default is 1e-5; torchvision's Inception code uses 1e-3.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0, batch_norm: bool = True,
                 bn_eps: float = 1e-5) -> None:
        super().__init__()
        check_positive_int("in_channels", in_channels)
        check_positive_int("out_channels", out_channels)
        kernel = pair("kernel_size", kernel_size, minimum=1)
        stride_ = pair("stride", stride, minimum=1)
        padding_ = pair("padding", padding, minimum=0)
        check_flag("batch_norm", batch_norm)
        check_positive("bn_eps", bn_eps)
        for k, p, axis in zip(kernel, padding_, ("height", "width"), strict=True):
            if p > k // 2:
                raise ValueError(f"padding {p} along the {axis} is more than half the kernel size {k}; "
                                 f"expected padding <= {k // 2} (padding {k // 2} keeps the grid size)")
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride_, padding_, bias=not batch_norm)
        self.bn = nn.BatchNorm2d(out_channels, eps=bn_eps) if batch_norm else None
        self.relu = nn.ReLU(inplace=True)

    @property
    def in_channels(self) -> int:
        return self.conv.in_channels

    @property
    def out_channels(self) -> int:
        return self.conv.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return self.relu(x)


class InceptionOutputs(NamedTuple):
    """What a network with auxiliary classifiers returns in training mode.

    ``logits`` come from the main head; ``aux_logits`` from the auxiliary heads, in the order they sit
    in the network (GoogLeNet: after 4a, then after 4d). In eval mode the networks return ``logits``
    alone: the auxiliary heads are discarded at inference (Szegedy et al. 2014, Sec. 5).
    """

    logits: torch.Tensor
    aux_logits: tuple[torch.Tensor, ...]
