"""The rows behind a figure: a dialog listing a report's :class:`~ketadesk.reports.model.Detail`.

A double-click on a figure in a report's table reads ``SPEC.detail`` in a worker and opens
this dialog (not modal: the report stays usable beside it). Each row names the day, the
patient, what it is and its amount; a double-click on a row, or the buttons under the list,
asks the window to open that patient's ledger or the claim. The dialog itself opens nothing:
it emits :attr:`DetailDialog.open_ledger` / :attr:`DetailDialog.open_claim` and the main
window navigates, as it does everywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ketadesk.errors import FileNotWritten
from ketadesk.reports.model import Detail, DetailRow
from ketadesk.ui.format import count_text, dollars, us_date
from ketadesk.ui.style import set_role

AskPath = Callable[[QWidget, str, str, str], str]
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
COLUMNS = ("Date", "MRN", "Patient", "What", "Claim")


def ask_save_path(parent: QWidget, title: str, suggested: str, pattern: str) -> str:
    """The file dialog of Export; "" when the person cancelled."""
    path, _chosen = QFileDialog.getSaveFileName(parent, title, suggested, pattern)
    return path


def amount_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return dollars(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


class DetailDialog(QDialog):
    """The list behind one figure; opens a row's ledger or claim through the window."""

    open_ledger = Signal(int)  # patient id
    open_claim = Signal(int)  # claim id

    def __init__(self, detail: Detail, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.detail = detail
        self.ask_path: AskPath = ask_save_path
        self.last_export: Path | None = None
        self.setObjectName("reportDetail")
        self.setWindowTitle(detail.title)
        self.resize(900, 520)
        column = QVBoxLayout(self)
        heading = QLabel(detail.title)
        heading.setObjectName("detailName")
        heading.setWordWrap(True)
        column.addWidget(heading)
        summary = count_text(len(detail.rows), "row", "rows")
        if detail.truncated:
            summary += " shown (the first ones; narrow the report to see the rest)"
        self.summary = QLabel(summary + ". Double-click a row to open the claim or the ledger.")
        set_role(self.summary, "muted")
        column.addWidget(self.summary)
        self.table = self._table()
        column.addWidget(self.table, 1)
        column.addWidget(self._buttons())
        self._selected()

    def _table(self) -> QTableWidget:
        headers = [*COLUMNS[:4], self.detail.amount_label, COLUMNS[4]]
        table = QTableWidget(len(self.detail.rows), len(headers))
        table.setObjectName("detailRows")
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().hide()
        table.setAlternatingRowColors(True)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for number, row in enumerate(self.detail.rows):
            cells = (
                us_date(row.on),
                row.mrn,
                row.patient,
                row.description,
                amount_text(row.amount),
                f"#{row.claim_id}" if row.claim_id else "",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 4:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(number, column, item)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        table.itemSelectionChanged.connect(self._selected)
        table.cellDoubleClicked.connect(lambda row, _column: self.open_row(row))
        return table

    def _buttons(self) -> QDialogButtonBox:
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.setEnabled(bool(self.detail.rows))
        self.csv_button.clicked.connect(self.export_csv)
        box.addButton(self.csv_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.ledger_button = QPushButton("Open ledger")
        self.claim_button = QPushButton("Open claim")
        box.addButton(self.ledger_button, QDialogButtonBox.ButtonRole.ActionRole)
        box.addButton(self.claim_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.ledger_button.clicked.connect(self._ledger)
        self.claim_button.clicked.connect(self._claim)
        box.rejected.connect(self.reject)
        return box

    def export_csv(self) -> Path | None:
        """Write the rows listed as CSV (owner-only), where the person chooses."""
        from ketadesk.files import write_private
        from ketadesk.reports.export import detail_csv

        chosen = self.ask_path(
            self, "Export CSV", str(Path.home() / "rows.csv"), "CSV files (*.csv)"
        )
        if not chosen:
            return None
        path = Path(chosen)
        if path.suffix.lower() != ".csv":
            path = path.with_name(f"{path.name}.csv")
        try:
            write_private(path, detail_csv(self.detail))
        except FileNotWritten as error:
            self.summary.setText(f"Not written: {error}.")
            set_role(self.summary, "error")
            return None
        self.last_export = path
        self.summary.setText(f"Written to {path} (readable by you only).")
        return path

    def current(self) -> DetailRow | None:
        row = self.table.currentRow()
        return self.detail.rows[row] if 0 <= row < len(self.detail.rows) else None

    def _selected(self) -> None:
        row = self.current()
        self.ledger_button.setEnabled(row is not None and row.patient_id is not None)
        self.claim_button.setEnabled(row is not None and row.claim_id is not None)

    def open_row(self, number: int) -> None:
        """Open the claim behind row ``number`` if it has one, else the patient's ledger."""
        if not 0 <= number < len(self.detail.rows):
            return
        row = self.detail.rows[number]
        if row.claim_id is not None:
            self.open_claim.emit(row.claim_id)
        elif row.patient_id is not None:
            self.open_ledger.emit(row.patient_id)

    def _ledger(self) -> None:
        row = self.current()
        if row is not None and row.patient_id is not None:
            self.open_ledger.emit(row.patient_id)

    def _claim(self) -> None:
        row = self.current()
        if row is not None and row.claim_id is not None:
            self.open_claim.emit(row.claim_id)
