"""Checkers for chapter 9, customizing Inception V2 (``InceptionV2Config``, ``build_inception_v2``).

Exercise 9.4 asks for an argument (why training settings stay out of the configuration) and has no checker.
"""

from __future__ import annotations

from dataclasses import fields, replace

import torch

from inception.cost import count_macs, count_parameters
from inception.customizing import InceptionV2Config, build_inception_v2
from inception.exercises.registry import WrongAnswer, exercise, expect_equal

#: The chapter's CIFAR-like variant (3×32×32, 10 classes), the starting point of exercises 9.1 and 9.2.
CIFAR_LIKE = InceptionV2Config(num_classes=10, image_size=32, stem="small", width=0.25,
                               fig5_modules=2, fig6_modules=2, fig7_modules=1)
#: The chapter's digits variant (1×28×28, 10 classes), the starting point of exercise 9.5.
DIGITS = InceptionV2Config(num_classes=10, in_channels=1, image_size=28, stem="small", width=0.25,
                           fig5_modules=1, fig6_modules=1, fig7_modules=1, aux_logits=False)
PARAMETER_BUDGET = 200_000
MAC_BUDGET = 50_000_000


def _expect_config(answer: object) -> InceptionV2Config:
    if not isinstance(answer, InceptionV2Config):
        raise WrongAnswer(f"expected an InceptionV2Config, got {type(answer).__name__}")
    return answer


@exercise("9.1", "A configuration for CIFAR-100", "easy",
          wrong=[CIFAR_LIKE, replace(CIFAR_LIKE, num_classes=100, in_channels=1),
                 replace(CIFAR_LIKE, num_classes=100, image_size=299, stem="paper"), CIFAR_LIKE.to_dict(),
                 replace(CIFAR_LIKE, num_classes=100, width=1.0, aux_logits=False),
                 replace(CIFAR_LIKE, num_classes=100, fig6_modules=5)])
def check_9_1(answer: object) -> str:
    config = _expect_config(answer)
    expect_equal(config.num_classes, 100, "the number of classes of CIFAR-100")
    expect_equal(config.in_channels, 3, "the number of input channels of a colour image")
    expect_equal(config.image_size, 32, "the image size of CIFAR-100")
    expect_equal(config.stem, "small", "the stem for 32×32 images",
                 hint="the paper's stem needs at least InceptionV2().min_input_size pixels")
    expected = replace(CIFAR_LIKE, num_classes=100)
    changed = [f"{f.name}={getattr(config, f.name)!r} (the variant has {getattr(expected, f.name)!r})"
               for f in fields(InceptionV2Config) if getattr(config, f.name) != getattr(expected, f.name)]
    if changed:
        raise WrongAnswer("expected the CIFAR-like variant with only num_classes changed; got "
                          + ", ".join(changed))
    return "only the classifier changes: num_classes=100, the rest as in the CIFAR-like variant."


def _trainable_after_freezing(config: InceptionV2Config) -> int:
    model = build_inception_v2(config)
    return count_parameters(model.Mixed_7b) + count_parameters(model.fc)


@exercise("9.2", "Trainable parameters after freezing", "easy",
          wrong=[lambda: count_parameters(build_inception_v2(CIFAR_LIKE)),
                 lambda: count_parameters(build_inception_v2(CIFAR_LIKE).Mixed_7b),
                 lambda: count_parameters(build_inception_v2(CIFAR_LIKE).fc),
                 lambda: _trainable_after_freezing(CIFAR_LIKE)
                 + count_parameters(build_inception_v2(CIFAR_LIKE).AuxLogits),
                 lambda: _trainable_after_freezing(replace(CIFAR_LIKE, num_classes=100))])
def check_9_2(answer: object) -> str:
    expected = _trainable_after_freezing(CIFAR_LIKE)
    expect_equal(answer, expected, "the number of parameters that still require a gradient",
                 hint="only the Figure 7 module Mixed_7b and fc train; the auxiliary head is frozen too")
    return f"{expected:,} parameters train: those of Mixed_7b and of the classifier fc."


@exercise("9.3", "A network under a parameter budget", "medium",
          wrong=[DIGITS, replace(DIGITS, width=0.125, fig7_modules=0),
                 lambda: InceptionV2Config(num_classes=10, in_channels=3, image_size=28, stem="small", width=0.125,
                                           fig5_modules=1, fig6_modules=1, fig7_modules=1, aux_logits=False),
                 replace(DIGITS, width=0.125, num_classes=1000)])
def check_9_3(answer: object) -> str:
    config = _expect_config(answer)
    expect_equal(config.num_classes, 10, "10 classes (the digits)")
    expect_equal(config.in_channels, 1, "1 input channel (grey digits)")
    if config.image_size < 28:
        raise WrongAnswer(f"expected a network built for 28×28 digits (image_size=28), "
                          f"got image_size={config.image_size}")
    missing = [name for name in ("fig5_modules", "fig6_modules", "fig7_modules") if getattr(config, name) < 1]
    if missing:
        raise WrongAnswer(f"expected at least one module of each figure, got {', '.join(f'{m}=0' for m in missing)}")
    model = build_inception_v2(config)
    n = count_parameters(model)
    if n > PARAMETER_BUDGET:
        raise WrongAnswer(f"expected at most {PARAMETER_BUDGET:,} parameters, got {n:,}; "
                          "the width multiplier and the auxiliary head are the big levers")
    with torch.no_grad():
        out = model.eval()(torch.zeros(1, 1, 28, 28))
    if tuple(out.shape) != (1, 10):
        raise WrongAnswer(f"expected logits of shape (1, 10) for a 28×28 digit, got {tuple(out.shape)}")
    return f"{n:,} parameters, within the budget of {PARAMETER_BUDGET:,}, with every kind of module."


def _digits_macs(image_size: int) -> int:
    config = replace(DIGITS, image_size=image_size)
    return count_macs(build_inception_v2(config).eval(), (1, 1, image_size, image_size))


@exercise("9.5", "The largest input within a compute budget", "hard",
          wrong=[28, 8, 299, 21, 19, 20.0])
def check_9_5(answer: object) -> str:
    if isinstance(answer, bool) or not isinstance(answer, int) or answer < 7:
        raise WrongAnswer(f"expected an image size in pixels, an int >= 7, got {answer!r}")
    if answer > 64:
        raise WrongAnswer(f"expected a size the small stem is meant for; {answer} pixels is far over the budget")
    macs = _digits_macs(answer)
    if macs > MAC_BUDGET:
        raise WrongAnswer(f"expected at most {MAC_BUDGET:,} multiply-adds; at {answer}×{answer} the network "
                          f"needs {macs:,} (too large an input)")
    bigger = _digits_macs(answer + 1)
    if bigger <= MAC_BUDGET:
        raise WrongAnswer(f"expected the largest size within the budget; {answer + 1}×{answer + 1} also fits "
                          f"({bigger:,} multiply-adds)")
    return f"{answer}×{answer} needs {macs:,} multiply-adds; one pixel more needs {bigger:,}."

