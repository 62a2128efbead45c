"""inception.pretrained: loading torchvision-keyed state dicts, the ImageNet transform, the offline references.

No network access: the state dicts are the deterministic stand-ins, the photos ship with scikit-learn, and
the references are checked against the committed torchvision fixtures (tests/fixtures/torchvision/).
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from fixture_script import SCRIPT
from sklearn.datasets import load_sample_images

from inception.googlenet import GoogLeNet
from inception.inception_v3 import InceptionV3, imagenet_to_inception_range
from inception.pretrained import (
    REFERENCES,
    TRANSFORMS,
    deterministic_state_dict,
    fixed_input,
    load_torchvision_weights,
    preprocess,
    reference,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "torchvision"
BUILDERS = {"googlenet": GoogLeNet.torchvision_layout, "inception_v3": InceptionV3}




@pytest.fixture(scope="module", params=["googlenet", "inception_v3"])
def name(request):
    return request.param


@pytest.fixture(scope="module")
def models():
    return {name: build().eval() for name, build in BUILDERS.items()}


@pytest.fixture(scope="module")
def states(models):
    """The deterministic stand-ins of torchvision's weight files (auxiliary heads included), made once."""
    return {name: deterministic_state_dict(model) for name, model in models.items()}


def test_deterministic_weights_are_the_fixture_scripts(name, states):
    entries = json.loads((FIXTURES / f"{name}.json").read_text())["state_dict"]
    ours = states[name]
    theirs = SCRIPT.deterministic_state_dict(entries)
    assert list(ours) == list(theirs)
    for key, tensor in theirs.items():
        assert torch.equal(ours[key], tensor), key


def test_fixed_input_is_the_fixture_scripts():
    for size in (112, 139, 299):
        assert torch.equal(fixed_input(size), SCRIPT.fixed_input(size))


def test_references_are_copied_from_the_fixtures():
    assert len(REFERENCES) == 4
    for ref in REFERENCES:
        meta = json.loads((FIXTURES / f"{ref.model}.json").read_text())
        assert ref.image_size == meta["input"]["sizes"]["eval"]
        logits = SCRIPT.load_logits(FIXTURES / f"{ref.model}_logits.json")
        mode = "eval_transform_input" if ref.transform_input else "eval"
        values, classes = logits[mode].topk(5, dim=1)
        assert classes.tolist() == [list(row) for row in ref.top5]
        torch.testing.assert_close(values, torch.tensor(ref.logits), rtol=0, atol=1e-6)


@pytest.mark.parametrize("transform_input", [False, True])
def test_the_book_models_reproduce_the_references(name, transform_input, states):
    ref = reference(name, transform_input)
    model = BUILDERS[name](transform_input=transform_input).eval()
    assert load_torchvision_weights(model, states[name]) == ()
    with torch.no_grad():
        values, classes = model(fixed_input(ref.image_size)).topk(5, dim=1)
    assert classes.tolist() == [list(row) for row in ref.top5]
    torch.testing.assert_close(values, torch.tensor(ref.logits), rtol=1e-4, atol=1e-4)


def test_auxiliary_heads_are_left_out_for_networks_built_without_them(name, states):
    state = states[name]  # what torchvision's weight file holds: heads included
    small = BUILDERS[name](aux_logits=False)
    heads = load_torchvision_weights(small, state)
    assert heads == {"googlenet": ("aux1", "aux2"), "inception_v3": ("AuxLogits",)}[name]
    for key, tensor in small.state_dict().items():
        assert torch.equal(tensor, state[key]), key


def test_a_state_dict_of_another_network_is_refused_clearly(states):
    with pytest.raises(ValueError, match="does not fit InceptionV3.*another network"):
        load_torchvision_weights(InceptionV3(aux_logits=False), states["googlenet"])


def test_another_number_of_classes_is_refused_clearly(states):
    with pytest.raises(ValueError, match=r"fc\.weight.*\(1000, 2048\).*\(10, 2048\).*num_classes"):
        load_torchvision_weights(InceptionV3(num_classes=10, aux_logits=False), states["inception_v3"])


@pytest.mark.parametrize("bad", [None, {"fc.weight": [1.0]}, [("fc.weight", torch.zeros(1))]])
def test_a_state_dict_must_map_names_to_tensors(bad):
    with pytest.raises(ValueError, match="state_dict must map"):
        load_torchvision_weights(InceptionV3(aux_logits=False), bad)


def test_reference_checks_its_arguments():
    with pytest.raises(ValueError, match="model"):
        reference("resnet50", False)
    with pytest.raises(ValueError, match="transform_input"):
        reference("googlenet", 1)


# preprocess: torchvision's ImageClassification, with torch operations


def test_preprocess_gives_the_crop_each_model_expects():
    photo = load_sample_images().images[0]  # 427 × 640
    for name, (resize, crop) in TRANSFORMS.items():
        x = preprocess(photo, resize, crop)
        assert x.shape == (3, crop, crop) and x.dtype == torch.float32, name


def test_preprocess_normalizes_with_the_imagenet_statistics():
    gray = np.full((10, 12, 3), 124, dtype=np.uint8)  # 124/255 ≈ 0.486
    x = preprocess(gray, 10, 8)
    expected = (torch.tensor(124 / 255) - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
    torch.testing.assert_close(x[:, 0, 0], expected)
    # and transform_input then gives Google's (x − 0.5) / 0.5 range
    torch.testing.assert_close(imagenet_to_inception_range(x[None])[0, :, 0, 0], torch.full((3,), 124 / 255 * 2 - 1))


def test_preprocess_resizes_the_shorter_side_and_crops_the_center():
    ramp = np.zeros((4, 8, 3), dtype=np.uint8)
    ramp[:, :, 0] = np.arange(8, dtype=np.uint8)[None] * 30  # red grows left to right
    x = preprocess(ramp, 4, 2)  # no resizing: the central 2 × 2 of columns 3 and 4
    red = x[0] * 0.229 + 0.485
    torch.testing.assert_close(red[0], torch.tensor([90 / 255, 120 / 255]))
    tall = np.zeros((9, 6, 3), dtype=np.uint8)
    assert preprocess(tall, 4, 4).shape == (3, 4, 4)  # 9 × 6 → 6 × 4 → 4 × 4


@pytest.mark.parametrize("image, message", [
    (np.zeros((8, 8, 3), dtype=np.float32), "8-bit"),
    (np.zeros((3, 8, 8), dtype=np.uint8), r"H×W×3"),
    (np.zeros((8, 8), dtype=np.uint8), r"H×W×3"),
])
def test_preprocess_rejects_what_is_not_an_8_bit_photo(image, message):
    with pytest.raises(ValueError, match=message):
        preprocess(image, 8, 8)


def test_preprocess_checks_the_sizes():
    photo = np.zeros((8, 8, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="crop_size must be at most resize_size"):
        preprocess(photo, 8, 9)
    with pytest.raises(ValueError, match="resize_size"):
        preprocess(photo, 0, 1)


def test_weights_saved_without_bn_counters_load():
    # torchvision's inception_v3_google file predates BN's num_batches_tracked buffers; load_state_dict
    # accepts their absence, and so must the book's loader.
    from inception.inception_v3 import InceptionV3
    from inception.pretrained import load_torchvision_weights

    model = InceptionV3(aux_logits=True)
    old_file = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert len(old_file) < len(model.state_dict())
    assert load_torchvision_weights(InceptionV3(aux_logits=True), old_file) == ()
