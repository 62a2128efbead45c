"""Inception-v2 variants: one configuration dataclass and the builder that assembles it from the blocks.

:class:`~inception.inception_v2.InceptionV2` is the paper's network written out. Here the same blocks
(:mod:`inception.inception_v2`) are assembled from an :class:`InceptionV2Config`: a small stem for small
images, a width multiplier, other numbers of modules per stage, another n for Figure 6. The default
configuration builds exactly ``InceptionV2()``: the same module names, parameters and outputs (tested).
Training settings (auxiliary-loss weight, label smoothing, optimizer) are not part of a network's
configuration; they live in :mod:`inception.recipes`.

    >>> model = build_inception_v2(InceptionV2Config(num_classes=10, in_channels=1, image_size=8,
    ...                                              stem="small", width=0.25))   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from inception.cost import grid_sizes, smallest_input_size
from inception.inception_v2 import (
    GridReduction,
    InceptionAuxV2,
    InceptionFig5,
    InceptionFig6,
    InceptionFig7,
    conv_bn,
)
from inception.layers import InceptionOutputs
from inception.validation import (
    check_choice,
    check_count,
    check_flag,
    check_image_batch,
    check_positive,
    check_positive_int,
    check_probability,
)

STEMS = ("paper", "small")

# Branch widths before the width multiplier: those of InceptionV2 (mostly the released Inception-v3's).
STEM_CHANNELS = (32, 32, 64, 80, 192, 288)
FIG5_WIDTHS = (64, 48, 64, 64, 96, 64)           # 1×1 | 1×1 → 3×3 | 1×1 → 3×3 → 3×3 | pool → 1×1: 288 out
REDUCTION1_WIDTHS = (192, 384, 64, 96)           # 1×1 → 3×3/2 | 1×1 → 3×3 → 3×3/2 | pool: 288 + 480 = 768 out
FIG6_REDUCE = (128, 160, 192)                    # the 1×n reduce width: first module, middle ones, last
FIG6_WIDTHS = (192, 192, 192, 192)               # 1×1 | ... → n×1 | ... → n×1 | pool → 1×1: 768 out
REDUCTION2_WIDTHS = (192, 320, 192, 192)         # 768 + 512 = 1280 out
FIG7_WIDTHS = (320, 384, 384, 448, 384, 192)     # 320 + 2·384 + 2·384 + 192 = 2048 out
AUX_WIDTHS = (128, 768)
ALL_WIDTHS = STEM_CHANNELS + FIG5_WIDTHS + REDUCTION1_WIDTHS + FIG6_REDUCE + FIG6_WIDTHS + REDUCTION2_WIDTHS \
    + FIG7_WIDTHS + AUX_WIDTHS


def scale_width(channels: int, width: float) -> int:
    """``channels`` times the width multiplier, rounded half up (0.5 → 1)."""
    return int(channels * width + 0.5)


def fig6_reduce_widths(count: int) -> list[int]:
    """The 1×1 reduce width of each of ``count`` Figure 6 modules: 128 first, 192 last, 160 between."""
    first, middle, last = FIG6_REDUCE
    return [first, *[middle] * (count - 2), last][:count] if count > 1 else [first] * count


@dataclass(frozen=True)
class InceptionV2Config:
    """Every setting of an Inception-v2 variant; the defaults are the paper's network (Table 1).

    Attributes:
        num_classes: outputs of the classifier (1000 for ImageNet).
        in_channels: channels of the input image (3 for RGB, 1 for grey digits).
        image_size: the side of the square images the network is built for (299 in the paper). The
            auxiliary head is built for it (and in training mode accepts only it); in eval mode the
            network accepts any input of at least its ``min_input_size``.
        stem: ``"paper"`` (Table 1's stem, 299 px → 35×35) or ``"small"`` (the same six convolutions, all
            padded and of stride 1, and no pool: the grid keeps the input's size; for 8 to 64 px images).
        width: multiplier of every channel count (0.5 halves every layer); each count is rounded half up
            and must stay at least 1.
        fig5_modules, fig6_modules, fig7_modules: how many modules of Figures 5, 6 and 7 (3, 5, 2).
        fig6_n: the n of Figure 6's 1×n, n×1 factorization (7 on the 17×17 grid); odd.
        aux_logits: build the auxiliary head of Figure 8 (it runs only in training mode).
        dropout: dropout probability before the classifier (0.5, torchvision's value for Inception-v3).
    """

    num_classes: int = 1000
    in_channels: int = 3
    image_size: int = 299
    stem: str = "paper"
    width: float = 1.0
    fig5_modules: int = 3
    fig6_modules: int = 5
    fig7_modules: int = 2
    fig6_n: int = 7
    aux_logits: bool = True
    dropout: float = 0.5

    def __post_init__(self) -> None:
        for name in ("num_classes", "in_channels", "image_size"):
            check_positive_int(f"InceptionV2Config.{name}", getattr(self, name))
        for name in ("fig5_modules", "fig6_modules", "fig7_modules"):
            check_count(f"InceptionV2Config.{name}", getattr(self, name))
        check_choice("InceptionV2Config.stem", self.stem, STEMS)
        check_flag("InceptionV2Config.aux_logits", self.aux_logits)
        check_probability("InceptionV2Config.dropout", self.dropout)
        check_positive_int("InceptionV2Config.fig6_n", self.fig6_n)
        if self.fig6_n % 2 == 0:
            raise ValueError(f"InceptionV2Config.fig6_n must be odd (7 in the paper), got {self.fig6_n}")
        check_positive("InceptionV2Config.width", self.width)
        narrowest = min(ALL_WIDTHS)
        if scale_width(narrowest, self.width) < 1:
            raise ValueError(f"InceptionV2Config.width={self.width!r} rounds the narrowest layer ({narrowest} "
                             f"channels) to 0; expected width >= {0.5 / narrowest:g}")

    def to_dict(self) -> dict:
        """The configuration as a plain dict (JSON-ready), e.g. to save next to a checkpoint."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> InceptionV2Config:
        """Rebuild a configuration from :meth:`to_dict`'s output; unknown keys are a ``ValueError``."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a dict of InceptionV2Config fields, got {type(data).__name__}")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown InceptionV2Config fields {unknown}; expected some of "
                             f"{[f.name for f in fields(cls)]}")
        return cls(**data)


def stem_layers(stem: str, in_channels: int, channels: tuple[int, ...]) -> dict[str, nn.Module]:
    """The stem's layers by torchvision's names: Table 1's (``"paper"``) or the stride-1 ``"small"`` one."""
    c1, c2, c3, c4, c5, c6 = channels
    if check_choice("stem", stem, STEMS) == "small":
        return {"Conv2d_1a_3x3": conv_bn(in_channels, c1, 3, padding=1), "Conv2d_2a_3x3": conv_bn(c1, c2, 3, padding=1),
                "Conv2d_2b_3x3": conv_bn(c2, c3, 3, padding=1), "Conv2d_3a_3x3": conv_bn(c3, c4, 3, padding=1),
                "Conv2d_3b_3x3": conv_bn(c4, c5, 3, padding=1), "Conv2d_4a_3x3": conv_bn(c5, c6, 3, padding=1)}
    return {"Conv2d_1a_3x3": conv_bn(in_channels, c1, 3, stride=2), "Conv2d_2a_3x3": conv_bn(c1, c2, 3),
            "Conv2d_2b_3x3": conv_bn(c2, c3, 3, padding=1), "maxpool1": nn.MaxPool2d(3, stride=2),
            "Conv2d_3a_3x3": conv_bn(c3, c4, 3), "Conv2d_3b_3x3": conv_bn(c4, c5, 3, stride=2),
            "Conv2d_4a_3x3": conv_bn(c5, c6, 3, padding=1)}


def _stage(prefix: str, blocks: list[nn.Module]) -> dict[str, nn.Module]:
    """``Mixed_5b``, ``Mixed_5c``, …: torchvision's names for the modules of one stage."""
    return {f"{prefix}{chr(ord('b') + i)}": block for i, block in enumerate(blocks)}


def _body(config: InceptionV2Config) -> tuple[dict[str, nn.Module], dict[str, nn.Module], int]:
    """The layers before the auxiliary head, those after it, and the channels the head reads."""
    def w(*channels: int) -> list[int]:
        return [scale_width(c, config.width) for c in channels]

    before = stem_layers(config.stem, config.in_channels, tuple(w(*STEM_CHANNELS)))
    c = scale_width(STEM_CHANNELS[-1], config.width)
    fig5: list[InceptionFig5] = []  # each module reads the previous one's channels (rounding may differ)
    for _ in range(config.fig5_modules):
        fig5.append(InceptionFig5(fig5[-1].out_channels if fig5 else c, *w(*FIG5_WIDTHS)))
    before.update(_stage("Mixed_5", fig5))
    before["Mixed_6a"] = GridReduction(fig5[-1].out_channels if fig5 else c, *w(*REDUCTION1_WIDTHS))
    c = before["Mixed_6a"].out_channels
    c1, cn, cd, cp = w(*FIG6_WIDTHS)
    fig6: list[InceptionFig6] = []
    for r in w(*fig6_reduce_widths(config.fig6_modules)):
        fig6.append(InceptionFig6(fig6[-1].out_channels if fig6 else c, c1, r, cn, r, cd, cp, n=config.fig6_n))
    before.update(_stage("Mixed_6", fig6))
    c = fig6[-1].out_channels if fig6 else c
    after = {"Mixed_7a": GridReduction(c, *w(*REDUCTION2_WIDTHS))}
    c7 = after["Mixed_7a"].out_channels
    fig7 = []
    for _ in range(config.fig7_modules):
        fig7.append(InceptionFig7(fig7[-1].out_channels if fig7 else c7, *w(*FIG7_WIDTHS)))
    after.update(_stage("Mixed_7", fig7))
    return before, after, c


class InceptionV2Variant(nn.Module):
    """An Inception-v2 assembled from an :class:`InceptionV2Config`, with ``InceptionV2``'s module names.

    The layers run in the order they were registered; the auxiliary head ``AuxLogits`` reads the last
    17×17 module (``Mixed_6f`` in the paper's layout) and runs only in training mode.
    """

    def __init__(self, config: InceptionV2Config) -> None:
        super().__init__()
        if not isinstance(config, InceptionV2Config):
            raise ValueError(f"expected an InceptionV2Config, got {type(config).__name__}")
        self.config = config
        self.in_channels = config.in_channels
        before, after, aux_channels = _body(config)
        for name, layer in before.items():
            self.add_module(name, layer)
        self.register_module("AuxLogits", None)  # built below, once the grid it reads is measured
        for name, layer in after.items():
            self.add_module(name, layer)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(config.dropout)
        self.num_features = list(after.values())[-1].out_channels
        self.fc = nn.Linear(self.num_features, config.num_classes)
        self.before_aux, self.after_aux = list(before), list(after)

        self.min_input_size = smallest_input_size(self, config.in_channels)
        if config.image_size < self.min_input_size:
            hint = ' (or stem="small", which accepts much smaller images)' if config.stem == "paper" else ""
            raise ValueError(f"InceptionV2Config.image_size={config.image_size} is too small for this network: "
                             f"expected image_size >= {self.min_input_size}{hint}")
        if config.aux_logits:
            grid = grid_sizes(self, config.image_size, [self.before_aux[-1]])[self.before_aux[-1]]
            self.AuxLogits = InceptionAuxV2(aux_channels, config.num_classes, grid,
                                            *(scale_width(c, config.width) for c in AUX_WIDTHS))

    def forward(self, x: torch.Tensor) -> torch.Tensor | InceptionOutputs:
        train_size = self.config.image_size if self.training and self.AuxLogits is not None else None
        check_image_batch(x, self.in_channels, self.min_input_size, "InceptionV2Variant", train_size)
        for name in self.before_aux:
            x = self.get_submodule(name)(x)
        aux = self.AuxLogits(x) if self.AuxLogits is not None and self.training else None
        for name in self.after_aux:
            x = self.get_submodule(name)(x)
        x = torch.flatten(self.avgpool(x), 1)  # N x 2048 in the paper's layout
        x = self.fc(self.dropout(x))  # N x num_classes
        return InceptionOutputs(x, (aux,)) if aux is not None else x


def build_inception_v2(config: InceptionV2Config | None = None) -> InceptionV2Variant:
    """The Inception-v2 variant that ``config`` describes; ``build_inception_v2()`` is the paper's network."""
    return InceptionV2Variant(InceptionV2Config() if config is None else config)
