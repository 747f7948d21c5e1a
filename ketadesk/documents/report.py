"""A manager's report on paper: the filter, the chart, the table and what every figure means.

:func:`render_report` takes the frozen :class:`~ketadesk.reports.model.ReportTable` a report
returned and its :class:`~ketadesk.reports.model.Chart` (never a database session), and lays
them out with reportlab platypus:

1. a header: the clinic, the report's title and what it answers, the period (or the as-of
   day of an aging report), the locations and the split;
2. the chart, drawn with reportlab's own charts: stacked bars
   (:class:`~reportlab.graphics.charts.barcharts.VerticalBarChart`), lines
   (:class:`~reportlab.graphics.charts.linecharts.HorizontalLineChart`) or, for ``heat``,
   a grid of cells shaded by their value; the legend beside it;
3. the table: one column per dimension, then one per measure, the heading row repeated on
   every page it runs onto, the total in bold beneath. The page turns to landscape, and the
   type shrinks a little, when the columns do not fit upright (:func:`layout`);
4. the notes and the definition of every measure.

Figures are written for people by :func:`figure_text` (``$1,234.50``, ``1,204``, ``12.5%``),
which the command line's text table uses too. Labels go through
:func:`~ketadesk.documents.fonts.paragraph_markup` when they need the fallback font or must
wrap, so every character prints and the text stays extractable. With ``deterministic=True``
the same table gives the same bytes (reportlab's invariant mode), which the tests rely on.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ketadesk.documents.fonts import (
    BOLD,
    REGULAR,
    Styles,
    covered,
    paragraph_markup,
    register_fonts,
    styles,
)
from ketadesk.documents.format import date_text, money_text, period_text
from ketadesk.documents.letterhead import FRAME_PADDING, MARGIN, NumberedCanvas, fit
from ketadesk.reports.model import Chart, Kind, ReportTable, Row, Value
from ketadesk.reports.names import Names

RULE = colors.HexColor("#9a9a9a")
SHADE = colors.HexColor("#e8ecf1")
STRIPE = colors.HexColor("#f6f7f9")
EMPTY = "—"
PALETTE = tuple(
    colors.HexColor(c)
    for c in (
        "#2f6b9a",
        "#e08a2c",
        "#4f9d69",
        "#c0504d",
        "#8064a2",
        "#4bacc6",
        "#9b7b4b",
        "#d46fa8",
        "#7f7f7f",
        "#b5b83a",
        "#1f3f5f",
        "#f2c14e",
    )
)
HEAT_LOW, HEAT_HIGH = colors.HexColor("#f3f7fb"), colors.HexColor("#1f4e79")
FONT_SIZES = (8.0, 7.5, 7.0, 6.5, 6.0)
CELL_PAD = 2.5
ROOMY_SIZE = 7.0  # the smallest type worth shrinking to before labels wrap
MIN_LABEL = 52.0  # points: the narrowest a label column may be before the type shrinks
MAX_LABEL = 150.0
CHART_HEIGHT = 180.0  # the plot itself; the category labels add to it
LEGEND_SIZE = 7.0
AXIS_SIZE = 6.5
WRAP_SLOT = 50.0  # points per category from which long names wrap instead of slanting
SLANT_TEXT = 90.0  # points: a longer slanted name is cut with "…"
LEGEND_TEXT = 150.0  # points: a longer series name is cut with "…"
ROWS_PER_TABLE = 500  # long reports are laid out as several tables, so splitting stays linear


def figure_text(value: Value, kind: Kind) -> str:
    """A figure as people read it: ``$1,234.50``, ``1,204``, ``12.5%``, ``18.0``; a dash
    when it cannot be computed."""
    if value is None:
        return EMPTY
    if kind is Kind.COUNT:
        return f"{int(value):,}"
    number = value if isinstance(value, Decimal) else Decimal(value)
    if number.is_zero():
        number = abs(number)  # a sum negated is -0.0; print it as 0.0
    if kind is Kind.MONEY:
        return money_text(number)
    if kind is Kind.PERCENT:
        return f"{number:,.1f}%"
    return f"{number:,.1f}"


def period_words(table: ReportTable, *, as_of: bool = False) -> str:
    """``Period: 01/01/2026 – 12/07/2026`` or, for a report standing on one day,
    ``As of 12/07/2026``."""
    flt = table.filter
    if as_of:
        return f"As of {date_text(flt.date_to)}"
    return f"Period: {period_text(flt.date_from, flt.date_to)}"


# --------------------------------------------------------------------------------------
# The page and the columns
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How the table fits: the page size, the type size and each column's width."""

    pagesize: tuple[float, float]
    font_size: float
    widths: tuple[float, ...]

    @property
    def landscape(self) -> bool:
        return self.pagesize[0] > self.pagesize[1]


def frame_width(pagesize: tuple[float, float]) -> float:
    return float(pagesize[0] - 2 * MARGIN - 2 * FRAME_PADDING)


def _label_columns(table: ReportTable) -> list[str]:
    return [d.label for d in table.dimensions] or [""]


def _figure_width(table: ReportTable, index: int, size: float) -> float:
    """The widest figure of a measure's column, or the longest word of its heading."""
    kind = table.measures[index].kind
    texts = [figure_text(row.values[index], kind) for row in (*table.rows, table.total)]
    widest = max((float(stringWidth(t, REGULAR, size)) for t in texts), default=0.0)
    total = float(stringWidth(texts[-1], BOLD, size))
    words = table.measures[index].label.split()
    heading = max((float(stringWidth(w, BOLD, size)) for w in words), default=0.0)
    return max(widest, total, heading) + 2 * CELL_PAD + 1


def _label_width(table: ReportTable, index: int, size: float, *, cap: bool = True) -> float:
    """What a label column would like: its widest label, between the bounds (above
    ``MAX_LABEL`` only when not ``cap``)."""
    texts = [row.labels[index] for row in table.rows if index < len(row.labels)]
    texts += [_label_columns(table)[index], "Total"]
    widest = max(float(stringWidth(t, REGULAR, size)) for t in texts) + 2 * CELL_PAD + 1
    return min(max(widest, MIN_LABEL), MAX_LABEL if cap else widest)


def _word_width(table: ReportTable, index: int, size: float) -> float:
    """The narrowest a label column may be: its longest word on one line."""
    words = [w for row in table.rows if index < len(row.labels) for w in row.labels[index].split()]
    widest = max((float(stringWidth(w, REGULAR, size)) for w in words), default=0.0)
    return min(max(widest + 2 * CELL_PAD + 1, MIN_LABEL), MAX_LABEL)


def layout(table: ReportTable) -> Layout:
    """The page and columns for ``table``: upright at the largest type that fits, else
    landscape; first with every label on one line (down to ``ROOMY_SIZE``), then letting
    labels wrap between words, then anywhere, shrinking the type until the figures fit."""
    register_fonts()
    portrait, wide = LETTER, landscape(LETTER)
    tries = [(portrait, FONT_SIZES[0]), (portrait, FONT_SIZES[1])]
    tries += [(wide, size) for size in FONT_SIZES]
    roomy = [(page, size) for page, size in tries if size >= ROOMY_SIZE]
    passes = [(0, t) for t in roomy] + [(1, t) for t in tries] + [(2, t) for t in tries]
    for squeeze, (pagesize, size) in passes:
        widths = _widths(table, frame_width(pagesize), size, squeeze=squeeze)
        if widths is not None:
            return Layout(pagesize, size, widths)
    size = FONT_SIZES[-1]
    return Layout(wide, size, _squeezed(table, frame_width(wide), size))


def _widths(
    table: ReportTable, room: float, size: float, *, squeeze: int
) -> tuple[float, ...] | None:
    """Column widths at ``size`` within ``room``, or None when they do not fit: labels on
    one line (``squeeze`` 0), wrapping between words (1), or wrapping anywhere (2)."""
    figures = [_figure_width(table, i, size) for i in range(len(table.measures))]
    labels = [_label_width(table, i, size) for i in range(len(_label_columns(table)))]
    left = room - sum(figures)
    if sum(labels) > left:  # labels share what is left, and the widest wrap
        if not squeeze:
            return None
        labels = shared(labels, left)
        if squeeze == 1:
            least = [_word_width(table, i, size) for i in range(len(labels))]
        else:
            least = [MIN_LABEL] * len(labels)
        if any(w < need - 0.01 for w, need in zip(labels, least, strict=True)):
            return None
    left = room - sum(figures) - sum(labels)
    for i in range(len(labels)):  # room to spare: long labels on one line first
        grow = min(left, _label_width(table, i, size, cap=False) - labels[i])
        if grow > 0:
            labels[i] += grow
            left -= grow
    spare = left / max(len(figures), 1)
    return (*labels, *(w + spare for w in figures))


def shared(wanted: Sequence[float], room: float) -> list[float]:
    """``room`` shared among columns that want more in all: a column wanting less than an
    even share gets what it wants, the rest share what is left evenly (and wrap)."""
    given = list(wanted)
    open_ = sorted(range(len(given)), key=lambda i: wanted[i])
    left = room
    while open_:
        even = left / len(open_)
        if wanted[open_[0]] > even:
            for i in open_:
                given[i] = even
            break
        given[open_[0]] = wanted[open_[0]]
        left -= wanted[open_.pop(0)]
    return given


def _squeezed(table: ReportTable, room: float, size: float) -> tuple[float, ...]:
    """Columns for a table too wide for any page: every column its share of the width."""
    count = len(_label_columns(table)) + len(table.measures)
    return tuple(room / count for _ in range(count))


# --------------------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------------------


def report_pdf(
    table: ReportTable,
    chart: Chart | None,
    names: Names,
    *,
    summary: str = "",
    as_of: bool = False,
    printed_at: datetime | None = None,
    deterministic: bool = False,
) -> bytes:
    """The PDF of a report as both faces print it: headed by the clinic (the one location
    chosen, else the first location), with the locations, providers and payers the filter
    chose named in the header."""
    flt = table.filter
    chosen = [names.location(key) for key in flt.location_ids]
    first = min(names.locations) if names.locations else None
    clinic = chosen[0] if len(chosen) == 1 else names.location(first) if first else ""
    scope = [
        (title, ", ".join(shown))
        for title, shown in (
            ("Providers", [names.provider(key) for key in flt.provider_ids]),
            ("Payers", [names.payer(key) for key in flt.payer_ids]),
        )
        if shown
    ]
    return render_report(
        table,
        chart,
        clinic or "KetaDesk",
        summary=summary,
        as_of=as_of,
        locations=chosen,
        scope=scope,
        printed_at=printed_at,
        deterministic=deterministic,
    )


def render_report(
    table: ReportTable,
    chart: Chart | None,
    clinic_name: str,
    *,
    summary: str = "",
    as_of: bool = False,
    locations: Sequence[str] = (),
    scope: Sequence[tuple[str, str]] = (),
    printed_at: datetime | None = None,
    deterministic: bool = False,
) -> bytes:
    """The report as PDF bytes.

    ``locations`` names the locations the filter chose (none: all locations); ``scope``
    adds further lines to the header, such as ``("Payers", "Aetna, Cigna")``. ``as_of``
    reports print their one day instead of a period. ``printed_at`` (aware) goes in the
    footer; in ``deterministic`` mode it is left out unless given, so the same table always
    gives the same bytes.
    """
    if printed_at is None and not deterministic:
        printed_at = datetime.now().astimezone()
    look = styles()  # registers the fonts the layout measures with
    shape = layout(table)
    period = period_words(table, as_of=as_of)
    story = _header(table, clinic_name, summary, period, locations, scope, look)
    if chart is not None and chart.categories and chart.series:
        story += _chart_block(chart, frame_width(shape.pagesize), look)
    story += _tables(table, shape, look)
    story += _definitions(table, look)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=shape.pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 14,
        title=f"{table.title} report",
        author=clinic_name,
        creator="KetaDesk",
        subject=f"{table.title}: {period}",
        invariant=1 if deterministic else 0,
        initialFontName=REGULAR,
    )
    footer = f"{table.title} · {period.removeprefix('Period: ')}"  # the clinic heads page 1
    if printed_at is not None:
        if printed_at.tzinfo is None:
            raise ValueError("printed_at must be an aware datetime")
        footer += f" · printed {printed_at:%Y-%m-%d %H:%M}"
    document.build(story, canvasmaker=partial(NumberedCanvas, footer=footer))
    return buffer.getvalue()


def _header(
    table: ReportTable,
    clinic_name: str,
    summary: str,
    period: str,
    locations: Sequence[str],
    scope: Sequence[tuple[str, str]],
    look: Styles,
) -> list[Flowable]:
    lines = [period, f"Locations: {', '.join(locations) if locations else 'All locations'}"]
    lines += [f"{name}: {value}" for name, value in scope]
    if table.dimensions:
        lines.append("Split by: " + ", ".join(d.label for d in table.dimensions))
    story: list[Flowable] = [
        Paragraph(paragraph_markup(clinic_name), look.small),
        Paragraph(paragraph_markup(f"{table.title} report"), look.title),
    ]
    if summary:
        story.append(Paragraph(paragraph_markup(summary), look.body))
    story += [Paragraph(paragraph_markup(line), look.body) for line in lines]
    story.append(Spacer(1, 6))
    return story


def _tables(table: ReportTable, shape: Layout, look: Styles) -> list[Flowable]:
    if not table.rows:
        return [Paragraph("No figures for this period and these filters.", look.body)]
    size = shape.font_size
    cell = ParagraphStyle("report_cell", parent=look.cell, fontSize=size, leading=size + 2)
    heads = _heading_row(table, cell)
    rows = [_cells(table, row, shape, cell) for row in table.rows]
    total = _cells(table, table.total, shape, cell, total=True)
    chunks = [rows[i : i + ROWS_PER_TABLE] for i in range(0, len(rows), ROWS_PER_TABLE)]
    flowables: list[Flowable] = []
    for number, chunk in enumerate(chunks):
        last = number == len(chunks) - 1
        body = [heads, *chunk, *([total] if last else [])]
        grid = Table(body, colWidths=shape.widths, repeatRows=1, hAlign="LEFT")
        grid.setStyle(_grid_style(table, size, total=last, rows=len(body)))
        flowables.append(grid)
    return flowables


def _heading_row(table: ReportTable, cell: ParagraphStyle) -> list[Any]:
    bold = ParagraphStyle("report_head", parent=cell, fontName=BOLD)
    right = ParagraphStyle("report_head_right", parent=bold, alignment=TA_RIGHT)
    labels = [Paragraph(paragraph_markup(text), bold) for text in _label_columns(table)]
    figures = [Paragraph(paragraph_markup(m.label), right) for m in table.measures]
    return [*labels, *figures]


def _cells(
    table: ReportTable, row: Row, shape: Layout, cell: ParagraphStyle, *, total: bool = False
) -> list[Any]:
    width = len(_label_columns(table))
    labels = list(row.labels[:width]) + [""] * (width - len(row.labels))
    if total:
        labels = ["Total"] + [""] * (width - 1)
    font = BOLD if total else REGULAR
    shown = [_label(text, shape.widths[i], font, cell) for i, text in enumerate(labels)]
    figures = [figure_text(v, m.kind) for m, v in zip(table.measures, row.values, strict=True)]
    return [*shown, *figures]


def _label(text: str, width: float, font: str, cell: ParagraphStyle) -> Any:
    """A label as a plain string when it fits in DejaVu, else a wrapping paragraph (plain
    strings keep a long table quick to lay out)."""
    have = covered()
    plain = all(ch.isspace() or ord(ch) in have for ch in text) and text.isprintable()
    room = width - 2 * CELL_PAD
    if plain and stringWidth(text, font, cell.fontSize) <= room:
        return text
    style = cell if font == REGULAR else ParagraphStyle("report_bold", parent=cell, fontName=BOLD)
    return Paragraph(paragraph_markup(text), style)


def _grid_style(table: ReportTable, size: float, *, total: bool, rows: int) -> TableStyle:
    first_figure = len(_label_columns(table))
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), REGULAR, size),
        ("LEADING", (0, 0), (-1, -1), size + 2),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
        ("ALIGN", (first_figure, 0), (-1, -1), "RIGHT"),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
        ("BOX", (0, 0), (-1, -1), 0.6, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
    ]
    body_end = rows - 2 if total else rows - 1
    if body_end >= 1:
        commands.append(("ROWBACKGROUNDS", (0, 1), (-1, body_end), [colors.white, STRIPE]))
    if total:
        commands += [
            ("FONT", (0, -1), (-1, -1), BOLD, size),
            ("LINEABOVE", (0, -1), (-1, -1), 0.9, colors.black),
            ("BACKGROUND", (0, -1), (-1, -1), SHADE),
        ]
    return TableStyle(commands)


def _definitions(table: ReportTable, look: Styles) -> list[Flowable]:
    story: list[Flowable] = [Spacer(1, 8)]
    for note in table.notes:
        story.append(Paragraph(paragraph_markup(note), look.small))
    items = [
        Paragraph(
            f"<b>{paragraph_markup(m.label)}</b>: {paragraph_markup(m.definition)}", look.body
        )
        for m in table.measures
    ]
    heading = Paragraph("What the figures mean", look.heading)
    return [*story, KeepTogether([heading, *items[:1]]), *items[1:]]


# --------------------------------------------------------------------------------------
# The chart
# --------------------------------------------------------------------------------------


def axis_text(value: float, kind: Kind) -> str:
    """A value axis's tick: ``$12k``, ``$1.2M``, ``40%``, ``1,200``."""
    if kind is Kind.PERCENT:
        return f"{value:,.0f}%"
    if kind is not Kind.MONEY:
        return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"
    sign, size = ("-" if value < 0 else ""), abs(value)
    if size >= 1_000_000:
        return f"{sign}${size / 1_000_000:,.1f}M"
    if size >= 1_000:
        return f"{sign}${size / 1_000:,.0f}k"
    return f"{sign}${size:,.0f}"


def _points(values: Sequence[Decimal]) -> list[float]:
    # Positions on the page, not money: a chart's bar heights are drawn, never summed.
    return [float(v) for v in values]


def _chart_block(chart: Chart, width: float, look: Styles) -> list[Flowable]:
    drawing = chart_drawing(chart, width)
    title = Paragraph(paragraph_markup(chart.title), look.heading)
    return [KeepTogether([title, drawing]), Spacer(1, 8)]


def chart_drawing(chart: Chart, width: float, height: float = CHART_HEIGHT) -> Drawing:
    """``chart`` as a reportlab drawing ``width`` points wide."""
    if chart.style == "heat":
        return _heat(chart, width)
    legend = len(chart.series) > 1
    longest = max(stringWidth(s.name, REGULAR, LEGEND_SIZE) for s in chart.series)
    legend_width = min(longest, LEGEND_TEXT) + 30 if legend else 0.0
    plot: Any = HorizontalLineChart() if chart.style == "line" else VerticalBarChart()
    plot.x = 48
    plot.width = width - plot.x - legend_width - 12
    below = _category_axis(plot, chart.categories, plot.width)
    drawing = Drawing(width, height + below)
    plot.y = below + 6
    plot.height = height - 14
    plot.data = [_points(s.values) for s in chart.series]
    _value_axis(plot, chart)
    for index in range(len(chart.series)):
        colour = PALETTE[index % len(PALETTE)]
        if chart.style == "line":
            plot.lines[index].strokeColor = colour
            plot.lines[index].strokeWidth = 1.6
        else:
            plot.bars[index].fillColor = colour
            plot.bars[index].strokeColor = None
    if chart.style != "line":
        plot.categoryAxis.style = "stacked"
        plot.barSpacing = 0
        plot.groupSpacing = max(1, min(6, plot.width / max(len(chart.categories), 1) / 4))
    drawing.add(plot)
    if legend:
        drawing.add(_legend(chart, x=width - legend_width + 8, top=drawing.height - 4))
    return drawing


def _category_axis(plot: Any, categories: Sequence[str], plot_width: float) -> float:
    """Category labels across the foot of the plot: level when they fit, wrapped when there
    are few and long, else slanted at 45° and thinned to every n-th so that neighbours do
    not touch. Returns the height the labels take below the axis."""
    size = AXIS_SIZE
    longest = max(float(stringWidth(c, REGULAR, size)) for c in categories)
    slot = plot_width / max(len(categories), 1)
    labels = plot.categoryAxis.labels
    labels.fontName, labels.fontSize = REGULAR, size
    step, names = 1, list(categories)
    if longest <= slot - 2:
        below = size + 10
    elif slot >= WRAP_SLOT:  # few long names (locations, chairs): wrapped under their bars
        wrapped = [simpleSplit(c, REGULAR, size, slot - 4)[:3] for c in categories]
        names = ["\n".join(lines) for lines in wrapped]
        below = max(len(lines) for lines in wrapped) * size * 1.2 + 10
    else:  # many: slanted at 45°, cut short, every n-th so that neighbours never touch
        names = [fit(c, size, SLANT_TEXT) for c in categories]
        longest = min(longest, SLANT_TEXT)
        step = max(1, math.ceil(size * 1.7 / (slot * math.sin(math.radians(45)))))
        labels.angle, labels.boxAnchor, labels.dx, labels.dy = 45, "ne", 2, -2
        below = longest * math.sin(math.radians(45)) + size + 6
    plot.categoryAxis.categoryNames = [c if i % step == 0 else "" for i, c in enumerate(names)]
    plot.categoryAxis.strokeColor = RULE
    return below


def _value_axis(plot: Any, chart: Chart) -> None:
    """The value axis in the chart's unit, with a light grid; bars of money start at 0."""
    plot.valueAxis.labels.fontName, plot.valueAxis.labels.fontSize = REGULAR, AXIS_SIZE
    plot.valueAxis.labelTextFormat = partial(axis_text, kind=chart.kind)
    plot.valueAxis.strokeColor = RULE
    plot.valueAxis.visibleGrid = 1
    plot.valueAxis.gridStrokeColor = colors.HexColor("#dddddd")
    plot.valueAxis.gridStrokeWidth = 0.3
    values = [v for s in chart.series for v in s.values]
    if values and min(values) >= 0 and chart.style != "line":
        plot.valueAxis.valueMin = 0


def _legend(chart: Chart, *, x: float, top: float) -> Legend:
    legend = Legend()
    legend.x, legend.y = x, top
    legend.alignment = "right"
    legend.fontName, legend.fontSize = REGULAR, LEGEND_SIZE
    legend.dx, legend.dy, legend.deltay = 7, 7, 10
    legend.columnMaximum = 18
    legend.strokeColor = None
    legend.colorNamePairs = [
        (PALETTE[i % len(PALETTE)], fit(s.name, LEGEND_SIZE, LEGEND_TEXT))
        for i, s in enumerate(chart.series)
    ]
    return legend


def _heat(chart: Chart, width: float) -> Drawing:
    """A grid: categories across (hours), rows down (weekdays), each cell shaded by its
    value against the largest, its value printed when there is room."""
    rows = list(chart.rows) or [s.name for s in chart.series]
    columns = list(chart.categories)
    label_width = max([stringWidth(r, REGULAR, 7) for r in rows] + [20]) + 6
    cell_w = (width - label_width) / max(len(columns), 1)
    cell_h = 16.0
    height = cell_h * len(rows) + 16
    drawing = Drawing(width, height)
    values = [v for s in chart.series for v in s.values]
    top = max(values, default=Decimal(0))
    for r, series in enumerate(chart.series[: len(rows)]):
        y = height - 16 - cell_h * (r + 1)
        drawing.add(String(0, y + 5, rows[r], fontName=REGULAR, fontSize=7))
        for c, value in enumerate(series.values[: len(columns)]):
            share = float(value / top) if top > 0 else 0.0
            fill = colors.linearlyInterpolatedColor(HEAT_LOW, HEAT_HIGH, 0, 1, share)
            x = label_width + c * cell_w
            drawing.add(Rect(x, y, cell_w, cell_h, fillColor=fill, strokeColor=colors.white))
            text = axis_text(float(value), chart.kind)
            if stringWidth(text, REGULAR, 5.5) < cell_w - 2:
                ink = colors.white if share > 0.55 else colors.black
                drawing.add(
                    String(
                        x + cell_w / 2,
                        y + 5,
                        text,
                        fontName=REGULAR,
                        fontSize=5.5,
                        fillColor=ink,
                        textAnchor="middle",
                    )
                )
    for c, name in enumerate(columns):
        x = label_width + c * cell_w + cell_w / 2
        if stringWidth(name, REGULAR, 6.5) < cell_w * 2 or c % 2 == 0:
            drawing.add(
                String(x, height - 11, name, fontName=REGULAR, fontSize=6.5, textAnchor="middle")
            )
    return drawing
