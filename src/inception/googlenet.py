"""GoogLeNet (Inception V1): Szegedy et al., "Going Deeper with Convolutions", 2014 (arXiv 1409.4842).

* :class:`NaiveInception`: the naive Inception module (Figure 2a);
* :class:`Inception`: the module with 1×1 dimension reductions (Figure 2b);
* :class:`InceptionAux`: the auxiliary classifier (Section 5);
* :class:`GoogLeNet`: the network of Table 1 and Figure 3;
* :data:`TABLE1` and :data:`PAPER_TABLE1_COST`: Table 1's channel counts and printed costs, as data to
  compare against.

Module names follow torchvision (``conv1``, ``inception3a``, ``branch1`` … ``branch4``, ``aux1``, ``fc``).
The default build is the paper's: 5×5 convolutions in the "5×5" branch, convolutions with a bias and no
batch normalization, local response normalization in the stem, 3×3/2 max pools, dropout 0.4.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from inception.cost import conv_output_size, grid_sizes, smallest_input_size
from inception.layers import BasicConv2d, InceptionOutputs
from inception.validation import (
    check_channel_counts,
    check_channels,
    check_flag,
    check_image_batch,
    check_image_size,
    check_positive_int,
    check_probability,
)


class InceptionConfig(NamedTuple):
    """One row of GoogLeNet's Table 1: the input channels and the six filter counts of a module."""

    in_channels: int
    ch1x1: int
    ch3x3red: int
    ch3x3: int
    ch5x5red: int
    ch5x5: int
    pool_proj: int

    @property
    def out_channels(self) -> int:
        """Channels of the concatenated output: #1×1 + #3×3 + #5×5 + pool proj."""
        return self.ch1x1 + self.ch3x3 + self.ch5x5 + self.pool_proj


#: Table 1 of the paper, one row per Inception module, to compare the network against (the network
#: itself writes the same numbers out as literal arguments). The input channels are the previous output.
TABLE1: dict[str, InceptionConfig] = {
    #                    in   #1×1  #3×3r  #3×3  #5×5r  #5×5  proj
    "3a": InceptionConfig(192,  64,    96,  128,    16,   32,   32),  # 28×28 → 256
    "3b": InceptionConfig(256, 128,   128,  192,    32,   96,   64),  # 28×28 → 480
    "4a": InceptionConfig(480, 192,    96,  208,    16,   48,   64),  # 14×14 → 512
    "4b": InceptionConfig(512, 160,   112,  224,    24,   64,   64),  # 14×14 → 512
    "4c": InceptionConfig(512, 128,   128,  256,    24,   64,   64),  # 14×14 → 512
    "4d": InceptionConfig(512, 112,   144,  288,    32,   64,   64),  # 14×14 → 528
    "4e": InceptionConfig(528, 256,   160,  320,    32,  128,  128),  # 14×14 → 832
    "5a": InceptionConfig(832, 256,   160,  320,    32,  128,  128),  #   7×7 → 832
    "5b": InceptionConfig(832, 384,   192,  384,    48,  128,  128),  #   7×7 → 1024
}

#: Table 1's "params" (in K, with K = 1024) and "ops" (in M) columns as printed in the paper, keyed by
#: the name of our submodule. Kept as printed, to compare against (see the book's chapter 3 and errata).
PAPER_TABLE1_COST: dict[str, tuple[float, float]] = {
    "conv1": (2.7, 34), "conv2+conv3": (112, 360),
    "inception3a": (159, 128), "inception3b": (380, 304),
    "inception4a": (364, 73), "inception4b": (437, 88), "inception4c": (463, 100),
    "inception4d": (580, 119), "inception4e": (840, 170),
    "inception5a": (1072, 54), "inception5b": (1388, 71),
    "fc": (1000, 1),
}


class NaiveInception(nn.Module):
    """The naive Inception module (Figure 2a): 1×1, 3×3 and 5×5 convolutions and a 3×3 max pool, side by side.

    Every branch keeps the grid (padding 1 for 3×3, 2 for 5×5, a stride-1 pool padded by 1), so the four
    outputs can be concatenated along the channels: ``ch1x1 + ch3x3 + ch5x5 + in_channels`` channels.
    The pool branch passes all input channels through, so the output always grows.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3: int, ch5x5: int, batch_norm: bool = False) -> None:
        super().__init__()
        check_channel_counts(in_channels=in_channels, ch1x1=ch1x1, ch3x3=ch3x3, ch5x5=ch5x5)
        self.in_channels = in_channels
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1, batch_norm=batch_norm)
        self.branch2 = BasicConv2d(in_channels, ch3x3, kernel_size=3, padding=1, batch_norm=batch_norm)
        self.branch3 = BasicConv2d(in_channels, ch5x5, kernel_size=5, padding=2, batch_norm=batch_norm)
        self.branch4 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "NaiveInception")
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class Inception(nn.Module):
    """The Inception module with dimension reductions (Figure 2b), GoogLeNet's building block.

    Four branches on the same grid, concatenated along the channels:

    * ``branch1``: 1×1 convolution (``ch1x1``);
    * ``branch2``: 1×1 reduction (``ch3x3red``) → 3×3 convolution (``ch3x3``), padding 1;
    * ``branch3``: 1×1 reduction (``ch5x5red``) → 5×5 convolution (``ch5x5``), padding 2. torchvision
      uses a 3×3 here, inherited from the TensorFlow model its weights were ported from (vision
      issue #906); we keep the paper's 5×5;
    * ``branch4``: 3×3 max pool, stride 1, padding 1 → 1×1 projection (``pool_proj``).

    Output: ``ch1x1 + ch3x3 + ch5x5 + pool_proj`` channels (256 for module 3a). ``bn_eps`` (BN's ε) and
    ``ch5x5_kernel`` (5, or torchvision's 3) exist so that :meth:`GoogLeNet.torchvision_layout`
    can rebuild torchvision's port (ε = 1e-3, 3×3) and load its weights; the defaults are the paper's.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
                 pool_proj: int, batch_norm: bool = False, bn_eps: float = 1e-5, ch5x5_kernel: int = 5) -> None:
        super().__init__()
        check_channel_counts(in_channels=in_channels, ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3,
                             ch5x5red=ch5x5red, ch5x5=ch5x5, pool_proj=pool_proj)
        self.in_channels = in_channels
        if ch5x5_kernel not in (3, 5):
            raise ValueError(f"ch5x5_kernel must be 5 (the paper's) or 3 (torchvision's), got {ch5x5_kernel!r}")
        bn = {"batch_norm": batch_norm, "bn_eps": bn_eps}
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1, **bn)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1, **bn),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1, **bn),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1, **bn),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=ch5x5_kernel, padding=ch5x5_kernel // 2, **bn),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1),
            BasicConv2d(in_channels, pool_proj, kernel_size=1, **bn),
        )
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "Inception")
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """An auxiliary classifier of GoogLeNet (Section 5), attached after modules 4a and 4d.

    5×5/3 average pool (14×14 → 4×4) → 1×1 convolution, 128 filters, ReLU → fully connected, 1024 units,
    ReLU → dropout 0.7 → linear to the classes. No softmax: it returns logits.

    The fully connected layer takes 128·4·4 = 2,048 features, so the pool must deliver a 4×4 grid. The
    head is built for the ``grid`` it will see: on the 14×14 grid of a 224-pixel input (or any grid the
    paper's 5×5/3 window takes to 4×4) it is exactly the paper's; on other grids the pool averages
    adaptively to 4×4 instead (as torchvision does on every grid), so the network trains on small images.
    ``adaptive=True`` pools adaptively on every grid and ``bn_eps`` sets BN's ε: both exist for
    :meth:`GoogLeNet.torchvision_layout`, whose weights were trained with torchvision's head (ε = 1e-3).
    """

    def __init__(self, in_channels: int, num_classes: int, grid: int = 14, dropout: float = 0.7,
                 batch_norm: bool = False, bn_eps: float = 1e-5, adaptive: bool = False) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        check_positive_int("num_classes", num_classes)
        check_positive_int("grid", grid)
        check_probability("dropout", dropout)
        paper_pool = not check_flag("adaptive", adaptive) and grid >= 5 and conv_output_size(grid, 5, 3) == 4
        self.pool = nn.AvgPool2d(kernel_size=5, stride=3) if paper_pool else nn.AdaptiveAvgPool2d(4)
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1, batch_norm=batch_norm, bn_eps=bn_eps)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "InceptionAux")
        # N x 512 x 14 x 14 (after 4a) or N x 528 x 14 x 14 (after 4d) at 224×224
        x = self.pool(x)  # N x C x 4 x 4
        x = self.conv(x)  # N x 128 x 4 x 4
        x = self.flatten(x)  # N x 2048
        x = self.relu(self.fc1(x))  # N x 1024
        x = self.dropout(x)
        return self.fc2(x)  # N x num_classes


class GoogLeNet(nn.Module):
    """GoogLeNet (Szegedy et al. 2014): the network of Table 1 and Figure 3.

    Stem (Figure 3): 7×7/2 conv 64 → 3×3/2 max pool → LRN → 1×1 conv 64 → 3×3 conv 192 → LRN → 3×3/2 max pool;
    then Inception 3a, 3b → max pool → 4a … 4e → max pool → 5a, 5b → average pool → dropout 0.4 → linear.
    Every max pool between stages is 3×3/2 with ``ceil_mode=True``, so the grids at 224×224 are
    112 → 56 → 28 → 14 → 7 as in Table 1 (rounding down would give 55 → 27 → 13 → 6).

    The average pool is ``AdaptiveAvgPool2d(1)``: on the 7×7 grid of a 224×224 input it is exactly the
    paper's 7×7 average pool, and it also accepts the smaller grids of smaller images.

    Args:
        num_classes: outputs of the classifier (and of the auxiliary classifiers).
        in_channels: channels of the input images (1 for grayscale).
        aux_logits: build the two auxiliary classifiers (after 4a and 4d). They run only in training mode;
            ``forward`` then returns ``InceptionOutputs(logits, aux_logits=(aux1, aux2))``, else the logits.
        batch_norm: BN after every convolution (the convolutions lose their bias), as in BN-GoogLeNet
            and torchvision's port. The paper has none.
        lrn: the two local response normalizations of Figure 3 (size 5, α = 1e-4, β = 0.75, k = 1).
        dropout, aux_dropout: dropout probabilities of the main head (0.4) and of the auxiliary heads (0.7).
        image_size: the side of the images the network is built for (224 in the paper). The auxiliary
            heads are built for the grid that size gives after 4a, and in training mode they accept only
            that size; in eval mode the network accepts any input of at least ``min_input_size`` pixels.

    Default: 6,998,552 parameters without auxiliary heads, 13,378,280 with; about 1.586G multiply-adds
    at 224×224. The model returns logits: there is no softmax inside.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
                 batch_norm: bool = False, lrn: bool = True, dropout: float = 0.4, aux_dropout: float = 0.7,
                 image_size: int = 224) -> None:
        super().__init__()
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.aux_logits = check_flag("aux_logits", aux_logits)
        self.image_size = check_positive_int("image_size", image_size)
        bn = check_flag("batch_norm", batch_norm)
        check_flag("lrn", lrn)
        check_probability("dropout", dropout)
        check_probability("aux_dropout", aux_dropout)

        self.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, batch_norm=bn)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.lrn1 = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0) if lrn else nn.Identity()
        self.conv2 = BasicConv2d(64, 64, kernel_size=1, batch_norm=bn)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1, batch_norm=bn)
        self.lrn2 = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0) if lrn else nn.Identity()
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32, batch_norm=bn)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64, batch_norm=bn)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64, batch_norm=bn)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64, batch_norm=bn)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64, batch_norm=bn)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64, batch_norm=bn)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128, batch_norm=bn)
        self.maxpool4 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128, batch_norm=bn)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128, batch_norm=bn)

        self.aux1 = self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1024, num_classes)

        self.min_input_size = smallest_input_size(self, in_channels)
        check_image_size("GoogLeNet", image_size, self.min_input_size)
        if aux_logits:
            grid = grid_sizes(self, image_size, ["inception4a"])["inception4a"]  # 14 at 224
            self.aux1 = InceptionAux(512, num_classes, grid, aux_dropout, batch_norm=bn)
            self.aux2 = InceptionAux(528, num_classes, grid, aux_dropout, batch_norm=bn)
        self._init_weights()

    @classmethod
    def torchvision_layout(cls, num_classes: int = 1000, aux_logits: bool = True,
                           transform_input: bool = False) -> GoogLeNet:
        """GoogLeNet as torchvision builds it, to load its weights: see :mod:`inception.googlenet_torchvision`."""
        from inception.googlenet_torchvision import TorchvisionGoogLeNet  # that module builds on this one
        return TorchvisionGoogLeNet(num_classes, aux_logits, transform_input)

    def _init_weights(self) -> None:
        # The paper trained with DistBelief and does not give its initialization. He initialization keeps
        # the scale of the activations through the 22 ReLU layers, which matters without batch norm.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor | InceptionOutputs:
        train_size = self.image_size if self.training and self.aux_logits else None
        check_image_batch(x, self.in_channels, self.min_input_size, "GoogLeNet", train_size)
        # N x 3 x 224 x 224
        x = self.conv1(x)  # N x 64 x 112 x 112
        x = self.maxpool1(x)  # N x 64 x 56 x 56
        x = self.lrn1(x)
        x = self.conv2(x)  # N x 64 x 56 x 56
        x = self.conv3(x)  # N x 192 x 56 x 56
        x = self.lrn2(x)
        x = self.maxpool2(x)  # N x 192 x 28 x 28

        x = self.inception3a(x)  # N x 256 x 28 x 28
        x = self.inception3b(x)  # N x 480 x 28 x 28
        x = self.maxpool3(x)  # N x 480 x 14 x 14

        x = self.inception4a(x)  # N x 512 x 14 x 14
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4b(x)  # N x 512 x 14 x 14
        x = self.inception4c(x)  # N x 512 x 14 x 14
        x = self.inception4d(x)  # N x 528 x 14 x 14
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.inception4e(x)  # N x 832 x 14 x 14
        x = self.maxpool4(x)  # N x 832 x 7 x 7

        x = self.inception5a(x)  # N x 832 x 7 x 7
        x = self.inception5b(x)  # N x 1024 x 7 x 7

        x = self.avgpool(x)  # N x 1024 x 1 x 1: the paper's 7×7 average pool at 224×224
        x = torch.flatten(x, 1)  # N x 1024
        x = self.dropout(x)
        x = self.fc(x)  # N x num_classes
        if aux1 is not None and aux2 is not None:
            return InceptionOutputs(x, (aux1, aux2))
        return x

