"""Checkers for the book's exercises: ``check("1.2", answer)``.

Each chapter's checkers live in their own module (``ch01.py``, ``ch02.py``, ...), found and loaded here
automatically. A checker tests the properties a right answer must have (a value, a shape, a parameter
count, a module's behaviour on an input) and either returns a message saying why the answer is right or
raises :class:`WrongAnswer` saying what was expected and what was given, without giving the answer away.

    >>> from inception.exercises import check
    >>> check("1.1", 1_728)   # doctest: +SKIP
    ✓ Exercise 1.1: right. ...
"""

from __future__ import annotations

import importlib
import pkgutil

from inception.exercises.registry import (
    Exercise,
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

__all__ = ["Exercise", "WrongAnswer", "check", "exercise", "exercises", "expect_close", "expect_equal",
           "expect_module", "expect_shape", "run_module",
           "seeded_input"]

for _info in pkgutil.iter_modules(__path__):
    if _info.name.startswith("ch"):
        importlib.import_module(f"{__name__}.{_info.name}")
