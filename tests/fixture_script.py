"""scripts/make_torchvision_fixtures.py, loaded as a module for the tests that read its fixtures
(test_pretrained.py, test_torchvision_layout.py): the script is not part of the package."""

import importlib.util
from pathlib import Path

PATH = Path(__file__).resolve().parents[1] / "scripts" / "make_torchvision_fixtures.py"


def load():
    spec = importlib.util.spec_from_file_location("make_torchvision_fixtures", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = load()
