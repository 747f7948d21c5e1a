"""The audit log in the window: a viewer for managers and administrators, and the banner an
administrator sees when the log's hash chain is broken.

:class:`AuditView` (a tab of Settings for those with ``AUDIT_VIEW``) reads the filters typed
(patient MRN, user, from and to dates, entity), asks
:func:`ketadesk.documents.disclosures.audit_filter` and :func:`ketadesk.access.audit.search`
for the rows in one read-only session, and lists who did what and when; choosing a row shows
its values before and after. "Accounting of disclosures…" writes the chosen patient's PDF
(:mod:`ketadesk.documents.disclosures`) owner-only.

:func:`chain_banner` runs :func:`ketadesk.access.audit.check_at_login` right after an
administrator logs in (a bounded walk from the last verified row) and returns a red banner
naming the first broken row, or ``None`` when the chain holds.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access import audit
from ketadesk.access.permissions import Role
from ketadesk.clinic.validation import parse_date
from ketadesk.db import utcnow
from ketadesk.errors import FileNotWritten, KetaDeskError
from ketadesk.ui.context import AppContext

COLUMNS = ("When", "User", "What")
LIMIT = 1000

__all__ = ["AuditView", "chain_banner"]


class AuditView(QWidget):
    """Filters over a list of audit rows, and the chosen row's values before and after."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audit_view")
        self.context = context
        self.lines: list[audit.AuditLine] = []
        self.mrn = QLineEdit(placeholderText="any patient")
        self.user = QLineEdit(placeholderText="any user")
        self.start = QLineEdit(placeholderText="YYYY-MM-DD")
        self.end = QLineEdit(placeholderText="YYYY-MM-DD")
        self.entity = QLineEdit(placeholderText="patient, invoice, ledger_entry…")
        self.show_button = QPushButton("Show")
        self.pdf_button = QPushButton("Accounting of disclosures…")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.before = QPlainTextEdit(readOnly=True)
        self.after = QPlainTextEdit(readOnly=True)
        self._lay_out()
        for field in (self.mrn, self.user, self.start, self.end, self.entity):
            field.returnPressed.connect(self.refresh)
        self.show_button.clicked.connect(self.refresh)
        self.pdf_button.clicked.connect(self._ask_for_pdf)
        self.table.itemSelectionChanged.connect(self._chosen)
        self.refresh()

    def _lay_out(self) -> None:
        filters = QFormLayout()
        filters.addRow("Patient MRN", self.mrn)
        filters.addRow("User", self.user)
        dates = QHBoxLayout()
        dates.addWidget(self.start)
        dates.addWidget(QLabel("to"))
        dates.addWidget(self.end)
        filters.addRow("From", dates)
        filters.addRow("Record kind", self.entity)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_button)
        buttons.addWidget(self.pdf_button)
        buttons.addStretch(1)
        values = QWidget()
        sides = QHBoxLayout(values)
        sides.setContentsMargins(0, 0, 0, 0)
        for title, values_box in (("Before", self.before), ("After", self.after)):
            column = QVBoxLayout()
            column.addWidget(QLabel(title))
            column.addWidget(values_box)
            sides.addLayout(column)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(values)
        split.setStretchFactor(0, 3)
        box = QVBoxLayout(self)
        box.addLayout(filters)
        box.addLayout(buttons)
        box.addWidget(self.message)
        box.addWidget(split, 1)

    def _day(self, field: QLineEdit) -> date | None:
        typed = field.text().strip()
        return parse_date(typed) if typed else None

    def _filter(self, session: Any) -> tuple[Any, audit.AuditFilter]:
        from ketadesk.documents.disclosures import audit_filter

        return audit_filter(
            session,
            self.context.actor,
            mrn=self.mrn.text(),
            username=self.user.text(),
            start=self._day(self.start),
            end=self._day(self.end),
            entity=self.entity.text(),
        )

    def refresh(self) -> None:
        """Read the rows the filters select and list them, newest first."""
        try:
            with self.context.db.reading() as session:
                _patient, flt = self._filter(session)
                self.lines = audit.search(session, self.context.actor, flt, limit=LIMIT)
        except KetaDeskError as error:
            self.message.setText(str(error))
            return
        more = " (the newest shown; narrow the filters)" if len(self.lines) == LIMIT else ""
        self.message.setText(f"{len(self.lines)} entries{more}.")
        self.table.setRowCount(len(self.lines))
        for number, line in enumerate(self.lines):
            cells = (f"{line.at.astimezone():%Y-%m-%d %H:%M:%S}", line.actor, audit.sentence(line))
            for column, value in enumerate(cells):
                self.table.setItem(number, column, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self.before.clear()
        self.after.clear()

    def _chosen(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        line = self.lines[rows[0].row()]
        self.before.setPlainText(_shown(line.before))
        self.after.setPlainText(_shown(line.after))

    def _ask_for_pdf(self) -> None:
        if not self.mrn.text().strip():
            self.message.setText("Type a patient's MRN first: the accounting is per patient.")
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the accounting of disclosures", "disclosures.pdf", "PDF (*.pdf)"
        )
        if name:
            self.save_disclosures(Path(name))

    def save_disclosures(self, path: Path) -> Path | None:
        """Write the chosen patient's accounting of disclosures to ``path`` (owner-only)."""
        from ketadesk.documents.disclosures import disclosures_view, render_disclosures
        from ketadesk.files import write_private

        try:
            with self.context.db.transaction() as session:
                patient, flt = self._filter(session)
                if patient is None:
                    raise KetaDeskError("type a patient's MRN first")
                zone = patient.home_location.time_zone if patient.home_location else "UTC"
                view = disclosures_view(
                    session,
                    self.context.actor,
                    patient,
                    start=flt.start,
                    end=flt.end,
                    time_zone=zone,
                    printed_at=utcnow(),
                )
        except KetaDeskError as error:
            self.message.setText(str(error))
            return None
        try:
            write_private(path, render_disclosures(view))
        except FileNotWritten as error:
            self.message.setText(str(error))
            return None
        self.message.setText(f"Saved the accounting ({len(view.lines)} entries) to {path}.")
        return path


def _shown(values: dict[str, Any] | None) -> str:
    if not values:
        return "—"
    return json.dumps(values, indent=2, sort_keys=True, ensure_ascii=False)


def chain_banner(context: AppContext) -> QLabel | None:
    """For an administrator: a banner naming the first broken row of the audit log's chain
    (``None`` when it holds, or for anyone else)."""
    if context.actor.role is not Role.ADMIN:
        return None
    with context.db.transaction() as session:
        report = audit.check_at_login(session, context.actor)
    if report is None or report.ok:
        return None
    banner = QLabel(
        f"<b>The audit log has been tampered with.</b> {report.sentence()} "
        "Run <code>ketadesk audit verify</code> and restore from a backup taken before it."
    )
    banner.setObjectName("auditBanner")
    banner.setWordWrap(True)
    banner.setStyleSheet("background:#fde8e8; color:#8a1010; padding:8px 12px;")
    return banner
