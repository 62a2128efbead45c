"""Checkers for chapter 11: from Inception-v2 to Inception-v3, and torchvision's ImageNet weights.

Exercise 11.4 asks for an argument (what RMSProp's ε_RMS = 1.0 does, and where it goes) and has no checker.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
from torch import nn

from inception.exercises.registry import WrongAnswer, exercise, expect_close, expect_equal, expect_module
from inception.inception_v3 import IMAGENET_MEAN, IMAGENET_STD, InceptionV3
from inception.pretrained import deterministic_state_dict

RED_SCALE, RED_SHIFT = IMAGENET_STD[0] / 0.5, (IMAGENET_MEAN[0] - 0.5) / 0.5


def _is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


@exercise("11.1", "transform_input for the red channel", "easy",
          wrong=[(0.229, 0.485), (1 / 0.229, -0.485 / 0.229), (RED_SCALE, -RED_SHIFT), (0.5 / 0.229, RED_SHIFT),
                 RED_SCALE])
def _red_channel(answer):
    if (not isinstance(answer, tuple | list) or len(answer) != 2
            or not all(_is_number(v) for v in answer)):
        raise WrongAnswer(f"expected a pair (scale, shift) of two numbers, got {answer!r}")
    scale, shift = answer
    what = "the scale and shift that take a red value normalized with ImageNet's mean and std to (x − 0.5) / 0.5"
    hint = "write x = x_n · std + mean and put it into (x − 0.5) / 0.5."
    if not math.isclose(scale, RED_SCALE, abs_tol=1e-4):
        raise WrongAnswer(f"expected {what}; the scale {scale!r} is {'too high' if scale > RED_SCALE else 'too low'}."
                          f" Hint: {hint}")
    if not math.isclose(shift, RED_SHIFT, abs_tol=1e-4):
        raise WrongAnswer(f"expected {what}; the scale is right, the shift {shift!r} is not. Hint: {hint}")
    return f"x' = x_n · {RED_SCALE:.3f} + ({RED_SHIFT:.2f}): the red mean is just below 0.5."


def _tf_step(g: float, lr: float = 0.1, decay: float = 0.9, eps: float = 1.0, ms: float = 1.0) -> float:
    ms = decay * ms + (1 - decay) * g * g
    return -lr * g / math.sqrt(ms + eps)


@exercise("11.2", "One step of TensorFlow's RMSProp", "easy",
          wrong=[-0.2 / (math.sqrt(0.4) + 1.0), _tf_step(2.0, ms=0.0), -_tf_step(2.0), -0.2 / math.sqrt(1.3), -0.2])
def _tf_rmsprop_step(answer):
    expected = _tf_step(2.0)
    if _is_number(answer) and answer > 0:
        raise WrongAnswer(f"expected a change against the gradient (negative for a positive gradient); got {answer!r}")
    hint = ("TensorFlow 1 starts the mean square at 1, updates it first (0.9 · 1 + 0.1 · g²), then divides "
            "lr · g by sqrt(mean square + ε_RMS): ε_RMS is inside the root.")
    expect_close(answer, expected, "the change of the parameter after TensorFlow's first RMSProp step", rel=0.01,
                 hint=hint)
    return f"{answer:.4f} = −0.1 · 2 / sqrt(0.9 + 0.4 + 1); PyTorch's RMSprop: {-0.2 / (math.sqrt(0.4) + 1):.4f}."


def _receptive_field(layers) -> int:
    field, jump = 1, 1
    for layer in layers:
        conv = getattr(layer, "conv", layer)
        kernel = conv.kernel_size[0] if isinstance(conv.kernel_size, tuple) else conv.kernel_size
        stride = conv.stride[0] if isinstance(conv.stride, tuple) else conv.stride
        field += (kernel - 1) * jump
        jump *= stride
    return field


RELEASED_STEM = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
                 "maxpool2")


@lru_cache(maxsize=1)
def _released_stem_field() -> int:
    model = InceptionV3(aux_logits=False)
    return _receptive_field(getattr(model, name) for name in RELEASED_STEM)


@exercise("11.3", "What one position of the released stem sees", "medium", wrong=[47, 11, 23, 7, 35])
def _stem_field(answer):
    expected = _released_stem_field()
    expect_equal(answer, expected, "the side of the square of input pixels one position of the released stem's "
                 "35×35 output depends on",
                 hint="go layer by layer: a k×k window adds (k − 1) · jump, and each stride multiplies the jump; "
                      "pools count, 1×1 convolutions add nothing.")
    return f"{answer}×{answer} pixels; Table 1's stem, with three 3×3 after the pool, sees 47×47."


@lru_cache(maxsize=1)
def _imagenet_stand_in() -> dict[str, torch.Tensor]:
    return deterministic_state_dict(InceptionV3())


def _without_buffers() -> nn.Module:
    model = InceptionV3(num_classes=10)
    source = _imagenet_stand_in()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.startswith(("fc.", "AuxLogits.fc.")):
                p.copy_(source[name])
    return model


def _fully_loaded_1000() -> nn.Module:
    model = InceptionV3()
    model.load_state_dict(_imagenet_stand_in())
    return model


CLASSIFIERS = ("fc.", "AuxLogits.fc.")


@exercise("11.5", "ImageNet weights for a 10-class Inception-v3", "medium",
          wrong=[lambda: InceptionV3(num_classes=10), _fully_loaded_1000, _without_buffers, nn.Linear(2048, 10)])
def _transfer(answer):
    model = expect_module(answer, "an InceptionV3 for 10 classes")
    if not isinstance(model, InceptionV3):
        raise WrongAnswer(f"expected an InceptionV3 for 10 classes, got {type(model).__name__}")
    if model.fc.out_features != 10:
        raise WrongAnswer(f"expected a classifier with 10 outputs, got fc with {model.fc.out_features}")
    source = _imagenet_stand_in()
    state = model.state_dict()
    for key, tensor in state.items():
        if key.startswith(CLASSIFIERS):
            continue
        if not torch.equal(tensor, source[key]):
            kind = "a buffer (BN's running statistics count as weights)" if "running" in key else "a parameter"
            raise WrongAnswer(f"expected every tensor but the classifiers' to come from the ImageNet state dict; "
                              f"{key}, {kind}, does not")
    loaded = sum(1 for k in state if not k.startswith(CLASSIFIERS))
    return f"{loaded} tensors loaded; fc and AuxLogits.fc start fresh, with 10 outputs."
