"""Reading what a hurried person types into a treatment history entry.

Each reader takes text and returns the clean value or raises
:class:`~ketadesk.errors.InvalidValue` with a sentence saying what was expected, so the
window and the command line refuse the same things in the same words. What is unambiguous
is accepted ("Zoloft" for sertraline's brand, "150 MG", "8 weeks", "03/2026", "aug"); what
could be read two ways is refused: a dose is a number, a space and a unit ("150 mg"), so
"150mg" and "150" are asked again rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from ketadesk.clinic.history.models import Response, TreatmentKind
from ketadesk.errors import InvalidValue

W = TypeVar("W")

MAX_WEEKS = 520  # ten years: longer is a typing mistake
UNITS = {
    "mg": "mg", "milligram": "mg", "milligrams": "mg",
    "mcg": "mcg", "µg": "mcg", "microgram": "mcg", "micrograms": "mcg",
    "g": "g", "gram": "g", "grams": "g",
    "session": "sessions", "sessions": "sessions",
    "treatment": "treatments", "treatments": "treatments",
}
_KIND_WORDS = {
    "antidepressant": TreatmentKind.ANTIDEPRESSANT, "ad": TreatmentKind.ANTIDEPRESSANT,
    "augmentation": TreatmentKind.AUGMENTATION, "psychotherapy": TreatmentKind.PSYCHOTHERAPY,
    "therapy": TreatmentKind.PSYCHOTHERAPY, "ect": TreatmentKind.ECT, "tms": TreatmentKind.TMS,
    "other": TreatmentKind.OTHER,
}
_RESPONSE_WORDS = {
    "none": Response.NONE, "no response": Response.NONE, "no": Response.NONE,
    "partial": Response.PARTIAL, "partial response": Response.PARTIAL,
    "remission": Response.REMISSION, "remitted": Response.REMISSION,
    "not tolerated": Response.NOT_TOLERATED, "intolerant": Response.NOT_TOLERATED,
    "intolerance": Response.NOT_TOLERATED, "unknown": Response.UNKNOWN,
}
_MONTHS = {name: n for n, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def _key(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", " ").replace("-", " ").split())


def _one_of(text: str, words: Mapping[str, W], what: str, choices: str) -> W:
    """The word ``text`` is, or the only one it begins (three letters at least)."""
    key = _key(text)
    if key in words:
        return words[key]
    found = {value for word, value in words.items() if len(key) >= 3 and word.startswith(key)}
    if len(found) == 1:
        return found.pop()
    raise InvalidValue(f"{text.strip() or 'nothing'!r} is not a {what}; choose {choices}")


def parse_kind(text: str) -> TreatmentKind:
    choices = "antidepressant, augmentation, psychotherapy, ECT, TMS or other"
    return _one_of(text, _KIND_WORDS, "kind of treatment", choices)


def parse_response(text: str) -> Response:
    choices = "none, partial, remission, not tolerated or unknown"
    return _one_of(text, _RESPONSE_WORDS, "response", choices)


def parse_dose(text: str) -> tuple[Decimal | None, str]:
    """``"150 mg"`` → ``(Decimal("150"), "mg")``; blank → ``(None, "")``."""
    words = text.strip().split()
    if not words:
        return None, ""
    if len(words) != 2:
        raise InvalidValue(
            f"{text.strip()!r} is not a dose; write the number, a space and the unit, "
            "as in 150 mg"
        )
    amount = _decimal(words[0], text)
    unit = UNITS.get(words[1].lower().rstrip("."))
    if unit is None:
        raise InvalidValue(f"{words[1]!r} is not a unit of dose; use mg, mcg, g or sessions")
    return amount, unit


def _decimal(word: str, text: str) -> Decimal:
    try:
        amount = Decimal(word.replace(",", ""))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise InvalidValue(
            f"{text.strip()!r} is not a dose; write the number, a space and the unit, "
            "as in 150 mg"
        )
    return amount


def parse_weeks(text: str) -> int | None:
    """``"8"``, ``"8 weeks"`` or ``"8w"`` → 8; blank → ``None``."""
    key = _key(text)
    if not key:
        return None
    match = re.fullmatch(r"(\d{1,3})\s*(w|wk|wks|week|weeks)?", key)
    if match is None or not 0 < int(match.group(1)) <= MAX_WEEKS:
        raise InvalidValue(f"{text.strip()!r} is not a number of weeks from 1 to {MAX_WEEKS}")
    return int(match.group(1))


def parse_month(text: str, today: date) -> date | None:
    """``2026-03``, ``2026-03-15``, ``03/2026`` or ``Mar 2026`` → the 1st of that month."""
    key = _key(text).replace("/", " ").replace(".", " ")
    if not key:
        return None
    parts = key.split()
    found = _month_parts(parts) if parts else None
    if found is None or not 1 <= found[1] <= 12 or found[0] < 1900:
        raise InvalidValue(f"{text.strip()!r} is not a month; write it as 2026-03")
    month = date(found[0], found[1], 1)
    if month > today:
        raise InvalidValue(f"{text.strip()} is in the future; give the month it started")
    return month


def _month_parts(parts: list[str]) -> tuple[int, int] | None:
    """(year, month) from ``["2026", "03"]``, ``["03", "2026"]`` or ``["mar", "2026"]``."""
    numbers = [p for p in parts if p.isdigit()]
    names = [_MONTHS.get(p[:3]) for p in parts if not p.isdigit()]
    if len(parts) == 2 and len(numbers) == 1 and names[0] is not None:
        return int(numbers[0]), names[0]
    if len(numbers) != len(parts) or len(parts) not in (2, 3):
        return None
    if len(parts[0]) == 4:
        return int(parts[0]), int(parts[1])
    if len(parts) == 2 and len(parts[1]) == 4:
        return int(parts[1]), int(parts[0])
    return None


def clean_words(text: str, field: str, limit: int) -> str:
    """Free words, trimmed; longer than ``limit`` is refused, not cut."""
    value = " ".join(text.split())
    if len(value) > limit:
        raise InvalidValue(f"the {field} is {len(value)} characters; at most {limit}")
    return value


def amount_text(amount: Decimal) -> str:
    """``150``, ``12.5``: a dose's number without trailing zeros."""
    return f"{amount.normalize():f}"
