"""``ketadesk report NAME``: text, JSON, CSV and PDF on both back ends, and every refusal as one
line naming the problem.

A small clinic (two locations, a self-pay patient and one insured by a payer whose name is a
spreadsheet formula) is written once per back end; each test runs the command in-process
against it with a stated clock, and compares what was printed with
:func:`ketadesk.reports.catalog.run_report` on the same filter.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from builders import add_location, add_payer, patient_raw
from cli.cli_helpers import Result, clock_on, runner
from pypdf import PdfReader
from ui.demo_clinic import DEMO_DAY, demo_clinic

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.models import AdjustmentReason, EntryKind, PaymentMethod
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database
from ketadesk.documents.report import figure_text
from ketadesk.reports.catalog import NAMES, run_report, spec
from ketadesk.reports.export import figure
from ketadesk.reports.model import ReportFilter

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
TODAY = date(2026, 12, 7)
FORMULA_PAYER = '=HYPERLINK("http://evil.example","Click")'


@dataclass(frozen=True)
class Clinic:
    url: str
    nyc: int
    bos: int


@pytest.fixture
def clinic(database: Database) -> Clinic:
    """Two locations; a self-pay patient charged, paid and discounted at NYC; an insured
    patient charged at BOS and paid by the formula-named payer."""
    with database.transaction() as session:
        nyc = add_location(session, "NYC")
        bos = add_location(session, "BOS", name="KetaDesk Boston", city="Boston", state="MA")
        payer = add_payer(session, FORMULA_PAYER, edi_payer_id="99999")
        self_pay = create_patient(session, ADMIN, patient_raw())
        insured = create_patient(session, ADMIN, patient_raw(family_name="Ng", given_name="Mai"))

        def post(patient: int, where: int, kind: EntryKind, amount: str, on: date, **more: object):
            return ledger.post(
                session,
                ADMIN,
                patient_id=patient,
                location_id=where,
                kind=kind,
                amount=Decimal(amount),
                posted_on=on,
                description=f"{kind.value} {amount}",
                **more,  # type: ignore[arg-type]
            )

        post(self_pay.id, nyc.id, EntryKind.CHARGE, "1450.00", date(2026, 11, 3))
        post(
            self_pay.id,
            nyc.id,
            EntryKind.PAYMENT,
            "-1200.00",
            date(2026, 11, 3),
            method=PaymentMethod.CARD,
        )
        post(
            self_pay.id,
            nyc.id,
            EntryKind.ADJUSTMENT,
            "-50.00",
            date(2026, 11, 4),
            reason=AdjustmentReason.DISCOUNT,
        )
        post(insured.id, bos.id, EntryKind.CHARGE, "800.00", date(2026, 10, 9), payer_id=payer.id)
        post(
            insured.id,
            bos.id,
            EntryKind.PAYMENT,
            "-512.34",
            date(2026, 11, 20),
            payer_id=payer.id,
            method=PaymentMethod.CHECK,
        )
        ids = nyc.id, bos.id
    return Clinic(database.url, *ids)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], clinic: Clinic) -> Callable[..., Result]:
    cli = runner(capsys, clock=clock_on(TODAY))

    def report(*words: str) -> Result:
        return cli("report", *words, "--db", clinic.url)

    return report


def expected(database: Database, name: str, flt: ReportFilter, by: list[str] | None = None):
    with database.transaction() as session:
        return run_report(session, ADMIN, name, flt, by)


YEAR_TO_DATE = ReportFilter(date(2026, 1, 1), TODAY)


@pytest.mark.parametrize("name", NAMES)
def test_text_shows_the_figures_the_report_computes_and_every_definition(
    run: Callable[..., Result], database: Database, clinic: Clinic, name: str
) -> None:
    result = run(name)
    assert result.code == 0, result.err
    found = spec(name)
    table = expected(database, name, _filter(name))
    lines = result.out.splitlines()
    assert lines[0].startswith(table.title)
    for measure in table.measures:
        assert f"{measure.label}: {measure.definition}" in result.out
    if not table.rows:  # a report of sessions: this clinic has only money
        assert "No figures for this period and these filters." in result.out
        return
    total = next(line for line in lines if line.startswith("Total"))
    for measure, value in zip(table.measures, table.total.values, strict=True):
        assert figure_text(value, measure.kind) in total
    assert found.title in result.out


def _filter(name: str) -> ReportFilter:
    if spec(name).as_of:
        return ReportFilter(TODAY, TODAY)
    return YEAR_TO_DATE


def test_revenue_text_is_aligned_with_money_separated_by_thousands(
    run: Callable[..., Result],
) -> None:
    result = run("revenue", "--by", "location", "--from", "11/01/2026", "--to", "2026-11-30")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    header = lines[2]
    assert header.startswith("Location") and "Charges" in header
    nyc = next(line for line in lines if line.startswith("KetaDesk NYC"))
    assert "$1,450.00" in nyc and "$1,200.00" in nyc
    total = next(line for line in lines if line.startswith("Total"))
    assert "$1,450.00" in total and "$1,712.34" in total  # net revenue: 1,200 + 512.34
    # the figures are right-aligned: each column ends where its heading ends
    charges_end = header.index("Charges") + len("Charges")
    assert nyc[:charges_end].endswith("$1,450.00")


@pytest.mark.parametrize("name", NAMES)
def test_json_matches_run_report(run: Callable[..., Result], database: Database, name: str) -> None:
    result = run(name, "--json")
    assert result.code == 0, result.err
    data = result.json()
    table = expected(database, name, _filter(name))
    assert data["report"] == table.name and data["title"] == table.title
    assert data["by"] == [d.key for d in table.dimensions]
    assert [m["key"] for m in data["measures"]] == [m.key for m in table.measures]
    assert all(m["definition"] for m in data["measures"])
    assert len(data["rows"]) == len(table.rows)
    for row, want in zip(data["rows"], table.rows, strict=True):
        assert row["labels"] == list(want.labels)
        for measure, value in zip(table.measures, want.values, strict=True):
            assert row["values"][measure.key] == figure(value, measure.kind)
    assert data["filter"]["date_to"] == TODAY.isoformat()


def test_json_money_is_exact_text_and_rates_text_or_null(
    run: Callable[..., Result], clinic: Clinic
) -> None:
    result = run("revenue", "--by", "payer", "--location", "bos", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["filter"]["location_ids"] == [clinic.bos]
    assert data["filter"]["date_from"] == "2026-01-01"
    (row,) = data["rows"]
    assert row["labels"] == [FORMULA_PAYER]
    assert row["values"]["charges"] == "800.00"
    assert row["values"]["insurer_payments"] == "512.34"
    assert row["values"]["net_revenue_change"] is None  # nothing a year before
    assert data["total"]["values"]["net_revenue"] == "512.34"
    assert data["notes"]


def test_csv_has_a_header_rows_and_a_total_and_guards_formulas(
    run: Callable[..., Result],
) -> None:
    result = run("revenue", "--by", "payer", "--csv")
    assert result.code == 0, result.err
    rows = list(csv.reader(io.StringIO(result.out)))
    assert rows[0][:3] == ["Payer", "Charges", "Patient payments"]
    labels = [row[0] for row in rows[1:]]
    assert "'" + FORMULA_PAYER in labels  # shown as text by a spreadsheet, never run
    assert FORMULA_PAYER not in labels
    assert labels[-1] == "Total"
    total = dict(zip(rows[0], rows[-1], strict=True))
    assert total["Charges"] == "2250.00"
    assert total["Net revenue"] == "1712.34"
    balance = Decimal(total["Balance change"])
    assert balance == Decimal("2250.00") - Decimal("1712.34") - Decimal("50.00")


@pytest.mark.parametrize("name", NAMES)
def test_pdf_holds_the_title_a_row_the_total_and_the_definitions(
    run: Callable[..., Result], database: Database, tmp_path: Path, name: str
) -> None:
    out = tmp_path / f"{name}.pdf"
    result = run(name, "--pdf", str(out))
    assert result.code == 0, result.err
    assert f"PDF written to {out}" in result.out
    assert out.stat().st_mode & 0o077 == 0  # readable by its owner only
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    table = expected(database, name, _filter(name))
    assert f"{table.title} report" in text
    for measure in table.measures:
        assert " ".join(measure.definition.split()) in text
    if not table.rows:
        assert "No figures for this period and these filters." in text
        return
    assert table.rows[0].labels[0] in text
    for measure, value in zip(table.measures, table.total.values, strict=True):
        assert figure_text(value, measure.kind) in text


def test_pdf_with_json(run: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "revenue.pdf"
    result = run("revenue", "--by", "location", "--json", "--pdf", str(out))
    assert result.code == 0, result.err
    assert result.json()["pdf"] == str(out)
    text = " ".join(p.extract_text() for p in PdfReader(out).pages)
    assert "KetaDesk Boston" in text and "$2,250.00" in text


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["profit"], "REPORT: there is no report 'profit'; choose from revenue, aging"),
        (["revenue", "--by", "month,colour"], "--by: the revenue report cannot be split by"),
        (["revenue", "--from", "2026-13-45"], "--from:"),
        (["revenue", "--from", "2026-12-01", "--to", "2026-11-01"], "--to: 2026-11-01 is before"),
        (["revenue", "--from", "2027-01-01"], "--from: 2027-01-01 is after --to (2026-12-07)"),
        (["revenue", "--location", "NYC,LAX"], "--location: there is no location with code LAX"),
        (["revenue", "--csv", "--json"], "not allowed with argument"),
    ],
)
def test_bad_input_is_one_line_naming_the_problem(
    run: Callable[..., Result], words: list[str], says: str
) -> None:
    result = run(*words)
    assert result.code != 0
    assert result.out == ""
    last = result.err.strip().splitlines()[-1]
    assert last.startswith("ketadesk") and ": error: " in last  # argparse's: "ketadesk report"
    assert says in last
    assert "Traceback" not in result.err


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The window tests' small demo clinic: three locations, a year of sessions and money."""
    db = demo_clinic(tmp_path_factory.mktemp("report-demo"))
    yield db
    db.dispose()


@pytest.mark.parametrize("name", NAMES)
def test_every_report_of_the_demo_clinic_prints_and_draws_its_figures(
    capsys: pytest.CaptureFixture[str], demo: Database, tmp_path: Path, name: str
) -> None:
    """On a clinic with sessions, series and outcomes, each report's text and PDF show the
    rows and the total that run_report computes."""
    run = runner(capsys, clock=clock_on(DEMO_DAY))
    out = tmp_path / f"{name}.pdf"
    result = run("report", name, "--db", demo.url, "--pdf", str(out))
    assert result.code == 0, result.err
    flt = (
        ReportFilter(DEMO_DAY, DEMO_DAY)
        if spec(name).as_of
        else ReportFilter(date(2026, 1, 1), DEMO_DAY)
    )
    table = expected(demo, name, flt)
    assert table.rows, f"the demo clinic has no {name} figures"
    total = next(line for line in result.out.splitlines() if line.startswith("Total"))
    pdf = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    for measure, value in zip(table.measures, table.total.values, strict=True):
        assert figure_text(value, measure.kind) in total
        assert figure_text(value, measure.kind) in pdf
    assert table.rows[-1].labels[0] in result.out
    assert " ".join(table.rows[-1].labels[0].split()) in pdf


def test_help_names_every_report_of_the_catalog() -> None:
    from ketadesk.cli.reports import REPORTS

    assert REPORTS == NAMES


def test_an_unwritable_pdf_is_refused_in_words(run: Callable[..., Result], tmp_path: Path) -> None:
    result = run("revenue", "--pdf", str(tmp_path / "missing" / "r.pdf"))
    assert result.code == 2
    assert result.err.startswith("ketadesk: error: --pdf: cannot write")
    assert len(result.err.strip().splitlines()) == 1
