"""BN-Inception (Ioffe & Szegedy 2015, Figure 5): Figure 5 written out, grids, costs, names, aux heads, diagrams."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

from inception.bn_inception import (
    FIGURE_5,
    FIGURE_5_PRINTED_OUTPUT,
    BNInception,
    BNInceptionModule,
    BNInceptionReduction,
)
from inception.cost import conv_output_size, count_macs, count_parameters, grid_sizes
from inception.diagrams import describe, flowchart, mermaid_source
from inception.googlenet import InceptionAux
from inception.layers import BasicConv2d, InceptionOutputs

pytestmark = pytest.mark.usefixtures("one_thread")

MODULES = ["inception3a", "inception3b", "inception3c", "inception4a", "inception4b", "inception4c",
           "inception4d", "inception4e", "inception5a", "inception5b"]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return BNInception().eval()


def _grids(size: int) -> dict[str, int]:
    """The grids worked out with conv_output_size: GoogLeNet's stem (7×7/2 conv, two 3×3/2 ceil-mode max
    pools), then the two stride-2 modules, whose 3×3/2 convolutions and pool are padded by 1."""
    conv1 = conv_output_size(size, 7, 2, 3)
    maxpool1 = conv_output_size(conv1, 3, 2, 0, ceil_mode=True)
    maxpool2 = conv_output_size(maxpool1, 3, 2, 0, ceil_mode=True)
    inception3c = conv_output_size(maxpool2, 3, 2, 1)
    inception4e = conv_output_size(inception3c, 3, 2, 1)
    return {"conv1": conv1, "maxpool1": maxpool1, "maxpool2": maxpool2, "inception3c": inception3c,
            "inception4e": inception4e}


def test_parameter_counts(model):
    assert count_parameters(model) == 11_285_224
    assert count_parameters(BNInception(aux_logits=True)) == 17_683_640
    assert count_parameters(BNInception(10)) == 10_270_474


def test_mnist_implementations_count_lacks_the_stems_1x1_convolution():
    # the BN-Inception-on-MNIST implementation builds the stem as 7×7 conv → pool → 3×3 conv, without
    # Figure 5's 1×1 conv (64 → 64), our conv2
    net = BNInception(10, aux_logits=True)
    net.conv2 = nn.Identity()
    aux = count_parameters(net.aux1) + count_parameters(net.aux2)
    assert count_parameters(net) == 14_635_166
    assert count_parameters(net) - aux == 10_266_250


def test_cadene_count_is_ours_plus_a_bias_per_convolution_channel(model):
    biases = sum(m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d))
    assert count_parameters(model) + biases == 11_295_240


def test_macs_at_224(model):
    assert count_macs(model, (1, 3, 224, 224)) == 2_032_621_096


@pytest.mark.parametrize("size", [7, 8, 32, 64, 224, 299])
def test_grid_sizes_agree_with_the_arithmetic(model, size):
    assert grid_sizes(model, size, list(_grids(size))) == _grids(size)


def test_smallest_input_is_measured_from_the_layers(model):
    by_hand = next(size for size in range(1, 64) if _fits(size))
    assert model.min_input_size == 7 == by_hand
    assert BNInception(10, in_channels=1, aux_logits=True).min_input_size == 7


def _fits(size: int) -> bool:
    try:
        _grids(size)
    except ValueError:
        return False
    return True


def test_grids_and_channels_at_224(model):
    assert grid_sizes(model, 224, ["conv1", "maxpool1", "maxpool2", *MODULES]) == {
        "conv1": 112, "maxpool1": 56, "maxpool2": 28, **dict.fromkeys(MODULES[:2], 28),
        **dict.fromkeys(MODULES[2:7], 14), **dict.fromkeys(MODULES[7:], 7)}
    shapes = {}
    hooks = [getattr(model, n).register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape[1:])))
             for n in MODULES]
    try:
        with torch.no_grad():
            assert model(torch.randn(1, 3, 224, 224)).shape == (1, 1000)
    finally:
        for h in hooks:
            h.remove()
    implied = {"3a": (256, 28), "3b": (320, 28), "3c": (576, 14), "4a": (576, 14), "4b": (576, 14),
               "4c": (608, 14), "4d": (608, 14), "4e": (1056, 7), "5a": (1024, 7), "5b": (1024, 7)}
    for name, (channels, grid) in implied.items():
        assert shapes[f"inception{name}"] == (channels, grid, grid), name
    differ = {n for n, (g, c) in FIGURE_5_PRINTED_OUTPUT.items() if (c, g) != implied[n]}
    assert differ == {"3c", "4c", "4d", "4e"}


@pytest.mark.parametrize("name", MODULES)
def test_literal_modules_are_figure_5s_rows(model, name):
    row = FIGURE_5[name.removeprefix("inception")]
    module = getattr(model, name)
    previous = getattr(model, MODULES[MODULES.index(name) - 1]) if name != "inception3a" else model.conv3
    assert module.in_channels == previous.out_channels
    if row[0] == 0:  # a stride-2 module: no #1×1, a max pool passed through
        assert isinstance(module, BNInceptionReduction) and row[5:] == ("max", 0)
        read = (0, module.branch1[0].out_channels, module.branch1[1].out_channels,
                module.branch2[0].out_channels, module.branch2[2].out_channels)
        assert module.branch1[1].conv.stride == module.branch2[2].conv.stride == (2, 2)
        assert isinstance(module.branch3, nn.MaxPool2d) and module.branch3.stride == 2
        assert module.out_channels == row[2] + row[4] + module.in_channels
    else:
        assert isinstance(module, BNInceptionModule)
        read = (module.branch1.out_channels, module.branch2[0].out_channels, module.branch2[1].out_channels,
                module.branch3[0].out_channels, module.branch3[2].out_channels)
        assert module.branch3[1].out_channels == row[4]
        assert isinstance(module.branch4[0], nn.AvgPool2d if row[5] == "avg" else nn.MaxPool2d)
        assert module.branch4[1].out_channels == row[6]
        assert module.out_channels == row[0] + row[2] + row[4] + row[6]
    assert read == row[:5]


def test_every_convolution_is_batch_normalized_without_bias(model):
    convs = [m for m in model.modules() if isinstance(m, BasicConv2d)]
    assert len(convs) == 3 + 8 * 7 + 2 * 5
    assert all(c.bn is not None and c.conv.bias is None for c in convs)
    assert not any(isinstance(m, nn.Dropout) for m in model.modules())  # Sec. 4.2.1: "Remove Dropout"


def test_one_vocabulary_with_googlenet(model):
    assert [n for n, _ in model.named_children()] == [
        "conv1", "maxpool1", "conv2", "conv3", "maxpool2", *MODULES, "avgpool", "fc"]
    assert (model.conv1.conv.kernel_size, model.conv1.conv.stride, model.conv1.out_channels) == ((7, 7), (2, 2), 64)
    assert (model.conv2.conv.kernel_size, model.conv2.out_channels) == ((1, 1), 64)
    assert (model.conv3.conv.kernel_size, model.conv3.out_channels) == ((3, 3), 192)
    assert not hasattr(model, "conv2_reduce")
    for name in MODULES:
        branches = [n for n, _ in getattr(model, name).named_children()]
        three = isinstance(getattr(model, name), BNInceptionReduction)
        assert branches == ["branch1", "branch2", "branch3"] + ([] if three else ["branch4"])
    assert list(inspect.signature(BNInceptionModule).parameters) == [
        "in_channels", "ch1x1", "ch3x3red", "ch3x3", "ch3x3dbl_red", "ch3x3dbl", "pool", "pool_proj"]
    assert list(inspect.signature(BNInceptionReduction).parameters) == [
        "in_channels", "ch3x3red", "ch3x3", "ch3x3dbl_red", "ch3x3dbl"]


def test_aux_heads_run_in_training_only():
    torch.manual_seed(0)
    net = BNInception(10, aux_logits=True, image_size=64).train()
    assert isinstance(net.aux1, InceptionAux) and net.aux1.conv.bn is not None
    assert isinstance(net.aux1.pool, nn.AdaptiveAvgPool2d)  # the grid after 4a is 4×4 at 64 pixels
    out = net(torch.randn(2, 3, 64, 64))
    assert isinstance(out, InceptionOutputs)
    assert out.logits.shape == (2, 10)
    assert [a.shape for a in out.aux_logits] == [(2, 10), (2, 10)]
    with torch.no_grad():
        assert net.eval()(torch.randn(2, 3, 96, 96)).shape == (2, 10)
    assert isinstance(BNInception(10).train()(torch.randn(2, 3, 64, 64)), torch.Tensor)


def test_aux_heads_at_224_use_the_papers_pool():
    net = BNInception(aux_logits=True)
    for head, channels in ((net.aux1, 576), (net.aux2, 608)):
        assert head.in_channels == channels
        assert isinstance(head.pool, nn.AvgPool2d) and (head.pool.kernel_size, head.pool.stride) == (5, 3)


@pytest.mark.parametrize("aux", [False, True])
def test_smallest_input(aux):
    torch.manual_seed(0)
    net = BNInception(10, in_channels=1, aux_logits=aux, image_size=7).train()
    out = net(torch.randn(2, 1, 7, 7))
    logits = out.logits if aux else out
    assert logits.shape == (2, 10)
    with pytest.raises(ValueError, match=r"at least 7×7 pixels, got 6×6"):
        net(torch.randn(2, 1, 6, 6))


def test_odd_grids_keep_the_reduction_branches_aligned():
    module = BNInceptionReduction(8, 4, 6, 4, 6).eval()
    for n in (5, 7, 9, 13, 28):
        side = conv_output_size(n, 3, 2, 1)
        assert side == (n + 1) // 2
        assert module(torch.randn(1, 8, n, n)).shape == (1, 6 + 6 + 8, side, side)


def test_block_checks_its_channels(model):
    with pytest.raises(ValueError, match="BNInceptionModule expects 192 input channels, got 100"):
        model.inception3a(torch.randn(1, 100, 28, 28))
    with pytest.raises(ValueError, match="BNInceptionReduction expects 320 input channels, got 100"):
        model.inception3c(torch.randn(1, 100, 28, 28))


def test_diagrams_and_labels(model):
    assert describe(model.inception3a, "inception3a") == "inception3a: Inception, 256"
    assert describe(model.inception3c, "inception3c") == "inception3c: Inception /2, 576"
    text = mermaid_source(flowchart(model.inception3c))
    assert text.count("concat") == 1 and '"3×3 max pool /2"' in text and '"3×3 conv, 96 /2"' in text
    text = mermaid_source(flowchart(model.inception3a))
    assert '"3×3 avg pool"' in text and text.count('"3×3 conv, 96"') == 2
    assert '"3×3 max pool"' in mermaid_source(flowchart(model.inception5b))
    whole = mermaid_source(flowchart(model, leaves=(BNInceptionModule, BNInceptionReduction, BasicConv2d)))
    assert '"inception4e: Inception /2, 1056"' in whole and '"1×1 conv, 64"' in whole
