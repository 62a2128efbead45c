"""Real handwritten digits for every training run in the book, with nothing to download.

scikit-learn ships the test set of the UCI "Optical Recognition of Handwritten Digits" data:
1,797 images of 8×8 pixels with 17 grey levels (0 to 16), labels 0 to 9. They are UCI's test set,
written by 13 of the 43 people who filled in the forms (the other 30 wrote UCI's training set).
The splits below are random by image, not by writer, so the same 13 people wrote the training, the
validation and the test images: an accuracy measured here is how well a network reads new digits by
writers it has seen, not how well it reads new writers.
This module turns them into PyTorch datasets and loaders:

- a fixed, stratified train/test split (every digit in the same proportion on both sides);
- normalization with the mean and standard deviation of the *training* images only;
- optional upscaling by bilinear interpolation, for networks whose stem shrinks small images away;
- optional light augmentation (small random shifts and rotations, written with torch ops).

    >>> train, test = digits_datasets(image_size=32)
    >>> len(train), len(test), tuple(train[0][0].shape)
    (1437, 360, (1, 32, 32))
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset

from inception.validation import check_flag, check_positive_int

NUM_CLASSES = 10
CLASSES = tuple(str(d) for d in range(NUM_CLASSES))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_fraction(name: str, value: object) -> float:
    if not _is_number(value) or not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


def _check_augmentation(max_shift: object, max_rotation: object, background: object) -> None:
    if not _is_number(max_shift) or not 0.0 <= max_shift < 1.0:
        raise ValueError(f"max_shift must be in [0, 1) (a fraction of the image size), got {max_shift!r}")
    if not _is_number(max_rotation) or not 0.0 <= max_rotation <= 180.0:
        raise ValueError(f"max_rotation must be in [0, 180] degrees, got {max_rotation!r}")
    if not _is_number(background):
        raise ValueError(f"background must be a number (the value of an empty pixel), got {background!r}")


def augment_batch(images: torch.Tensor, max_shift: float = 0.1, max_rotation: float = 10.0,
                  background: float = 0.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image by up to ``max_shift`` of its size and rotate it by up to ``max_rotation`` degrees.

    One random affine transform per image (``F.affine_grid`` + bilinear ``F.grid_sample``); pixels that
    come in from outside the image get the ``background`` value. ``images`` is (N, C, H, W).
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"augment_batch expects images of shape (N, C, H, W), got {shape}")
    _check_augmentation(max_shift, max_rotation, background)
    n = images.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(max_rotation)
    # affine_grid works in [-1, 1] coordinates: a shift of a fraction s of the image is 2s.
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * 2 * max_shift
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], dim=1),
                         torch.stack([sin, cos, shift[:, 1]], dim=1)], dim=1).to(images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    moved = F.grid_sample(images - background, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return moved + background


class DigitsDataset(Dataset):
    """Images (N, C, H, W) and labels (N,) held in memory, optionally augmented on the fly.

    ``background`` is the value of an empty pixel after normalization: augmentation fills the pixels
    that a shift or a rotation brings in with it. ``mean`` and ``std`` undo the normalization
    (``image * std + mean`` gives back the 0-16 grey levels, upscaled).
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, augment: bool = False,
                 mean: float = 0.0, std: float = 1.0, max_shift: float = 0.1, max_rotation: float = 10.0) -> None:
        if not isinstance(images, torch.Tensor) or images.dim() != 4:
            raise ValueError("DigitsDataset expects images as a tensor of shape (N, C, H, W), got "
                             f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
        if not isinstance(labels, torch.Tensor) or labels.shape != images.shape[:1]:
            raise ValueError(f"DigitsDataset expects one label per image, got {images.shape[0]} images and "
                             f"labels of shape {tuple(labels.shape) if isinstance(labels, torch.Tensor) else labels}")
        if not _is_number(mean) or not _is_number(std) or std <= 0:
            raise ValueError(f"DigitsDataset expects a number mean and a std > 0, got {mean!r} and {std!r}")
        self.images = images
        self.labels = labels.long()
        self.augment = check_flag("augment", augment)
        self.mean, self.std = float(mean), float(std)
        self.background = -self.mean / self.std
        _check_augmentation(max_shift, max_rotation, self.background)
        self.max_shift, self.max_rotation = max_shift, max_rotation

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = self.images[index]
        if self.augment:
            image = augment_batch(image.unsqueeze(0), self.max_shift, self.max_rotation, self.background)[0]
        return image, int(self.labels[index])

    @property
    def image_size(self) -> int:
        return self.images.shape[-1]

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    def denormalize(self, images: torch.Tensor) -> torch.Tensor:
        """Back to grey levels 0-16 (for plots)."""
        return images * self.std + self.mean

    def __repr__(self) -> str:
        c, h, w = self.images.shape[1:]
        return (f"DigitsDataset({len(self)} images of {c}×{h}×{w}, {NUM_CLASSES} classes, "
                f"augment={self.augment})")


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images.astype(np.float32), digits.target  # (1797, 8, 8), grey levels 0..16; (1797,)


def _split(images: np.ndarray, labels: np.ndarray, fraction: float, seed: int) -> list[np.ndarray]:
    """(images kept, images held out, labels kept, labels held out), stratified by digit."""
    from sklearn.model_selection import train_test_split

    return train_test_split(images, labels, test_size=fraction, stratify=labels, random_state=seed)


def _check_split_arguments(image_size: object, channels: object, augment: object, seed: object,
                           **fractions: object) -> None:
    check_positive_int("image_size", image_size)
    check_positive_int("channels", channels)
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8 (the digits are 8×8 pixels), got {image_size}")
    check_flag("augment", augment)
    for name, value in fractions.items():
        _check_fraction(name, value)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")


def _datasets(parts: list[tuple[np.ndarray, np.ndarray]], image_size: int, channels: int, augment: bool
              ) -> list[DigitsDataset]:
    """Upscale every part, normalize all of them with the statistics of the first (the training images,
    as the network will see them), and augment the first only."""
    def upscale(x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(x).unsqueeze(1)  # (N, 1, 8, 8)
        if image_size != 8:
            t = F.interpolate(t, size=(image_size, image_size), mode="bilinear", align_corners=False)
        return t

    big = [upscale(x) for x, _ in parts]
    mean, std = big[0].mean().item(), big[0].std().item()

    def normalize(t: torch.Tensor) -> torch.Tensor:
        return ((t - mean) / std).expand(-1, channels, -1, -1).contiguous()

    return [DigitsDataset(normalize(t), torch.from_numpy(y), augment and i == 0, mean, std)
            for i, (t, (_, y)) in enumerate(zip(big, parts, strict=True))]


def digits_datasets(image_size: int = 8, channels: int = 1, augment: bool = False, test_fraction: float = 0.2,
                    seed: int = 0) -> tuple[DigitsDataset, DigitsDataset]:
    """The digits as a (train, test) pair of :class:`DigitsDataset`.

    Args:
        image_size: side of the images the network gets; 8 is the original size, larger sizes are
            bilinear upscalings (no new detail, only more pixels for a stem to shrink).
        channels: 1 (grey) or more: the grey channel repeated, for networks built for RGB input.
        augment: random shifts (up to 10% of the size) and rotations (up to 10°) of the training images.
            The test images are never augmented.
        test_fraction: share of the 1,797 images held out, stratified by digit (0.2 → 1,437 / 360).
        seed: fixes the split.

    To choose settings (a learning rate, a width, a number of epochs) without looking at the test
    images, use :func:`digits_splits`, which also holds out a validation set.
    """
    _check_split_arguments(image_size, channels, augment, seed, test_fraction=test_fraction)
    x_train, x_test, y_train, y_test = _split(*_load_digits(), test_fraction, seed)
    train, test = _datasets([(x_train, y_train), (x_test, y_test)], image_size, channels, augment)
    return train, test


def digits_splits(image_size: int = 8, channels: int = 1, augment: bool = False, val_fraction: float = 0.2,
                  test_fraction: float = 0.2, seed: int = 0) -> tuple[DigitsDataset, DigitsDataset, DigitsDataset]:
    """The digits as (train, validation, test) :class:`DigitsDataset`, for a controlled experiment.

    Compare settings on the validation images, then report the chosen one once on the test images:
    a test accuracy that picked the setting is no longer an estimate of the accuracy on new images.

    The test set is exactly that of :func:`digits_datasets` with the same ``test_fraction`` and
    ``seed``; the validation set is then held out of the remaining images, again stratified by digit
    (``val_fraction`` is a share of all 1,797 images: the defaults give 1,077 / 360 / 360). All three
    are normalized with the statistics of the training images only; only those are augmented.
    Arguments as in :func:`digits_datasets`.
    """
    _check_split_arguments(image_size, channels, augment, seed, val_fraction=val_fraction,
                           test_fraction=test_fraction)
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"val_fraction + test_fraction must leave training images (be < 1), got "
                         f"{val_fraction} + {test_fraction}")
    x_rest, x_test, y_rest, y_test = _split(*_load_digits(), test_fraction, seed)
    x_train, x_val, y_train, y_val = _split(x_rest, y_rest, val_fraction / (1.0 - test_fraction), seed)
    train, val, test = _datasets([(x_train, y_train), (x_val, y_val), (x_test, y_test)], image_size, channels,
                                 augment)
    return train, val, test


def digits_loaders(batch_size: int = 64, image_size: int = 8, channels: int = 1, augment: bool = False,
                   test_fraction: float = 0.2, seed: int = 0, distributed: bool = False,
                   test_batch_size: int = 256) -> tuple[DataLoader, DataLoader]:
    """(train, test) loaders over :func:`digits_datasets`.

    ``seed`` fixes the split. The training loader reshuffles every epoch from PyTorch's global random
    generator, which ``inception.training.fit`` seeds: two runs with the same seed see the same batches,
    even when they share the loaders, provided that they draw from that generator in the same way in
    between. Every pass over a ``DataLoader``, the test loader's included, takes a number from it, so
    the runs must evaluate at the same steps (the same ``eval_every``).

    With ``distributed=True`` (under ``torchrun``) it uses a ``DistributedSampler``: each process gets its
    own share of every epoch; call ``loader.sampler.set_epoch(epoch)`` each epoch (the command-line
    trainer ``inception.train`` does). The test loader is not split: every process evaluates the whole
    test set.
    """
    check_positive_int("batch_size", batch_size)
    check_positive_int("test_batch_size", test_batch_size)
    check_flag("distributed", distributed)
    train, test = digits_datasets(image_size, channels, augment, test_fraction, seed)
    if distributed:
        from torch.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(train, shuffle=True, seed=seed)
        train_loader = DataLoader(train, batch_size=batch_size, sampler=sampler)
    else:
        train_loader = DataLoader(train, batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(test, batch_size=test_batch_size, shuffle=False)
    return train_loader, test_loader


__all__ = ["CLASSES", "NUM_CLASSES", "DigitsDataset", "augment_batch", "digits_datasets", "digits_loaders",
           "digits_splits"]
