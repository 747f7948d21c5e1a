"""How money, dates, phones and tax ids read on paper and on screen — the one home of them.

Formatting is presentation: the domain (``billing/``, ``scheduling/``, ``clinic/``) hands
out ``Decimal`` amounts and ``date`` objects, and the faces turn them into text here. The
PDFs in this package use these functions directly; the command line uses them too (it prints
the same figures a PDF does, so ``ketadesk invoice show`` and the invoice PDF cannot drift),
and the window's :mod:`ketadesk.ui.format` builds its own few formats on top of them.

Everything is spelled out here, never by the workstation's locale, because a US clinic's
papers read the same on every machine: ``$1,234.56``, ``12/07/2026``, ``December 7, 2026``,
``(212) 555-0142``, ``12-3456789``. The module imports nothing heavier than ``re``, so the
window may use it at start-up.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

__all__ = [
    "MONTH_NAMES",
    "WEEKDAYS",
    "date_text",
    "long_date",
    "money_text",
    "period_text",
    "phone_text",
    "tin_text",
    "weekday_date",
]

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def money_text(amount: Decimal) -> str:
    """``$1,234.56``; below zero ``-$12.00``. Exact: the Decimal is never made a float."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money_text takes a Decimal, not {type(amount).__name__}")
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def phone_text(digits: str) -> str:
    """Ten stored digits as ``(212) 555-0142``; anything else as stored."""
    if re.fullmatch(r"[0-9]{10}", digits):
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return digits


def tin_text(tin: str) -> str:
    """A nine-digit employer identification number as ``12-3456789``."""
    if re.fullmatch(r"[0-9]{9}", tin):
        return f"{tin[:2]}-{tin[2:]}"
    return tin


def date_text(day: date | None) -> str:
    """``12/07/2026`` (how US insurers and patients read a date), or "" for none."""
    return f"{day.month:02}/{day.day:02}/{day.year}" if day else ""


def long_date(day: date) -> str:
    """``December 7, 2026``."""
    return f"{MONTH_NAMES[day.month - 1]} {day.day}, {day.year}"


def weekday_date(day: date) -> str:
    """``Monday, December 7, 2026``: a day sheet's heading."""
    return f"{WEEKDAYS[day.weekday()]}, {long_date(day)}"


def period_text(first: date, last: date) -> str:
    """``12/01/2026 – 12/31/2026``, or one date when the period is a single day."""
    if first == last:
        return date_text(first)
    return f"{date_text(first)} – {date_text(last)}"
