"""The one way into money: exact Decimals, no floats, no fractions of a cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketadesk.errors import InvalidValue
from ketadesk.money import (
    LIMIT,
    amount_above_zero,
    decimal_text,
    from_cents,
    money,
    parse_amount,
    round_cents,
    to_cents,
)


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


# --- the parser of typed amounts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1250", "1250.00"),
        ("1250.5", "1250.50"),
        ("1,250.00", "1250.00"),
        ("$1,250.00", "1250.00"),
        ("-$5.00", "-5.00"),
        ("  12,345,678.90 ", "12345678.90"),
        (".75", "0.75"),
        ("-0", "0.00"),
    ],
)
def test_parse_amount_takes_what_a_reader_would(typed: str, expected: str) -> None:
    assert str(parse_amount(typed)) == expected
    assert money(typed) == Decimal(expected)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("12,50", "comma for cents"),
        ("45,00", "comma for cents"),
        ("1.000,00", "comma for cents"),
        ("1,2,3", "commas out of place"),
        ("12,3456", "commas out of place"),
        ("0,500", "commas out of place"),
        ("1_000", "has an underscore"),
        ("1e3", "with an exponent"),
        ("1E+3", "with an exponent"),
        ("1e999999", "with an exponent"),
        ("\u0664\u0665", "digits other than 0-9"),  # Arabic-Indic 45
        ("\uff14\uff15", "digits other than 0-9"),  # full-width 45
        ("NaN", "not an amount of money"),
        ("-Infinity", "not an amount of money"),
        ("inf", "not an amount of money"),
        ("9" * 40, "larger than the most one entry may hold"),
        ("100,000,000.00", "larger than the most one entry may hold"),
        ("45.001", "fraction of a cent"),
        ("45.000", "more than two decimals"),
        ("", "no amount was given"),
        ("$", "not an amount of money"),
        ("--5", "not an amount of money"),
        ("5-", "not an amount of money"),
        ("0x10", "not an amount of money"),
    ],
)
def test_parse_amount_refuses_in_words(typed: str, words: str) -> None:
    with pytest.raises(InvalidValue, match=words):
        parse_amount(typed)


def test_a_huge_decimal_is_refused_in_words_not_by_quantize() -> None:
    with pytest.raises(InvalidValue, match="larger than"):
        money(Decimal("1e999999"))


def test_amount_above_zero_refuses_zero_and_below() -> None:
    assert amount_above_zero("$45.00") == Decimal("45.00")
    for typed in ("0", "-5", "-$1,000.00"):
        with pytest.raises(InvalidValue, match="not above zero"):
            amount_above_zero(typed)


def test_decimal_text_never_writes_negative_zero() -> None:
    assert decimal_text(-1 * Decimal("0.00")) == "0.00"
    assert decimal_text(Decimal("-0.000")) == "0.000"
    assert decimal_text(Decimal("-12.50")) == "-12.50"
    with pytest.raises(TypeError):
        decimal_text(0.0)  # type: ignore[arg-type]


_CENTS = st.integers(min_value=-int(LIMIT * 100), max_value=int(LIMIT * 100))


def _written(cents: int, grouped: bool, dollar: bool, places: int) -> str:
    """How a person might type ``cents``: built by hand, not by the parser's rules."""
    whole, part = divmod(abs(cents), 100)
    digits = str(whole)
    if grouped:
        groups = []
        while len(digits) > 3:
            groups.insert(0, digits[-3:])
            digits = digits[:-3]
        digits = ",".join([digits, *groups])
    if places == 2:
        digits += f".{part:02d}"
    elif places == 1:
        digits += f".{part // 10}"
    return ("-" if cents < 0 else "") + ("$" if dollar else "") + digits


@given(_CENTS, st.booleans(), st.booleans(), st.sampled_from([0, 1, 2]))
def test_written_amounts_read_back_exactly(
    cents: int, grouped: bool, dollar: bool, places: int
) -> None:
    if places == 0:
        cents -= cents % 100 if cents >= 0 else -(-cents % 100)
    elif places == 1:
        cents -= cents % 10 if cents >= 0 else -(-cents % 10)
    typed = _written(cents, grouped, dollar, places)
    assert parse_amount(typed) == Decimal(cents) / 100


@given(st.text(max_size=40))
def test_random_text_is_read_exactly_or_refused_in_words(typed: str) -> None:
    try:
        amount = parse_amount(typed)
    except InvalidValue as error:
        assert str(error)
        return
    # Accepted: then it is plain ASCII a reader takes one way, and means what it says.
    text = typed.strip()
    assert text.isascii()
    plainly = text.replace("$", "").replace(",", "")
    assert Decimal(plainly) == amount
    assert amount.as_tuple().exponent == -2


@given(st.from_regex(r"-?\$?[0-9,._eE+ ]{1,24}", fullmatch=True))
def test_near_misses_never_raise_anything_but_invalid_value(typed: str) -> None:
    try:
        amount = parse_amount(typed)
    except InvalidValue:
        return
    assert abs(amount) <= LIMIT
