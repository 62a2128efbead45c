"""Inception-v2 (Rethinking the Inception Architecture, Table 1): blocks, torchvision's names, grids, costs."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

import inception.cost
import inception.inception_v2
from inception.cost import conv2d_cost, conv_output_size, count_macs, count_parameters, grid_sizes
from inception.customizing import fig6_reduce_widths
from inception.diagrams import describe, flowchart, mermaid_source
from inception.inception_v2 import (
    BN_EPS,
    GridReduction,
    InceptionAuxV2,
    InceptionFig5,
    InceptionFig6,
    InceptionFig7,
    InceptionV2,
    conv_bn,
)
from inception.layers import BasicConv2d, InceptionOutputs

pytestmark = pytest.mark.usefixtures("one_thread")

#: torchvision's Inception3 layout, as the brief of issue 11 lists it, with the paper's fifth Figure 6 module
CHILDREN = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3a_3x3", "Conv2d_3b_3x3",
            "Conv2d_4a_3x3", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
            "Mixed_6e", "Mixed_6f", "AuxLogits", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool", "dropout", "fc"]


@pytest.fixture(scope="module")
def paper():
    torch.manual_seed(0)
    return InceptionV2()


def _grids(size: int) -> dict[str, int]:
    """Table 1's grids by hand: the stem's unpadded and padded 3×3 layers, then two unpadded 3×3/2 reductions."""
    sizes = {"Conv2d_1a_3x3": conv_output_size(size, 3, 2)}
    sizes["Conv2d_2a_3x3"] = conv_output_size(sizes["Conv2d_1a_3x3"], 3)
    sizes["Conv2d_2b_3x3"] = conv_output_size(sizes["Conv2d_2a_3x3"], 3, 1, 1)
    sizes["maxpool1"] = conv_output_size(sizes["Conv2d_2b_3x3"], 3, 2)
    sizes["Conv2d_3a_3x3"] = conv_output_size(sizes["maxpool1"], 3)
    sizes["Conv2d_3b_3x3"] = conv_output_size(sizes["Conv2d_3a_3x3"], 3, 2)
    sizes["Conv2d_4a_3x3"] = conv_output_size(sizes["Conv2d_3b_3x3"], 3, 1, 1)
    sizes["Mixed_6a"] = conv_output_size(sizes["Conv2d_4a_3x3"], 3, 2)
    sizes["Mixed_7a"] = conv_output_size(sizes["Mixed_6a"], 3, 2)
    return sizes


def _bn_conv_params(cin: int, cout: int, kh: int, kw: int) -> int:
    """Weights of a bias-free conv plus BN's γ and β."""
    return conv2d_cost(cin, cout, (kh, kw), 9, padding=(kh // 2, kw // 2), bias=False).params + 2 * cout


# --- blocks ------------------------------------------------------------------------------------------------

def test_conv_bn_is_basic_conv_with_torchvisions_eps():
    layer = conv_bn(3, 8, (1, 3), padding=(0, 1))
    assert isinstance(layer, BasicConv2d) and layer.bn.eps == BN_EPS == 1e-3 and layer.conv.bias is None


def test_block_argument_names_are_one_vocabulary():
    double = ["in_channels", "ch1x1", "ch3x3red", "ch3x3", "ch3x3dbl_red", "ch3x3dbl", "pool_proj"]
    assert list(inspect.signature(InceptionFig5).parameters) == double
    assert list(inspect.signature(InceptionFig7).parameters) == double
    assert list(inspect.signature(GridReduction).parameters) == ["in_channels", "ch3x3red", "ch3x3", "ch3x3dbl_red",
                                                                 "ch3x3dbl"]
    assert list(inspect.signature(InceptionFig6).parameters) == [
        "in_channels", "ch1x1", "chnxnred", "chnxn", "chnxndbl_red", "chnxndbl", "pool_proj", "n"]
    assert list(inspect.signature(InceptionAuxV2).parameters) == ["in_channels", "num_classes", "grid", "ch1x1",
                                                                  "ch5x5"]


def test_fig5_module_shape_and_parameters():
    m = InceptionFig5(288, 64, 48, 64, 64, 96, 64)
    assert m.out_channels == 288
    assert m(torch.randn(2, 288, 35, 35)).shape == (2, 288, 35, 35)
    expected = (_bn_conv_params(288, 64, 1, 1) + _bn_conv_params(288, 48, 1, 1) + _bn_conv_params(48, 64, 3, 3)
                + _bn_conv_params(288, 64, 1, 1) + _bn_conv_params(64, 96, 3, 3) + _bn_conv_params(96, 96, 3, 3)
                + _bn_conv_params(288, 64, 1, 1))
    assert count_parameters(m) == expected == 236_000
    assert [n for n, _ in m.named_children()] == ["branch1", "branch2", "branch3", "branch4"]


def test_fig6_module_factorizes_n_by_n():
    m = InceptionFig6(768, 192, 160, 192, 160, 192, 192, n=7)
    assert m.out_channels == 768
    assert m(torch.randn(1, 768, 17, 17)).shape == (1, 768, 17, 17)
    kernels = [layer.conv.kernel_size for layer in m.branch3]
    assert kernels == [(1, 1), (1, 7), (7, 1), (1, 7), (7, 1)]
    assert [layer.conv.kernel_size for layer in m.branch2] == [(1, 1), (1, 7), (7, 1)]
    assert count_parameters(m) == 1_691_008
    small = InceptionFig6(8, 2, 2, 2, 2, 2, 2, n=3)
    assert small(torch.randn(1, 8, 5, 5)).shape == (1, 8, 5, 5) and small.n == 3


def test_fig7_module_expanded_filter_bank():
    m = InceptionFig7(1280, 320, 384, 384, 448, 384, 192)
    assert m.out_channels == 2048
    assert m(torch.randn(1, 1280, 8, 8)).shape == (1, 2048, 8, 8)
    assert m.branch2a.conv.kernel_size == (1, 3) and m.branch2b.conv.kernel_size == (3, 1)
    assert m.branch3a.conv.kernel_size == (1, 3) and m.branch3b.conv.kernel_size == (3, 1)
    assert count_parameters(m) == 5_044_608
    assert count_parameters(InceptionFig7(2048, 320, 384, 384, 448, 384, 192)) == 6_076_800


@pytest.mark.parametrize(("cin", "size", "widths", "out", "grid"), [
    (288, 35, (192, 384, 64, 96), 768, 17),
    (768, 17, (192, 320, 192, 192), 1280, 8),
])
def test_grid_reduction_halves_the_grid_without_padding(cin, size, widths, out, grid):
    m = GridReduction(cin, *widths)
    assert m.out_channels == out
    assert m(torch.randn(1, cin, size, size)).shape == (1, out, grid, grid)
    assert grid == conv_output_size(size, 3, 2)
    assert [n for n, _ in m.named_children()] == ["branch1", "branch2", "branch3"]


def test_grid_reduction_too_small_input_fails_in_pytorch():
    # a block checks only its channels; the network's entry check keeps inputs large enough (see min_input_size)
    with pytest.raises(RuntimeError):
        GridReduction(8, 2, 2, 2, 2)(torch.randn(1, 8, 2, 2))


def test_aux_head_is_figure_8_with_batch_norm():
    aux = InceptionAuxV2(768, 1000)
    assert aux.conv0.bn is not None and aux.conv1.bn is not None
    assert isinstance(aux.pool, nn.AvgPool2d) and (aux.pool.kernel_size, aux.pool.stride) == (5, 3)
    assert aux.eval()(torch.randn(2, 768, 17, 17)).shape == (2, 1000)
    assert count_parameters(aux) == 3_326_696


@pytest.mark.parametrize("grid", [1, 3, 5, 8, 16])
def test_aux_head_built_for_a_small_grid_pools_adaptively(grid):
    aux = InceptionAuxV2(32, 10, grid=grid, ch1x1=8, ch5x5=16).eval()
    assert isinstance(aux.pool, nn.AdaptiveAvgPool2d) and aux.pool.output_size == 5
    assert aux(torch.randn(2, 32, grid, grid)).shape == (2, 10)


def test_module_wrong_channels():
    with pytest.raises(ValueError, match="InceptionFig5 expects 288 input channels, got 192"):
        InceptionFig5(288, 64, 48, 64, 64, 96, 64)(torch.randn(1, 192, 35, 35))


# --- the network ---------------------------------------------------------------------------------------------

def test_module_names_are_torchvisions(paper):
    assert [n for n, _ in paper.named_children()] == CHILDREN
    for name in ("stem", "mixed5", "mixed6", "mixed7", "reduction1", "reduction2", "aux"):
        assert not hasattr(paper, name)
    for name in ("PaperStem", "SmallStem", "STEMS", "grid_sizes", "InceptionV2Config"):
        assert not hasattr(inception.inception_v2, name)  # variants live in inception.customizing
    assert inception.inception_v2.smallest_input_size is inception.cost.smallest_input_size  # one function
    assert not hasattr(InceptionV2, "from_config")


def test_table_1_layout(paper):
    kinds = [type(m).__name__ for n, m in paper.named_children() if n.startswith("Mixed")]
    assert kinds == ["InceptionFig5"] * 3 + ["GridReduction"] + ["InceptionFig6"] * 5 + ["GridReduction"] + [
        "InceptionFig7"] * 2
    assert all(m.n == 7 for m in paper.modules() if isinstance(m, InceptionFig6))
    stem = [paper.Conv2d_1a_3x3, paper.Conv2d_2a_3x3, paper.Conv2d_2b_3x3, paper.Conv2d_3a_3x3, paper.Conv2d_3b_3x3,
            paper.Conv2d_4a_3x3]
    assert [c.out_channels for c in stem] == [32, 32, 64, 80, 192, 288]
    assert [c.conv.stride[0] for c in stem] == [2, 1, 1, 1, 2, 1]
    assert [c.conv.padding[0] for c in stem] == [0, 0, 1, 0, 0, 1]
    # the Figure 6 reduce widths are the released model's, with 160 repeated for the fifth module
    reduce = [getattr(paper, f"Mixed_6{c}").branch2[0].out_channels for c in "bcdef"]
    assert reduce == [128, 160, 160, 160, 192] == fig6_reduce_widths(5)
    assert all(m.bn.eps == 1e-3 for m in paper.modules() if isinstance(m, BasicConv2d))


def test_grid_sizes_at_299(paper):
    mixed = {**dict.fromkeys(["Mixed_5b", "Mixed_5c", "Mixed_5d"], 35),
             **dict.fromkeys(["Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_6f"], 17),
             **dict.fromkeys(["Mixed_7a", "Mixed_7b", "Mixed_7c"], 8)}
    assert grid_sizes(paper, 299, list(mixed)) == mixed
    assert grid_sizes(paper, 299, list(_grids(299))) == _grids(299) == {
        "Conv2d_1a_3x3": 149, "Conv2d_2a_3x3": 147, "Conv2d_2b_3x3": 147, "maxpool1": 73, "Conv2d_3a_3x3": 71,
        "Conv2d_3b_3x3": 35, "Conv2d_4a_3x3": 35, "Mixed_6a": 17, "Mixed_7a": 8}


@pytest.mark.parametrize("size", [75, 76, 96, 128, 224])
def test_grid_sizes_agree_with_the_arithmetic(paper, size):
    assert grid_sizes(paper, size, list(_grids(size))) == _grids(size)


def test_smallest_input_is_measured_from_the_layers(paper):
    by_hand = next(size for size in range(1, 200) if _fits(size))
    assert paper.min_input_size == 75 == by_hand
    assert InceptionV2(num_classes=10, in_channels=1, aux_logits=False).min_input_size == 75


def _fits(size: int) -> bool:
    try:
        _grids(size)
    except ValueError:
        return False
    return True


def test_channels_of_every_stage_at_299(paper):
    paper.eval()
    shapes = {}
    hooks = [getattr(paper, name).register_forward_hook(
        lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
        for name in ("Conv2d_4a_3x3", "Mixed_5d", "Mixed_6a", "Mixed_6f", "Mixed_7a", "Mixed_7c", "fc")]
    try:
        with torch.no_grad():
            out = paper(torch.randn(1, 3, 299, 299))
    finally:
        for h in hooks:
            h.remove()
    assert out.shape == (1, 1000)
    assert shapes == {"Conv2d_4a_3x3": (288, 35, 35), "Mixed_5d": (288, 35, 35), "Mixed_6a": (768, 17, 17),
                      "Mixed_6f": (768, 17, 17), "Mixed_7a": (1280, 8, 8), "Mixed_7c": (2048, 8, 8), "fc": (1000,)}


def test_paper_network_parameter_counts(paper):
    assert count_parameters(paper) == 28_820_144
    assert count_parameters(paper) - count_parameters(paper.AuxLogits) == 25_493_448
    assert count_parameters(InceptionV2(aux_logits=False)) == 25_493_448
    assert count_parameters(InceptionV2(num_classes=10, in_channels=1, aux_logits=False)) == 25_493_448 - (
        990 * 2049 + 2 * 32 * 9)


def test_multiply_adds_at_299(paper):
    assert count_macs(paper.eval(), (1, 3, 299, 299)) == pytest.approx(6.27e9, rel=1e-3)


def test_aux_head_reads_the_last_17x17_grid_with_the_papers_pool(paper):
    assert paper.AuxLogits.in_channels == 768
    assert isinstance(paper.AuxLogits.pool, nn.AvgPool2d)
    assert conv_output_size(17, 5, 3) == 5  # 17×17 → 5×5, which the 5×5 convolution takes to 1×1
    assert InceptionV2.image_size == 299


def test_training_mode_returns_aux_and_eval_mode_logits(paper):
    torch.manual_seed(0)
    paper.train()
    out = paper(torch.randn(2, 3, 299, 299))  # in training mode with AuxLogits, only 299×299
    assert isinstance(out, InceptionOutputs)
    assert out.logits.shape == (2, 1000) and len(out.aux_logits) == 1 and out.aux_logits[0].shape == (2, 1000)
    with pytest.raises(ValueError, match="built for 299×299 images"):
        paper(torch.randn(2, 3, 75, 75))
    paper.eval()
    with torch.no_grad():
        logits = paper(torch.randn(2, 3, 75, 75))  # in eval mode, any size from 75 up
    assert isinstance(logits, torch.Tensor) and logits.shape == (2, 1000)


def test_no_softmax_inside(paper):
    assert not any(isinstance(m, nn.Softmax | nn.LogSoftmax) for m in paper.modules())


def test_without_aux_training_returns_logits_at_any_size():
    m = InceptionV2(num_classes=5, aux_logits=False).train()
    assert m.AuxLogits is None and not m.aux_logits
    assert "AuxLogits" not in {n for n, _ in m.named_children()}
    assert m(torch.randn(2, 3, 75, 75)).shape == (2, 5)


def test_block_level_diagram(paper):
    leaves = (InceptionFig5, InceptionFig6, InceptionFig7, GridReduction, InceptionAuxV2, BasicConv2d)
    text = mermaid_source(flowchart(paper.eval(), leaves=leaves, orientation="LR"))
    assert text.startswith("flowchart LR")
    assert text.count("Inception Fig. 5, 288") == 3
    assert text.count("Inception Fig. 6 n=7, 768") == 5
    assert '"Mixed_6a: grid reduction Fig. 10, 768"' in text and '"Mixed_7a: grid reduction Fig. 10, 1280"' in text
    assert text.count("Inception Fig. 7, 2048") == 2 and '"3×3 conv, 32 /2"' in text and "AuxLogits" not in text
    train_text = mermaid_source(flowchart(paper.train(), leaves=leaves))
    assert "mixed_6f --> aux_logits" in train_text and '"AuxLogits: auxiliary head Fig. 8"' in train_text
    paper.eval()
    assert describe(paper.Mixed_6b, "Mixed_6b") == "Mixed_6b: Inception Fig. 6 n=7, 768"


# --- label smoothing (Sec. 7), written out in inception.losses ---------------------------------------------

def test_smooth_labels_rows():
    from inception.losses import smooth_labels
    q = smooth_labels(torch.tensor([2, 0]), 4, 0.1)
    torch.testing.assert_close(q, torch.tensor([[0.025, 0.025, 0.925, 0.025], [0.925, 0.025, 0.025, 0.025]]))
    torch.testing.assert_close(q.sum(1), torch.ones(2))


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.5])
def test_label_smoothing_equals_pytorch(epsilon):
    from inception.losses import label_smoothing_cross_entropy
    torch.manual_seed(0)
    logits, target = torch.randn(16, 10), torch.randint(0, 10, (16,))
    expected = nn.CrossEntropyLoss(label_smoothing=epsilon)(logits, target)
    torch.testing.assert_close(label_smoothing_cross_entropy(logits, target, epsilon), expected, atol=1e-6, rtol=0)


def test_label_smoothing_rejects_bad_input():
    from inception.losses import label_smoothing_cross_entropy, smooth_labels
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\], got labels from 0 to 4"):
        smooth_labels(torch.tensor([0, 4]), 4)
    with pytest.raises(ValueError, match=r"epsilon must be a number in \[0, 1\), got 1.0"):
        smooth_labels(torch.tensor([0]), 4, 1.0)
    with pytest.raises(ValueError, match=r"expected targets of shape \(2,\)"):
        label_smoothing_cross_entropy(torch.randn(2, 4), torch.tensor([0, 1, 2]))
