"""The rows behind a figure: a dialog listing a report's :class:`~ketadesk.reports.model.Detail`.

A double-click on a figure in a report's table reads ``SPEC.detail`` in a worker and opens
this dialog (not modal: the report stays usable beside it). Each row names the day, the
patient, what it is and its amount; a double-click on a row, or the buttons under the list,
asks the window to open that patient's ledger or the claim. The dialog itself opens nothing:
it emits :attr:`DetailDialog.open_ledger` / :attr:`DetailDialog.open_claim` and the main
window navigates, as it does everywhere else.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ketadesk.reports.model import Detail, DetailRow
from ketadesk.ui.format import count_text, dollars, us_date
from ketadesk.ui.style import set_role

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
COLUMNS = ("Date", "MRN", "Patient", "What", "Claim")


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
        self.ledger_button = QPushButton("Open ledger")
        self.claim_button = QPushButton("Open claim")
        box.addButton(self.ledger_button, QDialogButtonBox.ButtonRole.ActionRole)
        box.addButton(self.claim_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.ledger_button.clicked.connect(self._ledger)
        self.claim_button.clicked.connect(self._claim)
        box.rejected.connect(self.reject)
        return box

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
