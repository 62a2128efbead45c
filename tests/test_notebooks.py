"""Notebook hygiene: what makes nbval's comparison of stored outputs honest and stable.

nbval (run by the README's test command) re-executes every notebook and compares outputs. These tests
check what nbval cannot: that the stored outputs come from one clean top-to-bottom run, that ignored
outputs still assert their claims, that the Colab setup cell comes first and points at the repository
in `_config.yml`, and that every chapter is in the table of contents.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
VARYING = re.compile(r"\d+(\.\d+)?\s*(it/s|s/it)|0x[0-9a-f]{6,}|\d+:\d\d<\d+:\d\d|elapsed|took \d", re.I)
MERMAID_FENCE = re.compile(r"```\s*\{?mermaid\}?\s*\n(.*?)```", re.S)
UNQUOTED_PAREN_LABEL = re.compile(r"[\[({](?!\")[^\]\"})]*\([^\]\"]*[\])}]")


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _texts(cell):
    for out in cell.get("outputs", []):
        if "text" in out:
            yield "".join(out["text"]) if isinstance(out["text"], list) else out["text"]
        for key, value in out.get("data", {}).items():
            if key.startswith("text/"):
                yield "".join(value) if isinstance(value, list) else value


def _code_cells(path):
    nb = json.loads(path.read_text())
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _repository_url():
    return yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return files


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_come_from_one_clean_run(path):
    counts = [c["execution_count"] for c in _code_cells(path) if _source(c).strip()]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} — re-run it with `jupyter-execute --inplace {path.name}`"
    )
    errors = [i for i, c in enumerate(_code_cells(path), 1)
              if any(o["output_type"] == "error" for o in c.get("outputs", []))]
    assert not errors, f"{path.name}: code cells {errors} have stored error outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_colab_setup(path):
    first = _source(_code_cells(path)[0])
    assert '"google.colab" in sys.modules' in first, f"{path.name}: first code cell is not the Colab setup"
    repo = _repository_url().removeprefix("https://")
    assert f"git+https://{repo}" in first, f"{path.name}: setup cell does not install from {repo}"
    assert not _code_cells(path)[0].get("outputs"), f"{path.name}: the setup cell prints something locally"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_ignored_outputs_still_assert_and_skips_are_colab_only(path):
    for i, cell in enumerate(_code_cells(path), 1):
        src = _source(cell)
        if "NBVAL_IGNORE_OUTPUT" in src:
            assert "assert" in src, f"{path.name} cell {i}: output ignored but the cell asserts nothing"
        if "NBVAL_SKIP" in src:
            assert re.search(r"colab|internet|download", src, re.I), (
                f"{path.name} cell {i}: NBVAL_SKIP is only for Colab-only cells that need the internet, "
                "and the cell must say so in a comment"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbval_markers_stand_alone_on_their_line(path):
    # nbval reads a marker only when it is the whole comment: "# NBVAL_SKIP: needs the internet" is not a
    # marker, and such a cell would run (and have its output compared) under the test suite.
    for i, cell in enumerate(_code_cells(path), 1):
        for line in _source(cell).splitlines():
            if re.match(r"\s*#\s*NBVAL_", line):
                assert re.fullmatch(r"\s*#\s*NBVAL_(IGNORE_OUTPUT|SKIP|CHECK_OUTPUT|RAISES_EXCEPTION)\s*", line), (
                    f"{path.name} cell {i}: {line.strip()!r} is not a marker nbval reads; put the marker alone "
                    "on its line and the reason on the next")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_compared_outputs_are_machine_independent(path):
    for i, cell in enumerate(_code_cells(path), 1):
        src = _source(cell)
        if "NBVAL_IGNORE_OUTPUT" in src or "NBVAL_SKIP" in src:
            continue
        for text in _texts(cell):
            match = VARYING.search(text)
            assert not match, f"{path.name} cell {i}: compared output looks machine-dependent: {match.group(0)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_mermaid_labels_are_quoted(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"], 1):
        for text in [_source(cell), *_texts(cell)]:
            for block in MERMAID_FENCE.findall(text):
                for line in block.splitlines():
                    assert not UNQUOTED_PAREN_LABEL.search(line), (
                        f"{path.name} cell {i}: mermaid label with unquoted parentheses: {line.strip()!r}"
                    )


def test_every_chapter_is_in_the_table_of_contents_and_every_entry_exists():
    toc = _toc_files()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in toc, f"{path.name} is not in _toc.yml"
    for entry in toc:
        candidates = [ROOT / f"{entry}{ext}" for ext in ("", ".md", ".ipynb")]
        assert any(c.is_file() for c in candidates), f"_toc.yml lists {entry}, which does not exist"


def test_the_label_check_catches_what_mermaid_rejects():
    assert UNQUOTED_PAREN_LABEL.search('a[1×1 conv (64)] --> b')
    assert not UNQUOTED_PAREN_LABEL.search('a["1×1 conv (64)"] --> b')
    assert not UNQUOTED_PAREN_LABEL.search('x("input") --> b["concat"]')
