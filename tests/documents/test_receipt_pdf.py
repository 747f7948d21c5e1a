"""Receipts read back with pypdf: one payment's, and the year-end receipt for HSA/FSA use."""

from __future__ import annotations

from documents.view_builders import (
    CJK,
    LONG_NAME,
    ZOE,
    assert_in_order,
    assert_inside_margins,
    pages,
    receipt,
    runs,
    words,
    year_receipt,
)

from ketadesk.billing.views import ReceiptView
from ketadesk.documents.receipt import render_receipt
from ketadesk.money import ZERO, money


def render(view: ReceiptView) -> bytes:
    return render_receipt(view, deterministic=True)


def test_a_payment_receipt_prints_who_paid_what_how_and_when() -> None:
    (text,) = pages(render(receipt()))
    assert_in_order(
        text,
        [
            "Brightwater Ketamine Clinic",
            "NPI 1245319599 · TIN 12-3456789",
            "Payment receipt",
            "Receipt no. R-100",
            "Period 12/07/2026",
            "RECEIVED FROM",
            ZOE,
            "Date of birth 03/09/1984 · MRN NYC000123",
            "Payments",
            "Date\nMethod\nReference\nDescription\nAmount",
            "12/07/2026\nCard\nVISA 4242\nPayment, card\n$450.00",
            "Total paid\n$450.00\nNet paid\n$450.00",
            "Received with thanks by Brightwater Ketamine Clinic (TIN 12-3456789",
        ],
    )
    assert "Refund" not in text
    assert "Services paid for" not in text


def test_the_year_end_receipt_lists_payments_refunds_and_services() -> None:
    (text,) = pages(render(year_receipt()))
    at = assert_in_order(
        text,
        [
            "Year-end receipt of",
            "payments 2026",
            "Receipt no. Y2026-NYC000123",
            "Period 01/01/2026 – 12/31/2026",
            "01/05/2026\nCard\nREF-0000\nPayment, Card\n$1,234.56",
            "01/12/2026\nHSA/FSA\nREF-0001\nPayment, HSA/FSA\n$450.00",
            "01/19/2026\nCheck\nREF-0002",
            "01/26/2026\nCash\nREF-0003",
            "Refunds",
            "06/01/2026\nCard\nRF-1\nRefund of credit\n$50.00",
            "Total paid\n$2,584.56\nRefunded\n-$50.00\nNet paid\n$2,534.56",
            "Services paid for",
            "Date\nCode\nDescription\nUnits\nCharge\nPaid",
            "01/05/2026\n96365\nIV infusion, first hour\n1\n$450.00\n$450.00",
        ],
    )
    assert text.count("\n96365\n", at - 60) == 4
    assert "for example for a health savings or flexible spending account" in words(text)


def test_a_year_without_payments_says_so() -> None:
    view = year_receipt(0, refunds=(), total_refunded=ZERO, net_paid=ZERO, services=())
    (text,) = pages(render(view))
    assert_in_order(text, ["Payments", "No payments in this period.", "Net paid\n$0.00"])


def test_two_hundred_payments_run_onto_numbered_pages() -> None:
    texts = pages(render(year_receipt(200)))
    assert len(texts) > 1
    for number, text in enumerate(texts, start=1):
        assert text.rstrip().endswith(f"Page {number} of {len(texts)}")
    everything = "\n".join(texts)
    assert everything.count("\nPayment, HSA/FSA\n") == 50
    assert everything.count("\nIV infusion, first hour\n") == 200
    assert_in_order(everything, ["Net paid", "Services paid for"])


def test_unicode_and_long_names_print_whole() -> None:
    for name in (ZOE, CJK):
        (text,) = pages(render(receipt(name=name)))
        assert f"RECEIVED FROM\n{name}\n" in text
    assert any(r.font == "DroidSansFallback" for r in runs(render(receipt(name=CJK))))
    pdf = render(receipt(name=LONG_NAME))
    assert LONG_NAME in words(pages(pdf)[0])
    assert_inside_margins(pdf)


def test_deterministic_mode_gives_identical_bytes() -> None:
    assert render(year_receipt()) == render(year_receipt())
    assert render(receipt()) != render(receipt(total_paid=money("451.00")))
