"""The one torchinfo table every chapter prints, with the book's fixed columns."""

from __future__ import annotations

import re
from collections.abc import Sequence

import torchinfo
from torch import nn

from inception.validation import check_input_size, check_module

COLUMNS = ("input_size", "output_size", "kernel_size", "num_params", "mult_adds")


def summary(model: nn.Module, input_size: Sequence[int], depth: int = 3, mode: str = "eval",
            **kwargs) -> Summary:
    """A torchinfo summary of ``model`` on an input of ``input_size`` (batch first).

    Columns: input shape, output shape, kernel, parameters, multiply-adds; rows are named after the
    attributes (``inception3a``, ``branch2``), as in the paper's tables. ``mode="train"`` shows layers
    that only run in training, such as auxiliary classifiers. The text is the same on every machine.
    Returns a :class:`Summary`: the table is its ``str``, it is displayed as the last expression of a
    cell, and torchinfo's totals (``total_params``, ``total_mult_adds``, ...) are its attributes.
    """
    check_module(model)
    size = check_input_size(input_size)
    if mode not in ("eval", "train"):
        raise ValueError(f'mode must be "eval" or "train", got {mode!r}')
    options = dict(col_names=COLUMNS, depth=depth, row_settings=("var_names",), verbose=0, device="cpu",
                   mode=mode, col_width=16)
    options.update(kwargs)
    return Summary(torchinfo.summary(model, input_size=size, **options))


class Summary:
    """torchinfo's statistics with a clean text form (torchinfo 1.8 prints ``Units.GIGABYTES``)."""

    def __init__(self, stats: torchinfo.ModelStatistics) -> None:
        self.stats = stats

    def __getattr__(self, name: str):
        return getattr(self.stats, name)

    def __str__(self) -> str:
        return re.sub(r"Units\.(\w+)", lambda m: torchinfo.Units[m.group(1)].value, str(self.stats))

    __repr__ = __str__
