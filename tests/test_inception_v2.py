"""Inception-v2 (Rethinking the Inception Architecture, Table 1): modules, grids, channels, parameters."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inception.cost import conv2d_cost, count_parameters
from inception.diagrams import flowchart, mermaid_source
from inception.inception_v2 import (
    GridReduction,
    InceptionAuxV2,
    InceptionFig5,
    InceptionFig6,
    InceptionFig7,
    InceptionV2,
    PaperStem,
    SmallStem,
    fig6_reduce_widths,
    grid_sizes,
    smallest_input_size,
)
from inception.layers import BasicConv2d, InceptionOutputs

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def paper():
    torch.manual_seed(0)
    return InceptionV2()


def _bn_conv_params(cin: int, cout: int, kh: int, kw: int) -> int:
    """Weights of a bias-free conv plus BN's γ and β."""
    return conv2d_cost(cin, cout, (kh, kw), 9, padding=(kh // 2, kw // 2), bias=False).params + 2 * cout


def test_fig5_module_shape_and_parameters():
    m = InceptionFig5(288, 64, 48, 64, 64, 96, 64)
    assert m.out_channels == 288
    assert m(torch.randn(2, 288, 35, 35)).shape == (2, 288, 35, 35)
    expected = (_bn_conv_params(288, 64, 1, 1) + _bn_conv_params(288, 48, 1, 1) + _bn_conv_params(48, 64, 3, 3)
                + _bn_conv_params(288, 64, 1, 1) + _bn_conv_params(64, 96, 3, 3) + _bn_conv_params(96, 96, 3, 3)
                + _bn_conv_params(288, 64, 1, 1))
    assert count_parameters(m) == expected == 236_000


def test_fig6_module_factorizes_n_by_n():
    m = InceptionFig6(768, 192, 160, 192, 160, 192, 192, n=7)
    assert m.out_channels == 768
    assert m(torch.randn(1, 768, 17, 17)).shape == (1, 768, 17, 17)
    kernels = [layer.conv.kernel_size for layer in m.branch3 if isinstance(layer, BasicConv2d)]
    assert kernels == [(1, 1), (1, 7), (7, 1), (1, 7), (7, 1)]
    assert count_parameters(m) == 1_691_008
    assert InceptionFig6(8, 2, 2, 2, 2, 2, 2, n=3)(torch.randn(1, 8, 5, 5)).shape == (1, 8, 5, 5)


def test_fig6_rejects_even_n():
    with pytest.raises(ValueError, match="n must be odd.*got n=6"):
        InceptionFig6(768, 192, 160, 192, 160, 192, 192, n=6)


def test_fig7_module_expanded_filter_bank():
    m = InceptionFig7(1280, 320, 384, 384, 448, 384, 192)
    assert m.out_channels == 2048
    assert m(torch.randn(1, 1280, 8, 8)).shape == (1, 2048, 8, 8)
    assert m.branch2a.conv.kernel_size == (1, 3) and m.branch2b.conv.kernel_size == (3, 1)
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


def test_grid_reduction_too_small_input():
    with pytest.raises(ValueError, match="at least 3×3 pixels, got 2×2"):
        GridReduction(8, 2, 2, 2, 2)(torch.randn(1, 8, 2, 2))


def test_aux_head_has_batch_norm_and_gives_logits():
    aux = InceptionAuxV2(768, 1000)
    assert aux.conv0.bn is not None and aux.conv1.bn is not None
    assert aux(torch.randn(2, 768, 17, 17)).shape == (2, 1000)
    assert aux(torch.randn(2, 768, 3, 3)).shape == (2, 1000)  # small grids too (adaptive pool)
    assert count_parameters(aux) == 3_326_696


def test_module_wrong_channels():
    with pytest.raises(ValueError, match="InceptionFig5 expects 288 input channels, got 192"):
        InceptionFig5(288, 64, 48, 64, 64, 96, 64)(torch.randn(1, 192, 35, 35))


def test_paper_stem_grid_and_channels():
    stem = PaperStem()
    out = stem(torch.randn(1, 3, 299, 299))
    assert out.shape == (1, 288, 35, 35)
    sizes = []
    x = torch.randn(1, 3, 299, 299)
    for layer in stem:
        x = layer(x)
        sizes.append(x.shape[-1])
    assert sizes == [149, 147, 147, 73, 71, 35, 35]
    assert [layer.out_channels for layer in stem if isinstance(layer, BasicConv2d)] == [32, 32, 64, 80, 192, 288]
    assert count_parameters(stem) == 711_872


def test_small_stem_keeps_the_grid():
    assert SmallStem(1)(torch.randn(1, 1, 8, 8)).shape == (1, 288, 8, 8)


def test_grid_sizes_and_smallest_inputs():
    assert grid_sizes(299) == {"fig5": 35, "fig6": 17, "fig7": 8}
    assert grid_sizes(32, "small") == {"fig5": 32, "fig6": 15, "fig7": 7}
    assert grid_sizes(28, "small") == {"fig5": 28, "fig6": 13, "fig7": 6}
    assert grid_sizes(8, "small") == {"fig5": 8, "fig6": 3, "fig7": 1}
    assert smallest_input_size("paper") == 75
    assert smallest_input_size("small") == 7
    with pytest.raises(ValueError, match="at least 75×75 pixels, got 74×74"):
        grid_sizes(74)
    with pytest.raises(ValueError, match="stem must be one of"):
        grid_sizes(299, "tiny")


def test_fig6_reduce_widths():
    assert fig6_reduce_widths(5) == [128, 160, 160, 160, 192]
    assert fig6_reduce_widths(4) == [128, 160, 160, 192]  # torchvision's four
    assert fig6_reduce_widths(1) == [128]
    assert fig6_reduce_widths(0) == []


def test_paper_network_grids_and_channels(paper):
    """Table 1 at 299×299: 35×35×288 → 17×17×768 → 8×8×1280 → 8×8×2048 → logits."""
    paper.eval()
    shapes = {}
    hooks = [getattr(paper, name).register_forward_hook(
        lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
        for name in ("stem", "mixed5", "reduction1", "mixed6", "reduction2", "mixed7", "fc")]
    with torch.no_grad():
        out = paper(torch.randn(1, 3, 299, 299))
    for h in hooks:
        h.remove()
    assert out.shape == (1, 1000)
    assert shapes == {"stem": (288, 35, 35), "mixed5": (288, 35, 35), "reduction1": (768, 17, 17),
                      "mixed6": (768, 17, 17), "reduction2": (1280, 8, 8), "mixed7": (2048, 8, 8), "fc": (1000,)}
    assert [len(paper.mixed5), len(paper.mixed6), len(paper.mixed7)] == [3, 5, 2]
    assert all(isinstance(m, InceptionFig6) and m.n == 7 for m in paper.mixed6)


def test_paper_network_parameter_counts(paper):
    assert count_parameters(paper) == 28_820_144
    assert count_parameters(paper) - count_parameters(paper.aux) == 25_493_448
    assert count_parameters(InceptionV2(aux_logits=False)) == 25_493_448
    assert count_parameters(InceptionV2(num_classes=10, in_channels=1, aux_logits=False)) == 25_493_448 - (
        990 * 2049 + 2 * 32 * 9)


def test_training_mode_returns_aux_and_eval_mode_logits(paper):
    x = torch.randn(2, 3, 75, 75)  # the smallest input: fast
    paper.train()
    out = paper(x)
    assert isinstance(out, InceptionOutputs)
    assert out.logits.shape == (2, 1000) and len(out.aux_logits) == 1 and out.aux_logits[0].shape == (2, 1000)
    paper.eval()
    with torch.no_grad():
        logits = paper(x)
    assert isinstance(logits, torch.Tensor) and logits.shape == (2, 1000)


def test_no_softmax_inside():
    assert not any(isinstance(m, nn.Softmax | nn.LogSoftmax) for m in InceptionV2().modules())


def test_without_aux_training_returns_logits():
    m = InceptionV2(num_classes=5, aux_logits=False).train()
    assert m.aux is None and not m.aux_logits
    assert m(torch.randn(2, 3, 75, 75)).shape == (2, 5)


def test_network_rejects_bad_input(paper):
    with pytest.raises(ValueError, match="InceptionV2 expects 3 input channels, got 1"):
        paper(torch.randn(1, 1, 299, 299))
    with pytest.raises(ValueError, match="at least 75×75 pixels, got 74×74"):
        paper(torch.randn(1, 3, 74, 74))
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\)"):
        paper(torch.randn(3, 299, 299))


def test_network_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_classes must be a positive integer, got 0"):
        InceptionV2(num_classes=0)
    with pytest.raises(ValueError, match="dropout must be a number in"):
        InceptionV2(dropout=1.5)


def test_block_level_diagram(paper):
    leaves = (PaperStem, InceptionFig5, InceptionFig6, InceptionFig7, GridReduction, InceptionAuxV2)
    text = mermaid_source(flowchart(paper.eval(), leaves=leaves))
    assert text.count("Inception Fig. 5, 288") == 3
    assert text.count("Inception Fig. 6, n=7, 768") == 5
    assert "Grid reduction Fig. 10, 1280" in text and "Stem Table 1, 288" in text
    paper.train()
    assert "Auxiliary head Fig. 8, 1000" in mermaid_source(flowchart(paper, leaves=leaves))
    paper.eval()


# Label smoothing (Sec. 7), written out in inception.losses

def test_smooth_labels_rows():
    from inception.losses import smooth_labels
    q = smooth_labels(torch.tensor([2, 0]), 4, 0.1)
    assert torch.allclose(q, torch.tensor([[0.025, 0.025, 0.925, 0.025], [0.925, 0.025, 0.025, 0.025]]))
    assert torch.allclose(q.sum(1), torch.ones(2))


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.5])
def test_label_smoothing_equals_pytorch(epsilon):
    from inception.losses import label_smoothing_cross_entropy
    torch.manual_seed(0)
    logits, target = torch.randn(16, 10), torch.randint(0, 10, (16,))
    expected = nn.CrossEntropyLoss(label_smoothing=epsilon)(logits, target)
    assert torch.allclose(label_smoothing_cross_entropy(logits, target, epsilon), expected, atol=1e-6)


def test_label_smoothing_rejects_bad_input():
    from inception.losses import label_smoothing_cross_entropy, smooth_labels
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\], got labels from 0 to 4"):
        smooth_labels(torch.tensor([0, 4]), 4)
    with pytest.raises(ValueError, match=r"epsilon must be in \[0, 1\), got 1.0"):
        smooth_labels(torch.tensor([0]), 4, 1.0)
    with pytest.raises(ValueError, match=r"expected targets of shape \(2,\)"):
        label_smoothing_cross_entropy(torch.randn(2, 4), torch.tensor([0, 1, 2]))
