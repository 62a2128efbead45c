"""InceptionV2Config: defaults equal the paper's network, dict round trip, validation, random configurations."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from inception.cost import count_parameters
from inception.inception_v2 import InceptionV2, InceptionV2Config
from inception.layers import InceptionOutputs

pytestmark = pytest.mark.usefixtures("one_thread")


def test_defaults_are_the_paper():
    c = InceptionV2Config()
    assert (c.num_classes, c.in_channels, c.image_size, c.stem, c.width) == (1000, 3, 299, "paper", 1.0)
    assert (c.fig5_modules, c.fig6_modules, c.fig7_modules, c.fig6_n) == (3, 5, 2, 7)
    assert c.aux_logits and c.label_smoothing == 0.1
    assert c.grid_sizes() == {"fig5": 35, "fig6": 17, "fig7": 8}
    a, b = InceptionV2(), InceptionV2.from_config(c)
    assert count_parameters(a) == count_parameters(b)
    assert [n for n, _ in a.named_parameters()] == [n for n, _ in b.named_parameters()]


def test_round_trip_through_a_plain_dict():
    c = InceptionV2Config(num_classes=10, in_channels=1, image_size=8, stem="small", width=0.25,
                          fig5_modules=1, fig6_modules=2, fig7_modules=1, fig6_n=3, aux_logits=False,
                          aux_weight=0.4, dropout=0.2, label_smoothing=0.0)
    d = c.to_dict()
    assert isinstance(d, dict) and d["stem"] == "small"
    assert InceptionV2Config.from_dict(json.loads(json.dumps(d))) == c
    assert InceptionV2.from_config(c).config == c


def test_from_dict_rejects_unknown_fields():
    with pytest.raises(ValueError, match=r"unknown InceptionV2Config fields \['depth'\]"):
        InceptionV2Config.from_dict({"depth": 3})
    with pytest.raises(ValueError, match="expected a dict"):
        InceptionV2Config.from_dict([("stem", "small")])


@pytest.mark.parametrize(("changes", "message"), [
    ({"width": 0.01}, r"InceptionV2Config.width=0.01 rounds the 32 channels .* to 0; expected width >= 0.015625"),
    ({"width": -1.0}, r"InceptionV2Config.width must be a positive number, got -1.0"),
    ({"image_size": 32}, r"InceptionV2Config.image_size=32 is too small for the 'paper' stem: expected "
                         r"image_size >= 75 \(or stem=\"small\""),
    ({"image_size": 6, "stem": "small"}, r"image_size=6 is too small for the 'small' stem: expected image_size >= 7"),
    ({"fig6_modules": -1}, r"InceptionV2Config.fig6_modules must be an integer >= 0, got -1"),
    ({"stem": "tiny"}, r"InceptionV2Config.stem must be one of \['paper', 'small'\], got 'tiny'"),
    ({"fig6_n": 4}, r"InceptionV2Config.fig6_n must be an odd positive integer \(7 in the paper\), got 4"),
    ({"num_classes": 0}, r"InceptionV2Config.num_classes must be a positive integer, got 0"),
    ({"in_channels": 2.0}, r"InceptionV2Config.in_channels must be a positive integer, got 2.0"),
    ({"dropout": 1.0}, r"InceptionV2Config.dropout must be a number in \[0.0, 1.0\), got 1.0"),
    ({"label_smoothing": -0.1}, r"InceptionV2Config.label_smoothing must be a number in"),
    ({"aux_weight": -1}, r"InceptionV2Config.aux_weight must be a number >= 0, got -1"),
    ({"aux_logits": 1}, r"InceptionV2Config.aux_logits must be True or False, got 1"),
])
def test_impossible_configurations(changes, message):
    with pytest.raises(ValueError, match=message):
        InceptionV2Config(**changes)


def test_from_config_type_and_mixed_arguments():
    with pytest.raises(ValueError, match="from_config expects an InceptionV2Config, got dict"):
        InceptionV2.from_config({})
    with pytest.raises(ValueError, match="not both"):
        InceptionV2(num_classes=10, config=InceptionV2Config())


def test_width_scales_every_layer():
    half = InceptionV2.from_config(InceptionV2Config(width=0.5, aux_logits=False))
    assert half.stem.out_channels == 144 and half.num_features == 1024
    assert count_parameters(half) < count_parameters(InceptionV2(aux_logits=False)) / 3


@pytest.mark.parametrize("size", [8, 28, 32])
def test_small_stem_networks(size):
    torch.manual_seed(0)
    c = InceptionV2Config(num_classes=10, in_channels=1, image_size=size, stem="small", width=0.125)
    model = InceptionV2.from_config(c).train()
    out = model(torch.randn(2, 1, size, size))
    assert isinstance(out, InceptionOutputs) and out.logits.shape == (2, 10) and out.aux_logits[0].shape == (2, 10)
    assert model.eval()(torch.randn(2, 1, size, size)).shape == (2, 10)


configs = st.fixed_dictionaries({
    "num_classes": st.integers(-1, 12),
    "in_channels": st.integers(0, 3),
    "stem": st.sampled_from(["small", "small", "paper", "tiny"]),
    "image_size": st.integers(-2, 40),
    "width": st.sampled_from([0.0, 0.01, 0.02, 0.05, 0.1, -0.5]),
    "fig5_modules": st.integers(-1, 2),
    "fig6_modules": st.integers(-1, 2),
    "fig7_modules": st.integers(-1, 2),
    "fig6_n": st.integers(-1, 7),
    "aux_logits": st.booleans(),
    "dropout": st.sampled_from([0.0, 0.2, 0.5, 1.0, -0.1]),
})


def _small(size: int) -> dict:
    return dict(num_classes=10, in_channels=1, stem="small", image_size=size, width=0.05, fig5_modules=2,
                fig6_modules=2, fig7_modules=2, fig6_n=7, aux_logits=True, dropout=0.2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(options=configs, paper_size=st.integers(70, 90))
@example(options=_small(8), paper_size=75)
@example(options=_small(28), paper_size=75)
@example(options=_small(32), paper_size=75)
@example(options={**_small(32), "stem": "paper"}, paper_size=75)
def test_random_configurations_build_and_run_or_raise_value_error(options, paper_size):
    """Each random configuration builds and maps an input of its declared size to (batch, classes) logits,
    or raises ValueError; nothing else."""
    if options["stem"] == "paper":
        options = {**options, "image_size": paper_size}  # the paper stem needs 75 px and more
    try:
        config = InceptionV2Config(**options)
    except ValueError:
        return
    model = InceptionV2.from_config(config)
    size = config.image_size
    x = torch.randn(2, config.in_channels, size, size)
    model.train()
    out = model(x)
    logits = out.logits if config.aux_logits else out
    assert logits.shape == (2, config.num_classes)
    if config.aux_logits:
        assert out.aux_logits[0].shape == (2, config.num_classes)
    model.eval()
    with torch.no_grad():
        assert model(x).shape == (2, config.num_classes)


def test_replace_keeps_validation():
    with pytest.raises(ValueError, match="fig5_modules"):
        replace(InceptionV2Config(), fig5_modules=-2)
