"""A report as data for other programs: JSON for scripts, CSV for spreadsheets.

The command line (``ketadesk report NAME --json`` / ``--csv``) and the window's Export both
call these functions, so a file saved from either reads the same. Flow:

1. :func:`figure` turns one value of a :class:`~ketadesk.reports.model.Row` into its exact
   plain form by the measure's kind: money as a decimal string with its cents (``"1234.50"``,
   never a float), counts as ints, rates, days and scores as decimal strings, ``None``
   (a rate over nothing) as ``None``;
2. :func:`table_data` and :func:`detail_data` build plain dicts of those (what ``--json``
   prints), :func:`table_rows` and :func:`detail_rows` the rows of cells a CSV holds;
3. :func:`table_csv` and :func:`detail_csv` write those rows with :mod:`csv`, every text
   cell passed through :func:`guarded` so that a payer or patient named ``=HYPERLINK(…)``
   is shown by a spreadsheet as text and never run as a formula. Figures stay bare numbers
   (a negative amount is ``-12.50``, not text).

Nothing here formats for people (no ``$``, no thousands separators): that is
:mod:`ketadesk.documents.report` and the faces.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from ketadesk.money import decimal_text
from ketadesk.reports.model import Detail, Kind, Measure, ReportTable, Row, Value

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula in a text cell (OWASP's CSV
injection list)."""

Cell = str | int


def figure(value: Value, kind: Kind) -> str | int | None:
    """One figure in its exact plain form: ``"1234.50"`` for money, ``12`` for a count,
    ``"12.5"`` for a rate, days or a score; ``None`` when it cannot be computed."""
    if value is None:
        return None
    if kind is Kind.COUNT:
        return int(value)
    if isinstance(value, int):  # a whole figure of a decimal kind
        value = Decimal(value)
    if kind is Kind.MONEY:
        return decimal_text(value.quantize(Decimal("0.01")))
    return decimal_text(value)


def key_data(key: object) -> str | int | None:
    """A row's key (an id, a period key, None for self-pay) as JSON reads it."""
    if key is None or isinstance(key, bool):
        return None if key is None else int(key)
    if isinstance(key, int | str):
        return key
    if isinstance(key, date):
        return key.isoformat()
    return str(key)


def measure_data(measure: Measure) -> dict[str, str]:
    return {
        "key": measure.key,
        "label": measure.label,
        "kind": measure.kind.value,
        "definition": measure.definition,
    }


def row_data(table: ReportTable, row: Row) -> dict[str, Any]:
    """One row: its labels, its keys and its figures by measure key."""
    return {
        "labels": list(row.labels),
        "keys": [key_data(k) for k in row.keys],
        "values": {
            m.key: figure(v, m.kind) for m, v in zip(table.measures, row.values, strict=True)
        },
    }


def table_data(table: ReportTable, *, as_of: bool = False) -> dict[str, Any]:
    """The whole report as plain data (what ``ketadesk report NAME --json`` prints)."""
    flt = table.filter
    scope: dict[str, Any] = {
        "date_from": flt.date_from.isoformat(),
        "date_to": flt.date_to.isoformat(),
        "location_ids": list(flt.location_ids),
        "provider_ids": list(flt.provider_ids),
        "payer_ids": list(flt.payer_ids),
    }
    if as_of:
        scope["as_of"] = flt.date_to.isoformat()
    return {
        "report": table.name,
        "title": table.title,
        "filter": scope,
        "by": [d.key for d in table.dimensions],
        "measures": [measure_data(m) for m in table.measures],
        "rows": [row_data(table, row) for row in table.rows],
        "total": row_data(table, table.total),
        "notes": list(table.notes),
    }


def table_json(table: ReportTable, *, as_of: bool = False) -> str:
    return json.dumps(table_data(table, as_of=as_of), indent=2, ensure_ascii=False)


def guarded(text: str) -> str:
    """A text cell a spreadsheet shows as written: one that a spreadsheet would run as a
    formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage return first) gets a leading
    apostrophe."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _number(value: Value, kind: Kind) -> Cell:
    plain = figure(value, kind)
    return "" if plain is None else plain


def table_rows(table: ReportTable) -> list[list[Cell]]:
    """The header (one column per dimension, then one per measure), the rows and a
    ``Total`` row, as CSV cells: text guarded, figures exact."""
    width = max(len(table.dimensions), 1)
    heads = [d.label for d in table.dimensions] or [""]
    rows: list[list[Cell]] = [[guarded(h) for h in (*heads, *(m.label for m in table.measures))]]
    for row in (*table.rows, table.total):
        labels = list(row.labels[:width]) + [""] * (width - len(row.labels))
        if row is table.total:
            labels = ["Total"] + [""] * (width - 1)
        figures = [_number(v, m.kind) for m, v in zip(table.measures, row.values, strict=True)]
        rows.append([*(guarded(label) for label in labels), *figures])
    return rows


def detail_data(detail: Detail) -> dict[str, Any]:
    """The rows behind a figure as plain data."""
    return {
        "title": detail.title,
        "truncated": detail.truncated,
        "amount_label": detail.amount_label,
        "rows": [
            {
                "on": r.on.isoformat(),
                "patient_id": r.patient_id,
                "mrn": r.mrn,
                "patient": r.patient,
                "description": r.description,
                "amount": _detail_amount(r.amount),
                "claim_id": r.claim_id,
                "entry_id": r.entry_id,
                "session_id": r.session_id,
            }
            for r in detail.rows
        ],
    }


def _detail_amount(amount: Value) -> str | int | None:
    """A detail row's amount: money, days or a score as exact decimal text, a count as is."""
    return decimal_text(amount) if isinstance(amount, Decimal) else amount


def detail_rows(detail: Detail) -> list[list[Cell]]:
    """The rows behind a figure as CSV cells: date, MRN, patient, description, amount."""
    heads: list[Cell] = ["Date", "MRN", "Patient", "Description", guarded(detail.amount_label)]
    rows: list[list[Cell]] = [heads]
    for r in detail.rows:
        amount = _detail_amount(r.amount)
        rows.append(
            [
                r.on.isoformat(),
                guarded(r.mrn),
                guarded(r.patient),
                guarded(r.description),
                "" if amount is None else amount,
            ]
        )
    return rows


def csv_text(rows: Sequence[Sequence[Cell]]) -> str:
    """Rows as CSV text (RFC 4180 line endings, fields quoted only when they must be)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue()


def table_csv(table: ReportTable) -> str:
    return csv_text(table_rows(table))


def detail_csv(detail: Detail) -> str:
    return csv_text(detail_rows(detail))
