"""The digits data: split, normalization, upscaling, augmentation, loaders."""

import pytest
import torch

from inception.data import (
    CLASSES,
    NUM_CLASSES,
    DigitsDataset,
    augment_batch,
    digits_datasets,
    digits_loaders,
    digits_splits,
)


@pytest.fixture(scope="module")
def digits():
    return digits_datasets()


def test_split_sizes_and_stratification(digits):
    train, test = digits
    assert (len(train), len(test)) == (1437, 360)
    assert len(CLASSES) == NUM_CLASSES == 10
    counts = torch.bincount(test.labels, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # every digit in the same share


def test_split_is_fixed_and_seeded(digits):
    train, test = digits
    again, _ = digits_datasets()
    assert torch.equal(train.images, again.images) and torch.equal(train.labels, again.labels)
    other, _ = digits_datasets(seed=1)
    assert not torch.equal(train.labels, other.labels)


def test_normalized_with_training_statistics(digits):
    train, test = digits
    assert abs(train.images.mean().item()) < 1e-5
    assert abs(train.images.std().item() - 1) < 1e-3
    grey = train.denormalize(train.images)
    assert grey.min().item() == pytest.approx(0, abs=1e-4) and grey.max().item() == pytest.approx(16, abs=1e-4)
    assert train.denormalize(torch.tensor(train.background)).item() == pytest.approx(0, abs=1e-5)


@pytest.mark.parametrize("size, channels", [(8, 1), (32, 3), (75, 1)])
def test_upscaling_and_channels(size, channels):
    train, test = digits_datasets(image_size=size, channels=channels)
    image, label = train[0]
    assert image.shape == (channels, size, size) and test[0][0].shape == (channels, size, size)
    assert isinstance(label, int) and 0 <= label < 10
    assert torch.equal(image[0], image[-1])  # channels repeat the grey image
    assert abs(train.images.mean().item()) < 1e-4 and abs(train.images.std().item() - 1) < 1e-3


def test_augmentation_only_on_training_images():
    train, test = digits_datasets(image_size=16, augment=True)
    assert train.augment and not test.augment
    torch.manual_seed(0)
    a, b = train[5][0], train[5][0]
    assert a.shape == (1, 16, 16) and not torch.equal(a, b)
    assert torch.equal(test[5][0], test[5][0])


def test_augment_batch_identity_and_background():
    x = torch.randn(4, 2, 12, 12)
    assert torch.allclose(augment_batch(x, max_shift=0, max_rotation=0), x, atol=1e-5)
    blank = torch.full((3, 1, 8, 8), -0.5)
    assert torch.allclose(augment_batch(blank, background=-0.5), blank, atol=1e-6)


def test_loaders_batches():
    train_loader, test_loader = digits_loaders(batch_size=50, image_size=12, channels=3)
    x, y = next(iter(train_loader))
    assert x.shape == (50, 3, 12, 12) and y.shape == (50,) and y.dtype == torch.int64
    assert sum(len(y) for _, y in test_loader) == 360
    assert len(train_loader) == 29  # ceil(1437 / 50)


def _grey_rows(dataset):
    """The images as sorted rows of grey levels (0-16), to compare sets of images."""
    grey = dataset.denormalize(dataset.images).round().flatten(1)
    return sorted(map(tuple, grey.tolist()))


def test_train_validation_test_split(digits):
    train, val, test = digits_splits()
    assert (len(train), len(val), len(test)) == (1077, 360, 360)
    for part in (train, val, test):  # stratified: every digit in the same share
        counts = torch.bincount(part.labels, minlength=10).float() / len(part)
        assert counts.min() > 0.09 and counts.max() < 0.11
    # The test set is digits_datasets()'s; validation and training share its training images.
    assert torch.equal(test.labels, digits[1].labels)
    assert torch.allclose(test.denormalize(test.images), digits[1].denormalize(digits[1].images), atol=1e-4)
    both = DigitsDataset(torch.cat([train.images, val.images]), torch.cat([train.labels, val.labels]),
                         mean=train.mean, std=train.std)
    assert _grey_rows(both) == _grey_rows(digits[0])
    # Normalized with the statistics of the training images only.
    assert abs(train.images.mean().item()) < 1e-5 and abs(train.images.std().item() - 1) < 1e-3
    assert val.mean == test.mean == train.mean and val.std == test.std == train.std


def test_split_is_seeded_and_augments_training_images_only():
    a, b = digits_splits(seed=1), digits_splits(seed=1)
    assert all(torch.equal(x.labels, y.labels) and torch.equal(x.images, y.images) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[1].labels, digits_splits(seed=2)[1].labels)
    train, val, test = digits_splits(image_size=16, channels=3, augment=True, val_fraction=0.1, test_fraction=0.3)
    assert (len(val), len(test)) == (180, 540) and len(train) == 1797 - 180 - 540
    assert train.augment and not val.augment and not test.augment
    assert train[0][0].shape == val[0][0].shape == (3, 16, 16)


@pytest.mark.parametrize("kwargs, match", [
    (dict(val_fraction=0.0), "val_fraction must be a number strictly between 0 and 1"),
    (dict(val_fraction=0.5, test_fraction=0.5), "val_fraction \\+ test_fraction must leave training images"),
    (dict(augment="yes"), "augment must be True or False"),
    (dict(image_size=7), "at least 8"),
])
def test_bad_split_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        digits_splits(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(image_size=4), "at least 8"),
    (dict(image_size=0), "image_size must be a positive integer"),
    (dict(channels=0), "channels must be a positive integer"),
    (dict(test_fraction=1.5), "test_fraction must be a number strictly between 0 and 1"),
    (dict(seed="zero"), "seed must be an int"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        digits_datasets(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        digits_loaders(batch_size=0)
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\)"):
        augment_batch(torch.zeros(8, 8))
    with pytest.raises(ValueError, match="max_shift"):
        augment_batch(torch.zeros(1, 1, 8, 8), max_shift=2)
    with pytest.raises(ValueError, match="one label per image"):
        DigitsDataset(torch.zeros(3, 1, 8, 8), torch.zeros(2))
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\)"):
        DigitsDataset(torch.zeros(3, 8, 8), torch.zeros(3))
    with pytest.raises(ValueError, match="std > 0"):
        DigitsDataset(torch.zeros(3, 1, 8, 8), torch.zeros(3), std=0.0)
    with pytest.raises(ValueError, match="max_rotation must be in"):
        DigitsDataset(torch.zeros(3, 1, 8, 8), torch.zeros(3), max_rotation="10")
    with pytest.raises(ValueError, match="augment must be True or False"):
        DigitsDataset(torch.zeros(3, 1, 8, 8), torch.zeros(3), augment=1)
    with pytest.raises(ValueError, match="background must be a number"):
        augment_batch(torch.zeros(1, 1, 8, 8), background=None)
    with pytest.raises(ValueError, match="distributed must be True or False"):
        digits_loaders(distributed="no")
    with pytest.raises(ValueError, match="test_batch_size must be a positive integer"):
        digits_loaders(test_batch_size=0)
