"""What billing must chase, and a patient's claims beside their ledger.

:class:`FollowUpDialog` shows :func:`ketadesk.billing.claims.followup.worklist` as a table,
most urgent first: each item's deadline, the days left counting down (in red once past),
the claim, patient, payer, amount and what to do in words. Double-clicking an item that
names a claim asks the Claims tab to open it (:attr:`FollowUpDialog.open_claim`).

:class:`PatientClaims` is the small table the patient chart's Ledger tab shows beside the
ledger: the patient's claims (number, date of service, payer, status, billed, still open),
read with :func:`ketadesk.billing.claims.views.list_claims` in the same session as the
ledger, so both sides of the account are read at the same moment.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from ketadesk.billing.claims.followup import FollowUp, worklist
from ketadesk.billing.claims.views import ClaimRow
from ketadesk.ui.billing import ID_ROLE, Clock, fill_table, make_table
from ketadesk.ui.context import AppContext
from ketadesk.ui.flow import wrap_words
from ketadesk.ui.format import count_text, dollars, us_date
from ketadesk.ui.style import ERROR, set_role

FOLLOW_COLUMNS = ("Due", "Days left", "Kind", "Claim", "Patient", "Payer", "Amount", "What to do")
CHART_COLUMNS = ("Claim", "Date", "Payer", "Status", "Billed", "Open")
LATE_INK = QColor(ERROR)


def days_text(days: int | None) -> str:
    """``12`` -> ``"12 days"``, ``0`` -> ``"today"``, ``-3`` -> ``"3 days late"``."""
    if days is None:
        return ""
    if days == 0:
        return "today"
    if days < 0:
        return f"{count_text(-days, 'day', 'days')} late"
    return count_text(days, "day", "days")


def follow_cells(item: FollowUp) -> tuple[str, ...]:
    return (
        us_date(item.due),
        days_text(item.days_left),
        item.kind.capitalize(),
        item.number,
        item.patient_name,
        item.payer_name,
        dollars(item.amount),
        item.words,
    )


class FollowUpDialog(QDialog):
    """The follow-up worklist: deadlines counting down, most urgent first."""

    open_claim = Signal(int)

    def __init__(
        self, context: AppContext, *, today: Clock, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Claims follow-up")
        self.setMinimumSize(1040, 520)
        self.context = context
        self.today = today
        column = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setObjectName("followSummary")
        self.summary.setWordWrap(True)
        set_role(self.summary, "muted")
        column.addWidget(self.summary)
        self.table: QTableWidget = make_table(
            FOLLOW_COLUMNS, money_columns=(6,), stretch=7, object_name="followList",
            max_widths={4: 180, 5: 160},
        )
        wrap_words(self.table)
        self.table.cellDoubleClicked.connect(self._opened)
        column.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self.items: list[FollowUp] = []
        self.refresh()

    def refresh(self) -> None:
        with self.context.db.reading() as session:
            self.items = worklist(session, self.context.actor, today=self.today())
        fill_table(
            self.table,
            [(n, follow_cells(item)) for n, item in enumerate(self.items)],
            keep_selection=False,
        )
        for row, item in enumerate(self.items):
            if item.days_left is not None and item.days_left < 0:
                for column in (0, 1):
                    cell = self.table.item(row, column)
                    if cell is not None:
                        cell.setForeground(QBrush(LATE_INK))
        late = sum(1 for i in self.items if i.days_left is not None and i.days_left < 0)
        text = count_text(len(self.items), "item to chase", "items to chase")
        self.summary.setText(
            f"{text}, most urgent first" + (f"; {late} past their deadline." if late else ".")
            if self.items
            else "Nothing to chase: every claim is answered or waiting within its time."
        )

    def _opened(self, row: int, _column: int) -> None:
        item = self.items[row] if 0 <= row < len(self.items) else None
        if item is not None and item.claim_id is not None:
            self.open_claim.emit(item.claim_id)


class PatientClaims(QWidget):
    """The patient's claims, newest first, in a small table (for the chart's ledger)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientClaims")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        title = QLabel("CLAIMS")
        title.setObjectName("sectionTitle")
        column.addWidget(title)
        self.table = make_table(
            CHART_COLUMNS, money_columns=(4, 5), stretch=2, object_name="patientClaimList"
        )
        column.addWidget(self.table, 1)
        self.empty = QLabel("No claims: nothing was billed to an insurer.")
        self.empty.setObjectName("patientClaimsEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop)
        set_role(self.empty, "muted")
        column.addWidget(self.empty)

    def show_claims(self, rows: Sequence[ClaimRow]) -> None:
        fill_table(
            self.table,
            [
                (
                    row.id,
                    (
                        row.number,
                        us_date(row.service_from),
                        row.payer_name,
                        row.status.label,
                        dollars(row.billed),
                        dollars(row.open),
                    ),
                )
                for row in rows
            ],
            keep_selection=False,
        )
        self.table.setVisible(bool(rows))
        self.empty.setVisible(not rows)

    def numbers(self) -> list[str]:
        """The claim numbers shown, top to bottom."""
        out = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(ID_ROLE) is not None:
                out.append(item.text())
        return out
