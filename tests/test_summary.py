"""inception.summary.summary: four columns, shapes without the batch, at most 100 characters a line."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inception.bn_inception import BNInception, BNInceptionReduction
from inception.googlenet import TABLE1, GoogLeNet, Inception
from inception.inception_v2 import GridReduction, InceptionAuxV2, InceptionFig6, InceptionFig7, InceptionV2
from inception.layers import BasicConv2d
from inception.summary import COLUMNS, summary

pytestmark = pytest.mark.usefixtures("one_thread")


def _widest(table) -> int:
    return max(len(line) for line in str(table).splitlines())


def test_summary_has_the_books_columns_and_totals():
    model = nn.Sequential(BasicConv2d(3, 8, 3, padding=1), nn.MaxPool2d(2))
    table = summary(model, (1, 3, 16, 16))
    text = str(table)
    assert COLUMNS == ("output_size", "kernel_size", "num_params", "mult_adds")
    for column in ("Output (C,H,W)", "Kernel Shape", "Param #", "Mult-Adds"):
        assert column in text
    assert "Input Shape" not in text and "Units." not in text  # torchinfo 1.8 prints enum names; cleaned
    assert "[8, 16, 16]" in text and "[8, 8, 8]" in text and "[1, 8, 16, 16]" not in text  # no batch dimension
    assert table.total_params == 3 * 8 * 9 + 16
    assert text == str(summary(model, (1, 3, 16, 16))) == repr(table)  # deterministic


@pytest.mark.parametrize(("build", "size"), [
    (lambda: GoogLeNet(), 224),
    (lambda: BNInception(aux_logits=True), 224),
    (lambda: InceptionV2(), 299),
], ids=["GoogLeNet", "BNInception", "InceptionV2"])
def test_whole_networks_by_stage_fit_in_100_characters(build, size):
    torch.manual_seed(0)
    net = build()
    table = summary(net, (1, 3, size, size), depth=1)
    assert _widest(table) <= 100, str(table)
    names = [n for n, _ in net.named_children() if not n.startswith("aux") and n != "AuxLogits"]
    assert all(f"({n})" in str(table) for n in names)
    assert "branch1" not in str(table)  # depth 1: by stage


@pytest.mark.parametrize(("block", "size"), [
    (Inception(*TABLE1["4e"]), (1, 528, 14, 14)),
    (BNInceptionReduction(608, 128, 192, 192, 256), (1, 608, 14, 14)),
    (InceptionFig6(768, 192, 160, 192, 160, 192, 192), (1, 768, 17, 17)),
    (InceptionFig7(2048, 320, 384, 384, 448, 384, 192), (1, 2048, 8, 8)),
    (GridReduction(288, 192, 384, 64, 96), (1, 288, 35, 35)),
    (InceptionAuxV2(768, 1000), (2, 768, 17, 17)),
], ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else "")
def test_blocks_at_depth_3_fit_in_100_characters(block, size):
    table = summary(block, size, depth=3)
    assert _widest(table) <= 100, str(table)
    assert "(conv)" in str(table)  # depth 3 reaches the convolutions inside BasicConv2d


def test_train_mode_shows_the_auxiliary_heads():
    net = GoogLeNet(num_classes=10, image_size=64)
    assert "(aux1)" not in str(summary(net, (2, 3, 64, 64), depth=1))
    text = str(summary(net, (2, 3, 64, 64), depth=1, mode="train"))
    assert "(aux1)" in text and "(aux2)" in text and _widest(text) <= 100


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"model": "not a model"}, "expected a torch.nn.Module, got str"),
    ({"input_size": (3,)}, "input_size must be a tuple of positive ints with the batch first"),
    ({"input_size": "1, 3, 8, 8"}, "input_size must be a tuple of positive ints with the batch first"),
    ({"input_size": (1, 3, 0, 8)}, "input_size must be a tuple of positive ints with the batch first"),
    ({"depth": 0}, "depth must be a positive integer, got 0"),
    ({"depth": 1.5}, "depth must be a positive integer, got 1.5"),
    ({"mode": "test"}, r"mode must be one of \['eval', 'train'\], got 'test'"),
])
def test_summary_rejects_bad_arguments(kwargs, message):
    arguments = {"model": nn.Conv2d(3, 4, 3), "input_size": (1, 3, 8, 8), **kwargs}
    with pytest.raises(ValueError, match=message):
        summary(**arguments)


def test_an_input_the_network_refuses_is_a_value_error():
    """The network's own check says what is wrong; summary must not hide it behind torchinfo's
    "RuntimeError: Failed to run torchinfo"."""
    net = GoogLeNet(num_classes=10, aux_logits=False)
    with pytest.raises(ValueError, match="at least 31×31 pixels, got 20×20"):
        summary(net, (1, 3, 20, 20))
    with pytest.raises(ValueError, match="expects 3 input channels, got 1"):
        summary(net, (1, 1, 64, 64))
