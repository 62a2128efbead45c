import pytest
import torch
from torch import nn

from inception.cost import conv2d_cost, count_macs, count_parameters
from inception.diagrams import flowchart, mermaid_source
from inception.googlenet import (
    PAPER_TABLE1_COST,
    TABLE1,
    GoogLeNet,
    Inception,
    InceptionAux,
    NaiveInception,
    auxiliary_loss,
)
from inception.layers import BasicConv2d, InceptionOutputs
from inception.losses import auxiliary_loss as shared_auxiliary_loss


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return GoogLeNet()


def test_paper_parameter_counts(model):
    assert count_parameters(model) == 13_378_280
    assert count_parameters(GoogLeNet(aux_logits=False)) == 6_998_552


def test_paper_multiply_adds(model):
    macs = count_macs(model.eval(), (1, 3, 224, 224))
    assert macs == pytest.approx(1.586e9, rel=1e-3)


def test_grid_sizes_at_224(model):
    assert model.grid_sizes(224) == {"conv1": 112, "maxpool1": 56, "maxpool2": 28, "maxpool3": 14, "maxpool4": 7}
    shapes = {}
    hooks = [getattr(model, n).register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape)))
             for n in ("conv1", "maxpool1", "maxpool2", "inception3b", "maxpool3", "inception4e", "maxpool4",
                       "inception5b")]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, 224, 224))
    for h in hooks:
        h.remove()
    assert shapes == {"conv1": (1, 64, 112, 112), "maxpool1": (1, 64, 56, 56), "maxpool2": (1, 192, 28, 28),
                      "inception3b": (1, 480, 28, 28), "maxpool3": (1, 480, 14, 14),
                      "inception4e": (1, 832, 14, 14), "maxpool4": (1, 832, 7, 7),
                      "inception5b": (1, 1024, 7, 7)}


def test_table1_channels_chain():
    names = list(TABLE1)
    assert TABLE1["3a"].in_channels == 192
    for before, after in zip(names, names[1:], strict=False):
        assert TABLE1[after].in_channels == TABLE1[before].out_channels
    assert [TABLE1[n].out_channels for n in names] == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    assert set(PAPER_TABLE1_COST) >= {f"inception{n}" for n in names}


def test_module_names_follow_torchvision(model):
    names = dict(model.named_children())
    for n in ("conv1", "conv2", "conv3", "inception3a", "inception5b", "aux1", "aux2", "fc"):
        assert n in names
    assert {n for n, _ in model.inception3a.named_children()} == {"branch1", "branch2", "branch3", "branch4"}


def test_inception_module_3a():
    block = Inception(*TABLE1["3a"])
    assert block.out_channels == 256
    x = torch.randn(2, 192, 28, 28)
    assert block(x).shape == (2, 256, 28, 28)
    # the 5×5 branch is a 5×5, as in the paper (torchvision uses a 3×3)
    assert block.branch3[1].conv.kernel_size == (5, 5)
    assert count_parameters(block) == sum(
        conv2d_cost(*args, 28).params for args in
        [(192, 64, 1), (192, 96, 1), (96, 128, 3), (192, 16, 1), (16, 32, 5), (192, 32, 1)])


def test_naive_module_keeps_every_input_channel():
    block = NaiveInception(192, 64, 128, 32)
    assert block(torch.randn(1, 192, 28, 28)).shape == (1, 64 + 128 + 32 + 192, 28, 28)
    assert block.out_channels == 416


def test_from_table_rejects_unknown_name():
    with pytest.raises(ValueError, match=r"Table 1 has modules .* got '6a'"):
        Inception.from_table("6a")


def test_inception_rejects_wrong_channels():
    with pytest.raises(ValueError, match="expects 192 input channels, got 3"):
        Inception.from_table("3a")(torch.randn(1, 3, 28, 28))


def test_aux_heads_only_in_training(model):
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        out = model.train()(x)
        logits = model.eval()(x)
    assert isinstance(out, InceptionOutputs)
    assert out.logits.shape == (1, 1000)
    assert [a.shape for a in out.aux_logits] == [(1, 1000), (1, 1000)]
    assert isinstance(logits, torch.Tensor) and logits.shape == (1, 1000)


def test_without_aux_logits_returns_tensor_in_training():
    net = GoogLeNet(num_classes=10, aux_logits=False).train()
    assert net.aux1 is None and net.aux2 is None
    y = net(torch.randn(2, 3, 64, 64))
    assert isinstance(y, torch.Tensor) and y.shape == (2, 10)


def test_aux_head_is_the_paper_at_224():
    head = InceptionAux(512, 1000).eval()
    x = torch.randn(1, 512, 14, 14)
    pooled = nn.AvgPool2d(5, stride=3)(x)
    assert pooled.shape == (1, 512, 4, 4)
    with torch.no_grad():
        expected = head.fc2(torch.relu(head.fc1(head.conv(pooled).flatten(1))))
        assert torch.allclose(head(x), expected)
    assert count_parameters(head) == 3_188_840


@pytest.mark.parametrize("grid", [1, 2, 4, 7, 20])
def test_aux_head_accepts_other_grids(grid):
    assert InceptionAux(528, 10).eval()(torch.randn(1, 528, grid, grid)).shape == (1, 10)


def test_loss_helper_is_the_shared_one(model):
    assert auxiliary_loss is shared_auxiliary_loss
    torch.manual_seed(0)
    net = GoogLeNet(num_classes=10, in_channels=1).train()
    x, y = torch.randn(2, 1, 64, 64), torch.tensor([1, 7])
    out = net(x)
    main = nn.functional.cross_entropy(out.logits, y)
    aux = sum(nn.functional.cross_entropy(a, y) for a in out.aux_logits)
    assert torch.allclose(auxiliary_loss(out, y), main + 0.3 * aux)


def test_grayscale_and_any_number_of_classes():
    net = GoogLeNet(num_classes=10, in_channels=1).eval()
    with torch.no_grad():
        assert net(torch.randn(2, 1, 32, 32)).shape == (2, 10)
    assert net.fc.out_features == 10 and net.aux1.fc2.out_features == 10


def test_smallest_input_is_worked_out_and_enforced():
    net = GoogLeNet(num_classes=10)
    assert net.min_input_size == 31
    assert net.grid_sizes(31)["maxpool4"] == 1 and net.grid_sizes(30)["maxpool4"] == 0
    for mode in (net.train, net.eval):
        mode()
        out = net(torch.randn(2, 3, 31, 31))
        logits = out.logits if isinstance(out, InceptionOutputs) else out
        assert logits.shape == (2, 10)
        with pytest.raises(ValueError, match="at least 31×31 pixels, got 30×30"):
            net(torch.randn(2, 3, 30, 30))
        with pytest.raises(ValueError, match="at least 31×31 pixels, got 30×64"):
            net(torch.randn(2, 3, 30, 64))


def test_smallest_input_is_a_real_limit():
    # Without the check, a 30×30 input fails deep inside PyTorch: the check does not reject a size that works.
    net = GoogLeNet(num_classes=10).eval()
    net.min_input_size = 1
    with pytest.raises(RuntimeError, match="too small"):
        net(torch.randn(1, 3, 30, 30))


def test_wrong_channels_and_shapes_are_clear_errors(model):
    with pytest.raises(ValueError, match="expects 3 input channels, got 1"):
        model(torch.randn(1, 1, 224, 224))
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\)"):
        model(torch.randn(3, 224, 224))


@pytest.mark.parametrize("kwargs, match", [
    ({"num_classes": 0}, "num_classes must be a positive integer"),
    ({"in_channels": 2.0}, "in_channels must be a positive integer"),
    ({"dropout": 1.0}, r"dropout must be a probability in \[0, 1\)"),
    ({"aux_dropout": -0.1}, r"aux_dropout must be a probability"),
    ({"aux_logits": 1}, "aux_logits must be True or False"),
    ({"batch_norm": "yes"}, "batch_norm must be True or False"),
])
def test_constructor_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GoogLeNet(**kwargs)


def test_batch_norm_variant():
    net = GoogLeNet(batch_norm=True, lrn=False, aux_logits=False)
    assert net.lrn1 is None and net.lrn2 is None
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert len(bns) == len(convs) == 57 and all(c.bias is None for c in convs)
    # BN adds 2 parameters per channel and removes the bias (1 per channel): one more per conv channel
    assert count_parameters(net) == 6_998_552 + sum(c.out_channels for c in convs)


def test_no_softmax_in_the_model(model):
    assert not any(isinstance(m, nn.Softmax | nn.LogSoftmax) for m in model.modules())


def test_block_diagram_has_both_aux_branches(model):
    text = mermaid_source(flowchart(model.train(), leaves=(Inception, InceptionAux, BasicConv2d)))
    assert '"Inception 3a, 256"' in text and '"Inception 5b, 1024"' in text
    assert "inception4a --> aux1" in text and "inception4d --> aux2" in text
    assert '"auxiliary classifier after 4a"' in text
    eval_text = mermaid_source(flowchart(model.eval(), leaves=(Inception, InceptionAux, BasicConv2d)))
    assert "aux1" not in eval_text


def test_module_diagrams():
    text = mermaid_source(flowchart(Inception.from_table("3a")))
    assert text.count("--> cat") == 4 and '"5×5 conv, 32"' in text
    assert '"5×5 avg pool /3"' in mermaid_source(flowchart(InceptionAux(512, 10)))
