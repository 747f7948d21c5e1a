"""The patient statement read back with pypdf, field by field."""

from __future__ import annotations

from datetime import date

from documents.view_builders import (
    CJK,
    LONG_NAME,
    ZOE,
    assert_in_order,
    assert_inside_margins,
    pages,
    runs,
    statement,
    words,
)

from ketadesk.billing.views import PastDueInvoice, StatementView
from ketadesk.documents.statement import render_statement
from ketadesk.money import ZERO, money


def render(view: StatementView) -> bytes:
    return render_statement(view, deterministic=True)


def test_the_header_and_amount_due() -> None:
    (text,) = pages(render(statement()))
    assert_in_order(
        text,
        [
            "Brightwater Ketamine Clinic",
            "Phone (212) 555-0100",
            "Statement",
            "Statement date 12/31/2026",
            "Period 12/01/2026 – 12/31/2026",
            "Account (MRN) NYC000123",
            "Payment due 01/30/2027",
            "STATEMENT FOR",
            ZOE,
            "22 Orchard St, Apt 5B",
            "Amount due by 01/30/2027",
            "$400.00",
        ],
    )


def test_activity_runs_from_the_balance_forward_with_a_running_balance() -> None:
    (text,) = pages(render(statement()))
    assert_in_order(
        text,
        [
            "Account activity",
            "Date\nDescription\nCharges\nPayments & credits\nBalance",
            "Balance forward\n$100.00",
            "12/01/2026\n96365 IV infusion, first hour\n$450.00\n$550.00",
            "12/02/2026\nPayment, card VISA 4242\n$300.00\n$250.00",
            "12/03/2026\n96365 IV infusion, first hour\n$450.00\n$700.00",
            "12/04/2026\nPayment, card VISA 4242\n$300.00\n$400.00",
            "Previous balance\n$100.00",
            "New charges\n$900.00",
            "Payments and credits\n-$600.00",
            "Balance\n$400.00",
        ],
    )


def test_aging_prepayments_and_the_message_close_the_statement() -> None:
    (text,) = pages(render(statement()))
    assert_in_order(
        text,
        [
            "What you owe, by age",
            "Current\n31–60 days\n61–90 days\nOver 90 days",
            "$300.00\n$100.00\n$0.00\n$0.00",
            "Prepaid package sessions not yet used: $1,200.00.",
            "Thank you for choosing Brightwater. Ask us about payment plans.",
            "Please quote your account number NYC000123",
        ],
    )


def test_a_credit_balance_says_nothing_is_due() -> None:
    view = statement(
        lines=0,
        opening_balance=money("-75.00"),
        closing_balance=money("-75.00"),
        unapplied_prepayments=ZERO,
        message="",
    )
    (text,) = pages(render(view))
    assert_in_order(text, ["Credit on your account", "$75.00", "Nothing is due."])
    assert_in_order(text, ["Credit balance\n-$75.00"])
    assert "Payment due" not in text
    assert "Prepaid package" not in text


def test_a_zero_balance_says_nothing_is_due() -> None:
    view = statement(lines=0, opening_balance=ZERO, closing_balance=ZERO, aging=())
    (text,) = pages(render(view))
    assert "Nothing is due. Thank you." in text
    assert "by age" not in text


def test_two_hundred_lines_flow_onto_numbered_pages_with_headings_repeated() -> None:
    texts = pages(render(statement(200)))
    assert len(texts) > 1
    for number, text in enumerate(texts, start=1):
        assert text.rstrip().endswith(f"Page {number} of {len(texts)}")
        if number > 1 and "\nPayment, card VISA 4242\n" in text:
            assert text.startswith("Date\nDescription\nCharges\nPayments & credits\nBalance")
    everything = "\n".join(texts)
    assert everything.count("\nPayment, card VISA 4242\n") == 100
    assert_in_order(texts[-1], ["New charges\n$45,000.00", "Payments and credits\n-$30,000.00"])


def test_unicode_and_long_names_print_whole() -> None:
    for name in (ZOE, CJK):
        (text,) = pages(render(statement(name=name)))
        assert f"STATEMENT FOR\n{name}\n" in text
    assert any(r.font == "DroidSansFallback" for r in runs(render(statement(name=CJK))))
    pdf = render(statement(name=LONG_NAME))
    assert LONG_NAME in words(pages(pdf)[0])
    assert_inside_margins(pdf)


def test_deterministic_mode_gives_identical_bytes() -> None:
    assert render(statement(30)) == render(statement(30))
    assert render(statement(30)) != render(statement(30, message="Other"))


def test_past_due_invoices_say_since_when_and_the_statement_is_due_after_its_date() -> None:
    late = (
        PastDueInvoice("NYC-2026-00007", date(2026, 11, 2), money("150.00"), 59),
        PastDueInvoice("NYC-2026-00011", date(2026, 12, 1), money("100.00"), 30),
    )
    (text,) = pages(render(statement(past_due=late)))
    assert_in_order(
        text,
        [
            "Statement date 12/31/2026",
            "Payment due 01/30/2027",
            "Amount due by 01/30/2027",
            "$400.00",
            "$250.00 is past due",
            "(since 11/02/2026)",
            "Past due",
            "Invoice\nWas due\nDays late\nStill owed",
            "NYC-2026-00007\n11/02/2026\n59\n$150.00",
            "NYC-2026-00011\n12/01/2026\n30\n$100.00",
            "Past due in all\n$250.00",
            "What you owe, by age",
        ],
    )


def test_a_statement_with_nothing_late_says_nothing_is_past_due() -> None:
    (text,) = pages(render(statement()))
    assert "past due" not in text.casefold()


def test_what_insurers_still_owe_is_shown_apart_from_the_balance() -> None:
    text = " ".join(pages(render(statement(insurance_pending=money("1512.00")))))
    assert "Billed to your insurance and not yet settled: $1,512.00" in " ".join(text.split())
    (plain,) = pages(render(statement()))
    assert "insurance" not in plain
