"""The money commands end to end: ``charges``, ``invoice``, ``payment``, ``ledger``,
``superbill`` and ``gfe``.

Each test runs :func:`ketadesk.cli.main.main` in-process against a real SQLite file holding
:func:`documents.superbill_batch_helpers.self_pay_month` (four self-pay IV infusions in
December 2026, posted; the fourth by a provider without an NPI). The commands run on a
clock stated as 2027-01-04 (passed to ``main``), so invoice numbers and due dates are
fixed. PDFs are read back with pypdf.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from billing.billing_helpers import ADMIN, billing_clinic, completed_iv_session
from cli.cli_helpers import Result, clock_on, runner
from documents.superbill_batch_helpers import (
    MONTH,
    NO_NPI_PROVIDER,
    PRINTABLE,
    REFUSED_NAME,
    SelfPayMonth,
    self_pay_month,
)
from pypdf import PdfReader
from scheduling.booking_helpers import IV_DAYS, iv_induction
from sqlalchemy import func, select

from ketadesk.billing import ledger
from ketadesk.billing.models import Charge, ChargeStatus, Invoice, LedgerEntry
from ketadesk.billing.review import add_manual_charge
from ketadesk.cli import billing_common
from ketadesk.clinic.models import Location, Patient
from ketadesk.db import Database

TODAY = date(2027, 1, 4)
ZOE = "Zoë Łukasiewicz"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    return runner(capsys, clock=clock_on(TODAY))


@pytest.fixture(scope="module")
def month_file(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The month's database, built once per module; each test gets its own copy."""
    path = tmp_path_factory.mktemp("month") / "month.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    self_pay_month(db)
    db.dispose()  # the last connection closed: everything is in the main file
    return path


@pytest.fixture
def month_db(month_file: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(month_file, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


@pytest.fixture
def month(month_db: Database) -> SelfPayMonth:
    with month_db.reading() as session:
        patients = session.scalars(select(Patient).order_by(Patient.id)).all()
        names = {f"{p.given_name} {p.family_name}": p.mrn for p in patients}
    refused = names.pop(REFUSED_NAME)
    assert set(names) == set(PRINTABLE)
    return SelfPayMonth(url=month_db.url, mrns=names, refused_mrn=refused)


def expect_one_error_line(result: Result, expected: str) -> None:
    assert result.code == 2, result.out + result.err
    assert result.err == f"ketadesk: error: {expected}\n"
    assert "Traceback" not in result.out + result.err


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages)


def count(db: Database, model: type[Any]) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def owed_by(db: Database, mrn: str) -> Decimal:
    with db.reading() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        return ledger.balance(session, patient.id)


# --- the parser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["charges", "capture"],
        ["charges", "list"],
        ["charges", "post"],
        ["invoice", "create"],
        ["invoice", "pdf"],
        ["invoice", "list"],
        ["invoice", "void"],
        ["payment", "add"],
        ["payment", "receipt"],
        ["ledger"],
        ["superbill"],
        ["gfe"],
    ],
    ids=" ".join,
)
def test_help_works_for_every_money_command(cli: Any, command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.code == 0
    assert result.out.startswith(f"usage: ketadesk {' '.join(command)}")
    assert "examples:" in result.out and "--db URL" in result.out


def test_the_money_commands_are_listed_in_the_top_level_help(cli: Any) -> None:
    out = cli("--help").out
    for name in ("charges", "invoice", "payment", "ledger", "superbill", "gfe"):
        assert f"\n    {name} " in out


# --- charges ---------------------------------------------------------------------------------


def test_capture_list_and_post_the_review_queue(cli: Any, sqlite_db: Database) -> None:
    with sqlite_db.transaction() as session:
        clinic = billing_clinic(session, ADMIN)
        completed_iv_session(session, clinic, "2026-12-01 09:00", minutes=100)
        completed_iv_session(session, clinic, "2026-12-03 09:00", minutes=50)
    url = sqlite_db.url

    captured = cli("charges", "capture", "--db", url)
    assert captured.code == 0, captured.err
    charges = count(sqlite_db, Charge)
    assert captured.out == (
        f"Captured {charges} charges from 2 sessions; review them with 'ketadesk charges list'.\n"
    )
    assert cli("charges", "capture", "--db", url).out == "No sessions waiting to be captured.\n"

    rows = cli("charges", "list", "--db", url, "--json").json()
    assert len(rows) == charges
    assert {row["code"] for row in rows} >= {"96365", "96366"}
    assert all(isinstance(row["amount"], str) for row in rows)
    assert all(Decimal(r["amount"]) == Decimal(r["unit_price"]) * r["units"] for r in rows)
    assert [r["service_date"] for r in rows] == sorted(r["service_date"] for r in rows)
    text = cli("charges", "list", "--db", url).out
    assert text.splitlines()[0].split() == [
        "ID", "Date", "Patient", "MRN", "Code", "Description", "Units", "Price", "Amount",
    ]  # fmt: skip
    total = sum(Decimal(r["amount"]) for r in rows)
    assert f"{charges} charges pending, ${total:,.2f} in all." in text

    first = rows[0]
    one = cli("charges", "post", str(first["id"]), "--db", url, "--json").json()
    assert (one["posted"], one["total"]) == (1, first["amount"])
    rest = cli("charges", "post", "--all", "--db", url)
    assert rest.code == 0, rest.err
    clean = [r for r in rows[1:] if not r["review_note"] and Decimal(r["amount"]) > 0]
    assert rest.out.startswith(f"Posted {len(clean)} charge")
    with sqlite_db.reading() as session:
        posted = session.scalars(select(Charge).where(Charge.status == ChargeStatus.POSTED))
        assert len(posted.all()) == len(clean) + 1
    assert owed_by(sqlite_db, rows[0]["mrn"]) == Decimal(first["amount"]) + sum(
        (Decimal(r["amount"]) for r in clean), Decimal("0.00")
    )


def test_post_needs_charge_numbers_or_all(cli: Any, month: SelfPayMonth) -> None:
    expect_one_error_line(
        cli("charges", "post", "--db", month.url), "ID: name the charges to post, or give --all"
    )
    expect_one_error_line(
        cli("charges", "post", "x1", "--db", month.url),
        "ID: 'x1' is not a charge number (see 'list')",
    )


# --- invoices and payments ---------------------------------------------------------------------


def test_invoice_pay_print_and_void(
    cli: Any, month: SelfPayMonth, month_db: Database, tmp_path: Path
) -> None:
    mrn, url = month.mrns[ZOE], month.url
    owed = owed_by(month_db, mrn)
    assert owed > 0

    created = cli("invoice", "create", "--patient", mrn, "--db", url, "--json")
    assert created.code == 0, created.err
    invoice = created.json()
    assert invoice["number"] == "NYC-2027-00001"
    assert (invoice["state"], invoice["issued_on"], invoice["due_on"]) == (
        "issued",
        "2027-01-04",
        "2027-02-03",
    )
    assert Decimal(invoice["total"]) == owed == Decimal(invoice["balance_due"])
    assert sum(Decimal(line["amount"]) for line in invoice["lines"]) == owed
    assert invoice["charges_in_review"] == 0

    listed = cli("invoice", "list", "--patient", mrn, "--db", url, "--json").json()
    assert [(r["number"], r["state"], r["total"]) for r in listed] == [
        ("NYC-2027-00001", "issued", invoice["total"])
    ]

    paid = cli(
        "payment", "add", "--patient", mrn, "--amount", "450.00", "--method", "hsa",
        "--invoice", "nyc-2027-00001", "--reference", "HSA 7781", "--db", url,
    )  # fmt: skip
    assert paid.code == 0, paid.err
    applied = min(owed, Decimal("450.00"))
    lines = paid.out.splitlines()
    assert lines[0].startswith(f"Payment of $450.00 by HSA/FSA from Łukasiewicz, Zoë (MRN {mrn})")
    assert f"${applied:,.2f} paid" in lines[1]
    after = owed - Decimal("450.00")
    assert owed_by(month_db, mrn) == after
    entry_id = int(lines[0].split("(entry ")[1].rstrip(")."))

    state = cli("invoice", "list", "--db", url, "--json").json()[0]
    assert state["state"] == ("paid" if after <= 0 else "partly_paid")
    assert Decimal(state["balance_due"]) == max(after, Decimal("0.00"))

    invoice_pdf = tmp_path / "invoice.pdf"
    printed = cli("invoice", "pdf", "NYC-2027-00001", "-o", str(invoice_pdf), "--db", url)
    assert printed.code == 0, printed.err
    text = pdf_text(invoice_pdf)
    assert "NYC-2027-00001" in text and ZOE in text and f"${owed:,.2f}" in text

    receipt_pdf = tmp_path / "receipt.pdf"
    receipt = cli("payment", "receipt", str(entry_id), "-o", str(receipt_pdf), "--db", url)
    assert receipt.code == 0, receipt.err
    text = pdf_text(receipt_pdf)
    assert "$450.00" in text and ZOE in text and "HSA 7781" in text

    voided = cli("invoice", "void", "NYC-2027-00001", "--reason", "billed twice", "--db", url)
    assert voided.code == 0, voided.err
    assert voided.out.startswith("Voided invoice NYC-2027-00001")
    assert "$450.00 credit" in voided.out  # the charges are reversed; the payment is credit
    assert owed_by(month_db, mrn) == Decimal("-450.00")
    assert cli("invoice", "list", "--db", url, "--json").json()[0]["state"] == "void"


def test_invoice_create_says_what_is_still_in_review(
    cli: Any, month: SelfPayMonth, month_db: Database
) -> None:
    mrn = month.mrns[ZOE]
    with month_db.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        for code in ("99214", "90833"):
            add_manual_charge(
                session,
                ADMIN,
                patient_id=patient.id,
                location_id=session.scalars(select(Location.id)).one(),
                service_date=date(2026, 12, 10),
                code=code,
            )
    result = cli("invoice", "create", "--patient", mrn, "--draft", "--db", month.url)
    assert result.code == 0, result.err
    out = result.out.splitlines()
    assert out[0] == f"Drafted invoice NYC-2027-00001 for {ZOE} (MRN {mrn})"
    assert out[-1] == (
        "2 charges are still in review and not on this invoice; see 'ketadesk charges list'."
    )
    with month_db.reading() as session:
        assert session.scalars(select(Invoice)).one().issued_on is None


def test_nothing_left_to_invoice_is_refused_in_words(cli: Any, month: SelfPayMonth) -> None:
    mrn = month.mrns["Ana Ng"]
    assert cli("invoice", "create", "--patient", mrn, "--db", month.url).code == 0
    again = cli("invoice", "create", "--patient", mrn, "--db", month.url)
    assert again.code == 2 and again.err.startswith("ketadesk: error: ")
    assert again.err.count("\n") == 1 and "Traceback" not in again.err
    assert cli("invoice", "list", "--db", month.url, "--json").json()[0]["number"] == (
        "NYC-2027-00001"
    )


def test_overpayment_becomes_credit(cli: Any, month: SelfPayMonth, month_db: Database) -> None:
    mrn = month.mrns["Ana Ng"]
    owed = owed_by(month_db, mrn)
    amount = owed + Decimal("100.00")
    result = cli(
        "payment", "add", "--patient", mrn, "--amount", f"{amount:,}", "--method", "card",
        "--db", month.url, "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    data = result.json()
    assert (data["amount"], data["applied"], data["credit"]) == (str(amount), str(owed), "100.00")
    assert data["balance"] == "-100.00" and data["method"] == "card"
    assert sum(Decimal(a["amount"]) for a in data["allocations"]) == owed


# --- the ledger ----------------------------------------------------------------------------------


def test_ledger_shows_the_running_balance(
    cli: Any, month: SelfPayMonth, month_db: Database, tmp_path: Path
) -> None:
    mrn, url = month.mrns[ZOE], month.url
    cli("payment", "add", "--patient", mrn, "--amount", "100", "--method", "cash", "--db", url)

    data = cli("ledger", "--patient", mrn, "--db", url, "--json").json()
    amounts = [Decimal(line["amount"]) for line in data["lines"]]
    running = [Decimal(line["balance"]) for line in data["lines"]]
    assert all(isinstance(line["amount"], str) for line in data["lines"])
    assert running == [sum(amounts[: n + 1], Decimal("0.00")) for n in range(len(amounts))]
    assert Decimal(data["balance"]) == running[-1] == owed_by(month_db, mrn)
    assert data["lines"][-1]["kind"] == "payment" and data["lines"][-1]["amount"] == "-100.00"
    # The charges were in 2026; the payment, in the year shown (2027).
    assert (data["year"]["year"], data["year"]["charged"], data["year"]["paid"]) == (
        2027,
        "0.00",
        "100.00",
    )
    assert (data["total"]["charged"], data["total"]["paid"]) == (str(running[-2]), "100.00")

    text = cli("ledger", "--patient", mrn, "--db", url).out
    assert text.startswith(f"Ledger of Łukasiewicz, Zoë (MRN {mrn})")
    assert f"Balance: ${running[-1]:,.2f} owed" in text

    statement = tmp_path / "statement.pdf"
    result = cli("ledger", "--patient", mrn, "--statement", "-o", str(statement), "--db", url)
    assert result.code == 0, result.err
    assert ZOE in pdf_text(statement)
    receipt = tmp_path / "receipt-2027.pdf"
    result = cli("ledger", "--patient", mrn, "--year-receipt", "2027", "-o", str(receipt),
                 "--db", url)  # fmt: skip
    assert result.code == 0, result.err
    assert "$100.00" in pdf_text(receipt)
    expect_one_error_line(
        cli("ledger", "--patient", mrn, "--statement", "--db", url),
        "--output: say where to write the PDF: -o FILE",
    )
    for year in ("0000", "\u0662\u0660\u0662\u0667"):  # the second: 2027 in Arabic-Indic
        result = cli("ledger", "--patient", mrn, "--year-receipt", year, "-o", "x", "--db", url)
        assert result.code == 2 and "Traceback" not in result.err
        assert "argument --year-receipt: " in result.err.splitlines()[-1]


def test_ledger_json_never_prints_negative_zero(cli: Any, month: SelfPayMonth) -> None:
    mrn, url = month.mrns[ZOE], month.url
    result = cli("ledger", "--patient", mrn, "--db", url, "--json")
    assert result.code == 0, result.err
    assert "-0.00" not in result.out  # nothing adjusted or refunded: a negated zero sum
    data = result.json()
    assert data["year"]["adjusted"] == data["total"]["refunded"] == "0.00"


# --- superbills ------------------------------------------------------------------------------


def test_one_patients_superbill(cli: Any, month: SelfPayMonth, tmp_path: Path) -> None:
    mrn = month.mrns[ZOE]
    path = tmp_path / "sb.pdf"
    result = cli(
        "superbill", "--patient", mrn, "--from", "2026-12-01", "--to", "2026-12-31",
        "-o", str(path), "--db", month.url,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.out.startswith(f"Superbill SB-{mrn}-20261201-20261231 for {ZOE}")
    text = pdf_text(path)
    assert ZOE in text and "96365" in text and "F33.2" in text


def test_a_superbill_missing_the_npi_is_refused(
    cli: Any, month: SelfPayMonth, tmp_path: Path
) -> None:
    result = cli(
        "superbill", "--patient", month.refused_mrn, "--from", "2026-12-04",
        "-o", str(tmp_path / "never.pdf"), "--db", month.url,
    )  # fmt: skip
    assert result.code == 2
    assert f"the NPI of rendering provider {NO_NPI_PROVIDER}" in result.err
    assert result.err.count("\n") == 1 and not (tmp_path / "never.pdf").exists()


def test_the_months_batch_lists_the_refused(cli: Any, month: SelfPayMonth, tmp_path: Path) -> None:
    out = tmp_path / "superbills"
    # One worker: the command is the same; the process pool is tested with the batch itself.
    result = cli(
        "superbill", "--month", MONTH, "--out", str(out), "--workers", "1", "--db", month.url
    )
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == (
        f"December 2026: 3 superbills written to {out}, 1 refused (of 4 self-pay patients)."
    )
    assert f"  MRN {month.refused_mrn}: " in result.out
    assert f"the NPI of rendering provider {NO_NPI_PROVIDER}" in result.out
    assert f"3 superbills written to {out}" in result.err  # the progress summary
    assert len(list(out.glob("superbill-*.pdf"))) == len(PRINTABLE)


def test_an_empty_month_says_so(cli: Any, month: SelfPayMonth, tmp_path: Path) -> None:
    result = cli("superbill", "--month", "2026-10", "--out", str(tmp_path), "--db", month.url,
                 "--json", "--workers", "1")  # fmt: skip
    assert result.code == 0, result.err
    assert result.json() == {
        "month": "2026-10", "folder": str(tmp_path), "patients": 0, "processes": 1,
        "written": [], "refused": [],
    }  # fmt: skip


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (
            ["payment", "add", "--patient", "999999", "--amount", "10", "--method", "card"],
            "--patient: no patient with MRN 999999",
        ),
        (
            ["payment", "add", "--patient", "{mrn}", "--amount", "45.001", "--method", "card"],
            "--amount: 45.001 has a fraction of a cent; amounts are to the cent",
        ),
        (
            ["payment", "add", "--patient", "{mrn}", "--amount", "ten", "--method", "card"],
            "--amount: 'ten' is not an amount of money; write it like 450.00",
        ),
        (
            ["payment", "add", "--patient", "{mrn}", "--amount", "12,50", "--method", "card"],
            "--amount: '12,50' has a comma for cents; put cents after a point, like 12.50",
        ),
        (
            ["payment", "add", "--patient", "{mrn}", "--amount", "1e999999", "--method", "card"],
            "--amount: '1e999999' is written with an exponent; write it like 450.00",
        ),
        (
            ["payment", "add", "--patient", "{mrn}", "--amount", "1" * 40, "--method", "card"],
            f"--amount: {'1' * 27}... is larger than the most one entry may hold (99,999,999.99)",
        ),
        (
            ["payment", "add", "--patient", "{mrn}", "--amount", "-5", "--method", "card"],
            "--amount: -5 is not above zero",
        ),
        (
            ["payment", "add", "--patient", "{mrn}", "--amount", "10", "--method", "bitcoin"],
            "--method: 'bitcoin' is not a payment method; "
            "use cash, card, check, hsa_fsa (or hsa, fsa), other",
        ),
        (
            [
                "payment",
                "add",
                "--patient",
                "{mrn}",
                "--amount",
                "10",
                "--method",
                "card",
                "--invoice",
                "NYC-2027-09999",
            ],
            "--invoice: there is no invoice NYC-2027-09999",
        ),
        (
            ["invoice", "create", "--patient", "{mrn}", "--from", "2026-13-01"],
            "--from: 2026-13-01 is not a real calendar date; check the month and the day",
        ),
        (
            [
                "invoice",
                "create",
                "--patient",
                "{mrn}",
                "--from",
                "2026-12-31",
                "--to",
                "2026-12-01",
            ],
            "--to: 2026-12-01 is before --from (2026-12-31)",
        ),
        (
            ["invoice", "pdf", "NYC-2027-09999", "-o", "x.pdf"],
            "there is no invoice numbered 'NYC-2027-09999'",
        ),
        (
            ["invoice", "void", "NYC-2027-09999", "--reason", "typo"],
            "there is no invoice numbered 'NYC-2027-09999'",
        ),
        (
            ["ledger", "--patient", "999999"],
            "--patient: no patient with MRN 999999",
        ),
        (
            ["superbill", "--month", "2026-13", "--out", "x"],
            "--month: '2026-13' is not a month; write it as YYYY-MM, e.g. 2026-12",
        ),
        (
            ["superbill", "--month", "0000-01", "--out", "x"],
            "--month: 0000-01 is outside 1900 to 2100, the years this takes",
        ),
        (
            ["invoice", "create", "--patient", "{mrn}", "--from", "9999-12-31"],
            "--from: 9999-12-31 is after 12/31/2100, the latest date this takes",
        ),
        (
            ["superbill", "--patient", "{mrn}", "--from", "0001-01-01", "-o", "x.pdf"],
            "--from: 0001-01-01 is before 01/01/1900, the earliest date this takes",
        ),
        (
            ["superbill", "--patient", "{mrn}", "-o", "x.pdf"],
            "--from: say which visit: --from DATE (and --to DATE)",
        ),
        (
            ["superbill", "--patient", "{mrn}", "--from", "12/32/2026", "-o", "x.pdf"],
            "--from: 12/32/2026 is not a real calendar date; check the month and the day",
        ),
        (
            ["gfe", "--patient", "999999", "-o", "x.pdf"],
            "--patient: no patient with MRN 999999",
        ),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_bad_input_is_one_line_and_changes_nothing(
    cli: Any, month: SelfPayMonth, month_db: Database, words: list[str], expected: str
) -> None:
    entries = count(month_db, LedgerEntry)
    argv = [w.replace("{mrn}", month.mrns[ZOE]) for w in words]
    expect_one_error_line(cli(*argv, "--db", month.url), expected)
    assert count(month_db, LedgerEntry) == entries
    assert count(month_db, Invoice) == 0


def test_methods_are_read_by_their_usual_names() -> None:
    read = billing_common.parse_method
    assert {read(w).value for w in ("hsa", "FSA", "HSA/FSA", "hsa_fsa")} == {"hsa_fsa"}
    assert read(" Card ").value == "card" and read("cheque").value == "check"
    assert billing_common.parse_amount("$1,200.50") == Decimal("1200.50")
    assert billing_common.parse_month("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert billing_common.dollars(Decimal("-1234.5")) == "-$1,234.50"


# --- Good Faith Estimates --------------------------------------------------------------------


def test_gfe_drafts_and_prints_the_estimate_of_a_booked_series(
    capsys: pytest.CaptureFixture[str], sqlite_db: Database, tmp_path: Path
) -> None:
    cli = runner(capsys, clock=clock_on(date(2026, 11, 23)))
    with sqlite_db.transaction() as session:
        clinic = billing_clinic(session, ADMIN)
        series = iv_induction(session, clinic, ADMIN)
        mrn, series_id = clinic.patient.mrn, series.id
    path = tmp_path / "gfe.pdf"

    result = cli("gfe", "--patient", mrn, "-o", str(path), "--db", sqlite_db.url, "--json")
    assert result.code == 0, result.err
    data = result.json()
    with sqlite_db.reading() as session:
        from ketadesk.billing.estimates import current_estimate

        estimate = current_estimate(session, series_id)
        assert estimate is not None
        assert data["number"] == estimate.number and data["total"] == str(estimate.total)
        assert data["give_by"] == (estimate.give_by.isoformat() if estimate.give_by else None)
    assert (data["status"], data["sessions"]) == ("draft", len(IV_DAYS))
    assert (data["first_service_on"], data["last_service_on"]) == (IV_DAYS[0], IV_DAYS[-1])
    text = pdf_text(path)
    assert data["number"] in text and ZOE in text

    again = cli("gfe", "--patient", mrn, "--series", str(series_id), "-o", str(path),
                "--db", sqlite_db.url)  # fmt: skip
    assert again.code == 0, again.err
    assert again.out.startswith(f"Good Faith Estimate {data['number']} for {ZOE}")
    assert f"total ${Decimal(data['total']):,.2f}." in again.out
    expect_one_error_line(
        cli("gfe", "--patient", mrn, "--series", "999", "-o", str(path), "--db", sqlite_db.url),
        f"--series: Łukasiewicz, Zoë (MRN {mrn}) has no series 999",
    )


# --- lists that never stop at a cap ----------------------------------------------------------

MANY = 520  # more than the 500 ``invoice list`` used to stop at


def many_drafts(db: Database, mrn: str) -> None:
    """``MANY`` empty draft invoices for the patient, written straight to the table."""
    with db.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == mrn)).one()
        location = session.scalars(select(Location).where(Location.code == "NYC")).one()
        session.add_all(
            Invoice(number=f"NYC-2025-{n:05d}", patient_id=patient.id, location_id=location.id)
            for n in range(1, MANY + 1)
        )


def test_invoice_list_prints_every_invoice_or_a_page_saying_of_how_many(
    cli: Any, month: SelfPayMonth, month_db: Database
) -> None:
    many_drafts(month_db, month.mrns[ZOE])

    every = cli("invoice", "list", "--db", month.url)
    assert every.code == 0 and every.out.rstrip().endswith(f"{MANY} invoices")
    assert "NYC-2025-00001" in every.out and "NYC-2025-00520" in every.out
    assert len(cli("invoice", "list", "--db", month.url, "--json").json()) == MANY
    page = cli("invoice", "list", "--limit", "200", "--offset", "400", "--db", month.url)
    assert page.out.rstrip().endswith(
        "Showing 401–520 of 520 invoices; the next page: --offset 520"
    )
    assert "NYC-2025-00001" in page.out and "NYC-2025-00121" not in page.out
    found = cli("invoice", "list", "--search", "2025-00001", "--db", month.url, "--json").json()
    assert [row["number"] for row in found] == ["NYC-2025-00001"]
    expect_one_error_line(
        cli("invoice", "list", "--limit", "ten", "--db", month.url),
        "--limit: 'ten' is not a whole number, like 50",
    )


def test_printing_an_invoice_is_an_audited_read(
    cli: Any, month: SelfPayMonth, month_db: Database, tmp_path: Path
) -> None:
    from ketadesk.access.models import AuditEntry

    assert cli("invoice", "create", "--patient", month.mrns[ZOE], "--db", month.url).code == 0
    number = cli("invoice", "list", "--db", month.url, "--json").json()[0]["number"]
    before = count(month_db, AuditEntry)
    assert cli("invoice", "pdf", number, "-o", str(tmp_path / "i.pdf"), "--db", month.url).code == 0
    with month_db.reading() as session:
        newest = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert newest is not None and (newest.action, newest.entity) == ("view", "invoice")
        assert newest.after == {"mrn": month.mrns[ZOE]}
    assert count(month_db, AuditEntry) == before + 1


def test_an_invoice_on_a_full_disk_is_one_line_and_leaves_no_file(
    cli: Any, month: SelfPayMonth, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from ketadesk import files

    assert cli("invoice", "create", "--patient", month.mrns[ZOE], "--db", month.url).code == 0
    number = cli("invoice", "list", "--db", month.url, "--json").json()[0]["number"]
    real_fdopen = os.fdopen

    class FullDisk:  # the first 4 KiB land, then the disk is full
        def __init__(self, fd: int, mode: str) -> None:
            self.real = real_fdopen(fd, mode)

        def write(self, data: bytes) -> int:
            self.real.write(data[:4096])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self.real.close()

    monkeypatch.setattr(files.os, "fdopen", FullDisk)
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "inv.pdf"
    result = cli("invoice", "pdf", number, "-o", str(target), "--db", month.url)
    expect_one_error_line(result, f"--output: the disk is full; nothing was written to {target}")
    assert list(target.parent.iterdir()) == []
