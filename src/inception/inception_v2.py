"""Inception-v2 of "Rethinking the Inception Architecture for Computer Vision" (Szegedy et al. 2016).

The network of the paper's Table 1, block by block:

* :class:`InceptionFig5`: the 35×35 module of Figure 5, GoogLeNet's 5×5 replaced by two 3×3;
* :class:`InceptionFig6`: the 17×17 module of Figure 6, n×n factorized into 1×n then n×1 (n = 7);
* :class:`InceptionFig7`: the 8×8 module of Figure 7, the expanded filter bank (1×3 and 3×1 side by side);
* :class:`GridReduction`: Figure 10, stride-2 convolutions in parallel with a stride-2 pool, concatenated;
* :class:`InceptionAuxV2`: Figure 8, the auxiliary head on the last 17×17 grid, batch-normalized;
* :class:`InceptionV2`: the whole network, written out like Table 1, with torchvision's module names
  (``Conv2d_1a_3x3`` … ``Mixed_5b`` … ``AuxLogits``, ``fc``) so that it reads beside ``Inception3``.

The paper leaves each branch's width to a supplementary model.txt (Sec. 6): we take the released
Inception-v3's widths where its blocks match the figures (see :class:`InceptionV2`). Every convolution is
followed by BN (ε = 1e-3, as in torchvision) and a ReLU; branches are numbered in concatenation order.
Variants are built in :mod:`inception.customizing`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from inception.cost import smallest_input_size
from inception.layers import BasicConv2d, InceptionOutputs
from inception.validation import (
    check_channel_counts,
    check_channels,
    check_flag,
    check_image_batch,
    check_positive_int,
    check_probability,
)

BN_EPS = 1e-3  # torchvision's (and TensorFlow's original) BN ε for the Inception networks


def conv_bn(in_channels: int, out_channels: int, kernel_size: int | Sequence[int], stride: int = 1,
            padding: int | Sequence[int] = 0) -> BasicConv2d:
    """Convolution → BN (ε = 1e-3) → ReLU: the layer every box of Table 1 and Figures 5–10 stands for."""
    return BasicConv2d(in_channels, out_channels, kernel_size, stride, padding, bn_eps=BN_EPS)


class InceptionFig5(nn.Module):
    """The module of Figure 5 (35×35 grid): GoogLeNet's 5×5 branch becomes two stacked 3×3.

    Branches, in concatenation order: ``branch1`` 1×1; ``branch2`` 1×1 → 3×3; ``branch3`` 1×1 → 3×3 →
    3×3; ``branch4`` 3×3 average pool → 1×1. All keep the grid size (stride 1, "same" padding).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch3x3dbl_red: int,
                 ch3x3dbl: int, pool_proj: int) -> None:
        super().__init__()
        check_channel_counts(in_channels=in_channels, ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3,
                             ch3x3dbl_red=ch3x3dbl_red, ch3x3dbl=ch3x3dbl, pool_proj=pool_proj)
        self.in_channels = in_channels
        self.branch1 = conv_bn(in_channels, ch1x1, 1)
        self.branch2 = nn.Sequential(conv_bn(in_channels, ch3x3red, 1), conv_bn(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = nn.Sequential(
            conv_bn(in_channels, ch3x3dbl_red, 1),
            conv_bn(ch3x3dbl_red, ch3x3dbl, 3, padding=1),
            conv_bn(ch3x3dbl, ch3x3dbl, 3, padding=1),
        )
        self.branch4 = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1), conv_bn(in_channels, pool_proj, 1))
        self.out_channels = ch1x1 + ch3x3 + ch3x3dbl + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "InceptionFig5")
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionFig6(nn.Module):
    """The module of Figure 6 (17×17 grid): every n×n convolution factorized into 1×n followed by n×1.

    Branches: ``branch1`` 1×1; ``branch2`` 1×1 → 1×n → n×1; ``branch3`` 1×1 → 1×n → n×1 → 1×n → n×1
    (the factorized pair of n×n); ``branch4`` 3×3 average pool → 1×1. The paper uses n = 7 on the
    17×17 grid (Sec. 6); ``n`` must be odd so that padding n // 2 keeps the grid size.
    """

    def __init__(self, in_channels: int, ch1x1: int, chnxnred: int, chnxn: int, chnxndbl_red: int,
                 chnxndbl: int, pool_proj: int, n: int = 7) -> None:
        super().__init__()
        check_channel_counts(in_channels=in_channels, ch1x1=ch1x1, chnxnred=chnxnred, chnxn=chnxn,
                             chnxndbl_red=chnxndbl_red, chnxndbl=chnxndbl, pool_proj=pool_proj)
        self.in_channels = in_channels
        self.n = check_positive_int("n", n)
        if n % 2 == 0:
            raise ValueError(f"n must be odd so that a 1×n convolution padded by n // 2 keeps the grid size, "
                             f"got n={n}; try n={n + 1}")
        p = n // 2
        self.branch1 = conv_bn(in_channels, ch1x1, 1)
        self.branch2 = nn.Sequential(
            conv_bn(in_channels, chnxnred, 1),
            conv_bn(chnxnred, chnxnred, (1, n), padding=(0, p)),
            conv_bn(chnxnred, chnxn, (n, 1), padding=(p, 0)),
        )
        self.branch3 = nn.Sequential(
            conv_bn(in_channels, chnxndbl_red, 1),
            conv_bn(chnxndbl_red, chnxndbl_red, (1, n), padding=(0, p)),
            conv_bn(chnxndbl_red, chnxndbl_red, (n, 1), padding=(p, 0)),
            conv_bn(chnxndbl_red, chnxndbl_red, (1, n), padding=(0, p)),
            conv_bn(chnxndbl_red, chnxndbl, (n, 1), padding=(p, 0)),
        )
        self.branch4 = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1), conv_bn(in_channels, pool_proj, 1))
        self.out_channels = ch1x1 + chnxn + chnxndbl + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "InceptionFig6")
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionFig7(nn.Module):
    """The module of Figure 7 (8×8 grid): the filter bank expanded, 1×3 and 3×1 side by side.

    On the coarsest grid the paper widens instead of deepening: the 3×3 is split into a 1×3 and a
    3×1 that both read the same input and are concatenated ("promoting high dimensional
    representations", Sec. 6). Branches: ``branch1`` 1×1; ``branch2`` 1×1, then ``branch2a`` 1×3 and
    ``branch2b`` 3×1; ``branch3`` 1×1 → 3×3, then ``branch3a`` 1×3 and ``branch3b`` 3×1; ``branch4``
    3×3 average pool → 1×1. Six outputs are concatenated.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch3x3dbl_red: int,
                 ch3x3dbl: int, pool_proj: int) -> None:
        super().__init__()
        check_channel_counts(in_channels=in_channels, ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3,
                             ch3x3dbl_red=ch3x3dbl_red, ch3x3dbl=ch3x3dbl, pool_proj=pool_proj)
        self.in_channels = in_channels
        self.branch1 = conv_bn(in_channels, ch1x1, 1)
        self.branch2 = conv_bn(in_channels, ch3x3red, 1)
        self.branch2a = conv_bn(ch3x3red, ch3x3, (1, 3), padding=(0, 1))
        self.branch2b = conv_bn(ch3x3red, ch3x3, (3, 1), padding=(1, 0))
        self.branch3 = nn.Sequential(
            conv_bn(in_channels, ch3x3dbl_red, 1),
            conv_bn(ch3x3dbl_red, ch3x3dbl, 3, padding=1),
        )
        self.branch3a = conv_bn(ch3x3dbl, ch3x3dbl, (1, 3), padding=(0, 1))
        self.branch3b = conv_bn(ch3x3dbl, ch3x3dbl, (3, 1), padding=(1, 0))
        self.branch4 = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1), conv_bn(in_channels, pool_proj, 1))
        self.out_channels = ch1x1 + 2 * ch3x3 + 2 * ch3x3dbl + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "InceptionFig7")
        branch1 = self.branch1(x)
        branch2 = self.branch2(x)
        branch3 = self.branch3(x)
        branch4 = self.branch4(x)
        outputs = [branch1, self.branch2a(branch2), self.branch2b(branch2),
                   self.branch3a(branch3), self.branch3b(branch3), branch4]
        return torch.cat(outputs, 1)


class GridReduction(nn.Module):
    """The efficient grid-size reduction of Figure 10: halve the grid and widen, with no bottleneck.

    Branches, in concatenation order: ``branch1`` 1×1 → 3×3 stride 2; ``branch2`` 1×1 → 3×3 → 3×3
    stride 2; ``branch3`` 3×3 max pool stride 2, which passes the input's channels through. The stride-2
    layers are unpadded, so the grid goes 35 → 17 → 8 as in Table 1 (padding would give 18 and 9).
    """

    def __init__(self, in_channels: int, ch3x3red: int, ch3x3: int, ch3x3dbl_red: int, ch3x3dbl: int) -> None:
        super().__init__()
        check_channel_counts(in_channels=in_channels, ch3x3red=ch3x3red, ch3x3=ch3x3, ch3x3dbl_red=ch3x3dbl_red,
                             ch3x3dbl=ch3x3dbl)
        self.in_channels = in_channels
        self.branch1 = nn.Sequential(conv_bn(in_channels, ch3x3red, 1), conv_bn(ch3x3red, ch3x3, 3, stride=2))
        self.branch2 = nn.Sequential(
            conv_bn(in_channels, ch3x3dbl_red, 1),
            conv_bn(ch3x3dbl_red, ch3x3dbl, 3, padding=1),
            conv_bn(ch3x3dbl, ch3x3dbl, 3, stride=2),
        )
        self.branch3 = nn.MaxPool2d(3, stride=2)
        self.out_channels = ch3x3 + ch3x3dbl + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "GridReduction")
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class InceptionAuxV2(nn.Module):
    """The auxiliary classifier of Figure 8, on top of the last 17×17 layer, with batch normalization.

    5×5/3 average pool (17 → 5) → 1×1 conv (128) → 5×5 conv (768) → global average pool → FC. Every
    convolution, the 5×5 one included (it is the head's "fully connected" layer on the 5×5 grid), is
    batch-normalized: that is the paper's "BN-auxiliary" (Sec. 10, Table 3). The head is built for the
    ``grid`` it will see: from 17×17 up, the paper's 5×5/3 pool; on a smaller grid (small images) an
    adaptive average pool to 5×5, so that the 5×5 convolution still fits.
    """

    def __init__(self, in_channels: int, num_classes: int, grid: int = 17, ch1x1: int = 128,
                 ch5x5: int = 768) -> None:
        super().__init__()
        check_channel_counts(in_channels=in_channels, num_classes=num_classes, ch1x1=ch1x1, ch5x5=ch5x5)
        self.in_channels = in_channels
        check_positive_int("grid", grid)
        self.pool = nn.AvgPool2d(5, stride=3) if grid >= 17 else nn.AdaptiveAvgPool2d(5)
        self.conv0 = conv_bn(in_channels, ch1x1, 1)
        self.conv1 = conv_bn(ch1x1, ch5x5, 5)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(ch5x5, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "InceptionAuxV2")
        # N x 768 x 17 x 17
        x = self.pool(x)  # N x 768 x 5 x 5
        x = self.conv0(x)  # N x 128 x 5 x 5
        x = self.conv1(x)  # N x 768 x 1 x 1
        x = self.avgpool(x)  # N x 768 x 1 x 1
        x = torch.flatten(x, 1)  # N x 768
        return self.fc(x)  # N x num_classes


REBUILD = "for {size}-pixel images build inception.customizing.build_inception_v2(InceptionV2Config(image_size={size}))"


class InceptionV2(nn.Module):
    """Inception-v2 of Rethinking the Inception Architecture (Szegedy et al. 2016), Table 1, as printed.

    At 299×299 the grids and channels go 35×35×288 (stem, then 3 × Figure 5) → 17×17×768 (grid
    reduction, 5 × Figure 6) → 8×8×1280 (grid reduction) → 8×8×2048 (2 × Figure 7) → global average
    pool → dropout → FC. It returns logits (no softmax); in training mode with ``aux_logits`` it returns
    ``InceptionOutputs(logits, (aux,))``, the auxiliary head of Figure 8 reading the last 17×17 grid. The
    auxiliary head is built for 299-pixel images, and in training mode the network accepts only those.

    The stem is Table 1 row by row, with its typos resolved as its printed sizes demand: 3×3/2 conv 32
    (→ 149), 3×3 conv 32 (→ 147), padded 3×3 conv 64 (147), 3×3/2 max pool (→ 73), 3×3 conv 80
    (→ 71), 3×3/2 conv 192 (→ 35), and a padded 3×3 conv 288 (35): the table's last stem row lists an
    input of 35×35×192 and the next row an input of 35×35×288, so that conv must keep the grid.

    Table 1 has 3 modules of Figure 5, 5 of Figure 6 and 2 of Figure 7; torchvision's ``Inception3``
    (the released Inception-v3) has 3, 4 and 2. Branch widths are the released model's where its blocks
    match the figures; our choices: every Figure 5 module's pool projection is 64 (the released 5b has
    32), Mixed_6a's 3×3/2 branch reads a 1×1 reduction to 192 (the released one has none), and the module
    Table 1 adds on the 17×17 grid (Mixed_6e) repeats the middle reduce width, 160. Dropout 0.5 is
    torchvision's default (Table 1 has no dropout row; Google's released code keeps 0.8, a rate of 0.2).

    Default: 25,493,448 parameters without the auxiliary head, 28,820,144 with.
    """

    image_size = 299  # the input the auxiliary head is built for (Table 1)

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        check_positive_int("num_classes", num_classes)
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.aux_logits = check_flag("aux_logits", aux_logits)
        check_probability("dropout", dropout)

        self.Conv2d_1a_3x3 = conv_bn(in_channels, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = conv_bn(32, 32, 3)
        self.Conv2d_2b_3x3 = conv_bn(32, 64, 3, padding=1)
        self.maxpool1 = nn.MaxPool2d(3, stride=2)
        self.Conv2d_3a_3x3 = conv_bn(64, 80, 3)
        self.Conv2d_3b_3x3 = conv_bn(80, 192, 3, stride=2)
        self.Conv2d_4a_3x3 = conv_bn(192, 288, 3, padding=1)
        #                             in #1×1 #3×3r #3×3 dbl-r  dbl  proj
        self.Mixed_5b = InceptionFig5(288, 64,   48,  64,   64,  96,  64)
        self.Mixed_5c = InceptionFig5(288, 64,   48,  64,   64,  96,  64)
        self.Mixed_5d = InceptionFig5(288, 64,   48,  64,   64,  96,  64)
        #                             in  #3×3r #3×3 dbl-r  dbl
        self.Mixed_6a = GridReduction(288,  192,  384,   64,  96)
        #                             in #1×1 #n×nr #n×n dbl-r  dbl  proj
        self.Mixed_6b = InceptionFig6(768, 192,  128, 192,  128, 192, 192)
        self.Mixed_6c = InceptionFig6(768, 192,  160, 192,  160, 192, 192)
        self.Mixed_6d = InceptionFig6(768, 192,  160, 192,  160, 192, 192)
        self.Mixed_6e = InceptionFig6(768, 192,  160, 192,  160, 192, 192)
        self.Mixed_6f = InceptionFig6(768, 192,  192, 192,  192, 192, 192)
        self.AuxLogits = InceptionAuxV2(768, num_classes) if aux_logits else None
        self.Mixed_7a = GridReduction(768,  192,  320,  192, 192)
        #                              in  #1×1 #3×3r #3×3 dbl-r  dbl  proj
        self.Mixed_7b = InceptionFig7(1280, 320,  384, 384,  448, 384, 192)
        self.Mixed_7c = InceptionFig7(2048, 320,  384, 384,  448, 384, 192)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2048, num_classes)

        self.min_input_size = smallest_input_size(self, in_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor | InceptionOutputs:
        train_size = self.image_size if self.training and self.aux_logits else None
        check_image_batch(x, self.in_channels, self.min_input_size, "InceptionV2", train_size, REBUILD)
        # N x 3 x 299 x 299
        x = self.Conv2d_1a_3x3(x)  # N x 32 x 149 x 149
        x = self.Conv2d_2a_3x3(x)  # N x 32 x 147 x 147
        x = self.Conv2d_2b_3x3(x)  # N x 64 x 147 x 147
        x = self.maxpool1(x)  # N x 64 x 73 x 73
        x = self.Conv2d_3a_3x3(x)  # N x 80 x 71 x 71
        x = self.Conv2d_3b_3x3(x)  # N x 192 x 35 x 35
        x = self.Conv2d_4a_3x3(x)  # N x 288 x 35 x 35
        x = self.Mixed_5b(x)  # N x 288 x 35 x 35
        x = self.Mixed_5c(x)  # N x 288 x 35 x 35
        x = self.Mixed_5d(x)  # N x 288 x 35 x 35
        x = self.Mixed_6a(x)  # N x 768 x 17 x 17
        x = self.Mixed_6b(x)  # N x 768 x 17 x 17
        x = self.Mixed_6c(x)  # N x 768 x 17 x 17
        x = self.Mixed_6d(x)  # N x 768 x 17 x 17
        x = self.Mixed_6e(x)  # N x 768 x 17 x 17
        x = self.Mixed_6f(x)  # N x 768 x 17 x 17
        aux = self.AuxLogits(x) if self.AuxLogits is not None and self.training else None
        x = self.Mixed_7a(x)  # N x 1280 x 8 x 8
        x = self.Mixed_7b(x)  # N x 2048 x 8 x 8
        x = self.Mixed_7c(x)  # N x 2048 x 8 x 8
        x = self.avgpool(x)  # N x 2048 x 1 x 1
        x = torch.flatten(x, 1)  # N x 2048
        x = self.dropout(x)
        x = self.fc(x)  # N x num_classes
        if aux is not None:
            return InceptionOutputs(x, (aux,))
        return x
