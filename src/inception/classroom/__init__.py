"""Student copies of the book's notebooks: every hidden solution removed, every exercise's checker kept.

    python -m inception.classroom notebooks student          # all chapters into ./student
    python -m inception.classroom notebooks/02_*.ipynb out    # some chapters
    python -m inception.classroom notebooks student --clear-outputs
    python -m inception.classroom --teachers-page book/teachers.md   # refresh the teachers' page

In a chapter, an exercise's solution is the run of cells from a gated ``{solution-start} ex-N-M``
markdown cell to its ``{solution-end}`` cell (see CONTRIBUTING.md). A student copy drops that run and puts
one code cell in its place::

    answer = ...  # your answer
    check("N.M", answer)

Run as it is, that cell raises ``WrongAnswer`` asking the student to replace the ``...``; with an answer,
``check`` says why it is right or what is wrong with it. Everything else in the notebook is kept as it
is, stored outputs included (``--clear-outputs`` removes them, so students see only what they run).

This module reads the exercise and solution markup of a chapter and writes student copies;
:mod:`inception.classroom.teachers` writes the teachers' page from the chapters, and
:mod:`inception.classroom.__main__` is the command line. The classroom tools need the package's
``classroom`` extra (``pip install "inception[classroom]"``); ``import inception`` never loads them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

EXTRA = "classroom"  # pyproject.toml's optional dependencies of the classroom tools
try:
    import nbformat
    import yaml  # noqa: F401 - the teachers' page reads _toc.yml; imported here so a missing one names the extra
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(
        f"inception.classroom needs {missing.name}, which comes with the package's {EXTRA!r} extra: "
        f'pip install "inception[{EXTRA}]" (in a clone of the book: pip install -e ".[{EXTRA}]")',
        name=missing.name) from missing

# The opening line of a directive that a student copy removes: ```{solution-start} ex-1-2, ```{solution-end},
# ```{solution} ex-1-5 (a solution in prose, no code), with backtick or colon fences.
DIRECTIVE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|:{3,})\{(?P<name>solution-start|solution-end|solution)\}[ \t]*(?P<arg>\S*)")
EXERCISE = re.compile(r"[`:]{3,}\s*\{exercise(?:-start)?\}[^\n]*\n(?:[ \t]*:[^\n]*\n)*?[ \t]*:label:\s*(ex-\d+-\d+)")
CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d+\.\d+)["']""")
IMPORTS_CHECK = re.compile(r"^\s*from\s+inception\.exercises\s+import\s+[^\n]*\bcheck\b", re.M)
EXERCISE_ID = re.compile(r"[1-9]\d*\.[1-9]\d*")
STUDENT_TAG = "student-answer"


@dataclass(frozen=True)
class Solution:
    """One hidden solution: from the ``{solution-start}`` in cell ``start`` to the ``{solution-end}`` in cell
    ``end`` (inclusive), checked with ``check(exercise_id, ...)``."""

    exercise_id: str  # "N.M", as check() knows it
    label: str  # "ex-N-M", as the {exercise} directive names it
    start: int
    end: int


def cell_source(cell) -> str:
    """A notebook cell's source as one string (a notebook on disk may store it as a list of lines)."""
    if not hasattr(cell, "get"):
        raise ValueError(f"expected a notebook cell (a dict with a 'source'), got {type(cell).__name__}")
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _check_notebook(nb) -> None:
    if not isinstance(getattr(nb, "cells", None), list):
        raise ValueError(f"expected a notebook as nbformat.read(path, as_version=4) returns it, got "
                         f"{type(nb).__name__}")


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
        for kind, value in _segments(cell_source(cell)):
            yield i, kind, value


def exercise_labels(nb) -> list[str]:
    """The ``:label:`` of every ``{exercise}`` directive in the notebook's markdown, in order."""
    _check_notebook(nb)
    return [m.group(1) for c in nb.cells if c.cell_type == "markdown" for m in EXERCISE.finditer(cell_source(c))]


def prose_solutions(nb) -> list[str]:
    """The labels that ``{solution}`` directives (solutions in prose, with no checker) refer to."""
    _check_notebook(nb)
    return [value for _, kind, value in _events(nb) if kind == "solution"]


def solutions(nb) -> list[Solution]:
    """The hidden (gated) solutions of a notebook, in order. Raises ``ValueError`` for unbalanced markup."""
    _check_notebook(nb)
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
            found.append(_solution(nb, label, open_at, i))
            open_at = None
    if open_at is not None:
        raise ValueError(f"cell {open_at}: {{solution-start}} {label} has no {{solution-end}}")
    return found


def _solution(nb, label: str, start: int, end: int) -> Solution:
    """The solution ``label`` in cells ``start`` to ``end``, with the exercise id its code checks (or, if it
    calls no ``check``, the one its label names)."""
    calls = {m.group(1) for c in nb.cells[start:end + 1] if c.cell_type == "code"
             for m in CHECK_CALL.finditer(cell_source(c))}
    if len(calls) > 1:
        raise ValueError(f"solution {label} (cells {start}-{end}) checks several exercises: {sorted(calls)}")
    from_label = label.removeprefix("ex-").replace("-", ".")
    return Solution(calls.pop() if calls else from_label, label, start, end)


def answer_cell(exercise_id: str, import_check: bool) -> nbformat.NotebookNode:
    """The code cell a student copy has in place of a hidden solution."""
    if not isinstance(exercise_id, str) or not EXERCISE_ID.fullmatch(exercise_id):
        raise ValueError(f'exercise_id must look like "3.2" (chapter.number), got {exercise_id!r}')
    _check_flag("import_check", import_check)
    lines = ["from inception.exercises import check", ""] if import_check else []
    lines += ["answer = ...  # your answer", f'check("{exercise_id}", answer)']
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = [STUDENT_TAG]
    return cell


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")


class _StudentCells:
    """The cells of a student copy, built one chapter cell at a time."""

    def __init__(self, answers: dict[int, str], clear_outputs: bool) -> None:
        self.answers = answers  # the cell of each {solution-end} -> the exercise id its answer cell checks
        self.clear_outputs = clear_outputs
        self.cells: list = []
        self.inside = False  # between a {solution-start} and its {solution-end}
        self.has_check = False  # a kept cell imports check

    def add(self, i: int, cell) -> None:
        if cell.cell_type == "markdown":
            self._add_markdown(i, cell)
        elif not self.inside:
            self._add_code_or_raw(cell)

    def _add_code_or_raw(self, cell) -> None:
        if cell.cell_type == "code":
            self.has_check = self.has_check or bool(IMPORTS_CHECK.search(cell_source(cell)))
            if self.clear_outputs:
                cell.outputs, cell.execution_count = [], None
        self.cells.append(cell)

    def _add_markdown(self, i: int, cell) -> None:
        """Keep the markdown outside solutions; a solution's end becomes its answer-and-check cell."""
        pieces = _segments(cell_source(cell))
        if pieces == [("text", cell_source(cell))] and not self.inside:
            self.cells.append(cell)  # the common case: a markdown cell with no solution in it
            return
        kept: list[str] = []
        for kind, value in pieces:
            if kind == "text" and not self.inside:
                kept.append(value)
            elif kind == "solution-start":
                self._add_text(cell, kept)
                self.inside = True
            elif kind == "solution-end":
                self.cells.append(answer_cell(self.answers[i], import_check=not self.has_check))
                self.has_check, self.inside = True, False
        self._add_text(cell, kept)

    def _add_text(self, cell, kept: list[str]) -> None:
        """Add the markdown ``kept`` so far as a copy of ``cell``, unless it is blank; empty ``kept``."""
        text = "".join(kept).strip("\n")
        kept.clear()
        if text.strip():
            part = copy.deepcopy(cell)
            part.source = text
            self.cells.append(part)


def student_copy(nb, clear_outputs: bool = False):
    """A copy of notebook ``nb`` with each hidden solution replaced by an answer-and-check cell and each
    solution in prose removed. Markdown around a solution's markers, in the same cell, is kept."""
    _check_flag("clear_outputs", clear_outputs)
    answers = {s.end: s.exercise_id for s in solutions(nb)}  # also validates the notebook and its markup
    nb = copy.deepcopy(nb)
    student = _StudentCells(answers, clear_outputs)
    for i, cell in enumerate(nb.cells):
        student.add(i, cell)
    nb.cells = student.cells
    for n, cell in enumerate(nb.cells):  # fresh, unique cell ids (nbformat 4.5)
        cell["id"] = f"cell-{n}"
    nb.metadata["inception"] = {"student_copy": True}
    return nb


def notebooks_in(sources: Iterable[Path | str]) -> list[Path]:
    """The notebooks ``sources`` names: ``.ipynb`` files as given, and the ``*.ipynb`` of each folder, sorted."""
    if isinstance(sources, str | Path):
        raise ValueError(f"sources must be a list of notebooks or folders, got the single path {str(sources)!r}; "
                         "wrap it in a list")
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
    return notebooks


def write_student_copies(sources: Iterable[Path | str], outdir: Path | str, clear_outputs: bool = False) -> list[Path]:
    """Write a student copy of each notebook in ``sources`` (files or folders of ``*.ipynb``) to ``outdir``."""
    _check_flag("clear_outputs", clear_outputs)
    if not isinstance(outdir, str | Path) or not str(outdir):
        raise ValueError(f"outdir must be the path of a folder, got {outdir!r}")
    notebooks = notebooks_in(sources)
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise ValueError(f"outdir must be a folder, but {str(outdir)!r} is a file")
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
