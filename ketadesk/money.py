"""Money: ``Decimal`` in Python, integer cents in the database.

There is one way into money, :func:`money`, which accepts ``str``, ``int`` and ``Decimal``
and refuses ``float`` (binary floats cannot hold cents exactly). Values are US dollars with
two decimal places; sub-cent values are refused rather than silently rounded, because a
price with a fraction of a cent is a typo. Where arithmetic legitimately produces fractions
(percent discounts, per-mg prices) the caller rounds once, here, with :func:`round_cents`.

Formatting with a currency symbol is presentation and lives in ``ui/`` and ``documents/``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from ketadesk.errors import InvalidValue

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ROUNDING = ROUND_HALF_UP  # what US billing staff expect: 0.005 -> 0.01
# The largest amount a single entry may carry; well inside a signed 64-bit cents column.
LIMIT = Decimal("99999999.99")


def money(value: str | int | Decimal) -> Decimal:
    """Return ``value`` as an exact two-place ``Decimal``.

    Raises ``TypeError`` for floats (and any other type) and :class:`InvalidValue` for text
    that is not an amount, for sub-cent precision, and for amounts beyond :data:`LIMIT`.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(f"money takes str, int or Decimal, not {type(value).__name__}")
    if isinstance(value, str):
        text = value.strip().replace(",", "").removeprefix("$")
        if text.startswith("-$"):
            text = "-" + text[2:]
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise InvalidValue(
                f"{value!r} is not an amount of money; write it like 450.00"
            ) from None
    else:
        amount = Decimal(value)
    if not amount.is_finite():
        raise InvalidValue(f"{value!r} is not an amount of money; write it like 450.00")
    if amount != amount.quantize(CENT, rounding=ROUNDING):
        raise InvalidValue(f"{value} has a fraction of a cent; amounts are to the cent")
    if abs(amount) > LIMIT:
        raise InvalidValue(f"{value} is larger than the most one entry may hold ({LIMIT})")
    return amount.quantize(CENT)


def round_cents(value: Decimal) -> Decimal:
    """Round a computed ``Decimal`` (a percentage, a per-unit price) to the cent, half up."""
    if not isinstance(value, Decimal):
        raise TypeError(f"round_cents takes a Decimal, not {type(value).__name__}")
    return value.quantize(CENT, rounding=ROUNDING)


def to_cents(value: Decimal) -> int:
    """The integer number of cents in an exact two-place amount."""
    amount = money(value)
    return int(amount * 100)


def from_cents(cents: int) -> Decimal:
    """The ``Decimal`` amount for an integer number of cents."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"from_cents takes an int, not {type(cents).__name__}")
    return (Decimal(cents) / 100).quantize(CENT)
