"""The Estimates tab: Good Faith Estimates due, given and replaced, and billed against them.

The No Surprises Act asks a clinic to give a self-pay patient a Good Faith Estimate of a
series before it starts, by a deadline, and to watch for bills $400 or more above it. This
tab is where billing and the desk keep up with that; every rule is
:mod:`ketadesk.billing.estimates`'.

* The list (:func:`~ketadesk.billing.estimates.list_estimates`) shows the estimates due
  (drafts; past their deadline in red), those given, and those replaced after their series
  changed, for one location or all. "Mark given…" records the day and how
  (:class:`GivenDialog` → :func:`~ketadesk.billing.estimates.record_given`), "PDF" opens or
  saves the estimate as the patient gets it.
* "Draft estimates" runs :func:`~ketadesk.billing.estimates.refresh_estimates` over the
  planned and active series in a worker with a progress dialog: self-pay series without an
  estimate get one, and series that changed (sessions added, protocol or prices changed) get
  a new draft that must be given again.
* "Billed against estimate" (:func:`~ketadesk.billing.estimates.variances`) compares each
  current estimate with what its series was billed; a patient billed $400.00 or more above
  it is flagged and highlighted.

Reads are one read-only session each; every action is one transaction; refusals are shown
in words and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import estimates as service
from ketadesk.billing.estimates import EstimateRow, Variance
from ketadesk.billing.models import EstimateStatus
from ketadesk.clinic.locations import list_locations
from ketadesk.errors import NotFound
from ketadesk.ui.billing import (
    Clock,
    attempt_in,
    fill_table,
    make_table,
    not_allowed,
    selected_keys,
)
from ketadesk.ui.billing.pdf import PdfButton
from ketadesk.ui.billing.superbills import date_edit, pdf_button_look, to_date
from ketadesk.ui.card import COMPACT, section_card
from ketadesk.ui.context import AppContext
from ketadesk.ui.flow import wrap_words
from ketadesk.ui.format import dollars, us_date
from ketadesk.ui.forms import FieldForm, attempt
from ketadesk.ui.style import ERROR, MUTED, set_role
from ketadesk.ui.workers import Progress, Worker, run_with_progress

ESTIMATE_COLUMNS = (
    "Number",
    "Patient",
    "MRN",
    "Series",
    "Total",
    "Drafted",
    "Give by",
    "Given",
    "Status",
)
VARIANCE_COLUMNS = ("Number", "Patient", "MRN", "Estimated", "Billed", "Difference", "")
# (what the filter says, the status it shows; None: all)
SHOWN: tuple[tuple[str, EstimateStatus | None], ...] = (
    ("Due to give", EstimateStatus.DRAFT),
    ("Given", EstimateStatus.GIVEN),
    ("Replaced", EstimateStatus.SUPERSEDED),
    ("All", None),
)
HOW_GIVEN = ("in person", "email", "mail", "patient portal")
OVERDUE_INK = QColor(ERROR)
REPLACED_INK = QColor(MUTED)
FLAG_FILL = QColor("#fbe4e2")
FLAG_TEXT = "Over by $400 or more"


@dataclass(frozen=True)
class EstimatesPage:
    rows: tuple[EstimateRow, ...]
    variances: tuple[Variance, ...]


def load_page(
    session: Session,
    actor: Actor,
    *,
    today: date,
    location_id: int | None,
    status: EstimateStatus | None,
    flagged_only: bool,
) -> EstimatesPage:
    """The estimates the filter asks for, and billed against estimated."""
    rows = service.list_estimates(
        session, actor, today=today, location_id=location_id, status=status
    )
    found = service.variances(session, actor, location_id=location_id, flagged_only=flagged_only)
    return EstimatesPage(tuple(rows), tuple(found))


def status_text(row: EstimateRow) -> str:
    """``"Draft"``, ``"Draft — overdue"``, ``"Given"``, ``"Superseded"``."""
    if row.overdue:
        return f"{row.status.label} — overdue"
    if row.status is EstimateStatus.DRAFT and row.give_by is None:
        return f"{row.status.label} — no deadline"
    return row.status.label


def estimate_cells(row: EstimateRow) -> tuple[str, ...]:
    return (
        row.number,
        row.patient_name,
        row.mrn,
        row.series_name,
        dollars(row.total),
        us_date(row.drafted_on),
        us_date(row.give_by) if row.give_by else "not required",
        us_date(row.given_on),
        status_text(row),
    )


def difference_text(amount: Decimal) -> str:
    """``"+$420.00"`` above the estimate, ``"-$35.00"`` below it."""
    return f"+{dollars(amount)}" if amount > 0 else dollars(amount)


def variance_cells(row: Variance) -> tuple[str, ...]:
    return (
        row.number,
        row.patient_name,
        row.mrn,
        dollars(row.estimated),
        dollars(row.billed),
        difference_text(row.difference),
        FLAG_TEXT if row.flagged else "",
    )


def may_draft(actor: Actor) -> bool:
    return actor.can(Permission.CHARGE_REVIEW) or actor.can(Permission.SCHEDULE_BOOK)


def may_give(actor: Actor) -> bool:
    return actor.can(Permission.CHARGE_REVIEW) or actor.can(Permission.PAYMENT_TAKE)


class GivenDialog(QDialog):
    """When and how the estimate reached the patient."""

    def __init__(
        self, context: AppContext, row: EstimateRow, today: date, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.row = row
        self.setWindowTitle(f"Estimate {row.number} given")
        self.setMinimumWidth(460)
        column = QVBoxLayout(self)
        heading = QLabel(
            f"<b>{row.number}</b> · {row.patient_name} (MRN {row.mrn})<br>"
            f"{row.series_name} · {dollars(row.total)}"
        )
        heading.setWordWrap(True)
        column.addWidget(heading)
        self.form = FieldForm()
        self.given_on = date_edit(today, "givenOn")
        self.form.layout_.addRow("Given on", self.given_on)
        self.how = self.form.add_choice(
            "how", "How", [(h, h.capitalize()) for h in HOW_GIVEN], required=True
        )
        self.how.setEditable(True)
        column.addWidget(self.form)
        buttons = QDialogButtonBox()
        self.save_button = QPushButton("Record")
        self.save_button.setObjectName("recordGiven")
        set_role(self.save_button, "primary")
        self.save_button.clicked.connect(self.submit)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel).clicked.connect(self.reject)
        column.addWidget(buttons)

    def how_text(self) -> str:
        data = self.how.currentData()
        typed = self.how.currentText().strip()
        # A choice from the list carries its value; anything typed is taken as it stands.
        return str(data) if data is not None and typed == str(data).capitalize() else typed

    def submit(self) -> bool:
        on, how = to_date(self.given_on.date()), self.how_text()

        def run() -> int:
            with self.context.db.transaction() as session:
                return service.record_given(
                    session, self.context.actor, self.row.id, on=on, how=how
                ).id

        done = attempt_in(self.form, run)
        if done is not None:
            self.accept()
        return done is not None


class EstimatesTab(QWidget):
    """Estimates due, given and replaced; billed against estimated, $400 overruns flagged."""

    def __init__(
        self, context: AppContext, today: Clock | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("estimatesTab")
        self.context = context
        self.today: Clock = today or date.today
        self.page: EstimatesPage | None = None
        self.rows: dict[int, EstimateRow] = {}
        self.dialog: QDialog | None = None
        self.worker: Worker[list[str]] | None = None  # the last drafting run
        column = QVBoxLayout(self)
        column.setContentsMargins(12, 12, 12, 12)
        column.setSpacing(10)
        column.addLayout(self._toolbar())
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._estimates())
        splitter.addWidget(self._variances())
        splitter.setSizes([420, 260])
        column.addWidget(splitter, 1)
        self._load_locations()
        self.refresh()

    # --- building --------------------------------------------------------------------

    def _toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Show"))
        self.shown = QComboBox()
        self.shown.setObjectName("estimateFilter")
        for text, status in SHOWN:
            self.shown.addItem(text, status.value if status else None)
        self.shown.currentIndexChanged.connect(lambda _index: self.refresh())
        row.addWidget(self.shown)
        row.addWidget(QLabel("Location"))
        self.location = QComboBox()
        self.location.setObjectName("estimateLocation")
        self.location.setMinimumWidth(200)
        self.location.currentIndexChanged.connect(lambda _index: self.refresh())
        row.addWidget(self.location)
        row.addStretch(1)
        self.draft_button = QPushButton("Draft estimates")
        self.draft_button.setObjectName("draftEstimates")
        self._permit(
            self.draft_button,
            may_draft(self.context.actor),
            Permission.SCHEDULE_BOOK,
            "Draft an estimate for every self-pay series that needs one, and "
            "re-draft those whose series changed",
        )
        self.draft_button.clicked.connect(self.draft_estimates)
        self.given_button = QPushButton("Mark given…")
        self.given_button.setObjectName("markGiven")
        set_role(self.given_button, "primary")
        self._permit(
            self.given_button,
            may_give(self.context.actor),
            Permission.PAYMENT_TAKE,
            "Record the day and how the estimate reached the patient",
        )
        self.given_button.clicked.connect(self.mark_given)
        self.pdf_button = PdfButton(self._pdf, text="PDF")
        self.pdf_button.setObjectName("estimatePdf")
        self.pdf_button.setToolTip("The estimate as the patient gets it")
        pdf_button_look(self.pdf_button)
        self.print_button = self.pdf_button.print_button()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        for button in (self.draft_button, self.given_button, self.pdf_button, self.print_button,
                       self.refresh_button):
            row.addWidget(button)
        return row

    def _permit(self, button: QPushButton, allowed: bool, needed: Permission, tip: str) -> None:
        """Enable ``button`` for roles that may use it; others read why in its tooltip."""
        button.setProperty("allowed", allowed)
        button.setEnabled(allowed)
        button.setToolTip(tip if allowed else not_allowed(self.context.actor, needed))

    def _estimates(self) -> QWidget:
        card, column = section_card("Estimates", COMPACT, spacing=6)
        self.summary = QLabel()
        self.summary.setObjectName("estimateSummary")
        self.summary.setWordWrap(True)
        column.addWidget(self.summary)
        self.table: QTableWidget = make_table(
            ESTIMATE_COLUMNS, money_columns=(4,), stretch=3, object_name="estimateTable"
        )
        wrap_words(self.table)
        self.table.itemSelectionChanged.connect(self._enable)
        self.table.doubleClicked.connect(lambda _index: self.pdf_button.open_pdf())
        column.addWidget(self.table, 1)
        return card

    def _variances(self) -> QWidget:
        card, column = section_card("Billed against estimate", COMPACT, spacing=6)
        row = QHBoxLayout()
        note = QLabel(
            "Patients billed $400.00 or more above their estimate may dispute the "
            "bill; those are flagged in red."
        )
        note.setWordWrap(True)
        set_role(note, "muted")
        row.addWidget(note, 1)
        self.flagged_only = QCheckBox("Only flagged")
        self.flagged_only.setObjectName("flaggedOnly")
        self.flagged_only.toggled.connect(lambda _on: self.refresh())
        row.addWidget(self.flagged_only)
        column.addLayout(row)
        self.variance_table: QTableWidget = make_table(
            VARIANCE_COLUMNS, money_columns=(3, 4, 5), stretch=1, object_name="varianceTable"
        )
        column.addWidget(self.variance_table, 1)
        return card

    def _load_locations(self) -> None:
        def read() -> list[tuple[int, str]]:
            with self.context.db.reading() as session:
                return [
                    (loc.id, f"{loc.name} ({loc.code})")
                    for loc in list_locations(session, self.context.actor)
                ]

        self.location.blockSignals(True)
        self.location.addItem("All locations", None)
        for location_id, text in attempt(self, read) or []:
            self.location.addItem(text, location_id)
        self.location.blockSignals(False)

    # --- reading ---------------------------------------------------------------------

    def status(self) -> EstimateStatus | None:
        data = self.shown.currentData()
        return EstimateStatus(str(data)) if data is not None else None

    def show_status(self, status: EstimateStatus | None) -> None:
        """Show the estimates with ``status`` (``None``: all), as the filter would."""
        self.shown.setCurrentIndex(self.shown.findData(status.value if status else None))

    def refresh(self) -> None:
        """Read the estimates and the variances again, keeping the selection."""
        today = self.today()
        location_id = self.location.currentData()
        status = self.status()
        flagged = self.flagged_only.isChecked()

        def read() -> EstimatesPage:
            with self.context.db.reading() as session:
                return load_page(
                    session,
                    self.context.actor,
                    today=today,
                    location_id=location_id,
                    status=status,
                    flagged_only=flagged,
                )

        page = attempt(self, read)
        if page is None:
            return
        self.page = page
        self.rows = {row.id: row for row in page.rows}
        fill_table(self.table, [(row.id, estimate_cells(row)) for row in page.rows])
        self._colour_estimates(page.rows)
        fill_table(
            self.variance_table, [(row.estimate_id, variance_cells(row)) for row in page.variances]
        )
        self._colour_variances(page.variances)
        self.summary.setText(self._summary(page.rows))
        if page.rows and not selected_keys(self.table):
            self.table.selectRow(0)
        self._enable()

    def _summary(self, rows: tuple[EstimateRow, ...]) -> str:
        if not rows:
            return "No estimates to show."
        drafts = [r for r in rows if r.status is EstimateStatus.DRAFT]
        overdue = [r for r in drafts if r.overdue]
        parts = [f"{len(rows):,} shown"]
        if drafts:
            parts.append(f"{len(drafts):,} still to give")
        if overdue:
            parts.append(f"{len(overdue):,} past the deadline")
        return " · ".join(parts) + "."

    def _colour_estimates(self, rows: tuple[EstimateRow, ...]) -> None:
        for index, row in enumerate(rows):
            ink = (
                OVERDUE_INK
                if row.overdue
                else (REPLACED_INK if row.status is EstimateStatus.SUPERSEDED else None)
            )
            if ink is None:
                continue
            for column in range(self.table.columnCount()):
                item = self.table.item(index, column)
                if item is not None:
                    item.setForeground(QBrush(ink))

    def _colour_variances(self, rows: tuple[Variance, ...]) -> None:
        for index, row in enumerate(rows):
            if not row.flagged:
                continue
            for column in range(self.variance_table.columnCount()):
                item = self.variance_table.item(index, column)
                if item is not None:
                    item.setBackground(QBrush(FLAG_FILL))
                    item.setForeground(QBrush(OVERDUE_INK))

    def chosen(self) -> EstimateRow | None:
        keys = selected_keys(self.table)
        return self.rows.get(int(str(keys[0]))) if keys else None

    def _enable(self) -> None:
        row = self.chosen()
        self.given_button.setEnabled(
            may_give(self.context.actor) and row is not None and row.status is EstimateStatus.DRAFT
        )
        self.pdf_button.setEnabled(row is not None)

    def overdue_numbers(self) -> list[str]:
        """The numbers of the listed estimates drawn in red (past their deadline)."""
        found = []
        for index in range(self.table.rowCount()):
            item = self.table.item(index, 0)
            if item is not None and item.foreground().color() == OVERDUE_INK:
                found.append(item.text())
        return found

    def flagged_numbers(self) -> list[str]:
        """The numbers of the variance rows highlighted as $400 or more over."""
        found = []
        for index in range(self.variance_table.rowCount()):
            item = self.variance_table.item(index, 0)
            if item is not None and item.background().color() == FLAG_FILL:
                found.append(item.text())
        return found

    # --- acting ----------------------------------------------------------------------

    def draft_estimates(self) -> None:
        """Draft or re-draft the estimates of the shown location's series, in a worker."""
        if not may_draft(self.context.actor):
            return
        today, location_id = self.today(), self.location.currentData()

        def job(session: Session, progress: Progress) -> list[str]:
            progress.report(0, 0, "Comparing each self-pay series with its estimate…")
            made = service.refresh_estimates(
                session, self.context.actor, today=today, location_id=location_id
            )
            return [estimate.number for estimate in made]

        self.draft_button.setEnabled(False)
        worker = run_with_progress(
            self, self.context.db, "Drafting estimates", job, write=True, on_done=self._drafted
        )
        worker.signals.finished.connect(lambda: self.draft_button.setEnabled(True))
        self.worker = worker

    def _drafted(self, numbers: list[str]) -> None:
        if numbers:
            noun = "estimate" if len(numbers) == 1 else "estimates"
            shown = ", ".join(numbers[:6]) + ("…" if len(numbers) > 6 else "")
            done = f"Drafted {len(numbers)} {noun} to give: {shown}."
            self.show_status(EstimateStatus.DRAFT)  # reads the list again
        else:
            done = "Every self-pay series already has a current estimate."
        self.refresh()
        self.summary.setText(f"{done} {self.summary.text()}")

    def mark_given(self) -> GivenDialog | None:
        row = self.chosen()
        if row is None or not may_give(self.context.actor):
            return None
        dialog = GivenDialog(self.context, row, self.today(), parent=self)
        dialog.accepted.connect(self.refresh)
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.open()
        return dialog

    def _pdf(self) -> tuple[bytes, str]:
        from ketadesk.documents.estimate import render_estimate
        from ketadesk.documents.letterhead import document_filename

        row = self.chosen()
        if row is None:
            raise NotFound("Choose an estimate first.")
        with self.context.db.transaction() as session:  # the read is audited
            view = service.estimate_view(session, self.context.actor, row.id)
        return render_estimate(view), document_filename("estimate", view)


__all__ = ["EstimatesTab", "GivenDialog", "load_page"]
