"""The book's torchvision-layout networks against torchvision itself, through committed fixtures.

``InceptionV3()`` and ``GoogLeNet.torchvision_layout()`` must take torchvision's state dicts with
``strict=True`` and give its logits. torchvision is not a dependency, so scripts/make_torchvision_fixtures.py
recorded, once, from torchvision 0.28's own model definitions: the state dicts' keys and shapes, and
the logits of a fixed input for deterministic weights made from the key names (tests/fixtures/torchvision/).
The tests rebuild the same weights with the same functions, load them and compare.
"""

import json
from pathlib import Path

import pytest
import torch
from fixture_script import SCRIPT as FIXTURE_SCRIPT
from torch import nn

from inception.cost import count_macs, count_parameters, grid_sizes, output_shape
from inception.googlenet import GoogLeNet, Inception, InceptionAux
from inception.inception_v3 import InceptionV3
from inception.layers import InceptionOutputs

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "torchvision"
TOLERANCE = {"rtol": 1e-4, "atol": 1e-4}
# In training mode BN divides by batch statistics of a 2-image batch, which amplifies float rounding; the
# rounding depends on the thread count (the reference ran on two threads, the tests run on one). A wrong
# layer moves logits by far more (a changed pool: 0.68; a 3×3 maxpool4: 7.4).
TRAINING_TOLERANCE = {"rtol": 1e-3, "atol": 1e-3}


BUILDERS = {"googlenet": GoogLeNet.torchvision_layout, "inception_v3": InceptionV3}


class Case:
    """One torchvision model: its fixture, the deterministic weights, and the book's model loaded with them."""

    def __init__(self, name: str) -> None:
        self.meta = json.loads((FIXTURES / f"{name}.json").read_text())
        self.logits = FIXTURE_SCRIPT.load_logits(FIXTURES / f"{name}_logits.json")
        self.state = FIXTURE_SCRIPT.deterministic_state_dict(self.meta["state_dict"])
        self.model = BUILDERS[name]()
        self.reload()

    def reload(self) -> None:
        self.model.load_state_dict(self.state, strict=True)
        self.model.eval()

    def input(self, mode: str) -> torch.Tensor:
        return FIXTURE_SCRIPT.fixed_input(self.meta["input"]["sizes"][mode])


@pytest.fixture(scope="module", params=["googlenet", "inception_v3"])
def case(request):
    return Case(request.param)


def test_fixtures_come_from_torchvision_0_28():
    for name in BUILDERS:
        meta = json.loads((FIXTURES / f"{name}.json").read_text())
        assert meta["torchvision"].startswith("0.28"), meta["torchvision"]
        assert meta["input"]["seed"] == FIXTURE_SCRIPT.INPUT_SEED


def test_same_keys_in_the_same_order_with_the_same_shapes(case):
    ours = [(k, list(t.shape), str(t.dtype).removeprefix("torch."))
            for k, t in case.model.state_dict().items()]
    theirs = [(e["key"], e["shape"], e["dtype"]) for e in case.meta["state_dict"]]
    assert ours == theirs


def test_strict_load_of_torchvision_keys(case):
    result = case.model.load_state_dict(case.state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_same_logits_in_eval_mode(case):
    case.reload()
    with torch.no_grad():
        logits = case.model(case.input("eval"))
    torch.testing.assert_close(logits, case.logits["eval"], **TOLERANCE)


def test_same_logits_with_transform_input(case):
    case.model.transform_input = True  # what transform_input=True sets (tests/test_inception_v3.py checks it)
    try:
        with torch.no_grad():
            logits = case.model(case.input("eval"))
    finally:
        case.model.transform_input = False
    torch.testing.assert_close(logits, case.logits["eval_transform_input"], **TOLERANCE)
    assert not torch.allclose(logits, case.logits["eval"], atol=1e-2), "transform_input changed nothing"


def test_same_main_and_auxiliary_logits_in_training_mode(case):
    """Training mode, BN on batch statistics, dropout off: ``InceptionOutputs(logits, aux in network order)``."""
    case.model.train()
    for m in case.model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()
    try:
        with torch.no_grad():
            out = case.model(case.input("train"))
    finally:
        case.reload()  # training mode updated BN's running statistics
    assert isinstance(out, InceptionOutputs)
    aux_names = sorted(k for k in case.logits if k.startswith("train_aux"))
    assert len(out.aux_logits) == len(aux_names) == {"googlenet": 2, "inception_v3": 1}[case.meta["model"]]
    torch.testing.assert_close(out.logits, case.logits["train"], **TRAINING_TOLERANCE)
    for name, aux in zip(aux_names, out.aux_logits, strict=True):
        torch.testing.assert_close(aux, case.logits[name], **TRAINING_TOLERANCE, msg=lambda m, n=name: f"{n}: {m}")


# GoogLeNet.torchvision_layout(): where it departs from the paper, and its cost


@pytest.fixture(scope="module")
def googlenet():
    return GoogLeNet.torchvision_layout().eval()


def test_googlenet_layout_parameters_and_multiply_adds_are_torchvisions(googlenet):
    aux = count_parameters(googlenet.aux1) + count_parameters(googlenet.aux2)
    assert (count_parameters(googlenet), count_parameters(googlenet) - aux) == (13_004_888, 6_624_904)
    assert count_parameters(GoogLeNet.torchvision_layout(aux_logits=False)) == 6_624_904
    assert count_macs(googlenet, (1, 3, 224, 224)) == 1_498_391_752  # torchvision's "_ops": 1.498 (GMACs)


def test_googlenet_layout_departures_from_the_paper(googlenet):
    assert isinstance(googlenet, GoogLeNet)
    assert all(m.eps == 1e-3 for m in googlenet.modules() if isinstance(m, nn.BatchNorm2d))
    assert all(m.bias is None for m in googlenet.modules() if isinstance(m, nn.Conv2d))
    assert not any(isinstance(m, nn.LocalResponseNorm) for m in googlenet.modules())
    assert all(getattr(googlenet, f"inception{n}").branch3[1].conv.kernel_size == (3, 3)
               for n in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"))
    assert (googlenet.maxpool4.kernel_size, googlenet.maxpool4.stride, googlenet.maxpool4.ceil_mode) == (2, 2, True)
    assert googlenet.dropout.p == 0.2
    for aux in (googlenet.aux1, googlenet.aux2):
        assert isinstance(aux.pool, nn.AdaptiveAvgPool2d) and aux.dropout.p == 0.7
    assert grid_sizes(googlenet, 224, ["maxpool3", "maxpool4"]) == {"maxpool3": 14, "maxpool4": 7}


def test_googlenet_layout_smallest_input_is_15_and_inputs_are_checked(googlenet):
    assert googlenet.min_input_size == 15  # torchvision's documented min_size
    assert output_shape(googlenet, (1, 3, 15, 15)) == (1, 1000)
    for x, message in [(torch.zeros(1, 3, 14, 14), "at least 15×15"), (torch.zeros(3, 224, 224), "shape"),
                       (torch.zeros(1, 3, 32, 32, dtype=torch.float64), r"x\.float\(\)")]:
        with pytest.raises(ValueError, match=message):
            googlenet(x)


def test_googlenet_layout_trains_on_any_size_like_torchvision(googlenet):
    googlenet.train()
    try:
        out = googlenet(torch.randn(2, 3, 64, 64))
    finally:
        googlenet.eval()
    assert isinstance(out, InceptionOutputs) and len(out.aux_logits) == 2


@pytest.mark.parametrize("kwargs", [{"num_classes": 0}, {"aux_logits": None}, {"transform_input": 1}])
def test_googlenet_layout_bad_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        GoogLeNet.torchvision_layout(**kwargs)


def test_new_block_arguments_default_to_the_paper():
    block = Inception(192, 64, 96, 128, 16, 32, 32)
    assert block.branch3[1].conv.kernel_size == (5, 5) and block.branch3[1].bn is None
    assert Inception(192, 64, 96, 128, 16, 32, 32, batch_norm=True).branch3[1].bn.eps == 1e-5
    assert isinstance(InceptionAux(512, 10).pool, nn.AvgPool2d)
    assert isinstance(InceptionAux(512, 10, adaptive=True).pool, nn.AdaptiveAvgPool2d)
    with pytest.raises(ValueError, match="ch5x5_kernel"):
        Inception(192, 64, 96, 128, 16, 32, 32, ch5x5_kernel=4)
    with pytest.raises(ValueError, match="adaptive"):
        InceptionAux(512, 10, adaptive="yes")
