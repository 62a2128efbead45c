import pytest
import torch

from inception.layers import BasicConv2d


def test_basic_conv_with_bn_has_no_conv_bias():
    layer = BasicConv2d(3, 8, 3, padding=1)
    assert layer.conv.bias is None
    assert isinstance(layer.bn, torch.nn.BatchNorm2d)
    assert sum(p.numel() for p in layer.parameters()) == 3 * 8 * 9 + 2 * 8


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


def test_diagram_label():
    assert BasicConv2d(3, 64, 7, stride=2, padding=3).diagram_label() == "7×7 conv, 64 /2"
    assert BasicConv2d(3, 64, (1, 7), padding=(0, 3)).diagram_label() == "1×7 conv, 64"


@pytest.mark.parametrize(
    "args, message",
    [
        ((0, 8, 3), "in_channels must be a positive integer, got 0"),
        ((3, -1, 3), "out_channels must be a positive integer, got -1"),
        ((3, 8, 0), "kernel_size must be >= 1"),
        ((3, 8, 3.0), "kernel_size must be an int or a pair of ints"),
        ((3, 8, 3, 0), "stride must be >= 1"),
        ((3, 8, 3, 1, 2), "padding 2 along the height is more than half the kernel size 3"),
    ],
)
def test_basic_conv_rejects_impossible_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        BasicConv2d(*args)
