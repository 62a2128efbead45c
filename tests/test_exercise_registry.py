import pytest

from inception.exercises import WrongAnswer, check, exercises, expect_close, expect_equal


def test_every_exercise_is_well_formed():
    for ex in exercises():
        assert ex.title and ex.difficulty in ("easy", "medium", "hard")
        assert ex.wrong, f"exercise {ex.id} lists no plausible wrong answers"


def test_unknown_exercise_is_a_clear_error():
    with pytest.raises(ValueError, match="there is no exercise '99.9'"):
        check("99.9", 1)


def test_placeholder_answer_asks_for_an_answer():
    some = exercises()[0].id
    with pytest.raises(WrongAnswer, match="replace the ... with your answer"):
        check(some, ...)


def test_expect_helpers_say_what_was_expected_and_given():
    with pytest.raises(WrongAnswer, match=r"expected the count; got 5 \(too high\)"):
        expect_equal(5, 4, "the count")
    with pytest.raises(WrongAnswer, match="as int, got str"):
        expect_equal("4", 4, "the count")
    with pytest.raises(WrongAnswer, match="too low"):
        expect_close(0.5, 0.72, "the ratio")
    expect_close(0.721, 0.72, "the ratio")
