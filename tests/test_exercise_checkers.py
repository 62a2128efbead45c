"""Every exercise's checker accepts the hidden solution and rejects plausible wrong answers helpfully.

How "accepts the hidden solution" is tested, without running the chapters a second time: every hidden
solution ends in code cells that call ``check("N.M", answer)``, and the chapter is committed with the
output of that call, "✓ Exercise N.M: ...". The notebook run of the test suite (nbval, in
tests/test_colab.py) re-executes every solution cell and fails if that output does not reproduce, and
``check`` raises ``WrongAnswer`` for an answer it rejects. So it is enough to check here that every
registered exercise has such a solution cell with the ✓ output stored, that nbval compares it (no
``NBVAL_SKIP``, no ``raises-exception`` tag), and that every exercise in the book has a checker.

An exercise that asks for an argument rather than a value (marked "no checker" in its text) has a
solution in prose, a ``{solution}`` directive; every other exercise needs a checked hidden solution, and
a chapter at least three of them.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from inception.classroom import CHECK_CALL, exercise_labels, prose_solutions, solutions
from inception.exercises import WrongAnswer, check, exercises

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = exercises()


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", "") if isinstance(out.get("text", ""), str) else "".join(out["text"]))
        for mime, value in out.get("data", {}).items():
            if mime == "text/plain":
                parts.append(value if isinstance(value, str) else "".join(value))
    return "".join(parts)


def _solution_checks() -> dict[str, list[tuple[str, object]]]:
    """exercise id -> [(notebook name, solution code cell that calls check(id, ...))]."""
    found: dict[str, list[tuple[str, object]]] = {}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for span in solutions(nb):
            for cell in nb.cells[span.start:span.end + 1]:
                if cell.cell_type == "code" and CHECK_CALL.search(_source(cell)):
                    found.setdefault(span.exercise_id, []).append((path.name, cell))
    return found


SOLUTION_CHECKS = _solution_checks()


@pytest.mark.parametrize("ex", EXERCISES, ids=[e.id for e in EXERCISES])
def test_checker_rejects_every_plausible_wrong_answer(ex):
    wrong = ex.wrong_answers()
    assert wrong, f"exercise {ex.id} lists no plausible wrong answers (wrong=[...] in its @exercise)"
    for answer in wrong:
        with pytest.raises(WrongAnswer) as info:
            check(ex.id, answer)
        message = str(info.value)
        assert message.startswith(f"Exercise {ex.id}: "), message
        assert "expected" in message.lower(), (
            f"exercise {ex.id}: rejecting {answer!r} should say what was expected; it said {message!r}")


@pytest.mark.parametrize("ex", EXERCISES, ids=[e.id for e in EXERCISES])
def test_checker_asks_to_fill_in_the_blank(ex):
    with pytest.raises(WrongAnswer, match=r"replace the \.\.\."):
        check(ex.id, ...)


@pytest.mark.parametrize("ex", EXERCISES, ids=[e.id for e in EXERCISES])
def test_hidden_solution_is_accepted(ex):
    cells = SOLUTION_CHECKS.get(ex.id)
    assert cells, (f"exercise {ex.id} ({ex.title!r}) is registered, but no notebook has a hidden solution "
                   f'that calls check("{ex.id}", ...)')
    for name, cell in cells:
        src = _source(cell)
        assert "NBVAL_SKIP" not in src, f"{name}: the solution of {ex.id} is skipped by nbval, so it is untested"
        assert "raises-exception" not in cell.metadata.get("tags", []), (
            f"{name}: the solution cell of {ex.id} is allowed to raise, so a rejected answer would pass")
        assert f"✓ Exercise {ex.id}:" in _outputs_text(cell), (
            f"{name}: the solution cell of {ex.id} has no stored '✓ Exercise {ex.id}:' output; run the "
            "notebook and commit its outputs")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_exercise_in_the_book_has_a_checker_and_a_solution(path):
    nb = nbformat.read(path, as_version=4)
    labels = exercise_labels(nb)
    spans = solutions(nb)
    registered = {e.id for e in EXERCISES}
    assert len(set(labels)) == len(labels), f"{path.name}: duplicate exercise labels {labels}"
    prose = prose_solutions(nb)
    missing = [label for label in labels if label not in {s.label for s in spans} | set(prose)]
    assert not missing, (f"{path.name}: exercises {missing} have no solution; give each a hidden solution "
                         "({solution-start} ... {solution-end}, see CONTRIBUTING.md)")
    strays = [s.label for s in spans if s.label not in labels] + [p for p in prose if p not in labels]
    assert not strays, f"{path.name}: solutions {strays} refer to no {{exercise}} of this chapter"
    assert len(spans) >= 3, f"{path.name}: at least 3 exercises need a checked solution, found {len(spans)}"
    for span in spans:
        assert span.exercise_id == span.label.removeprefix("ex-").replace("-", "."), (
            f"{path.name}: solution {span.label} checks exercise {span.exercise_id}")
        assert span.exercise_id in registered, (
            f"{path.name}: exercise {span.exercise_id} has no checker; register one in "
            f"src/inception/exercises/ch{span.exercise_id.split('.')[0].zfill(2)}.py")
        chapter = int(path.name[:2])
        assert int(span.exercise_id.split(".")[0]) == chapter, (
            f"{path.name}: exercise {span.exercise_id} belongs to chapter {chapter}")


def test_exercise_difficulties_run_easiest_first():
    order = {"easy": 0, "medium": 1, "hard": 2}
    chapters = sorted({e.chapter for e in EXERCISES})
    for chapter in chapters:
        levels = [order[e.difficulty] for e in exercises(chapter)]
        assert levels == sorted(levels), (
            f"chapter {chapter}: exercises should run easiest first, got "
            f"{[(e.id, e.difficulty) for e in exercises(chapter)]}")
