"""``python -m inception.classroom``: write student copies of chapters, or refresh the teachers' page.

    python -m inception.classroom notebooks student [--clear-outputs]
    python -m inception.classroom --teachers-page book/teachers.md
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

from inception.classroom import STUDENT_TAG, write_student_copies
from inception.classroom.teachers import update_teachers_page


def _parser() -> argparse.ArgumentParser:
    """The command line's arguments."""
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    if argv is not None and (isinstance(argv, str) or not isinstance(argv, Sequence)):
        raise ValueError(f"argv must be a list of command-line arguments, got {argv!r}")
    cli = _parser()
    args = cli.parse_args(argv)
    if args.teachers_page:
        if args.paths:
            cli.error("--teachers-page takes its chapters from _toc.yml; give no other paths")
        return _refresh_teachers_page(cli, args.teachers_page)
    if len(args.paths) < 2:
        cli.error("give the notebooks (or their folder) and the folder to write the student copies to")
    return _write_copies(cli, args.paths[:-1], args.paths[-1], args.clear_outputs)


def _refresh_teachers_page(cli: argparse.ArgumentParser, page: Path) -> int:
    """Rewrite the generated part of ``page`` and say whether it changed; exit 2 with the reason if it fails."""
    try:
        changed = update_teachers_page(page)
    except (ValueError, OSError) as error:
        cli.exit(2, f"error: {error}\n")
    print(f"{page}: {'updated' if changed else 'already up to date'}")
    return 0


def _write_copies(cli: argparse.ArgumentParser, sources: Sequence[Path], outdir: Path, clear_outputs: bool) -> int:
    """Write the student copies and say how many exercises each has; exit 2 with the reason if it fails."""
    try:
        written = write_student_copies(sources, outdir, clear_outputs=clear_outputs)
    except ValueError as error:
        cli.exit(2, f"error: {error}\n")
    for path in written:
        nb = nbformat.read(path, as_version=4)
        n = sum(STUDENT_TAG in c.metadata.get("tags", []) for c in nb.cells)
        print(f"{path}: {n} exercise{'s' * (n != 1)} to answer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
