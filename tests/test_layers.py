"""inception.layers: BasicConv2d (conv → [BN] → ReLU) and InceptionOutputs."""

import pytest
import torch

from inception.diagrams import describe
from inception.layers import BasicConv2d, InceptionOutputs


def test_basic_conv_with_bn_has_no_conv_bias():
    layer = BasicConv2d(3, 8, 3, padding=1)
    assert layer.conv.bias is None
    assert isinstance(layer.bn, torch.nn.BatchNorm2d) and layer.bn.eps == 1e-5
    assert sum(p.numel() for p in layer.parameters()) == 3 * 8 * 9 + 2 * 8
    assert (layer.in_channels, layer.out_channels) == (3, 8)
    assert BasicConv2d(3, 8, 3, bn_eps=1e-3).bn.eps == 1e-3


def test_basic_conv_without_bn_has_conv_bias():
    layer = BasicConv2d(3, 8, 3, batch_norm=False)
    assert layer.bn is None and layer.conv.bias is not None
    assert sum(p.numel() for p in layer.parameters()) == 3 * 8 * 9 + 8


def test_basic_conv_output_is_relu_of_conv():
    torch.manual_seed(0)
    layer = BasicConv2d(2, 4, (1, 3), padding=(0, 1), batch_norm=False)
    x = torch.randn(1, 2, 5, 5)
    y = layer(x)
    assert y.shape == (1, 4, 5, 5)
    assert torch.equal(y, torch.relu(layer.conv(x)))


def test_basic_conv_output_is_relu_of_bn_of_conv():
    torch.manual_seed(0)
    layer = BasicConv2d(2, 4, 3, stride=2, padding=1).eval()
    x = torch.randn(2, 2, 7, 7)
    with torch.no_grad():
        assert torch.equal(layer(x), torch.relu(layer.bn(layer.conv(x))))
    assert layer(x).shape == (2, 4, 4, 4)


def test_labels_are_derived_by_the_diagrams_not_carried():
    assert not hasattr(BasicConv2d, "diagram_label")
    assert describe(BasicConv2d(3, 64, 7, stride=2, padding=3)) == "7×7 conv, 64 /2"
    assert describe(BasicConv2d(3, 64, (1, 7), padding=(0, 3))) == "1×7 conv, 64"


def test_inception_outputs():
    out = InceptionOutputs(torch.zeros(2, 10), (torch.ones(2, 10),))
    logits, aux = out
    assert out.logits is logits and out.aux_logits == aux and InceptionOutputs._fields == ("logits", "aux_logits")


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((0, 8, 3), {}, "in_channels must be a positive integer, got 0"),
        ((3, -1, 3), {}, "out_channels must be a positive integer, got -1"),
        ((3, 8, 0), {}, "kernel_size must be >= 1"),
        ((3, 8, 3.0), {}, "kernel_size must be an int or a pair of ints"),
        ((3, 8, 3, 0), {}, "stride must be >= 1"),
        ((3, 8, 3, 1, 2), {}, "padding 2 along the height is more than half the kernel size 3"),
        ((3, 8, (1, 3), 1, (0, 2)), {}, "padding 2 along the width is more than half the kernel size 3"),
        ((3, 8, 3), {"batch_norm": "3"}, "batch_norm must be True or False, got '3'"),
        ((3, 8, 3), {"bn_eps": -1}, "bn_eps must be a number > 0, got -1"),
        ((3, 8, 3), {"bn_eps": 0}, "bn_eps must be a number > 0, got 0"),
    ],
)
def test_basic_conv_rejects_impossible_arguments(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        BasicConv2d(*args, **kwargs)
