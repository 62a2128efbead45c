import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import inception.exercises
from inception.exercises import (
    WrongAnswer,
    check,
    exercise,
    exercises,
    expect_close,
    expect_equal,
    expect_module,
    expect_shape,
    run_module,
    seeded_input,
)

EXERCISES = Path(inception.exercises.__file__).parent


def test_every_exercise_is_well_formed():
    for ex in exercises():
        assert ex.title and ex.difficulty in ("easy", "medium", "hard")
        assert ex.wrong, f"exercise {ex.id} lists no plausible wrong answers"


def test_every_chapter_module_is_imported_by_name():
    """``exercises/__init__.py`` imports each chapter's checkers by name (no discovery at run time), so a
    reader and an import analysis see them; a ``chNN.py`` left out of that import would never register."""
    files = sorted(p.stem for p in EXERCISES.glob("ch*.py"))
    tree = ast.parse((EXERCISES / "__init__.py").read_text())
    imported = sorted(alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                      and node.level == 1 and node.module is None for alias in node.names)
    assert imported == files, (f"src/inception/exercises/__init__.py imports {imported}, the folder has {files}: "
                               "add each chapter's module to its `from . import ...` line")
    assert "pkgutil" not in (EXERCISES / "__init__.py").read_text()
    for name in files:
        chapter = int(name.removeprefix("ch"))
        assert exercises(chapter), f"{name}.py registers no exercise of chapter {chapter}"


LOADED_BY_IMPORT = """
import json, sys
import torch  # torch itself loads tqdm (torch.hub); what matters is what the package adds to it
before = set(sys.modules)
import inception
import inception.exercises
print(json.dumps(sorted(set(sys.modules) - before)))
"""
# The tooling that `import inception` and the checkers a student imports must not pull in.
TOOLING = ("nbformat", "tqdm", "yaml", "inception.classroom", "inception.bench", "inception.train")


def test_importing_the_package_loads_no_tooling():
    result = subprocess.run([sys.executable, "-c", LOADED_BY_IMPORT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    tooling = [m for m in loaded if any(m == t or m.startswith(f"{t}.") for t in TOOLING)]
    assert not tooling, f"`import inception, inception.exercises` loads {tooling}"
    assert "inception.exercises.ch01" in loaded


def test_unknown_exercise_is_a_clear_error():
    with pytest.raises(ValueError, match="there is no exercise '99.9'"):
        check("99.9", 1)
    with pytest.raises(ValueError, match='an exercise id is a string like "3.2"'):
        check(1.1, 1)


def test_placeholder_answer_asks_for_an_answer():
    some = exercises()[0].id
    with pytest.raises(WrongAnswer, match="replace the ... with your answer"):
        check(some, ...)


def test_expect_helpers_say_what_was_expected_and_given():
    with pytest.raises(WrongAnswer, match=r"expected the count; got 5 \(too high\)"):
        expect_equal(5, 4, "the count")
    with pytest.raises(WrongAnswer, match="as int, got str"):
        expect_equal("4", 4, "the count")
    with pytest.raises(WrongAnswer, match="too low"):
        expect_close(0.5, 0.72, "the ratio")
    expect_close(0.721, 0.72, "the ratio")


@pytest.mark.parametrize("args, match", [
    (("3", "A title"), 'exercise ids look like "3.2"'),
    (("3.0", "A title"), 'exercise ids look like "3.2"'),
    ((3.2, "A title"), 'exercise ids look like "3.2"'),
    (("99.1", ""), "title must be a non-empty string"),
    (("99.1", "A title", "tricky"), "difficulty must be one of"),
    (("99.1", "A title", "easy", "42"), "wrong must be a list of plausible wrong answers"),
])
def test_registering_checks_its_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        exercise(*args)


def test_a_checker_is_registered_once():
    with pytest.raises(ValueError, match="decorates a checker function"):
        exercise("99.1", "A title")("not a function")
    with pytest.raises(ValueError, match="is registered twice"):
        exercise(exercises()[0].id, "A title")(lambda answer: "right")
    assert "99.1" not in {e.id for e in exercises()}


def test_the_vocabulary_checks_the_checkers_own_arguments():
    """A checker's own mistakes are ValueErrors; only the student's answer raises WrongAnswer."""
    with pytest.raises(ValueError, match="chapter must be a positive integer"):
        exercises(0)
    with pytest.raises(ValueError, match="what must describe the expected quantity"):
        expect_equal(4, 4, "")
    with pytest.raises(ValueError, match="hint must be a string"):
        expect_equal(4, 4, "the count", hint=None)
    with pytest.raises(ValueError, match="expected must be a finite number"):
        expect_close(0.5, "0.5", "the ratio")
    with pytest.raises(ValueError, match=r"rel must be a relative tolerance in \(0, 1\)"):
        expect_close(0.5, 0.5, "the ratio", rel=0)
    with pytest.raises(ValueError, match="what must describe"):
        expect_module(torch.nn.Identity(), None)
    with pytest.raises(ValueError, match="expected must be a shape"):
        expect_shape(torch.zeros(2), "2", "the output")
    with pytest.raises(ValueError, match="seeded_input needs a shape"):
        seeded_input()
    with pytest.raises(ValueError, match="seeded_input's shape must be a positive integer, got 0"):
        seeded_input(2, 0)
    with pytest.raises(ValueError, match="x must be the torch.Tensor"):
        run_module(torch.nn.Identity(), [1.0], "a layer")
    expect_close(torch.tensor(0.5), torch.tensor(0.5), "the ratio")
    expect_shape(run_module(torch.nn.Identity(), seeded_input(2, 3), "a layer"), torch.Size([2, 3]), "the output")
