"""Validation in one place (issue 11, item 4): every public constructor checks its arguments, every network
checks its batch once at the entry of ``forward``, every block checks its input's channels, and each refusal
is a ``ValueError`` that says what was expected and what was given (for a dtype: how to convert)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from inception.batchnorm import BatchNorm2d
from inception.bn_experiment import SmallCNN
from inception.bn_inception import BNInception, BNInceptionModule, BNInceptionReduction
from inception.customizing import InceptionV2Config, build_inception_v2
from inception.googlenet import TABLE1, GoogLeNet, Inception, InceptionAux, NaiveInception
from inception.inception_v2 import (
    GridReduction,
    InceptionAuxV2,
    InceptionFig5,
    InceptionFig6,
    InceptionFig7,
    InceptionV2,
)
from inception.layers import BasicConv2d
from inception.validation import (
    check_choice,
    check_count,
    check_flag,
    check_image_batch,
    check_input_size,
    check_module,
    check_non_negative,
    check_positive,
    check_positive_int,
    check_probability,
    pair,
)

pytestmark = pytest.mark.usefixtures("one_thread")


# --- the check_* functions themselves -------------------------------------------------------------------

@pytest.mark.parametrize(("check", "good", "bad", "message"), [
    (check_positive_int, [1, 7, 2048], [0, -1, 2.0, True, "3", None], "must be a positive integer"),
    (check_count, [0, 1, 5], [-1, 1.0, False, "2"], "must be an integer >= 0"),
    (check_flag, [True, False], [1, 0, "yes", None, "3"], "must be True or False"),
    (check_probability, [0, 0.0, 0.5, 0.999], [1, 1.0, -0.1, math.nan, True, "0.5"], r"must be a number in \[0, 1\)"),
    (check_positive, [1e-5, 1, 3.5], [0, -1, math.inf, math.nan, True, "1"], "must be a number > 0"),
    (check_non_negative, [0, 0.3, 2], [-0.1, math.inf, False, None], "must be a number >= 0"),
])
def test_check_functions_accept_good_and_reject_bad_values(check, good, bad, message):
    for value in good:
        assert check("x", value) == value
    for value in bad:
        with pytest.raises(ValueError, match=rf"^x {message}, got {re.escape(repr(value))}$"):
            check("x", value)


def test_other_checks():
    assert check_choice("stem", "small", ("paper", "small")) == "small"
    with pytest.raises(ValueError, match=r"stem must be one of \['paper', 'small'\], got 'tiny'"):
        check_choice("stem", "tiny", ("paper", "small"))
    with pytest.raises(ValueError, match="expected a torch.nn.Module, got str"):
        check_module("resnet")
    assert check_input_size([1, 3, 8, 8]) == (1, 3, 8, 8)
    for bad in [(3,), (1, 3, 0, 8), (1, 3, 8.0, 8), "1,3,8,8", 8, (1, True)]:
        with pytest.raises(ValueError, match=r"input_size must be a tuple of positive ints with the batch first"):
            check_input_size(bad)
    assert pair("kernel_size", 3) == (3, 3) and pair("kernel_size", (1, 7)) == (1, 7)
    for bad in [(1, 2, 3), 2.0, (1, True), "33"]:
        with pytest.raises(ValueError, match=r"kernel_size must be an int or a pair of ints"):
            pair("kernel_size", bad)
    with pytest.raises(ValueError, match=r"padding must be >= 0, got \(0, -1\)"):
        pair("padding", (0, -1))


# --- constructors ------------------------------------------------------------------------------------------

CONSTRUCTORS = [
    # the cases of the issue
    (lambda: BasicConv2d(3, 8, 3, batch_norm="3"), r"batch_norm must be True or False, got '3'"),
    (lambda: BasicConv2d(3, 8, 3, bn_eps=-1), r"bn_eps must be a number > 0, got -1"),
    (lambda: BasicConv2d(3, 8, 3, bn_eps=0), r"bn_eps must be a number > 0, got 0"),
    (lambda: BatchNorm2d(4, affine="yes"), r"affine must be True or False, got 'yes'"),
    # layers
    (lambda: BasicConv2d(3, 8, 3, bn_eps=math.nan), r"bn_eps must be a number > 0, got nan"),
    (lambda: BasicConv2d(3.0, 8, 3), r"in_channels must be a positive integer, got 3.0"),
    (lambda: BasicConv2d(3, 0, 3), r"out_channels must be a positive integer, got 0"),
    (lambda: BasicConv2d(3, 8, (1, 0)), r"kernel_size must be >= 1, got \(1, 0\)"),
    (lambda: BasicConv2d(3, 8, 3, stride=0), r"stride must be >= 1, got 0"),
    (lambda: BasicConv2d(3, 8, 3, padding=-1), r"padding must be >= 0, got -1"),
    (lambda: BasicConv2d(3, 8, (1, 3), padding=(1, 1)),
     r"padding 1 along the height is more than half the kernel size 1; expected padding <= 0"),
    (lambda: BatchNorm2d(0), r"num_features must be a positive integer, got 0"),
    (lambda: BatchNorm2d(4, eps=0), r"eps must be a number > 0, got 0"),
    (lambda: BatchNorm2d(4, momentum=1.5), r"momentum must be a number in \[0, 1\] or None .*, got 1.5"),
    (lambda: BatchNorm2d(4, momentum=True), r"momentum must be a number in \[0, 1\] or None .*, got True"),
    (lambda: BatchNorm2d(4, track_running_stats=1), r"track_running_stats must be True or False, got 1"),
    # GoogLeNet
    (lambda: GoogLeNet(aux_logits=1), r"aux_logits must be True or False, got 1"),
    (lambda: GoogLeNet(batch_norm="yes"), r"batch_norm must be True or False, got 'yes'"),
    (lambda: GoogLeNet(lrn=None), r"lrn must be True or False, got None"),
    (lambda: GoogLeNet(dropout=1.0), r"dropout must be a number in \[0, 1\), got 1.0"),
    (lambda: GoogLeNet(dropout=-0.1), r"dropout must be a number in \[0, 1\), got -0.1"),
    (lambda: GoogLeNet(aux_dropout=1.5), r"aux_dropout must be a number in \[0, 1\), got 1.5"),
    (lambda: GoogLeNet(num_classes=0), r"num_classes must be a positive integer, got 0"),
    (lambda: GoogLeNet(in_channels=2.0), r"in_channels must be a positive integer, got 2.0"),
    (lambda: GoogLeNet(image_size=True), r"image_size must be a positive integer, got True"),
    (lambda: GoogLeNet(image_size=20), r"image_size must be at least 31, the smallest input GoogLeNet accepts"),
    # GoogLeNet's blocks
    (lambda: NaiveInception(192.0, 64, 128, 32), r"in_channels must be a positive integer, got 192.0"),
    (lambda: NaiveInception(192, 64, 128, 32, batch_norm="no"), r"batch_norm must be True or False, got 'no'"),
    (lambda: Inception(*TABLE1["3a"], batch_norm=1), r"batch_norm must be True or False, got 1"),
    (lambda: InceptionAux(512, 10, dropout=1.0), r"dropout must be a number in \[0, 1\), got 1.0"),
    (lambda: InceptionAux(512, 10, grid=0), r"grid must be a positive integer, got 0"),
    (lambda: InceptionAux(512, 0), r"num_classes must be a positive integer, got 0"),
    (lambda: InceptionAux(512, 10, batch_norm="yes"), r"batch_norm must be True or False, got 'yes'"),
    # BN-Inception
    (lambda: BNInception(aux_logits="yes"), r"aux_logits must be True or False, got 'yes'"),
    (lambda: BNInception(num_classes=0), r"num_classes must be a positive integer, got 0"),
    (lambda: BNInception(in_channels=3.5), r"in_channels must be a positive integer, got 3.5"),
    (lambda: BNInception(image_size=-1), r"image_size must be a positive integer, got -1"),
    (lambda: BNInception(aux_logits=True, image_size=5), r"at least 7, the smallest input BNInception"),
    (lambda: BNInceptionModule(192, 64, 64, 64, 64, 96, "median", 32), r"pool must be one of \['avg', 'max'\]"),
    (lambda: BNInceptionModule(192, 0, 64, 64, 64, 96, "avg", 32), r"ch1x1 must be a positive integer, got 0"),
    (lambda: BNInceptionReduction(320, 128, 160, 64, 0), r"ch3x3dbl must be a positive integer, got 0"),
    (lambda: BNInceptionReduction(320, 128.0, 160, 64, 96), r"ch3x3red must be a positive integer, got 128.0"),
    # Inception-v2
    (lambda: InceptionV2(aux_logits=0), r"aux_logits must be True or False, got 0"),
    (lambda: InceptionV2(dropout=1.0), r"dropout must be a number in \[0, 1\), got 1.0"),
    (lambda: InceptionV2(dropout=math.nan), r"dropout must be a number in \[0, 1\), got nan"),
    (lambda: InceptionV2(num_classes="10"), r"num_classes must be a positive integer, got '10'"),
    (lambda: InceptionV2(in_channels=0), r"in_channels must be a positive integer, got 0"),
    (lambda: InceptionFig6(768, 192, 160, 192, 160, 192, 192, n=6), r"n must be odd .* got n=6; try n=7"),
    (lambda: InceptionFig6(768, 192, 160, 192, 160, 192, 192, n=0), r"n must be a positive integer, got 0"),
    (lambda: InceptionFig5(288.5, 64, 48, 64, 64, 96, 64), r"in_channels must be a positive integer, got 288.5"),
    (lambda: GridReduction(0, 192, 384, 64, 96), r"in_channels must be a positive integer, got 0"),
    (lambda: InceptionAuxV2(768, 10, grid=0), r"grid must be a positive integer, got 0"),
    (lambda: InceptionAuxV2(768, 0), r"num_classes must be a positive integer, got 0"),
    # the variants' configuration and builder
    (lambda: InceptionV2Config(aux_logits=1), r"InceptionV2Config.aux_logits must be True or False, got 1"),
    (lambda: InceptionV2Config(dropout=1.0), r"InceptionV2Config.dropout must be a number in \[0, 1\), got 1.0"),
    (lambda: InceptionV2Config(width=0), r"InceptionV2Config.width must be a number > 0, got 0"),
    (lambda: InceptionV2Config(width=1e-4), r"width=0.0001 rounds the narrowest layer .* expected width >= 0.015625"),
    (lambda: InceptionV2Config(fig6_n=4), r"InceptionV2Config.fig6_n must be odd \(7 in the paper\), got 4"),
    (lambda: InceptionV2Config(fig5_modules=-1), r"InceptionV2Config.fig5_modules must be an integer >= 0, got -1"),
    (lambda: InceptionV2Config(in_channels=2.0), r"InceptionV2Config.in_channels must be a positive integer, got 2.0"),
    (lambda: InceptionV2Config(stem="tiny"), r"InceptionV2Config.stem must be one of \['paper', 'small'\], got 'tiny'"),
    (lambda: build_inception_v2({"stem": "small"}), r"expected an InceptionV2Config, got dict"),
    # chapter 4's small network
    (lambda: SmallCNN(batch_norm=1), r"batch_norm must be True or False, got 1"),
    (lambda: SmallCNN(widths=(8, 8)), r"widths must give the channels of the 4 convolutions, got \(8, 8\)"),
    (lambda: SmallCNN(widths=(8, 8, 0, 8)), r"each width must be a positive integer, got 0"),
]


@pytest.mark.parametrize(("build", "message"), CONSTRUCTORS, ids=[m for _, m in CONSTRUCTORS])
def test_constructors_reject_bad_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build()


BLOCK_CHANNEL_ARGUMENTS = {
    "NaiveInception-ch5x5": (lambda: NaiveInception(192, 64, 128, 0), "ch5x5"),
    "Inception-ch1x1": (lambda: Inception(192, 0, 96, 128, 16, 32, 32), "ch1x1"),
    "Inception-pool_proj": (lambda: Inception(192, 64, 96, 128, 16, 32, 32.0), "pool_proj"),
    "InceptionFig5-pool_proj": (lambda: InceptionFig5(288, 64, 48, 64, 64, 96, 0), "pool_proj"),
    "InceptionFig6-chnxn": (lambda: InceptionFig6(768, 192, 160, 0, 160, 192, 192), "chnxn"),
    "InceptionFig7-ch3x3dbl": (lambda: InceptionFig7(1280, 320, 384, 384, 448, 0, 192), "ch3x3dbl"),
    "GridReduction-ch3x3dbl": (lambda: GridReduction(288, 192, 384, 64, "96"), "ch3x3dbl"),
    "InceptionAuxV2-ch1x1": (lambda: InceptionAuxV2(768, 10, ch1x1=0), "ch1x1"),
}


@pytest.mark.parametrize(("build", "argument"), BLOCK_CHANNEL_ARGUMENTS.values(), ids=BLOCK_CHANNEL_ARGUMENTS)
def test_block_constructors_name_the_bad_channel_argument(build, argument):
    """A bad channel count is refused under the name the caller used (as BNInceptionModule does), not as
    the ``out_channels`` of an inner BasicConv2d that the caller never wrote."""
    with pytest.raises(ValueError, match=rf"\b{argument} must be a positive integer"):
        build()


@pytest.mark.parametrize(("build", "minimum"), [
    (lambda size: GoogLeNet(aux_logits=False, image_size=size), 31),
    (lambda size: BNInception(image_size=size), 7),
    (lambda size: build_inception_v2(InceptionV2Config(image_size=size, aux_logits=False)), 75),
], ids=["GoogLeNet", "BNInception", "InceptionV2Variant"])
def test_image_size_below_the_smallest_input_is_refused_with_or_without_aux_heads(build, minimum):
    """``image_size`` is "the side of the images the network is built for": one the network cannot run
    on is refused, as the Inception-v2 builder refuses it, whether or not auxiliary heads are built."""
    build(minimum)
    with pytest.raises(ValueError, match=rf"{minimum}"):
        build(minimum - 1)


# --- the batch a network's forward accepts ----------------------------------------------------------------

NETWORKS = {
    # name: (factory, in_channels, smallest input, image_size the aux heads are built for, or None)
    "GoogLeNet": (lambda: GoogLeNet(num_classes=10, image_size=40), 3, 31, 40),
    "BNInception": (lambda: BNInception(num_classes=10, aux_logits=True, image_size=16), 3, 7, 16),
    "InceptionV2": (lambda: InceptionV2(num_classes=10), 3, 75, 299),
    "InceptionV2Variant": (lambda: build_inception_v2(InceptionV2Config(
        num_classes=10, in_channels=1, image_size=12, stem="small", width=0.125)), 1, 7, 12),
    "SmallCNN": (lambda: SmallCNN(), 1, 2, None),
}


@pytest.fixture(scope="module")
def networks():
    torch.manual_seed(0)
    return {name: (factory(), *rest) for name, (factory, *rest) in NETWORKS.items()}


def _bad_batches(c: int, m: int) -> list[tuple[str, object, str]]:
    """(case, batch, the message it must raise) for a network of ``c`` channels and smallest input ``m``."""
    s = m + 1
    return [
        ("float64", torch.zeros(2, c, s, s, dtype=torch.float64),
         r"expects a float32 .*batch, got torch.float64; convert it with x\.float\(\)"),
        ("uint8", torch.zeros(2, c, s, s, dtype=torch.uint8),
         r"got torch.uint8; convert it with x\.float\(\) "
         r"\(and scale 8-bit images to \[0, 1\] with x\.float\(\) / 255\)"),
        ("int64", torch.zeros(2, c, s, s, dtype=torch.int64), r"got torch.int64; convert it with x\.float\(\)"),
        ("bool", torch.zeros(2, c, s, s, dtype=torch.bool), r"got torch.bool; convert it with x\.float\(\)"),
        ("3-D", torch.zeros(c, s, s),
         rf"shape \(N, C, H, W\), got a tensor of shape \({c}, {s}, {s}\); for a single image use x\.unsqueeze\(0\)"),
        ("5-D", torch.zeros(1, 1, c, s, s), r"shape \(N, C, H, W\), got a tensor of shape \(1, 1, "),
        ("list", [[0.0]], r"expects a torch.Tensor, got list"),
        ("ndarray", np.zeros((2, c, s, s), dtype=np.float32), r"expects a torch.Tensor, got ndarray"),
        ("channels", torch.zeros(2, c + 2, s, s), rf"expects {c} input channels?, got {c + 2} \(shape \(2, {c + 2}, "),
        ("too small", torch.zeros(2, c, m - 1, m + 5),
         rf"needs an input of at least {m}×{m} pixels, got {m - 1}×{m + 5}"),
    ]


CASES = [case for case, _, _ in _bad_batches(3, 31)]


@pytest.mark.parametrize("mode", ["eval", "train"])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", list(NETWORKS))
def test_forward_rejects_bad_batches_at_the_entry(networks, name, case, mode):
    net, channels, smallest, _ = networks[name]
    net.train(mode == "train")
    batch, message = {c: (b, m) for c, b, m in _bad_batches(channels, smallest)}[case]
    with pytest.raises(ValueError, match=rf"^{name} .*{message}"):
        net(batch)


@pytest.mark.parametrize("name", [n for n, spec in NETWORKS.items() if spec[3] is not None])
def test_training_with_aux_heads_accepts_only_the_image_size(networks, name):
    net, channels, smallest, size = networks[name]
    other = size + 1
    net.train()
    with pytest.raises(ValueError, match=rf"^{name} was built for {size}×{size} images: in training mode its "
                                         rf"auxiliary heads accept only that size, got {other}×{other}; "
                                         rf".*{other}.* \(or aux_logits=False\), or call model.eval\(\)"):
        net(torch.zeros(2, channels, other, other))
    with pytest.raises(ValueError, match=rf"built for {size}×{size} images: .* got {size}×{other}"):
        net(torch.zeros(2, channels, size, other))
    if size < 100:  # the right size runs in training mode; in eval mode any size from the smallest up
        torch.manual_seed(0)
        out = net(torch.randn(2, channels, size, size))
        assert out.logits.shape == (2, 10) and all(a.shape == (2, 10) for a in out.aux_logits)
    net.eval()
    with torch.no_grad():
        assert net(torch.zeros(1, channels, smallest, smallest + 3)).shape == (1, 10)


def test_the_smallest_input_is_accepted_and_one_less_is_not(networks):
    for name, (net, channels, smallest, _) in networks.items():
        net.eval()
        with torch.no_grad():
            assert net(torch.zeros(1, channels, smallest, smallest)).shape == (1, 10), name
        with pytest.raises(ValueError, match=rf"{name} needs an input of at least {smallest}×{smallest} pixels"):
            net(torch.zeros(1, channels, smallest, smallest - 1))


def test_half_precision_batches_pass_the_check():
    """The check admits float16 and bfloat16 batches (for a network converted with .half() or under autocast)."""
    check_image_batch(torch.zeros(1, 3, 8, 8, dtype=torch.float16), 3, 8, "Net")
    check_image_batch(torch.zeros(1, 3, 8, 8, dtype=torch.bfloat16), 3, 8, "Net")
    net = SmallCNN().eval().to(torch.bfloat16)
    assert net(torch.zeros(1, 1, 8, 8, dtype=torch.bfloat16)).dtype == torch.bfloat16


# --- blocks check the channels of their input -------------------------------------------------------------

BLOCKS = [
    ("NaiveInception", lambda: NaiveInception(192, 64, 128, 32), 192),
    ("Inception", lambda: Inception(*TABLE1["3a"]), 192),
    ("InceptionAux", lambda: InceptionAux(512, 10), 512),
    ("BNInceptionModule", lambda: BNInceptionModule(192, 64, 64, 64, 64, 96, "avg", 32), 192),
    ("BNInceptionReduction", lambda: BNInceptionReduction(320, 128, 160, 64, 96), 320),
    ("InceptionFig5", lambda: InceptionFig5(288, 64, 48, 64, 64, 96, 64), 288),
    ("InceptionFig6", lambda: InceptionFig6(768, 192, 160, 192, 160, 192, 192), 768),
    ("InceptionFig7", lambda: InceptionFig7(1280, 320, 384, 384, 448, 384, 192), 1280),
    ("GridReduction", lambda: GridReduction(288, 192, 384, 64, 96), 288),
    ("InceptionAuxV2", lambda: InceptionAuxV2(768, 10), 768),
    ("BatchNorm2d", lambda: BatchNorm2d(4), 4),
]


@pytest.mark.parametrize(("name", "build", "channels"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_blocks_reject_a_wrong_channel_count(name, build, channels):
    block = build().eval()
    with pytest.raises(ValueError, match=rf"^{name} expects {channels} (input )?channels, got {channels - 1} "
                                         rf"\(shape \(1, {channels - 1}, 5, 5\)\)"):
        block(torch.zeros(1, channels - 1, 5, 5))
    with pytest.raises(ValueError, match=rf"^{name} expects a .*(torch.Tensor|\(N, C, H, W\))"):
        block(torch.zeros(channels, 5, 5))
    with pytest.raises(ValueError, match=rf"^{name} expects a .*float.*got torch.int64; convert it with x\.float\(\)"):
        block(torch.zeros(1, channels, 5, 5, dtype=torch.int64))
