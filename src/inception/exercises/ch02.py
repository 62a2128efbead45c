"""Checkers for chapter 2: the Inception module, naive and with 1×1 reductions."""

from __future__ import annotations

from inception.cost import conv2d_cost, module_cost
from inception.exercises.registry import WrongAnswer, exercise, expect_equal
from inception.googlenet import TABLE1, Inception, NaiveInception


@exercise("2.1", "Channels out of module 3b", "easy",
          wrong=[128 + 192 + 96, 128 + 192 + 96 + 256, 128 + 128 + 192 + 32 + 96 + 64])
def _channels_3b(answer):
    expected = TABLE1["3b"].out_channels
    expect_equal(answer, expected, "the number of channels module 3b's concatenation outputs",
                 hint="add the outputs of the four branches; a 1×1 reduction feeds a branch, it is not an output, "
                      "and the pool branch ends in its projection.")
    return f"{answer} channels: 128 (1×1) + 192 (3×3) + 96 (5×5) + 64 (pool projection)."


@exercise("2.2", "Three naive modules in a row", "easy", wrong=[416, 3 * 224, 192 + 2 * 224])
def _naive_growth(answer):
    channels = 192
    for _ in range(3):
        channels = NaiveInception(channels, 64, 128, 32).out_channels
    expect_equal(answer, channels, "the channels after three naive modules with 3a's filters, starting from 192",
                 hint="each naive module passes all its input channels through the pool branch and adds its "
                      "convolutions' filters.")
    return f"{answer} channels: each naive module adds its 64 + 128 + 32 = 224 filters to its input's."


def _macs_saved_4a() -> int:
    c = TABLE1["4a"]
    direct = conv2d_cost(c.in_channels, c.ch5x5, 5, 14, padding=2).macs
    reduction = conv2d_cost(c.in_channels, c.ch5x5red, 1, 14).macs
    reduced = reduction + conv2d_cost(c.ch5x5red, c.ch5x5, 5, 14, padding=2).macs
    return direct - reduced


@exercise("2.3", "What the reduction saves in module 4a's 5×5 branch", "medium",
          wrong=[lambda: _macs_saved_4a() * 4,  # on a 28×28 grid
                 lambda: conv2d_cost(480, 48, 5, 14, padding=2).macs,  # the direct cost, not the saving
                 lambda: (480 * 48 * 25 - 480 * 16 - 16 * 48 * 25) * 14 * 14 + 1])
def _macs_saved(answer):
    expect_equal(answer, _macs_saved_4a(),
                 "the multiply-adds per image of a direct 5×5 convolution (480 → 48 channels, 14×14 grid) minus "
                 "those of the 1×1 reduction to 16 channels followed by the 5×5 convolution (16 → 48)",
                 hint="compute the three costs with conv2d_cost (biases included, padding 2 for the 5×5) on the "
                      "14×14 grid of stage 4.")
    return f"{answer:,} multiply-adds saved per image, in one branch of one module."


def _config_of(answer) -> tuple[int, ...]:
    try:
        values = tuple(answer)
    except TypeError:
        values = ()
    if len(values) != 6 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
        raise WrongAnswer(f"expected six positive ints (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj), "
                          f"got {answer!r}")
    return values


@exercise("2.4", "A cheaper module with 3a's output", "medium",
          wrong=[tuple(TABLE1["3a"])[1:], (64, 96, 128, 16, 32, 31), (64, 64, 128, 16, 32, 32, 0)])
def _cheaper_module(answer):
    config = _config_of(answer)
    block = Inception(192, *config)
    expect_equal(block.out_channels, 256, "a module whose output has 256 channels (as 3a's)",
                 hint="the output channels are ch1x1 + ch3x3 + ch5x5 + pool_proj.")
    macs = module_cost(block, (1, 192, 28, 28)).macs
    if macs >= 100_000_000:
        raise WrongAnswer(f"expected under 100,000,000 multiply-adds per image on 192 × 28 × 28, got {macs:,}. "
                          "Hint: the 3×3 convolution dominates; shrink its reduction, or move channels to the "
                          "cheap 1×1 branch.")
    original = module_cost(Inception(*TABLE1["3a"]), (1, 192, 28, 28)).macs
    return f"256 channels for {macs:,} multiply-adds per image, {macs / 1e6:.1f}M against 3a's {original / 1e6:.1f}M."
