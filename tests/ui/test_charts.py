"""ui/charts.py draws a report's Chart: stacked bars with a legend and a money axis, lines,
a heat map whose darkest cell is the largest figure, and words when there is nothing to draw."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QCategoryAxis,
    QChartView,
    QHorizontalBarSeries,
    QLineSeries,
    QStackedBarSeries,
)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from ketadesk.reports.model import Chart, Kind, Series
from ketadesk.ui.charts import HeatMap, chart_widget, figure_text, shared_prefix, tick_text

pytestmark = pytest.mark.gui

D = Decimal
REVENUE = Chart(
    "Net revenue",
    "bar",
    ("Oct 2026", "Nov 2026", "Dec 2026"),
    (
        Series("Self-pay", (D("1200.50"), D("900"), D("0"))),
        Series("Aetna", (D("300"), D("-50"), D("410.25"))),
    ),
)


def test_stacked_bars_have_a_set_per_series_a_legend_and_a_money_axis(qtbot: QtBot) -> None:
    widget = chart_widget(REVENUE)
    qtbot.add_widget(widget)
    assert isinstance(widget, QChartView)
    chart = widget.chart()
    assert chart.title() == "Net revenue"
    (bars,) = chart.series()
    assert isinstance(bars, QStackedBarSeries)
    assert [s.label() for s in bars.barSets()] == ["Self-pay", "Aetna"]
    assert [bars.barSets()[1].at(i) for i in range(3)] == [300.0, -50.0, 410.25]
    assert chart.legend().isVisible()
    assert chart.legend().alignment() == Qt.AlignmentFlag.AlignBottom
    (x_axis,) = chart.axes(Qt.Orientation.Horizontal)
    (y_axis,) = chart.axes(Qt.Orientation.Vertical)
    assert isinstance(x_axis, QBarCategoryAxis) and x_axis.categories() == list(REVENUE.categories)
    assert isinstance(y_axis, QCategoryAxis)
    labels = y_axis.categoriesLabels()
    assert "$0" in labels and "$1,000" in labels  # money with thousands commas
    assert y_axis.min() <= -50 and y_axis.max() >= 1500.5  # the tallest stack and the dip fit


def test_many_categories_stand_on_their_side(qtbot: QtBot) -> None:
    months = tuple(f"Month {n}" for n in range(24))
    widget = chart_widget(Chart("Many", "bar", months, (Series("A", (D(1),) * 24),)))
    qtbot.add_widget(widget)
    assert isinstance(widget, QChartView)
    (x_axis,) = widget.chart().axes(Qt.Orientation.Horizontal)
    assert x_axis.labelsAngle() == -90
    assert not widget.chart().legend().isVisible()  # one series: no legend to read


def test_lines_draw_each_series_over_the_categories(qtbot: QtBot) -> None:
    trend = Chart(
        "PHQ-9",
        "line",
        ("Oct", "Nov", "Dec"),
        (
            Series("Baseline", (D("18.5"), D("17"), D("19"))),
            Series("Latest", (D("9"), D("8.5"), D("7"))),
        ),
        kind=Kind.NUMBER,
    )
    widget = chart_widget(trend)
    qtbot.add_widget(widget)
    assert isinstance(widget, QChartView)
    lines = widget.chart().series()
    assert all(isinstance(line, QLineSeries) for line in lines)
    assert [line.name() for line in lines] == ["Baseline", "Latest"]
    assert [p.y() for p in lines[1].points()] == [9.0, 8.5, 7.0]


def test_the_heat_map_shades_the_largest_figure_darkest(qtbot: QtBot) -> None:
    heat = Chart(
        "Utilisation by weekday and hour",
        "heat",
        ("08:00", "09:00", "10:00"),
        (Series("Mon", (D("10"), D("80"), D("40"))), Series("Tue", (D("0"), D("100"), D("55")))),
        kind=Kind.PERCENT,
        rows=("Mon", "Tue"),
    )
    widget = chart_widget(heat)
    qtbot.add_widget(widget)
    assert isinstance(widget, HeatMap)
    widget.resize(480, 260)
    assert widget.row_names() == ("Mon", "Tue")
    darkest = widget.colour(100.0).lightness()
    assert darkest < widget.colour(40.0).lightness() < widget.colour(0.0).lightness()
    image = widget.grab().toImage()
    assert image.width() == 480  # it paints without error at its size
    area, width, height, _ = widget._grid()
    cell = widget.cell_at(area.left() + width * 1.5, area.top() + height * 1.5)
    assert cell == (1, 1)
    assert widget.cell_at(0, 0) is None
    assert widget.cell_text(D("37.7")) == "38%"  # whole percent in the cell
    assert widget.key_text().startswith("Darker is higher; the darkest cell is 100.0%")


def test_an_empty_chart_says_so_in_words(qtbot: QtBot) -> None:
    widget = chart_widget(Chart("Net revenue", "bar", ("Dec 2026",), (Series("A", (D(0),)),)))
    qtbot.add_widget(widget)
    words = [label.text() for label in widget.findChildren(QLabel)]
    assert "Net revenue" in words
    assert any(w == "Nothing to chart for this period." for w in words)
    nothing = chart_widget(None, empty_text="No chart for this split")
    qtbot.add_widget(nothing)
    assert [label.text() for label in nothing.findChildren(QLabel)] == ["No chart for this split"]


def test_figures_and_axes_carry_their_unit() -> None:
    assert figure_text(D("1234.5"), Kind.MONEY) == "$1,234.50"
    assert figure_text(D("12.5"), Kind.PERCENT) == "12.5%"
    assert figure_text(D("3"), Kind.DAYS) == "3.0 days"
    assert figure_text(1969, Kind.COUNT) == "1,969"  # type: ignore[arg-type]
    assert figure_text(None, Kind.MONEY) == "—"
    assert tick_text(40000.0, Kind.MONEY) == "$40,000"
    assert tick_text(-500.0, Kind.MONEY) == "-$500"
    assert tick_text(25.0, Kind.PERCENT) == "25%"
    assert tick_text(0.5, Kind.NUMBER, places=1) == "0.5"


def test_long_names_lay_the_bars_down_and_a_shared_prefix_goes_to_the_title(
    qtbot: QtBot,
) -> None:
    places = Chart(
        "Chair utilisation",
        "bar",
        ("Stillwater Ketamine — Midtown Manhattan", "Stillwater Ketamine — Cherry Creek"),
        (Series("Utilisation", (D("15.6"), D("26.2"))),),
        kind=Kind.PERCENT,
    )
    assert shared_prefix(places.categories) == "Stillwater Ketamine — "
    widget = chart_widget(places)
    qtbot.add_widget(widget)
    assert isinstance(widget, QChartView)
    chart = widget.chart()
    assert chart.title() == "Chair utilisation · Stillwater Ketamine"
    (bars,) = chart.series()
    assert isinstance(bars, QHorizontalBarSeries)  # lying, and rates do not stack
    (names,) = chart.axes(Qt.Orientation.Vertical)
    assert isinstance(names, QBarCategoryAxis)
    assert names.categories() == ["Cherry Creek", "Midtown Manhattan"]  # first on top
    assert [bars.barSets()[0].at(i) for i in range(2)] == [26.2, 15.6]
    assert shared_prefix(("Aetna", "Aetna Gold")) == ""  # no separator: nothing shared
    assert shared_prefix(("IV — a",)) == ""


def test_many_series_put_the_legend_beside_the_plot(qtbot: QtBot) -> None:
    payers = tuple(Series(f"Payer number {n}", (D(n), D(1))) for n in range(7))
    widget = chart_widget(Chart("Net revenue", "bar", ("Nov", "Dec"), payers))
    qtbot.add_widget(widget)
    assert isinstance(widget, QChartView)
    legend = widget.chart().legend()
    assert legend.alignment() == Qt.AlignmentFlag.AlignRight
    assert [m.label() for m in legend.markers()] == [s.name for s in payers]


def test_rates_stand_side_by_side_rather_than_stacked(qtbot: QtBot) -> None:
    rates = Chart(
        "Collection rates",
        "bar",
        ("Aetna", "Cigna"),
        (Series("Gross", (D("37.7"), D("37.8"))), Series("Net", (D("70"), D("72")))),
        kind=Kind.PERCENT,
    )
    widget = chart_widget(rates)
    qtbot.add_widget(widget)
    assert isinstance(widget, QChartView)
    (bars,) = widget.chart().series()
    assert isinstance(bars, QBarSeries) and not isinstance(bars, QStackedBarSeries)
    (y_axis,) = widget.chart().axes(Qt.Orientation.Vertical)
    assert y_axis.max() < 100  # the tallest bar, not the sum of the two (about 110)
