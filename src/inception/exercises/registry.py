"""The exercise registry and the small vocabulary checkers are written in."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from inception.validation import check_positive_int

DIFFICULTIES = ("easy", "medium", "hard")
EXERCISE_ID = re.compile(r"[1-9]\d*\.[1-9]\d*")


class WrongAnswer(Exception):
    """An answer that does not have the properties a right answer must have."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: its id ("chapter.number"), title, difficulty and checker.

    ``wrong`` holds plausible wrong answers (values, or zero-argument callables that build them); the
    test suite checks that the checker rejects each one with a helpful message.
    """

    id: str
    title: str
    difficulty: str
    checker: Callable[[Any], str]
    wrong: tuple[Any, ...] = field(default=())

    @property
    def chapter(self) -> int:
        return int(self.id.split(".")[0])

    def wrong_answers(self) -> list[Any]:
        return [w() if callable(w) and not isinstance(w, nn.Module) else w for w in self.wrong]


_REGISTRY: dict[str, Exercise] = {}


def exercise(id: str, title: str, difficulty: str = "easy",
             wrong: Sequence[Any] = ()) -> Callable[[Callable[[Any], str]], Callable[[Any], str]]:
    """Register a checker: ``@exercise("1.2", "Cost of a 1×1 reduction", "medium", wrong=[...])``."""
    _check_id(id)
    if not isinstance(title, str) or not title.strip():
        raise ValueError(f"an exercise's title must be a non-empty string, got {title!r}")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {difficulty!r}")
    if isinstance(wrong, str | bytes) or not isinstance(wrong, Sequence):
        raise ValueError(f"wrong must be a list of plausible wrong answers, got {type(wrong).__name__} {wrong!r}")

    def register(checker: Callable[[Any], str]) -> Callable[[Any], str]:
        if not callable(checker):
            raise ValueError(f"@exercise({id!r}, ...) decorates a checker function, got {type(checker).__name__}")
        if id in _REGISTRY:
            raise ValueError(f"exercise {id} is registered twice")
        _REGISTRY[id] = Exercise(id, title, difficulty, checker, tuple(wrong))
        return checker

    return register


def exercises(chapter: int | None = None) -> list[Exercise]:
    """All registered exercises in reading order, or those of one chapter."""
    if chapter is not None:
        check_positive_int("chapter", chapter)
    found = sorted(_REGISTRY.values(), key=lambda e: tuple(int(p) for p in e.id.split(".")))
    return [e for e in found if chapter is None or e.chapter == chapter]


def check(id: str, answer: Any) -> None:
    """Check ``answer`` to exercise ``id``: print why it is right, or raise ``WrongAnswer`` saying why not."""
    if not isinstance(id, str):
        raise ValueError(f'an exercise id is a string like "3.2" (chapter.number), got {type(id).__name__} {id!r}')
    if id not in _REGISTRY:
        known = ", ".join(e.id for e in exercises())
        raise ValueError(f"there is no exercise {id!r}; the exercises are {known}")
    if answer is Ellipsis:
        raise WrongAnswer(f"Exercise {id}: replace the ... with your answer, then run the cell again.")
    try:
        message = _REGISTRY[id].checker(answer)
    except WrongAnswer as wrong:
        raise WrongAnswer(f"Exercise {id}: {wrong}") from None
    print(f"✓ Exercise {id}: {message}")


def _check_id(id: object) -> str:
    """Return ``id`` if it is an exercise id: a string "chapter.number" such as "3.2"."""
    if not isinstance(id, str) or not EXERCISE_ID.fullmatch(id):
        raise ValueError(f'exercise ids look like "3.2" (chapter.number), got {id!r}')
    return id


# The vocabulary checkers are written in. Each raises WrongAnswer with what was expected and what was
# given; ``what`` describes the expected quantity without giving its value away.

def expect_equal(given: Any, expected: Any, what: str, hint: str = "") -> None:
    """``given`` must equal ``expected`` (ints: exactly; also accepts a numpy or 0-d tensor value)."""
    _check_wording(what, hint)
    if isinstance(given, torch.Tensor) and given.numel() == 1:
        given = given.item()
    if isinstance(given, bool) or type(given) is not type(expected) and not (
        isinstance(expected, int | float) and isinstance(given, int | float)
    ):
        raise WrongAnswer(f"expected {what} as {type(expected).__name__}, got {type(given).__name__} {given!r}")
    if given != expected:
        direction = ""
        if isinstance(expected, int | float) and isinstance(given, int | float):
            direction = " (too high)" if given > expected else " (too low)"
        raise WrongAnswer(f"expected {what}; got {given!r}{direction}." + (f" Hint: {hint}" if hint else ""))


def expect_close(given: Any, expected: float, what: str, rel: float = 1e-2, hint: str = "") -> None:
    """``given`` must be a number within ``rel`` (relative) of ``expected``."""
    _check_wording(what, hint)
    if isinstance(expected, torch.Tensor) and expected.numel() == 1:
        expected = expected.item()
    if not _is_real(expected):
        raise ValueError(f"expected must be a finite number, got {expected!r}")
    if not _is_real(rel) or not 0 < rel < 1:
        raise ValueError(f"rel must be a relative tolerance in (0, 1), got {rel!r}")
    if isinstance(given, torch.Tensor) and given.numel() == 1:
        given = given.item()
    if isinstance(given, bool) or not isinstance(given, int | float):
        raise WrongAnswer(f"expected {what} as a number, got {type(given).__name__} {given!r}")
    if not math.isclose(given, expected, rel_tol=rel):
        direction = "too high" if given > expected else "too low"
        raise WrongAnswer(f"expected {what} (within {rel * 100:.2g}%); got {given!r}, {direction}."
                          + (f" Hint: {hint}" if hint else ""))


def expect_module(given: Any, what: str) -> nn.Module:
    """``given`` must be an ``nn.Module``."""
    _check_wording(what)
    if not isinstance(given, nn.Module):
        raise WrongAnswer(f"expected {what} (a torch.nn.Module), got {type(given).__name__}")
    return given


def expect_shape(given: torch.Tensor, expected: Sequence[int], what: str) -> None:
    """``given`` must be a tensor of shape ``expected``."""
    _check_wording(what)
    if (isinstance(expected, str) or not isinstance(expected, Sequence)
            or any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in expected)):
        raise ValueError(f"expected must be a shape, a sequence of ints >= 0, got {expected!r}")
    if not isinstance(given, torch.Tensor):
        raise WrongAnswer(f"expected {what} as a tensor, got {type(given).__name__}")
    if tuple(given.shape) != tuple(expected):
        raise WrongAnswer(f"expected {what} of shape {tuple(expected)}, got shape {tuple(given.shape)}")


def seeded_input(*shape: int) -> torch.Tensor:
    """The same random input on every run and every machine, for a checker to feed a student's module."""
    if not shape:
        raise ValueError("seeded_input needs a shape, e.g. seeded_input(2, 480, 14, 14)")
    for n in shape:
        check_positive_int("each size of seeded_input's shape", n)
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0))


def run_module(module: nn.Module, x: torch.Tensor, what: str) -> torch.Tensor:
    """Run a student's ``module`` on ``x`` in eval mode without gradients.

    A module that fails on the input the exercise describes raises ``WrongAnswer`` saying so, rather than
    a PyTorch traceback.
    """
    _check_wording(what)
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be the torch.Tensor to run the module on, got {type(x).__name__}")
    try:
        with torch.no_grad():
            return module.eval()(x)
    except Exception as error:  # the student's module failed on the input the exercise describes
        raise WrongAnswer(f"expected {what} that accepts a {tuple(x.shape)} tensor; it raised {error}") from None


def _check_wording(what: object, hint: object = "") -> None:
    """A checker's description of the expected quantity, and its hint, must be strings (``what`` non-empty)."""
    if not isinstance(what, str) or not what.strip():
        raise ValueError(f"what must describe the expected quantity in words, got {what!r}")
    if not isinstance(hint, str):
        raise ValueError(f"hint must be a string, got {hint!r}")


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
