"""The one torchinfo table every chapter prints, with the book's fixed columns, at most 100 characters wide."""

from __future__ import annotations

import re
from collections.abc import Sequence

import torchinfo
from torch import nn

from inception.validation import check_choice, check_input_size, check_module, check_positive_int

COLUMNS = ("output_size", "kernel_size", "num_params", "mult_adds")
WIDTH = 100  # characters: the page


def summary(model: nn.Module, input_size: Sequence[int], depth: int = 3, mode: str = "eval",
            **kwargs) -> Summary:
    """A torchinfo summary of ``model`` on an input of ``input_size`` (batch first).

    Columns: output shape, kernel, parameters, multiply-adds; rows are named after the attributes
    (``inception3a``, ``branch2``), as in the paper's tables. The output shapes are printed without the
    batch dimension (``[256, 28, 28]`` is C, H, W), so that the table fits in 100 characters. Use
    ``depth=1`` for a whole network by stage. ``mode="train"`` shows layers that only run in training,
    such as auxiliary classifiers. The text is the same on every machine. Returns a :class:`Summary`:
    the table is its ``str``, it is displayed as the last expression of a cell, and torchinfo's totals
    (``total_params``, ``total_mult_adds``, ...) are its attributes.
    """
    check_module(model)
    size = check_input_size(input_size)
    check_positive_int("depth", depth)
    check_choice("mode", mode, ("eval", "train"))
    options = dict(col_names=COLUMNS, depth=depth, row_settings=("var_names",), verbose=0, device="cpu",
                   mode=mode, col_width=15)
    options.update(kwargs)
    try:
        stats = torchinfo.summary(model, input_size=size, **options)
    except RuntimeError as error:  # torchinfo wraps the network's own message: show that one
        if isinstance(error.__cause__, ValueError):
            raise error.__cause__ from None
        raise
    return Summary(stats)


class Summary:
    """torchinfo's statistics with a clean text form (torchinfo 1.8 prints ``Units.GIGABYTES``)."""

    def __init__(self, stats: torchinfo.ModelStatistics) -> None:
        self.stats = stats
        for layer in stats.summary_list:  # C, H, W: the batch dimension is the same in every row
            layer.output_size = layer.output_size[1:]
        formatting = stats.formatting  # narrower columns when long layer names widen the first one
        formatting.col_width = min(formatting.col_width, (WIDTH - formatting.layer_name_width) // len(COLUMNS))

    def __getattr__(self, name: str):
        return getattr(self.stats, name)

    def __str__(self) -> str:
        text = re.sub(r"Units\.(\w+)", lambda m: torchinfo.Units[m.group(1)].value, str(self.stats))
        return re.sub(r"Output Shape *", _output_header, text, count=1)

    __repr__ = __str__


def _output_header(match: re.Match) -> str:
    width = len(match.group(0))
    return ("Output (C,H,W)" if width >= 15 else "Out (C,H,W)").ljust(width)
