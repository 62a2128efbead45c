"""GoogLeNet (Szegedy et al. 2014): Table 1 written out literally, grids, costs, auxiliary heads, diagrams."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import inception.googlenet
from inception.cost import conv2d_cost, conv_output_size, count_macs, count_parameters, grid_sizes
from inception.diagrams import describe, flowchart, mermaid_source
from inception.googlenet import (
    PAPER_TABLE1_COST,
    TABLE1,
    GoogLeNet,
    Inception,
    InceptionAux,
    NaiveInception,
)
from inception.layers import BasicConv2d, InceptionOutputs
from inception.losses import auxiliary_loss

pytestmark = pytest.mark.usefixtures("one_thread")

MODULES = ["inception3a", "inception3b", "inception4a", "inception4b", "inception4c", "inception4d",
           "inception4e", "inception5a", "inception5b"]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return GoogLeNet()


def _grids(size: int) -> dict[str, int]:
    """Table 1's grids worked out by hand with conv_output_size: 7×7/2 conv padded by 3, then 3×3/2 max pools
    in ceil mode; the Inception modules keep the grid. Raises ValueError when nothing is left."""
    conv1 = conv_output_size(size, 7, 2, 3)
    maxpool1 = conv_output_size(conv1, 3, 2, 0, ceil_mode=True)
    maxpool2 = conv_output_size(maxpool1, 3, 2, 0, ceil_mode=True)  # conv2 (1×1) and conv3 (3×3, padded) keep it
    maxpool3 = conv_output_size(maxpool2, 3, 2, 0, ceil_mode=True)
    maxpool4 = conv_output_size(maxpool3, 3, 2, 0, ceil_mode=True)
    return {"conv1": conv1, "maxpool1": maxpool1, "maxpool2": maxpool2, "maxpool3": maxpool3, "maxpool4": maxpool4}


def _smallest_by_arithmetic() -> int:
    for size in range(1, 100):
        try:
            _grids(size)
        except ValueError:
            continue
        return size
    raise AssertionError("no size fits")


# --- sizes and costs ---------------------------------------------------------------------------------------

def test_paper_parameter_counts(model):
    assert count_parameters(model) == 13_378_280
    assert count_parameters(GoogLeNet(aux_logits=False)) == 6_998_552
    assert count_parameters(model) - count_parameters(model.aux1) - count_parameters(model.aux2) == 6_998_552


def test_paper_multiply_adds(model):
    assert count_macs(model.eval(), (1, 3, 224, 224)) == pytest.approx(1.586e9, rel=1e-3)


def test_grid_sizes_at_224_are_table_1s(model):
    names = ["conv1", "maxpool1", "maxpool2", "maxpool3", "maxpool4"]
    assert grid_sizes(model, 224, names) == {"conv1": 112, "maxpool1": 56, "maxpool2": 28, "maxpool3": 14,
                                             "maxpool4": 7} == _grids(224)
    assert grid_sizes(model, 224, MODULES) == {name: {"3": 28, "4": 14, "5": 7}[name[9]] for name in MODULES}


@pytest.mark.parametrize("size", [31, 32, 64, 96, 100, 299])
def test_grid_sizes_agree_with_the_arithmetic(model, size):
    assert grid_sizes(model, size, list(_grids(size))) == _grids(size)


def test_channels_of_every_stage_at_224(model):
    shapes = {}
    hooks = [getattr(model, n).register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape)))
             for n in ("conv1", "maxpool1", "maxpool2", "inception3b", "maxpool3", "inception4e", "maxpool4",
                       "inception5b")]
    try:
        with torch.no_grad():
            assert model.eval()(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)
    finally:
        for h in hooks:
            h.remove()
    assert shapes == {"conv1": (1, 64, 112, 112), "maxpool1": (1, 64, 56, 56), "maxpool2": (1, 192, 28, 28),
                      "inception3b": (1, 480, 28, 28), "maxpool3": (1, 480, 14, 14),
                      "inception4e": (1, 832, 14, 14), "maxpool4": (1, 832, 7, 7),
                      "inception5b": (1, 1024, 7, 7)}


def test_smallest_input_is_measured_from_the_layers(model):
    assert model.min_input_size == 31 == _smallest_by_arithmetic()
    assert GoogLeNet(in_channels=1, aux_logits=False, batch_norm=True, lrn=False).min_input_size == 31
    assert grid_sizes(model, 31, ["maxpool4"]) == {"maxpool4": 1}
    with pytest.raises(ValueError, match="does not run on 30×30 inputs"):
        grid_sizes(model, 30, ["maxpool4"])


def test_smallest_input_is_enforced_and_is_a_real_limit():
    net = GoogLeNet(num_classes=10, aux_logits=False).eval()
    with torch.no_grad():
        assert net(torch.randn(2, 3, 31, 31)).shape == (2, 10)
        with pytest.raises(ValueError, match="at least 31×31 pixels, got 30×64"):
            net(torch.randn(2, 3, 30, 64))
        net.min_input_size = 1  # without the check, 30×30 fails deep inside PyTorch: the check is not too strict
        with pytest.raises(RuntimeError):
            net(torch.randn(1, 3, 30, 30))


# --- Table 1, written out -------------------------------------------------------------------------------------

def test_table1_channels_chain():
    names = list(TABLE1)
    assert names == [n.removeprefix("inception") for n in MODULES]
    assert TABLE1["3a"].in_channels == 192
    for before, after in zip(names, names[1:], strict=False):
        assert TABLE1[after].in_channels == TABLE1[before].out_channels
    assert [TABLE1[n].out_channels for n in names] == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    assert set(PAPER_TABLE1_COST) - {"conv2+conv3"} <= {n for n, _ in GoogLeNet(aux_logits=False).named_children()}


@pytest.mark.parametrize("name", MODULES)
def test_literal_modules_are_table_1s_rows(model, name):
    module = getattr(model, name)
    assert isinstance(module, Inception)
    row = (module.in_channels, module.branch1.out_channels, module.branch2[0].out_channels,
           module.branch2[1].out_channels, module.branch3[0].out_channels, module.branch3[1].out_channels,
           module.branch4[1].out_channels)
    assert row == tuple(TABLE1[name.removeprefix("inception")])
    assert module.out_channels == TABLE1[name.removeprefix("inception")].out_channels
    assert [k.conv.kernel_size for k in (module.branch1, module.branch2[1], module.branch3[1], module.branch4[1])] == [
        (1, 1), (3, 3), (5, 5), (1, 1)]  # the paper's 5×5 (torchvision's port has a 3×3 here)


def test_module_names_follow_torchvision(model):
    assert [n for n, _ in model.named_children()] == [
        "conv1", "maxpool1", "lrn1", "conv2", "conv3", "lrn2", "maxpool2", "inception3a", "inception3b", "maxpool3",
        *MODULES[2:7], "maxpool4", "inception5a", "inception5b", "avgpool", "dropout", "fc", "aux1", "aux2"]
    for name in MODULES:
        assert [n for n, _ in getattr(model, name).named_children()] == ["branch1", "branch2", "branch3", "branch4"]
    assert (model.conv1.conv.kernel_size, model.conv1.conv.stride) == ((7, 7), (2, 2))
    assert (model.conv2.conv.kernel_size, model.conv3.conv.kernel_size) == ((1, 1), (3, 3))
    assert not hasattr(Inception, "from_table") and not hasattr(model, "grid_sizes")
    assert not hasattr(model, "_min_input_size")


def test_stem_has_the_papers_lrn_and_pools(model):
    for lrn in (model.lrn1, model.lrn2):
        assert isinstance(lrn, nn.LocalResponseNorm)
        assert (lrn.size, lrn.alpha, lrn.beta, lrn.k) == (5, 1e-4, 0.75, 1.0)
    pools = [model.maxpool1, model.maxpool2, model.maxpool3, model.maxpool4]
    assert all((p.kernel_size, p.stride, p.ceil_mode) == (3, 2, True) for p in pools)
    assert model.dropout.p == 0.4 and model.aux1.dropout.p == 0.7
    assert all(c.bias is not None for c in model.modules() if isinstance(c, nn.Conv2d))  # no BN in the paper
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())


def test_inception_module_3a():
    block = Inception(*TABLE1["3a"])
    assert block.out_channels == 256
    assert block(torch.randn(2, 192, 28, 28)).shape == (2, 256, 28, 28)
    assert count_parameters(block) == sum(
        conv2d_cost(*args, 28).params for args in
        [(192, 64, 1), (192, 96, 1), (96, 128, 3), (192, 16, 1), (16, 32, 5), (192, 32, 1)])


def test_naive_module_keeps_every_input_channel():
    block = NaiveInception(192, 64, 128, 32)
    assert block(torch.randn(1, 192, 28, 28)).shape == (1, 64 + 128 + 32 + 192, 28, 28)
    assert block.out_channels == 416
    assert [n for n, _ in block.named_children()] == ["branch1", "branch2", "branch3", "branch4"]


def test_batch_norm_variant_and_no_lrn():
    net = GoogLeNet(batch_norm=True, lrn=False, aux_logits=False)
    assert isinstance(net.lrn1, nn.Identity) and isinstance(net.lrn2, nn.Identity)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert len(bns) == len(convs) == 57 and all(c.bias is None for c in convs)
    # BN adds 2 parameters per channel and removes the bias (1 per channel): one more per conv channel
    assert count_parameters(net) == 6_998_552 + sum(c.out_channels for c in convs)


def test_no_softmax_in_the_model(model):
    assert not any(isinstance(m, nn.Softmax | nn.LogSoftmax) for m in model.modules())


# --- auxiliary heads ---------------------------------------------------------------------------------------

def test_aux_heads_only_in_training(model):
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        out = model.train()(x)
        logits = model.eval()(x)
    assert isinstance(out, InceptionOutputs)
    assert out.logits.shape == (1, 1000)
    assert [a.shape for a in out.aux_logits] == [(1, 1000), (1, 1000)]
    assert isinstance(logits, torch.Tensor) and logits.shape == (1, 1000)


def test_without_aux_logits_returns_a_tensor_in_training():
    net = GoogLeNet(num_classes=10, aux_logits=False).train()
    assert net.aux1 is None and net.aux2 is None
    y = net(torch.randn(2, 3, 64, 64))  # any size from 31 up: no auxiliary head to build for a size
    assert isinstance(y, torch.Tensor) and y.shape == (2, 10)


def test_aux_head_is_the_paper_at_224(model):
    head = model.aux1.eval()
    assert isinstance(head.pool, nn.AvgPool2d) and (head.pool.kernel_size, head.pool.stride) == (5, 3)
    x = torch.randn(1, 512, 14, 14)
    pooled = nn.AvgPool2d(5, stride=3)(x)
    assert pooled.shape == (1, 512, 4, 4)
    with torch.no_grad():
        expected = head.fc2(torch.relu(head.fc1(head.conv(pooled).flatten(1))))
        torch.testing.assert_close(head(x), expected)
    assert count_parameters(head) == 3_188_840
    assert [n for n, _ in head.named_children()] == ["pool", "conv", "flatten", "fc1", "relu", "dropout", "fc2"]


@pytest.mark.parametrize("image_size", [32, 96, 224, 240, 256, 288])
def test_aux_heads_are_built_for_the_image_size(image_size):
    """The paper's 5×5/3 pool where it takes the grid after 4a to 4×4, an adaptive pool to 4×4 elsewhere."""
    net = GoogLeNet(num_classes=10, image_size=image_size)
    grid = _grids(image_size)["maxpool3"]  # the grid of 4a and 4d
    paper = grid >= 5 and conv_output_size(grid, 5, 3) == 4
    for head in (net.aux1, net.aux2):
        assert isinstance(head.pool, nn.AvgPool2d if paper else nn.AdaptiveAvgPool2d)
    assert paper == (grid in (14, 15, 16))  # 224 → 14, 240 → 15, 256 → 16


@pytest.mark.parametrize("grid", [1, 2, 4, 7, 14, 16, 20])
def test_aux_head_accepts_the_grid_it_was_built_for(grid):
    assert InceptionAux(528, 10, grid=grid).eval()(torch.randn(1, 528, grid, grid)).shape == (1, 10)


def test_training_at_a_small_image_size():
    torch.manual_seed(0)
    net = GoogLeNet(num_classes=10, in_channels=1, image_size=32).train()
    out = net(torch.randn(2, 1, 32, 32))
    assert isinstance(out, InceptionOutputs) and out.logits.shape == (2, 10)
    assert [a.shape for a in out.aux_logits] == [(2, 10), (2, 10)]
    with pytest.raises(ValueError, match="built for 32×32 images"):
        net(torch.randn(2, 1, 64, 64))
    with torch.no_grad():
        assert net.eval()(torch.randn(2, 1, 64, 64)).shape == (2, 10)


def test_auxiliary_loss_lives_in_losses():
    assert not hasattr(inception.googlenet, "auxiliary_loss")
    torch.manual_seed(0)
    net = GoogLeNet(num_classes=10, in_channels=1, image_size=40).train()
    x, y = torch.randn(2, 1, 40, 40), torch.tensor([1, 7])
    out = net(x)
    main = nn.functional.cross_entropy(out.logits, y)
    aux = sum(nn.functional.cross_entropy(a, y) for a in out.aux_logits)
    torch.testing.assert_close(auxiliary_loss(out, y), main + 0.3 * aux)


def test_grayscale_and_any_number_of_classes():
    net = GoogLeNet(num_classes=10, in_channels=1).eval()
    with torch.no_grad():
        assert net(torch.randn(2, 1, 32, 32)).shape == (2, 10)
    assert net.conv1.in_channels == 1 and net.fc.out_features == 10 and net.aux1.fc2.out_features == 10


# --- diagrams ---------------------------------------------------------------------------------------------

def test_block_diagram_has_both_aux_branches(model):
    leaves = (Inception, InceptionAux, BasicConv2d)
    text = mermaid_source(flowchart(model.train(), leaves=leaves))
    assert '"inception3a: Inception, 256"' in text and '"inception5b: Inception, 1024"' in text
    assert "inception4a --> aux1" in text and "inception4d --> aux2" in text
    assert '"aux1: auxiliary classifier"' in text
    assert '"7×7 conv, 64 /2"' in text and text.count('"LRN"') == 2 and text.count('"3×3 max pool /2"') == 4
    eval_text = mermaid_source(flowchart(model.eval(), leaves=leaves))
    assert "aux1" not in eval_text and "aux2" not in eval_text


def test_module_diagrams(model):
    assert describe(model.inception3a, "inception3a") == "inception3a: Inception, 256"
    text = mermaid_source(flowchart(Inception(*TABLE1["3a"])))
    assert text.count("--> cat") == 4 and '"5×5 conv, 32"' in text and '"3×3 max pool"' in text
    assert '"5×5 avg pool /3"' in mermaid_source(flowchart(model.aux1))
    assert '"adaptive avg pool to 4×4"' in mermaid_source(flowchart(InceptionAux(512, 10, grid=7)))
