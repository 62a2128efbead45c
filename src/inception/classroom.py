"""Student copies of the book's notebooks: every hidden solution removed, every exercise's checker kept.

    python -m inception.classroom notebooks student          # all chapters into ./student
    python -m inception.classroom notebooks/02_*.ipynb out    # some chapters
    python -m inception.classroom notebooks student --clear-outputs

In a chapter, an exercise's solution is the run of cells from a gated ``{solution-start} ex-N-M``
markdown cell to its ``{solution-end}`` cell (see CONTRIBUTING.md). A student copy drops that run and puts
one code cell in its place::

    answer = ...  # your answer
    check("N.M", answer)

Run as it is, that cell raises ``WrongAnswer`` asking the student to replace the ``...``; with an answer,
``check`` says why it is right or what is wrong with it. Everything else in the notebook is kept as it
is, stored outputs included (``--clear-outputs`` removes them, so students see only what they run).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

# The opening line of a directive that a student copy removes: ```{solution-start} ex-1-2, ```{solution-end},
# ```{solution} ex-1-5 (a solution in prose, no code), with backtick or colon fences.
DIRECTIVE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|:{3,})\{(?P<name>solution-start|solution-end|solution)\}[ \t]*(?P<arg>\S*)")
EXERCISE = re.compile(r"[`:]{3,}\s*\{exercise(?:-start)?\}[^\n]*\n(?:[ \t]*:[^\n]*\n)*?[ \t]*:label:\s*(ex-\d+-\d+)")
CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d+\.\d+)["']""")
IMPORTS_CHECK = re.compile(r"^\s*from\s+inception\.exercises\s+import\s+[^\n]*\bcheck\b", re.M)
STUDENT_TAG = "student-answer"


@dataclass(frozen=True)
class Solution:
    """One hidden solution: from the ``{solution-start}`` in cell ``start`` to the ``{solution-end}`` in cell
    ``end`` (inclusive), checked with ``check(exercise_id, ...)``."""

    exercise_id: str  # "N.M", as check() knows it
    label: str  # "ex-N-M", as the {exercise} directive names it
    start: int
    end: int


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _segments(text: str) -> list[tuple[str, str]]:
    """Split markdown into ("text", markdown) and (directive name, argument) pieces, each solution
    directive taken whole, from its opening fence to its closing one (or the end of the cell)."""
    lines = text.splitlines(keepends=True)
    pieces: list[tuple[str, str]] = []
    kept: list[str] = []
    i = 0
    while i < len(lines):
        opening = DIRECTIVE.match(lines[i])
        if not opening:
            kept.append(lines[i])
            i += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*\n?")
        i += 1
        while i < len(lines) and not closing.fullmatch(lines[i]):
            i += 1
        i += 1
        if kept:
            pieces.append(("text", "".join(kept)))
            kept = []
        pieces.append((opening["name"], opening["arg"]))
    if kept:
        pieces.append(("text", "".join(kept)))
    return pieces


def _events(nb):
    """(cell index, kind, value) for every cell: kind is "cell" for code and raw cells, "text" or a
    solution directive's name for the pieces of a markdown cell."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            yield i, "cell", ""
            continue
        for kind, value in _segments(_source(cell)):
            yield i, kind, value


def exercise_labels(nb) -> list[str]:
    """The ``:label:`` of every ``{exercise}`` directive in the notebook's markdown, in order."""
    return [m.group(1) for c in nb.cells if c.cell_type == "markdown" for m in EXERCISE.finditer(_source(c))]


def prose_solutions(nb) -> list[str]:
    """The labels that ``{solution}`` directives (solutions in prose, with no checker) refer to."""
    return [value for _, kind, value in _events(nb) if kind == "solution"]


def solutions(nb) -> list[Solution]:
    """The hidden (gated) solutions of a notebook, in order. Raises ``ValueError`` for unbalanced markup."""
    found: list[Solution] = []
    open_at: int | None = None
    label = ""
    for i, kind, value in _events(nb):
        if kind == "solution-start":
            if open_at is not None:
                raise ValueError(f"cell {i}: {{solution-start}} {value} before the {{solution-end}} "
                                 f"of {label} (cell {open_at})")
            open_at, label = i, value
        elif kind == "solution-end":
            if open_at is None:
                raise ValueError(f"cell {i}: {{solution-end}} without a {{solution-start}} before it")
            calls = {m.group(1) for c in nb.cells[open_at:i + 1] if c.cell_type == "code"
                     for m in CHECK_CALL.finditer(_source(c))}
            if len(calls) > 1:
                raise ValueError(f"solution {label} (cells {open_at}-{i}) checks several exercises: {sorted(calls)}")
            from_label = label.removeprefix("ex-").replace("-", ".")
            found.append(Solution(calls.pop() if calls else from_label, label, open_at, i))
            open_at = None
    if open_at is not None:
        raise ValueError(f"cell {open_at}: {{solution-start}} {label} has no {{solution-end}}")
    return found


def answer_cell(exercise_id: str, import_check: bool) -> nbformat.NotebookNode:
    """The code cell a student copy has in place of a hidden solution."""
    lines = ["from inception.exercises import check", ""] if import_check else []
    lines += ["answer = ...  # your answer", f'check("{exercise_id}", answer)']
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = [STUDENT_TAG]
    return cell


def student_copy(nb, clear_outputs: bool = False):
    """A copy of notebook ``nb`` with each hidden solution replaced by an answer-and-check cell and each
    solution in prose removed. Markdown around a solution's markers, in the same cell, is kept."""
    ends = {s.end: s for s in solutions(nb)}  # also validates the markup
    nb = copy.deepcopy(nb)
    cells: list = []
    inside, has_check = False, False
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            if inside:
                continue
            if cell.cell_type == "code":
                has_check = has_check or bool(IMPORTS_CHECK.search(_source(cell)))
                if clear_outputs:
                    cell.outputs, cell.execution_count = [], None
            cells.append(cell)
            continue
        pieces = _segments(_source(cell))
        if pieces == [("text", _source(cell))] and not inside:
            cells.append(cell)  # the common case: a markdown cell with no solution in it
            continue
        kept: list[str] = []

        def flush(cell=cell, kept=kept) -> None:
            text = "".join(kept).strip("\n")
            kept.clear()
            if text.strip():
                part = copy.deepcopy(cell)
                part.source = text
                cells.append(part)

        for kind, _value in pieces:
            if kind == "text" and not inside:
                kept.append(_value)
            elif kind == "solution-start":
                flush()
                inside = True
            elif kind == "solution-end":
                cells.append(answer_cell(ends[i].exercise_id, import_check=not has_check))
                has_check, inside = True, False
        flush()
    nb.cells = cells
    for n, cell in enumerate(nb.cells):  # fresh, unique cell ids (nbformat 4.5)
        cell["id"] = f"cell-{n}"
    nb.metadata["inception"] = {"student_copy": True}
    return nb


def write_student_copies(sources: Iterable[Path], outdir: Path, clear_outputs: bool = False) -> list[Path]:
    """Write a student copy of each notebook in ``sources`` (files or folders of ``*.ipynb``) to ``outdir``."""
    notebooks: list[Path] = []
    for source in map(Path, sources):
        if source.is_dir():
            notebooks += sorted(p for p in source.glob("*.ipynb") if not p.name.startswith("."))
        elif source.suffix == ".ipynb" and source.is_file():
            notebooks.append(source)
        else:
            raise ValueError(f"expected a notebook (.ipynb) or a folder of notebooks, got {str(source)!r}")
    if not notebooks:
        raise ValueError(f"no notebooks found in {[str(s) for s in sources]}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        try:
            copy_ = student_copy(nb, clear_outputs=clear_outputs)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
        target = outdir / path.name
        if target.resolve() == path.resolve():
            raise ValueError(f"refusing to overwrite the chapter itself: {path}")
        nbformat.write(copy_, target)
        written.append(target)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inception.classroom",
        description="Write student copies of the book's notebooks: hidden solutions removed, checkers kept.")
    parser.add_argument("sources", nargs="+", type=Path, help="notebooks, or folders of notebooks")
    parser.add_argument("outdir", type=Path, help="folder to write the student copies to")
    parser.add_argument("--clear-outputs", action="store_true", help="also remove the stored outputs")
    args = parser.parse_args(argv)
    try:
        written = write_student_copies(args.sources, args.outdir, clear_outputs=args.clear_outputs)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    for path in written:
        nb = nbformat.read(path, as_version=4)
        n = sum(STUDENT_TAG in c.metadata.get("tags", []) for c in nb.cells)
        print(f"{path}: {n} exercise{'s' * (n != 1)} to answer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
