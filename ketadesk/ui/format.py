"""How the window writes money, dates and phone numbers — its one home of formats.

Views, tables and dialogs format through these functions and nowhere else, so a figure reads
the same in every tab. Money and dates are the documents' own formats
(:mod:`ketadesk.documents.format`, plain text without Qt or reportlab), so the window, the
command line and the PDFs print ``$1,234.56`` and ``12/07/2026`` alike; this module adds
the few that only the window uses: a balance in words, a date with its weekday, a phone
number as the clinic records it, a count of things with its noun.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ketadesk.clinic.validation import format_phone
from ketadesk.documents.format import date_text, money_text
from ketadesk.errors import InvalidValue

__all__ = ["balance_text", "count_text", "day_text", "dollars", "phone_text", "us_date"]


def dollars(amount: Decimal) -> str:
    """``Decimal("-1234.5")`` -> ``"-$1,234.50"``: US dollars, two places, thousands commas."""
    return money_text(amount)


def balance_text(amount: Decimal) -> str:
    """A balance as people say it: ``$120.00`` owed, ``$50.00 credit`` when below zero."""
    if amount < 0:
        return f"{dollars(-amount)} credit"
    return dollars(amount)


def us_date(day: date | None) -> str:
    """``date(2026, 12, 1)`` -> ``"12/01/2026"``; blank for no date."""
    return date_text(day)


def day_text(day: date) -> str:
    """``Thu 12/24/2026``: a date with its weekday, for closures and holidays."""
    return day.strftime("%a %m/%d/%Y")


def phone_text(digits: str) -> str:
    """A stored phone as ``(212) 555-0142``; anything unexpected is shown as stored."""
    if not digits:
        return ""
    try:
        return format_phone(digits)
    except InvalidValue:
        return digits


def count_text(number: int, one: str, many: str) -> str:
    """``count_text(1969, "charge", "charges")`` -> ``"1,969 charges"``: thousands commas, as
    every figure the window shows, and the noun agreeing with the number."""
    return f"{number:,} {one if number == 1 else many}"
