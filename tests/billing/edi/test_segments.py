"""Values as X12's basic character set carries them."""

from __future__ import annotations

import pytest

from ketadesk.billing.edi.segments import text


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("Brightwater Ketamine — Midtown", "BRIGHTWATER KETAMINE - MIDTOWN"),
        ("Łukasiewicz, Zoë", "LUKASIEWICZ, ZOE"),
        ("O’Brien “Annie”", "O'BRIEN \"ANNIE\""),
        ("Clinic ★ Nord", "CLINIC NORD"),  # a character X12 cannot carry leaves no gap
        ("  many   spaces  ", "MANY SPACES"),
    ],
)
def test_names_reach_x12_plain_and_single_spaced(typed: str, sent: str) -> None:
    assert text(typed, 60) == sent


def test_a_value_is_cut_to_its_element_without_a_trailing_space() -> None:
    assert text("Brightwater Ketamine Clinic", 12) == "BRIGHTWATER"
