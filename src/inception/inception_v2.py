"""Inception-v2 of "Rethinking the Inception Architecture for Computer Vision" (Szegedy et al. 2016).

The network of the paper's Table 1, block by block:

* :class:`InceptionFig5` — the 35×35 module of Figure 5: the 5×5 of GoogLeNet replaced by two 3×3.
* :class:`InceptionFig6` — the 17×17 module of Figure 6: n×n factorized into 1×n then n×1 (n = 7).
* :class:`InceptionFig7` — the 8×8 module of Figure 7: the expanded filter bank (1×3 and 3×1 side by side).
* :class:`GridReduction` — Figure 10: stride-2 convolutions in parallel with a stride-2 pool, concatenated.
* :class:`InceptionAuxV2` — Figure 8: the auxiliary head on the last 17×17 grid, batch-normalized.
* :class:`PaperStem`, :class:`SmallStem` — the stem of Table 1 (299×299 input) and one for small images.
* :class:`InceptionV2` — the whole network; :class:`InceptionV2Config` — its settings, as one dataclass.

The paper gives only each stage's input and output size, not each branch's width. We take the branch
widths of the released Inception-v3 (as in torchvision's ``inception_v3``), which has the same layout,
and resolve the typos of Table 1 as its printed sizes demand (see :class:`PaperStem`). Every
convolution is followed by batch normalization (ε = 1e-3, as in torchvision) and a ReLU.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from inception.cost import conv_output_size
from inception.layers import BasicConv2d, InceptionOutputs
from inception.validation import check_image_batch, check_positive_int

BN_EPS = 1e-3  # torchvision's (and TensorFlow's original) BN ε for the Inception networks


def _conv(in_channels: int, out_channels: int, kernel_size, stride=1, padding=0) -> BasicConv2d:
    return BasicConv2d(in_channels, out_channels, kernel_size, stride, padding, bn_eps=BN_EPS)


def _cat(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat(tensors, 1)


class InceptionFig5(nn.Module):
    """The module of Figure 5 (35×35 grid): GoogLeNet's 5×5 branch becomes two stacked 3×3.

    Branches, in concatenation order: ``branch1`` 1×1; ``branch2`` 1×1 → 3×3; ``branch3`` 1×1 → 3×3 →
    3×3; ``branch4`` 3×3 average pool → 1×1. All keep the grid size (stride 1, "same" padding).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch3x3dbl_red: int,
                 ch3x3dbl: int, pool_proj: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.branch1 = _conv(in_channels, ch1x1, 1)
        self.branch2 = nn.Sequential(_conv(in_channels, ch3x3red, 1), _conv(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = nn.Sequential(
            _conv(in_channels, ch3x3dbl_red, 1),
            _conv(ch3x3dbl_red, ch3x3dbl, 3, padding=1),
            _conv(ch3x3dbl, ch3x3dbl, 3, padding=1),
        )
        self.branch4 = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1), _conv(in_channels, pool_proj, 1))
        self.out_channels = ch1x1 + ch3x3 + ch3x3dbl + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.in_channels, 1, type(self).__name__)
        return _cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)])

    def diagram_label(self) -> str:
        return f"Inception Fig. 5, {self.out_channels}"


class InceptionFig6(nn.Module):
    """The module of Figure 6 (17×17 grid): every n×n convolution factorized into 1×n followed by n×1.

    Branches: ``branch1`` 1×1; ``branch2`` 1×1 → 1×n → n×1; ``branch3`` 1×1 → 1×n → n×1 → 1×n → n×1
    (the factorized pair of n×n); ``branch4`` 3×3 average pool → 1×1. The paper uses n = 7 on the
    17×17 grid (Sec. 6); ``n`` must be odd so that padding n // 2 keeps the grid size.
    """

    def __init__(self, in_channels: int, ch1x1: int, chnxn_red: int, chnxn: int, chnxn_dbl_red: int,
                 chnxn_dbl: int, pool_proj: int, n: int = 7) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        check_positive_int("n", n)
        if n % 2 == 0:
            raise ValueError(f"n must be odd so that a 1×n convolution padded by n // 2 keeps the grid size, "
                             f"got n={n}; try n={n + 1}")
        self.n = n
        p = n // 2
        self.branch1 = _conv(in_channels, ch1x1, 1)
        self.branch2 = nn.Sequential(
            _conv(in_channels, chnxn_red, 1),
            _conv(chnxn_red, chnxn_red, (1, n), padding=(0, p)),
            _conv(chnxn_red, chnxn, (n, 1), padding=(p, 0)),
        )
        self.branch3 = nn.Sequential(
            _conv(in_channels, chnxn_dbl_red, 1),
            _conv(chnxn_dbl_red, chnxn_dbl_red, (1, n), padding=(0, p)),
            _conv(chnxn_dbl_red, chnxn_dbl_red, (n, 1), padding=(p, 0)),
            _conv(chnxn_dbl_red, chnxn_dbl_red, (1, n), padding=(0, p)),
            _conv(chnxn_dbl_red, chnxn_dbl, (n, 1), padding=(p, 0)),
        )
        self.branch4 = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1), _conv(in_channels, pool_proj, 1))
        self.out_channels = ch1x1 + chnxn + chnxn_dbl + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.in_channels, 1, type(self).__name__)
        return _cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)])

    def diagram_label(self) -> str:
        return f"Inception Fig. 6, n={self.n}, {self.out_channels}"


class InceptionFig7(nn.Module):
    """The module of Figure 7 (8×8 grid): the filter bank expanded, 1×3 and 3×1 side by side.

    On the coarsest grid the paper widens instead of deepening: the 3×3 is split into a 1×3 and a
    3×1 that both read the same input and are concatenated ("promoting high dimensional
    representations", Sec. 6). Branches: ``branch1`` 1×1; ``branch2`` 1×1, then ``branch2a`` 1×3 and
    ``branch2b`` 3×1; ``branch3`` 1×1 → 3×3, then ``branch3a`` 1×3 and ``branch3b`` 3×1; ``branch4``
    3×3 average pool → 1×1. Six outputs are concatenated.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch3x3dbl_red: int,
                 ch3x3dbl: int, pool_proj: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.branch1 = _conv(in_channels, ch1x1, 1)
        self.branch2 = _conv(in_channels, ch3x3red, 1)
        self.branch2a = _conv(ch3x3red, ch3x3, (1, 3), padding=(0, 1))
        self.branch2b = _conv(ch3x3red, ch3x3, (3, 1), padding=(1, 0))
        self.branch3 = nn.Sequential(_conv(in_channels, ch3x3dbl_red, 1),
                                     _conv(ch3x3dbl_red, ch3x3dbl, 3, padding=1))
        self.branch3a = _conv(ch3x3dbl, ch3x3dbl, (1, 3), padding=(0, 1))
        self.branch3b = _conv(ch3x3dbl, ch3x3dbl, (3, 1), padding=(1, 0))
        self.branch4 = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1), _conv(in_channels, pool_proj, 1))
        self.out_channels = ch1x1 + 2 * ch3x3 + 2 * ch3x3dbl + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.in_channels, 1, type(self).__name__)
        b1 = self.branch1(x)
        b2 = self.branch2(x)
        b2 = [self.branch2a(b2), self.branch2b(b2)]
        b3 = self.branch3(x)
        b3 = [self.branch3a(b3), self.branch3b(b3)]
        return _cat([b1, *b2, *b3, self.branch4(x)])

    def diagram_label(self) -> str:
        return f"Inception Fig. 7, {self.out_channels}"


class GridReduction(nn.Module):
    """The efficient grid-size reduction of Figure 10: halve the grid and widen, with no bottleneck.

    Branches, in concatenation order: ``branch1`` 1×1 → 3×3 stride 2; ``branch2`` 1×1 → 3×3 → 3×3
    stride 2; ``branch3`` 3×3 max pool stride 2, which passes the input's channels through. The stride-2
    layers are unpadded, so the grid goes 35 → 17 → 8 as in Table 1 (padding would give 18 and 9).
    """

    min_input_size = 3  # a 3×3 window must fit

    def __init__(self, in_channels: int, ch3x3red: int, ch3x3: int, ch3x3dbl_red: int, ch3x3dbl: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.branch1 = nn.Sequential(_conv(in_channels, ch3x3red, 1), _conv(ch3x3red, ch3x3, 3, stride=2))
        self.branch2 = nn.Sequential(
            _conv(in_channels, ch3x3dbl_red, 1),
            _conv(ch3x3dbl_red, ch3x3dbl, 3, padding=1),
            _conv(ch3x3dbl, ch3x3dbl, 3, stride=2),
        )
        self.branch3 = nn.MaxPool2d(3, stride=2)
        self.out_channels = ch3x3 + ch3x3dbl + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.in_channels, self.min_input_size, type(self).__name__)
        return _cat([self.branch1(x), self.branch2(x), self.branch3(x)])

    def diagram_label(self) -> str:
        return f"Grid reduction Fig. 10, {self.out_channels}"


class InceptionAuxV2(nn.Module):
    """The auxiliary classifier of Figure 8, on top of the last 17×17 layer, with batch normalization.

    5×5 average pool → 1×1 conv (128) → 5×5 conv (768) → global average pool → FC. Every convolution,
    the 5×5 one included (it is the head's "fully connected" layer on the 5×5 grid), is batch-normalized:
    that is the paper's "BN-auxiliary" (Sec. 7, Table 3). The paper pools with a 5×5 window, stride 3
    (17 → 5); we pool adaptively to 5×5, which gives the same 5×5 grid and parameters on a 17×17 input
    (windows 4 or 5 wide instead of 5) and also works on the smaller grids of small images.
    """

    def __init__(self, in_channels: int, num_classes: int, ch1x1: int = 128, ch5x5: int = 768) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        check_positive_int("num_classes", num_classes)
        self.pool = nn.AdaptiveAvgPool2d(5)
        self.conv0 = _conv(in_channels, ch1x1, 1)
        self.conv1 = _conv(ch1x1, ch5x5, 5)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(ch5x5, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.in_channels, 1, type(self).__name__)
        x = self.conv1(self.conv0(self.pool(x)))  # N x 768 x 1 x 1
        return self.fc(torch.flatten(self.avgpool(x), 1))

    def diagram_label(self) -> str:
        return f"Auxiliary head Fig. 8, {self.fc.out_features}"


class PaperStem(nn.Sequential):
    """The stem of Table 1: 299×299×3 → 35×35×288.

    Table 1 row by row, with the typos resolved as its printed sizes demand: 3×3/2 conv 32 (→ 149),
    3×3 conv 32 (→ 147), padded 3×3 conv 64 (147), 3×3/2 max pool (→ 73), 3×3 conv 80 (→ 71), 3×3/2
    conv 192 (→ 35), and a padded 3×3 conv 288 (35): the table's last stem row lists an input of
    35×35×192 and the next row an input of 35×35×288, so that conv must keep the grid and output 288.
    """

    def __init__(self, in_channels: int = 3, channels: tuple[int, ...] = (32, 32, 64, 80, 192, 288)) -> None:
        c1, c2, c3, c4, c5, c6 = channels
        super().__init__()
        self.Conv2d_1a_3x3 = _conv(in_channels, c1, 3, stride=2)  # 299 -> 149
        self.Conv2d_2a_3x3 = _conv(c1, c2, 3)                      # 149 -> 147
        self.Conv2d_2b_3x3 = _conv(c2, c3, 3, padding=1)           # 147
        self.maxpool1 = nn.MaxPool2d(3, stride=2)                  # 147 -> 73
        self.Conv2d_3a_3x3 = _conv(c3, c4, 3)                      # 73 -> 71
        self.Conv2d_3b_3x3 = _conv(c4, c5, 3, stride=2)            # 71 -> 35
        self.Conv2d_4a_3x3 = _conv(c5, c6, 3, padding=1)           # 35
        self.out_channels = c6

    @staticmethod
    def output_size(size: int) -> int:
        """Grid size after the stem for an input of ``size`` pixels (``ValueError`` if it does not fit)."""
        for k, s, p in ((3, 2, 0), (3, 1, 0), (3, 1, 1), (3, 2, 0), (3, 1, 0), (3, 2, 0), (3, 1, 1)):
            size = conv_output_size(size, k, s, p)
        return size

    def diagram_label(self) -> str:
        return f"Stem Table 1, {self.out_channels}"


class SmallStem(nn.Sequential):
    """A stem for small images (8 to 64 pixels): the paper's stem without its strides and its pool.

    The same six convolutions as :class:`PaperStem`, all padded and of stride 1, so the grid keeps
    the input's size: a 32×32 image reaches the Figure 5 modules at 32×32 (the paper's 299×299 image
    at 35×35), and the two grid reductions take it to 15 and 7. Not in the paper.
    """

    def __init__(self, in_channels: int = 3, channels: tuple[int, ...] = (32, 32, 64, 80, 192, 288)) -> None:
        c1, c2, c3, c4, c5, c6 = channels
        super().__init__()
        self.Conv2d_1a_3x3 = _conv(in_channels, c1, 3, padding=1)
        self.Conv2d_2a_3x3 = _conv(c1, c2, 3, padding=1)
        self.Conv2d_2b_3x3 = _conv(c2, c3, 3, padding=1)
        self.Conv2d_3a_3x3 = _conv(c3, c4, 3, padding=1)
        self.Conv2d_3b_3x3 = _conv(c4, c5, 3, padding=1)
        self.Conv2d_4a_3x3 = _conv(c5, c6, 3, padding=1)
        self.out_channels = c6

    @staticmethod
    def output_size(size: int) -> int:
        check_positive_int("size", size)
        return size

    def diagram_label(self) -> str:
        return f"Small stem, {self.out_channels}"


STEMS: dict[str, type[PaperStem] | type[SmallStem]] = {"paper": PaperStem, "small": SmallStem}

# Branch widths (before the width multiplier), from the released Inception-v3 (torchvision's inception_v3)
STEM_CHANNELS = (32, 32, 64, 80, 192, 288)
FIG5_WIDTHS = (64, 48, 64, 64, 96, 64)           # 1×1 | 1×1 → 3×3 | 1×1 → 3×3 → 3×3 | pool → 1×1: 288 out
REDUCTION1_WIDTHS = (192, 384, 64, 96)           # 1×1 → 3×3/2 | 1×1 → 3×3 → 3×3/2 | pool: 288 + 480 = 768 out
FIG6_REDUCE = (128, 160, 160, 160, 192)          # the 1×1 reduce width of each Figure 6 module
FIG6_WIDTHS = (192, 192, 192, 192)               # 1×1 | ... → n×1 | ... → n×1 | pool → 1×1: 768 out
REDUCTION2_WIDTHS = (192, 320, 192, 192)         # 768 + 512 = 1280 out
FIG7_WIDTHS = (320, 384, 384, 448, 384, 192)     # 320 + 2·384 + 2·384 + 192 = 2048 out
AUX_WIDTHS = (128, 768)


def fig6_reduce_widths(count: int) -> list[int]:
    """The 1×1 reduce width of each of ``count`` Figure 6 modules: 128 first, 192 last, 160 between.

    torchvision's four modules use 128, 160, 160, 192; Table 1 has five, so one more 160.
    """
    if count <= 0:
        return []
    if count == 1:
        return [FIG6_REDUCE[0]]
    return [FIG6_REDUCE[0]] + [FIG6_REDUCE[1]] * (count - 2) + [FIG6_REDUCE[-1]]


def _all_base_widths() -> list[tuple[str, int]]:
    named = [("stem", c) for c in STEM_CHANNELS]
    named += [("Figure 5 modules", c) for c in FIG5_WIDTHS]
    named += [("grid reductions", c) for c in REDUCTION1_WIDTHS + REDUCTION2_WIDTHS]
    named += [("Figure 6 modules", c) for c in FIG6_REDUCE + FIG6_WIDTHS]
    named += [("Figure 7 modules", c) for c in FIG7_WIDTHS]
    named += [("auxiliary head", c) for c in AUX_WIDTHS]
    return named


def scale_width(channels: int, width: float) -> int:
    """``channels`` times the width multiplier, rounded half up (0.5 → 1)."""
    return int(channels * width + 0.5)


def grid_sizes(image_size: int, stem: str = "paper") -> dict[str, int]:
    """The grid sizes of the three stages for a square input of ``image_size`` pixels.

    Returns ``{"fig5": ..., "fig6": ..., "fig7": ...}`` (35, 17, 8 for the paper's 299×299 input);
    raises ``ValueError`` if the input is too small for the stem and the two grid reductions.
    """
    if stem not in STEMS:
        raise ValueError(f"stem must be one of {sorted(STEMS)}, got {stem!r}")
    check_positive_int("image_size", image_size)
    try:
        g5 = STEMS[stem].output_size(image_size)
        g6 = conv_output_size(g5, 3, 2)
        g7 = conv_output_size(g6, 3, 2)
    except ValueError:
        smallest = smallest_input_size(stem)
        raise ValueError(f"the {stem!r} stem needs an input of at least {smallest}×{smallest} pixels, "
                         f"got {image_size}×{image_size}") from None
    return {"fig5": g5, "fig6": g6, "fig7": g7}


def smallest_input_size(stem: str = "paper") -> int:
    """The smallest square input the network accepts with this stem (75 for the paper's, 7 for the small one)."""
    if stem not in STEMS:
        raise ValueError(f"stem must be one of {sorted(STEMS)}, got {stem!r}")
    for size in range(1, 1000):
        try:
            g = conv_output_size(conv_output_size(STEMS[stem].output_size(size), 3, 2), 3, 2)
        except ValueError:
            continue
        if g >= 1:
            return size
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class InceptionV2Config:
    """Every setting of :class:`InceptionV2`; the defaults are the paper's network (Table 1).

    Attributes:
        num_classes: outputs of the classifier (1000 for ImageNet).
        in_channels: channels of the input image (3 for RGB, 1 for grey digits).
        image_size: the side of the square input the network is built for (299 in the paper). The
            network accepts any input at least as large as :func:`smallest_input_size`; this field
            records the size you mean to use and checks that it fits the stem.
        stem: ``"paper"`` (Table 1's stem, 299 px → 35×35) or ``"small"`` (stride 1 and no pool, for
            8 to 64 px images; see :class:`SmallStem`).
        width: multiplier of every channel count (0.5 halves every layer); each count is rounded half up
            and must stay at least 1.
        fig5_modules, fig6_modules, fig7_modules: how many modules of Figures 5, 6 and 7 (3, 5, 2).
        fig6_n: the n of Figure 6's 1×n, n×1 factorization (7 on the 17×17 grid); odd.
        aux_logits: build the auxiliary head of Figure 8 (it runs only in training mode).
        aux_weight: weight of the auxiliary loss in the total loss. The paper gives none; we keep
            GoogLeNet's 0.3 (used by :func:`inception.losses.auxiliary_loss`).
        dropout: dropout probability before the classifier. Table 1 has no dropout row; 0.5 is
            torchvision's value for the released Inception-v3.
        label_smoothing: the ε of label-smoothing regularization (Sec. 7): 0.1 in the paper.
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
    aux_weight: float = 0.3
    dropout: float = 0.5
    label_smoothing: float = 0.1

    def __post_init__(self) -> None:
        for name in ("num_classes", "in_channels", "image_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"InceptionV2Config.{name} must be a positive integer, got {value!r}")
        if self.stem not in STEMS:
            raise ValueError(f"InceptionV2Config.stem must be one of {sorted(STEMS)}, got {self.stem!r}")
        smallest = smallest_input_size(self.stem)
        if self.image_size < smallest:
            raise ValueError(
                f"InceptionV2Config.image_size={self.image_size} is too small for the {self.stem!r} stem: "
                f"expected image_size >= {smallest}"
                + (' (or stem="small", which accepts 7 px and more)' if self.stem == "paper" else "")
            )
        for name in ("fig5_modules", "fig6_modules", "fig7_modules"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"InceptionV2Config.{name} must be an integer >= 0, got {value!r}")
        n = self.fig6_n
        if isinstance(n, bool) or not isinstance(n, int) or n < 1 or n % 2 == 0:
            raise ValueError(f"InceptionV2Config.fig6_n must be an odd positive integer (7 in the paper), got {n!r}")
        if isinstance(self.aux_logits, bool) is False:
            raise ValueError(f"InceptionV2Config.aux_logits must be True or False, got {self.aux_logits!r}")
        for name, low, high in (("dropout", 0.0, 1.0), ("label_smoothing", 0.0, 1.0)):
            value = getattr(self, name)
            if not _is_real(value) or not low <= value < high:
                raise ValueError(f"InceptionV2Config.{name} must be a number in [{low}, {high}), got {value!r}")
        if not _is_real(self.aux_weight) or not 0.0 <= self.aux_weight < math.inf:
            raise ValueError(f"InceptionV2Config.aux_weight must be a number >= 0, got {self.aux_weight!r}")
        if not _is_real(self.width) or not 0.0 < self.width < math.inf:
            raise ValueError(f"InceptionV2Config.width must be a positive number, got {self.width!r}")
        where, narrowest = min(_all_base_widths(), key=lambda item: item[1])
        if scale_width(narrowest, self.width) < 1:
            raise ValueError(
                f"InceptionV2Config.width={self.width!r} rounds the {narrowest} channels of a layer in the "
                f"{where} to 0; expected width >= {0.5 / narrowest:g}"
            )

    def to_dict(self) -> dict:
        """The configuration as a plain dict (JSON-ready), e.g. to save next to a checkpoint."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> InceptionV2Config:
        """Rebuild a configuration from :meth:`to_dict`'s output; unknown keys are a ``ValueError``."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a dict of InceptionV2Config fields, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown InceptionV2Config fields {unknown}; expected some of {sorted(known)}")
        return cls(**data)

    def grid_sizes(self) -> dict[str, int]:
        """Grid sizes of the three stages at ``image_size`` (35, 17, 8 for the paper's network)."""
        return grid_sizes(self.image_size, self.stem)


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class InceptionV2(nn.Module):
    """Inception-v2 of Rethinking the Inception Architecture (Szegedy et al. 2016), Table 1.

    ``InceptionV2()`` is the paper's network: at 299×299 the grids and channels go 35×35×288 (stem,
    then 3 × Figure 5) → 17×17×768 (grid reduction, 5 × Figure 6) → 8×8×1280 (grid reduction) →
    8×8×2048 (2 × Figure 7) → global average pool → dropout → FC. It returns logits (no softmax);
    in training mode with ``aux_logits`` it returns ``InceptionOutputs(logits, (aux,))``, the
    auxiliary head of Figure 8 reading the last 17×17 grid.

    ``InceptionV2.from_config(InceptionV2Config(...))`` builds any variant (small stem, width,
    number of modules, n, ...).
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
                 dropout: float = 0.5, *, config: InceptionV2Config | None = None) -> None:
        super().__init__()
        if config is None:
            config = InceptionV2Config(num_classes=num_classes, in_channels=in_channels, aux_logits=aux_logits,
                                       dropout=dropout)
        elif not isinstance(config, InceptionV2Config):
            raise ValueError(f"config must be an InceptionV2Config, got {type(config).__name__}")
        elif (num_classes, in_channels, aux_logits, dropout) != (1000, 3, True, 0.5):
            raise ValueError("pass either config=... or num_classes/in_channels/aux_logits/dropout, not both; "
                             "use InceptionV2.from_config(config)")
        self.config = config
        self.min_input_size = smallest_input_size(config.stem)

        def w(*channels: int) -> list[int]:
            return [scale_width(c, config.width) for c in channels]

        self.stem = STEMS[config.stem](config.in_channels, tuple(w(*STEM_CHANNELS)))  # N x 288 x 35 x 35
        c = self.stem.out_channels
        mixed5 = []
        for _ in range(config.fig5_modules):
            mixed5.append(InceptionFig5(c, *w(*FIG5_WIDTHS)))
            c = mixed5[-1].out_channels
        self.mixed5 = nn.Sequential(*mixed5)                                                # N x 288 x 35 x 35
        self.reduction1 = GridReduction(c, *w(*REDUCTION1_WIDTHS))                         # N x 768 x 17 x 17
        c = self.reduction1.out_channels
        mixed6 = []
        for reduce in fig6_reduce_widths(config.fig6_modules):
            r, (c1, cn, cd, cp) = w(reduce)[0], w(*FIG6_WIDTHS)
            mixed6.append(InceptionFig6(c, c1, r, cn, r, cd, cp, n=config.fig6_n))
            c = mixed6[-1].out_channels
        self.mixed6 = nn.Sequential(*mixed6)                                                # N x 768 x 17 x 17
        self.aux = InceptionAuxV2(c, config.num_classes, *w(*AUX_WIDTHS)) if config.aux_logits else None
        self.reduction2 = GridReduction(c, *w(*REDUCTION2_WIDTHS))                         # N x 1280 x 8 x 8
        c = self.reduction2.out_channels
        mixed7 = []
        for _ in range(config.fig7_modules):
            mixed7.append(InceptionFig7(c, *w(*FIG7_WIDTHS)))
            c = mixed7[-1].out_channels
        self.mixed7 = nn.Sequential(*mixed7)                                                # N x 2048 x 8 x 8
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(c, config.num_classes)
        self.num_features = c

    @classmethod
    def from_config(cls, config: InceptionV2Config) -> InceptionV2:
        """Build the network described by ``config`` (see :class:`InceptionV2Config`)."""
        if not isinstance(config, InceptionV2Config):
            raise ValueError(f"from_config expects an InceptionV2Config, got {type(config).__name__}")
        return cls(config=config)

    @property
    def aux_logits(self) -> bool:
        return self.aux is not None

    def forward(self, x: torch.Tensor) -> torch.Tensor | InceptionOutputs:
        check_image_batch(x, self.config.in_channels, self.min_input_size, "InceptionV2")
        x = self.mixed5(self.stem(x))               # N x 288 x 35 x 35
        x = self.mixed6(self.reduction1(x))         # N x 768 x 17 x 17
        aux = self.aux(x) if self.aux is not None and self.training else None
        x = self.mixed7(self.reduction2(x))         # N x 2048 x 8 x 8
        x = torch.flatten(self.avgpool(x), 1)       # N x 2048
        logits = self.fc(self.dropout(x))           # N x num_classes
        if aux is not None:
            return InceptionOutputs(logits, (aux,))
        return logits


__all__ = ["GridReduction", "InceptionAuxV2", "InceptionFig5", "InceptionFig6", "InceptionFig7", "InceptionV2",
           "InceptionV2Config", "PaperStem", "SmallStem", "grid_sizes", "scale_width", "smallest_input_size"]
