"""The validation catalogue: one place that says what a good value is.

Services, the command line, CSV import and the Qt forms all validate with these functions,
so a value is judged the same way wherever it comes from.

The contract of every validator:

* It is a plain function that takes the raw value (usually ``str``, exactly as typed or
  read from a CSV cell) and returns the **normalized** value to store: stripped, canonical
  case and punctuation (``" f32.1 "`` -> ``"F32.1"``, ``"(212) 555-0142"`` ->
  ``"2125550142"``).
* A bad value raises :class:`~ketadesk.errors.InvalidValue` whose message is an English
  sentence fragment about the *value*, never naming the field, that says what is wrong and
  what is expected: ``"1234567890 fails the NPI check digit (Luhn over the 80840 prefix);
  check for a typo"``. The caller adds the field (see :class:`Checker`), so a form shows
  ``npi: 1234567890 fails ...`` or puts the message beside the field.
* A value of the wrong Python *type* (a ``float`` weight, a ``bool`` count) is a programming
  error and raises :class:`TypeError`, not :class:`InvalidValue`.
* Blank values are not the validators' business: :meth:`Checker.check` decides whether a
  blank field is a problem ("is required") or simply absent. Called directly, a validator
  rejects a blank value like any other bad one.

:class:`Checker` runs many validators over a form or CSV row, collects every problem, and
raises them together as one :class:`~ketadesk.errors.ValidationError`.

A record's fields are declared as data, a tuple of :class:`FieldSpec` (name, label,
required, validator), which the Qt settings tables also read for their labels;
:func:`collect_fields` runs a :class:`Checker` over them, so every record of clinic set-up,
fees, packages and protocols is validated by the same loop.

The code sets (ICD-10-CM, CPT, HCPCS, modifiers, places of service) keep the same contract
in :mod:`ketadesk.clinic.codes`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any, TypeVar
from zoneinfo import available_timezones

from ketadesk.errors import FieldProblem, InvalidValue, ValidationError
from ketadesk.safe_text import first_unsafe, refusal

__all__ = [
    "US_STATES",
    "Checker",
    "FieldSpec",
    "collect_fields",
    "date_of_birth",
    "email",
    "format_phone",
    "licence_number",
    "member_id",
    "npi",
    "parse_date",
    "parse_flag",
    "person_name",
    "plain_text",
    "positive_int",
    "shown",
    "split_list",
    "time_zone",
    "tin",
    "us_phone",
    "us_state",
    "weight_kg",
    "zip_code",
]

V = TypeVar("V")
T = TypeVar("T")


def shown(value: str) -> str:
    """``value`` as it should appear at the start of a validator's message (the code sets
    of :mod:`ketadesk.clinic.codes` word their messages the same way)."""
    text = value.strip()
    if not text:
        return "a blank value"
    if len(text) > 40:
        text = text[:39] + "…"
    if not text.isprintable():
        return repr(text)  # escapes control characters
    if any(ch.isspace() for ch in text):
        return f'"{text}"'
    return text


# ---------------------------------------------------------------------------------------
# Provider and payer identifiers
# ---------------------------------------------------------------------------------------

_NPI_SEPARATORS = re.compile(r"[\s-]+")
_DIGITS = re.compile(r"[0-9]+")  # not \d: that also matches Arabic-Indic and other digits


def _luhn_check_digit(payload: str) -> str:
    """The digit that, appended to ``payload``, makes the whole number pass the Luhn test."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:  # these are doubled once the check digit is appended
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def npi(value: str) -> str:
    """A National Provider Identifier: 10 digits, first 1 or 2, Luhn check digit.

    Spaces and dashes are ignored. The check digit is the Luhn digit over ``"80840"`` (the
    ISO prefix for US health identifiers) followed by the first nine digits.
    """
    digits = _NPI_SEPARATORS.sub("", value)
    if not _DIGITS.fullmatch(digits):
        raise InvalidValue(f"{shown(value)} is not an NPI; expected 10 digits, e.g. 1234567893")
    if len(digits) != 10:
        raise InvalidValue(f"{shown(value)} has {len(digits)} digits; an NPI has exactly 10")
    if digits[0] not in "12":
        raise InvalidValue(
            f"{digits} starts with {digits[0]}; an NPI starts with 1 (individual) "
            "or 2 (organization)"
        )
    if _luhn_check_digit("80840" + digits[:9]) != digits[9]:
        raise InvalidValue(
            f"{digits} fails the NPI check digit (Luhn over the 80840 prefix); check for a typo"
        )
    return digits


_TIN_FORMS = re.compile(r"[0-9]{9}|[0-9]{2}-[0-9]{7}|[0-9]{3}-[0-9]{2}-[0-9]{4}")


def tin(value: str) -> str:
    """A taxpayer identification number (EIN ``12-3456789`` or SSN ``123-45-6789``) -> 9 digits."""
    text = value.strip()
    if not _TIN_FORMS.fullmatch(text):
        raise InvalidValue(
            f"{shown(value)} is not a TIN; expected 9 digits written as 12-3456789 (EIN), "
            "123-45-6789 (SSN) or 123456789"
        )
    digits = text.replace("-", "")
    if len(set(digits)) == 1:
        raise InvalidValue(
            f"{text} repeats one digit; a real TIN is 9 digits that are not all the same"
        )
    return digits


# ---------------------------------------------------------------------------------------
# Contact details and addresses
# ---------------------------------------------------------------------------------------

_PHONE_CHARS = re.compile(r"\+?[0-9().\s-]+")
_PHONE_EXAMPLE = "(212) 555-0142"


def us_phone(value: str) -> str:
    """A US (NANP) phone number in any usual punctuation -> its 10 digits."""
    text = value.strip()
    if not _PHONE_CHARS.fullmatch(text):
        raise InvalidValue(
            f"{shown(value)} is not a phone number; expected 10 digits such as {_PHONE_EXAMPLE}"
        )
    digits = "".join(ch for ch in text if ch in "0123456789")
    if text.startswith("+") and not (len(digits) == 11 and digits[0] == "1"):
        raise InvalidValue(
            f"{text} is not a US number; expected +1 and 10 digits, or just {_PHONE_EXAMPLE}"
        )
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) != 10:
        raise InvalidValue(
            f"{text} has {len(digits)} digits; expected a 3-digit area code and a 7-digit "
            f"number, e.g. {_PHONE_EXAMPLE}"
        )
    for part, name in ((digits[:3], "area code"), (digits[3:6], "exchange")):
        if part[0] in "01":
            raise InvalidValue(
                f"{text} has {name} {part}; a US {name} starts with a digit from 2 to 9"
            )
        if part[1:] == "11":
            raise InvalidValue(
                f"{text} has {name} {part}; codes ending in 11 (211 to 911) are service "
                f"numbers, not a real {name}"
            )
    return digits


def format_phone(digits: str) -> str:
    """A phone number for display: ``"2125550142"`` -> ``"(212) 555-0142"``.

    Accepts anything :func:`us_phone` accepts, and raises what it raises.
    """
    d = us_phone(digits)
    return f"({d[:3]}) {d[3:6]}-{d[6:]}"


_ZIP_FORM = re.compile(r"([0-9]{5})(?:-?([0-9]{4}))?")


def zip_code(value: str) -> str:
    """A ZIP code: ``"12345"``, or ZIP+4 ``"12345-6789"`` (also typed ``"123456789"``)."""
    match = _ZIP_FORM.fullmatch(value.strip())
    if match is None:
        raise InvalidValue(
            f"{shown(value)} is not a ZIP code; expected 5 digits (12345) or ZIP+4 (12345-6789)"
        )
    five, four = match.groups()
    return five if four is None else f"{five}-{four}"


US_STATES: dict[str, str] = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "AS": "American Samoa",
    "GU": "Guam",
    "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands",
}
"""USPS codes of the 50 states, DC and the five inhabited territories -> their names."""


def _name_key(text: str) -> str:
    """``" New  york "`` -> ``"new york"``; ``"U.S. Virgin Islands"`` -> ``"us virgin islands"``."""
    return " ".join(text.replace(".", "").replace(",", " ").split()).casefold()


_STATE_BY_NAME: dict[str, str] = {
    **{_name_key(name): code for code, name in US_STATES.items()},
    "washington dc": "DC",
    "virgin islands": "VI",
    "us virgin islands": "VI",
}


def us_state(value: str) -> str:
    """A state, DC or territory as its USPS code: ``"ny"``, ``"New York"`` -> ``"NY"``."""
    key = _name_key(value)
    code = key.upper()
    if code in US_STATES:
        return code
    if key in _STATE_BY_NAME:
        return _STATE_BY_NAME[key]
    raise InvalidValue(
        f"{shown(value)} is not a US state or territory; expected a two-letter USPS code "
        "such as NY, or a name such as New York"
    )


_EMAIL_LOCAL_FORBIDDEN = frozenset('()<>[]\\,;:"@')


def email(value: str) -> str:
    """An email address, pragmatically checked; the domain is lower-cased."""
    text = value.strip()
    example = "expected an address like ann.lee@example.com"
    if not text or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise InvalidValue(f"{shown(value)} is not an email address; {example} with no spaces")
    if text.count("@") != 1:
        raise InvalidValue(f"{shown(value)} has {text.count('@')} @ signs; {example}")
    local, domain = text.split("@")
    if not local or len(local) > 64 or any(ch in _EMAIL_LOCAL_FORBIDDEN for ch in local):
        raise InvalidValue(f"{shown(value)} has no valid name before the @; {example}")
    labels = domain.split(".")
    if (
        len(labels) < 2
        or any(not label or label[0] == "-" or label[-1] == "-" for label in labels)
        or not all(ch.isalnum() or ch == "-" for ch in domain.replace(".", ""))
        or len(labels[-1]) < 2
    ):
        raise InvalidValue(
            f"{shown(value)} does not end in a domain such as example.com; {example}"
        )
    if len(text) > 254:
        raise InvalidValue(
            f"{shown(value)} is {len(text)} characters long; an email address has at most 254"
        )
    return f"{local}@{domain.lower()}"


# ---------------------------------------------------------------------------------------
# Dates, names and numbers
# ---------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_US_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_SHORT_YEAR_DATE = re.compile(r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{2}")
_DATE_EXPECTED = "expected YYYY-MM-DD (e.g. 1985-03-07) or MM/DD/YYYY (e.g. 03/07/1985)"


def parse_date(value: str) -> date:
    """A date written ISO-style ``1985-03-07`` or US-style ``03/07/1985`` (or ``3/7/1985``)."""
    text = value.strip()
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _US_DATE.fullmatch(text):
        month, day, year = (int(part) for part in match.groups())
        if month > 12 and day <= 12:
            raise InvalidValue(
                f"{text} has month {month}; dates are written month first (MM/DD/YYYY), "
                f"e.g. {day:02}/{month:02}/{year}"
            )
    elif _SHORT_YEAR_DATE.fullmatch(text):
        raise InvalidValue(f"{text} has a two-digit year; write the year in full, e.g. 03/07/1985")
    else:
        raise InvalidValue(f"{shown(value)} is not a date; {_DATE_EXPECTED}")
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidValue(
            f"{text} is not a real calendar date; check the month and the day"
        ) from None


_MAX_AGE_YEARS = 120


def _local_today() -> date:
    return datetime.now().astimezone().date()


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def date_of_birth(value: date | str, *, today: date | None = None) -> date:
    """A date of birth: not in the future and not more than 120 years ago.

    ``today`` defaults to this computer's local date.
    """
    born = parse_date(value) if isinstance(value, str) else value
    if isinstance(born, datetime):
        born = born.date()
    today = _local_today() if today is None else today
    if born > today:
        raise InvalidValue(
            f"{born.isoformat()} is in the future; a date of birth is today or earlier"
        )
    if born < _years_before(today, _MAX_AGE_YEARS):
        raise InvalidValue(
            f"{born.isoformat()} is more than {_MAX_AGE_YEARS} years ago, which is not a "
            "plausible date of birth; check the year"
        )
    return born


# Invisible characters that keep a name readable are allowed: the zero-width (non-)joiners
# that Persian and Indic names need. Other format characters (bidi overrides, byte-order
# marks, soft hyphens, zero-width spaces) and control characters are refused.
_ALLOWED_FORMAT_CHARS = frozenset("\u200c\u200d")
# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection"): no name
# begins so, and one that did would run as a formula wherever a report is opened.
FORMULA_STARTS = frozenset("=+-@")


def person_name(value: str, *, max_length: int = 100) -> str:
    """A person's name in any script: NFC, trimmed, runs of whitespace made one space."""
    text = unicodedata.normalize("NFC", value)
    for ch in text:
        if ch in "\t\n\r":
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs", "Co") or (category == "Cf" and ch not in _ALLOWED_FORMAT_CHARS):
            raise InvalidValue(
                f"{shown(value)} contains the invisible or control character U+{ord(ch):04X}; "
                "expected only printable letters, spaces and punctuation"
            )
    text = " ".join(text.split())
    if not text:
        raise InvalidValue("a blank value is not a name; expected at least one letter")
    if len(text) > max_length:
        raise InvalidValue(
            f"{shown(text)} is {len(text)} characters long; at most {max_length} are allowed"
        )
    if not any(unicodedata.category(ch).startswith("L") for ch in text):
        raise InvalidValue(f"{shown(text)} has no letters; a name needs at least one letter")
    if text[0] in FORMULA_STARTS:
        raise InvalidValue(
            f"{shown(text)} starts with {text[0]!r}, which a spreadsheet reads as a formula; "
            "a name starts with a letter"
        )
    return text


_MAX_INT_DIGITS = 18
_SIGNED_INT = re.compile(r"[+-]?[0-9]+")


def positive_int(value: str | int, *, maximum: int | None = None) -> int:
    """A whole number of at least 1 (and at most ``maximum``, if given)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"positive_int takes str or int, not {type(value).__name__}")
    if isinstance(value, str):
        text = value.strip()
        if not _SIGNED_INT.fullmatch(text):
            raise InvalidValue(
                f"{shown(value)} is not a whole number; expected digits only, e.g. 6"
            )
        if len(text.lstrip("+-0")) > _MAX_INT_DIGITS:
            raise InvalidValue(
                f"{shown(value)} is far too large; expected a whole number of at most "
                f"{_MAX_INT_DIGITS} digits"
            )
        number = int(text)
    else:
        number = value
    if number < 1:
        raise InvalidValue(f"{number} is not positive; expected a whole number of at least 1")
    if maximum is not None and number > maximum:
        raise InvalidValue(f"{number} is more than the maximum; expected at most {maximum}")
    return number


_WEIGHT_FORM = re.compile(r"(?P<number>[0-9]{1,4}(?:\.[0-9]+)?)\s*(?P<unit>[A-Za-z]+\.?)?")
_MIN_WEIGHT_KG = Decimal(20)
_MAX_WEIGHT_KG = Decimal(400)
_TENTH = Decimal("0.1")
KG_PER_POUND = Decimal("0.45359237")  # exact, by the international yard and pound agreement
WEIGHT_UNITS = ("kg", "lb")
_UNIT_WORDS = {
    "kg": "kg", "kgs": "kg", "kilo": "kg", "kilos": "kg", "kilogram": "kg", "kilograms": "kg",
    "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb",
}  # fmt: skip
_WEIGHT_EXAMPLE = "expected a number such as 72.5 (kilograms) or 154 lb"


def weight_kg(value: str | Decimal, unit: str | None = None) -> Decimal:
    """A body weight as kilograms, 20 to 400 kg, to 0.1 kg: ``"70"`` -> ``Decimal("70.0")``,
    ``"154 lb"`` -> ``Decimal("69.9")``.

    Text may carry its unit (``70 kg``, ``154 lb``, ``154 lbs``, ``154 pounds``); a bare
    number is in ``unit`` (``"kg"`` or ``"lb"``, the window's unit chooser), else kilograms.
    A unit typed that contradicts ``unit`` is refused. Pounds are converted exactly and
    rounded half up to 0.1 kg, since only kilograms are stored. Kilograms finer than 0.1 kg
    are refused rather than rounded (weights feed mg/kg doses), and floats (which cannot hold
    0.1 exactly) are a :class:`TypeError`.
    """
    if unit is not None and unit not in WEIGHT_UNITS:
        raise ValueError(f"a weight's unit is kg or lb, not {unit!r}")
    if isinstance(value, str):
        text = value.strip()
        match = _WEIGHT_FORM.fullmatch(text)
        typed_unit = None
        if match and match["unit"]:
            typed_unit = _UNIT_WORDS.get(match["unit"].rstrip(".").casefold())
        if match is None or (match["unit"] and typed_unit is None):
            raise InvalidValue(f"{shown(value)} is not a weight; {_WEIGHT_EXAMPLE}")
        if typed_unit and unit and typed_unit != unit:
            raise InvalidValue(
                f"{shown(value)} says {typed_unit} but {unit} is chosen; type the number only"
            )
        weight = Decimal(match["number"])
        unit = typed_unit or unit
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidValue(f"{value} is not a weight; {_WEIGHT_EXAMPLE}")
        weight = value
    else:
        raise TypeError(f"weight_kg takes str or Decimal, not {type(value).__name__}")
    if unit == "lb":
        return _pounds_as_kg(weight)
    if weight.quantize(_TENTH) != weight:
        raise InvalidValue(
            f"{weight} kg has more than one decimal place; expected the nearest 0.1 kg, e.g. 72.5"
        )
    if not _MIN_WEIGHT_KG <= weight <= _MAX_WEIGHT_KG:
        raise InvalidValue(
            f"{weight} kg is outside {_MIN_WEIGHT_KG}-{_MAX_WEIGHT_KG} kg; check the number, "
            "and for pounds write lb after it (154 lb)"
        )
    return weight.quantize(_TENTH)


def _pounds_as_kg(pounds: Decimal) -> Decimal:
    """``pounds`` (to 0.1 lb) in kilograms, rounded half up to 0.1 kg and range-checked."""
    if pounds.quantize(_TENTH) != pounds:
        raise InvalidValue(
            f"{pounds} lb has more than one decimal place; expected the nearest 0.1 lb"
        )
    kilograms = (pounds * KG_PER_POUND).quantize(_TENTH, rounding=ROUND_HALF_UP)
    if not _MIN_WEIGHT_KG <= kilograms <= _MAX_WEIGHT_KG:
        low = (_MIN_WEIGHT_KG / KG_PER_POUND).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        high = (_MAX_WEIGHT_KG / KG_PER_POUND).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        raise InvalidValue(
            f"{pounds} lb ({kilograms} kg) is outside {low}-{high} lb; check the number"
        )
    return kilograms


# ---------------------------------------------------------------------------------------
# Identifiers of the practice
# ---------------------------------------------------------------------------------------


@cache
def _zones_by_key() -> dict[str, str]:
    zones = available_timezones() - {"localtime", "posixrules", "Factory"}
    if not zones:
        raise RuntimeError("no time-zone database found; on Windows install the tzdata package")
    return {zone.casefold(): zone for zone in zones}


def time_zone(value: str) -> str:
    """An IANA time zone, spelled canonically: ``"america/new_york"`` -> ``"America/New_York"``."""
    zone = _zones_by_key().get(value.strip().casefold())
    if zone is None:
        raise InvalidValue(
            f"{shown(value)} is not an IANA time zone; expected Area/City such as "
            "America/New_York, America/Chicago, America/Denver or America/Los_Angeles"
        )
    return zone


_IDENTIFIER_FORM = re.compile(r"[A-Z0-9-]*[A-Z0-9][A-Z0-9-]*")


def _identifier(value: str, text: str, what: str) -> str:
    if not _IDENTIFIER_FORM.fullmatch(text):
        raise InvalidValue(
            f"{shown(value)} is not a {what}; expected letters, digits and dashes only"
        )
    if len(text) > 30:
        raise InvalidValue(f"{shown(value)} has {len(text)} characters; a {what} has at most 30")
    return text


def member_id(value: str) -> str:
    """An insurance member ID: up to 30 letters, digits and dashes; spaces dropped, upper case."""
    return _identifier(value, "".join(value.split()).upper(), "member ID")


def licence_number(value: str) -> str:
    """A professional licence number: up to 30 letters, digits and dashes, upper case."""
    return _identifier(value, value.strip().upper(), "licence number")


# ---------------------------------------------------------------------------------------
# Collecting problems
# ---------------------------------------------------------------------------------------


class Checker:
    """Collects every problem of a form or row, then raises them together.

    ::

        checker = Checker()
        phone = checker.check("phone", us_phone, raw.get("phone"), required=False)
        born = checker.check("date_of_birth", date_of_birth, raw.get("date_of_birth"))
        checker.raise_if_problems()  # ValidationError listing every bad field
    """

    def __init__(self) -> None:
        self._problems: list[FieldProblem] = []

    def check(
        self,
        field: str,
        validator: Callable[[V], T],
        value: V | None,
        *,
        required: bool = True,
    ) -> T | None:
        """The validated value of ``field``, or None (with a problem noted if it was bad).

        ``None`` or blank text counts as absent: a problem ("is required") if ``required``,
        otherwise simply None. Only :class:`InvalidValue` is collected; any other exception
        is a bug and propagates.
        """
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(field, "is required")
            return None
        try:
            return validator(value)
        except InvalidValue as error:
            self.add(field, str(error))
            return None

    def add(self, field: str, message: str) -> None:
        """Note a problem found by other means (a cross-field rule, a lookup)."""
        self._problems.append(FieldProblem(field, message))

    @property
    def problems(self) -> list[FieldProblem]:
        """The problems so far, in the order they were found (a copy)."""
        return list(self._problems)

    def raise_if_problems(self) -> None:
        """Raise :class:`ValidationError` with every problem, if there is any."""
        if self._problems:
            raise ValidationError(self._problems)


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form, a CSV row or a command's options: its key, the label a person
    reads, whether it is required, and the validator that cleans its raw value."""

    name: str
    label: str
    required: bool
    validator: Callable[[Any], Any]


def address_fields(
    *, required: bool, first_label: str = "Address", second_line: bool = True
) -> tuple[FieldSpec, ...]:
    """A US postal address as form fields, in reading order: street (and a second line),
    city, two-letter state, ZIP code. Locations, patients and payers share it, so an
    address is checked the same way wherever it is typed."""
    lines: tuple[FieldSpec, ...] = (
        FieldSpec("address_line1", first_label, required, plain_text(120)),
    )
    if second_line:
        lines += (FieldSpec("address_line2", "Address line 2", False, plain_text(120)),)
    return (
        *lines,
        FieldSpec("city", "City", required, plain_text(80)),
        FieldSpec("state", "State", required, us_state),
        FieldSpec("zip_code", "ZIP code", required, zip_code),
    )


def collect_fields(
    checker: Checker,
    raw: Mapping[str, object],
    specs: Sequence[FieldSpec],
    blanks: Mapping[str, Any],
    noun: str,
) -> dict[str, Any]:
    """Validate ``raw`` against ``specs``, noting every problem on ``checker``.

    Returns the clean value of every spec, with ``blanks[name]`` (or None) standing in for
    an absent optional field. Unknown keys are problems too, so a typo in a CSV header
    cannot drop data silently. The caller adds cross-field problems, then raises.
    """
    known = {spec.name for spec in specs}
    for key in raw:
        if key not in known:
            checker.add(key, f"is not a {noun} field")
    clean: dict[str, Any] = {}
    for spec in specs:
        value = checker.check(spec.name, spec.validator, raw.get(spec.name), required=spec.required)
        clean[spec.name] = blanks.get(spec.name) if value is None else value
    return clean


# -- small shared parsers for form, CSV and command-line values -------------------------

_TRUE = frozenset({"yes", "y", "true", "t", "1", "on"})
_FALSE = frozenset({"no", "n", "false", "f", "0", "off"})


def parse_flag(value: bool | int | str) -> bool:
    """A yes/no value from a checkbox (``bool``), a CSV cell or the command line.

    Accepts ``True``/``False``, ``1``/``0`` and, in any case, yes/no, y/n, true/false,
    t/f, on/off, 1/0. Anything else raises :class:`InvalidValue`.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidValue(
        f"{str(value).strip()!r} is not yes or no; expected yes/no, true/false or 1/0"
    )


def plain_text(limit: int) -> Callable[[Any], str]:
    """A validator for one line of free text: runs of whitespace become one space."""

    def check(value: Any) -> str:
        text = " ".join(str(value).split())
        if (found := first_unsafe(text)) is not None:
            raise InvalidValue(refusal(found))
        if len(text) > limit:
            raise InvalidValue(f"is {len(text)} characters long; at most {limit} fit")
        return text

    return check


def split_list(value: object) -> list[str]:
    """``"a, b; c"`` or ``["a", "b"]`` -> the non-blank items, stripped, in order."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    if isinstance(value, Iterable):
        return [str(part).strip() for part in value if str(part).strip()]
    raise InvalidValue(f"{value!r} is not a list; separate the items with commas")
