"""BN-Inception: the Inception network of "Batch Normalization" (Ioffe & Szegedy 2015, Sec. 4.2, Figure 5).

What changed from GoogLeNet (Szegedy et al. 2014, Table 1):

* batch normalization after every convolution, before its ReLU (``BasicConv2d(batch_norm=True)``);
* every 5×5 convolution replaced by two stacked 3×3 ("double 3×3": one more weight layer in each such branch);
* in each module, average or max pooling before the pool projection, as Figure 5 says;
* no max pool between the stages: the stride-2 modules 3c and 4e halve the grid (28 → 14 → 7). Their
  pooling branch is a stride-2 max pool passed through without a projection ("pass through").

Layers are named as in :mod:`inception.googlenet` (and torchvision's GoogLeNet): the stem is ``conv1``
(7×7/2), ``conv2`` (1×1) and ``conv3`` (3×3), the modules ``inception3a`` …, so the two files read side
by side. In every module the branches are numbered in concatenation order: ``branch1`` (#1×1),
``branch2`` (#3×3 reduce → #3×3), ``branch3`` (double #3×3 reduce → 3×3 → 3×3), ``branch4``
(pool + proj); the stride-2 modules have no #1×1 column, so theirs are ``branch1`` (3×3),
``branch2`` (double 3×3) and ``branch3`` (the max pool).
"""

from __future__ import annotations

import torch
from torch import nn

from inception.cost import grid_sizes, smallest_input_size
from inception.googlenet import InceptionAux
from inception.layers import BasicConv2d, InceptionOutputs
from inception.validation import (
    check_channels,
    check_choice,
    check_flag,
    check_image_batch,
    check_image_size,
    check_positive_int,
)

#: Figure 5 of Ioffe & Szegedy (2015), one row per module: #1×1, #3×3 reduce, #3×3, double #3×3 reduce,
#: double #3×3, pooling, pool projection (0: pass through). The stride-2 rows (3c, 4e) have no #1×1.
FIGURE_5: dict[str, tuple[int, int, int, int, int, str, int]] = {
    "3a": (64, 64, 64, 64, 96, "avg", 32),
    "3b": (64, 64, 96, 64, 96, "avg", 64),
    "3c": (0, 128, 160, 64, 96, "max", 0),
    "4a": (224, 64, 96, 96, 128, "avg", 128),
    "4b": (192, 96, 128, 96, 128, "avg", 128),
    "4c": (160, 128, 160, 128, 160, "avg", 128),
    "4d": (96, 128, 192, 160, 192, "avg", 128),
    "4e": (0, 128, 192, 192, 256, "max", 0),
    "5a": (352, 192, 320, 160, 224, "avg", 128),
    "5b": (352, 192, 320, 192, 224, "max", 128),
}

#: The output sizes printed in Figure 5 (grid, channels); 3c, 4c, 4d and 4e disagree with the counts.
FIGURE_5_PRINTED_OUTPUT: dict[str, tuple[int, int]] = {
    "3a": (28, 256), "3b": (28, 320), "3c": (28, 576), "4a": (14, 576), "4b": (14, 576), "4c": (14, 576),
    "4d": (14, 576), "4e": (14, 1024), "5a": (7, 1024), "5b": (7, 1024),
}


class BNInceptionModule(nn.Module):
    """A stride-1 module of Figure 5: four branches, concatenated along the channels.

    Args:
        in_channels: channels of the input.
        ch1x1: the 1×1 branch's filters (#1×1).
        ch3x3red, ch3x3: the 1×1 reduction and the 3×3 after it (#3×3 reduce, #3×3).
        ch3x3dbl_red, ch3x3dbl: the 1×1 reduction and the two 3×3 after it (double #3×3 reduce, double #3×3),
            which replace GoogLeNet's 5×5.
        pool: ``"avg"`` or ``"max"``, the 3×3/1 pooling of the fourth branch (Figure 5, "Pool +proj").
        pool_proj: the 1×1 projection after the pooling.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch3x3dbl_red: int, ch3x3dbl: int,
                 pool: str, pool_proj: int) -> None:
        super().__init__()
        for label, value in [("in_channels", in_channels), ("ch1x1", ch1x1), ("ch3x3red", ch3x3red),
                             ("ch3x3", ch3x3), ("ch3x3dbl_red", ch3x3dbl_red), ("ch3x3dbl", ch3x3dbl),
                             ("pool_proj", pool_proj)]:
            check_positive_int(label, value)
        check_choice("pool", pool, ("avg", "max"))
        self.in_channels = in_channels
        self.out_channels = ch1x1 + ch3x3 + ch3x3dbl + pool_proj
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3dbl_red, kernel_size=1),
            BasicConv2d(ch3x3dbl_red, ch3x3dbl, kernel_size=3, padding=1),
            BasicConv2d(ch3x3dbl, ch3x3dbl, kernel_size=3, padding=1),
        )
        pooling = nn.AvgPool2d if pool == "avg" else nn.MaxPool2d
        self.branch4 = nn.Sequential(
            pooling(kernel_size=3, stride=1, padding=1),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "BNInceptionModule")
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class BNInceptionReduction(nn.Module):
    """A stride-2 module of Figure 5 (3c, 4e): it halves the grid and widens the channels.

    The 3×3 branch and the double-3×3 branch end in a stride-2 convolution; the pooling branch is a
    3×3/2 max pool passed through without projection, so all of the input's channels go on:
    ``out_channels = ch3x3 + ch3x3dbl + in_channels``. The pool is padded by 1 like the convolutions, so
    the three branches agree on the grid for odd sizes too (⌊(n − 1)/2⌋ + 1).

    Args:
        in_channels: channels of the input (all of them pass through the pooling branch).
        ch3x3red, ch3x3: the 1×1 reduction and the stride-2 3×3 after it.
        ch3x3dbl_red, ch3x3dbl: the 1×1 reduction, a 3×3, and a stride-2 3×3.
    """

    def __init__(self, in_channels: int, ch3x3red: int, ch3x3: int, ch3x3dbl_red: int, ch3x3dbl: int) -> None:
        super().__init__()
        for label, value in [("in_channels", in_channels), ("ch3x3red", ch3x3red), ("ch3x3", ch3x3),
                             ("ch3x3dbl_red", ch3x3dbl_red), ("ch3x3dbl", ch3x3dbl)]:
            check_positive_int(label, value)
        self.in_channels = in_channels
        self.out_channels = ch3x3 + ch3x3dbl + in_channels
        self.branch1 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, stride=2, padding=1),
        )
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3dbl_red, kernel_size=1),
            BasicConv2d(ch3x3dbl_red, ch3x3dbl, kernel_size=3, padding=1),
            BasicConv2d(ch3x3dbl, ch3x3dbl, kernel_size=3, stride=2, padding=1),
        )
        self.branch3 = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "BNInceptionReduction")
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x)], 1)


class BNInception(nn.Module):
    """BN-Inception (Ioffe & Szegedy 2015, Sec. 4.2 and Figure 5), returning logits.

    Stem: 7×7/2 conv 64 → 3×3/2 max pool → 1×1 conv 64 → 3×3 conv 192 → 3×3/2 max pool (28×28×192);
    the ten modules of Figure 5 (3a, 3b, 3c/2, 4a–4d, 4e/2, 5a, 5b) on grids 28, 14, 7; global average
    pool; one fully connected layer. Every convolution is followed by BN; there is no dropout (Sec. 4.2.1,
    "Remove Dropout") and, as the paper says, no fully connected layer other than the classifier.

    Args:
        num_classes: outputs of the classifier.
        in_channels: channels of the input image.
        aux_logits: add GoogLeNet's two auxiliary classifiers (``inception.googlenet.InceptionAux`` with
            BN in its convolution) after 4a and 4d. The paper does not use them ("other than the top
            softmax layer, has no fully-connected layers"), so the default is ``False``; they are here to
            compare with GoogLeNet and with implementations that keep them. In training mode the network
            then returns ``InceptionOutputs(logits, aux_logits=(aux1, aux2))``; in eval mode the logits.
        image_size: the side of the images the network is built for (224); as in :class:`GoogLeNet`, the
            auxiliary heads are built for it and, in training mode, accept only that size.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = False,
                 image_size: int = 224) -> None:
        super().__init__()
        check_positive_int("num_classes", num_classes)
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.aux_logits = check_flag("aux_logits", aux_logits)
        self.image_size = check_positive_int("image_size", image_size)

        self.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        #                                        in  #1×1 #3×3r #3×3 dbl-r  dbl  pool  proj
        self.inception3a = BNInceptionModule(192,   64,   64,  64,   64,  96, "avg",  32)
        self.inception3b = BNInceptionModule(256,   64,   64,  96,   64,  96, "avg",  64)
        self.inception3c = BNInceptionReduction(320,      128, 160,   64,  96)
        self.inception4a = BNInceptionModule(576,  224,   64,  96,   96, 128, "avg", 128)
        self.inception4b = BNInceptionModule(576,  192,   96, 128,   96, 128, "avg", 128)
        self.inception4c = BNInceptionModule(576,  160,  128, 160,  128, 160, "avg", 128)
        self.inception4d = BNInceptionModule(608,   96,  128, 192,  160, 192, "avg", 128)
        self.inception4e = BNInceptionReduction(608,      128, 192,  192, 256)
        self.inception5a = BNInceptionModule(1056, 352,  192, 320,  160, 224, "avg", 128)
        self.inception5b = BNInceptionModule(1024, 352,  192, 320,  192, 224, "max", 128)
        self.aux1 = self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(1024, num_classes)

        self.min_input_size = smallest_input_size(self, in_channels)
        check_image_size("BNInception", image_size, self.min_input_size)
        if aux_logits:
            grid = grid_sizes(self, image_size, ["inception4a"])["inception4a"]  # 14 at 224
            self.aux1 = InceptionAux(576, num_classes, grid, batch_norm=True)
            self.aux2 = InceptionAux(608, num_classes, grid, batch_norm=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor | InceptionOutputs:
        train_size = self.image_size if self.training and self.aux_logits else None
        check_image_batch(x, self.in_channels, self.min_input_size, "BNInception", train_size)
        # N x 3 x 224 x 224
        x = self.conv1(x)  # N x 64 x 112 x 112
        x = self.maxpool1(x)  # N x 64 x 56 x 56
        x = self.conv2(x)  # N x 64 x 56 x 56
        x = self.conv3(x)  # N x 192 x 56 x 56
        x = self.maxpool2(x)  # N x 192 x 28 x 28

        x = self.inception3a(x)  # N x 256 x 28 x 28
        x = self.inception3b(x)  # N x 320 x 28 x 28
        x = self.inception3c(x)  # N x 576 x 14 x 14

        x = self.inception4a(x)  # N x 576 x 14 x 14
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4b(x)  # N x 576 x 14 x 14
        x = self.inception4c(x)  # N x 608 x 14 x 14
        x = self.inception4d(x)  # N x 608 x 14 x 14
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.inception4e(x)  # N x 1056 x 7 x 7

        x = self.inception5a(x)  # N x 1024 x 7 x 7
        x = self.inception5b(x)  # N x 1024 x 7 x 7

        x = self.avgpool(x)  # N x 1024 x 1 x 1
        x = torch.flatten(x, 1)  # N x 1024
        x = self.fc(x)  # N x num_classes
        if aux1 is not None and aux2 is not None:
            return InceptionOutputs(x, (aux1, aux2))
        return x
