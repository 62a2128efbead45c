"""Checkers for chapter 8: Inception-v2, the whole network, its auxiliary head and label smoothing.

Exercise 8.5 asks for an argument (why the auxiliary head is a regularizer) and has no checker.
"""

from __future__ import annotations

import math

import torch

from inception.cost import count_parameters, grid_sizes
from inception.customizing import InceptionV2Config, build_inception_v2
from inception.exercises.registry import WrongAnswer, exercise, expect_close, expect_equal
from inception.inception_v2 import InceptionV2
from inception.losses import smooth_labels


@exercise("8.1", "The smoothed target of the true class", "easy", wrong=[0.9, 0.1, 0.01, 1.0])
def _smoothed_true_class(answer):
    expected = smooth_labels(torch.tensor([0]), 10, 0.1)[0, 0].item()
    expect_close(answer, expected, "the probability the smoothed target gives the true class, K = 10, ε = 0.1",
                 rel=1e-4, hint="q'(k) = (1 − ε)·δ(k, y) + ε/K: the true class also gets its share ε/K of the "
                                "uniform part.")
    return f"{answer:.2f} = 1 − 0.1 + 0.1/10; each of the other nine classes gets 0.01."


@exercise("8.2", "The 8×8 grid of a 150-pixel image", "easy", wrong=[8, 4, 2])
def _grid_at_150(answer):
    expected = grid_sizes(InceptionV2(aux_logits=False), 150, ["Mixed_7a"])["Mixed_7a"]
    expect_equal(answer, expected, "the side of the grid the Figure 7 modules see for a 150×150 input",
                 hint="follow the stem row by row with floor((n + 2p − k) / s) + 1, then the two unpadded 3×3/2 "
                      "reductions; inception.cost.conv_output_size does one step.")
    return f"{answer}×{answer}: 150 → 74 → 72 → 72 → 35 → 33 → 16 → 16 in the stem, then 7 and {answer}."


def _params_10_classes(aux: bool) -> int:
    return count_parameters(InceptionV2(num_classes=10, aux_logits=aux))


@exercise("8.3", "Parameters of a 10-class Inception-v2", "easy",
          wrong=[25_493_448, 28_820_144, lambda: _params_10_classes(True), lambda: _params_10_classes(False) - 10])
def _params_10(answer):
    expect_equal(answer, _params_10_classes(False),
                 "the parameters of the paper's network with 10 classes and without its auxiliary head",
                 hint="only the classifier depends on the number of classes (2048 inputs, one bias per class); "
                      "leave the auxiliary head out, it is discarded at inference.")
    return f"{answer:,} parameters: the 1000-class network has 990 · 2049 more in its classifier."


@exercise("8.4", "The logit gap label smoothing aims at", "easy",
          wrong=[math.log(0.9 / 0.1), math.log(9001), math.inf, 0.91 / 0.01])
def _optimal_gap(answer):
    expected = math.log((0.9 + 0.01) / 0.01)
    if isinstance(answer, int | float) and not isinstance(answer, bool) and math.isinf(answer):
        raise WrongAnswer("expected a finite gap: without smoothing the loss keeps falling as the gap grows, "
                          "with smoothing it has a minimum; got inf")
    expect_close(answer, expected, "the gap between the true class's logit and the others' that minimizes the "
                 "smoothed loss, K = 10, ε = 0.1", rel=1e-3,
                 hint="at the minimum the softmax equals the smoothed target, so the gap is the log of the ratio "
                      "of the true class's target to another class's.")
    return f"{answer:.3f} = log(0.91 / 0.01): beyond it, a more confident network pays a higher loss."


def _digits_config(**changes) -> InceptionV2Config:
    options = dict(num_classes=10, in_channels=1, image_size=28, stem="small", width=0.15)
    options.update(changes)
    return InceptionV2Config(**options)


@exercise("8.6", "A million-parameter Inception-v2 for 28×28 digits", "medium",
          wrong=[lambda: _digits_config(width=1.0), lambda: _digits_config(in_channels=3),
                 lambda: _digits_config(fig6_modules=1), lambda: _digits_config(image_size=8),
                 lambda: InceptionV2Config()])
def _digits_network(answer):
    if not isinstance(answer, InceptionV2Config):
        raise WrongAnswer(f"expected an InceptionV2Config, got {type(answer).__name__}")
    for field, value in (("num_classes", 10), ("in_channels", 1), ("image_size", 28)):
        given = getattr(answer, field)
        if given != value:
            raise WrongAnswer(f"expected {field} for 28×28 grey digits of 10 classes; got {field}={given!r}")
    depth = (answer.fig5_modules, answer.fig6_modules, answer.fig7_modules)
    if depth != (3, 5, 2) or answer.fig6_n != 7:
        raise WrongAnswer(f"expected Table 1's module counts, 3, 5 and 2 modules with n = 7; got {depth} and "
                          f"n = {answer.fig6_n}")
    model = build_inception_v2(answer)
    n = count_parameters(model)
    if n >= 1_000_000:
        raise WrongAnswer(f"expected fewer than 1,000,000 parameters, auxiliary head included; got {n:,}")
    with torch.no_grad():
        y = model.eval()(torch.zeros(2, 1, 28, 28))
    if tuple(y.shape) != (2, 10):
        raise WrongAnswer(f"expected logits of shape (2, 10), got {tuple(y.shape)}")  # pragma: no cover
    return f"{n:,} parameters, Table 1's module counts, logits (N, 10) for 28×28 digits."
