"""GoogLeNet in torchvision's layout: the book's blocks, built the way ``torchvision.models.googlenet`` is.

torchvision's ImageNet weights for GoogLeNet (``GoogLeNet_Weights.IMAGENET1K_V1``) were trained for its
own build of the network, which departs from the paper (Szegedy et al. 2014, arXiv 1409.4842) in six
places. :class:`TorchvisionGoogLeNet` writes that build out with the book's :class:`Inception` and
:class:`InceptionAux`, so that ``GoogLeNet.torchvision_layout().load_state_dict(state_dict, strict=True)``
takes torchvision's state dict as it is and gives the same logits. Build it with
:meth:`inception.googlenet.GoogLeNet.torchvision_layout`.
"""

from __future__ import annotations

import torch
import torch.fx
from torch import nn

from inception.cost import smallest_input_size
from inception.googlenet import GoogLeNet, Inception, InceptionAux
from inception.inception_v3 import imagenet_to_inception_range
from inception.layers import BasicConv2d, InceptionOutputs
from inception.validation import check_flag, check_image_batch, check_positive_int

BN_EPS = 1e-3  # torchvision's BasicConv2d (TensorFlow's default for the Inception networks)
torch.fx.wrap("imagenet_to_inception_range")  # one step, not four, when the network is traced (a diagram)


def _inception(*widths: int) -> Inception:
    """One Inception module of Table 1 as torchvision builds it: BN (ε = 1e-3) and a 3×3 "5×5" branch."""
    return Inception(*widths, batch_norm=True, bn_eps=BN_EPS, ch5x5_kernel=3)


class TorchvisionGoogLeNet(GoogLeNet):
    """GoogLeNet with torchvision's layout, module names and defaults, to load its ImageNet weights.

    Where it departs from the paper's network (:class:`~inception.googlenet.GoogLeNet`'s default build),
    each time because torchvision's ``GoogLeNet`` does and its weights were trained that way:

    * batch normalization (ε = 1e-3) after every convolution, and no convolution bias (the paper has no
      BN: it predates it);
    * a 3×3 convolution in the "5×5" branch of every Inception module (inherited from the TensorFlow
      model torchvision's weights were ported from, its issue #906; kept so that the weights load);
    * no local response normalization in the stem;
    * ``maxpool4`` is 2×2/2 (ceil mode) instead of 3×3/2: the grid still goes 14 → 7;
    * dropout 0.2 before the classifier instead of 0.4;
    * the auxiliary heads always pool adaptively to 4×4 (the paper's 5×5/3 pool gives 4×4 only from a
      14-16 grid), with dropout 0.7 and BN in their 1×1 convolution; in training mode they accept any size.

    ``transform_input=True`` maps ImageNet-normalized images to the (x − 0.5) / 0.5 range, as torchvision
    does (see :func:`inception.inception_v3.imagenet_to_inception_range`). 6,624,904 parameters without
    the auxiliary heads, 13,004,888 with (torchvision's documented count); smallest input 15×15. In
    training mode it returns ``InceptionOutputs(logits, (aux1, aux2))`` like the book's GoogLeNet
    (torchvision's ``GoogLeNetOutputs`` lists ``aux_logits2`` before ``aux_logits1``).
    """

    image_size = 224  # torchvision's crop for these weights; the adaptive auxiliary heads accept any size

    def __init__(self, num_classes: int = 1000, aux_logits: bool = True, transform_input: bool = False) -> None:
        nn.Module.__init__(self)  # the layout is written out here, not derived from the paper's build
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.in_channels = 3
        self.aux_logits = check_flag("aux_logits", aux_logits)
        self.transform_input = check_flag("transform_input", transform_input)

        self.conv1 = BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3, bn_eps=BN_EPS)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1, bn_eps=BN_EPS)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1, bn_eps=BN_EPS)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception3a = _inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = _inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception4a = _inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = _inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = _inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = _inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = _inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)

        self.inception5a = _inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = _inception(832, 384, 192, 384, 48, 128, 128)

        self.aux1 = self.aux2 = None
        if aux_logits:
            self.aux1 = InceptionAux(512, num_classes, batch_norm=True, bn_eps=BN_EPS, adaptive=True)
            self.aux2 = InceptionAux(528, num_classes, batch_norm=True, bn_eps=BN_EPS, adaptive=True)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(1024, num_classes)
        self.min_input_size = smallest_input_size(self, 3)
        self._init_weights()

    def forward(self, x: torch.Tensor) -> torch.Tensor | InceptionOutputs:
        check_image_batch(x, 3, self.min_input_size, "GoogLeNet (torchvision layout)")
        if self.transform_input:
            x = imagenet_to_inception_range(x)
        # N x 3 x 224 x 224
        x = self.conv1(x)  # N x 64 x 112 x 112
        x = self.maxpool1(x)  # N x 64 x 56 x 56
        x = self.conv2(x)  # N x 64 x 56 x 56
        x = self.conv3(x)  # N x 192 x 56 x 56
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
        x = self.maxpool4(x)  # N x 832 x 7 x 7: a 2×2/2 pool here

        x = self.inception5a(x)  # N x 832 x 7 x 7
        x = self.inception5b(x)  # N x 1024 x 7 x 7

        x = self.avgpool(x)  # N x 1024 x 1 x 1
        x = torch.flatten(x, 1)  # N x 1024
        x = self.dropout(x)
        x = self.fc(x)  # N x num_classes
        if aux1 is not None and aux2 is not None:
            return InceptionOutputs(x, (aux1, aux2))
        return x
