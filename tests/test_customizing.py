"""inception.customizing: the builder's default is exactly InceptionV2(); variants (small stem, width, module
counts, n); the configuration's validation and dict round trip; the knobs every network shares."""

from __future__ import annotations

import json
from dataclasses import fields, replace

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from torch import nn

from inception.bn_inception import BNInception
from inception.cost import conv_output_size, count_parameters, grid_sizes
from inception.customizing import (
    ALL_WIDTHS,
    STEMS,
    InceptionV2Config,
    InceptionV2Variant,
    build_inception_v2,
    fig6_reduce_widths,
    scale_width,
    stem_layers,
)
from inception.googlenet import GoogLeNet
from inception.inception_v2 import InceptionAuxV2, InceptionFig6, InceptionV2
from inception.layers import BasicConv2d, InceptionOutputs

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = InceptionV2Config(num_classes=10, in_channels=1, image_size=16, stem="small", width=0.125)


@pytest.fixture(scope="module")
def pair():
    """InceptionV2() and build_inception_v2(InceptionV2Config()) with the same weights."""
    torch.manual_seed(0)
    paper = InceptionV2()
    built = build_inception_v2(InceptionV2Config())
    built.load_state_dict(paper.state_dict())
    return paper, built


# --- the default configuration is the paper's network -------------------------------------------------------

def _keys_and_shapes(model: nn.Module) -> list[tuple[str, torch.Size]]:
    return [(k, v.shape) for k, v in model.state_dict().items()]


def test_defaults_are_the_paper(pair):
    c = InceptionV2Config()
    assert (c.num_classes, c.in_channels, c.image_size, c.stem, c.width) == (1000, 3, 299, "paper", 1.0)
    assert (c.fig5_modules, c.fig6_modules, c.fig7_modules, c.fig6_n) == (3, 5, 2, 7)
    assert c.aux_logits is True and c.dropout == 0.5
    # training settings live in the recipes, not in a network's configuration
    assert {f.name for f in fields(InceptionV2Config)}.isdisjoint({"aux_weight", "label_smoothing"})
    assert pair[1].config == c


def test_builder_default_has_inception_v2s_keys_and_shapes(pair):
    paper, built = pair
    assert isinstance(built, InceptionV2Variant)
    assert _keys_and_shapes(built) == _keys_and_shapes(paper)
    assert [n for n, _ in built.named_children()] == [n for n, _ in paper.named_children()]
    assert built.min_input_size == paper.min_input_size == 75
    assert built.num_features == 2048 and count_parameters(built) == 28_820_144


@pytest.mark.parametrize("kwargs", [{"aux_logits": False}, {"num_classes": 10, "in_channels": 1, "dropout": 0.2}])
def test_builder_matches_inception_v2_for_its_other_arguments(kwargs):
    with torch.device("meta"):  # shapes only: no weights to initialize
        paper, built = InceptionV2(**kwargs), build_inception_v2(InceptionV2Config(**kwargs))
    assert _keys_and_shapes(built) == _keys_and_shapes(paper)
    assert built.dropout.p == paper.dropout.p


def test_builder_default_gives_the_same_outputs_in_eval_mode(pair):
    paper, built = pair
    torch.manual_seed(1)
    x = torch.randn(2, 3, 75, 75)
    with torch.no_grad():
        torch.testing.assert_close(built.eval()(x), paper.eval()(x), rtol=0, atol=0)


def test_builder_default_gives_the_same_outputs_in_training_mode(pair):
    """Logits and auxiliary logits, with the same dropout draws; BN's running statistics move alike."""
    paper, built = pair
    torch.manual_seed(2)
    x = torch.randn(2, 3, 299, 299)
    outputs = []
    for net in (paper, built):
        net.train()
        torch.manual_seed(3)
        with torch.no_grad():
            outputs.append(net(x))
    (logits, (aux,)), (built_logits, (built_aux,)) = outputs
    torch.testing.assert_close(built_logits, logits, rtol=0, atol=0)
    torch.testing.assert_close(built_aux, aux, rtol=0, atol=0)
    for (k, a), (_, b) in zip(paper.state_dict().items(), built.state_dict().items(), strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=0, msg=k)
    paper.eval()
    built.eval()


# --- variants ----------------------------------------------------------------------------------------------

def _small_stem_grids(size: int) -> dict[str, int]:
    """The small stem keeps the grid (six padded 3×3 stride-1 convolutions); two unpadded 3×3/2 reductions."""
    mixed_6a = conv_output_size(size, 3, 2)
    return {"Conv2d_4a_3x3": size, "Mixed_6a": mixed_6a, "Mixed_7a": conv_output_size(mixed_6a, 3, 2)}


def test_small_stem_smallest_input_and_grids():
    net = build_inception_v2(SMALL)
    by_hand = next(size for size in range(1, 64) if _fits_small_stem(size))
    assert net.min_input_size == 7 == by_hand
    for size in (7, 8, 16, 28, 32):
        assert grid_sizes(net, size, list(_small_stem_grids(size))) == _small_stem_grids(size)
    assert "maxpool1" not in dict(net.named_children())
    stem = [m for n, m in net.named_children() if n.startswith("Conv2d")]
    assert all(c.conv.stride == (1, 1) and c.conv.padding == (1, 1) for c in stem)


def _fits_small_stem(size: int) -> bool:
    try:
        _small_stem_grids(size)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("size", [8, 28, 32])
def test_small_stem_networks_train_and_evaluate(size):
    torch.manual_seed(0)
    model = build_inception_v2(replace(SMALL, image_size=size)).train()
    out = model(torch.randn(2, 1, size, size))
    assert isinstance(out, InceptionOutputs) and out.logits.shape == (2, 10) and out.aux_logits[0].shape == (2, 10)
    with torch.no_grad():
        assert model.eval()(torch.randn(2, 1, size, size)).shape == (2, 10)


def test_aux_head_is_built_for_the_grid_it_reads():
    assert isinstance(build_inception_v2(SMALL).AuxLogits.pool, nn.AdaptiveAvgPool2d)
    paper_stem_small_image = build_inception_v2(InceptionV2Config(image_size=75, width=0.125))
    assert isinstance(paper_stem_small_image.AuxLogits.pool, nn.AdaptiveAvgPool2d)  # 3×3 after Mixed_6f
    net = build_inception_v2(InceptionV2Config(width=0.125))
    assert isinstance(net.AuxLogits, InceptionAuxV2) and isinstance(net.AuxLogits.pool, nn.AvgPool2d)


def test_width_scales_every_layer():
    with torch.device("meta"):
        half = build_inception_v2(InceptionV2Config(width=0.5, aux_logits=False))
        full = InceptionV2(aux_logits=False)
    assert half.Conv2d_4a_3x3.out_channels == 144 and half.num_features == 1024
    assert count_parameters(half) < count_parameters(full) / 3
    assert [c.out_channels for n, c in half.named_children() if n.startswith("Conv2d")] == [16, 16, 32, 40, 96, 144]


def test_module_counts_and_names():
    config = replace(SMALL, fig5_modules=1, fig6_modules=2, fig7_modules=1)
    net = build_inception_v2(config)
    assert [n for n, _ in net.named_children() if n.startswith(("Mixed", "Aux"))] == [
        "Mixed_5b", "Mixed_6a", "Mixed_6b", "Mixed_6c", "AuxLogits", "Mixed_7a", "Mixed_7b"]
    assert [m.branch2[0].out_channels for m in net.modules() if isinstance(m, InceptionFig6)] == [
        scale_width(c, 0.125) for c in fig6_reduce_widths(2)]
    none = build_inception_v2(replace(SMALL, fig5_modules=0, fig6_modules=0, fig7_modules=0))
    assert [n for n, _ in none.named_children() if n.startswith(("Mixed", "Aux"))] == ["Mixed_6a", "AuxLogits",
                                                                                       "Mixed_7a"]
    assert none.num_features == none.Mixed_7a.out_channels
    torch.manual_seed(0)
    for model in (net, none):
        out = model.train()(torch.randn(2, 1, 16, 16))
        assert out.logits.shape == (2, 10) and out.aux_logits[0].shape == (2, 10)


def test_fig6_n():
    net = build_inception_v2(replace(SMALL, fig6_n=3))
    modules = [m for m in net.modules() if isinstance(m, InceptionFig6)]
    assert len(modules) == 5 and all(m.n == 3 for m in modules)
    assert [layer.conv.kernel_size for layer in modules[0].branch2] == [(1, 1), (1, 3), (3, 1)]
    assert net.eval()(torch.randn(1, 1, 16, 16)).shape == (1, 10)


def test_width_helpers():
    assert [scale_width(c, 0.5) for c in (32, 1, 3, 5, 288)] == [16, 1, 2, 3, 144]  # half up: 1.5 → 2, 2.5 → 3
    assert scale_width(32, 1.0) == 32 and min(ALL_WIDTHS) == 32
    assert fig6_reduce_widths(5) == [128, 160, 160, 160, 192]
    assert fig6_reduce_widths(4) == [128, 160, 160, 192]  # torchvision's four
    assert fig6_reduce_widths(2) == [128, 192]
    assert fig6_reduce_widths(1) == [128]
    assert fig6_reduce_widths(0) == []


def test_stem_layers():
    assert STEMS == ("paper", "small")
    paper = stem_layers("paper", 3, (32, 32, 64, 80, 192, 288))
    assert list(paper) == ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3a_3x3",
                           "Conv2d_3b_3x3", "Conv2d_4a_3x3"]
    small = stem_layers("small", 1, (4, 4, 8, 10, 24, 36))
    assert list(small) == [n for n in paper if n != "maxpool1"]
    assert all(isinstance(m, BasicConv2d) for m in small.values())
    x = torch.randn(1, 1, 9, 9)
    for layer in small.values():
        x = layer(x)
    assert x.shape == (1, 36, 9, 9)
    with pytest.raises(ValueError, match=r"stem must be one of \['paper', 'small'\], got 'tiny'"):
        stem_layers("tiny", 3, (32, 32, 64, 80, 192, 288))


# --- the configuration: round trip and validation -----------------------------------------------------------

def test_round_trip_through_a_plain_dict():
    c = InceptionV2Config(num_classes=10, in_channels=1, image_size=8, stem="small", width=0.25, fig5_modules=1,
                          fig6_modules=2, fig7_modules=1, fig6_n=3, aux_logits=False, dropout=0.2)
    d = c.to_dict()
    assert d == {"num_classes": 10, "in_channels": 1, "image_size": 8, "stem": "small", "width": 0.25,
                 "fig5_modules": 1, "fig6_modules": 2, "fig7_modules": 1, "fig6_n": 3, "aux_logits": False,
                 "dropout": 0.2}
    assert InceptionV2Config.from_dict(json.loads(json.dumps(d))) == c
    assert build_inception_v2(c).config == c
    assert InceptionV2Config.from_dict({}) == InceptionV2Config()


def test_from_dict_rejects_unknown_fields_and_non_dicts():
    with pytest.raises(ValueError, match=r"unknown InceptionV2Config fields \['aux_weight', 'depth'\]"):
        InceptionV2Config.from_dict({"depth": 3, "aux_weight": 0.3})
    with pytest.raises(ValueError, match="expected a dict of InceptionV2Config fields, got list"):
        InceptionV2Config.from_dict([("stem", "small")])
    with pytest.raises(ValueError, match="InceptionV2Config.width must be a number > 0"):
        InceptionV2Config.from_dict({"width": "0.5"})


@pytest.mark.parametrize(("changes", "message"), [
    ({"width": 0.01}, r"InceptionV2Config.width=0.01 rounds the narrowest layer \(32 channels\) to 0; "
                      r"expected width >= 0.015625"),
    ({"width": -1.0}, r"InceptionV2Config.width must be a number > 0, got -1.0"),
    ({"width": 0}, r"InceptionV2Config.width must be a number > 0, got 0"),
    ({"fig6_modules": -1}, r"InceptionV2Config.fig6_modules must be an integer >= 0, got -1"),
    ({"fig7_modules": 1.0}, r"InceptionV2Config.fig7_modules must be an integer >= 0, got 1.0"),
    ({"stem": "tiny"}, r"InceptionV2Config.stem must be one of \['paper', 'small'\], got 'tiny'"),
    ({"fig6_n": 4}, r"InceptionV2Config.fig6_n must be odd \(7 in the paper\), got 4"),
    ({"fig6_n": 0}, r"InceptionV2Config.fig6_n must be a positive integer, got 0"),
    ({"num_classes": 0}, r"InceptionV2Config.num_classes must be a positive integer, got 0"),
    ({"in_channels": 2.0}, r"InceptionV2Config.in_channels must be a positive integer, got 2.0"),
    ({"image_size": 0}, r"InceptionV2Config.image_size must be a positive integer, got 0"),
    ({"dropout": 1.0}, r"InceptionV2Config.dropout must be a number in \[0, 1\), got 1.0"),
    ({"aux_logits": 1}, r"InceptionV2Config.aux_logits must be True or False, got 1"),
])
def test_impossible_configurations(changes, message):
    with pytest.raises(ValueError, match=message):
        InceptionV2Config(**changes)


def test_replace_keeps_validation():
    with pytest.raises(ValueError, match="fig5_modules"):
        replace(InceptionV2Config(), fig5_modules=-2)


def test_too_small_image_size_is_refused_by_the_builder():
    config = InceptionV2Config(num_classes=10, image_size=32, width=0.125)  # a valid configuration ...
    with pytest.raises(ValueError, match=r'InceptionV2Config.image_size=32 is too small for this network: '
                                         r'expected image_size >= 75 \(or stem="small"'):
        build_inception_v2(config)  # ... of a network that cannot be built
    with pytest.raises(ValueError, match=r"image_size=6 is too small for this network: expected image_size >= 7$"):
        build_inception_v2(replace(SMALL, image_size=6))
    build_inception_v2(replace(SMALL, image_size=7))


configs = st.fixed_dictionaries({
    "num_classes": st.integers(-1, 12),
    "in_channels": st.integers(0, 3),
    "stem": st.sampled_from(["small", "small", "paper", "tiny"]),
    "image_size": st.integers(-2, 20),
    "width": st.sampled_from([0.0, 0.01, 0.02, 0.04, -0.5]),
    "fig5_modules": st.integers(-1, 2),
    "fig6_modules": st.integers(-1, 2),
    "fig7_modules": st.integers(-1, 2),
    "fig6_n": st.integers(-1, 5),
    "aux_logits": st.booleans(),
    "dropout": st.sampled_from([0.0, 0.2, 1.0, -0.1]),
})


def _small(size: int) -> dict:
    return dict(num_classes=10, in_channels=1, stem="small", image_size=size, width=0.02, fig5_modules=2,
                fig6_modules=2, fig7_modules=2, fig6_n=5, aux_logits=True, dropout=0.2)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(options=configs, paper_size=st.integers(72, 80))
@example(options=_small(7), paper_size=75)
@example(options=_small(6), paper_size=75)
@example(options={**_small(20), "stem": "paper"}, paper_size=74)
@example(options={**_small(20), "stem": "paper", "aux_logits": False}, paper_size=75)
def test_random_configurations_build_and_run_or_raise_value_error(options, paper_size):
    """Each random configuration is refused with a ValueError, or builds a network that maps an input of its
    image size to (batch, classes) logits; the builder refuses exactly the image sizes below the smallest."""
    if options["stem"] == "paper":
        options = {**options, "image_size": paper_size}  # the paper stem needs 75 px and more
    try:
        config = InceptionV2Config(**options)
    except ValueError:
        return
    smallest = 75 if config.stem == "paper" else 7
    if config.image_size < smallest:
        with pytest.raises(ValueError, match=f"expected image_size >= {smallest}"):
            build_inception_v2(config)
        return
    model = build_inception_v2(config)
    assert model.min_input_size == smallest
    size = config.image_size
    x = torch.randn(2, config.in_channels, size, size)
    out = model.train()(x)
    logits = out.logits if config.aux_logits else out
    assert logits.shape == (2, config.num_classes)
    if config.aux_logits:
        assert out.aux_logits[0].shape == (2, config.num_classes)
    with torch.no_grad():
        assert model.eval()(x).shape == (2, config.num_classes)


# --- the knobs every network shares (chapter 9) -------------------------------------------------------------

NETWORKS = {"GoogLeNet": GoogLeNet, "BNInception": BNInception, "InceptionV2": InceptionV2,
            "InceptionV2Variant": lambda **kw: build_inception_v2(InceptionV2Config(**kw, width=0.125))}
SIZE = 75  # the smallest input all of them accept (Inception-v2's paper stem needs 75)


@pytest.mark.parametrize("build", NETWORKS.values(), ids=NETWORKS)
def test_classes_and_channels_are_constructor_knobs(build):
    torch.manual_seed(0)
    net = build(num_classes=7, in_channels=1).eval()
    with torch.no_grad():
        assert net(torch.randn(2, 1, SIZE, SIZE)).shape == (2, 7)
    first_conv = next(m for m in net.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.in_channels == 1 and net.in_channels == 1 and net.fc.out_features == 7
    with pytest.raises(ValueError, match=r"expects 1 input channel, got 3"):
        net(torch.randn(1, 3, SIZE, SIZE))


@pytest.mark.parametrize("build", NETWORKS.values(), ids=NETWORKS)
@pytest.mark.parametrize("knob", ["num_classes", "in_channels"])
@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_knob_values_are_value_errors(build, knob, bad):
    with pytest.raises(ValueError, match=knob):
        build(**{knob: bad})


@pytest.mark.parametrize(("build", "size"), [
    (lambda: GoogLeNet(num_classes=5, in_channels=2, image_size=SIZE), SIZE),
    (lambda: BNInception(num_classes=5, in_channels=2, aux_logits=True, image_size=SIZE), SIZE),
    (lambda: build_inception_v2(InceptionV2Config(num_classes=5, in_channels=2, width=0.125)), 299),
], ids=["GoogLeNet", "BNInception", "InceptionV2Variant"])
def test_auxiliary_heads_follow_num_classes(build, size):
    torch.manual_seed(0)
    net = build().train()
    out = net(torch.randn(2, 2, size, size))
    assert isinstance(out, InceptionOutputs)
    assert out.logits.shape == (2, 5)
    assert out.aux_logits and all(a.shape == (2, 5) for a in out.aux_logits)
    with torch.no_grad():
        assert net.eval()(torch.randn(2, 2, SIZE, SIZE)).shape == (2, 5)


def test_new_head_by_rebuilding_and_loading_the_backbone():
    torch.manual_seed(0)
    source = build_inception_v2(replace(SMALL, num_classes=100))
    model = build_inception_v2(replace(source.config, num_classes=10))
    heads = ("fc.", "AuxLogits.fc.")
    backbone = {k: v for k, v in source.state_dict().items() if not k.startswith(heads)}
    result = model.load_state_dict(backbone, strict=False)
    assert sorted(result.missing_keys) == ["AuxLogits.fc.bias", "AuxLogits.fc.weight", "fc.bias", "fc.weight"]
    assert not result.unexpected_keys
    assert model.config.num_classes == 10 and model.fc.out_features == 10
    source.fc, model.fc = nn.Identity(), nn.Identity()  # compare the features the heads read
    x = torch.randn(2, 1, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), source.eval()(x))


def test_freezing_stages_counts_and_gradients():
    model = build_inception_v2(SMALL)
    trainable = ("Mixed_7", "fc", "AuxLogits")
    for name, child in model.named_children():
        if not name.startswith(trainable):
            child.requires_grad_(False)
    expected = sum(count_parameters(c) for n, c in model.named_children() if n.startswith(trainable))
    assert count_parameters(model, trainable_only=True) == expected
    out = model.train()(torch.randn(2, 1, 16, 16))
    (out.logits.sum() + out.aux_logits[0].sum()).backward()
    assert model.Conv2d_1a_3x3.conv.weight.grad is None and model.Mixed_6b.branch1.conv.weight.grad is None
    assert model.Mixed_7b.branch1.conv.weight.grad is not None and model.AuxLogits.fc.weight.grad is not None


def test_a_width_that_rounds_differently_per_layer_builds_and_runs():
    # width 0.15 rounds the stem's 288 to 43 and a Figure 5 module's output to 44: each module must read
    # the channels of the module before it, not the stem's.
    config = InceptionV2Config(num_classes=10, in_channels=1, image_size=28, stem="small", width=0.15)
    model = build_inception_v2(config).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
