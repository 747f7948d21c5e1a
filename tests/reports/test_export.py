"""The report as JSON and CSV (:mod:`ketadesk.reports.export`): exact figures by kind, every
text cell guarded against spreadsheet formulas, figures left as numbers."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ketadesk.reports.export import (
    detail_csv,
    detail_data,
    figure,
    guarded,
    table_csv,
    table_data,
    table_json,
)
from ketadesk.reports.model import (
    Detail,
    DetailRow,
    Dimension,
    Kind,
    Measure,
    ReportFilter,
    ReportTable,
    Row,
)

MEASURES = (
    Measure("charges", "Charges", Kind.MONEY, "What was charged."),
    Measure("sessions", "Sessions", Kind.COUNT, "Sessions held."),
    Measure("no_show_rate", "No-show rate", Kind.PERCENT, "No-shows ÷ sessions × 100."),
    Measure("days_to_payment", "Days to payment", Kind.DAYS, "Mean days from service to pay."),
)
EVIL = '=HYPERLINK("http://evil.example","Click")'


def a_table() -> ReportTable:
    rows = (
        Row(
            ("Dec 2026", "Aetna"),
            (Decimal("1234.5"), 12, Decimal("8.3"), Decimal("21.0")),
            ("2026-12", 3),
        ),
        Row(("Dec 2026", EVIL), (Decimal("-12.00"), 0, None, None), ("2026-12", 9)),
        Row(
            ("Dec 2026", "Self-pay"),
            (Decimal("0"), 3, Decimal("-0.0"), Decimal("4")),
            ("2026-12", None),
        ),
    )
    return ReportTable(
        name="attendance",
        title="Attendance",
        filter=ReportFilter(date(2026, 12, 1), date(2026, 12, 31), location_ids=(1,)),
        dimensions=(Dimension("month", "Month"), Dimension("payer", "Payer")),
        measures=MEASURES,
        rows=rows,
        total=Row(("Total", "Total"), (Decimal("1222.50"), 15, Decimal("6.7"), None)),
        notes=("Counted on the day of the session.",),
    )


def test_figures_are_exact_by_kind() -> None:
    assert figure(Decimal("1234.5"), Kind.MONEY) == "1234.50"
    assert figure(Decimal("-0.00"), Kind.MONEY) == "0.00"
    assert figure(7, Kind.MONEY) == "7.00"
    assert figure(12, Kind.COUNT) == 12
    assert figure(Decimal("8.3"), Kind.PERCENT) == "8.3"
    assert figure(Decimal("-0.0"), Kind.PERCENT) == "0.0"
    assert figure(None, Kind.PERCENT) is None
    assert figure(Decimal("21.0"), Kind.DAYS) == "21.0"


def test_json_has_the_shape_scripts_read() -> None:
    data = json.loads(table_json(a_table()))
    assert data["report"] == "attendance" and data["title"] == "Attendance"
    assert data["filter"] == {
        "date_from": "2026-12-01",
        "date_to": "2026-12-31",
        "location_ids": [1],
        "provider_ids": [],
        "payer_ids": [],
    }
    assert data["by"] == ["month", "payer"]
    assert data["measures"][2] == {
        "key": "no_show_rate",
        "label": "No-show rate",
        "kind": "percent",
        "definition": "No-shows ÷ sessions × 100.",
    }
    first = data["rows"][0]
    assert first == {
        "labels": ["Dec 2026", "Aetna"],
        "keys": ["2026-12", 3],
        "values": {
            "charges": "1234.50",
            "sessions": 12,
            "no_show_rate": "8.3",
            "days_to_payment": "21.0",
        },
    }
    assert data["rows"][2]["keys"] == ["2026-12", None]
    assert data["rows"][1]["values"]["no_show_rate"] is None
    assert data["total"]["values"]["charges"] == "1222.50"
    assert data["notes"] == ["Counted on the day of the session."]


def test_an_as_of_report_says_its_day() -> None:
    assert table_data(a_table(), as_of=True)["filter"]["as_of"] == "2026-12-31"


def test_csv_rows_guard_text_and_keep_numbers() -> None:
    rows = list(csv.reader(io.StringIO(table_csv(a_table()))))
    assert rows[0] == ["Month", "Payer", "Charges", "Sessions", "No-show rate", "Days to payment"]
    assert rows[1] == ["Dec 2026", "Aetna", "1234.50", "12", "8.3", "21.0"]
    assert rows[2] == ["Dec 2026", "'" + EVIL, "-12.00", "0", "", ""]  # -12.00 stays a number
    assert rows[-1] == ["Total", "", "1222.50", "15", "6.7", ""]
    assert len(rows) == 5


def test_a_report_without_a_split_has_one_label_column() -> None:
    table = a_table()
    bare = ReportTable(
        name=table.name,
        title=table.title,
        filter=table.filter,
        dimensions=(),
        measures=MEASURES,
        rows=(Row((), table.total.values),),
        total=Row(("Total",), table.total.values),
    )
    rows = list(csv.reader(io.StringIO(table_csv(bare))))
    assert rows[0][0] == "" and rows[-1][0] == "Total"
    assert {len(r) for r in rows} == {1 + len(MEASURES)}


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=20))
def test_no_guarded_cell_can_start_a_formula(text: str) -> None:
    cell = guarded(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell in (text, "'" + text)


def test_detail_rows_guard_names_and_descriptions() -> None:
    detail = Detail(
        title="Charges: Dec 2026",
        rows=(
            DetailRow(date(2026, 12, 3), 4, "100004", "@Ng, Mai", "+1 session", Decimal("450.00")),
            DetailRow(date(2026, 12, 4), 5, "100005", "Łukasiewicz, Zoë", "Refund", Decimal("-5")),
        ),
    )
    rows = list(csv.reader(io.StringIO(detail_csv(detail))))
    assert rows[0] == ["Date", "MRN", "Patient", "Description", "Amount"]
    assert rows[1] == ["2026-12-03", "100004", "'@Ng, Mai", "'+1 session", "450.00"]
    assert rows[2][2:] == ["Łukasiewicz, Zoë", "Refund", "-5"]
    data = detail_data(detail)
    assert data["rows"][0]["amount"] == "450.00" and data["rows"][0]["patient_id"] == 4
    assert data["truncated"] is False
