"""The "Charges to review" tab: captured charges billing checks before they become final.

Flow: :meth:`ChargesTab.refresh` reads :func:`ketadesk.billing.review.review_queue` (one
location, or all) in a read-only session and fills the table. "Capture completed sessions"
runs :func:`~ketadesk.billing.capture.capture_pending` in a worker with a progress dialog
(on a big database it takes a while, and the window must not freeze), then refreshes.

A row can be edited (:class:`ChargeDialog`: code, modifiers, units, unit price, words and
diagnosis pointers; a refusal appears beside its field) or dismissed with a reason. "Post
selected" and "Post all shown" ask first, naming how many charges and their total, then call
:func:`~ketadesk.billing.review.post_charges` in one transaction: each becomes a ledger
entry, packages cover their sessions, and waiting credit pays them.

Everything needs ``CHARGE_REVIEW``; others see the queue with the buttons disabled and a
tooltip saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Permission
from ketadesk.billing.capture import CaptureResult, capture_pending
from ketadesk.billing.review import (
    QueueRow,
    dismiss_charge,
    edit_charge,
    post_charges,
    review_queue,
)
from ketadesk.clinic.locations import list_locations
from ketadesk.errors import FieldProblem, KetaDeskError
from ketadesk.money import ZERO
from ketadesk.ui.billing import (
    Clock,
    Confirm,
    Notice,
    ask,
    fill_table,
    guard,
    make_table,
    selected_keys,
)
from ketadesk.ui.billing.corrections import CorrectionDialog, ReasonDialog
from ketadesk.ui.context import AppContext
from ketadesk.ui.flow import wrap_words
from ketadesk.ui.format import count_text, dollars, us_date
from ketadesk.ui.forms import FieldForm, as_text
from ketadesk.ui.style import WARNING_SOFT, set_role
from ketadesk.ui.workers import Progress, Worker, run_with_progress

COLUMNS = (
    "Date",
    "Patient",
    "MRN",
    "Session",
    "Code",
    "Mod.",
    "Service",
    "Units",
    "Unit price",
    "Amount",
    "Dx",
    "Needs a look",
)
MONEY_COLUMNS = (7, 8, 9)
EDITABLE = ("code", "modifiers", "units", "unit_price", "description", "diagnosis_pointers")


def location_choices(context: AppContext) -> list[tuple[int | None, str]]:
    """The filter's choices: all locations, then each active one."""
    with context.db.reading() as session:
        rows = [
            (loc.id, f"{loc.code} — {loc.name}") for loc in list_locations(session, context.actor)
        ]
    return [(None, "All locations"), *rows]


def fill_locations(combo: QComboBox, context: AppContext) -> None:
    for key, text in location_choices(context):
        combo.addItem(text, key)


def cells(row: QueueRow) -> tuple[str, ...]:
    return (
        us_date(row.service_date),
        row.patient_name,
        row.mrn,
        row.session_ref,
        row.code,
        row.modifiers,
        row.description,
        str(row.units),
        dollars(row.unit_price),
        dollars(row.amount),
        row.diagnosis_pointers,
        row.review_note,
    )


def total_of(rows: Sequence[QueueRow]) -> Decimal:
    return sum((row.amount for row in rows), ZERO)


def charge_values(row: QueueRow) -> dict[str, object]:
    """The row's editable fields as the form shows them."""
    return {name: getattr(row, name) for name in EDITABLE}


class ChargeDialog(CorrectionDialog):
    """Edit a pending charge; the service checks every field and the row's version."""

    ok_text = "Save charge"
    permission = Permission.CHARGE_REVIEW

    def __init__(
        self, context: AppContext, row: QueueRow, *, parent: QWidget | None = None
    ) -> None:
        self.row = row
        heading = (
            f"<b>{row.patient_name}</b> · MRN {row.mrn}<br>"
            f"{us_date(row.service_date)} · {row.location_code}"
            + (f" · {row.session_ref}" if row.session_ref else "")
            + (f" · {row.provider_name}" if row.provider_name else "")
        )
        heading += f"<br>Bills: {row.bill_to}"
        if row.review_note:
            heading += f"<br><i>Needs a look: {row.review_note}</i>"
        super().__init__(context, "Edit charge", heading, parent=parent)
        self.form.set_values(charge_values(row))

    def build(self, form: FieldForm) -> None:
        form.add_text("code", "Code", placeholder="CPT or HCPCS, e.g. 96365")
        form.add_text("modifiers", "Modifiers", placeholder="e.g. 59 or GT,59")
        form.add_text("units", "Units", placeholder="e.g. 1", required=True)
        form.add_text("unit_price", "Unit price", placeholder="e.g. 450.00", required=True)
        form.add_text("description", "Description", required=True)
        form.add_text("diagnosis_pointers", "Diagnosis pointers", placeholder="e.g. 1,2")

    def act(
        self, session: Session, values: Mapping[str, object], problems: list[FieldProblem]
    ) -> object:
        typed = {name: as_text(values[name]).strip() for name in EDITABLE}
        return edit_charge(
            session, self.context.actor, self.row.charge_id, typed, version=self.row.version
        )


class ChargesTab(QWidget):
    """The review queue with capture, edit, dismiss and post."""

    changed = Signal()  # charges were captured, edited, dismissed or posted

    def __init__(
        self,
        context: AppContext,
        *,
        today: Clock | None = None,
        confirm: Confirm = ask,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.today = today or date.today
        self.confirm = confirm
        self.rows: list[QueueRow] = []
        self.dialog: CorrectionDialog | None = None
        self.worker: Worker[CaptureResult] | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(14, 12, 14, 12)
        column.addLayout(self._toolbar())
        self.table = make_table(
            COLUMNS,
            money_columns=MONEY_COLUMNS,
            stretch=6,  # the service's words take the room left, wrapping when narrow
            multi=True,
            object_name="chargeQueue",
            max_widths={1: 130, 11: 130},  # both wrap; the service takes the room left
        )
        wrap_words(self.table)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.edit_selected())
        column.addWidget(self.table, 1)
        self.note = QLabel()
        self.note.setObjectName("selectedNote")
        self.note.setWordWrap(True)
        set_role(self.note, "warning")
        self.note.hide()
        column.addWidget(self.note)
        column.addLayout(self._actions())
        self.refresh()

    # --- building ----------------------------------------------------------------------

    def _toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.location = QComboBox()
        self.location.setObjectName("chargeLocation")
        fill_locations(self.location, self.context)
        self.location.currentIndexChanged.connect(lambda _i: self.refresh())
        row.addWidget(QLabel("Location"))
        row.addWidget(self.location)
        self.capture_button = QPushButton("Capture completed sessions")
        self.capture_button.setObjectName("captureSessions")
        self.capture_button.clicked.connect(self.capture)
        guard(
            self.capture_button,
            self.context.actor,
            Permission.CHARGE_REVIEW,
            "Turn completed sessions, late cancellations and no-shows into charges here.",
        )
        row.addWidget(self.capture_button)
        row.addStretch(1)
        self.summary = QLabel()
        self.summary.setObjectName("queueSummary")
        self.summary.setWordWrap(True)  # long counts wrap rather than widen the window
        self.summary.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        set_role(self.summary, "muted")
        row.addWidget(self.summary, 2)
        return row

    def _actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.status = Notice()
        self.status.setObjectName("queueStatus")
        row.addWidget(self.status, 1)
        self.edit_button = self._button("Edit…", "editCharge", self.edit_selected)
        self.dismiss_button = self._button("Dismiss…", "dismissCharges", self.dismiss_selected)
        self.post_selected_button = self._button(
            "Post selected", "postSelected", self.post_selected
        )
        self.post_all_button = self._button("Post all shown", "postAll", self.post_all)
        set_role(self.post_all_button, "primary")
        for button in (
            self.edit_button,
            self.dismiss_button,
            self.post_selected_button,
            self.post_all_button,
        ):
            row.addWidget(button)
        return row

    def _button(self, text: str, name: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(slot)
        guard(button, self.context.actor, Permission.CHARGE_REVIEW)
        return button

    # --- reading -----------------------------------------------------------------------

    def location_id(self) -> int | None:
        value = self.location.currentData()
        return int(value) if value is not None else None

    def refresh(self) -> None:
        """Read the queue again (keeping the selection where the rows remain)."""
        with self.context.db.reading() as session:
            self.rows = review_queue(session, self.context.actor, location_id=self.location_id())
        fill_table(self.table, [(row.charge_id, cells(row)) for row in self.rows])
        self._tint_flagged()
        count = len(self.rows)
        flagged = sum(1 for row in self.rows if row.review_note)
        parts = [count_text(count, "charge", "charges") + " to review"]
        if flagged:
            parts.append(count_text(flagged, "needs", "need") + " a look")
        insured = sum(1 for row in self.rows if row.bill_to != "Patient")
        if insured:
            parts.append(f"{count_text(insured, 'goes', 'go')} to insurers")
        parts.append(dollars(total_of(self.rows)))
        self.summary.setText(" · ".join(parts) if count else "Nothing to review")
        self._selection_changed()

    def _tint_flagged(self) -> None:
        """Rows whose capture left a note stand out, so nobody posts them unread."""
        tint = QBrush(QColor(WARNING_SOFT))
        for number, row in enumerate(self.rows):
            if not row.review_note:
                continue
            for column in range(self.table.columnCount()):
                item = self.table.item(number, column)
                if item is not None:
                    item.setBackground(tint)
                    item.setToolTip(f"Needs a look: {row.review_note}")
        for number, row in enumerate(self.rows):
            item = self.table.item(number, COLUMNS.index("Amount"))
            if item is not None and not row.review_note:
                item.setToolTip(f"Bills: {row.bill_to}")

    def selected_rows(self) -> list[QueueRow]:
        wanted = set(selected_keys(self.table))
        return [row for row in self.rows if row.charge_id in wanted]

    def _selection_changed(self) -> None:
        may = self.context.actor.can(Permission.CHARGE_REVIEW)
        chosen = len(self.selected_rows())
        self.edit_button.setEnabled(may and chosen == 1)
        self.dismiss_button.setEnabled(may and chosen > 0)
        self.post_selected_button.setEnabled(may and chosen > 0)
        self.post_all_button.setEnabled(may and bool(self.rows))
        notes = [row for row in self.selected_rows() if row.review_note]
        self.note.setText(
            "\n".join(
                f"{row.session_ref or row.description} · {us_date(row.service_date)} · "
                f"{row.patient_name}: {row.review_note}"
                for row in notes[:3]
            )
        )
        self.note.setVisible(bool(notes))

    def _say(self, text: str) -> None:
        self.status.say(text)

    # --- capture -----------------------------------------------------------------------

    def capture(self) -> Worker[CaptureResult]:
        """Capture every completed session not yet charged, in a worker; then refresh."""
        actor, location_id = self.context.actor, self.location_id()

        def job(session: Session, progress: Progress) -> CaptureResult:
            progress.report(0, 0, "Capturing charges from completed sessions…")
            return capture_pending(session, actor, location_id=location_id, through=self.today())

        self.capture_button.setEnabled(False)
        self.worker = run_with_progress(
            self,
            self.context.db,
            "Capturing charges",
            job,
            write=True,
            on_done=self._captured,
            on_failed=self._capture_failed,
        )
        self.worker.signals.finished.connect(
            lambda: self.capture_button.setEnabled(self.context.actor.can(Permission.CHARGE_REVIEW))
        )
        return self.worker

    def _captured(self, result: CaptureResult) -> None:
        if result.charges:
            self._say(
                f"Captured {result.charges} charge{'' if result.charges == 1 else 's'} "
                f"from {result.sessions} session{'' if result.sessions == 1 else 's'}."
            )
        else:
            self._say("No completed sessions were waiting to be charged.")
        self.refresh()
        self.changed.emit()

    def _capture_failed(self, error: object) -> None:
        if isinstance(error, KetaDeskError):
            self.status.refuse(error)
        else:
            self.status.refuse(KetaDeskError(f"the capture stopped: {error}"))

    # --- edit and dismiss --------------------------------------------------------------

    def _open(self, dialog: CorrectionDialog) -> CorrectionDialog:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.saved.connect(lambda _outcome: self._after_change())
        dialog.open()
        return dialog

    def _after_change(self) -> None:
        self.refresh()
        self.changed.emit()

    def edit_selected(self) -> CorrectionDialog | None:
        rows = self.selected_rows()
        if len(rows) != 1 or not self.context.actor.can(Permission.CHARGE_REVIEW):
            return None
        dialog = self._open(ChargeDialog(self.context, rows[0], parent=self))
        dialog.saved.connect(
            lambda _o: self._say(
                f"Saved the {rows[0].code or 'fee'} charge of {rows[0].patient_name}."
            )
        )
        return dialog

    def dismiss_selected(self) -> CorrectionDialog | None:
        rows = self.selected_rows()
        if not rows or not self.context.actor.can(Permission.CHARGE_REVIEW):
            return None
        ids = [row.charge_id for row in rows]
        actor = self.context.actor

        def dismiss(session: Session, reason: str) -> int:
            for charge_id in ids:
                dismiss_charge(session, actor, charge_id, reason)
            return len(ids)

        what = (
            f"{rows[0].code or rows[0].description} for {rows[0].patient_name} on "
            f"{us_date(rows[0].service_date)}"
            if len(rows) == 1
            else f"{count_text(len(rows), 'charge', 'charges')} ({dollars(total_of(rows))})"
        )
        dialog = self._open(
            ReasonDialog(
                self.context,
                "Dismiss charges",
                f"Dismiss {what}? Nothing is billed for them.",
                dismiss,
                ok_text="Dismiss",
                permission=Permission.CHARGE_REVIEW,
                placeholder="e.g. captured twice; session was complimentary",
                parent=self,
            )
        )
        dialog.saved.connect(
            lambda count: self._say(f"Dismissed {count_text(count, 'charge', 'charges')}.")
        )
        return dialog

    # --- posting -----------------------------------------------------------------------

    def post_selected(self) -> int:
        return self._post(self.selected_rows())

    def post_all(self) -> int:
        return self._post(self.rows)

    def _post(self, rows: Sequence[QueueRow]) -> int:
        """Post ``rows`` after the person confirms the count and total; return how many."""
        if not rows or not self.context.actor.can(Permission.CHARGE_REVIEW):
            return 0
        total = total_of(rows)
        flagged = sum(1 for row in rows if row.review_note)
        question = (
            f"Post {count_text(len(rows), 'charge', 'charges')} totalling {dollars(total)}? "
            "Posted charges are "
            "final: they go on the patients' ledgers."
        )
        if flagged:
            question += f"\n\n{flagged:,} of them still carry a note asking for a look."
        if not self.confirm(self, "Post charges", question):
            return 0
        ids = [row.charge_id for row in rows]
        posted = self._run_post(ids)
        if posted is None:
            return 0
        self._say(f"Posted {count_text(len(posted), 'charge', 'charges')} ({dollars(total)}).")
        self._after_change()
        return len(posted)

    def _run_post(self, ids: list[int]) -> list[object] | None:
        def post() -> list[object]:
            with self.context.db.transaction() as session:
                return list(post_charges(session, self.context.actor, ids, on=self.today()))

        return self.status.attempt(post)
