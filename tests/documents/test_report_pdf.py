"""The report PDF (:func:`ketadesk.documents.report.render_report`): built from a frozen table
and chart, read back with pypdf."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from ketadesk.documents.report import axis_text, figure_text, layout, render_report, shared
from ketadesk.reports.model import (
    Chart,
    Dimension,
    Kind,
    Measure,
    ReportFilter,
    ReportTable,
    Row,
    Series,
)

FLT = ReportFilter(date(2026, 1, 1), date(2026, 12, 31))


def a_table(measures: int = 3, rows: int = 4, payer: str = "Aetna") -> ReportTable:
    kinds = (Kind.MONEY, Kind.COUNT, Kind.PERCENT, Kind.DAYS)
    chosen = tuple(
        Measure(f"m{i}", f"Measure {i}", kinds[i % 4], f"The definition of measure {i}.")
        for i in range(measures)
    )

    def values(n: int) -> tuple[Decimal | int | None, ...]:
        return tuple(n if m.kind is Kind.COUNT else Decimal(f"{1234 * n}.50") for m in chosen)

    body = tuple(
        Row((f"Month {n:02d}", payer if n == 1 else "Self-pay"), values(n), (n, None))
        for n in range(1, rows + 1)
    )
    return ReportTable(
        name="revenue",
        title="Revenue",
        filter=FLT,
        dimensions=(Dimension("month", "Month"), Dimension("payer", "Payer")),
        measures=chosen,
        rows=body,
        total=Row(("Total", "Total"), values(99)),
        notes=("Entries count on their posted day.",),
    )


BARS = Chart(
    "Net revenue",
    "bar",
    ("Jan 2026", "Feb 2026", "Mar 2026"),
    (
        Series("Aetna", (Decimal("100.00"), Decimal("250.00"), Decimal("0.00"))),
        Series("Self-pay", (Decimal("900.00"), Decimal("1200.00"), Decimal("300.00"))),
    ),
)


def text_of(pdf: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split()), reader


def test_the_pdf_reads_back_title_filter_rows_total_and_definitions() -> None:
    table = a_table()
    pdf = render_report(
        table,
        BARS,
        "Stillwater Ketamine",
        summary="Charges and payments.",
        locations=("KetaDesk NYC (NYC)",),
        deterministic=True,
    )
    text, reader = text_of(pdf)
    assert reader.metadata.title == "Revenue report"
    assert "Stillwater Ketamine" in text and "Revenue report" in text
    assert "Period: 01/01/2026 – 12/31/2026" in text
    assert "Locations: KetaDesk NYC (NYC)" in text
    assert "Split by: Month, Payer" in text
    assert "Month 01 Aetna $1,234.50" in text
    assert "Total $122,166.50 99" in text
    for measure in table.measures:
        assert f"{measure.label}: {measure.definition}" in text
    assert "Entries count on their posted day." in text
    assert "Net revenue" in text and "Self-pay" in text  # the chart's title and legend


def test_deterministic_output_is_byte_stable() -> None:
    first = render_report(a_table(), BARS, "Clinic", deterministic=True)
    assert first == render_report(a_table(), BARS, "Clinic", deterministic=True)
    assert first.startswith(b"%PDF")


def test_an_as_of_report_prints_its_day() -> None:
    text, _ = text_of(render_report(a_table(), None, "Clinic", as_of=True, deterministic=True))
    assert "As of 12/31/2026" in text and "Period:" not in text


def test_many_columns_turn_the_page_to_landscape() -> None:
    narrow, wide = a_table(measures=3), a_table(measures=12)
    assert not layout(narrow).landscape
    assert layout(wide).landscape
    _, reader = text_of(render_report(wide, BARS, "Clinic", deterministic=True))
    box = reader.pages[0].mediabox
    assert box.width > box.height


def test_column_widths_fill_the_frame_and_labels_wrap_only_when_they_must() -> None:
    shape = layout(a_table(measures=12, payer="Blue Cross and Blue Shield of Massachusetts"))
    assert sum(shape.widths) == pytest.approx(720 - 12)
    assert shared([40, 200], 150) == [40, 110]
    assert shared([100, 200], 150) == [75, 75]


def test_a_long_table_repeats_its_heading_on_every_page() -> None:
    text, reader = text_of(render_report(a_table(rows=160), None, "Clinic", deterministic=True))
    assert len(reader.pages) > 2
    for page in reader.pages[:-1]:
        assert "Measure 0" in page.extract_text()
    assert "Month 160" in text


@pytest.mark.parametrize("style", ["bar", "line", "heat"])
def test_each_chart_style_draws_its_names(style: str) -> None:
    chart = Chart(
        "Chair utilisation",
        style,
        tuple(f"{h:02d}:00" for h in range(8, 18)),
        tuple(
            Series(day, tuple(Decimal(10 * ((h + n) % 9)) for h in range(10)))
            for n, day in enumerate(("Mon", "Tue", "Wed"))
        ),
        kind=Kind.PERCENT,
        rows=("Mon", "Tue", "Wed") if style == "heat" else (),
    )
    text, _ = text_of(render_report(a_table(), chart, "Clinic", deterministic=True))
    assert "Chair utilisation" in text
    assert "Wed" in text and "08:00" in text


def test_names_in_any_script_stay_extractable() -> None:
    table = a_table(payer="阮文英 Zoë Łukasiewicz")
    text, _ = text_of(render_report(table, None, "Clinic", deterministic=True))
    assert "阮文英" in text and "Łukasiewicz" in text


def test_an_empty_report_says_so() -> None:
    table = a_table(rows=0)
    text, _ = text_of(render_report(table, BARS, "Clinic", deterministic=True))
    assert "No figures for this period and these filters." in text


def test_figures_read_as_people_write_them() -> None:
    assert figure_text(Decimal("1234567.5"), Kind.MONEY) == "$1,234,567.50"
    assert figure_text(Decimal("-12"), Kind.MONEY) == "-$12.00"
    assert figure_text(1204, Kind.COUNT) == "1,204"
    assert figure_text(Decimal("12.5"), Kind.PERCENT) == "12.5%"
    assert figure_text(Decimal("-0.0"), Kind.PERCENT) == "0.0%"
    assert figure_text(None, Kind.PERCENT) == "—"
    assert axis_text(12_000.0, Kind.MONEY) == "$12k"
    assert axis_text(1_250_000.0, Kind.MONEY) == "$1.2M"
    assert axis_text(40.0, Kind.PERCENT) == "40%"


def test_both_faces_head_the_pdf_alike_from_the_filter_and_the_names() -> None:
    from ketadesk.documents.report import report_pdf
    from ketadesk.reports.names import Names

    names = Names(
        locations={1: "Midtown Manhattan", 2: "Austin Domain"},
        location_codes={1: "NYC", 2: "AUS"},
        providers={7: "Dana Reyes, MD"},
        payers={3: "Aetna"},
        chairs={},
    )
    flt = ReportFilter(date(2026, 3, 1), date(2026, 3, 31), location_ids=(2,),
                       provider_ids=(7,), payer_ids=(3, None))
    table = ReportTable("revenue", "Revenue", flt, (), (), (), Row(("Total",), ()))
    text = "".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(report_pdf(table, None, names, deterministic=True))).pages
    )
    assert "Austin Domain" in text and "Midtown" not in text  # the one location chosen
    assert "Dana Reyes, MD" in text and "Aetna, Self-pay" in text
