"""Training recipes: how the book trains each network on the digits, written down in one place.

A :class:`Recipe` is everything a training run needs besides the data and the seed: the network and its
constructor's settings, the side of the images it is fed, the batch, the epochs, and ``fit``'s training
settings (optimizer, learning rate and schedule, weight decay, the weight of the auxiliary losses, label
smoothing). Training settings belong to the recipe, never to the network: the same Inception-v2 was
trained with RMSProp, label smoothing ε = 0.1 and gradient clipping (Szegedy et al. 2016, Sec. 7 and 8),
and could be trained otherwise without being another network.

    >>> recipe = DIGITS_RECIPES["inception_v2"]
    >>> model = recipe.build_model()                                              # doctest: +SKIP
    >>> train_loader, test_loader = recipe.loaders()                              # doctest: +SKIP
    >>> fit(model, train_loader, test_loader, epochs=recipe.epochs, **recipe.fit_settings())  # doctest: +SKIP

Chapter 10 trains with :data:`DIGITS_RECIPES`; ``python -m inception.train --recipe NAME`` and
``python -m inception.bench`` use the same ones.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn
from torch.utils.data import DataLoader

from inception.bn_inception import BNInception
from inception.customizing import InceptionV2Config, build_inception_v2
from inception.data import NUM_CLASSES, digits_loaders
from inception.googlenet import GoogLeNet
from inception.training import check_training_settings
from inception.validation import check_choice, check_positive_int

NETWORKS = ("googlenet", "bn_inception", "inception_v2")

#: The smallest sensible input for each network on the 8×8 digits (bilinear upscaling): GoogLeNet's stem
#: and four pools need at least 31 pixels; BN-Inception's stem needs 7, but only from 15 on do its first
#: modules see more than one pixel (2×2); Inception-v2 with the small stem takes the 8×8 digits as they are.
DEFAULT_IMAGE_SIZE = {"googlenet": 32, "bn_inception": 16, "inception_v2": 8}

#: ``fit``'s keyword arguments that a recipe sets: training settings, not network settings.
TRAINING_SETTINGS = ("optimizer", "lr", "momentum", "weight_decay", "schedule", "aux_weight", "label_smoothing")

#: What :func:`build_model` takes as its own arguments rather than in ``config``.
INPUT_SETTINGS = ("num_classes", "in_channels", "image_size")

# The paper's stem of Inception-v2 (Table 1) needs 75 pixels; below that build_model picks the small stem.
_PAPER_STEM_SMALLEST = 75


def _check_config(config: object) -> dict[str, Any]:
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise ValueError(f"config must be a dict of the network's settings, got {type(config).__name__}")
    training = [key for key in TRAINING_SETTINGS if key in config]
    if training:
        raise ValueError(f"{training} are training settings: give them to fit (or to a Recipe), not to the "
                         "network's config")
    inputs = [key for key in INPUT_SETTINGS if key in config]
    if inputs:
        raise ValueError(f"give {inputs} as build_model's own arguments, not in config")
    return dict(config)


def build_model(name: str, config: Mapping[str, Any] | None = None, image_size: int | None = None,
                in_channels: int = 1, num_classes: int = NUM_CLASSES) -> nn.Module:
    """The network ``name`` (one of :data:`NETWORKS`) for ``image_size``-pixel images.

    Args:
        name: ``"googlenet"`` (:class:`~inception.googlenet.GoogLeNet`), ``"bn_inception"``
            (:class:`~inception.bn_inception.BNInception`) or ``"inception_v2"`` (a variant built by
            :func:`~inception.customizing.build_inception_v2`).
        config: the network's settings: its constructor's keyword arguments, or for ``"inception_v2"`` the
            fields of :class:`~inception.customizing.InceptionV2Config` (without ``"stem"``, images under
            75 pixels get the small stem). Not the training settings, nor the three arguments below.
        image_size: the side of the square images; the auxiliary heads are built for it. Default: the
            smallest sensible size on the digits, :data:`DEFAULT_IMAGE_SIZE`.
        in_channels, num_classes: 1 and 10 for the digits; 3 and 1000 for ImageNet.
    """
    check_choice("name", name, NETWORKS)
    config = _check_config(config)
    image_size = check_positive_int("image_size", DEFAULT_IMAGE_SIZE[name] if image_size is None else image_size)
    settings = {"num_classes": num_classes, "in_channels": in_channels, "image_size": image_size, **config}
    if name == "inception_v2":
        if "stem" not in config and image_size < _PAPER_STEM_SMALLEST:
            settings["stem"] = "small"
        return build_inception_v2(InceptionV2Config.from_dict(settings))
    network = GoogLeNet if name == "googlenet" else BNInception
    accepted = list(inspect.signature(network).parameters)
    unknown = [key for key in settings if key not in accepted]
    if unknown:
        raise ValueError(f"{network.__name__} has no setting {unknown}; it takes {accepted}")
    return network(**settings)


@dataclass(frozen=True)
class Recipe:
    """How to train one network: the network, its input, the batch, the epochs and ``fit``'s settings.

    Attributes:
        network: one of :data:`NETWORKS`.
        config: the network's settings (see :func:`build_model`); the recipe keeps its own copy.
        image_size: side of the (upscaled) digits the network is built for and fed; default: the
            network's :data:`DEFAULT_IMAGE_SIZE`.
        batch_size, epochs: the mini-batch and the number of passes over the training images.
        optimizer, lr, momentum, weight_decay, schedule, aux_weight, label_smoothing: ``fit``'s settings
            (:meth:`fit_settings`); the defaults are ``fit``'s.
    """

    network: str
    config: dict[str, Any] = field(default_factory=dict, hash=False)
    image_size: int | None = None
    batch_size: int = 64
    epochs: int = 10
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str | None = None
    aux_weight: float = 0.3
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        check_choice("network", self.network, NETWORKS)
        object.__setattr__(self, "config", _check_config(self.config))
        if self.image_size is None:
            object.__setattr__(self, "image_size", DEFAULT_IMAGE_SIZE[self.network])
        for name in ("image_size", "batch_size", "epochs"):
            check_positive_int(name, getattr(self, name))
        check_training_settings(**self.fit_settings())

    def fit_settings(self) -> dict[str, Any]:
        """The keyword arguments of ``fit`` this recipe sets (all but ``epochs``, which a run may change)."""
        return {name: getattr(self, name) for name in TRAINING_SETTINGS}

    def build_model(self, in_channels: int = 1, num_classes: int = NUM_CLASSES) -> nn.Module:
        """The recipe's network, built for its image size (see :func:`build_model`)."""
        return build_model(self.network, self.config, self.image_size, in_channels, num_classes)

    def loaders(self, **kwargs: Any) -> tuple[DataLoader, DataLoader]:
        """The digits at the recipe's image size and batch: :func:`~inception.data.digits_loaders` with
        ``kwargs`` (``channels``, ``augment``, ``seed``, ``distributed``, ...)."""
        return digits_loaders(batch_size=self.batch_size, image_size=self.image_size, **kwargs)


#: How chapter 10 trains each network on the digits on a 2-core CPU. GoogLeNet and BN-Inception are the
#: papers' networks (they have no width setting); Inception-v2 is a small configuration in the spirit of
#: chapter 9: the small stem, a quarter of the width, one module of each of Figures 5, 6 and 7, n = 3. All
#: train with Adam (Kingma & Ba 2015) and a cosine schedule, the auxiliary losses weighted 0.3 (Szegedy et
#: al. 2014, Sec. 5); Inception-v2 also with label smoothing ε = 0.1 (Szegedy et al. 2016, Sec. 7).
DIGITS_RECIPES: dict[str, Recipe] = {
    "inception_v2": Recipe(
        "inception_v2",
        {"stem": "small", "width": 0.25, "fig5_modules": 1, "fig6_modules": 1, "fig7_modules": 1, "fig6_n": 3,
         "dropout": 0.2, "aux_logits": True},
        image_size=8, batch_size=64, epochs=8,
        optimizer="adam", lr=3e-3, schedule="cosine", aux_weight=0.3, label_smoothing=0.1),
    "googlenet": Recipe(
        "googlenet", {"aux_logits": True}, image_size=32, batch_size=64, epochs=3,
        optimizer="adam", lr=1e-3, schedule="cosine", aux_weight=0.3, label_smoothing=0.0),
    "bn_inception": Recipe(
        "bn_inception", {}, image_size=16, batch_size=64, epochs=3,
        optimizer="adam", lr=1e-3, schedule="cosine", aux_weight=0.3, label_smoothing=0.0),
}


__all__ = ["DEFAULT_IMAGE_SIZE", "DIGITS_RECIPES", "INPUT_SETTINGS", "NETWORKS", "TRAINING_SETTINGS", "Recipe",
           "build_model"]
