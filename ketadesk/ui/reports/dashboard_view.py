"""The dashboard: six key figures against the period before, and the charts beneath.

Flow: the filter bar (period preset or dates, one location or all) asks
:func:`ketadesk.reports.dashboard.dashboard` in a worker; the answer's
:class:`~ketadesk.reports.model.KeyFigure` values fill the tiles — the figure, an arrow and
the change against the previous period of the same length, green when the change is good
(``better_when_higher``) and red when not — with the figure's definition as the tooltip. The
answer's charts are drawn in a grid by :mod:`ketadesk.ui.charts`. Six tiles stand in one row
on a wide screen and in two rows of three on a laptop.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.errors import KetaDeskError
from ketadesk.reports.dashboard import TILES, Dashboard, dashboard_in_parallel
from ketadesk.reports.model import KeyFigure, Kind
from ketadesk.reports.names import Names
from ketadesk.ui import style
from ketadesk.ui.billing import Notice
from ketadesk.ui.charts import chart_widget, figure_text
from ketadesk.ui.context import AppContext
from ketadesk.ui.reports.filters import FilterBar
from ketadesk.ui.reports.running import LatestRun
from ketadesk.ui.workers import Progress

Clock = Callable[[], date]
GOOD, BAD, NEUTRAL = style.GOOD, style.ERROR, style.MUTED
CHART_HEIGHT = 300  # a dashboard chart's height on a laptop (up to half again when wide)
WIDE = 1100  # tiles in one row from this width of the dashboard, else two rows of three


def change_text(figure: KeyFigure) -> str:
    """``▲ $1,204.00`` / ``▼ 2.5 pts`` against the previous period; words when there is none."""
    change = figure.change
    if change is None:
        return "no figure for the period before"
    amount = Decimal(change)
    arrow = "▲" if amount > 0 else "▼" if amount < 0 else "="
    size = abs(amount)
    if figure.kind is Kind.PERCENT:
        text = f"{size:,.1f} pts"
    elif figure.kind is Kind.DAYS:
        text = f"{size:,.1f} days"
    else:
        text = figure_text(size, figure.kind)
    return f"{arrow} {text} vs period before"


def change_colour(figure: KeyFigure) -> str:
    change = figure.change
    if change is None or Decimal(change) == 0:
        return NEUTRAL
    return GOOD if (Decimal(change) > 0) == figure.better_when_higher else BAD


class Tile(QFrame):
    """One key figure: its name, its value, its change; its definition as the tooltip.
    A double-click opens the report the figure comes from."""

    activated = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setMinimumWidth(150)
        column = QVBoxLayout(self)
        column.setContentsMargins(14, 10, 14, 10)
        column.setSpacing(2)
        self.label = QLabel()
        self.label.setObjectName("sectionTitle")
        self.value = QLabel("…")
        self.value.setObjectName("tileValue")
        self.change = QLabel()
        self.change.setObjectName("tileChange")
        self.change.setWordWrap(True)
        for widget in (self.label, self.value, self.change):
            column.addWidget(widget)
        column.addStretch(1)
        self.figure: KeyFigure | None = None

    def show_figure(self, figure: KeyFigure) -> None:
        self.figure = figure
        self.label.setText(figure.label.upper())
        self.value.setText(
            figure_text(None if figure.value is None else Decimal(figure.value), figure.kind)
        )
        self.change.setText(change_text(figure))
        self.change.setStyleSheet(f"color: {change_colour(figure)};")
        self.setToolTip(f"{figure.definition}\n\nDouble-click to open its report.")
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.figure is not None:
            self.activated.emit()
        super().mouseDoubleClickEvent(event)


class DashboardView(QWidget):
    """The key figures and charts for the chosen period and location."""

    shown = Signal()
    open_report = Signal(str, object)  # report name, the ReportFilter the figure stood on

    def __init__(
        self, context: AppContext, names: Names, today: Clock, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.runs = LatestRun(context.db, self)
        self.setObjectName("dashboard")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Dashboard")
        title.setObjectName("pageTitle")
        column.addWidget(title)
        self.filters = FilterBar(names, today, dashboard=True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("refreshDashboard")
        self.refresh_button.setToolTip("Read the figures again (after payments were posted).")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.filters, 1)
        top.addWidget(self.refresh_button)
        column.addLayout(top)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumHeight(4)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        column.addWidget(self.progress)
        self.notice = Notice()
        self.notice.setObjectName("dashboardNotice")
        column.addWidget(self.notice)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        inside = QVBoxLayout(body)
        inside.setContentsMargins(0, 0, 4, 0)
        self.tile_grid = QGridLayout()
        self.tile_grid.setSpacing(8)
        self.tiles = [Tile() for _ in range(6)]
        for tile in self.tiles:
            tile.activated.connect(lambda tile=tile: self._open(tile))
        inside.addLayout(self.tile_grid)
        self.chart_grid = QGridLayout()
        self.chart_grid.setSpacing(8)
        inside.addLayout(self.chart_grid, 1)
        scroll.setWidget(body)
        column.addWidget(scroll, 1)
        self.charts: list[QWidget] = []
        self.board: Dashboard | None = None
        self._place_tiles(wide=True)
        self.runs.busy_changed.connect(self.progress.setVisible)
        self.filters.changed.connect(self.refresh)

    def _place_tiles(self, *, wide: bool) -> None:
        for tile in self.tiles:
            self.tile_grid.removeWidget(tile)
        per_row = 6 if wide else 3
        for number, tile in enumerate(self.tiles):
            self.tile_grid.addWidget(tile, number // per_row, number % per_row)
            tile.setVisible(number < len(self.tiles))
        self.wide = wide

    def _place_charts(self) -> None:
        """Two charts a row on a wide screen; one a row on a laptop, so legends and month
        names are read whole."""
        for widget in self.charts:
            self.chart_grid.removeWidget(widget)
        per_row = 2 if self.wide else 1
        for number, widget in enumerate(self.charts):
            widget.setMinimumHeight(CHART_HEIGHT)
            widget.setMaximumHeight(CHART_HEIGHT * 3 // 2 if self.wide else CHART_HEIGHT)
            self.chart_grid.addWidget(widget, number // per_row, number % per_row)

    def resizeEvent(self, event: QResizeEvent) -> None:
        wide = event.size().width() >= WIDE
        if wide != self.wide:
            self._place_tiles(wide=wide)
            self._place_charts()
        super().resizeEvent(event)

    def refresh(self) -> None:
        """Ask the dashboard service for the chosen period and location, in a worker."""
        try:
            flt = self.filters.report_filter()
        except KetaDeskError as error:
            self.notice.refuse(error)
            return
        actor = self.context.actor
        reading = self.context.db.reading

        def job(_session: Session, _progress: Progress) -> Dashboard:
            # Its reports run two at a time, each in its own session (two cores).
            return dashboard_in_parallel(reading, actor, flt)

        self.notice.say("Reading the figures…")
        self.runs.start(job, self.show_dashboard, self._failed)

    def show_dashboard(self, board: object) -> None:
        if not isinstance(board, Dashboard):
            return
        self.board = board
        for tile, figure in zip(self.tiles, board.figures, strict=False):
            tile.show_figure(figure)
        for old in self.charts:
            self.chart_grid.removeWidget(old)
            old.deleteLater()
        self.charts = [chart_widget(chart) for chart in board.charts]
        self._place_charts()
        flt = board.filter
        self.notice.say(
            f"{flt.date_from:%m/%d/%Y} to {flt.date_to:%m/%d/%Y}, against the "
            f"{flt.days} days before. Point at a figure for what it means."
        )
        self.shown.emit()

    def _open(self, tile: Tile) -> None:
        figure, board = tile.figure, self.board
        source = next((t.report for t in TILES if figure and t.key == figure.key), None)
        if source is not None and board is not None:
            self.open_report.emit(source, board.filter)

    def _failed(self, error: object) -> None:
        if isinstance(error, KetaDeskError):
            self.notice.refuse(error)
        else:
            self.notice.refuse(KetaDeskError(f"the dashboard could not be made: {error}"))
