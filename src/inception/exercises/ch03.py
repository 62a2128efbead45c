"""Checkers for chapter 3: GoogLeNet, its grids, its auxiliary classifiers and its loss."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from inception.cost import count_parameters, grid_sizes, smallest_input_size
from inception.exercises.registry import exercise, expect_close, expect_equal
from inception.googlenet import TABLE1, GoogLeNet, InceptionAux
from inception.layers import InceptionOutputs
from inception.losses import auxiliary_loss


@exercise("3.1", "The grid that enters module 5a", "easy", wrong=[2, 6, 7])
def _grid_5a(answer):
    expected = grid_sizes(GoogLeNet(num_classes=10, aux_logits=False), 96, ["maxpool4"])["maxpool4"]
    expect_equal(answer, expected, "the side of the grid that module 5a receives for a 96×96 input",
                 hint="follow the 7×7/2 convolution and the four 3×3/2 max pools; GoogLeNet's pools round up "
                      "(ceil_mode=True).")
    return f"{answer}×{answer}: 96 → 48 → 24 → 12 → 6 → {answer}."


@exercise("3.2", "Parameters of an auxiliary classifier for ten classes", "easy",
          wrong=[528 * 128 + 2048 * 1024 + 1024 * 10,  # no biases
                 lambda: count_parameters(InceptionAux(512, 10)),  # the head after 4a
                 lambda: count_parameters(InceptionAux(528, 1000))])  # a thousand classes
def _aux_params(answer):
    expected = count_parameters(InceptionAux(TABLE1["4d"].out_channels, 10))
    expect_equal(answer, expected, "the parameter count (weights and biases) of the auxiliary classifier after "
                 "module 4d, for 10 classes",
                 hint="a 1×1 convolution from 4d's output channels to 128, a fully connected layer from "
                      "128·4·4 to 1024, and one from 1024 to the classes; each with biases.")
    return f"{answer:,} parameters, {2048 * 1024 + 1024:,} of them in the first fully connected layer."


def loss_exercise_outputs() -> tuple[InceptionOutputs, torch.Tensor]:
    """The outputs and targets of exercise 3.3 (the same tensors the exercise's text builds)."""
    g = torch.Generator().manual_seed(3)
    logits, aux1, aux2 = (torch.randn(4, 10, generator=g) for _ in range(3))
    return InceptionOutputs(logits, (aux1, aux2)), torch.tensor([3, 1, 4, 1])


def _losses() -> tuple[float, float, float]:
    outputs, target = loss_exercise_outputs()
    main = F.cross_entropy(outputs.logits, target).item()
    aux1, aux2 = (F.cross_entropy(a, target).item() for a in outputs.aux_logits)
    return main, aux1, aux2


@exercise("3.3", "GoogLeNet's training loss", "easy",
          wrong=[lambda: sum(_losses()), lambda: _losses()[0], lambda: sum(_losses()) / 3,
                 lambda: _losses()[0] + 0.3 * _losses()[1],
                 lambda: _losses()[0] + 0.6 * _losses()[1],  # one auxiliary loss counted twice: 4.7177
                 lambda: _losses()[0] + 0.6 * _losses()[2]])  # the other one twice: 4.6966
def _training_loss(answer):
    outputs, target = loss_exercise_outputs()
    expected = auxiliary_loss(outputs, target).item()
    # the two auxiliary losses differ by 1.3%, so a wrong combination lands 0.2% from the answer (4.7071)
    expect_close(answer, expected, "the main cross-entropy plus 0.3 times each auxiliary cross-entropy",
                 rel=1e-4, hint="three F.cross_entropy terms; only the two auxiliary ones are weighted by 0.3.")
    return f"{answer:.4f}: the main loss plus 0.3 × the loss of each of the two auxiliary heads."


def _min_size_with_torchvision_pool() -> int:
    net = GoogLeNet(num_classes=10, aux_logits=False)
    net.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
    return smallest_input_size(net, net.in_channels)


@exercise("3.5", "The smallest input with torchvision's last pool", "hard", wrong=[31, 16, 14])
def _min_size(answer):
    expect_equal(answer, _min_size_with_torchvision_pool(),
                 "the smallest square input a GoogLeNet accepts when its last max pool is 2×2/2 (ceil mode)",
                 hint="work backwards from the last pool: the smallest grid each pool accepts, then the "
                      "smallest grid that produces it, back to the 7×7/2 convolution.")
    return f"{answer}×{answer}: a 2×2 pool accepts a 1×1 grid, which halves the size the network needs."
