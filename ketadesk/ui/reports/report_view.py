"""One report in the window: its filters, its table, its chart and its definitions.

Flow: the :class:`~ketadesk.ui.reports.filters.FilterBar` says what is asked; every change
runs ``catalog.run_report`` through :class:`~ketadesk.ui.reports.running.LatestRun` (a worker
with its own session; an answer to an older request is dropped). The answer, a frozen
``ReportTable``, fills the table model, the chart (``SPEC.chart``, drawn by
:mod:`ketadesk.ui.charts`) and the definitions panel. A double-click on a figure reads
``SPEC.detail`` for that row and measure, again in a worker, and opens the
:class:`~ketadesk.ui.reports.detail.DetailDialog`. Export writes the table shown — CSV through
:mod:`ketadesk.reports.export`, PDF through :mod:`ketadesk.documents.report` — to a file
only its owner may read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.errors import FileNotWritten, KetaDeskError
from ketadesk.reports.catalog import ReportSpec
from ketadesk.reports.model import Chart, Detail, ReportFilter, ReportTable, Row
from ketadesk.reports.names import Names
from ketadesk.ui.billing import Notice
from ketadesk.ui.charts import chart_widget
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import count_text
from ketadesk.ui.reports.detail import AskPath, DetailDialog, ask_save_path
from ketadesk.ui.reports.filters import FilterBar
from ketadesk.ui.reports.running import LatestRun
from ketadesk.ui.reports.table_model import MEASURE_ROLE, ROW_ROLE, ReportTableModel
from ketadesk.ui.style import set_role
from ketadesk.ui.workers import Progress

Clock = Callable[[], date]
COLUMN_AIR = 14  # pixels added to a column's widest text, so bold totals are never cut
CHART_HEIGHT = 300  # room for month names standing on their side under the bars
TABLE_AT_LEAST = 120  # pixels: a header and a couple of rows, however small the window


class ReportView(QWidget):
    """A report's page: filters, figures, chart, definitions, drill-down and export."""

    open_ledger = Signal(int)
    open_claim = Signal(int)
    shown = Signal()  # a report table was put on screen

    def __init__(
        self,
        context: AppContext,
        found: ReportSpec,
        names: Names,
        today: Clock,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.spec = found
        self.names = names
        self.ask_path: AskPath = ask_save_path
        self.table: ReportTable | None = None
        self.chart: Chart | None = None
        self.dialog: DetailDialog | None = None
        self.last_export: Path | None = None
        self.runs = LatestRun(context.db, self)
        self.drills = LatestRun(context.db, self)
        self.setObjectName(f"report_{found.name}")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self._heading())
        self.filters = FilterBar(
            names,
            today,
            dimensions=found.dimensions,
            default_by=found.default_by,
            as_of=found.as_of,
        )
        column.addWidget(self.filters)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumHeight(4)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        column.addWidget(self.progress)
        self.notice = Notice()
        self.notice.setObjectName("reportNotice")
        column.addWidget(self.notice)
        column.addWidget(self._body(), 1)
        self.runs.busy_changed.connect(self._busy)
        self.drills.busy_changed.connect(self._busy)
        self.filters.changed.connect(self.refresh)

    # --- building ----------------------------------------------------------------------

    def _heading(self) -> QHBoxLayout:
        row = QHBoxLayout()
        texts = QVBoxLayout()
        title = QLabel(self.spec.title)
        title.setObjectName("pageTitle")
        summary = QLabel(self.spec.summary)
        summary.setWordWrap(True)
        set_role(summary, "muted")
        texts.addWidget(title)
        texts.addWidget(summary)
        row.addLayout(texts, 1)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.setObjectName("exportCsv")
        self.csv_button.clicked.connect(self.export_csv)
        self.pdf_button = QPushButton("Export PDF…")
        self.pdf_button.setObjectName("exportPdf")
        self.pdf_button.clicked.connect(self.export_pdf)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("refreshReport")
        self.refresh_button.setToolTip("Read the figures again (after payments were posted).")
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignTop)
        for button in (self.csv_button, self.pdf_button):
            button.setEnabled(False)
            row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        return row

    def _body(self) -> QSplitter:
        self.model = ReportTableModel()
        self.view = QTableView()
        self.view.setObjectName("reportTable")
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.view.verticalHeader().hide()
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(False)
        self.view.doubleClicked.connect(self.drill)
        lower = QWidget()
        row = QHBoxLayout(lower)
        row.setContentsMargins(0, 0, 0, 0)
        self.chart_holder = QVBoxLayout()
        self.chart_view: QWidget = QWidget()
        self.chart_holder.addWidget(self.chart_view)
        row.addLayout(self.chart_holder, 3)
        self.definitions = QLabel()
        self.definitions.setObjectName("definitions")
        self.definitions.setWordWrap(True)
        self.definitions.setTextFormat(Qt.TextFormat.RichText)
        self.definitions.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.definitions)
        scroll.setMinimumWidth(260)
        scroll.setMaximumWidth(380)
        row.addWidget(scroll, 1)
        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        lower.setMinimumHeight(CHART_HEIGHT)
        return splitter

    # --- running -----------------------------------------------------------------------

    def refresh(self) -> None:
        """Run the report as the filters now ask (in a worker; older answers dropped)."""
        try:
            flt = self.filters.report_filter()
        except KetaDeskError as error:
            self.notice.refuse(error)
            return
        by = self.filters.by()
        actor, found = self.context.actor, self.spec

        def job(session: Session, _progress: Progress) -> ReportTable:
            return found.run(session, actor, flt, by)

        self.notice.say("Reading the figures…")
        self.runs.start(job, self.show_table, self._failed)

    def run_now(self, flt: ReportFilter, by: tuple[str, ...]) -> None:
        """Set the filters to ``flt``'s dates, locations and ``by``, and run the report."""
        self.filters.blockSignals(True)
        self.filters.set_dates(flt.date_from, flt.date_to)
        self.filters.set_split(by)
        if self.filters.locations is not None:
            self.filters.locations.choose(flt.location_ids)
        self.filters.blockSignals(False)
        self.refresh()

    def show_table(self, table: ReportTable) -> None:
        self.table = table
        self.model.show(table)
        self._fit_columns()
        self._share_height()
        self.chart = self.spec.chart(table)
        replacement = chart_widget(self.chart, empty_text="No chart for this split")
        self.chart_holder.replaceWidget(self.chart_view, replacement)
        self.chart_view.deleteLater()
        self.chart_view = replacement
        self.definitions.setText(self._definitions(table))
        self.notice.say(self._caption(table))
        for button in (self.csv_button, self.pdf_button):
            button.setEnabled(True)
        self.shown.emit()

    def _fit_columns(self) -> None:
        """Each column as wide as its widest figure (the bold total too) and a little air;
        the person may still drag them."""
        self.view.resizeColumnsToContents()
        header = self.view.horizontalHeader()
        for column in range(self.model.columnCount()):
            header.resizeSection(column, header.sectionSize(column) + COLUMN_AIR)

    def _share_height(self) -> None:
        """A short table takes the height its rows need and the chart the rest; a long one
        takes at most three fifths and scrolls."""
        total = sum(self.splitter.sizes())
        if total <= 0:
            return
        rows = self.model.rowCount()
        needed = (
            self.view.horizontalHeader().height()
            + rows * self.view.verticalHeader().defaultSectionSize()
            + self.view.horizontalScrollBar().sizeHint().height()
            + 2 * self.view.frameWidth()
        )
        table = max(min(needed, total * 3 // 5, total - CHART_HEIGHT), TABLE_AT_LEAST)
        self.splitter.setSizes([table, total - table])

    def _caption(self, table: ReportTable) -> str:
        flt = table.filter
        if self.spec.as_of:
            period = f"As of {flt.date_to:%m/%d/%Y}"
        else:
            period = f"{flt.date_from:%m/%d/%Y} to {flt.date_to:%m/%d/%Y}"
        rows = count_text(len(table.rows), "row", "rows")
        return f"{period} · {rows} · double-click a figure for the rows behind it"

    @staticmethod
    def _definitions(table: ReportTable) -> str:
        from html import escape

        parts = ["<p><b>What the figures mean</b></p>"]
        parts += [
            f"<p><b>{escape(m.label)}</b>: {escape(m.definition)}</p>" for m in table.measures
        ]
        parts += [f"<p><i>{escape(note)}</i></p>" for note in table.notes]
        return "".join(parts)

    def _failed(self, error: object) -> None:
        if isinstance(error, KetaDeskError):
            self.notice.refuse(error)
        else:
            self.notice.refuse(KetaDeskError(f"the report stopped: {error}"))

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy or self.runs.busy or self.drills.busy)

    # --- drilling down -----------------------------------------------------------------

    def drill(self, index: QModelIndex) -> None:
        """The rows behind the figure at ``index`` (a worker reads them; a dialog lists them)."""
        row: Row | None = self.model.data(index, ROW_ROLE)
        measure: str | None = self.model.data(index, MEASURE_ROLE)
        table, actor, found = self.table, self.context.actor, self.spec
        if row is None or measure is None or table is None:
            return

        def job(session: Session, _progress: Progress) -> Detail:
            return found.detail(session, actor, table, row, measure)

        self.notice.say("Reading the rows behind that figure…")
        self.drills.start(job, self._detail_read, self._failed)

    def _detail_read(self, detail: Detail) -> None:
        if self.table is not None:
            self.notice.say(self._caption(self.table))
        self.show_detail(detail)

    def show_detail(self, detail: Detail) -> DetailDialog:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        self.dialog = DetailDialog(detail, self)
        self.dialog.ask_path = self.ask_path
        self.dialog.open_ledger.connect(self.open_ledger)
        self.dialog.open_claim.connect(self.open_claim)
        self.dialog.show()
        return self.dialog

    # --- exporting ---------------------------------------------------------------------

    def _suggested(self, extension: str) -> str:
        if self.table is None:
            return f"{self.spec.name}.{extension}"
        flt = self.table.filter
        return str(
            Path.home() / f"{self.spec.name}-{flt.date_from:%Y%m%d}-{flt.date_to:%Y%m%d}"
            f".{extension}"
        )

    def export_csv(self) -> Path | None:
        """Write the table shown as CSV where the person chooses."""
        return self._export("Export CSV", "csv", "CSV files (*.csv)", _write_csv)

    def export_pdf(self) -> Path | None:
        """Write the table shown, its chart and definitions as a PDF."""
        return self._export("Export PDF", "pdf", "PDF files (*.pdf)", self._write_pdf)

    def _export(
        self, title: str, extension: str, pattern: str, write: Callable[[ReportTable, Path], Any]
    ) -> Path | None:
        table = self.table
        if table is None:
            return None
        chosen = self.ask_path(self, title, self._suggested(extension), pattern)
        if not chosen:
            return None
        path = Path(chosen)
        if path.suffix.lower() != f".{extension}":
            path = path.with_name(f"{path.name}.{extension}")
        try:
            write(table, path)
        except FileNotWritten as error:
            self.notice.refuse(error)
            return None
        except (KetaDeskError, OSError) as error:
            self.notice.refuse(KetaDeskError(f"could not write {path.name}: {error}"))
            return None
        self.last_export = path
        self.notice.say(f"Written to {path} (readable by you only).")
        return path

    def _write_pdf(self, table: ReportTable, path: Path) -> None:
        from ketadesk.documents.report import report_pdf
        from ketadesk.files import write_private

        content = report_pdf(
            table, self.chart, self.names, summary=self.spec.summary, as_of=self.spec.as_of
        )
        write_private(path, content)


def _write_csv(table: ReportTable, path: Path) -> None:
    from ketadesk.files import write_private
    from ketadesk.reports import export

    write_private(path, export.table_csv(table))
