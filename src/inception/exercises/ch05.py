"""Checkers for chapter 5: BN-Inception (Ioffe & Szegedy 2015, Figure 5)."""

from __future__ import annotations

from torch import nn

from inception.bn_inception import FIGURE_5, BNInception, BNInceptionModule, BNInceptionReduction
from inception.cost import conv2d_cost, count_parameters
from inception.exercises.registry import (
    WrongAnswer,
    exercise,
    expect_close,
    expect_equal,
    expect_module,
    run_module,
    seeded_input,
)


def _channels(name: str) -> int:
    return getattr(BNInception(), f"inception{name}").out_channels


@exercise("5.1", "Channels out of module 4c", "easy", wrong=[576, 160 + 160 + 128, 128 + 160 + 160 + 160 + 128])
def _channels_4c(answer):
    expected = _channels("4c")
    expect_equal(answer, expected, "the channels module 4c's filter counts give (Figure 5's row, not its printed "
                 "output size)",
                 hint="add #1×1, #3×3, double #3×3 and the pool projection; reductions are not outputs.")
    return f"{answer} channels: 160 + 160 + 160 + 128. Figure 5 prints 576."


def _ratio() -> float:
    double = conv2d_cost(64, 96, 3, 28, padding=1, bias=False) + conv2d_cost(96, 96, 3, 28, padding=1, bias=False)
    single = conv2d_cost(64, 96, 5, 28, padding=2, bias=False)
    return double.params / single.params


@exercise("5.2", "Double 3×3 against one 5×5 in module 3a", "easy", wrong=[18 / 25, 25 / 18, 1.0])
def _double_ratio(answer):
    expect_close(answer, _ratio(), "the weights of 3a's two 3×3 convolutions (64 → 96 → 96) divided by those of "
                 "one 5×5 convolution from 64 to 96 channels", rel=1e-3,
                 hint="the first 3×3 has 64 input channels, the second 96; 18/25 would hold only if both had the same.")
    return f"{answer:.3f}: the double 3×3 covers the same 5×5 window with about {1 - answer:.0%} fewer weights."


@exercise("5.3", "What the MNIST implementation's stem leaves out", "easy", wrong=[64 * 64, 64 * 64 + 64, 4_224 * 2])
def _mnist_stem(answer):
    expected = count_parameters(BNInception().conv2)
    expect_equal(answer, expected, "the parameters of the stem's 1×1 convolution from 64 to 64 channels with its BN",
                 hint="a convolution followed by BN has no bias; BN learns a scale and a shift per channel.")
    return f"{answer:,} = 64·64 weights + 64 + 64 for BN's γ and β; 14,639,390 − {answer:,} = 14,635,166."


def _module_4e_without_pass_through() -> nn.Module:
    return BNInceptionModule(608, 64, 128, 192, 192, 256, "max", 128)


def _module_4e_stride_1() -> nn.Module:
    class Stride1(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = BNInceptionReduction(608, *FIGURE_5["4e"][1:5])

        def forward(self, x):
            return nn.functional.interpolate(self.inner(x), scale_factor=2)

    return Stride1()


@exercise("5.4", "Build module 4e", "easy",
          wrong=[_module_4e_without_pass_through, _module_4e_stride_1,
                 lambda: BNInceptionReduction(576, *FIGURE_5["4e"][1:5])])
def _build_4e(answer):
    module = expect_module(answer, "module 4e of Figure 5")
    y = run_module(module, seeded_input(2, 608, 14, 14), "a module")
    if tuple(y.shape) != (2, 1056, 7, 7):
        raise WrongAnswer(f"expected an output on a 7×7 grid with the channels the filter counts give, "
                          f"got shape {tuple(y.shape)}")
    expected = count_parameters(BNInception().inception4e)
    expect_equal(count_parameters(module), expected, "the parameter count of Figure 5's 4e (BN after every conv)",
                 hint="4e has no 1×1 branch and no pool projection: its max pool passes all 608 channels through.")
    return f"{expected:,} parameters, 608 → 1056 channels, 14×14 → 7×7."


def _row_of(answer) -> tuple:
    try:
        row = tuple(answer)
    except TypeError:
        raise WrongAnswer(f"expected a row of seven entries like FIGURE_5['4c'], got {type(answer).__name__}") from None
    if len(row) != 7:
        raise WrongAnswer(f"expected a row of seven entries like FIGURE_5['4c'], got {len(row)}")
    return row


# The four counts of Figure 5's row that reach the output (#1×1, #3×3, double #3×3, pool proj), by index.
_OUTPUT_COUNTS = {0: "#1×1", 2: "#3×3", 4: "double #3×3", 6: "pool proj"}


def _single_changes_to_576() -> dict[str, tuple]:
    """Every row that differs from Figure 5's 4c in one count and outputs 576 channels, by the count changed.

    Only the four output counts change the output width (the reductions and the pool type do not), and
    each must drop by 608 − 576 = 32.
    """
    rows = {}
    for i, name in _OUTPUT_COUNTS.items():
        row = list(FIGURE_5["4c"])
        row[i] -= 32
        rows[name] = tuple(row)
    return rows


@exercise("5.5", "A module 4c that outputs the printed 576", "medium",
          wrong=[FIGURE_5["4c"], (160, 96, 160, 128, 160, "avg", 128), (128, 128, 144, 128, 176, "avg", 128),
                 lambda: _single_changes_to_576()["#1×1"], lambda: _single_changes_to_576()["pool proj"]])
def _printed_4c(answer):
    row = _row_of(answer)
    changed = [i for i, (a, b) in enumerate(zip(row, FIGURE_5["4c"], strict=True)) if a != b]
    if len(changed) != 1:
        raise WrongAnswer(f"expected Figure 5's row for 4c with exactly one filter count changed, "
                          f"got {len(changed)} changes")
    try:
        module = BNInceptionModule(576, *row)
    except ValueError as error:
        raise WrongAnswer(f"expected a row BNInceptionModule(576, *row) accepts; it said: {error}") from None
    expect_equal(module.out_channels, 576, "a module whose output has the 576 channels Figure 5 prints",
                 hint="a reduction count (#3×3 reduce, double #3×3 reduce) does not change the output channels.")
    options = {name: count_parameters(BNInceptionModule(576, *r)) for name, r in _single_changes_to_576().items()}
    cheapest = min(options, key=options.get)
    expect_equal(count_parameters(module), options[cheapest],
                 f"the parameters of the cheapest of the {len(options)} single changes that give 576 channels",
                 hint="try each of the four output counts lowered by 32 and compare the modules' parameters.")
    return (f"{options[cheapest]:,} parameters ({cheapest} {FIGURE_5['4c'][changed[0]]} → {row[changed[0]]}), "
            f"the cheapest of {len(options)} single changes.")


__all__: list[str] = []
