"""Checkers for chapter 6, factorizing convolutions (Szegedy et al. 2016, Sec. 3)."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from inception.exercises.registry import WrongAnswer, exercise, expect_close, expect_equal, expect_module
from inception.factorization import asymmetric, equivalent_kernel

BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
#: The 5×5 binomial smoothing kernel of exercise 6.2 (a close cousin of a Gaussian blur).
SMOOTHING_5X5 = torch.outer(BINOMIAL, BINOMIAL) / 256

#: The three 3×3 kernels of exercise 6.3: a box blur, a sharpening filter, an emboss filter.
KERNELS_6_3 = {
    "box blur": torch.ones(3, 3) / 9,
    "sharpen": torch.tensor([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]),
    "emboss": torch.tensor([[-2.0, -1.0, 0.0], [-1.0, 1.0, 1.0], [0.0, 1.0, 2.0]]),
}


@exercise("6.1", "What 1×7 then 7×1 saves", "easy", wrong=[2 / 7, 1 - 27 / 49, 0.5, 100 * (1 - 2 / 7)])
def check_6_1(answer: object) -> str:
    if isinstance(answer, int | float) and not isinstance(answer, bool) and answer > 1:
        raise WrongAnswer(f"expected a fraction between 0 and 1, got {answer!r}; "
                          "if you computed a percentage, divide it by 100")
    expect_close(answer, 1 - 14 / 49, "the fraction of a 7×7 convolution's multiply-adds that are saved",
                 hint="the savings are 1 minus (cost of the factorized pair) / (cost of the 7×7)")
    return "7 + 7 = 14 weights per channel pair where a 7×7 has 49: 1 − 14/49 ≈ 71% saved."


def _smoothing_stack_scaled(factor: float) -> nn.Module:
    stack = asymmetric(1, 1, 5, relu=False)
    with torch.no_grad():
        stack.conv1.weight.copy_(BINOMIAL.reshape(1, 1, 1, 5) * factor)
        stack.conv2.weight.copy_(BINOMIAL.reshape(1, 1, 5, 1) * factor)
    return stack


def _full_5x5() -> nn.Module:
    conv = nn.Conv2d(1, 1, 5, padding=2, bias=False)
    with torch.no_grad():
        conv.weight.copy_(SMOOTHING_5X5.reshape(1, 1, 5, 5))
    return conv


def _random_stack() -> nn.Module:
    torch.manual_seed(0)
    return asymmetric(1, 1, 5, relu=False)


@exercise("6.2", "A 5×5 blur from a 1×5 and a 5×1", "easy",
          wrong=[_full_5x5, _random_stack, lambda: _smoothing_stack_scaled(1.0), lambda: asymmetric(1, 1, 5)])
def check_6_2(answer: object) -> str:
    stack = expect_module(answer, "a linear stack of a 1×5 and a 5×1 convolution")
    n_params = sum(p.numel() for p in stack.parameters())
    if n_params > 10:
        raise WrongAnswer(f"expected a factorized stack with 5 + 5 = 10 weights, got a module with {n_params} "
                          "parameters; build it with asymmetric(1, 1, 5, relu=False) and set its two weights")
    try:
        with torch.no_grad():
            kernel = equivalent_kernel(copy.deepcopy(stack).float())
    except ValueError as error:
        raise WrongAnswer(f"expected a linear stack (relu=False): {error}") from None
    if tuple(kernel.shape) != (1, 1, 5, 5):
        raise WrongAnswer(f"expected a stack equal to one 5×5 convolution from 1 channel to 1 channel, "
                          f"got one equal to a kernel of shape {tuple(kernel.shape)}")
    error = ((kernel[0, 0] - SMOOTHING_5X5).norm() / SMOOTHING_5X5.norm()).item()
    if error > 1e-4:
        total = kernel.sum().item()
        raise WrongAnswer(f"expected the stack's equivalent 5×5 kernel to be the binomial blur; it is off by "
                          f"{error:.1%} of the blur's size (its weights sum to {total:.4g}; a blur's sum to 1)")
    return "the kernel is separable (rank 1), so 10 weights do the work of 25."


@exercise("6.3", "Which 3×3 kernels a 1×3 then 3×1 can make", "medium",
          wrong=[[1, 1, 1], [1, 2, 2], [3, 3, 3], [1, 3, 3], (1, 2, 3.5)])
def check_6_3(answer: object) -> str:
    expected = [int(torch.linalg.matrix_rank(k)) for k in KERNELS_6_3.values()]
    if not isinstance(answer, list | tuple) or len(answer) != len(expected):
        raise WrongAnswer(f"expected a list of {len(expected)} ints (box blur, sharpen, emboss), got {answer!r}")
    for name, given, right in zip(KERNELS_6_3, answer, expected, strict=True):
        expect_equal(given, right, f"the smallest number of middle channels for the {name} kernel",
                     hint="each middle channel adds one outer product (a rank-1 kernel) to the sum")
    return "the middle width is the kernel's rank: 1 (box blur), 2 (sharpen), 3 (emboss)."


def _compose_correlate(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.conv2d(F.pad(a.reshape(1, 1, 3, 3), (2, 2, 2, 2)), b.reshape(1, 1, 3, 3))[0, 0]


def _compose_outer(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.pad(a * b, (1, 1, 1, 1))


def _compose_reversed(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.conv_transpose2d(a.reshape(1, 1, 3, 3), b.reshape(1, 1, 3, 3))[0, 0].flip(-1, -2)


@exercise("6.4", "The 5×5 kernel of two 3×3 layers", "hard",
          wrong=[lambda: _compose_correlate, lambda: _compose_outer, lambda: _compose_reversed, torch.zeros(5, 5)])
def check_6_4(answer: object) -> str:
    if not callable(answer) or isinstance(answer, nn.Module | torch.Tensor):
        raise WrongAnswer(f"expected a function compose(a, b) of two 3×3 tensors, got {type(answer).__name__}")
    generator = torch.Generator().manual_seed(64)
    for _ in range(3):
        a, b = torch.randn(2, 3, 3, generator=generator, dtype=torch.float64)
        stack = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, bias=False), nn.Conv2d(1, 1, 3, padding=1, bias=False))
        stack = stack.double()
        with torch.no_grad():
            stack[0].weight.copy_(a.reshape(1, 1, 3, 3))
            stack[1].weight.copy_(b.reshape(1, 1, 3, 3))
            expected = equivalent_kernel(stack)[0, 0]
            given = answer(a.clone(), b.clone())
        if not isinstance(given, torch.Tensor) or tuple(given.shape) != (5, 5):
            shape = tuple(given.shape) if isinstance(given, torch.Tensor) else type(given).__name__
            raise WrongAnswer(f"expected compose(a, b) to return a 5×5 tensor, got {shape}")
        if not torch.allclose(given.to(expected.dtype), expected, atol=1e-6):
            hint = ""
            if torch.allclose(given.to(expected.dtype).flip(-1, -2), expected, atol=1e-6):
                hint = " It is the right kernel turned by 180°: conv2d correlates, it does not flip."
            raise WrongAnswer("expected compose(a, b) to equal what conv2d with a, then conv2d with b, computes; "
                              "on random kernels it does not." + hint)
    return "correlating with a, then b, is one correlation with the full convolution of a and b."
