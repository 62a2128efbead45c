"""Checkers for chapter 10: training Inception on real digits."""

from __future__ import annotations

import math

import torch

from inception.exercises.registry import WrongAnswer, exercise, expect_close, expect_equal

TRAIN_IMAGES = 1_437  # digits_datasets(): 1,797 images, 20% held out, stratified


@exercise("10.1", "Optimizer steps in one epoch", "easy", wrong=[22, 1_437, 29])
def _steps_per_epoch(answer):
    expected = math.ceil(TRAIN_IMAGES / 64)
    expect_equal(answer, expected, "the number of batches of 64 in the 1,437 training images",
                 hint="the last batch is smaller but still counts: round up.")
    return f"{answer} steps: 22 full batches of 64 and a last one of {TRAIN_IMAGES - 22 * 64} images."


@exercise("10.2", "Steps per process under torchrun", "medium", wrong=[45, 22, 12])
def _steps_per_process(answer):
    per_process = math.ceil(TRAIN_IMAGES / 2)  # DistributedSampler pads to an equal share
    expected = math.ceil(per_process / 32)
    expect_equal(answer, expected, "the optimizer steps each of the 2 processes takes in one epoch",
                 hint="each process gets ceil(1437 / 2) images (the sampler repeats one to even the shares), "
                      "then batches of 32.")
    return (f"{answer} steps: each process gets {per_process} images (DistributedSampler pads 1,437 to "
            f"{2 * per_process:,}) and cuts them into batches of 32; the network sees 64 images per step.")


@exercise("10.3", "The linear scaling rule", "medium", wrong=[0.05, 0.00625, 0.1])
def _linear_scaling(answer):
    expected = 0.05 * (8 * 64) / 64
    expect_close(answer, expected, "the learning rate for a global batch of 8 × 64 images", rel=0.01,
                 hint="Goyal et al.: multiply the learning rate by the factor the batch grew by.")
    return f"{answer:g}: the global batch is 8× larger, so is the learning rate (then warm up to it)."


def _top1_only(logits, targets, k):
    return (logits.argmax(1) == targets).float().mean().item()


def _counts_not_fraction(logits, targets, k):
    return (logits.topk(k, dim=1).indices == targets[:, None]).any(1).sum().item()


def _lowest_k(logits, targets, k):
    return (logits.topk(k, dim=1, largest=False).indices == targets[:, None]).any(1).float().mean().item()


@exercise("10.4", "Top-k accuracy", "hard", wrong=[lambda: _top1_only, lambda: _counts_not_fraction,
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
    return "right for k = 1, 3 and 5: top-5 accuracy is the ImageNet figure the papers also report."
