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
"""

from __future__ import annotations

import argparse
import copy
import itertools
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
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


# The "For teachers" page (book/teachers.md): its chapter list and exercise table are generated from the
# chapters themselves, between two markers, so they cannot drift from the book.

PAGE_BEGIN = ("<!-- BEGIN GENERATED: `python -m inception.classroom --teachers-page book/teachers.md` writes "
              "this part from the chapters; do not edit it by hand. -->")
PAGE_END = "<!-- END GENERATED -->"
EXERCISE_BLOCK = re.compile(r"^[ \t]*(?P<fence>`{3,}|:{3,})\{exercise(?:-start)?\}[ \t]*(?P<title>[^\n]*)\n"
                            r"(?P<body>.*?)^[ \t]*(?P=fence)[ \t]*$", re.M | re.S)
DIFFICULTY = re.compile(r"\*\*\s*(easy|medium|hard)\b", re.I)
GOALS_HEADING = re.compile(r"^#{2,3}\s+what you can (?:now do|do now)\b.*$", re.I | re.M)
INCEPTION_IMPORT = re.compile(r"^\s*(?:from|import)\s+inception\.(\w+)", re.M)
#: Minutes the page budgets for an exercise, by difficulty, and the reading speed for technical prose.
EXERCISE_MINUTES = {"easy": 5, "medium": 10, "hard": 20}
WORDS_PER_MINUTE = 120
MINUTES_PER_CODE_CELL = 1


@dataclass(frozen=True)
class ExerciseInfo:
    label: str  # "ex-2-1"
    title: str
    difficulty: str  # "easy", "medium" or "hard", from the exercise's bold first word
    checked: bool  # True: a hidden solution calls check(...); False: a solution in prose

    @property
    def id(self) -> str:
        return self.label.removeprefix("ex-").replace("-", ".")


@dataclass(frozen=True)
class ChapterInfo:
    number: int
    title: str
    docname: str  # "notebooks/02_inception_module"
    goals: tuple[str, ...]
    modules: frozenset[str]  # the inception modules it imports
    reading_minutes: int
    exercises: tuple[ExerciseInfo, ...]
    part: str = ""  # the caption of its part in the table of contents

    @property
    def exercise_minutes(self) -> int:
        return sum(EXERCISE_MINUTES[e.difficulty] for e in self.exercises)


def chapter_info(path: Path, docname: str | None = None) -> ChapterInfo:
    """What the teachers' page says about one chapter, read from the notebook."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    markdown = [_source(c) for c in nb.cells if c.cell_type == "markdown"]
    heading = next((line for text in markdown for line in text.splitlines() if line.startswith("# ")), path.stem)
    title = re.sub(r"^#\s*(\d+\.\s*)?", "", heading).strip()
    number = int(path.name[:2]) if path.name[:2].isdigit() else 0

    goals: list[str] = []
    for text in markdown:
        found = GOALS_HEADING.search(text)
        if not found:
            continue
        item: list[str] = []
        for line in text[found.end():].splitlines():
            if line.startswith("#"):
                break
            bullet = re.match(r"^[-*]\s+(.*)", line)
            if bullet:
                if item:
                    goals.append(" ".join(item))
                item = [bullet[1].strip()]
            elif item and line.startswith(" ") and line.strip():
                item.append(line.strip())
            elif item:
                goals.append(" ".join(item))
                item = []
        if item:
            goals.append(" ".join(item))
        break

    checked = {s.label for s in solutions(nb)}
    exercises = []
    for text in markdown:
        for block in EXERCISE_BLOCK.finditer(text):
            label = re.search(r"^[ \t]*:label:\s*(\S+)", block["body"], re.M)
            level = DIFFICULTY.search(block["body"])
            if label:
                exercises.append(ExerciseInfo(label[1], block["title"].strip(),
                                              level[1].lower() if level else "medium", label[1] in checked))

    # Reading: the prose outside exercises and solutions, plus a minute per code cell to read and run it.
    student = student_copy(nb)
    prose = " ".join(EXERCISE_BLOCK.sub("", _source(c)) for c in student.cells if c.cell_type == "markdown")
    words = len(re.findall(r"\w+", re.sub(r"\$[^$]*\$", " x ", prose)))
    code_cells = sum(c.cell_type == "code" and STUDENT_TAG not in c.metadata.get("tags", []) for c in student.cells)
    reading = _round5(words / WORDS_PER_MINUTE + code_cells * MINUTES_PER_CODE_CELL)
    modules = frozenset(m for c in nb.cells if c.cell_type == "code" for m in INCEPTION_IMPORT.findall(_source(c)))
    return ChapterInfo(number, title, docname or f"notebooks/{path.stem}", tuple(goals), modules, reading,
                       tuple(exercises))


def _round5(minutes: float) -> int:
    return max(5, int(-(-minutes // 5) * 5))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def prerequisites(chapters: Sequence[ChapterInfo]) -> dict[int, list[int]]:
    """Chapter -> the earlier chapters it builds on directly: the one before it in its part of the book,
    and those that first import a package module it imports (``exercises`` aside, which every chapter
    uses); less those already needed by another of them."""
    first: dict[str, int] = {}
    for chapter in sorted(chapters, key=lambda c: c.number):
        for module in chapter.modules:
            first.setdefault(module, chapter.number)
    direct = {c.number: {first[m] for m in c.modules if m != "exercises"} - {c.number} for c in chapters}
    ordered = sorted(chapters, key=lambda c: c.number)
    for before, chapter in itertools.pairwise(ordered):
        if chapter.part and chapter.part == before.part:
            direct[chapter.number].add(before.number)
    closure: dict[int, set[int]] = {}
    for n in sorted(direct):
        closure[n] = set(direct[n]).union(*(closure.get(p, set()) for p in direct[n]))
    return {n: sorted(p for p in needs if not any(p in closure.get(q, set()) for q in needs))
            for n, needs in direct.items()}


def teachers_section(chapters: Sequence[ChapterInfo]) -> str:
    """The generated part of the teachers' page: each chapter, then the table of every exercise."""
    needs = prerequisites(chapters)
    out = ["## The chapters", "",
           "Times are estimates for a student working alone: the prose at "
           f"{WORDS_PER_MINUTE} words a minute plus {MINUTES_PER_CODE_CELL} minute per code cell to read and "
           "run, then "
           + ", ".join(f"{m} minutes per {d} exercise" for d, m in EXERCISE_MINUTES.items())
           + ". Prerequisites are the chapter before in the same part and the earlier chapters whose code a "
           "chapter imports (and, through them, theirs).", ""]
    for c in chapters:
        before = ", ".join(f"{{doc}}`chapter {n} <{_docname(chapters, n)}>`" for n in needs[c.number])
        out += [f"### {c.number}. {c.title}", "",
                f"{{doc}}`Open the chapter <../{c.docname}>` · prerequisites: "
                f"{before or 'Python, and a first model in PyTorch'} · about "
                f"{c.reading_minutes + c.exercise_minutes} minutes ({c.reading_minutes} to read and run, "
                f"{c.exercise_minutes} for {len(c.exercises)} exercises)", ""]
        if c.goals:
            out += ["After it, a student can:", ""] + [f"- {g}" for g in c.goals] + [""]
    out += ["## Every exercise", "",
            "| exercise | title | difficulty | answer checked by |",
            "| --- | --- | --- | --- |"]
    for c in chapters:
        for e in c.exercises:
            how = "`check`" if e.checked else "you: a solution in prose"
            out.append(f"| {{ref}}`{e.id} <{e.label}>` | {_cell(e.title)} | {e.difficulty} | {how} |")
    return "\n".join(out).rstrip() + "\n"


def _docname(chapters: Sequence[ChapterInfo], number: int) -> str:
    return "../" + next(c.docname for c in chapters if c.number == number)


def toc_chapters(root: Path = Path(".")) -> list[Path]:
    """The notebooks that ``_toc.yml`` lists, in reading order."""
    return list(_toc_parts(root))


def _toc_parts(root: Path) -> dict[Path, str]:
    """Notebook -> the caption of its part in ``_toc.yml``, in reading order."""
    import yaml

    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text())
    entries = [(toc["root"], "")] + [(c["file"], part.get("caption", str(i)))
                                     for i, part in enumerate(toc.get("parts", []))
                                     for c in part.get("chapters", [])]
    return {Path(root) / f"{f}.ipynb": part for f, part in entries if (Path(root) / f"{f}.ipynb").exists()}


def book_chapters(root: Path = Path(".")) -> list[ChapterInfo]:
    """What the teachers' page says about each chapter of ``_toc.yml``."""
    return [replace(chapter_info(path, path.relative_to(root).with_suffix("").as_posix()), part=part)
            for path, part in _toc_parts(root).items()]


def render_teachers_page(page_text: str, chapters: Sequence[ChapterInfo]) -> str:
    """``page_text`` with its generated part replaced by the current one."""
    if PAGE_BEGIN not in page_text or PAGE_END not in page_text:
        raise ValueError("the teachers' page needs the two markers of its generated part:\n"
                         f"{PAGE_BEGIN}\n{PAGE_END}")
    head, rest = page_text.split(PAGE_BEGIN, 1)
    _, tail = rest.split(PAGE_END, 1)
    return f"{head}{PAGE_BEGIN}\n\n{teachers_section(chapters)}\n{PAGE_END}{tail}"


def update_teachers_page(page: Path, root: Path = Path(".")) -> bool:
    """Rewrite the generated part of the teachers' page from the chapters in ``_toc.yml``; True if it changed."""
    page = Path(page)
    chapters = book_chapters(root)
    old = page.read_text()
    new = render_teachers_page(old, chapters)
    if new != old:
        page.write_text(new)
    return new != old


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inception.classroom",
        description="Write student copies of the book's notebooks: hidden solutions removed, checkers kept. "
                    "Or, with --teachers-page, refresh the chapter list and exercise table of the teachers' page.")
    parser.add_argument("paths", nargs="*", type=Path,
                        help="notebooks or folders of notebooks, then the folder to write the student copies to")
    parser.add_argument("--clear-outputs", action="store_true", help="also remove the stored outputs")
    parser.add_argument("--teachers-page", type=Path, metavar="PAGE",
                        help="rewrite the generated part of PAGE (book/teachers.md) from the chapters in _toc.yml; "
                             "run from the repository's root")
    args = parser.parse_args(argv)
    if args.teachers_page:
        if args.paths:
            parser.error("--teachers-page takes its chapters from _toc.yml; give no other paths")
        try:
            changed = update_teachers_page(args.teachers_page)
        except (ValueError, OSError) as error:
            parser.exit(2, f"error: {error}\n")
        print(f"{args.teachers_page}: {'updated' if changed else 'already up to date'}")
        return 0
    if len(args.paths) < 2:
        parser.error("give the notebooks (or their folder) and the folder to write the student copies to")
    try:
        written = write_student_copies(args.paths[:-1], args.paths[-1], clear_outputs=args.clear_outputs)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    for path in written:
        nb = nbformat.read(path, as_version=4)
        n = sum(STUDENT_TAG in c.metadata.get("tags", []) for c in nb.cells)
        print(f"{path}: {n} exercise{'s' * (n != 1)} to answer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
