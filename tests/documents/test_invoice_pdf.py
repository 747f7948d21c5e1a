"""The invoice PDF read back with pypdf, field by field, on views built by hand."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

from documents.view_builders import (
    CJK,
    LONG_NAME,
    ZOE,
    assert_in_order,
    assert_inside_margins,
    charge_line,
    invoice,
    pages,
    payment_line,
    runs,
    words,
)
from pypdf import PdfReader

from ketadesk.billing.models import PaymentMethod
from ketadesk.billing.views import InvoiceState, InvoiceView
from ketadesk.documents.invoice import render_invoice
from ketadesk.money import money


def render(view: InvoiceView) -> bytes:
    return render_invoice(view, deterministic=True)


def test_the_header_gives_number_state_and_dates() -> None:
    (text,) = pages(render(invoice()))
    assert_in_order(
        text,
        [
            "Brightwater Ketamine Clinic",
            "1 Main St, Suite 400",
            "New York, NY 10001",
            "Phone (212) 555-0100",
            "Invoice",
            "Invoice no. NYC-2026-00042",
            "Status Partly paid",
            "Issued 12/20/2026",
            "Due 01/19/2027",
            "Services 12/07/2026 – 12/09/2026",
        ],
    )


def test_bill_to_and_the_amount_due_box() -> None:
    (text,) = pages(render(invoice()))
    assert_in_order(
        text,
        [
            "BILL TO",
            ZOE,
            "22 Orchard St, Apt 5B",
            "New York, NY 10002",
            "Date of birth 03/09/1984 · MRN NYC000123",
            "Balance due by 01/19/2027",
            "$285.00",
        ],
    )


def test_each_charge_prints_every_column_and_the_totals_add_up() -> None:
    (text,) = pages(render(invoice()))
    at = assert_in_order(
        text,
        [
            "Charges",
            "Date",
            "Code",
            "Description",
            "Units",
            "Charge",
            "Paid",
            "Adjusted",
            "Balance",
        ],
    )
    at = assert_in_order(
        text,
        [
            "12/07/2026\n96365\nIV infusion, first hour\n1\n$450.00\n$300.00\n$0.00\n$150.00",
            "12/08/2026\n96366\nIV infusion, each additional hour\n1\n"
            "$150.00\n$0.00\n$50.00\n$100.00",
            "12/09/2026\nJ3490\nKetamine HCl, unclassified drug (JZ)\n1\n"
            "$35.00\n$0.00\n$0.00\n$35.00",
        ],
        at,
    )
    assert_in_order(
        text,
        [
            "Total charges",
            "$635.00",
            "Payments",
            "-$300.00",
            "Adjustments",
            "-$50.00",
            "Balance due",
            "$285.00",
        ],
        at,
    )


def test_payments_received_are_listed_with_method_and_reference() -> None:
    view = invoice(
        payments=(
            payment_line(amount="200.00"),
            payment_line(101, date(2026, 12, 8), "100.00", PaymentMethod.HSA_FSA, "HSA-77", "HSA"),
        )
    )
    (text,) = pages(render(view))
    assert_in_order(
        text,
        [
            "Payments received",
            "Date\nMethod\nReference\nDescription\nAmount",
            "12/07/2026\nCard\nVISA 4242\nPayment, card\n$200.00",
            "12/08/2026\nHSA/FSA\nHSA-77\nHSA\n$100.00",
        ],
    )


def test_amounts_in_thousands_keep_their_commas() -> None:
    line = charge_line(amount="1234.56", paid="1000.00")
    view = invoice(
        lines=0,
        total=money("1234.56"),
        paid=money("1000.00"),
        adjusted=money("0.00"),
        balance_due=money("234.56"),
        account_balance=money("234.56"),
    )
    (text,) = pages(render(replace(view, lines=(line,))))
    assert_in_order(text, ["$1,234.56\n$1,000.00\n$0.00\n$234.56", "Total charges", "$1,234.56"])


def test_a_paid_invoice_says_so_and_lists_no_payments_when_none_applied() -> None:
    view = invoice(state=InvoiceState.PAID, balance_due=money("0.00"), payments=())
    (text,) = pages(render(view))
    assert "Paid in full. Thank you." in text
    assert "Payments received" not in text


def test_a_draft_says_nothing_is_due_yet() -> None:
    view = invoice(state=InvoiceState.DRAFT, issued_on=None, due_on=None)
    (text,) = pages(render(view))
    assert "Status Draft" in text
    assert "DRAFT: not yet issued; nothing is due on it yet." in words(text)
    assert "Issued" not in text and "Due 0" not in text


def test_a_void_invoice_shows_void_and_the_reason() -> None:
    view = invoice(state=InvoiceState.VOID, void_reason="Billed to the wrong patient & date")
    (text,) = pages(render(view))
    assert "Status Void" in text
    assert_in_order(
        text,
        ["VOID: this invoice has been cancelled.", "Reason: Billed to the wrong patient & date"],
    )


def test_the_whole_account_balance_or_credit_is_mentioned_when_it_differs() -> None:
    (same,) = pages(render(invoice()))
    assert "account" not in same.lower().replace("account balance", "")
    (more,) = pages(render(invoice(account_balance=money("1450.00"))))
    assert "Your whole account balance is $1,450.00." in more
    (credit,) = pages(render(invoice(account_balance=money("-40.00"))))
    assert "You have a credit of $40.00 on your account." in credit


def test_a_clinic_fee_without_a_code_prints_as_a_fee() -> None:
    fee = charge_line(code="", description="Late-cancellation fee", amount="75.00")
    (text,) = pages(render(replace(invoice(), lines=(fee,))))
    assert_in_order(text, ["12/07/2026\nFee\nLate-cancellation fee\n1\n$75.00"])


def test_two_hundred_lines_flow_onto_numbered_pages_with_headings_repeated() -> None:
    texts = pages(render(invoice(200)))
    total = len(texts)
    assert total > 1
    for number, text in enumerate(texts, start=1):
        assert text.rstrip().endswith(f"Page {number} of {total}")
        assert f"Invoice NYC-2026-00042 · {ZOE} Page {number} of {total}" in text
        if number > 1 and "\n96365\n" in text:
            assert text.lstrip().startswith("Date\nCode\nDescription\nUnits\nCharge")
    everything = "\n".join(texts)
    assert everything.count("\nIV infusion, first hour\n") == 67
    assert_in_order(texts[-1], ["Total charges", "Balance due"])


def test_unicode_and_very_long_names_print_whole() -> None:
    for name in (ZOE, CJK, "Nguyễn Thị Minh Khai"):
        (text,) = pages(render(invoice(name=name)))
        assert f"BILL TO\n{name}\n" in text
    cjk = render(invoice(name=CJK))
    assert {r.font for r in runs(cjk) if r.text == CJK} == {"DroidSansFallback"}
    long = render(invoice(name=LONG_NAME))
    (text,) = pages(long)
    assert LONG_NAME in words(text)
    assert LONG_NAME not in text
    assert_inside_margins(long)


def test_user_text_is_escaped_not_read_as_markup() -> None:
    line = charge_line(description="Ketamine <b>bold</b> & more")
    (text,) = pages(render(replace(invoice(), lines=(line,))))
    assert "Ketamine <b>bold</b> & more" in text


def test_deterministic_mode_gives_identical_bytes() -> None:
    assert render(invoice(40)) == render(invoice(40))
    assert render(invoice(40)) != render(invoice(40, number="NYC-2026-00043"))


def test_the_pdf_names_itself() -> None:
    reader = PdfReader(io.BytesIO(render(invoice())))
    assert reader.metadata is not None
    assert reader.metadata.title == "Invoice NYC-2026-00042"
    assert reader.metadata.creator == "KetaDesk"
