"""The window's formats: a count reads with thousands commas and a noun that agrees."""

from __future__ import annotations

import pytest

from ketadesk.ui.format import count_text


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0, "0 charges"),
        (1, "1 charge"),
        (2, "2 charges"),
        (999, "999 charges"),
        (1969, "1,969 charges"),
        (1_234_567, "1,234,567 charges"),
    ],
)
def test_a_count_has_thousands_commas_and_its_noun_agrees(number: int, expected: str) -> None:
    assert count_text(number, "charge", "charges") == expected


def test_the_verb_can_agree_too() -> None:
    assert count_text(1, "needs", "need") + " a look" == "1 needs a look"
    assert count_text(3, "patient holds", "patients hold") == "3 patients hold"
