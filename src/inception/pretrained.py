"""torchvision's ImageNet weights in the book's networks: loading them, preparing a photo, checking offline.

torchvision's ImageNet weights for ``googlenet`` and ``inception_v3`` (``GoogLeNet_Weights.IMAGENET1K_V1``,
``Inception_V3_Weights.IMAGENET1K_V1``) are state dicts with the keys and shapes of
:meth:`inception.googlenet.GoogLeNet.torchvision_layout` and :class:`inception.inception_v3.InceptionV3`
(tests/test_torchvision_layout.py checks both against fixtures recorded from torchvision 0.28). This module
holds what a chapter needs around them, and downloads nothing:

* :func:`load_torchvision_weights`: a strict load that leaves out the auxiliary heads a network was built
  without (the weight files hold them: torchvision builds both networks with their heads to load them);
* :func:`preprocess` and :data:`TRANSFORMS`: torchvision's ImageNet evaluation transform for each model
  (resize the shorter side, center crop, scale to [0, 1], normalize with the ImageNet mean and standard
  deviation), written with torch operations;
* :func:`deterministic_state_dict`, :func:`fixed_input` and :data:`REFERENCES`: the fixtures' weights,
  made from each key's name, the fixtures' input, and the five largest logits torchvision 0.28 gave for
  them, so that a notebook can run the loading code and compare with torchvision without the internet.
  The weights and input are made exactly as scripts/make_torchvision_fixtures.py makes them, and the
  references are copied from its fixtures (tests/test_pretrained.py checks both).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from inception.inception_v3 import IMAGENET_MEAN, IMAGENET_STD
from inception.validation import check_choice, check_flag, check_module, check_positive_int

#: torchvision's evaluation transform of each model's ImageNet weights: (resize_size, crop_size), from
#: ``weights.transforms()`` (``ImageClassification(crop_size=224)``, whose default resize is 256, and
#: ``ImageClassification(crop_size=299, resize_size=342)``).
TRANSFORMS = {"googlenet": (256, 224), "inception_v3": (342, 299)}

INPUT_SEED = 2016  # the fixtures' input: torch.randn from a generator seeded with this
BATCH = 2  # the fixtures' two images


def load_torchvision_weights(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> tuple[str, ...]:
    """Load a torchvision state dict into ``model`` with ``strict=True``; return the heads left out.

    torchvision's weight files for ``googlenet`` and ``inception_v3`` hold the auxiliary heads
    (``aux1.*``, ``aux2.*``; ``AuxLogits.*``). For a network built without them (``aux_logits=False``:
    the attribute is ``None``) those keys are left out, as torchvision does after loading; every other
    key must match the model's, name and shape, or a ``ValueError`` says which do not. Files saved before
    PyTorch 0.4.1 have no ``bn.num_batches_tracked`` counters (torchvision's ``inception_v3_google``
    file is one): as ``load_state_dict`` itself does, those may be missing. Returns the names of the
    heads whose keys were left out, e.g. ``("aux1", "aux2")``, or ``()``.
    """
    check_module(model)
    if not isinstance(state_dict, Mapping) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state_dict.items()):
        raise ValueError(f"state_dict must map key names to tensors (what torch.load or weights.get_state_dict() "
                         f"return), got {type(state_dict).__name__}")
    expected = model.state_dict()
    heads = {k.split(".", 1)[0] for k in state_dict if k not in expected and "." in k}
    left_out = tuple(sorted(h for h in heads if getattr(model, h, False) is None))
    state = {k: v for k, v in state_dict.items() if k.split(".", 1)[0] not in left_out}
    missing = [k for k in expected if k not in state and not k.endswith(".num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        raise ValueError(f"the state dict does not fit {type(model).__name__}: {len(missing)} keys missing "
                         f"{missing[:3]}, {len(unexpected)} unexpected {unexpected[:3]}; was it saved from "
                         "another network?")
    shapes = [(k, tuple(state[k].shape), tuple(v.shape)) for k, v in expected.items()
              if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if shapes:
        key, theirs, ours = shapes[0]
        raise ValueError(f"{len(shapes)} tensors have other shapes than {type(model).__name__}'s, first {key}: "
                         f"{theirs} in the state dict, {ours} in the model (built for another num_classes?)")
    model.load_state_dict(state, strict=True)
    return left_out


def preprocess(image: np.ndarray | torch.Tensor, resize_size: int, crop_size: int) -> torch.Tensor:
    """torchvision's ImageNet evaluation transform, with torch operations: an H×W×3 8-bit photo → 3×crop×crop.

    As ``ImageClassification`` does: resize so that the shorter side is ``resize_size`` (the longer one
    ``int(resize_size · long / short)``), bilinear with antialiasing; cut the central crop_size×crop_size
    square (offsets ``int(round((size − crop) / 2))``); scale to [0, 1]; subtract the ImageNet mean and
    divide by its standard deviation, channel by channel. One difference: torchvision resizes the 8-bit
    image and rounds it back to 8 bits, we resize in floating point, so values differ by a rounding.
    """
    x = image if isinstance(image, torch.Tensor) else torch.tensor(np.asarray(image))  # a copy: sklearn's are read-only
    if x.dtype != torch.uint8 or x.dim() != 3 or x.shape[-1] != 3:
        raise ValueError(f"expected an H×W×3 photo of 8-bit values (what sklearn's load_sample_images and "
                         f"numpy.asarray(PIL image) give), got {x.dtype} of shape {tuple(x.shape)}")
    check_positive_int("resize_size", resize_size)
    check_positive_int("crop_size", crop_size)
    if crop_size > resize_size:
        raise ValueError(f"crop_size must be at most resize_size, got crop_size={crop_size} > {resize_size}")
    x = x.permute(2, 0, 1).float().div(255)  # 3 × H × W in [0, 1]
    h, w = x.shape[-2:]
    short, long = min(h, w), max(h, w)
    new_long = int(resize_size * long / short)
    size = (resize_size, new_long) if h <= w else (new_long, resize_size)
    x = F.interpolate(x[None], size=size, mode="bilinear", align_corners=False, antialias=True)[0]
    top, left = int(round((size[0] - crop_size) / 2)), int(round((size[1] - crop_size) / 2))
    x = x[:, top:top + crop_size, left:left + crop_size]
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return (x - mean) / std


# The fixtures' deterministic weights and input (scripts/make_torchvision_fixtures.py makes them the same way).

def _key_seed(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") % (2**63)


def deterministic_tensor(key: str, shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A tensor for state-dict key ``key`` that depends only on the key's name and the shape.

    Convolution weights N(0, 2/fan_in), linear weights N(0, 1/fan_in), BN scales and running variances
    in [0.5, 1.5], biases and running means N(0, 0.1²), ``num_batches_tracked`` 0; each drawn from a
    generator seeded with the first 8 bytes of the key's SHA-256. Not trained: a stand-in with
    torchvision's keys and shapes, so that the loading code can run offline.
    """
    if dtype == torch.int64:  # num_batches_tracked
        return torch.zeros(shape, dtype=dtype)
    g = torch.Generator().manual_seed(_key_seed(key))
    if key.endswith("running_var") or (key.endswith("weight") and len(shape) == 1):
        return 0.5 + torch.rand(shape, generator=g, dtype=dtype)
    normal = torch.randn(shape, generator=g, dtype=dtype)
    if key.endswith("weight"):  # a convolution (out, in, kh, kw) or a linear layer (out, in)
        gain = 2.0 if len(shape) == 4 else 1.0
        return normal * math.sqrt(gain / math.prod(shape[1:]))
    return 0.1 * normal  # biases and running means


def deterministic_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """A state dict with ``model``'s keys and shapes, every tensor made by :func:`deterministic_tensor`.

    For ``GoogLeNet.torchvision_layout()`` and ``InceptionV3()`` (with their auxiliary heads) these are
    the weights of the torchvision fixtures: the same keys, so the same tensors.
    """
    check_module(model)
    return {k: deterministic_tensor(k, tuple(t.shape), t.dtype) for k, t in model.state_dict().items()}


def fixed_input(image_size: int) -> torch.Tensor:
    """The fixtures' input: 2 × 3 × size × size, smooth blobs (8×8 noise upsampled) plus fine noise."""
    check_positive_int("image_size", image_size)
    g = torch.Generator().manual_seed(INPUT_SEED)
    blobs = torch.randn(BATCH, 3, 8, 8, generator=g)
    fine = torch.randn(BATCH, 3, image_size, image_size, generator=g)
    size = (image_size, image_size)
    return F.interpolate(blobs, size=size, mode="bilinear", align_corners=False) + 0.5 * fine


@dataclass(frozen=True)
class Reference:
    """What torchvision 0.28's model gave, in eval mode, for the deterministic weights and the fixed input.

    ``top5``: for each of the two images, the classes of the five largest logits, largest first;
    ``logits``: those five logits, rounded to 6 decimals (copied from tests/fixtures/torchvision/).
    """

    model: str  # "googlenet" or "inception_v3"
    image_size: int
    transform_input: bool
    top5: tuple[tuple[int, ...], ...]
    logits: tuple[tuple[float, ...], ...]


REFERENCES = (
    Reference("googlenet", 112, False, ((379, 832, 667, 929, 309), (379, 832, 667, 127, 309)),
              ((34.692036, 24.63409, 23.511053, 21.318306, 21.100208),
               (38.349316, 27.267183, 25.811125, 24.983173, 23.171324))),
    Reference("googlenet", 112, True, ((379, 832, 667, 401, 309), (379, 832, 667, 127, 309)),
              ((16.214682, 11.5914, 10.860257, 10.028368, 10.018092),
               (17.867773, 12.264184, 11.942863, 11.433016, 10.793182))),
    Reference("inception_v3", 139, False, ((195, 854, 155, 673, 993), (195, 854, 155, 112, 143)),
              ((15.443425, 11.306485, 10.992187, 10.709075, 10.693132),
               (16.870029, 11.989562, 11.7459, 11.530383, 11.497231))),
    Reference("inception_v3", 139, True, ((195, 854, 155, 673, 416), (195, 854, 155, 975, 416)),
              ((7.161731, 5.242422, 5.108886, 4.964277, 4.903838),
               (7.616634, 5.477268, 5.349628, 5.198885, 5.190706))),
)


def reference(model: str, transform_input: bool) -> Reference:
    """The :class:`Reference` of ``model`` ("googlenet" or "inception_v3") with or without ``transform_input``."""
    check_choice("model", model, tuple(TRANSFORMS))
    check_flag("transform_input", transform_input)
    return next(r for r in REFERENCES if r.model == model and r.transform_input == transform_input)


__all__ = ["BATCH", "INPUT_SEED", "REFERENCES", "TRANSFORMS", "Reference", "deterministic_state_dict",
           "deterministic_tensor", "fixed_input", "load_torchvision_weights", "preprocess", "reference"]
