"""The "For teachers" page (book/teachers.md): its chapter list and exercise table are generated from the
chapters themselves, between two markers, so they cannot drift from the book.

    python -m inception.classroom --teachers-page book/teachers.md   # from the repository's root

For each chapter of ``_toc.yml`` the page gives its learning goals (the "What you can now do" list), its
prerequisites (see :func:`prerequisites`), an estimate of the time it takes, and every exercise with its
difficulty and how its answer is checked.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat
import yaml

from inception.classroom import STUDENT_TAG, cell_source, solutions, student_copy

PAGE_BEGIN = ("<!-- BEGIN GENERATED: `python -m inception.classroom --teachers-page book/teachers.md` writes "
              "this part from the chapters; do not edit it by hand. -->")
PAGE_END = "<!-- END GENERATED -->"
EXERCISE_BLOCK = re.compile(r"^[ \t]*(?P<fence>`{3,}|:{3,})\{exercise(?:-start)?\}[ \t]*(?P<title>[^\n]*)\n"
                            r"(?P<body>.*?)^[ \t]*(?P=fence)[ \t]*$", re.M | re.S)
LABEL = re.compile(r"^[ \t]*:label:\s*(\S+)", re.M)
DIFFICULTY = re.compile(r"\*\*\s*(easy|medium|hard)\b", re.I)
GOALS_HEADING = re.compile(r"^#{2,3}\s+what you can (?:now do|do now)\b.*$", re.I | re.M)
BULLET = re.compile(r"^[-*]\s+(.*)")
#: "chapter 3", "Chapter 9's", "chapters 3, 5 and 8" in a chapter's prose, or a link to another chapter.
CHAPTER_REFERENCE = re.compile(r"\bchapters?\s+(\d+(?:(?:\s*,\s*|\s*,?\s+(?:and|or)\s+)\d+)*)", re.I)
CHAPTER_LINK = re.compile(r"notebooks/(\d+)_\w+")
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
    imports: frozenset[str]  # what it imports from the package: "googlenet.GoogLeNet", or "googlenet" for a module
    reading_minutes: int
    exercises: tuple[ExerciseInfo, ...]
    part: str = ""  # the caption of its part in the table of contents
    references: frozenset[int] = frozenset()  # the chapters its prose names, outside exercises and solutions

    @property
    def modules(self) -> frozenset[str]:
        """The package's modules it imports (``googlenet`` for ``inception.googlenet``)."""
        return frozenset(name.split(".")[0] for name in self.imports)

    @property
    def exercise_minutes(self) -> int:
        return sum(EXERCISE_MINUTES[e.difficulty] for e in self.exercises)


def chapter_info(path: Path | str, docname: str | None = None) -> ChapterInfo:
    """What the teachers' page says about one chapter, read from the notebook at ``path``; ``docname`` is its
    name in the book (default ``notebooks/<file name without .ipynb>``)."""
    path = Path(path) if isinstance(path, str | Path) else path
    if not isinstance(path, Path) or path.suffix != ".ipynb" or not path.is_file():
        raise ValueError(f"expected the path of a chapter's notebook (.ipynb), got {str(path)!r}")
    if docname is not None and (not isinstance(docname, str) or not docname):
        raise ValueError(f"docname must be the chapter's name in the book, e.g. 'notebooks/02_inception_module', "
                         f"or None; got {docname!r}")
    nb = nbformat.read(path, as_version=4)
    markdown = [cell_source(c) for c in nb.cells if c.cell_type == "markdown"]
    number = int(path.name[:2]) if path.name[:2].isdigit() else 0
    return ChapterInfo(number, _title(markdown, path.stem), docname or f"notebooks/{path.stem}", _goals(markdown),
                       _imported_names(nb), _reading_minutes(nb), _exercises(nb, markdown),
                       references=_references(nb) - {number})


def _title(markdown: Sequence[str], default: str) -> str:
    """The chapter's "# N. Title" heading, without its number."""
    heading = next((line for text in markdown for line in text.splitlines() if line.startswith("# ")), default)
    return re.sub(r"^#\s*(\d+\.\s*)?", "", heading).strip()


def _goals(markdown: Sequence[str]) -> tuple[str, ...]:
    """The items of the bullet list under the first "What you can now do" heading."""
    for text in markdown:
        found = GOALS_HEADING.search(text)
        if found:
            return tuple(_bullets(text[found.end():]))
    return ()


def _bullets(text: str) -> list[str]:
    """The bullet items of ``text`` up to its next heading, an item's indented continuation lines joined."""
    items: list[list[str]] = []
    continues = False  # the line before was part of an item
    for line in text.splitlines():
        if line.startswith("#"):
            break
        bullet = BULLET.match(line)
        if bullet:
            items.append([bullet[1].strip()])
            continues = True
        elif continues and line.startswith(" ") and line.strip():
            items[-1].append(line.strip())
        else:
            continues = False
    return [" ".join(item) for item in items]


def _exercises(nb, markdown: Sequence[str]) -> tuple[ExerciseInfo, ...]:
    """Every labelled ``{exercise}`` of the chapter: its title, its difficulty (medium when the text does
    not say) and whether a hidden solution checks it."""
    checked = {s.label for s in solutions(nb)}
    found = []
    for block in (b for text in markdown for b in EXERCISE_BLOCK.finditer(text)):
        label = LABEL.search(block["body"])
        if label:
            level = DIFFICULTY.search(block["body"])
            found.append(ExerciseInfo(label[1], block["title"].strip(), level[1].lower() if level else "medium",
                                      label[1] in checked))
    return tuple(found)


def _prose(student) -> str:
    """The markdown of a student copy (no solutions) without its exercises."""
    return " ".join(EXERCISE_BLOCK.sub("", cell_source(c)) for c in student.cells if c.cell_type == "markdown")


def _references(nb) -> frozenset[int]:
    """The chapters the prose names: "chapter 3", "chapters 5 and 8", or a {doc} link to a chapter."""
    prose = _prose(student_copy(nb))
    named = (int(n) for found in CHAPTER_REFERENCE.findall(prose) for n in re.findall(r"\d+", found))
    return frozenset(itertools.chain(named, (int(n) for n in CHAPTER_LINK.findall(prose))))


def _reading_minutes(nb) -> int:
    """Reading: the prose outside exercises and solutions, plus a minute per code cell to read and run it."""
    student = student_copy(nb)
    prose = _prose(student)
    words = len(re.findall(r"\w+", re.sub(r"\$[^$]*\$", " x ", prose)))
    code_cells = sum(c.cell_type == "code" and STUDENT_TAG not in c.metadata.get("tags", []) for c in student.cells)
    return _round5(words / WORDS_PER_MINUTE + code_cells * MINUTES_PER_CODE_CELL)


def _imported_names(nb) -> frozenset[str]:
    """What the chapter's code imports from the package: ``"googlenet.GoogLeNet"`` for ``from
    inception.googlenet import GoogLeNet``, ``"googlenet"`` for ``import inception.googlenet``."""
    found = set()
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        code = "\n".join(line for line in cell_source(cell).splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("inception."):
                module = node.module.split(".")[1]
                found.update(f"{module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("inception."))
    return frozenset(found)


def _round5(minutes: float) -> int:
    return max(5, int(-(-minutes // 5) * 5))


def _check_chapters(chapters: object) -> Sequence[ChapterInfo]:
    if isinstance(chapters, str) or not isinstance(chapters, Sequence) or not all(
            isinstance(c, ChapterInfo) for c in chapters):
        raise ValueError(f"expected a list of ChapterInfo (see chapter_info), got {chapters!r:.200}")
    numbers = [c.number for c in chapters]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"two chapters have the same number: {sorted(numbers)}")
    return chapters


def prerequisites(chapters: Sequence[ChapterInfo]) -> dict[int, list[int]]:
    """Chapter -> the earlier chapters it builds on directly.

    Stated ones, always listed: the chapter before it in its part, and every earlier chapter its prose
    names ("the GoogLeNet of chapter 3", a link). Found in its code: for each name it imports from the
    package (``exercises`` aside), the chapter that imported that name first; such a chapter is left out
    when another prerequisite already leads to it (chapter 1's ``count_parameters`` is not listed for
    every chapter that counts parameters).
    """
    ordered = sorted(_check_chapters(chapters), key=lambda c: c.number)
    numbers = {c.number for c in ordered}
    first: dict[str, int] = {}
    for chapter in ordered:
        for name in chapter.imports:
            first.setdefault(name, chapter.number)
    stated = {c.number: {n for n in c.references if n < c.number and n in numbers} for c in ordered}
    for before, chapter in itertools.pairwise(ordered):
        if chapter.part and chapter.part == before.part:
            stated[chapter.number].add(before.number)
    found = {c.number: {first[n] for n in c.imports if not n.startswith("exercises")} - {c.number} for c in ordered}
    needs: dict[int, list[int]] = {}
    closure: dict[int, set[int]] = {}
    for n in (c.number for c in ordered):
        direct = stated[n] | found[n]
        kept = stated[n] | {p for p in found[n] - stated[n]
                            if not any(p in closure[q] for q in direct - {p})}
        needs[n] = sorted(kept)
        closure[n] = set(kept).union(*(closure[p] for p in kept))
    return needs


def teachers_section(chapters: Sequence[ChapterInfo]) -> str:
    """The generated part of the teachers' page: each chapter, then the table of every exercise."""
    needs = prerequisites(chapters)
    out = ["## The chapters", "",
           "Times are estimates for a student working alone: the prose at "
           f"{WORDS_PER_MINUTE} words a minute plus {MINUTES_PER_CODE_CELL} minute per code cell to read and "
           "run, then "
           + ", ".join(f"{m} minutes per {d} exercise" for d, m in EXERCISE_MINUTES.items())
           + ". Prerequisites are the chapters a chapter builds on directly: the one before it in its part, "
           "the earlier chapters its text refers to, and those that first built the code it imports (unless "
           "another prerequisite already needs them).", ""]
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
            out.append(f"| {{ref}}`{e.id} <{e.label}>` | {_table_cell(e.title)} | {e.difficulty} | {how} |")
    return "\n".join(out).rstrip() + "\n"


def _table_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _docname(chapters: Sequence[ChapterInfo], number: int) -> str:
    return "../" + next(c.docname for c in chapters if c.number == number)


def _toc_parts(root: Path | str) -> dict[Path, str]:
    """Notebook -> the caption of its part in ``_toc.yml``, in reading order."""
    if not isinstance(root, str | Path) or not (Path(root) / "_toc.yml").is_file():
        raise ValueError(f"root must be the book's folder, the one with _toc.yml; got {str(root)!r}")
    root = Path(root)
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    entries = [(toc["root"], "")] + [(c["file"], part.get("caption", str(i)))
                                     for i, part in enumerate(toc.get("parts", []))
                                     for c in part.get("chapters", [])]
    return {root / f"{f}.ipynb": part for f, part in entries if (root / f"{f}.ipynb").exists()}


def book_chapters(root: Path | str = Path(".")) -> list[ChapterInfo]:
    """What the teachers' page says about each chapter of ``_toc.yml`` (in the book's folder ``root``)."""
    return [replace(chapter_info(path, path.relative_to(root).with_suffix("").as_posix()), part=part)
            for path, part in _toc_parts(root).items()]


def render_teachers_page(page_text: str, chapters: Sequence[ChapterInfo]) -> str:
    """``page_text`` with its generated part replaced by the current one."""
    if not isinstance(page_text, str):
        raise ValueError(f"page_text must be the text of the teachers' page, got {type(page_text).__name__}")
    if PAGE_BEGIN not in page_text or PAGE_END not in page_text:
        raise ValueError("the teachers' page needs the two markers of its generated part:\n"
                         f"{PAGE_BEGIN}\n{PAGE_END}")
    head, rest = page_text.split(PAGE_BEGIN, 1)
    _, tail = rest.split(PAGE_END, 1)
    return f"{head}{PAGE_BEGIN}\n\n{teachers_section(chapters)}\n{PAGE_END}{tail}"


def update_teachers_page(page: Path | str, root: Path | str = Path(".")) -> bool:
    """Rewrite the generated part of the teachers' page from the chapters in ``_toc.yml``; True if it changed."""
    if not isinstance(page, str | Path) or not Path(page).is_file():
        raise ValueError(f"page must be the path of the teachers' page (book/teachers.md), got {str(page)!r}")
    page = Path(page)
    chapters = book_chapters(root)
    old = page.read_text()
    new = render_teachers_page(old, chapters)
    if new != old:
        page.write_text(new)
    return new != old
