"""Inception-v3 as released: the network of Rethinking the Inception Architecture (arXiv 1512.00567),
Table 3's last row, in the layout of torchvision's ``Inception3`` (``torchvision.models.inception_v3``).

The released model, whose weights torchvision says it "ported from the original paper", follows Table 1
and Figures 5-8 and 10 in spirit, not box by box. Its blocks are written here with torchvision's names
and branch widths, so that ``InceptionV3().load_state_dict(torchvision_state_dict, strict=True)`` works
(the names inside :mod:`inception.inception_v2`'s Figure 5-7 blocks differ):

* :class:`InceptionA`: the 35×35 module (Figure 5), with a 5×5 branch kept beside the two 3×3;
* :class:`InceptionB`: the 35 → 17 grid reduction (Figure 10), a direct 3×3/2 convolution;
* :class:`InceptionC`: the 17×17 module (Figure 6, n = 7), four modules of growing width;
* :class:`InceptionD`: the 17 → 8 grid reduction, a factorized 7×7 before its 3×3/2;
* :class:`InceptionE`: the 8×8 module (Figure 7), each 3×3 split into 1×3 and 3×1;
* :class:`InceptionV3`: the network; its auxiliary head is :class:`~inception.inception_v2.InceptionAuxV2`
  (Figure 8), whose parameters and behaviour are torchvision's ``InceptionAux``'s at 299×299.

Every convolution is :func:`~inception.inception_v2.conv_bn` (BN ε = 1e-3, no bias, ReLU), as in
torchvision's ``BasicConv2d``. Pools are modules (torchvision calls ``F.avg_pool2d``), without parameters.
"""

from __future__ import annotations

import torch
import torch.fx
from torch import nn

from inception.cost import smallest_input_size
from inception.inception_v2 import InceptionAuxV2, conv_bn
from inception.layers import InceptionOutputs
from inception.validation import check_channels, check_flag, check_image_batch, check_positive_int, check_probability

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@torch.fx.wrap
def imagenet_to_inception_range(x: torch.Tensor) -> torch.Tensor:
    """Re-normalize an ImageNet-normalized batch to the (x − 0.5) / 0.5 range Google's weights expect.

    torchvision normalizes every image with the ImageNet mean and standard deviation,
    x_n = (x − mean) / std, but the Inception-v3 (and GoogLeNet) weights were trained on x' = (x − 0.5) / 0.5,
    pixels in [−1, 1]. With ``transform_input=True`` the networks undo one and apply the other, channel
    by channel: x' = x_n · (std / 0.5) + (mean − 0.5) / 0.5, as torchvision's ``_transform_input`` does
    (x_ch0 = x[:, 0] · 0.229 / 0.5 + (0.485 − 0.5) / 0.5, and so on). Registered with ``torch.fx.wrap``:
    a traced network (a diagram) shows it as one step.
    """
    scale = torch.tensor([s / 0.5 for s in IMAGENET_STD], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    shift = torch.tensor([(m - 0.5) / 0.5 for m in IMAGENET_MEAN], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return x * scale + shift


class InceptionA(nn.Module):
    """The 35×35 module of the released model (torchvision's ``InceptionA``; Rethinking, Figure 5).

    Figure 5 replaces GoogLeNet's 5×5 by two stacked 3×3; the released model keeps a 5×5 branch as well
    and has no single-3×3 branch: ``branch1x1`` 1×1 (64); ``branch5x5_1`` 1×1 (48) → ``branch5x5_2`` 5×5
    (64); ``branch3x3dbl_1..3`` 1×1 (64) → 3×3 (96) → 3×3 (96); 3×3 average pool → ``branch_pool`` 1×1
    (``pool_features``: 32 in ``Mixed_5b``, 64 after). Output 224 + ``pool_features`` channels.
    """

    def __init__(self, in_channels: int, pool_features: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.branch1x1 = conv_bn(in_channels, 64, 1)
        self.branch5x5_1 = conv_bn(in_channels, 48, 1)
        self.branch5x5_2 = conv_bn(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = conv_bn(in_channels, 64, 1)
        self.branch3x3dbl_2 = conv_bn(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = conv_bn(96, 96, 3, padding=1)
        self.pool = nn.AvgPool2d(3, stride=1, padding=1)
        self.branch_pool = conv_bn(in_channels, pool_features, 1)
        self.out_channels = 64 + 64 + 96 + pool_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "InceptionA")
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = self.branch_pool(self.pool(x))
        return torch.cat([self.branch1x1(x), branch5x5, branch3x3dbl, branch_pool], 1)


class InceptionB(nn.Module):
    """The 35 → 17 grid reduction of the released model (torchvision's ``InceptionB``, ``Mixed_6a``).

    Figure 10's idea, stride-2 branches beside a stride-2 pool, but the first branch has no 1×1
    reduction: ``branch3x3`` 3×3/2 (384) straight from the input; ``branch3x3dbl_1..3`` 1×1 (64) → 3×3
    (96) → 3×3/2 (96); 3×3/2 max pool. 288 → 384 + 96 + 288 = 768 channels.
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.branch3x3 = conv_bn(in_channels, 384, 3, stride=2)
        self.branch3x3dbl_1 = conv_bn(in_channels, 64, 1)
        self.branch3x3dbl_2 = conv_bn(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = conv_bn(96, 96, 3, stride=2)
        self.pool = nn.MaxPool2d(3, stride=2)
        self.out_channels = 384 + 96 + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "InceptionB")
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), branch3x3dbl, self.pool(x)], 1)


class InceptionC(nn.Module):
    """The 17×17 module of the released model (torchvision's ``InceptionC``; Rethinking, Figure 6, n = 7).

    Every 7×7 is factorized into a 1×7 and a 7×1. ``branch1x1`` 1×1 (192); ``branch7x7_1..3`` 1×1 (c7) →
    1×7 (c7) → 7×1 (192); ``branch7x7dbl_1..5`` 1×1 (c7) → 7×1 → 1×7 → 7×1 (c7) → 1×7 (192): this branch
    starts with the 7×1, the opposite order to ``branch7x7`` and to our Figure 6 block; 3×3 average pool
    → ``branch_pool`` 1×1 (192). Output 768 channels. The widths are the released model's: the inner
    width ``channels_7x7`` grows 128, 160, 160, 192 over the four modules (Table 1 lists five).
    """

    def __init__(self, in_channels: int, channels_7x7: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        c7 = check_positive_int("channels_7x7", channels_7x7)
        self.branch1x1 = conv_bn(in_channels, 192, 1)
        self.branch7x7_1 = conv_bn(in_channels, c7, 1)
        self.branch7x7_2 = conv_bn(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = conv_bn(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = conv_bn(in_channels, c7, 1)
        self.branch7x7dbl_2 = conv_bn(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = conv_bn(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = conv_bn(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = conv_bn(c7, 192, (1, 7), padding=(0, 3))
        self.pool = nn.AvgPool2d(3, stride=1, padding=1)
        self.branch_pool = conv_bn(in_channels, 192, 1)
        self.out_channels = 4 * 192

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "InceptionC")
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        branch7x7dbl = self.branch7x7dbl_2(self.branch7x7dbl_1(x))
        branch7x7dbl = self.branch7x7dbl_5(self.branch7x7dbl_4(self.branch7x7dbl_3(branch7x7dbl)))
        branch_pool = self.branch_pool(self.pool(x))
        return torch.cat([self.branch1x1(x), branch7x7, branch7x7dbl, branch_pool], 1)


class InceptionD(nn.Module):
    """The 17 → 8 grid reduction of the released model (torchvision's ``InceptionD``, ``Mixed_7a``).

    Figure 10's layout with a factorized 7×7 before the second stride-2 convolution: ``branch3x3_1..2``
    1×1 (192) → 3×3/2 (320); ``branch7x7x3_1..4`` 1×1 (192) → 1×7 → 7×1 → 3×3/2 (192); 3×3/2 max pool.
    768 → 320 + 192 + 768 = 1,280 channels.
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.branch3x3_1 = conv_bn(in_channels, 192, 1)
        self.branch3x3_2 = conv_bn(192, 320, 3, stride=2)
        self.branch7x7x3_1 = conv_bn(in_channels, 192, 1)
        self.branch7x7x3_2 = conv_bn(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = conv_bn(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = conv_bn(192, 192, 3, stride=2)
        self.pool = nn.MaxPool2d(3, stride=2)
        self.out_channels = 320 + 192 + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "InceptionD")
        branch3x3 = self.branch3x3_2(self.branch3x3_1(x))
        branch7x7x3 = self.branch7x7x3_2(self.branch7x7x3_1(x))
        branch7x7x3 = self.branch7x7x3_4(self.branch7x7x3_3(branch7x7x3))
        return torch.cat([branch3x3, branch7x7x3, self.pool(x)], 1)


class InceptionE(nn.Module):
    """The 8×8 module of the released model (torchvision's ``InceptionE``; Rethinking, Figure 7).

    The expanded filter bank: each 3×3 of the top of a branch is split into a 1×3 and a 3×1 side by
    side, both reading the same input. ``branch1x1`` 1×1 (320); ``branch3x3_1`` 1×1 (384), then
    ``branch3x3_2a`` 1×3 and ``branch3x3_2b`` 3×1 (384 each); ``branch3x3dbl_1`` 1×1 (448) →
    ``branch3x3dbl_2`` 3×3 (384), then ``branch3x3dbl_3a`` 1×3 and ``branch3x3dbl_3b`` 3×1 (384 each);
    3×3 average pool → ``branch_pool`` 1×1 (192). The six outputs are concatenated in the same order as
    :class:`~inception.inception_v2.InceptionFig7`'s (torchvision groups each split pair into its
    branch): 320 + 768 + 768 + 192 = 2,048 channels.
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.branch1x1 = conv_bn(in_channels, 320, 1)
        self.branch3x3_1 = conv_bn(in_channels, 384, 1)
        self.branch3x3_2a = conv_bn(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = conv_bn(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = conv_bn(in_channels, 448, 1)
        self.branch3x3dbl_2 = conv_bn(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = conv_bn(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = conv_bn(384, 384, (3, 1), padding=(1, 0))
        self.pool = nn.AvgPool2d(3, stride=1, padding=1)
        self.branch_pool = conv_bn(in_channels, 192, 1)
        self.out_channels = 320 + 2 * 384 + 2 * 384 + 192

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_channels(x, self.in_channels, "InceptionE")
        branch3x3 = self.branch3x3_1(x)
        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        outputs = [self.branch1x1(x), self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3),
                   self.branch3x3dbl_3a(branch3x3dbl), self.branch3x3dbl_3b(branch3x3dbl),
                   self.branch_pool(self.pool(x))]
        return torch.cat(outputs, 1)


class InceptionV3(nn.Module):
    """Inception-v3 (Rethinking, Table 3's last row) as released, in torchvision's ``Inception3`` layout.

    At 299×299 the grids go 149 → 147 → 73 → 71 → 35 (stem) → 35×35×288 (3 × :class:`InceptionA`) →
    17×17×768 (:class:`InceptionB`, 4 × :class:`InceptionC`) → 8×8×1280 (:class:`InceptionD`) →
    8×8×2048 (2 × :class:`InceptionE`) → global average pool → dropout → FC. It returns logits; in
    training mode with ``aux_logits`` it returns ``InceptionOutputs(logits, (aux,))``, the BN auxiliary
    head of Figure 8 (Table 3's "BN-auxiliary") reading the last 17×17 grid, and accepts only 299×299.

    Where the released model departs from Table 1 (our :class:`~inception.inception_v2.InceptionV2`):
    the stem's fifth and sixth layers are a 1×1 convolution to 80 (``Conv2d_3b_1x1``, 73 → 73) and an
    unpadded 3×3 to 192 (71), followed by a second 3×3/2 max pool (``maxpool2``, 71 → 35), instead of
    3×3 convolutions to 80, 192 (stride 2) and 288; the 35×35 modules keep a 5×5 branch; there are four
    17×17 modules, not five, with their own widths; the grid reductions differ from Figure 10 (see
    :class:`InceptionB`, :class:`InceptionD`). Dropout 0.5 and ``transform_input`` are torchvision's.

    Args:
        num_classes: outputs of the classifier and of the auxiliary head.
        aux_logits: build the auxiliary head (``AuxLogits``); it runs only in training mode.
        transform_input: re-normalize ImageNet-normalized input for Google's weights
            (:func:`imagenet_to_inception_range`), as torchvision's ``transform_input=True``.
        dropout: the dropout probability before ``fc``.

    23,834,568 parameters without the auxiliary head, 27,161,264 with; smallest input 75×75.
    """

    image_size = 299  # the input the auxiliary head is built for (Table 1)

    def __init__(self, num_classes: int = 1000, aux_logits: bool = True, transform_input: bool = False,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.in_channels = 3
        self.aux_logits = check_flag("aux_logits", aux_logits)
        self.transform_input = check_flag("transform_input", transform_input)
        check_probability("dropout", dropout)

        self.Conv2d_1a_3x3 = conv_bn(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = conv_bn(32, 32, 3)
        self.Conv2d_2b_3x3 = conv_bn(32, 64, 3, padding=1)
        self.maxpool1 = nn.MaxPool2d(3, stride=2)
        self.Conv2d_3b_1x1 = conv_bn(64, 80, 1)
        self.Conv2d_4a_3x3 = conv_bn(80, 192, 3)
        self.maxpool2 = nn.MaxPool2d(3, stride=2)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.AuxLogits = InceptionAuxV2(768, num_classes) if aux_logits else None
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280)
        self.Mixed_7c = InceptionE(2048)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2048, num_classes)

        self.min_input_size = smallest_input_size(self, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor | InceptionOutputs:
        train_size = self.image_size if self.training and self.aux_logits else None
        check_image_batch(x, 3, self.min_input_size, "InceptionV3", train_size, "train it on 299-pixel images")
        if self.transform_input:
            x = imagenet_to_inception_range(x)
        # N x 3 x 299 x 299
        x = self.Conv2d_1a_3x3(x)  # N x 32 x 149 x 149
        x = self.Conv2d_2a_3x3(x)  # N x 32 x 147 x 147
        x = self.Conv2d_2b_3x3(x)  # N x 64 x 147 x 147
        x = self.maxpool1(x)  # N x 64 x 73 x 73
        x = self.Conv2d_3b_1x1(x)  # N x 80 x 73 x 73
        x = self.Conv2d_4a_3x3(x)  # N x 192 x 71 x 71
        x = self.maxpool2(x)  # N x 192 x 35 x 35
        x = self.Mixed_5b(x)  # N x 256 x 35 x 35
        x = self.Mixed_5c(x)  # N x 288 x 35 x 35
        x = self.Mixed_5d(x)  # N x 288 x 35 x 35
        x = self.Mixed_6a(x)  # N x 768 x 17 x 17
        x = self.Mixed_6b(x)  # N x 768 x 17 x 17
        x = self.Mixed_6c(x)  # N x 768 x 17 x 17
        x = self.Mixed_6d(x)  # N x 768 x 17 x 17
        x = self.Mixed_6e(x)  # N x 768 x 17 x 17
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
