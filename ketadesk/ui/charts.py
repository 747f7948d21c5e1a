"""Charts in the window: the one module that touches QtCharts.

A report hands over a :class:`~ketadesk.reports.model.Chart` (plain data: a title, a style,
categories and series of exact figures). :func:`chart_widget` draws it:

- ``bar``: bars per category, one colour per series, with a legend: stacked when the figures
  add up (money, counts), side by side when they do not (rates, days, scores); lying on
  their side when the category names are long;
- ``line``: one line per series over the categories;
- ``heat``: a grid of coloured cells (``rows`` down, ``categories`` across), drawn by the small
  :class:`HeatMap` widget here because QtCharts has none.

Figures are Decimal up to this point; QtCharts draws doubles, so they become floats only to be
drawn, never to be added. Axis labels carry the chart's unit (``$``, ``%``, days), long or many
category labels turn on their side, and a chart with nothing to draw says so in words. Keeping
every QtCharts call behind :func:`chart_widget` lets the window move to another chart library
by changing this module alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from PySide6.QtCharts import (
    QAbstractBarSeries,
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QHorizontalStackedBarSeries,
    QLineSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ketadesk.reports.model import Chart, Kind
from ketadesk.ui.format import dollars
from ketadesk.ui.style import set_role

# Colour-blind-safe palette (Okabe–Ito, its black softened to slate, then two greys):
# distinct in print and on screen.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#44546A",
    "#7F7F7F",
    "#BBBBBB",
)
MIN_HEIGHT = 220
LEGEND_BESIDE_AFTER = 5  # more series than this and the legend stands beside the plot
LEGEND_WIDTH = 210  # pixels, at most, for a legend beside the plot
ROTATE_AFTER = 8  # more categories than this and their names stand on their side
ROTATE_LETTERS = 40  # standing bars whose names add up to more letters turn them on their side
LONG_NAME = 14  # a category name longer than this lays the bars on their side...
LYING_AT_MOST = 16  # ...unless there are more categories than fit down the left


def figure_text(value: Decimal | float | None, kind: Kind) -> str:
    """A figure as a chart's tooltip or cell shows it: ``$1,234.50``, ``12.5%``, ``3.0 days``."""
    if value is None:
        return "—"
    number = Decimal(str(value)) if isinstance(value, float) else value
    if kind is Kind.MONEY:
        return dollars(number)
    if kind is Kind.PERCENT:
        return f"{number:,.1f}%"
    if kind is Kind.DAYS:
        return f"{number:,.1f} days"
    if kind is Kind.COUNT:
        return f"{number:,.0f}"
    return f"{number:,.1f}"


def tick_text(value: float, kind: Kind, *, places: int = 0) -> str:
    """A value axis label in the chart's unit, with thousands commas: ``$40,000``, ``25%``."""
    number = f"{abs(value):,.{places}f}"
    sign = "-" if round(value, places) < 0 else ""
    if kind is Kind.MONEY:
        return f"{sign}${number}"
    if kind is Kind.PERCENT:
        return f"{sign}{number}%"
    if kind is Kind.DAYS:
        return f"{sign}{number} d"
    return f"{sign}{number}"


def is_empty(chart: Chart) -> bool:
    """Nothing to draw: no categories, or every figure zero."""
    return not chart.categories or all(v == 0 for s in chart.series for v in s.values)


def chart_widget(chart: Chart | None, *, empty_text: str = "Nothing to chart") -> QWidget:
    """A widget drawing ``chart`` (a QChartView, a heat map, or a sentence when empty)."""
    if chart is None or is_empty(chart):
        title = chart.title if chart is not None else ""
        return _empty(title, empty_text if chart is None else f"{empty_text} for this period.")
    if chart.style == "heat":
        return HeatMap(chart)
    view = QChartView(_line_chart(chart) if chart.style == "line" else _bar_chart(chart))
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(MIN_HEIGHT)
    view.setObjectName("chartView")
    view.setProperty("chartTitle", chart.title)
    return view


def _empty(title: str, text: str) -> QWidget:
    box = QWidget()
    box.setObjectName("chartEmpty")
    box.setProperty("chartTitle", title)
    column = QVBoxLayout(box)
    if title:
        heading = QLabel(title)
        heading.setObjectName("chartTitle")
        column.addWidget(heading)
    words = QLabel(text)
    words.setAlignment(Qt.AlignmentFlag.AlignCenter)
    words.setWordWrap(True)
    set_role(words, "muted")
    column.addWidget(words, 1)
    box.setMinimumHeight(120)
    return box


def _base(chart: Chart) -> QChart:
    drawn = QChart()
    drawn.setTitle(chart.title)
    title_font = QFont(drawn.titleFont())
    title_font.setBold(True)
    title_font.setPointSizeF(max(title_font.pointSizeF(), 10.0))
    drawn.setTitleFont(title_font)
    drawn.setMargins(QMargins(4, 4, 4, 4))
    drawn.setBackgroundRoundness(0)
    legend = drawn.legend()
    legend.setVisible(len(chart.series) > 1)
    if len(chart.series) > LEGEND_BESIDE_AFTER:  # one row under the plot would cut the names
        legend.setAlignment(Qt.AlignmentFlag.AlignRight)
        legend.setMaximumWidth(LEGEND_WIDTH)
    else:
        legend.setAlignment(Qt.AlignmentFlag.AlignBottom)
    return drawn


SEPARATORS = (" — ", " – ", " - ", ": ")


def shared_prefix(names: Sequence[str]) -> str:
    """The words every name starts with, up to a separator (``Stillwater Ketamine — ``), or
    "" — said once in the title, they need not be read under every bar."""
    if len(names) < 2:
        return ""
    first = names[0]
    for separator in SEPARATORS:
        cut = first.find(separator)
        if cut <= 0:
            continue
        prefix = first[: cut + len(separator)]
        if all(n.startswith(prefix) and len(n) > len(prefix) for n in names):
            return prefix
    return ""


def adds_up(chart: Chart) -> bool:
    """Whether a bar chart's series stack: money and counts add up; rates, days and scores
    do not (a gross and a net collection rate side by side, not one on the other)."""
    return chart.kind in (Kind.MONEY, Kind.COUNT)


def lying(chart: Chart) -> bool:
    """Whether bars lie on their side: long names (locations, protocols) read whole down the
    left, where standing bars would cut them short under the plot."""
    longest = max((len(c) for c in chart.categories), default=0)
    return longest > LONG_NAME and len(chart.categories) <= LYING_AT_MOST


def _category_axis(categories: Sequence[str], *, upright: bool = True) -> QBarCategoryAxis:
    axis = QBarCategoryAxis()
    axis.append(list(categories))
    # A standing name cut to "Over 120 d…" says nothing, and there is room below to make;
    # a lying one would run off the left edge, so it is cut there instead.
    axis.setTruncateLabels(not upright)
    letters = sum(len(c) for c in categories)
    if upright and (len(categories) > ROTATE_AFTER or letters > ROTATE_LETTERS):
        axis.setLabelsAngle(-90)  # QtCharts cuts a slanted label as short as a level one
    return axis


def _value_axis(chart: Chart, low: float, high: float) -> QCategoryAxis:
    """A value axis over nice round numbers, labelled as people write figures (QtCharts'
    own printf labels have no thousands commas)."""
    nice = QValueAxis()
    nice.setRange(min(low, 0.0), high if high > low else low + 1.0)
    nice.applyNiceNumbers()
    first, last, ticks = nice.min(), nice.max(), max(nice.tickCount(), 2)
    step = (last - first) / (ticks - 1)
    places = 0 if step >= 1 else 1
    axis = QCategoryAxis()
    axis.setRange(first, last)
    axis.setStartValue(first)
    axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
    for tick in range(ticks):
        value = first + tick * step
        axis.append(tick_text(value, chart.kind, places=places), value)
    return axis


def _bar_chart(chart: Chart) -> QChart:
    prefix = shared_prefix(chart.categories)
    if prefix:
        title = f"{chart.title} · {prefix.rstrip(' —–-:')}"
        short = tuple(c[len(prefix) :] for c in chart.categories)
        chart = replace(chart, title=title, categories=short)
    drawn = _base(chart)
    side = lying(chart)
    # Lying bars are drawn bottom-up; reversed, the first category reads at the top.
    categories = tuple(reversed(chart.categories)) if side else chart.categories
    stacked = adds_up(chart)
    if stacked:
        bars: QAbstractBarSeries = QHorizontalStackedBarSeries() if side else QStackedBarSeries()
    else:
        bars = QHorizontalBarSeries() if side else QBarSeries()
    for index, series in enumerate(chart.series):
        values = tuple(reversed(series.values)) if side else series.values
        bar_set = QBarSet(series.name)
        bar_set.append([float(v) for v in values])
        bar_set.setColor(QColor(PALETTE[index % len(PALETTE)]))
        bar_set.setBorderColor(QColor(PALETTE[index % len(PALETTE)]))
        bars.append(bar_set)
    drawn.addSeries(bars)
    if stacked:
        ups = [
            sum(float(s.values[i]) for s in chart.series if s.values[i] > 0)
            for i in range(len(chart.categories))
        ]
        downs = [
            sum(float(s.values[i]) for s in chart.series if s.values[i] < 0)
            for i in range(len(chart.categories))
        ]
    else:
        ups = downs = [float(v) for s in chart.series for v in s.values]
    names = _category_axis(categories, upright=not side)
    figures = _value_axis(chart, min(downs), max(ups))
    drawn.addAxis(names, Qt.AlignmentFlag.AlignLeft if side else Qt.AlignmentFlag.AlignBottom)
    drawn.addAxis(figures, Qt.AlignmentFlag.AlignBottom if side else Qt.AlignmentFlag.AlignLeft)
    bars.attachAxis(names)
    bars.attachAxis(figures)
    return drawn


def _line_chart(chart: Chart) -> QChart:
    drawn = _base(chart)
    x_axis = _category_axis(chart.categories)
    values = [float(v) for s in chart.series for v in s.values]
    y_axis = _value_axis(chart, min(values), max(values))
    drawn.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
    drawn.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
    for index, series in enumerate(chart.series):
        line = QLineSeries()
        line.setName(series.name)
        line.setPointsVisible(True)
        pen = QPen(QColor(PALETTE[index % len(PALETTE)]))
        pen.setWidthF(2.0)
        line.setPen(pen)
        for position, value in enumerate(series.values):
            line.append(QPointF(position, float(value)))
        drawn.addSeries(line)
        line.attachAxis(x_axis)
        line.attachAxis(y_axis)
    return drawn


class HeatMap(QWidget):
    """A grid of cells, darker for more: ``chart.rows`` down the left, ``chart.categories``
    across the bottom, each cell's figure in its tooltip (and in the cell when it fits)."""

    def __init__(self, chart: Chart, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chart = chart
        self.setObjectName("heatMap")
        self.setProperty("chartTitle", chart.title)
        self.setMinimumHeight(MIN_HEIGHT)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        numbers = [float(v) for s in chart.series for v in s.values]
        self.top = max(numbers, default=0.0)

    def row_names(self) -> tuple[str, ...]:
        return self.chart.rows or tuple(s.name for s in self.chart.series)

    def sizeHint(self) -> QSize:
        return QSize(480, 260)

    def _grid(self) -> tuple[QRectF, float, float, float]:
        metrics = self.fontMetrics()
        left = max((metrics.horizontalAdvance(r) for r in self.row_names()), default=0) + 10
        title_height = metrics.height() * 1.6
        bottom = 2 * metrics.height() + 10  # the category names, then the key
        area = QRectF(
            left,
            title_height,
            max(self.width() - left - 8, 10),
            max(self.height() - title_height - bottom, 10),
        )
        columns = max(len(self.chart.categories), 1)
        rows = max(len(self.chart.series), 1)
        return area, area.width() / columns, area.height() / rows, title_height

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """The (row, column) under a point, or None."""
        area, width, height, _ = self._grid()
        if not area.contains(QPointF(x, y)):
            return None
        return int((y - area.top()) // height), int((x - area.left()) // width)

    def cell_text(self, value: Decimal) -> str:
        """A cell's figure, short: ``84%`` (whole percent), ``$1,200.00``; the tooltip gives
        it exactly."""
        if self.chart.kind is Kind.PERCENT:
            return f"{Decimal(value).quantize(Decimal(1)):,}%"
        return figure_text(value, self.chart.kind)

    def colour(self, value: float) -> QColor:
        share = value / self.top if self.top > 0 else 0.0
        low, high = QColor("#EEF4FA"), QColor("#08519C")
        return QColor(
            round(low.red() + (high.red() - low.red()) * share),
            round(low.green() + (high.green() - low.green()) * share),
            round(low.blue() + (high.blue() - low.blue()) * share),
        )

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        area, width, height, title_height = self._grid()
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.drawText(
            QRectF(0, 0, self.width(), title_height), Qt.AlignmentFlag.AlignCenter, self.chart.title
        )
        painter.setFont(self.font())
        metrics = self.fontMetrics()
        names = self.row_names()
        label_width = max((metrics.horizontalAdvance(c) for c in self.chart.categories), default=0)
        step = max(1, int((label_width + 8) // max(width, 1)) + 1)  # every step-th label fits
        texts = [[self.cell_text(v) for v in series.values] for series in self.chart.series]
        widest = max((metrics.horizontalAdvance(t) for row in texts for t in row), default=0)
        figures_fit = widest + 6 < width and height > metrics.height() + 2  # all or none
        for row, series in enumerate(self.chart.series):
            top = area.top() + row * height
            painter.setPen(self.palette().text().color())
            painter.drawText(
                QRectF(0, top, area.left() - 6, height),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                names[row] if row < len(names) else series.name,
            )
            for column, value in enumerate(series.values):
                cell = QRectF(area.left() + column * width, top, width - 1, height - 1)
                fill = self.colour(float(value))
                painter.fillRect(cell, fill)
                if figures_fit:
                    painter.setPen(QColor("white") if fill.lightness() < 140 else QColor("black"))
                    painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, texts[row][column])
        painter.setPen(self.palette().text().color())
        for column, name in enumerate(self.chart.categories):
            if column % step:
                continue
            painter.drawText(
                QRectF(
                    area.left() + column * width - width,
                    area.bottom() + 2,
                    width * 3,
                    metrics.height() + 4,
                ),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                name,
            )
        if self.chart.series:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(
                QRectF(0, self.height() - metrics.height() - 2, self.width(), metrics.height() + 2),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                self.key_text(),
            )
        painter.end()

    def key_text(self) -> str:
        """What the shades mean, under the grid."""
        top = figure_text(Decimal(str(self.top)), self.chart.kind)
        return f"Darker is higher; the darkest cell is {top}. Point at a cell for its figure."

    def event(self, event: object) -> bool:
        from PySide6.QtCore import QEvent
        from PySide6.QtGui import QHelpEvent
        from PySide6.QtWidgets import QToolTip

        if isinstance(event, QHelpEvent) and event.type() == QEvent.Type.ToolTip:
            found = self.cell_at(event.pos().x(), event.pos().y())
            if found is not None and found[0] < len(self.chart.series):
                row, column = found
                series = self.chart.series[row]
                if column < len(series.values):
                    names = self.row_names()
                    QToolTip.showText(
                        event.globalPos(),
                        f"{names[row] if row < len(names) else series.name}, "
                        f"{self.chart.categories[column]}: "
                        f"{figure_text(series.values[column], self.chart.kind)}",
                        self,
                    )
                    return True
            QToolTip.hideText()
            return True
        return super().event(event)  # type: ignore[arg-type]
