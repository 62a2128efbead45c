"""The package and its tests stay as DESIGN.md describes them: ruff's rules from pyproject.toml pass over
src/ and tests/, McCabe complexity (C901) at most 10 per function included, whatever pyproject.toml says.
This is how the README's test command runs ruff."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUFF = [sys.executable, "-m", "ruff", "check", "--no-cache", "--extend-select", "C901",
        "--config", "lint.mccabe.max-complexity = 10"]


def test_ruff_passes():
    result = subprocess.run([*RUFF, "src", "tests"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"`ruff check src tests` found problems:\n{result.stdout}{result.stderr}"

