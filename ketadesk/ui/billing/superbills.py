"""The Superbills tab: one patient's visits as a PDF, or a whole month's self-pay visits.

A superbill lists what an insurer needs to pay the patient back out of network (see
:mod:`ketadesk.billing.superbill`). Two ways in:

* **One patient**: find the patient, choose the visits' date range, press "Superbill PDF".
  :func:`superbill_pdf` builds the view in a transaction (the read is audited) and renders
  it; the PDF is opened or saved (:mod:`ketadesk.ui.billing.pdf`). A refusal (a provider
  without an NPI, no visits in the range) is shown in words, listing everything missing.
* **A month's batch**: choose the month, a location (or all) and a folder, press "Write
  superbills". The batch is :func:`ketadesk.documents.superbill_batch.write_superbills`,
  which spreads the patients over a pool of processes; here it runs in a
  :class:`~ketadesk.ui.workers.Worker` (a pool thread), so the window keeps answering while a
  progress dialog counts the patients done. Cancel stops after the chunks in hand; the
  files already written stay. At the end the tab says how many were written and lists every
  refused patient (MRN and what is missing).

A few small pieces here are shared with the Packages and Estimates tabs and the chart's
Ledger tab: :class:`RangeDialog` (the "from … to …" asked before a chart's "Superbill…"),
:class:`PatientPicker` (find a patient as you type), :func:`date_edit` and
:func:`pdf_button_look`.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from contextlib import suppress
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressDialog,
    QPushButton,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.locations import list_locations
from ketadesk.clinic.patients import PatientPage, PatientRow, patient_by_mrn, patient_page
from ketadesk.documents.superbill_batch import BatchResult
from ketadesk.errors import KetaDeskError, NotFound
from ketadesk.ui.billing import Clock, guard, make_table, more_item
from ketadesk.ui.billing.pdf import Opener, deliver
from ketadesk.ui.card import section_card
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import ERROR_STYLE, attempt
from ketadesk.ui.printing import DEFAULT_HOOKS, Delivery, PrintHooks
from ketadesk.ui.style import ACCENT, INK, LINE, SURFACE, set_role
from ketadesk.ui.workers import Progress, Worker

SEARCH_DELAY_MS = 150
SEARCH_LIMIT = 30
BATCH_WORKERS = 2  # the target machine has two cores
ChooseFolder = Callable[[QWidget | None, str], str]  # parent, where to start -> folder or ""


def to_qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def to_date(day: QDate) -> date:
    return date(day.year(), day.month(), day.day())


def month_range(day: date) -> tuple[date, date]:
    """The first and last day of ``day``'s month."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def last_month(today: date) -> date:
    """The first day of the month before ``today``'s: the usual month to batch."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def date_edit(day: date, name: str = "") -> QDateEdit:
    """A date field with a calendar, shown as 12/01/2026."""
    edit = QDateEdit(to_qdate(day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("MM/dd/yyyy")
    if name:
        edit.setObjectName(name)
    return edit


def pdf_button_look(button: QToolButton) -> None:
    """Draw a PDF button (a tool button with an Open / Save as… menu) like the push buttons
    beside it: the window's style sheet styles push buttons only."""
    button.setStyleSheet(
        f"QToolButton {{ background: {SURFACE}; color: {INK}; border: 1px solid {LINE};"
        " border-radius: 5px; padding: 6px 22px 6px 14px; }"
        f" QToolButton:hover {{ border-color: {ACCENT}; }}"
        f" QToolButton:disabled {{ color: #a0aab4; border-color: #e3e7ec; }}"
        " QToolButton::menu-button { border: none; width: 18px; }"
    )


def superbill_pdf(
    session: Session,
    actor: Actor,
    patient_id: int,
    date_from: date,
    date_to: date,
    issued_on: date,
) -> tuple[bytes, str]:
    """One patient's superbill for the visits in the range: the PDF and its file name.

    Raises :class:`~ketadesk.errors.Incomplete` listing every missing item, or another
    :class:`~ketadesk.errors.KetaDeskError` when there is nothing to bill in the range.
    """
    from ketadesk.billing.superbill import superbill_view
    from ketadesk.documents.letterhead import document_filename
    from ketadesk.documents.superbill import render_superbill

    view = superbill_view(session, actor, patient_id, date_from, date_to, issued_on=issued_on)
    return render_superbill(view), document_filename("superbill", view)


def refusal_text(reason: str) -> str:
    """A refusal as the list shows it: the missing items after "missing:", one per line."""
    head, found, missing = reason.partition("missing: ")
    if not found:
        return reason
    return (
        head.strip().rstrip(";")
        + "\n"
        + "\n".join(f"  • {item}" for item in missing.split("; ") if item)
    )


def batch_summary(result: BatchResult, folder: Path) -> str:
    """``"Wrote 12 superbills to /…/2026-11. 2 patients were refused (below)."``"""
    written = len(result.written)
    noun = "superbill" if written == 1 else "superbills"
    text = f"Wrote {written} {noun} to {folder}."
    if result.cancelled:
        text = f"Cancelled. {text}"
    if not result.total and not result.refused:
        return "Nobody had self-pay visits in that month, so there was nothing to write."
    refused = len(result.refused)
    if refused:
        who = "patient was" if refused == 1 else "patients were"
        text += f" {refused} {who} refused (below): nothing was written for them."
    return text


class RangeDialog(QDialog):
    """Ask "from … to …": the visits a superbill covers."""

    def __init__(
        self, start: date, end: date, title: str = "Date range", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.start = date_edit(start, "rangeFrom")
        self.end = date_edit(end, "rangeTo")
        self.problem = QLabel()
        self.problem.setObjectName("rangeProblem")
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.hide()
        form = QFormLayout()
        form.addRow("Visits from", self.start)
        form.addRow("to", self.end)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.problem)
        column.addWidget(buttons)

    def dates(self) -> tuple[date, date]:
        return to_date(self.start.date()), to_date(self.end.date())

    def accept(self) -> None:
        date_from, date_to = self.dates()
        if date_to < date_from:
            self.problem.setText("The range ends before it starts.")
            self.problem.show()
            return
        super().accept()


class PatientPicker(QWidget):
    """Find a patient as you type (name, MRN, date of birth, phone); pick one from the list.

    Emits ``chosen(patient_id)`` (``0`` when the choice is cleared).
    """

    chosen = Signal(int)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.rows: dict[int, PatientRow] = {}
        self.search = QLineEdit()
        self.search.setObjectName("pickerSearch")
        self.search.setPlaceholderText("Find a patient: name, MRN, date of birth or phone")
        self.search.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setObjectName("pickerResults")
        self.results.setFixedHeight(92)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SEARCH_DELAY_MS)
        self.timer.timeout.connect(self.search_now)
        self.search.textChanged.connect(lambda _text: self.timer.start())
        self.search.returnPressed.connect(self.search_now)
        self.results.currentItemChanged.connect(lambda *_: self.chosen.emit(self.patient_id()))
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addWidget(self.search)
        column.addWidget(self.results)

    def search_now(self) -> None:
        """List the patients matching what is typed; the first is chosen."""
        self.timer.stop()
        text = self.search.text().strip()
        self.results.clear()
        self.rows = {}
        if not text:
            self.chosen.emit(0)
            return

        def find() -> PatientPage:
            with self.context.db.rows() as connection:  # plain rows: no ORM session needed
                return patient_page(connection, self.context.actor, text, limit=SEARCH_LIMIT)

        found = attempt(self, find)
        for row in found.rows if found else ():
            item = QListWidgetItem(
                f"{row.display_name}  ·  MRN {row.mrn}  ·  born {row.date_of_birth:%m/%d/%Y}"
            )
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            self.results.addItem(item)
            self.rows[row.id] = row
        if found and found.more:
            self.results.addItem(more_item(found.more))
        if not self.rows:
            self.results.addItem(QListWidgetItem("Nobody matches that."))
            self.chosen.emit(0)
            return
        self.results.setCurrentRow(0)

    def choose(self, text: str) -> PatientRow | None:
        """Type ``text`` and take the first match (for tests and for an MRN pasted in)."""
        self.search.setText(text)
        self.search_now()
        return self.patient()

    def patient(self) -> PatientRow | None:
        item = self.results.currentItem()
        if item is None or item.data(Qt.ItemDataRole.UserRole) is None:
            return None
        return self.rows.get(int(item.data(Qt.ItemDataRole.UserRole)))

    def patient_id(self) -> int:
        row = self.patient()
        return row.id if row is not None else 0


class SuperbillsTab(QWidget):
    """One patient's superbill, or the month's batch into a folder."""

    def __init__(
        self, context: AppContext, today: Clock | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("superbillsTab")
        self.context = context
        self.today: Clock = today or date.today
        self.opener: Opener | None = None  # None: the desktop's PDF viewer
        self.choose_folder: ChooseFolder = _ask_folder
        self.workers = BATCH_WORKERS
        self.worker: Worker[BatchResult] | None = None  # the batch running, if any
        self.progress: QProgressDialog | None = None
        self.result: BatchResult | None = None
        self.last_pdf: Path | None = None
        self.print_hooks: PrintHooks = DEFAULT_HOOKS  # how the print dialogs are shown
        self._folder_typed = False
        column = QVBoxLayout(self)
        column.setContentsMargins(12, 12, 12, 12)
        column.setSpacing(12)
        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(self._one_patient(), 1)
        top.addWidget(self._batch(), 1)
        column.addLayout(top)
        column.addWidget(self._refusals(), 1)
        self.refresh()

    # --- building --------------------------------------------------------------------

    def _one_patient(self) -> QFrame:
        card, column = section_card("One patient", (16, 10, 16, 14), spacing=8)
        self.picker = PatientPicker(self.context)
        self.picker.chosen.connect(lambda _id: self._enable())
        column.addWidget(self.picker)
        today = self.today()
        self.date_from = date_edit(last_month(today), "superbillFrom")  # last month on
        self.date_to = date_edit(today, "superbillTo")
        row = QHBoxLayout()
        row.addWidget(QLabel("Visits from"))
        row.addWidget(self.date_from)
        row.addWidget(QLabel("to"))
        row.addWidget(self.date_to)
        row.addStretch(1)
        column.addLayout(row)
        self.pdf_button = QPushButton("Superbill PDF")
        self.pdf_button.setObjectName("superbillPdf")
        set_role(self.pdf_button, "primary")
        guard(self.pdf_button, self.context.actor, Permission.BILLING_VIEW)
        self.pdf_button.clicked.connect(lambda: self.one_superbill())
        self.preview_button = QPushButton("Print preview…")
        self.preview_button.setObjectName("superbillPreview")
        self.preview_button.clicked.connect(lambda: self.one_superbill(Delivery.PREVIEW))
        self.print_button = QPushButton("Print…")
        self.print_button.setObjectName("superbillPrint")
        self.print_button.clicked.connect(lambda: self.one_superbill(Delivery.PRINT))
        buttons = QHBoxLayout()
        for button in (self.pdf_button, self.preview_button, self.print_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        column.addStretch(1)
        return card

    def _batch(self) -> QFrame:
        card, column = section_card("A month's self-pay visits", (16, 10, 16, 14), spacing=8)
        form = QFormLayout()
        self.month = QDateEdit(to_qdate(last_month(self.today())))
        self.month.setObjectName("batchMonth")
        self.month.setDisplayFormat("MMMM yyyy")
        self.month.setCalendarPopup(True)
        self.month.dateChanged.connect(lambda _day: self._default_folder())
        form.addRow("Month", self.month)
        self.location = QComboBox()
        self.location.setObjectName("batchLocation")
        form.addRow("Location", self.location)
        folder_row = QHBoxLayout()
        self.folder = QLineEdit()
        self.folder.setObjectName("batchFolder")
        self.folder.textEdited.connect(lambda _text: setattr(self, "_folder_typed", True))
        choose = QPushButton("Choose…")
        choose.setObjectName("batchChooseFolder")
        choose.clicked.connect(self._choose_folder)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)
        form.addRow("Folder", folder_row)
        column.addLayout(form)
        hint = QLabel(
            "One PDF per self-pay patient with visits in the month. A patient whose "
            "superbill is missing a required item is listed below instead."
        )
        hint.setWordWrap(True)
        set_role(hint, "muted")
        column.addWidget(hint)
        self.batch_button = QPushButton("Write superbills")
        self.batch_button.setObjectName("batchWrite")
        set_role(self.batch_button, "primary")
        guard(self.batch_button, self.context.actor, Permission.BILLING_VIEW)
        self.batch_button.clicked.connect(self.start_batch)
        buttons = QHBoxLayout()
        buttons.addWidget(self.batch_button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        column.addStretch(1)
        self._default_folder()
        return card

    def _refusals(self) -> QFrame:
        card, column = section_card("Last batch", (16, 10, 16, 14), spacing=8)
        self.summary = QLabel("No batch written yet.")
        self.summary.setObjectName("batchSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.summary)
        self.refused = make_table(
            ("MRN", "Patient", "Why it was refused"), stretch=2, object_name="batchRefused"
        )
        self.refused.setWordWrap(True)  # each missing item on a line of its own
        header = self.refused.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 260)
        column.addWidget(self.refused, 1)
        return card

    # --- reading ---------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the locations again (the batch may be for one of them)."""
        chosen = self.location.currentData()

        def read() -> list[tuple[int, str]]:
            with self.context.db.reading() as session:
                found = list_locations(session, self.context.actor)
                return [(loc.id, f"{loc.name} ({loc.code})") for loc in found]

        choices = attempt(self, read) or []
        self.location.blockSignals(True)
        self.location.clear()
        self.location.addItem("All locations", None)
        for location_id, text in choices:
            self.location.addItem(text, location_id)
        self.location.setCurrentIndex(max(self.location.findData(chosen), 0))
        self.location.blockSignals(False)
        self._enable()

    def _enable(self) -> None:
        running = self.worker is not None
        chosen = self.context.actor.can(Permission.BILLING_VIEW) and self.picker.patient_id() > 0
        for button in (self.pdf_button, self.preview_button, self.print_button):
            button.setEnabled(chosen)
        self.batch_button.setEnabled(
            self.context.actor.can(Permission.BILLING_VIEW) and not running
        )

    def _default_folder(self) -> None:
        if self._folder_typed:
            return
        month = to_date(self.month.date())
        self.folder.setText(str(Path.home() / "KetaDesk superbills" / f"{month:%Y-%m}"))

    def _choose_folder(self) -> None:
        chosen = self.choose_folder(self, self.folder.text())
        if chosen:
            self.folder.setText(chosen)
            self._folder_typed = True

    # --- one patient -----------------------------------------------------------------

    def one_superbill(self, how: Delivery = Delivery.OPEN) -> None:
        """The chosen patient's superbill for the range, opened in the PDF viewer (or
        previewed or printed: ``how``)."""
        patient_id = self.picker.patient_id()
        date_from, date_to = to_date(self.date_from.date()), to_date(self.date_to.date())
        issued_on = self.today()
        if not patient_id:
            return
        if date_to < date_from:
            attempt(self, _refuse("The range ends before it starts."))
            return

        def run() -> tuple[bytes, str]:
            with self.context.db.transaction() as session:  # the read is audited
                return superbill_pdf(
                    session, self.context.actor, patient_id, date_from, date_to, issued_on
                )

        made = attempt(self, run)
        if made is not None:
            self.last_pdf = deliver(self, how, made[0], made[1], opener=self.opener,
                                    hooks=self.print_hooks)

    # --- the month's batch -----------------------------------------------------------

    def start_batch(self) -> Worker[BatchResult] | None:
        """Write the month's superbills in a worker, with a progress dialog; return it."""
        if self.worker is not None or not self.context.actor.can(Permission.BILLING_VIEW):
            return None
        folder_text = self.folder.text().strip()
        if not folder_text:
            attempt(self, _refuse("Choose a folder for the superbills first."))
            return None
        folder = Path(folder_text).expanduser()
        date_from, date_to = month_range(to_date(self.month.date()))
        location_id = self.location.currentData()
        issued_on, workers, url = self.today(), self.workers, self.context.db.url
        actor = self.context.actor

        def job(_session: Session, progress: Progress) -> BatchResult:
            from ketadesk.documents.superbill_batch import write_superbills

            progress.report(0, 0, "Finding the month's self-pay visits…")
            return write_superbills(
                url,
                date_from,
                date_to,
                folder,
                actor=actor,
                issued_on=issued_on,
                workers=workers,
                location_id=location_id,
                progress=progress.report,
                cancelled=lambda: progress.cancelled,
            )

        worker: Worker[BatchResult] = Worker(self.context.db, job)
        self.worker = worker
        self.result = None
        self.progress = self._progress_dialog(worker, f"{date_from:%B %Y}")
        worker.signals.succeeded.connect(lambda result: self._batch_done(result, folder))
        worker.signals.failed.connect(self._batch_failed)
        worker.signals.finished.connect(self._batch_over)
        self.summary.setText(f"Writing the superbills of {date_from:%B %Y}…")
        self._enable()
        worker.start()
        return worker

    def _progress_dialog(self, worker: Worker[BatchResult], month: str) -> QProgressDialog:
        dialog = QProgressDialog(f"Superbills for {month}…", "Cancel", 0, 0, self)
        dialog.setObjectName("batchProgress")
        dialog.setWindowTitle("Writing superbills")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)  # a batch is never instant: show it at once
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(worker.progress.cancel)

        def progressed(done: int, total: int, text: str) -> None:
            dialog.setMaximum(max(total, 0))
            dialog.setValue(min(done, total) if total else 0)
            if text:
                counted = f"{done} of {total}: " if total else ""
                dialog.setLabelText(f"{counted}{text}")

        worker.signals.progressed.connect(progressed)
        dialog.show()
        return dialog

    def _batch_done(self, result: BatchResult, folder: Path) -> None:
        self.result = result
        self.summary.setText(batch_summary(result, folder))
        self._show_refusals(result)

    def _batch_failed(self, error: object) -> None:
        reason = str(error) if isinstance(error, KetaDeskError) else f"The batch stopped: {error}"
        self.summary.setText(reason)
        set_role(self.summary, "error")
        self.refused.setRowCount(0)

    def _batch_over(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        self.worker = None
        self._enable()

    def _show_refusals(self, result: BatchResult) -> None:
        set_role(self.summary, "")
        names = _names_by_mrn(self.context, [mrn for mrn, _reason in result.refused])
        self.refused.setRowCount(len(result.refused))
        for row, (mrn, reason) in enumerate(result.refused):
            for column, text in enumerate((mrn, names.get(mrn, ""), refusal_text(reason))):
                item = QTableWidgetItem(text)
                item.setToolTip(reason)
                self.refused.setItem(row, column, item)
        self.refused.resizeRowsToContents()

    def refused_rows(self) -> list[tuple[str, str]]:
        """The refused patients as listed: ``(MRN, why)``."""

        def text(row: int, column: int) -> str:
            item = self.refused.item(row, column)
            return item.text() if item is not None else ""

        return [(text(row, 0), text(row, 2)) for row in range(self.refused.rowCount())]


def _names_by_mrn(context: AppContext, mrns: list[str]) -> dict[str, str]:
    """The listed names of the refused patients, so a person knows who to fix."""
    if not mrns:
        return {}
    found: dict[str, str] = {}
    try:
        with context.db.reading() as session:
            for mrn in mrns:
                with suppress(NotFound):
                    found[mrn] = patient_by_mrn(session, context.actor, mrn).display_name
    except KetaDeskError:
        return found  # the MRN alone still says who it is
    return found


def _refuse(sentence: str) -> Callable[[], None]:
    def refuse() -> None:
        raise KetaDeskError(sentence)

    return refuse


def _ask_folder(parent: QWidget | None, start: str) -> str:
    return QFileDialog.getExistingDirectory(parent, "Folder for the superbills", start)


__all__ = [
    "PatientPicker",
    "RangeDialog",
    "SuperbillsTab",
    "batch_summary",
    "month_range",
    "pdf_button_look",
    "superbill_pdf",
]
