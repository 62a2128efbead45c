"""Tests for inception.factorization (chapter 6) and the chapter's exercise checkers."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from inception.cost import conv2d_cost, module_cost
from inception.exercises import WrongAnswer, check, exercises
from inception.exercises.ch06 import BINOMIAL
from inception.factorization import (
    asymmetric,
    equivalent_kernel,
    fit_equivalent_kernel,
    receptive_field,
    stacked_3x3,
    support_size,
)
from inception.layers import BasicConv2d

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("n, depth", [(5, 2), (7, 3), (9, 4)])
def test_stacked_3x3_depth_and_grid(n, depth):
    stack = stacked_3x3(8, 16, n, mid_channels=4)
    assert list(dict(stack.named_children())) == [f"conv{i + 1}" for i in range(depth)]
    assert all(isinstance(m, BasicConv2d) for m in stack)
    assert stack(torch.randn(2, 8, 13, 11)).shape == (2, 16, 13, 11)
    assert stack[0].out_channels == 4 and stack[-1].out_channels == 16


@pytest.mark.parametrize("n", [3, 5, 7])
def test_asymmetric_kernels_and_grid(n):
    stack = asymmetric(8, 16, n, relu=False)
    assert stack.conv1.kernel_size == (1, n) and stack.conv2.kernel_size == (n, 1)
    assert stack(torch.randn(1, 8, 17, 17)).shape == (1, 16, 17, 17)


def test_savings_match_the_paper():
    five = conv2d_cost(64, 64, 5, 35, padding=2, bias=False)
    two = module_cost(stacked_3x3(64, 64, relu=False), (1, 64, 35, 35))
    assert round(1 - two.macs / five.macs, 2) == 0.28
    three = conv2d_cost(64, 64, 3, 17, padding=1, bias=False)
    asym = module_cost(asymmetric(64, 64, 3, relu=False), (1, 64, 17, 17))
    assert round(1 - asym.macs / three.macs, 2) == 0.33


def test_equivalent_kernel_matches_the_stack():
    torch.manual_seed(0)
    stack = stacked_3x3(3, 4, mid_channels=5, relu=False).double()
    kernel = equivalent_kernel(stack)
    assert kernel.shape == (4, 3, 5, 5)
    x = torch.randn(2, 3, 9, 9, dtype=torch.float64)
    # equal away from the outermost ring: there, padding between the layers differs from padding once
    torch.testing.assert_close(stack(x)[..., 1:-1, 1:-1], F.conv2d(x, kernel, padding=2)[..., 1:-1, 1:-1])
    assert not torch.allclose(stack(x), F.conv2d(x, kernel, padding=2))


def test_equivalent_kernel_of_asymmetric_pair_is_rank_one():
    torch.manual_seed(0)
    stack = asymmetric(1, 1, 5, relu=False)
    kernel = equivalent_kernel(stack)[0, 0].detach()
    torch.testing.assert_close(kernel, torch.outer(stack.conv2.weight.flatten(), stack.conv1.weight.flatten()))
    assert torch.linalg.matrix_rank(kernel) == 1


@pytest.mark.parametrize("stack", [
    stacked_3x3(1, 1),
    nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3, padding=1)),
    nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, bias=False), nn.ReLU(), nn.Conv2d(1, 1, 3, padding=1, bias=False)),
])
def test_equivalent_kernel_rejects_nonlinear_stacks(stack):
    with pytest.raises(ValueError, match="is not linear"):
        equivalent_kernel(stack.eval())


def test_equivalent_kernel_rejects_strided_or_empty_modules():
    with pytest.raises(ValueError, match="stride 1"):
        equivalent_kernel(nn.Conv2d(1, 1, 3, stride=2))
    with pytest.raises(ValueError, match="made of nn.Conv2d"):
        equivalent_kernel(nn.Linear(2, 2))


def test_fit_reaches_the_eckart_young_bound():
    laplacian = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=torch.float64)
    sigma = torch.linalg.svdvals(laplacian)
    one = fit_equivalent_kernel(asymmetric(1, 1, 3, relu=False).double(), laplacian[None, None], steps=50, restarts=2)
    assert one == pytest.approx((sigma[1:].norm() / sigma.norm()).item(), abs=1e-3)
    two_stack = asymmetric(1, 1, 3, mid_channels=2, relu=False).double()
    assert fit_equivalent_kernel(two_stack, laplacian[None, None], steps=50, restarts=2) < 1e-3
    torch.testing.assert_close(equivalent_kernel(two_stack)[0, 0].detach(), laplacian, atol=1e-4, rtol=0)


def test_fit_validates_target():
    stack = stacked_3x3(1, 1, relu=False)
    with pytest.raises(ValueError, match=r"shape of the stack's equivalent kernel \(1, 1, 5, 5\)"):
        fit_equivalent_kernel(stack, torch.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="target must be a torch.Tensor"):
        fit_equivalent_kernel(stack, [[0.0]])


def test_receptive_field_of_two_3x3_is_a_pyramid():
    stack = stacked_3x3(1, 1, relu=False)
    for conv in stack:
        nn.init.ones_(conv.weight)
    field = receptive_field(stack, torch.randn(1, 1, 11, 11))
    assert support_size(field) == (5, 5)
    pyramid = torch.tensor([1.0, 2, 3, 2, 1])
    torch.testing.assert_close(field[3:8, 3:8], torch.outer(pyramid, pyramid))


@pytest.mark.parametrize("module, size", [
    (nn.Conv2d(2, 3, 5, padding=2), (5, 5)),
    (asymmetric(2, 3, 7, relu=False), (7, 7)),
    (stacked_3x3(2, 3, 7, relu=False), (7, 7)),
])
def test_receptive_field_sizes(module, size):
    torch.manual_seed(0)
    assert support_size(receptive_field(module, torch.randn(1, 2, 15, 15))) == size


def test_support_size_of_empty_map():
    assert support_size(torch.zeros(4, 4)) == (0, 0)


@pytest.mark.parametrize("call, message", [
    (lambda: stacked_3x3(4, 4, 4), "odd integer >= 5"),
    (lambda: stacked_3x3(4, 4, 3), "odd integer >= 5"),
    (lambda: asymmetric(4, 4, 2), "odd integer >= 3"),
    (lambda: asymmetric(0, 4), "in_channels must be a positive integer"),
    (lambda: stacked_3x3(4, 4, mid_channels=0), "mid_channels must be a positive integer"),
    (lambda: receptive_field(nn.Conv2d(1, 1, 3), torch.zeros(3, 3)), r"shape \(N, C, H, W\), got \(3, 3\)"),
    (lambda: receptive_field("conv", torch.zeros(1, 1, 3, 3)), "expected a torch.nn.Module"),
    (lambda: support_size(torch.zeros(1, 3, 3)), "expected a 2-D map"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_chapter_6_checkers_reject_every_wrong_answer():
    found = exercises(6)
    assert [e.id for e in found] == ["6.1", "6.2", "6.3", "6.4"]
    for e in found:
        for wrong in e.wrong_answers():
            with pytest.raises(WrongAnswer, match=f"Exercise {e.id}"):
                check(e.id, wrong)


def test_chapter_6_checkers_accept_right_answers(capsys):
    check("6.1", 1 - 14 / 49)
    blur = asymmetric(1, 1, 5, relu=False)
    with torch.no_grad():
        blur.conv1.weight.copy_(BINOMIAL.reshape(1, 1, 1, 5) / 16)
        blur.conv2.weight.copy_(BINOMIAL.reshape(1, 1, 5, 1) / 16)
    check("6.2", blur)
    check("6.3", [1, 2, 3])
    check("6.4", lambda a, b: F.conv_transpose2d(a[None, None], b[None, None])[0, 0])
    assert capsys.readouterr().out.count("✓") == 4
