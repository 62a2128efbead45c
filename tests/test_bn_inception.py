"""BN-Inception (Ioffe & Szegedy 2015, Figure 5): shapes, grids, parameter counts, aux heads, bad input."""

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
from inception.cost import count_macs, count_parameters
from inception.diagrams import flowchart, mermaid_source
from inception.layers import BasicConv2d, InceptionOutputs

MODULES = ["inception3a", "inception3b", "inception3c", "inception4a", "inception4b", "inception4c",
           "inception4d", "inception4e", "inception5a", "inception5b"]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return BNInception().eval()


def test_parameter_counts():
    assert count_parameters(BNInception()) == 11_285_224
    assert count_parameters(BNInception(aux_logits=True)) == 17_683_640
    assert count_parameters(BNInception(10)) == 10_270_474


def test_seed_001_counts_without_the_stems_1x1_convolution():
    # seed 001 builds the stem as 7×7 conv → pool → 3×3 conv, without Figure 5's 1×1 conv (64 → 64)
    net = BNInception(10, aux_logits=True)
    net.conv2_reduce = nn.Identity()
    aux = count_parameters(net.aux1) + count_parameters(net.aux2)
    assert count_parameters(net) == 14_635_166
    assert count_parameters(net) - aux == 10_266_250


def test_cadene_count_is_ours_plus_a_bias_per_convolution_channel():
    net = BNInception()
    biases = sum(m.out_channels for m in net.modules() if isinstance(m, nn.Conv2d))
    assert count_parameters(net) + biases == 11_295_240


def test_macs_at_224(model):
    assert count_macs(model, (1, 3, 224, 224)) == pytest.approx(2.04e9, rel=0.01)


def test_grids_and_channels_at_224(model):
    shapes = {}
    names = ["conv1", "maxpool1", "maxpool2", *MODULES]
    hooks = [getattr(model, n).register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape[1:])))
             for n in names]
    with torch.no_grad():
        out = model(torch.randn(2, 3, 224, 224))
    for h in hooks:
        h.remove()
    assert out.shape == (2, 1000)
    assert shapes["conv1"] == (64, 112, 112)
    assert shapes["maxpool1"] == (64, 56, 56)
    assert shapes["maxpool2"] == (192, 28, 28)
    implied = {"3a": (256, 28), "3b": (320, 28), "3c": (576, 14), "4a": (576, 14), "4b": (576, 14),
               "4c": (608, 14), "4d": (608, 14), "4e": (1056, 7), "5a": (1024, 7), "5b": (1024, 7)}
    for name, (channels, grid) in implied.items():
        assert shapes[f"inception{name}"] == (channels, grid, grid), name
    differ = {n for n, (g, c) in FIGURE_5_PRINTED_OUTPUT.items() if (c, g) != implied[n]}
    assert differ == {"3c", "4c", "4d", "4e"}


def test_modules_follow_figure_5():
    for name in MODULES:
        key = name.removeprefix("inception")
        row = FIGURE_5[key]
        module = getattr(BNInception(), name)
        if row[0] == 0:
            assert isinstance(module, BNInceptionReduction)
            assert module.out_channels == row[2] + row[4] + module.in_channels
            assert isinstance(module.branch4, nn.MaxPool2d)
        else:
            assert isinstance(module, BNInceptionModule)
            assert module.out_channels == row[0] + row[2] + row[4] + row[6]
            pool = nn.AvgPool2d if row[5] == "avg" else nn.MaxPool2d
            assert isinstance(module.branch4[0], pool)
    # every convolution is followed by BN and has no bias
    convs = [m for m in BNInception().modules() if isinstance(m, BasicConv2d)]
    assert convs and all(c.bn is not None and c.conv.bias is None for c in convs)


def test_aux_heads_run_in_training_only():
    torch.manual_seed(0)
    net = BNInception(10, aux_logits=True).train()
    out = net(torch.randn(2, 3, 224, 224))
    assert isinstance(out, InceptionOutputs)
    assert out.logits.shape == (2, 10)
    assert [a.shape for a in out.aux_logits] == [(2, 10), (2, 10)]
    net.eval()
    with torch.no_grad():
        assert net(torch.randn(2, 3, 224, 224)).shape == (2, 10)
    assert isinstance(BNInception(10).train()(torch.randn(2, 3, 64, 64)), torch.Tensor)


@pytest.mark.parametrize("aux, mode", [(False, "eval"), (True, "train")])
def test_smallest_input(aux, mode):
    net = BNInception(10, in_channels=1, aux_logits=aux).train(mode == "train")
    size = BNInception.min_input_size
    assert size == 7
    out = net(torch.randn(2, 1, size, size))
    logits = out.logits if isinstance(out, InceptionOutputs) else out
    assert logits.shape == (2, 10)
    with pytest.raises(ValueError, match=r"at least 7×7 pixels, got 6×6"):
        net(torch.randn(2, 1, size - 1, size - 1))


def test_odd_grids_keep_the_reduction_branches_aligned():
    module = BNInceptionReduction(8, 4, 6, 4, 6).eval()
    for n in (5, 7, 9, 13, 28):
        assert module(torch.randn(1, 8, n, n)).shape == (1, 6 + 6 + 8, (n - 1) // 2 + 1, (n - 1) // 2 + 1)


def test_bad_input(model):
    with pytest.raises(ValueError, match="expects 3 input channels, got 1"):
        model(torch.randn(1, 1, 224, 224))
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\)"):
        model(torch.randn(3, 224, 224))
    with pytest.raises(ValueError, match="expects 192 input channels, got 100"):
        model.inception3a(torch.randn(1, 100, 28, 28))


@pytest.mark.parametrize("build, match", [
    (lambda: BNInception(num_classes=0), "num_classes must be a positive integer"),
    (lambda: BNInception(in_channels=-3), "in_channels must be a positive integer"),
    (lambda: BNInception(aux_logits="yes"), "aux_logits must be True or False"),
    (lambda: BNInceptionModule(192, 64, 64, 64, 64, 96, "median", 32), 'pool must be "avg" or "max"'),
    (lambda: BNInceptionModule(192, 0, 64, 64, 64, 96, "avg", 32), "ch1x1 must be a positive integer"),
    (lambda: BNInceptionReduction(320, 128, 160, 64, 0), "dbl3x3 must be a positive integer"),
])
def test_bad_configuration(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_diagrams_and_labels():
    net = BNInception()
    assert net.inception3a.diagram_label() == "Inception 3a, 256"
    assert net.inception3c.diagram_label() == "Inception 3c /2, 576"
    text = mermaid_source(flowchart(net.inception3c))
    assert text.count("concat") == 1 and "3×3 max pool /2" in text and "3×3 conv, 96 /2" in text
    text = mermaid_source(flowchart(net.inception3a))
    assert "3×3 avg pool" in text and text.count("3×3 conv, 96") == 2
    whole = mermaid_source(flowchart(net, leaves=(BNInceptionModule, BNInceptionReduction, BasicConv2d)))
    assert "Inception 4e /2, 1056" in whole
