"""Student copies (``python -m inception.classroom``): no solution left, every checker kept, and each copy
runs in a fresh kernel, in an empty folder, up to its first exercise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from inception.classroom import (
    STUDENT_TAG,
    answer_cell,
    cell_source,
    exercise_labels,
    prose_solutions,
    solutions,
    student_copy,
    write_student_copies,
)
from inception.classroom.__main__ import main
from inception.classroom.teachers import (
    PAGE_BEGIN,
    PAGE_END,
    ChapterInfo,
    book_chapters,
    chapter_info,
    prerequisites,
    render_teachers_page,
    teachers_section,
    update_teachers_page,
)
from inception.exercises import exercises

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Running a student copy up to its first exercise costs nearly as much as running the whole chapter, and
# the test suite already runs every chapter once (nbval, tests/test_colab.py). So by default only the
# first chapter's student copy is run here, and for every chapter
# test_student_copy_runs_the_chapters_own_code checks that the code a student copy runs before its first
# exercise is exactly the chapter's code before its first solution, which the nbval run executes, in a
# fresh kernel in an empty folder. INCEPTION_STUDENT_RUN=all runs every chapter's student copy as well.
RUN_ALL = os.environ.get("INCEPTION_STUDENT_RUN", "first") == "all"
TO_RUN = NOTEBOOKS if RUN_ALL else NOTEBOOKS[:1]

FENCE = "```"


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]


def _md(text: str):
    return nbformat.v4.new_markdown_cell(text)


def _code(text: str, output: str | None = None):
    cell = nbformat.v4.new_code_cell(text)
    if output is not None:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
    return cell


def _toy_notebook():
    """A chapter in miniature, written with the markup of CONTRIBUTING.md (a solution's end marker may share
    its cell with the next exercise; a solution in prose has no checker)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _md("# 9. A toy chapter"),
        _code("x = 3", None),
        _md(f"{FENCE}{{exercise}} Square it\n:label: ex-9-1\n\n**Easy.** What is x squared?\n{FENCE}"),
        _md(f"{FENCE}{{solution-start}} ex-9-1\n:class: dropdown\n{FENCE}"),
        _code("from inception.exercises import check\n\nanswer = x * x  # SECRET-1\ncheck(\"9.1\", answer)",
              "✓ Exercise 9.1: right."),
        _md(f"{FENCE}{{solution-end}}\n{FENCE}\n\n{FENCE}{{exercise}} Cube it\n:label: ex-9-2\n\n"
            f"**Medium.** And cubed?\n{FENCE}"),
        _md(f"Before the solution.\n\n{FENCE}{{solution-start}} ex-9-2\n:class: dropdown\n{FENCE}"),
        _md("Multiply once more. SECRET-3"),
        _code("cube = x ** 3  # SECRET-2", None),
        _code("check(\"9.2\", cube)", "✓ Exercise 9.2: right."),
        _md(f"{FENCE}{{solution-end}}\n{FENCE}\n\n{FENCE}{{exercise}} Why odd?\n:label: ex-9-3\n\n"
            f"**Hard (no checker).** Why is 27 odd?\n{FENCE}\n\n"
            f"{FENCE}{{solution}} ex-9-3\n:class: dropdown\n\nSECRET-4: odd times odd.\n{FENCE}\n\nThe end."),
    ]
    return nb


def _text(nb) -> str:
    return "\n".join(c.source for c in nb.cells)


def test_student_copy_of_a_toy_chapter():
    nb = _toy_notebook()
    copy = student_copy(nb)
    text = _text(copy)
    assert "SECRET" not in text and "{solution" not in text
    answers = [c for c in copy.cells if STUDENT_TAG in c.metadata.get("tags", [])]
    assert [c.source for c in answers] == [
        'from inception.exercises import check\n\nanswer = ...  # your answer\ncheck("9.1", answer)',
        'answer = ...  # your answer\ncheck("9.2", answer)',
    ]
    assert exercise_labels(copy) == ["ex-9-1", "ex-9-2", "ex-9-3"]  # the questions stay
    assert [c.source for c in copy.cells[:3]] == [c.source for c in nb.cells[:3]]
    assert [c.cell_type for c in copy.cells[3:]] == ["code", "markdown", "markdown", "code", "markdown"]
    assert copy.cells[5].source == "Before the solution."
    assert copy.cells[7].source.startswith("```{exercise} Why odd?") and copy.cells[7].source.endswith("The end.")
    assert copy.cells[1].outputs == nb.cells[1].outputs
    assert len({c.id for c in copy.cells}) == len(copy.cells)
    nbformat.validate(copy)
    assert len(nb.cells) == 11, "the chapter itself is left as it was"


def test_student_copy_keeps_an_earlier_import_of_check():
    nb = _toy_notebook()
    nb.cells.insert(1, _code("from inception.exercises import check"))
    first = next(c for c in student_copy(nb).cells if STUDENT_TAG in c.metadata.get("tags", []))
    assert first.source == 'answer = ...  # your answer\ncheck("9.1", answer)'


def test_clear_outputs():
    copy = student_copy(_toy_notebook(), clear_outputs=True)
    assert all(not c.outputs for c in copy.cells if c.cell_type == "code")


@pytest.mark.parametrize("drop, match", [
    (5, r"\{solution-start\} ex-9-2 before the \{solution-end\} of ex-9-1"),
    (10, r"\{solution-start\} ex-9-2 has no \{solution-end\}"),
    (3, r"\{solution-end\} without a \{solution-start\}"),
])
def test_unbalanced_solution_markup_is_an_error(drop, match):
    nb = _toy_notebook()
    del nb.cells[drop]
    with pytest.raises(ValueError, match=match):
        student_copy(nb)


def test_command_line(tmp_path, capsys):
    source = tmp_path / "chapters"
    source.mkdir()
    nbformat.write(_toy_notebook(), source / "09_toy.ipynb")
    assert main([str(source), str(tmp_path / "student")]) == 0
    assert "09_toy.ipynb: 2 exercises to answer" in capsys.readouterr().out
    copy = nbformat.read(tmp_path / "student" / "09_toy.ipynb", as_version=4)
    assert "SECRET" not in _text(copy)
    with pytest.raises(SystemExit):
        main([str(tmp_path / "missing.txt"), str(tmp_path / "out")])
    assert "expected a notebook (.ipynb) or a folder of notebooks" in capsys.readouterr().err
    with pytest.raises(ValueError, match="refusing to overwrite"):
        write_student_copies([source / "09_toy.ipynb"], source)


def test_module_runs_as_a_command(tmp_path):
    nbformat.write(_toy_notebook(), tmp_path / "09_toy.ipynb")
    result = subprocess.run([sys.executable, "-m", "inception.classroom", str(tmp_path / "09_toy.ipynb"),
                             str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "09_toy.ipynb").exists()


# The book's own chapters.

@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_student_copy_has_no_solution(path):
    nb = nbformat.read(path, as_version=4)
    spans = solutions(nb)
    copy = student_copy(nb)
    text = _text(copy)
    assert not re.search(r"\{solution(-start|-end)?\}", text), f"{path.name}: solution markup left"
    hidden = [nb.cells[i].source.strip() for s in spans for i in range(s.start + 1, s.end)]
    for source in filter(None, hidden):
        assert all(source not in c.source for c in copy.cells), (
            f"{path.name}: the student copy still contains solution text {source[:60]!r}")
    answers = [c.source for c in copy.cells if STUDENT_TAG in c.metadata.get("tags", [])]
    assert [re.search(r'check\("([\d.]+)", answer\)', a).group(1) for a in answers] == [
        s.exercise_id for s in spans], f"{path.name}: one answer-and-check cell per exercise"
    assert exercise_labels(copy) == exercise_labels(nb), f"{path.name}: the exercises themselves stay"
    nbformat.validate(copy)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_student_copy_runs_the_chapters_own_code(path):
    nb = nbformat.read(path, as_version=4)
    spans = solutions(nb)
    if not spans:
        pytest.skip(f"{path.name} has no exercise yet")
    copy = student_copy(nb)
    first = next(i for i, c in enumerate(copy.cells) if STUDENT_TAG in c.metadata.get("tags", []))
    before = [c.source for c in copy.cells[:first] if c.cell_type == "code"]
    assert before == [c.source for c in nb.cells[:spans[0].start] if c.cell_type == "code"], (
        f"{path.name}: the student copy runs other code than the chapter before its first exercise")


@pytest.mark.parametrize("path", TO_RUN, ids=[p.name for p in TO_RUN])
def test_student_copy_runs_up_to_its_first_exercise(path, tmp_path):
    """Run the student copy as a student would, in an empty folder: every cell before the first exercise
    runs without error, and the first answer cell, left as ``...``, asks the student to fill it in."""
    copy = student_copy(nbformat.read(path, as_version=4), clear_outputs=True)
    first = next((i for i, c in enumerate(copy.cells) if STUDENT_TAG in c.metadata.get("tags", [])), None)
    if first is None:
        pytest.skip(f"{path.name} has no exercise yet")
    copy.cells = copy.cells[:first + 1]
    client = NotebookClient(copy, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    for i, cell in enumerate(copy.cells[:first]):
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        assert not errors, (f"{path.name}: student copy, cell {i} failed before the first exercise:\n"
                            f"{cell.source[:300]}\n{errors[0].ename}: {errors[0].evalue}")
    errors = [o for o in copy.cells[first].outputs if o.output_type == "error"]
    assert errors and errors[0].ename == "WrongAnswer", f"{path.name}: {copy.cells[first].outputs}"
    assert "replace the ... with your answer" in errors[0].evalue


# The teachers' page (book/teachers.md): its chapter list and exercise table are generated from the
# chapters, and must be regenerated when the chapters change.

TEACHERS_PAGE = ROOT / "book" / "teachers.md"
REFRESH = "run `.venv/bin/python -m inception.classroom --teachers-page book/teachers.md` from the repository root"
MINUTES = re.compile(r"about (\d+) minutes \((\d+) to read and run, (\d+) for")


def _current_chapters():
    return book_chapters(ROOT)


def test_teachers_page_is_in_the_book():
    assert "book/teachers" in _toc_files(), "_toc.yml does not list book/teachers"


def test_teachers_page_matches_the_chapters():
    """The page's chapters, goals, prerequisites and exercises are the chapters' own. Reading times may
    drift a little as chapters are edited (within 10 minutes or 25%) before the page must be refreshed."""
    stored = TEACHERS_PAGE.read_text()
    current = render_teachers_page(stored, _current_chapters())
    assert MINUTES.sub("about N minutes (N to read and run, N for", stored) == MINUTES.sub(
        "about N minutes (N to read and run, N for", current), f"book/teachers.md is out of date: {REFRESH}"
    for old, new in zip(MINUTES.findall(stored), MINUTES.findall(current), strict=True):
        for a, b in zip(map(int, old), map(int, new), strict=True):
            assert abs(a - b) <= max(10, 0.25 * b), f"book/teachers.md's times are out of date: {REFRESH}"


def test_teachers_page_lists_every_exercise_as_its_checker_does():
    chapters = _current_chapters()
    registered = {e.id: e for e in exercises()}
    listed = [e for c in chapters for e in c.exercises]
    for c in chapters:
        assert c.goals, f"{c.docname}: no learning goals found (a '## What you can now do' list)"
        labels = exercise_labels(nbformat.read(ROOT / f"{c.docname}.ipynb", as_version=4))
        assert [e.label for e in c.exercises] == labels, f"{c.docname}: exercises {labels}"
    for e in listed:
        if e.checked:
            assert e.id in registered, f"exercise {e.id} has a checked solution but no checker"
            assert (e.title, e.difficulty) == (registered[e.id].title, registered[e.id].difficulty), (
                f"exercise {e.id}: the notebook says {(e.title, e.difficulty)}, its checker "
                f"{(registered[e.id].title, registered[e.id].difficulty)}")
    in_book = {int(c.docname.split("/")[-1][:2]) for c in chapters}
    missing = [e.id for e in exercises() if e.chapter in in_book and e.id not in {x.id for x in listed}]
    assert not missing, f"checkers {missing} belong to no exercise of the book"


def test_teachers_section_of_a_toy_chapter(tmp_path):
    path = tmp_path / "09_toy.ipynb"
    nb = _toy_notebook()
    nb.cells.insert(2, _md("## What you can now do\n\n- Square a number,\n  and cube it.\n- Say why 27 is odd.\n\n"
                           "Next chapter: more."))
    nbformat.write(nb, path)
    info = chapter_info(path)
    assert info.title == "A toy chapter" and info.number == 9
    assert info.goals == ("Square a number, and cube it.", "Say why 27 is odd.")
    assert [(e.id, e.difficulty, e.checked) for e in info.exercises] == [
        ("9.1", "easy", True), ("9.2", "medium", True), ("9.3", "hard", False)]
    assert info.exercise_minutes == 5 + 10 + 20
    section = teachers_section([info])
    assert "| {ref}`9.3 <ex-9-3>` | Why odd? | hard | you: a solution in prose |" in section
    with pytest.raises(ValueError, match="markers"):
        render_teachers_page("# For teachers\n", [info])


def _chapter(number: int, part: str, imports: set[str], references: set[int] = frozenset()) -> ChapterInfo:
    return ChapterInfo(number, f"Chapter {number}", f"notebooks/{number:02d}_x", ("goal",), frozenset(imports), 10, (),
                       part, frozenset(references))


def test_prerequisites_keep_what_a_chapter_names_and_reduce_what_it_imports():
    """The issue's case: a training chapter that trains the networks of chapters 3, 5 and 8 in chapter 9's
    configuration needs all four, although 9 already leads to 8, 5 and 3; the chapters it needs only through
    its imports (4 for the training loop, 1 for counting) are implied by those and left out."""
    chapters = [
        _chapter(1, "I", {"cost.count_parameters", "layers.BasicConv2d"}),
        _chapter(2, "I", {"googlenet.Inception", "cost.count_parameters"}),
        _chapter(3, "I", {"googlenet.GoogLeNet", "googlenet.Inception"}, {1, 2}),
        _chapter(4, "II", {"training.fit", "layers.BasicConv2d", "cost.count_parameters"}, {1, 5, 10}),
        _chapter(5, "II", {"bn_inception.BNInception", "googlenet.GoogLeNet"}, {3}),
        _chapter(7, "III", {"inception_v2.InceptionFig5"}),
        _chapter(8, "III", {"inception_v2.InceptionV2", "customizing.InceptionV2Config", "googlenet.GoogLeNet"}),
        _chapter(9, "III", {"customizing.InceptionV2Config", "bn_inception.BNInception"}, {8}),
        _chapter(10, "IV", {"googlenet.GoogLeNet", "bn_inception.BNInception", "customizing.InceptionV2Config",
                            "training.fit", "cost.count_parameters", "exercises.check"}, {3, 5, 8, 9}),
        _chapter(11, "V", {"googlenet.GoogLeNet", "bn_inception.BNInception", "training.fit"}, {12}),
    ]
    needs = prerequisites(chapters)
    assert needs[10] == [3, 5, 8, 9]
    assert needs[4] == [1], "a chapter named later in the book is no prerequisite"
    assert needs[8] == [3, 7], "the chapter before in the part, and the first importer of GoogLeNet"
    assert needs[9] == [5, 8], "BNInception: first imported by chapter 5, which chapter 8 does not lead to"
    assert needs[11] == [5], "found only in the imports: 3 and 4 are implied by 5, which is kept"
    assert needs[1] == [] and needs[2] == [1] and needs[3] == [1, 2]


def test_chapter_references_are_read_from_the_prose(tmp_path):
    nb = _toy_notebook()
    nb.cells.insert(1, _md("As chapter 3 showed, and chapters 5 and 8 (and Chapter 9's configuration, "
                           "{doc}`../notebooks/07_inception_v2_modules`) build on it; chapter 12 comes later."))
    nb.cells.insert(2, _code("from inception.googlenet import GoogLeNet, Inception\n"
                             "import inception.data\n%pip install nothing  # a magic is no Python"))
    nb.cells.append(_md(f"{FENCE}{{exercise}} Chapter 2\n:label: ex-9-4\n\n**Easy.** As in chapter 2?\n{FENCE}"))
    nbformat.write(nb, tmp_path / "10_toy.ipynb")
    info = chapter_info(tmp_path / "10_toy.ipynb")
    assert info.references == {3, 5, 7, 8, 9, 12}, "exercises and solutions are not the chapter's prose"
    assert info.imports == {"googlenet.GoogLeNet", "googlenet.Inception", "data", "exercises.check"}
    assert info.modules == {"googlenet", "data", "exercises"}


def test_chapter_10_builds_on_the_networks_it_trains():
    """Chapter 10 trains GoogLeNet (chapter 3), BN-Inception (chapter 5) and Inception-v2 (chapter 8) in
    chapter 9's configuration for the digits: the teachers' page must list all four (issue 12)."""
    needs = prerequisites(_current_chapters())
    assert {3, 5, 8, 9} <= set(needs[10]), (
        f"the teachers' page gives chapter 10 the prerequisites {needs[10]}; chapter 10's text should name the "
        "chapters whose networks it trains (3, 5, 8 and 9), and the page then be refreshed: " + REFRESH)


def _toy_book(root: Path) -> Path:
    """A book of one toy chapter, with a teachers' page whose generated part is empty."""
    (root / "notebooks").mkdir()
    nbformat.write(_toy_notebook(), root / "notebooks" / "09_toy.ipynb")
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\nparts:\n  - caption: Toys\n    chapters:\n"
                                   "      - file: notebooks/09_toy\n")
    page = root / "teachers.md"
    page.write_text(f"# For teachers\n\n{PAGE_BEGIN}\n{PAGE_END}\n")
    return page


def test_teachers_page_command(tmp_path, monkeypatch, capsys):
    """``python -m inception.classroom --teachers-page PAGE``, as the README and the page itself give it."""
    page = _toy_book(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["--teachers-page", "teachers.md"]) == 0
    assert "teachers.md: updated" in capsys.readouterr().out
    assert "| {ref}`9.3 <ex-9-3>` | Why odd? | hard | you: a solution in prose |" in page.read_text()
    assert main(["--teachers-page", "teachers.md"]) == 0
    assert "teachers.md: already up to date" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--teachers-page", "teachers.md", "notebooks"])
    assert "give no other paths" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--teachers-page", "missing.md"])
    assert "page must be the path of the teachers' page" in capsys.readouterr().err


def test_teachers_page_command_runs_as_a_module(tmp_path):
    _toy_book(tmp_path)
    result = subprocess.run([sys.executable, "-m", "inception.classroom", "--teachers-page", "teachers.md"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "teachers.md: updated" in result.stdout


def test_a_missing_extra_is_named():
    """Without nbformat (the ``classroom`` extra), ``import inception.classroom`` says what to install."""
    code = "import sys; sys.modules['nbformat'] = None; import inception.classroom"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "ModuleNotFoundError: inception.classroom needs nbformat" in result.stderr
    assert 'pip install "inception[classroom]"' in result.stderr


def test_arguments_are_checked(tmp_path):
    nb = _toy_notebook()
    for function in (solutions, prose_solutions, exercise_labels, student_copy):
        with pytest.raises(ValueError, match="expected a notebook as nbformat.read"):
            function(tmp_path / "09_toy.ipynb")
    with pytest.raises(ValueError, match="expected a notebook cell"):
        cell_source("x = 3")
    with pytest.raises(ValueError, match='exercise_id must look like "3.2"'):
        answer_cell("9", import_check=True)
    with pytest.raises(ValueError, match="import_check must be True or False"):
        answer_cell("9.1", import_check="yes")
    with pytest.raises(ValueError, match="clear_outputs must be True or False"):
        student_copy(nb, clear_outputs=1)
    nbformat.write(nb, tmp_path / "09_toy.ipynb")
    with pytest.raises(ValueError, match="wrap it in a list"):
        write_student_copies(str(tmp_path / "09_toy.ipynb"), tmp_path / "out")
    with pytest.raises(ValueError, match="is a file"):
        write_student_copies([tmp_path / "09_toy.ipynb"], tmp_path / "09_toy.ipynb")
    with pytest.raises(ValueError, match="outdir must be the path of a folder"):
        write_student_copies([tmp_path / "09_toy.ipynb"], None)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no notebooks found"):
        write_student_copies([empty], tmp_path / "out")
    with pytest.raises(ValueError, match="argv must be a list"):
        main("notebooks student")


def test_teachers_arguments_are_checked(tmp_path):
    info = chapter_info(_toy_book(tmp_path).parent / "notebooks" / "09_toy.ipynb")
    with pytest.raises(ValueError, match="expected the path of a chapter's notebook"):
        chapter_info(tmp_path / "notebooks" / "10_missing.ipynb")
    with pytest.raises(ValueError, match="docname must be the chapter's name in the book"):
        chapter_info(tmp_path / "notebooks" / "09_toy.ipynb", docname="")
    with pytest.raises(ValueError, match="expected a list of ChapterInfo"):
        prerequisites("09_toy")
    with pytest.raises(ValueError, match="expected a list of ChapterInfo"):
        teachers_section([info, "10_next"])
    with pytest.raises(ValueError, match="two chapters have the same number"):
        teachers_section([info, info])
    with pytest.raises(ValueError, match="root must be the book's folder"):
        book_chapters(tmp_path / "notebooks")
    with pytest.raises(ValueError, match="page_text must be the text of the teachers' page"):
        render_teachers_page(tmp_path / "teachers.md", [info])
    with pytest.raises(ValueError, match="page must be the path of the teachers' page"):
        update_teachers_page(tmp_path / "missing.md", tmp_path)
    assert update_teachers_page(tmp_path / "teachers.md", tmp_path)
