"""Inception-v3 as released (inception.inception_v3): structure, cost, checks and transform_input.

Agreement with torchvision's own model (keys, shapes, logits) is tested in tests/test_torchvision_layout.py.
"""

import pytest
import torch
from torch import nn

from inception.cost import count_macs, count_parameters, grid_sizes, output_shape
from inception.inception_v2 import BN_EPS, InceptionAuxV2
from inception.inception_v3 import (
    InceptionA,
    InceptionB,
    InceptionC,
    InceptionD,
    InceptionE,
    InceptionV3,
    imagenet_to_inception_range,
)


@pytest.fixture(scope="module")
def net():
    return InceptionV3().eval()


def test_parameters_are_torchvisions(net):
    assert count_parameters(net) == 27_161_264
    assert count_parameters(net) - count_parameters(net.AuxLogits) == 23_834_568
    without = InceptionV3(aux_logits=False, transform_input=True)
    assert count_parameters(without) == 23_834_568
    assert without.AuxLogits is None and without.transform_input is True


def test_multiply_adds_at_299_are_torchvisions_5_713g(net):
    macs = count_macs(net.eval(), (1, 3, 299, 299))
    assert macs == 5_713_251_528  # torchvision's documented "_ops": 5.713 (GMACs)
    assert round(macs / 1e9, 3) == 5.713


def test_smallest_input_is_75_as_torchvision_says(net):
    assert net.min_input_size == 75
    assert output_shape(net, (1, 3, 75, 75)) == (1, 1000)
    with pytest.raises(ValueError, match="at least 75×75"):
        net(torch.zeros(1, 3, 74, 74))


def test_grids_of_the_released_stem_and_stages(net):
    names = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
             "maxpool2", "Mixed_5d", "Mixed_6a", "Mixed_6e", "Mixed_7a", "Mixed_7c"]
    assert list(grid_sizes(net, 299, names).values()) == [149, 147, 147, 73, 73, 71, 35, 35, 17, 17, 8, 8]


@pytest.mark.parametrize(("block", "grid", "out_grid", "out_channels"), [
    (InceptionA(192, pool_features=32), 35, 35, 256),
    (InceptionA(256, pool_features=64), 35, 35, 288),
    (InceptionB(288), 35, 17, 768),
    (InceptionC(768, channels_7x7=128), 17, 17, 768),
    (InceptionD(768), 17, 8, 1280),
    (InceptionE(1280), 8, 8, 2048),
])
def test_blocks_output_channels_and_grid(block, grid, out_grid, out_channels):
    shape = output_shape(block, (1, block.in_channels, grid, grid))
    assert tuple(shape) == (1, out_channels, out_grid, out_grid) and block.out_channels == out_channels
    with pytest.raises(ValueError, match=f"expects {block.in_channels} input channels"):
        block(torch.zeros(1, block.in_channels + 1, grid, grid))


def test_released_departures_from_the_figures(net):
    # the 35×35 modules keep a 5×5 branch beside the double 3×3 (Figure 5 has none)
    assert net.Mixed_5b.branch5x5_2.conv.kernel_size == (5, 5)
    # 17×17: the double branch starts with 7×1, the single one with 1×7; widths 128, 160, 160, 192
    assert net.Mixed_6b.branch7x7_2.conv.kernel_size == (1, 7)
    assert net.Mixed_6b.branch7x7dbl_2.conv.kernel_size == (7, 1)
    widths = [getattr(net, f"Mixed_6{c}").branch7x7_1.out_channels for c in "bcde"]
    assert widths == [128, 160, 160, 192]
    # the stem's 1×1 and its second max pool
    assert net.Conv2d_3b_1x1.conv.kernel_size == (1, 1) and isinstance(net.maxpool2, nn.MaxPool2d)
    assert all(m.eps == BN_EPS for m in net.modules() if isinstance(m, nn.BatchNorm2d))
    assert all(m.bias is None for m in net.modules() if isinstance(m, nn.Conv2d))


def test_auxiliary_head_is_the_books_figure_8_head_with_torchvisions_pool(net):
    aux = net.AuxLogits
    assert isinstance(aux, InceptionAuxV2)
    assert (aux.pool.kernel_size, aux.pool.stride) == (5, 3)  # torchvision: F.avg_pool2d(5, stride=3)
    assert aux.conv0.out_channels == 128 and aux.conv1.conv.kernel_size == (5, 5) and aux.fc.in_features == 768


@pytest.mark.parametrize(("x", "message"), [
    (torch.zeros(3, 299, 299), "shape"),
    (torch.zeros(1, 3, 299, 299, dtype=torch.uint8), r"x\.float\(\)"),
    (torch.zeros(1, 3, 299, 299, dtype=torch.float64), r"x\.float\(\)"),
    (torch.zeros(1, 1, 299, 299), "3 input channels"),
    ([[0.0]], "torch.Tensor"),
])
def test_bad_inputs_raise_value_error(net, x, message):
    with pytest.raises(ValueError, match=message):
        net(x)


def test_training_mode_with_the_auxiliary_head_takes_only_299(net):
    net.train()
    try:
        with pytest.raises(ValueError, match="299×299"):
            net(torch.zeros(2, 3, 300, 300))
    finally:
        net.eval()


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"num_classes": 0}, "num_classes"), ({"aux_logits": 1}, "aux_logits"),
    ({"transform_input": "yes"}, "transform_input"), ({"dropout": 1.0}, "dropout"),
])
def test_bad_arguments_raise_value_error(kwargs, name):
    with pytest.raises(ValueError, match=name):
        InceptionV3(**kwargs)


def test_transform_input_is_torchvisions_formula():
    x = torch.randn(2, 3, 5, 7, generator=torch.Generator().manual_seed(0))
    expected = torch.cat([  # torchvision's Inception3._transform_input, written out
        torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5,
        torch.unsqueeze(x[:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5,
        torch.unsqueeze(x[:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5,
    ], 1)
    assert torch.equal(imagenet_to_inception_range(x), expected)


def test_transform_input_maps_imagenet_normalized_pixels_to_minus_one_one():
    pixels = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(1))  # in [0, 1]
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    google = imagenet_to_inception_range((pixels - mean) / std)
    torch.testing.assert_close(google, (pixels - 0.5) / 0.5)
    assert imagenet_to_inception_range(torch.zeros(1, 3, 2, 2, dtype=torch.bfloat16)).dtype == torch.bfloat16

