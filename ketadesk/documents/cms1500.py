"""The CMS-1500 (02/12) paper claim: the data on the red pre-printed form, or the whole form.

Payers read the paper claim by OCR: the form is printed in red "drop-out" ink, which the
scanner ignores, and the data must be black, capitals, 10-pitch Courier at 6 lines an inch,
each value inside its box. So the form is a character grid, as printers and OpenEMR's
``putHcfa(line, col, maxlen, data)`` treat it: 10 columns and 6 lines to the inch, line 1 at
the top, column 1 at the left of box 2. How a claim becomes paper:

1. :func:`form_pages` validates the claim (every problem at once, as a
   :class:`~ketadesk.errors.ValidationError`) and lays it out on the grid, six service
   lines a page: a :class:`FormPage` is the text of each grid line, what a line printer
   would type. A claim with more lines continues on further pages; each page repeats the
   header boxes, box 28 holds the total on the last page and ``CONTINUED`` on the others.
2. :func:`render_cms1500` draws those pages. ``"print"`` puts only the data on the page,
   to feed the red form through a printer; ``"full"`` also draws the form itself (box
   outlines, numbers and captions in small type, in drop-out red with the shaded strips of
   box 24), for a payer that takes a printed image, or for the record. The per-printer
   offsets (millimetres, right and down) move the data, never the drawn form.
3. :func:`alignment_page` prints marks on the same grid, to feed one red form and see which
   way the printer is off before the real claims go.

What the form wants, from NUCC's 1500 instruction manual: no ``$``, decimal point or dashes
in amounts (dollars and cents in their own columns); dates as ``MM DD YY`` (birth dates
with the four-digit year, ``MM DD YYYY``); names as ``LAST, FIRST, M``; no punctuation in
addresses; ICD-10 codes without their dot (the 02/12 form has no printed dot); the NDC in
the shaded strip above its line as ``N4`` + 11 digits, a space, the unit and the quantity.
Letters outside A-Z (Zoë Łukasiewicz) print without their accents (ZOE LUKASIEWICZ), since
the payer's OCR and its records know A-Z only.

The data is set in reportlab's built-in Courier: the package ships no monospaced TTF, and
Courier is the typeface NUCC recommends; every value is reduced to A-Z, digits and a few
signs, which Courier has. The captions of the full form are in the shipped DejaVu Sans.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from ketadesk.billing.edi.model import (
    ORIGINAL,
    Address,
    ClaimForm,
    Person,
    ServiceLine,
)
from ketadesk.documents.cms1500_form import draw_form, grid_x, grid_y
from ketadesk.errors import FieldProblem, InvalidValue, ValidationError

Mode = Literal["print", "full"]

LINES = 62  # the last grid line the form uses (its footer)
DATA_FONT, DATA_SIZE = "Courier", 12  # 12-point Courier is 10 characters an inch
BASELINE = 2.6  # the data's baseline sits this far above the bottom of its line
LINES_PER_PAGE = 6
MAX_OFFSET_MM = 25.0
MAX_AMOUNT = Decimal("99999.99")  # five dollar columns

# Box 1, 3, 6, 10, 11, 27: where each box's X goes.
PROGRAM_COLUMN = {"medicare": 1, "group": 31, "other": 45}
RELATION_COLUMN = {"self": 33, "spouse": 38, "child": 42, "other": 47}
SEX_COLUMN = {"M": 42, "F": 47}  # box 3; box 11a is the same two boxes further right
INSURED_SEX_COLUMN = {"M": 68, "F": 75}
YES_NO = {True: 35, False: 41}  # boxes 10a-c
OTHER_PLAN = {True: 52, False: 57}  # box 11d
ASSIGNMENT = {True: 38, False: 43}  # box 27
DIAGNOSIS_COLUMNS = (3, 16, 29, 42)  # box 21: A-D, E-H, I-L across lines 38-40
MODIFIER_COLUMNS = (33, 36, 39, 42)
_ALLOWED = re.compile(r"[^A-Z0-9 ,\-&/']")
_LETTERS = {"Ł": "L", "Ø": "O", "Æ": "AE", "Œ": "OE", "ß": "SS", "Đ": "D", "Þ": "TH", "İ": "I"}


# ---------------------------------------------------------------------------------------
# The grid: what a page says, line by line
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormPage:
    """One printed page of a claim: ``lines[n - 1]`` is the text of grid line ``n``."""

    claim_number: str
    number: int  # 1-based page of this claim
    of: int
    lines: tuple[str, ...]

    def at(self, line: int, col: int, width: int) -> str:
        """The ``width`` characters from ``col`` on grid ``line`` (both 1-based)."""
        return self.lines[line - 1][col - 1 : col - 1 + width]


class _Sheet:
    """A page of the grid being typed; a value never overwrites another one."""

    def __init__(self) -> None:
        self._rows = [[" "] * 84 for _ in range(LINES)]

    def put(self, line: int, col: int, width: int, value: str) -> None:
        """Type ``value`` from ``col``, cut to ``width`` at a space where one falls late
        enough (BRIGHTWATER KETAMINE CLINIC in 26 columns keeps its whole words)."""
        row = self._rows[line - 1]
        if len(value) > width:
            space = value.rfind(" ", 0, width + 1)
            value = value[:space] if space > width * 2 // 3 else value[:width]
        for n, character in enumerate(value):
            if row[col - 1 + n] != " " and character != " ":
                raise ValueError(f"two values meet at line {line}, column {col + n}")
            row[col - 1 + n] = character

    def mark(self, line: int, col: int) -> None:
        self.put(line, col, 1, "X")

    def page(self, claim_number: str, number: int, of: int) -> FormPage:
        lines = tuple("".join(row).rstrip() for row in self._rows)
        return FormPage(claim_number, number, of, lines)


def form_text(value: str) -> str:
    """``value`` as the form prints it: capitals A-Z, digits and a few signs.

    Accents are dropped (Zoë → ZOE, Łukasiewicz → LUKASIEWICZ); periods and ``#`` are
    removed as NUCC asks; any other character becomes a space, and runs of spaces one.
    """
    decomposed = unicodedata.normalize("NFKD", value.upper())
    plain = "".join(
        _LETTERS.get(ch, ch) for ch in decomposed if not unicodedata.combining(ch)
    ).upper()
    plain = plain.replace(".", "").replace("#", "")
    return " ".join(_ALLOWED.sub(" ", plain).split())


def person_name(person: Person) -> str:
    """``LAST, FIRST, M`` (NUCC items 2, 4 and 9)."""
    parts = [form_text(person.family_name), form_text(person.given_name)]
    middle = form_text(person.middle_name)
    if middle:
        parts.append(middle[0])
    return ", ".join(parts)


def amount_columns(amount: Decimal, dollar_width: int = 5) -> tuple[str, str]:
    """Dollars right-aligned in ``dollar_width`` columns and the two cents: no $ or point."""
    cents = int((amount * 100).to_integral_value())
    return f"{cents // 100:>{dollar_width}}", f"{cents % 100:02}"


def short_date(day: date) -> str:
    """``MM DD YY`` with the spaces where the form's date columns part."""
    return f"{day.month:02} {day.day:02} {day.year % 100:02}"


def birth_date(day: date) -> str:
    """``MM DD YYYY``: NUCC asks for the eight-digit birth date."""
    return f"{day.month:02} {day.day:02} {day.year}"


def quantity_text(value: Decimal) -> str:
    """``84``, ``1.5``: a whole number without a point, a fraction with up to three places."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.quantize(Decimal("0.001")).normalize(), "f")


def ndc_text(line: ServiceLine) -> str:
    """The shaded strip's drug line: ``N4`` + 11 digits, a space, unit qualifier + quantity."""
    if not line.ndc:
        return ""
    unit = line.ndc_unit or "UN"
    quantity = quantity_text(line.ndc_quantity if line.ndc_quantity is not None else line.units)
    return f"N4{line.ndc} {unit}{quantity}"


# ---------------------------------------------------------------------------------------
# Checking what cannot be printed
# ---------------------------------------------------------------------------------------


def problems(claim: ClaimForm) -> list[FieldProblem]:
    """Everything about ``claim`` that the form cannot hold, each with its field."""
    found: list[FieldProblem] = []

    def problem(field: str, message: str) -> None:
        found.append(FieldProblem(field, message))

    if not claim.lines:
        problem("lines", "a claim needs at least one service line")
    if not 1 <= len(claim.diagnoses) <= 12:
        problem("diagnoses", f"box 21 holds 1 to 12 diagnoses, not {len(claim.diagnoses)}")
    if len(form_text(claim.claim_number)) > 14 or not claim.claim_number.strip():
        problem("claim_number", "box 26 holds an account number of 1 to 14 characters")
    if not form_text(claim.patient.family_name):
        problem("patient", "the patient's name has no letters A-Z the form can print")
    if len(form_text(claim.note)) > 48:
        problem("note", "box 19 holds 48 characters; shorten the claim's note")
    if claim.total_charge > MAX_AMOUNT:
        problem("lines", "box 28 holds a total up to 99999.99; split the claim")
    for number, line in enumerate(claim.lines, start=1):
        found += _line_problems(claim, number, line)
    return found


def _line_problems(claim: ClaimForm, number: int, line: ServiceLine) -> list[FieldProblem]:
    field = f"lines[{number}]"
    found: list[FieldProblem] = []
    if not re.fullmatch(r"[A-Z0-9]{5}", line.code.upper()):
        found.append(FieldProblem(f"{field}.code", f"{line.code!r} is not a 5-character code"))
    if len(line.modifiers) > 4 or any(len(m) != 2 for m in line.modifiers):
        found.append(FieldProblem(f"{field}.modifiers", "24D holds up to four 2-letter modifiers"))
    if not 1 <= len(line.pointers) <= 4 or any(
        not 1 <= p <= len(claim.diagnoses) for p in line.pointers
    ):
        found.append(
            FieldProblem(f"{field}.pointers", "24E needs 1 to 4 pointers to the claim's diagnoses")
        )
    if not Decimal(0) <= line.charge <= MAX_AMOUNT:
        found.append(FieldProblem(f"{field}.charge", "24F holds a charge from 0 to 99999.99"))
    if not Decimal(0) < line.units or len(quantity_text(line.units)) > 3:
        found.append(FieldProblem(f"{field}.units", "24G holds units from 1 to 999"))
    if line.ndc and not re.fullmatch(r"[0-9]{11}", line.ndc):
        found.append(FieldProblem(f"{field}.ndc", "the NDC must be 11 digits without dashes"))
    return found


def millimetres(text: str) -> float:
    """A printer offset as a person types it: ``1.5``, ``1,5``, ``-2`` or ``+0.5`` (mm)."""
    cleaned = str(text).strip().replace(",", ".").removesuffix("mm").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise InvalidValue(
            f"{text!r} is not a distance in millimetres; write it like 1.5 or -2"
        ) from None
    if not abs(value) <= MAX_OFFSET_MM:
        raise InvalidValue(f"a printer offset is at most {MAX_OFFSET_MM:g} mm either way")
    return value


def _offset_problems(offset_x_mm: float, offset_y_mm: float) -> list[FieldProblem]:
    return [
        FieldProblem(field, f"a printer offset is at most {MAX_OFFSET_MM:g} mm either way")
        for field, value in (("offset_x_mm", offset_x_mm), ("offset_y_mm", offset_y_mm))
        if not abs(value) <= MAX_OFFSET_MM  # a NaN fails too
    ]


def _check(claims: Sequence[ClaimForm], offset_x_mm: float, offset_y_mm: float) -> None:
    found: list[FieldProblem] = []
    if not claims:
        found.append(FieldProblem("claims", "there is no claim to print"))
    for claim in claims:
        prefix = f"claim {claim.claim_number}: " if len(claims) > 1 else ""
        found += [FieldProblem(p.field, prefix + p.message) for p in problems(claim)]
    found += _offset_problems(offset_x_mm, offset_y_mm)
    if found:
        raise ValidationError(found)


# ---------------------------------------------------------------------------------------
# Laying a claim out on the grid
# ---------------------------------------------------------------------------------------


def form_pages(claim: ClaimForm) -> tuple[FormPage, ...]:
    """``claim`` on the grid, six service lines a page; raises :class:`ValidationError`."""
    found = problems(claim)
    if found:
        raise ValidationError(found)
    step = LINES_PER_PAGE
    chunks = [claim.lines[n : n + step] for n in range(0, len(claim.lines), step)]
    pages = []
    for number, chunk in enumerate(chunks, start=1):
        sheet = _Sheet()
        last = number == len(chunks)
        _payer(sheet, claim)
        _patient_and_insured(sheet, claim)
        _other_insured(sheet, claim)
        _claim_facts(sheet, claim)
        for row, line in enumerate(chunk, start=1):
            _service_line(sheet, row, line, claim)
        _totals(sheet, claim, last)
        _providers(sheet, claim)
        pages.append(sheet.page(claim.claim_number, number, len(chunks)))
    return tuple(pages)


def _payer(sheet: _Sheet, claim: ClaimForm) -> None:
    """The payer's name and address, top right above box 1a (lines 2-5)."""
    payer = claim.payer
    rows = [form_text(payer.name)]
    if payer.address:
        rows += [_street(payer.address), _city_line(payer.address)]
    for line, value in enumerate(rows[:4], start=2):
        sheet.put(line, 41, 31, value)


def _street(address: Address) -> str:
    return form_text(f"{address.line1} {address.line2}")


def _city_line(address: Address) -> str:
    return f"{form_text(address.city)} {form_text(address.state)} {address.zip_code}"


def _address(sheet: _Sheet, col: int, address: Address | None, phone: str) -> None:
    """Boxes 5 and 7: street, city and state, zip and telephone, on lines 12, 14, 16."""
    if address is not None:
        sheet.put(12, col, 28, _street(address))
        sheet.put(14, col, 23, form_text(address.city))
        sheet.put(14, col + 25, 2, form_text(address.state))
        sheet.put(16, col, 12, address.zip_code)
    if re.fullmatch(r"[0-9]{10}", phone):
        sheet.put(16, col + 14, 3, phone[:3])
        sheet.put(16, col + 18, 7, phone[3:])


def _program(claim: ClaimForm) -> str:
    if claim.subscriber.medicare:
        return "medicare"
    return "group" if claim.subscriber.group_number else "other"


def _patient_and_insured(sheet: _Sheet, claim: ClaimForm) -> None:
    """Boxes 1-7 and 11-11d: the program, the patient, the insured and the policy."""
    patient, subscriber = claim.patient, claim.subscriber
    insured = subscriber.person
    sheet.mark(8, PROGRAM_COLUMN[_program(claim)])
    sheet.put(8, 50, 28, form_text(subscriber.member_id))
    sheet.put(10, 1, 28, person_name(patient))
    _birth_and_sex(sheet, 10, 31, SEX_COLUMN, patient)
    sheet.put(10, 50, 28, person_name(insured))
    sheet.mark(12, RELATION_COLUMN.get(subscriber.relationship, RELATION_COLUMN["other"]))
    _address(sheet, 1, patient.address, patient.phone)
    same = subscriber.relationship == "self"
    _address(
        sheet,
        50,
        insured.address or (patient.address if same else None),
        insured.phone or (patient.phone if same else ""),
    )
    no_other = subscriber.medicare and not claim.other_payers
    sheet.put(18, 50, 28, "NONE" if no_other else form_text(subscriber.group_number))
    _birth_and_sex(sheet, 20, 53, INSURED_SEX_COLUMN, insured)
    sheet.put(24, 50, 28, form_text(subscriber.plan_name or claim.payer.name))
    sheet.mark(26, OTHER_PLAN[bool(claim.other_payers)])


def _birth_and_sex(
    sheet: _Sheet, line: int, col: int, sex_columns: dict[str, int], person: Person
) -> None:
    sheet.put(line, col, 10, birth_date(person.date_of_birth))
    if person.sex in sex_columns:
        sheet.mark(line, sex_columns[person.sex])


def _other_insured(sheet: _Sheet, claim: ClaimForm) -> None:
    """Boxes 9, 9a, 9d (the earlier payer on a secondary claim) and 10a-c (all "NO")."""
    if claim.other_payers:
        other = claim.other_payers[0]
        sheet.put(18, 1, 28, person_name(other.subscriber.person))
        sheet.put(20, 1, 28, form_text(other.subscriber.member_id))
        sheet.put(26, 1, 28, form_text(other.subscriber.plan_name or other.payer.name))
    for line in (20, 22, 24):  # employment, auto accident, other accident
        sheet.mark(line, YES_NO[False])


def _claim_facts(sheet: _Sheet, claim: ClaimForm) -> None:
    """Boxes 12, 13, 19, 21, 22 and 23."""
    if claim.signature_on_file:
        sheet.put(29, 7, 17, "SIGNATURE ON FILE")
    if claim.accept_assignment:
        sheet.put(29, 55, 17, "SIGNATURE ON FILE")
    sheet.put(36, 1, 48, form_text(claim.note))
    sheet.put(37, 42, 1, "0")  # ICD indicator: ICD-10-CM
    for number, code in enumerate(claim.diagnoses):
        line, col = 38 + number // 4, DIAGNOSIS_COLUMNS[number % 4]
        sheet.put(line, col, 7, code.replace(".", "").upper())
    if claim.frequency != ORIGINAL:
        sheet.put(38, 50, 2, claim.frequency)
        sheet.put(38, 62, 16, form_text(claim.original_reference))
    sheet.put(40, 50, 28, form_text(claim.prior_authorization))


def _service_line(sheet: _Sheet, row: int, line: ServiceLine, claim: ClaimForm) -> None:
    """Box 24, line ``row`` (1-6): the shaded strip, then the line itself."""
    shaded, data = 41 + 2 * row, 42 + 2 * row
    supplement = [ndc_text(line)] if line.ndc else []
    if line.description:
        supplement.append("ZZ" + form_text(line.description))  # an unlisted code's words
    sheet.put(shaded, 1, 63, "   ".join(supplement))
    day = short_date(line.service_date)
    sheet.put(data, 1, 8, day)
    sheet.put(data, 10, 8, day)
    sheet.put(data, 19, 2, line.place_of_service or claim.place_of_service)
    sheet.put(data, 25, 5, line.code.upper())
    for col, modifier in zip(MODIFIER_COLUMNS, line.modifiers, strict=False):
        sheet.put(data, col, 2, modifier.upper())
    sheet.put(data, 45, 4, "".join(chr(64 + p) for p in line.pointers))
    dollars, cents = amount_columns(line.charge)
    sheet.put(data, 50, 5, dollars)
    sheet.put(data, 56, 2, cents)
    sheet.put(data, 59, 3, quantity_text(line.units))
    sheet.put(data, 68, 10, claim.rendering.npi)


def _totals(sheet: _Sheet, claim: ClaimForm, last: bool) -> None:
    """Boxes 25-29: tax id, account number, assignment, the total and what was paid."""
    sheet.put(56, 1, 15, claim.billing.tin)
    sheet.mark(56, 19)  # EIN
    sheet.put(56, 23, 14, form_text(claim.claim_number))
    sheet.mark(56, ASSIGNMENT[claim.accept_assignment])
    if not last:
        sheet.put(56, 51, 9, "CONTINUED")
        return
    dollars, cents = amount_columns(claim.total_charge)
    sheet.put(56, 52, 5, dollars)
    sheet.put(56, 58, 2, cents)
    if claim.other_payers:
        paid = sum((other.paid for other in claim.other_payers), Decimal("0.00"))
        dollars, cents = amount_columns(paid)
        sheet.put(56, 62, 5, dollars)
        sheet.put(56, 68, 2, cents)


def _providers(sheet: _Sheet, claim: ClaimForm) -> None:
    """Boxes 31, 32 and 33: the clinician, where the care was given, who bills."""
    rendering = claim.rendering
    signer = form_text(f"{rendering.given_name} {rendering.family_name} {rendering.credentials}")
    sheet.put(60, 1, 21, signer)
    if claim.signed_on:
        sheet.put(61, 14, 8, short_date(claim.signed_on))
    billing = claim.billing
    facility = claim.facility
    name, address, npi = (
        (facility.name, facility.address, facility.npi)
        if facility
        else (billing.name, billing.address, billing.npi)
    )
    sheet.put(58, 23, 26, form_text(name))
    sheet.put(59, 23, 26, _street(address))
    sheet.put(60, 23, 26, _city_line(address))
    sheet.put(61, 24, 10, npi)
    if re.fullmatch(r"[0-9]{10}", billing.phone):
        sheet.put(57, 66, 3, billing.phone[:3])
        sheet.put(57, 70, 7, billing.phone[3:])
    sheet.put(58, 50, 28, form_text(billing.name))
    sheet.put(59, 50, 28, _street(billing.address))
    sheet.put(60, 50, 28, _city_line(billing.address))
    sheet.put(61, 51, 10, billing.npi)


# ---------------------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------------------


def render_cms1500(
    claims: Sequence[ClaimForm],
    *,
    mode: Mode,
    offset_x_mm: float = 0,
    offset_y_mm: float = 0,
    stable: bool = False,
) -> bytes:
    """Every claim in ``claims`` as CMS-1500 pages in one PDF.

    ``mode`` is ``"print"`` (the data alone, for the red pre-printed form) or ``"full"``
    (the form drawn too). The offsets move the data right and down, in millimetres, for a
    printer that feeds the form off its mark. ``stable`` gives the same bytes for the same
    claims. Raises :class:`~ketadesk.errors.ValidationError` listing every value the form
    cannot hold, across all the claims, before anything is drawn.
    """
    if mode not in ("print", "full"):
        raise ValidationError.single("mode", f"the mode is 'print' or 'full', not {mode!r}")
    _check(claims, offset_x_mm, offset_y_mm)
    pages = [page for claim in claims for page in form_pages(claim)]
    title = f"CMS-1500 claim {claims[0].claim_number}" + (
        f" and {len(claims) - 1} more" if len(claims) > 1 else ""
    )
    canvas, buffer = _canvas(title, stable)
    for page in pages:
        if mode == "full":
            draw_form(canvas)
        _draw_data(canvas, page.lines, offset_x_mm, offset_y_mm)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def alignment_page(offset_x_mm: float = 0, offset_y_mm: float = 0) -> bytes:
    """A test page for the red form: an X in boxes across the form and marks in the others.

    Feed one red form and print this; each X must sit in its box and each row of marks on
    its line. If they fall to the right, lower the X offset by that many millimetres; if
    low, lower the Y offset.
    """
    found = _offset_problems(offset_x_mm, offset_y_mm)
    if found:
        raise ValidationError(found)
    sheet = _Sheet()
    sheet.put(1, 1, 40, f"ALIGNMENT TEST X {offset_x_mm:+.1f} MM Y {offset_y_mm:+.1f} MM")
    for line, col, width in _ALIGNMENT_MARKS:
        sheet.put(line, col, width, "X" * width)
    canvas, buffer = _canvas("CMS-1500 alignment test", stable=True)
    _draw_data(canvas, sheet.page("", 1, 1).lines, offset_x_mm, offset_y_mm)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _canvas(title: str, stable: bool) -> tuple[Canvas, io.BytesIO]:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER, invariant=1 if stable else 0, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor("KetaDesk")
    canvas.setCreator("KetaDesk")
    return canvas, buffer


def _draw_data(
    canvas: Canvas, lines: Iterable[str], offset_x_mm: float, offset_y_mm: float
) -> None:
    """Each grid line as one string of Courier: every character on its column."""
    dx, dy = offset_x_mm * mm, -offset_y_mm * mm
    canvas.setFillColor(colors.black)
    canvas.setFont(DATA_FONT, DATA_SIZE)
    for number, line in enumerate(lines, start=1):
        start = len(line) - len(line.lstrip())
        if line.strip():
            y = grid_y(number + 1) + BASELINE + dy
            canvas.drawString(grid_x(start + 1) + dx, y, line.strip())


# The alignment page's marks: (line, column, width) across the form, in the boxes a claim
# uses most (box 1's program boxes, the names, box 21, the first and last service lines,
# the totals and the billing provider).
_ALIGNMENT_MARKS: tuple[tuple[int, int, int], ...] = (
    *((8, col, 1) for col in (1, 8, 15, 24, 31, 39, 45)),
    (8, 50, 17),
    (10, 1, 28),
    (10, 31, 2),
    (10, 34, 2),
    (10, 37, 4),
    (10, 42, 1),
    (10, 47, 1),
    (10, 50, 28),
    *((12, col, 1) for col in (33, 38, 42, 47)),
    *((38, col, 7) for col in (3, 16, 29, 42)),
    (43, 1, 13),
    *(
        (line, col, width)
        for line in (44, 54)
        for col, width in (
            (1, 2),
            (4, 2),
            (7, 2),
            (10, 2),
            (13, 2),
            (16, 2),
            (19, 2),
            (25, 5),
            (33, 2),
            (36, 2),
            (39, 2),
            (42, 2),
            (45, 4),
            (50, 5),
            (56, 2),
            (59, 3),
            (68, 10),
        )
    ),
    (56, 1, 9),
    (56, 19, 1),
    (56, 23, 14),
    (56, 38, 1),
    (56, 43, 1),
    (56, 52, 5),
    (56, 58, 2),
    (56, 62, 5),
    (56, 68, 2),
    (57, 66, 3),
    (57, 70, 7),
    (58, 50, 28),
    (61, 24, 10),
    (61, 51, 10),
)
