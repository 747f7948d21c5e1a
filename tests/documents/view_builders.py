"""Builders of the frozen billing views, so the PDF renderers are tested without a database,
and the helpers that read the PDFs back.

Each builder returns a realistic view for a New York ketamine clinic; keyword arguments
replace any field, and a count (``superbill(visits=70)``, ``invoice(lines=200)``) makes a
view long enough to run over pages. The readers use pypdf: the text of each page, and each
run of text with the font it was drawn in and where it sits on the page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pypdf import PdfReader
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfbase.pdfmetrics import stringWidth

from ketadesk.billing.models import EstimateStatus, PaymentMethod
from ketadesk.billing.views import (
    ChargeLine,
    DiagnosisInfo,
    EstimateLineView,
    EstimateView,
    InvoiceState,
    InvoiceView,
    PatientInfo,
    PaymentLine,
    PracticeInfo,
    ProviderInfo,
    ReceiptView,
    StatementLine,
    StatementView,
    SuperbillLine,
    SuperbillView,
    SuperbillVisit,
)
from ketadesk.documents.letterhead import MARGIN
from ketadesk.money import ZERO, money

ZOE = "Zoë Łukasiewicz"
CJK = "阮文英"
# 150 characters: a name that can never fit one line of any column or heading.
LONG_NAME = (
    "Alexandra Maximiliane Josephine Wilhelmina Featherstonehaugh-Cholmondeley "
    "Montgomery-Wolstenholme de la Croix-Vandersteenhoven Abernathy-Fitzgeraldson"
)
assert len(LONG_NAME) == 150


def practice(**overrides: Any) -> PracticeInfo:
    values: dict[str, Any] = {
        "name": "Brightwater Ketamine Clinic",
        "address_lines": ("1 Main St, Suite 400", "New York, NY 10001"),
        "phone": "2125550100",
        "npi": "1245319599",
        "tin": "123456789",
        "pos_code": "11",
        "location_code": "NYC",
        "time_zone": "America/New_York",
    }
    values.update(overrides)
    return PracticeInfo(**values)


def patient(name: str = ZOE, **overrides: Any) -> PatientInfo:
    values: dict[str, Any] = {
        "mrn": "NYC000123",
        "name": name,
        "date_of_birth": date(1984, 3, 9),
        "address_lines": ("22 Orchard St, Apt 5B", "New York, NY 10002"),
        "member_id": "",
        "payer_name": "",
    }
    values.update(overrides)
    return PatientInfo(**values)


def provider(**overrides: Any) -> ProviderInfo:
    values: dict[str, Any] = {"name": "Ama Osei", "credentials": "MD", "npi": "1234567893"}
    values.update(overrides)
    return ProviderInfo(**values)


DIAGNOSES = (
    DiagnosisInfo(
        "A", "F33.2", "Major depressive disorder, recurrent severe without psychotic features"
    ),
    DiagnosisInfo("B", "F43.10", "Post-traumatic stress disorder, unspecified"),
)

VISIT_LINES = (
    ("96365", "", "IV infusion, first hour", 1, "450.00", "1,2"),
    ("96366", "", "IV infusion, each additional hour", 1, "150.00", "1"),
    ("J3490", "JZ", "Ketamine HCl, unclassified drug", 1, "35.00", "1"),
)


def superbill_line(
    code: str = "96365",
    modifiers: str = "",
    description: str = "IV infusion, first hour",
    units: int = 1,
    charge: str = "450.00",
    paid: str = "450.00",
    pointers: str = "A,B",
) -> SuperbillLine:
    return SuperbillLine(code, modifiers, description, units, pointers, money(charge), money(paid))


def superbill(visits: int = 2, *, name: str = ZOE, **overrides: Any) -> SuperbillView:
    """``visits`` IV infusion visits, two days apart from 12/07/2026, fully paid but the last."""
    start = date(2026, 12, 7)
    built = []
    for n in range(visits):
        last_visit = n == visits - 1
        lines = tuple(
            superbill_line(
                code,
                mods,
                text,
                units,
                price,
                "0.00" if last_visit else price,
                "A,B" if ptr == "1,2" else "A",
            )
            for code, mods, text, units, price, ptr in VISIT_LINES
        )
        built.append(SuperbillVisit(start + timedelta(days=2 * n), "11", provider(), lines))
    visits_t = tuple(built)
    total = sum((line.charge for v in visits_t for line in v.lines), ZERO)
    paid = sum((line.paid for v in visits_t for line in v.lines), ZERO)
    last = visits_t[-1].service_date if visits_t else start
    values: dict[str, Any] = {
        "number": f"SB-NYC000123-{start:%Y%m%d}-{last:%Y%m%d}",
        "practice": practice(),
        "patient": patient(name, member_id="W123456789", payer_name="Aetna"),
        "period_from": start,
        "period_to": last,
        "issued_on": date(2026, 12, 31),
        "diagnoses": DIAGNOSES,
        "visits": visits_t,
        "total_charges": total,
        "total_paid": paid,
        "balance": total - paid,
    }
    values.update(overrides)
    return SuperbillView(**values)


def charge_line(
    n: int = 1,
    day: date = date(2026, 12, 7),
    code: str = "96365",
    description: str = "IV infusion, first hour",
    amount: str = "450.00",
    paid: str = "0.00",
    adjusted: str = "0.00",
    units: int = 1,
    modifiers: str = "",
) -> ChargeLine:
    a, p, adj = money(amount), money(paid), money(adjusted)
    return ChargeLine(n, day, code, modifiers, description, units, a, p, adj, a - p - adj)


def payment_line(
    n: int = 100,
    on: date = date(2026, 12, 7),
    amount: str = "300.00",
    method: PaymentMethod | None = PaymentMethod.CARD,
    reference: str = "VISA 4242",
    description: str = "Payment, card",
) -> PaymentLine:
    return PaymentLine(n, on, method, reference, description, money(amount))


def invoice(lines: int = 3, *, name: str = ZOE, **overrides: Any) -> InvoiceView:
    """An issued invoice: ``lines`` charges a day apart, the first partly paid by card."""
    start = date(2026, 12, 7)
    built = []
    for n in range(lines):
        code, modifiers, description, units, price, _pointers = VISIT_LINES[n % 3]
        built.append(
            charge_line(
                n + 1,
                start + timedelta(days=n),
                code,
                description,
                price,
                paid="300.00" if n == 0 else "0.00",
                adjusted="50.00" if n == 1 else "0.00",
                units=units,
                modifiers=modifiers,
            )
        )
    total = sum((line.amount for line in built), ZERO)
    paid = sum((line.paid for line in built), ZERO)
    adjusted = sum((line.adjusted for line in built), ZERO)
    values: dict[str, Any] = {
        "number": "NYC-2026-00042",
        "state": InvoiceState.PARTLY_PAID,
        "practice": practice(),
        "patient": patient(name),
        "lines": tuple(built),
        "payments": (payment_line(amount="300.00"),) if paid else (),
        "total": total,
        "paid": paid,
        "adjusted": adjusted,
        "balance_due": total - paid - adjusted,
        "account_balance": total - paid - adjusted,
        "issued_on": date(2026, 12, 20),
        "due_on": date(2027, 1, 19),
        "period_from": start,
        "period_to": built[-1].service_date if built else start,
    }
    values.update(overrides)
    return InvoiceView(**values)


def receipt(*, name: str = ZOE, **overrides: Any) -> ReceiptView:
    """One card payment's receipt."""
    payment = payment_line(amount="450.00")
    values: dict[str, Any] = {
        "number": "R-100",
        "title": "Payment receipt",
        "practice": practice(),
        "patient": patient(name),
        "period_from": payment.on,
        "period_to": payment.on,
        "payments": (payment,),
        "refunds": (),
        "total_paid": payment.amount,
        "total_refunded": ZERO,
        "net_paid": payment.amount,
    }
    values.update(overrides)
    return ReceiptView(**values)


def year_receipt(payments: int = 4, *, name: str = ZOE, **overrides: Any) -> ReceiptView:
    """The 2026 year-end receipt: ``payments`` payments, one refund, the services paid for."""
    methods = (PaymentMethod.CARD, PaymentMethod.HSA_FSA, PaymentMethod.CHECK, PaymentMethod.CASH)
    paid = tuple(
        payment_line(
            200 + n,
            date(2026, 1, 5) + timedelta(days=7 * n),
            "1,234.56" if n == 0 else "450.00",
            methods[n % 4],
            f"REF-{n:04}",
            f"Payment, {methods[n % 4].label}",
        )
        for n in range(payments)
    )
    refunds = (
        payment_line(
            900, date(2026, 6, 1), "50.00", PaymentMethod.CARD, "RF-1", "Refund of credit"
        ),
    )
    total = sum((p.amount for p in paid), ZERO)
    services = tuple(
        charge_line(n + 1, date(2026, 1, 5) + timedelta(days=7 * n), amount="450.00", paid="450.00")
        for n in range(payments)
    )
    values: dict[str, Any] = {
        "number": "Y2026-NYC000123",
        "title": "Year-end receipt of payments 2026",
        "practice": practice(),
        "patient": patient(name),
        "period_from": date(2026, 1, 1),
        "period_to": date(2026, 12, 31),
        "payments": paid,
        "refunds": refunds,
        "total_paid": total,
        "total_refunded": money("50.00"),
        "net_paid": total - money("50.00"),
        "services": services,
    }
    values.update(overrides)
    return ReceiptView(**values)


def statement(lines: int = 4, *, name: str = ZOE, **overrides: Any) -> StatementView:
    """December's statement: alternating charges and payments from a $100.00 balance."""
    running = money("100.00")
    built = []
    for n in range(lines):
        day = date(2026, 12, 1) + timedelta(days=n % 28)
        if n % 2 == 0:
            charge, credit, what = money("450.00"), ZERO, "96365 IV infusion, first hour"
        else:
            charge, credit, what = ZERO, money("300.00"), "Payment, card VISA 4242"
        running += charge - credit
        built.append(StatementLine(day, what, charge, credit, running))
    values: dict[str, Any] = {
        "practice": practice(),
        "patient": patient(name),
        "statement_date": date(2026, 12, 31),
        "period_from": date(2026, 12, 1),
        "period_to": date(2026, 12, 31),
        "opening_balance": money("100.00"),
        "lines": tuple(built),
        "closing_balance": running,
        "aging": (
            ("Current", running - money("100.00")),
            ("31–60 days", money("100.00")),
            ("61–90 days", ZERO),
            ("Over 90 days", ZERO),
        ),
        "due_on": date(2027, 1, 30),
        "unapplied_prepayments": money("1,200.00"),
        "message": "Thank you for choosing Brightwater. Ask us about payment plans.",
    }
    values.update(overrides)
    return StatementView(**values)


ESTIMATE_ITEMS = (
    ("96365", "", "IV infusion, first hour", 6, 6, "450.00"),
    ("96366", "", "IV infusion, each additional hour", 6, 6, "150.00"),
    ("J3490", "JZ", "Ketamine HCl, unclassified drug", 6, 6, "35.00"),
    ("99214", "25", "Established patient visit, moderate complexity", 1, 1, "225.00"),
)


def estimate_line(
    code: str,
    modifiers: str,
    description: str,
    sessions: int,
    units: int,
    price: str,
    note: str = "",
) -> EstimateLineView:
    unit_price = money(price)
    return EstimateLineView(
        code, modifiers, description, sessions, units, unit_price, unit_price * units, note
    )


def estimate(items: int = 4, *, name: str = ZOE, **overrides: Any) -> EstimateView:
    """A six-session IV induction's estimate, drafted on 11/20/2026."""
    lines = tuple(estimate_line(*ESTIMATE_ITEMS[n % len(ESTIMATE_ITEMS)]) for n in range(items))
    values: dict[str, Any] = {
        "number": "GFE-2026-00017",
        "status": EstimateStatus.DRAFT,
        "practice": practice(),
        "patient": patient(name),
        "provider": provider(),
        "series_name": "IV ketamine induction",
        "first_service_on": date(2026, 12, 7),
        "last_service_on": date(2026, 12, 18),
        "session_count": 6,
        "diagnoses": DIAGNOSES,
        "lines": lines,
        "total": sum((line.amount for line in lines), ZERO),
        "drafted_on": date(2026, 11, 20),
        "give_by": date(2026, 11, 25),
        "given_on": None,
    }
    values.update(overrides)
    return EstimateView(**values)


# ---------------------------------------------------------------------------------------
# Reading the PDFs back
# ---------------------------------------------------------------------------------------


def pages(pdf: bytes) -> list[str]:
    """The extracted text of each page, each line stripped (pypdf starts right-aligned
    cells with a space)."""
    return [
        "\n".join(line.strip() for line in page.extract_text().splitlines()) + "\n"
        for page in PdfReader(io.BytesIO(pdf)).pages
    ]


def words(text: str) -> str:
    """``text`` with every run of whitespace made one space, so wrapped lines join up."""
    return " ".join(text.split())


def assert_in_order(text: str, fields: Sequence[str], start: int = 0) -> int:
    """Assert ``fields`` appear in ``text`` in this order from ``start``; return the end."""
    for item in fields:
        found = text.find(item, start)
        assert found >= 0, f"{item!r} missing after position {start}: {text[start : start + 300]!r}"
        start = found + len(item)
    return start


@dataclass(frozen=True)
class Run:
    """A run of text as drawn: its page, text, font, and where it starts and ends."""

    page: int
    text: str
    font: str
    x0: float
    x1: float
    y: float


def runs(pdf: bytes) -> list[Run]:
    """Every run of text in ``pdf`` with its horizontal extent in points."""
    found: list[Run] = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages, start=1):

        def visit(text: str, cm: Any, tm: Any, font: Any, size: Any, number: int = number) -> None:
            shown = text.rstrip("\n")
            if not shown.strip() or font is None:
                return
            name = str(font["/BaseFont"]).split("+")[-1]
            x = cm[4] + tm[4] * cm[0]
            width = stringWidth(shown, name, size)
            found.append(Run(number, shown, name, x, x + width, cm[5] + tm[5] * cm[3]))

        page.extract_text(visitor_text=visit)
    return found


def images(pdf: bytes) -> int:
    """How many raster images the first page draws (a clinic's PNG logo is one)."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    xobjects = page["/Resources"].get("/XObject")
    if xobjects is None:
        return 0
    return sum(1 for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image")


def assert_inside_margins(pdf: bytes) -> None:
    """No text runs past the page's left or right margin (nothing clipped or cut off)."""
    left, right = MARGIN, LETTER[0] - MARGIN
    for run in runs(pdf):
        assert run.x0 >= left - 0.5 and run.x1 <= right + 0.5, run
