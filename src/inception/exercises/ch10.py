"""Checkers for chapter 10: training Inception on real digits."""

from __future__ import annotations

import math
import statistics

import torch

from inception.exercises.registry import WrongAnswer, exercise, expect_close, expect_equal

TRAIN_IMAGES = 1_077  # digits_splits(): the training images of chapter 10 (1,797 less 360 + 360 held out)
CLI_TRAIN_IMAGES = 1_437  # digits_datasets(), what python -m inception.train trains on: training + validation


@exercise("10.1", "Optimizer steps in one epoch", "easy", wrong=[16, 1_077, 23, 53])
def _steps_per_epoch(answer):
    expected = math.ceil(TRAIN_IMAGES / 64)
    full = TRAIN_IMAGES // 64
    expect_equal(answer, expected, "the number of batches of 64 in the 1,077 training images",
                 hint="the last batch is smaller but still counts: round up.")
    return f"{answer} steps: {full} full batches of 64 and a last one of {TRAIN_IMAGES - full * 64} images."


@exercise("10.2", "Steps per process under torchrun", "medium", wrong=[45, 22, 12])
def _steps_per_process(answer):
    per_process = math.ceil(CLI_TRAIN_IMAGES / 2)  # DistributedSampler pads to an equal share
    expected = math.ceil(per_process / 32)
    expect_equal(answer, expected, "the optimizer steps each of the 2 processes takes in one epoch",
                 hint="each process gets ceil(1437 / 2) images (the sampler repeats one to even the shares), "
                      "then batches of 32.")
    return (f"{answer} steps: {per_process} images per process (1,437 padded to {2 * per_process:,}), "
            "in batches of 32.")


@exercise("10.3", "The linear scaling rule", "medium", wrong=[0.05, 0.00625, 0.1])
def _linear_scaling(answer):
    expected = 0.05 * (8 * 64) / 64
    expect_close(answer, expected, "the learning rate for a global batch of 8 × 64 images", rel=0.01,
                 hint="Goyal et al.: multiply the learning rate by the factor the batch grew by.")
    return f"{answer:g}: the global batch is 8× larger, and so is the learning rate (then warm up)."


# Exercise 10.4: correct validation images (of 360) of two settings, three seeds each.
SEED_RUNS = {"A": (266, 250, 259), "B": (241, 251, 235)}


def _welch_t(a, b):
    return (statistics.mean(a) - statistics.mean(b)) / math.sqrt(
        statistics.variance(a) / len(a) + statistics.variance(b) / len(b))


def _t_with_population_variance():
    a, b = SEED_RUNS["A"], SEED_RUNS["B"]
    return (statistics.mean(a) - statistics.mean(b)) / math.sqrt(
        statistics.pvariance(a) / len(a) + statistics.pvariance(b) / len(b))


def _t_without_dividing_by_n():
    a, b = SEED_RUNS["A"], SEED_RUNS["B"]
    return (statistics.mean(a) - statistics.mean(b)) / math.sqrt(statistics.variance(a) + statistics.variance(b))


def _difference_over_summed_spreads():
    a, b = SEED_RUNS["A"], SEED_RUNS["B"]
    return (statistics.mean(a) - statistics.mean(b)) / (statistics.stdev(a) + statistics.stdev(b))


def _gap_in_images():
    return statistics.mean(SEED_RUNS["A"]) - statistics.mean(SEED_RUNS["B"])


def _gap_as_fraction():
    return _gap_in_images() / 360


def _fraction_over_images():
    a, b = SEED_RUNS["A"], SEED_RUNS["B"]
    return _welch_t(a, b) / 360


@exercise("10.4", "Larger than the noise?", "medium",
          wrong=[_t_with_population_variance, _t_without_dividing_by_n, _difference_over_summed_spreads,
                 _fraction_over_images, _gap_in_images, _gap_as_fraction])
def _seeds_and_noise(answer):
    a, b = SEED_RUNS["A"], SEED_RUNS["B"]
    expected = _welch_t(a, b)
    difference = statistics.mean(a) - statistics.mean(b)
    if isinstance(answer, int | float) and not isinstance(answer, bool):
        answer = abs(answer)  # A - B or B - A: the same evidence
    expect_close(answer, expected, "the difference of the two means divided by its standard error", rel=0.02,
                 hint="the standard error of a mean of n runs is s / sqrt(n), with the sample standard deviation "
                      "s (divide by n - 1); that of a difference of two means adds the squares: "
                      "sqrt(s_A**2 / n + s_B**2 / n).")
    error = difference / expected
    return (f"{expected:.1f}: a gap of {difference:.0f} images, {expected:.1f} times its standard error of "
            f"{error:.1f} images.")


def _top1_only(logits, targets, k):
    return (logits.argmax(1) == targets).float().mean().item()


def _counts_not_fraction(logits, targets, k):
    return (logits.topk(k, dim=1).indices == targets[:, None]).any(1).sum().item()


def _lowest_k(logits, targets, k):
    return (logits.topk(k, dim=1, largest=False).indices == targets[:, None]).any(1).float().mean().item()


@exercise("10.6", "Top-k accuracy", "medium", wrong=[lambda: _top1_only, lambda: _counts_not_fraction,
                                                   lambda: _lowest_k, 0.9])
def _top_k_accuracy(answer):
    if not callable(answer):
        raise WrongAnswer(f"expected a function top_k_accuracy(logits, targets, k), got {type(answer).__name__}")
    g = torch.Generator().manual_seed(10)
    logits = torch.randn(200, 10, generator=g)
    targets = torch.randint(0, 10, (200,), generator=g)
    for k in (1, 3, 5):
        expected = (logits.topk(k, dim=1).indices == targets[:, None]).any(1).float().mean().item()
        try:
            given = answer(logits, targets, k)
        except Exception as error:  # the student's function failed on a valid input
            raise WrongAnswer(f"expected a function that takes (logits (200, 10), targets (200,), k={k}); "
                              f"it raised {error!r}") from None
        expect_close(given, expected, f"the fraction of the 200 targets among the {k} largest logits", rel=0.01,
                     hint="logits.topk(k, dim=1).indices, then compare with targets[:, None].")
    return "right for k = 1, 3 and 5: top-5 is the figure the papers report on ImageNet."
