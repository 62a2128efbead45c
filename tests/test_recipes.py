"""The training recipes: chapter 10's values, the network built for the recipe's images, clear errors."""

import dataclasses
import inspect

import pytest
import torch

from inception.layers import InceptionOutputs
from inception.recipes import DEFAULT_IMAGE_SIZE, DIGITS_RECIPES, TRAINING_SETTINGS, Recipe, build_model
from inception.training import fit

# Chapter 10's printed numbers depend on these: change them only together with the chapter.
ADAM = {"optimizer": "adam", "lr": 1e-3, "schedule": "cosine", "aux_weight": 0.3, "label_smoothing": 0.0}
CHAPTER_10 = {
    "inception_v2": ({"stem": "small", "width": 0.25, "fig5_modules": 1, "fig6_modules": 1, "fig7_modules": 1,
                      "fig6_n": 3, "dropout": 0.2, "aux_logits": True}, 8, 64, 8,
                     dict(ADAM, lr=3e-3, label_smoothing=0.1)),
    "googlenet": ({"aux_logits": True}, 32, 64, 3, ADAM),
    "bn_inception": ({}, 16, 64, 3, ADAM),
}


def test_digits_recipes_are_chapter_10s():
    assert list(DIGITS_RECIPES) == ["inception_v2", "googlenet", "bn_inception"]
    for name, (config, size, batch, epochs, settings) in CHAPTER_10.items():
        recipe = DIGITS_RECIPES[name]
        assert (recipe.network, recipe.config, recipe.image_size, recipe.batch_size, recipe.epochs) == (
            name, config, size, batch, epochs)
        assert recipe.fit_settings() == {"momentum": 0.9, "weight_decay": 0.0, **settings}


def test_fit_settings_are_fits_keyword_arguments():
    assert set(TRAINING_SETTINGS) <= set(inspect.signature(fit).parameters)
    defaults = Recipe("inception_v2").fit_settings()
    assert defaults == {k: inspect.signature(fit).parameters[k].default for k in TRAINING_SETTINGS}
    assert Recipe("googlenet").image_size == DEFAULT_IMAGE_SIZE["googlenet"] == 32


@pytest.mark.parametrize("name", list(DIGITS_RECIPES))
def test_each_recipe_builds_its_network_for_its_images(name):
    recipe = DIGITS_RECIPES[name]
    torch.manual_seed(0)
    model = recipe.build_model()
    x = torch.randn(2, 1, recipe.image_size, recipe.image_size)
    outputs = model.train()(x)
    assert isinstance(outputs, InceptionOutputs) == bool(recipe.config.get("aux_logits", False))
    assert model.eval()(x).shape == (2, 10)
    assert model.in_channels == 1 and model.min_input_size <= recipe.image_size


def test_build_model_defaults():
    model = build_model("inception_v2", {"width": 0.125})  # 8×8 digits: the small stem
    assert model.eval()(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    assert model.in_channels == 1 and model.min_input_size <= 8
    rgb = build_model("bn_inception", image_size=32, in_channels=3, num_classes=5)
    assert rgb.eval()(torch.zeros(1, 3, 32, 32)).shape == (1, 5)


def test_recipe_is_a_frozen_value_with_its_own_config():
    config = {"aux_logits": True}
    recipe = Recipe("googlenet", config, epochs=2)
    config["aux_logits"] = False
    assert recipe.config == {"aux_logits": True}
    with pytest.raises(dataclasses.FrozenInstanceError):
        recipe.lr = 1.0
    faster = dataclasses.replace(recipe, lr=0.1)
    assert faster.fit_settings()["lr"] == 0.1 and recipe.lr == 0.05


def test_recipe_loaders():
    train_loader, test_loader = DIGITS_RECIPES["bn_inception"].loaders(channels=3)
    x, y = next(iter(train_loader))
    assert x.shape == (64, 3, 16, 16) and y.shape == (64,)


@pytest.mark.parametrize("kwargs, match", [
    (dict(network="resnet"), "network must be one of"),
    (dict(config=[("width", 1)]), "config must be a dict"),
    (dict(config={"aux_weight": 0.3}), r"\['aux_weight'\] are training settings"),
    (dict(config={"image_size": 16}), r"give \['image_size'\] as build_model's own arguments"),
    (dict(image_size=0), "image_size must be a positive integer"),
    (dict(batch_size=1.5), "batch_size must be a positive integer"),
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(optimizer="lbfgs"), "optimizer must be one of"),
    (dict(lr=0.0), "lr must be a number > 0"),
    (dict(schedule="linear"), "schedule must be one of"),
    (dict(label_smoothing=1.0), r"label_smoothing must be a number in \[0, 1\)"),
    (dict(aux_weight=-1), "aux_weight must be a number >= 0"),
])
def test_bad_recipes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Recipe(**{"network": "inception_v2", **kwargs})


@pytest.mark.parametrize("args, kwargs, match", [
    (("resnet",), {}, "name must be one of"),
    (("googlenet", {"width": 0.5}), {}, r"GoogLeNet has no setting \['width'\]"),
    (("inception_v2", {"depth": 3}), {}, "unknown InceptionV2Config fields"),
    (("inception_v2", {"label_smoothing": 0.1}), {}, "are training settings"),
    (("bn_inception", {"num_classes": 5}), {}, r"give \['num_classes'\] as build_model's own arguments"),
    (("bn_inception",), {"image_size": -1}, "image_size must be a positive integer"),
])
def test_bad_build_model(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_model(*args, **kwargs)
