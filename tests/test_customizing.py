"""Chapter 9: the same basic knobs (classes, input channels) work for GoogLeNet, BNInception and InceptionV2;
a new head and frozen stages; the chapter's exercise checkers."""

from dataclasses import replace

import pytest
import torch
from torch import nn

from inception.bn_inception import BNInception
from inception.cost import count_parameters
from inception.exercises import check, exercises
from inception.exercises.ch09 import CIFAR_LIKE, DIGITS
from inception.googlenet import GoogLeNet
from inception.inception_v2 import InceptionV2, InceptionV2Config
from inception.layers import InceptionOutputs

NETWORKS = [GoogLeNet, BNInception, InceptionV2]
SIZE = 75  # the smallest input all three accept (Inception-v2's paper stem needs 75)


@pytest.fixture(scope="module", params=NETWORKS, ids=lambda cls: cls.__name__)
def grey_net(request):
    torch.manual_seed(0)
    return request.param(num_classes=7, in_channels=1).eval()


def test_classes_and_channels_are_constructor_knobs(grey_net):
    with torch.no_grad():
        logits = grey_net(torch.randn(2, 1, SIZE, SIZE))
    assert logits.shape == (2, 7)
    first_conv = next(m for m in grey_net.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.in_channels == 1
    last_linear = grey_net.fc
    assert last_linear.out_features == 7


def test_wrong_channel_count_is_a_value_error(grey_net):
    with pytest.raises(ValueError, match=r"expects 1 input channels?, got 3"):
        grey_net(torch.randn(1, 3, SIZE, SIZE))


@pytest.mark.parametrize("cls", NETWORKS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("knob", ["num_classes", "in_channels"])
@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_knob_values_are_value_errors(cls, knob, bad):
    with pytest.raises(ValueError, match=knob):
        cls(**{knob: bad})


@pytest.mark.parametrize("cls", NETWORKS, ids=lambda cls: cls.__name__)
def test_auxiliary_heads_follow_num_classes(cls):
    torch.manual_seed(0)
    net = cls(num_classes=5, in_channels=2, aux_logits=True).train()
    out = net(torch.randn(2, 2, SIZE, SIZE))
    assert isinstance(out, InceptionOutputs)
    assert out.logits.shape == (2, 5)
    assert out.aux_logits and all(a.shape == (2, 5) for a in out.aux_logits)
    assert net.eval()(torch.randn(2, 2, SIZE, SIZE)).shape == (2, 5)


def test_inception_v2_config_carries_the_same_knobs():
    net = InceptionV2.from_config(DIGITS).eval()
    assert net(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    assert net.config.num_classes == 10 and net.config.in_channels == 1
    with pytest.raises(ValueError, match=r"expects 1 input channels?, got 3"):
        net(torch.randn(1, 3, 28, 28))


def test_small_images_need_the_small_stem():
    with pytest.raises(ValueError, match=r'image_size=32 is too small.*stem="small"'):
        InceptionV2Config(num_classes=10, image_size=32)
    with pytest.raises(ValueError, match=r"GoogLeNet needs an input of at least 31×31 pixels, got 28×28"):
        GoogLeNet(num_classes=10, in_channels=1).eval()(torch.zeros(1, 1, 28, 28))


def test_new_head_by_rebuilding_and_loading_the_backbone():
    torch.manual_seed(0)
    source = InceptionV2.from_config(replace(CIFAR_LIKE, num_classes=100))
    model = InceptionV2.from_config(replace(source.config, num_classes=10))
    heads = ("fc.", "aux.fc.")
    backbone = {k: v for k, v in source.state_dict().items() if not k.startswith(heads)}
    result = model.load_state_dict(backbone, strict=False)
    assert sorted(result.missing_keys) == ["aux.fc.bias", "aux.fc.weight", "fc.bias", "fc.weight"]
    assert not result.unexpected_keys
    assert model.config.num_classes == 10 and model.fc.out_features == 10
    x = torch.randn(2, 3, 16, 16)
    model.eval()
    source.eval()
    torch.testing.assert_close(model.mixed7(model.reduction2(model.mixed6(model.reduction1(model.mixed5(model.stem(x)))))),
                               source.mixed7(source.reduction2(source.mixed6(source.reduction1(source.mixed5(source.stem(x)))))))


def test_freezing_stages_counts_and_gradients():
    model = InceptionV2.from_config(CIFAR_LIKE)
    for name in ("stem", "mixed5", "reduction1", "mixed6", "reduction2"):
        for p in getattr(model, name).parameters():
            p.requires_grad_(False)
    expected = sum(count_parameters(getattr(model, n)) for n in ("mixed7", "fc", "aux"))
    assert count_parameters(model, trainable_only=True) == expected
    model.train()
    out = model(torch.randn(2, 3, 16, 16))
    (out.logits.sum() + out.aux_logits[0].sum()).backward()
    assert model.stem.Conv2d_1a_3x3.conv.weight.grad is None
    assert model.mixed7[0].branch1.conv.weight.grad is not None


# tests/test_exercise_checkers.py checks that every checker rejects its plausible wrong answers.
def test_chapter_9_has_four_exercises():
    assert [e.id for e in exercises(9)] == ["9.1", "9.2", "9.3", "9.4"]


def test_chapter_9_checkers_accept_right_answers(capsys):
    check("9.1", replace(CIFAR_LIKE, num_classes=100))
    check("9.2", replace(DIGITS, width=0.125))
    net = InceptionV2.from_config(CIFAR_LIKE)
    check("9.3", count_parameters(net.mixed7) + count_parameters(net.fc))
    check("9.4", 20)
    assert capsys.readouterr().out.count("✓") == 4
