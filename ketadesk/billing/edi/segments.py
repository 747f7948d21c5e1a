"""The bricks both X12 writers build with: cleaned element values, segments and the envelope.

An X12 file is a list of segments; a segment is an id and its elements joined by ``*``; an
element may be a composite of components joined by ``:``. Every value goes through one of the
formatters here on its way in, so no writer can put a delimiter, a lower-case letter, a float
or an over-long name into a file:

- :func:`text` upper-cases, turns accented letters into plain ones, drops every character X12's
  basic character set does not allow (and the delimiters), and trims to the element's maximum;
- :func:`amount`, :func:`quantity`, :func:`d8` write numbers and dates as the guide spells them;
- :func:`segment` and :func:`composite` join elements, leaving off empty trailing ones;
  :func:`procedure` and :func:`cas` are the two composites both the 837P and the 835 carry;
- :func:`interchange` wraps a transaction's body in ISA/GS/ST … SE/GE/IEA with consistent
  control numbers and the segment count SE01 asks for.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from ketadesk.billing.edi.model import Adjustment
from ketadesk.errors import InvalidValue

ELEMENT, COMPONENT, REPETITION, TERMINATOR = "*", ":", "^", "~"
# X12's basic character set without the four delimiters this file uses.
_NOT_BASIC = re.compile(r"[^A-Z0-9 !\"&'()+,\-./;?=]")
_SPACES = re.compile(r"\s+")
# Letters NFKD does not split into a base letter and an accent.
_PLAIN = str.maketrans({"Ł": "L", "Ø": "O", "Đ": "D", "ß": "SS", "Æ": "AE", "Œ": "OE",
                        # typographic dashes and quotes have plain equivalents in the set
                        "—": "-", "–": "-", "‒": "-", "’": "'", "‘": "'", "“": '"',
                        "”": '"'})  # fmt: skip
_CENT = Decimal("0.01")
MAX_CONTROL_NUMBER = 999_999_999


def text(value: str, limit: int) -> str:
    """``value`` in X12's basic character set, upper case, at most ``limit`` characters."""
    upper = value.upper().translate(_PLAIN)
    plain = "".join(c for c in unicodedata.normalize("NFKD", upper) if not unicodedata.combining(c))
    kept = _SPACES.sub(" ", _NOT_BASIC.sub("", plain.translate(_PLAIN)))
    return kept.strip()[:limit].rstrip()


def digits(value: str) -> str:
    """Only the digits of ``value`` (a ZIP code, a phone number, an NDC)."""
    return "".join(c for c in value if c.isdigit())


def amount(value: Decimal) -> str:
    """Dollars and cents as X12 writes them: ``500``, ``62.5``, ``-12.34`` (no trailing zeros)."""
    cents = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    return _plain_number(cents)


def quantity(value: Decimal) -> str:
    """A unit count (``1``, ``84``, ``0.5``) without trailing zeros."""
    return _plain_number(value)


def _plain_number(value: Decimal) -> str:
    written = f"{value:f}"
    if "." in written:
        written = written.rstrip("0").rstrip(".")
    return "0" if written in ("", "-0") else written


def d8(day: date) -> str:
    """A date as CCYYMMDD."""
    return day.strftime("%Y%m%d")


def segment(seg_id: str, *elements: str) -> str:
    """``seg_id*e1*e2…`` without the empty elements at the end."""
    values = list(elements)
    while values and not values[-1]:
        values.pop()
    return ELEMENT.join([seg_id, *values])


def composite(*components: str) -> str:
    """Components joined by ``:`` without the empty ones at the end."""
    values = list(components)
    while values and not values[-1]:
        values.pop()
    return COMPONENT.join(values)


def procedure(code: str, modifiers: tuple[str, ...], description: str = "") -> str:
    """The procedure composite (SV101, SVD03, SVC01): ``HC:code:m1:m2:m3:m4:description``."""
    slots = [text(m, 2) for m in modifiers[:4]] + [""] * (4 - len(modifiers[:4]))
    return composite("HC", text(code, 48), *slots, text(description, 80))


def cas(adjustments: tuple[Adjustment, ...]) -> list[str]:
    """CAS segments: one per group code, at most six reason/amount/quantity triples each."""
    by_group: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment.group, []).append(adjustment)
    segments = []
    for group, items in by_group.items():
        for start in range(0, len(items), 6):
            triples = [
                value
                for item in items[start : start + 6]
                for value in (
                    text(item.reason, 5),
                    amount(item.amount),
                    "" if item.quantity is None else quantity(item.quantity),
                )
            ]
            segments.append(segment("CAS", text(group, 2), *triples))
    return segments


@dataclass(frozen=True)
class Envelope:
    """What ISA and GS say about a file: who sends it to whom, when, and which guide."""

    sender_id: str
    receiver_id: str
    control_number: int
    created_at: datetime
    functional_code: str  # GS01: "HC" claims, "HP" remittances
    version: str  # GS08 / ST03: "005010X222A1", "005010X221A1"
    transaction: str  # ST01: "837", "835"
    production: bool = True
    version_in_st: bool = True  # ST03: the 837P guide wants it, the 835 guide marks it unused


def interchange(envelope: Envelope, body: list[str]) -> str:
    """The whole file: ``body`` (the segments after ST, before SE) inside its envelopes.

    Raises:
        InvalidValue: the control number is outside 1..999,999,999 (ISA13 has nine digits).
    """
    number = envelope.control_number
    if not 1 <= number <= MAX_CONTROL_NUMBER:
        raise InvalidValue(
            f"control number {number} is outside 1 to {MAX_CONTROL_NUMBER:,} "
            "(ISA13 has nine digits)"
        )
    st_number = f"{number:04d}"
    transaction = [
        segment(
            "ST",
            envelope.transaction,
            st_number,
            envelope.version if envelope.version_in_st else "",
        ),
        *body,
    ]
    transaction.append(segment("SE", str(len(transaction) + 1), st_number))
    segments = [
        _isa(envelope),
        _gs(envelope),
        *transaction,
        segment("GE", "1", str(number)),
        segment("IEA", "1", f"{number:09d}"),
    ]
    return "".join(f"{s}{TERMINATOR}\n" for s in segments)


def _isa(envelope: Envelope) -> str:
    stamp = envelope.created_at
    elements = [
        "00", " " * 10, "00", " " * 10,
        "ZZ", text(envelope.sender_id, 15).ljust(15),
        "ZZ", text(envelope.receiver_id, 15).ljust(15),
        stamp.strftime("%y%m%d"), stamp.strftime("%H%M"),
        REPETITION, "00501", f"{envelope.control_number:09d}", "0",
        "P" if envelope.production else "T", COMPONENT,
    ]  # fmt: skip
    return ELEMENT.join(["ISA", *elements])


def _gs(envelope: Envelope) -> str:
    stamp = envelope.created_at
    return segment(
        "GS",
        envelope.functional_code,
        text(envelope.sender_id, 15),
        text(envelope.receiver_id, 15),
        d8(stamp),
        stamp.strftime("%H%M"),
        str(envelope.control_number),
        "X",
        envelope.version,
    )
