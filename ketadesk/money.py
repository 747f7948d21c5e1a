"""Money: ``Decimal`` in Python, integer cents in the database.

There is one way into money, :func:`money`, which accepts ``str``, ``int`` and ``Decimal``
and refuses ``float`` (binary floats cannot hold cents exactly). Values are US dollars with
two decimal places; sub-cent values are refused rather than silently rounded, because a
price with a fraction of a cent is a typo. Where arithmetic legitimately produces fractions
(percent discounts, per-mg prices) the caller rounds once, here, with :func:`round_cents`.

Text a person typed — a CLI option, a dialog's field, a fee or package price, a row of a seed
file — is read by :func:`parse_amount`, which :func:`money` calls for every ``str``. It takes
``1250``, ``1250.5``, ``1,250.00``, ``$1,250.00`` and ``-$5.00`` (commas only as correct
thousands grouping) and refuses in words whatever a reader could take two ways: ``12,50``
(a European decimal comma), ``1.000,00``, ``1,2,3``, ``1_000``, exponents, digits other than
ASCII 0-9, NaN, infinities, absurd magnitudes and more than two decimals. Nothing it is
given ends in anything but :class:`InvalidValue`.

Formatting with a currency symbol is presentation and lives in ``ui/`` and ``documents/``.
:func:`decimal_text` is the one place a ``Decimal`` becomes bare text (JSON, CSV): it never
writes ``-0.00``.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from ketadesk.errors import InvalidValue

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ROUNDING = ROUND_HALF_UP  # what US billing staff expect: 0.005 -> 0.01
# The largest amount a single entry may carry; well inside a signed 64-bit cents column.
LIMIT = Decimal("99999999.99")


# What a typed amount may look like. ASCII digits only (``[0-9]``, not ``\d``, which takes
# Arabic-Indic and full-width digits too); a comma only between groups of exactly three.
_AMOUNT = re.compile(
    r"(?P<sign>-?)\$?(?P<whole>[1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+)?"
    r"(?:\.(?P<cents>[0-9]*))?"
)
_EXPONENT = re.compile(r"[0-9.][eE][-+]?[0-9]")
_MOST_DIGITS = 24  # longer than any amount under LIMIT; checked before Decimal sees the text
_EXAMPLE = "write it like 450.00"


def money(value: str | int | Decimal) -> Decimal:
    """Return ``value`` as an exact two-place ``Decimal``.

    Text goes through :func:`parse_amount`. Raises ``TypeError`` for floats (and any other
    type) and :class:`InvalidValue` for text that is not an amount, for sub-cent precision, and
    for amounts beyond :data:`LIMIT`.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(f"money takes str, int or Decimal, not {type(value).__name__}")
    if isinstance(value, str):
        return parse_amount(value)
    amount = Decimal(value)
    if not amount.is_finite():
        raise InvalidValue(f"{value!r} is not an amount of money; {_EXAMPLE}")
    return _checked(amount, str(value))


def parse_amount(text: str) -> Decimal:
    """An amount a person typed, exactly as a reader would take it; signed.

    Accepts optional spaces around, an optional ``-`` then an optional ``$``, whole dollars
    either ungrouped (``1250``) or grouped by commas in threes (``1,250``), and up to two
    decimals after a point. Raises :class:`InvalidValue` with a sentence naming what is wrong
    for anything else; never any other exception, whatever the text.
    """
    stripped = text.strip()
    if not stripped:
        raise InvalidValue(f"no amount was given; {_EXAMPLE}")
    shown = stripped if len(stripped) <= 30 else stripped[:27] + "..."
    if not stripped.isascii():
        if any(ch.isdigit() or ch.isnumeric() for ch in stripped):
            raise InvalidValue(f"{shown!r} has digits other than 0-9; type the amount with 0-9")
        raise InvalidValue(f"{shown!r} is not an amount of money; {_EXAMPLE}")
    match = _AMOUNT.fullmatch(stripped)
    if match is None or not (match["whole"] or match["cents"]):
        raise InvalidValue(_why_not(stripped, shown))
    whole = (match["whole"] or "0").replace(",", "")
    cents = match["cents"] or ""
    if len(whole) > _MOST_DIGITS:
        raise InvalidValue(f"{shown} is larger than the most one entry may hold ({LIMIT:,})")
    if len(cents) > 2:
        if cents[2:].strip("0"):
            raise InvalidValue(f"{shown} has a fraction of a cent; amounts are to the cent")
        raise InvalidValue(f"{shown} has more than two decimals; amounts are to the cent")
    amount = Decimal(f"{match['sign']}{whole}.{cents or '0'}")
    return _checked(amount, shown)


def _why_not(text: str, shown: str) -> str:
    """Why ``text`` is not an amount, in words short enough to sit beside a form's field."""
    tail = text.rsplit(",", 1)[-1]
    if text.count(",") == 1 and len(tail) in (1, 2) and tail.isdigit():
        return f"{shown!r} has a comma for cents; put cents after a point, like 12.50"
    if "," in text:
        return f"{shown!r} has commas out of place; group thousands in threes, like 1,250.00"
    if _EXPONENT.search(text):
        return f"{shown!r} is written with an exponent; {_EXAMPLE}"
    if "_" in text:
        return f"{shown!r} has an underscore; {_EXAMPLE}"
    return f"{shown!r} is not an amount of money; {_EXAMPLE}"


def _checked(amount: Decimal, shown: str) -> Decimal:
    """``amount`` within :data:`LIMIT` and to the cent, as two places.

    The size is compared before quantizing: quantizing ``1E+999999`` to the cent would raise
    ``InvalidOperation`` instead of a sentence.
    """
    if abs(amount) > LIMIT:
        raise InvalidValue(f"{shown} is larger than the most one entry may hold ({LIMIT:,})")
    if amount != amount.quantize(CENT, rounding=ROUNDING):
        raise InvalidValue(f"{shown} has a fraction of a cent; amounts are to the cent")
    return amount.quantize(CENT) + ZERO  # + ZERO turns -0.00 into 0.00


def amount_above_zero(text: str) -> Decimal:
    """A payment, refund or adjustment a person typed: :func:`parse_amount`, above zero.

    Every face reads such an amount through this, so a blank, ``-5`` or ``0`` is refused with
    the same words in the window and on the command line.
    """
    amount = parse_amount(text)
    if amount <= ZERO:
        raise InvalidValue(f"{text.strip()} is not above zero")
    return amount


def decimal_text(value: Decimal) -> str:
    """A ``Decimal`` as bare text for JSON and CSV, its places kept: ``"-12.50"``,
    ``"0.00"`` — never ``"-0.00"``, which a sum negated (``-1 * 0.00``) would otherwise show."""
    if not isinstance(value, Decimal):
        raise TypeError(f"decimal_text takes a Decimal, not {type(value).__name__}")
    return str(value.copy_abs() if value.is_zero() else value)


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
