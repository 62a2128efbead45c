"""Checkers for the book's exercises: ``check("1.2", answer)``.

A checker tests the properties a right answer must have (a value, a shape, a parameter count, a module's
behaviour on an input) and either returns a message saying why the answer is right or raises
:class:`WrongAnswer` saying what was expected and what was given, without giving the answer away.

    >>> from inception.exercises import check
    >>> check("1.1", 1_728)   # doctest: +SKIP
    ✓ Exercise 1.1: right. ...

The registry and the vocabulary checkers are written in live in ``registry.py``; each chapter's checkers
live in their own module (``ch01.py``, ``ch02.py``, ...), imported below by name, so that importing this
package registers them all. To add the checkers of chapter 11:

1. write ``ch11.py``: ``from inception.exercises.registry import exercise, ...`` and one function per
   exercise, decorated with ``@exercise("11.1", "Title", "easy", wrong=[...])``;
2. add ``ch11`` to the ``from . import ...`` line below.

``tests/test_exercise_registry.py`` fails while a ``chNN.py`` exists that this line does not import.
"""

from __future__ import annotations

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

# Each chapter's checkers register themselves when their module is imported.
from . import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09, ch10, ch11, ch12  # noqa: F401

__all__ = ["Exercise", "WrongAnswer", "check", "exercise", "exercises", "expect_close", "expect_equal",
           "expect_module", "expect_shape", "run_module", "seeded_input"]
