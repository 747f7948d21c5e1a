"""The one way into money: exact Decimals, no floats, no fractions of a cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketadesk.errors import InvalidValue
from ketadesk.money import from_cents, money, round_cents, to_cents


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("450", "450.00"),
        ("450.5", "450.50"),
        (" $1,250.00 ", "1250.00"),
        ("-$12.30", "-12.30"),
        (7, "7.00"),
        (Decimal("0.10"), "0.10"),
        ("0", "0.00"),
    ],
)
def test_money_accepts_exact_amounts(raw: str | int | Decimal, expected: str) -> None:
    assert money(raw) == Decimal(expected)
    assert str(money(raw)) == expected


@pytest.mark.parametrize("raw", [1.5, 0.1, True, None, [1]])
def test_money_refuses_floats_and_other_types(raw: object) -> None:
    with pytest.raises(TypeError, match="money takes str, int or Decimal"):
        money(raw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("12.345", "fraction of a cent"),
        ("abc", "not an amount"),
        ("NaN", "not an amount"),
        ("Infinity", "not an amount"),
        ("100000000.00", "larger than"),
    ],
)
def test_money_refuses_bad_text(raw: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        money(raw)


def test_round_cents_rounds_half_up_once() -> None:
    assert round_cents(Decimal("10.005")) == Decimal("10.01")
    assert round_cents(Decimal("10.0049")) == Decimal("10.00")
    assert round_cents(Decimal("-10.005")) == Decimal("-10.01")
    with pytest.raises(TypeError):
        round_cents(10.005)  # type: ignore[arg-type]


@given(st.integers(min_value=-9_999_999_999, max_value=9_999_999_999))
def test_cents_round_trip(cents: int) -> None:
    amount = from_cents(cents)
    assert to_cents(amount) == cents
    assert amount == Decimal(cents) / 100


def test_from_cents_refuses_non_integers() -> None:
    with pytest.raises(TypeError):
        from_cents(Decimal("1.5"))  # type: ignore[arg-type]
