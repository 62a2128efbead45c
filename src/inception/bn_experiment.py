"""The small network of chapter 4's experiment: the same CNN with and without batch normalization.

Ioffe & Szegedy (2015, Sec. 4.1) first show BN on MNIST with a small network before they move to
ImageNet. Chapter 4 does the same on scikit-learn's 8×8 digits (``inception.data``), trained with
``inception.training.fit``, to see what BN changes: how fast the test accuracy rises, and which learning
rates train at all.

:class:`SmallCNN` is four 3×3 convolutions (``BasicConv2d``, so conv → [BN] → ReLU) with one 2×2 max
pool (8×8 → 4×4), a global average pool and a linear classifier. With ``batch_norm=False`` the
convolutions have a bias; with ``batch_norm=True`` BN's shift replaces it (Sec. 3.2).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from inception.cost import smallest_input_size
from inception.layers import BasicConv2d
from inception.validation import check_flag, check_image_batch, check_positive_int


class SmallCNN(nn.Module):
    """conv 3×3 ×2 → max pool 2×2 → conv 3×3 ×2 → global average pool → linear, for 8×8 digits.

    Args:
        batch_norm: BN after every convolution (``BasicConv2d(batch_norm=True)``).
        widths: output channels of the four convolutions.
        in_channels, num_classes: 1 and 10 for the digits.
    """

    def __init__(self, batch_norm: bool = False, widths: Sequence[int] = (16, 16, 32, 32), in_channels: int = 1,
                 num_classes: int = 10) -> None:
        super().__init__()
        check_flag("batch_norm", batch_norm)
        widths = tuple(widths)
        if len(widths) != 4:
            raise ValueError(f"widths must give the channels of the 4 convolutions, got {widths!r}")
        for w in widths:
            check_positive_int("each width", w)
        check_positive_int("in_channels", in_channels)
        check_positive_int("num_classes", num_classes)
        self.in_channels = in_channels
        self.batch_norm = batch_norm
        c1, c2, c3, c4 = widths
        self.conv1 = BasicConv2d(in_channels, c1, 3, padding=1, batch_norm=batch_norm)
        self.conv2 = BasicConv2d(c1, c2, 3, padding=1, batch_norm=batch_norm)
        self.pool = nn.MaxPool2d(2)
        self.conv3 = BasicConv2d(c2, c3, 3, padding=1, batch_norm=batch_norm)
        self.conv4 = BasicConv2d(c3, c4, 3, padding=1, batch_norm=batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c4, num_classes)
        self.min_input_size = smallest_input_size(self, in_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.in_channels, self.min_input_size, "SmallCNN")
        # N x 1 x 8 x 8 for the digits
        x = self.conv1(x)  # N x c1 x 8 x 8
        x = self.conv2(x)  # N x c2 x 8 x 8
        x = self.pool(x)  # N x c2 x 4 x 4
        x = self.conv3(x)  # N x c3 x 4 x 4
        x = self.conv4(x)  # N x c4 x 4 x 4
        x = self.avgpool(x)  # N x c4 x 1 x 1
        x = torch.flatten(x, 1)  # N x c4
        return self.fc(x)  # N x num_classes


__all__ = ["SmallCNN"]
