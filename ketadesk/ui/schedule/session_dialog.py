"""One session opened from the schedule: who, what, where, when, and what can be done.

The dialog shows a :class:`~ketadesk.scheduling.calendar.CalendarEntry` (patient, MRN,
series progress, protocol, chair, provider, times, status, driver) and offers the desk's
three actions, each one transaction around one service:

* **Confirm** — :func:`ketadesk.scheduling.floor.confirm`;
* **Mark no-show** — :func:`ketadesk.billing.actions.record_no_show`, after asking;
* **Cancel session** with a reason — :func:`ketadesk.billing.actions.cancel_session`;
  the answer says whether it was a late cancellation and lists the waitlist patients who
  could take the freed slot;
* **Shift the rest** by a number of days — :func:`ketadesk.billing.actions.shift_rest_by`
  moves this session and every later one of its series still ahead alike.

The no-show, the cancellation and the shift re-draft a self-pay series' Good Faith
Estimate in the same transaction, and the answer names the new draft.

After each action the dialog reads the session again (so it shows what the database now
holds) and emits :attr:`SessionDialog.changed`, on which the schedule redraws. A refusal
is shown in words inside the dialog and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Permission
from ketadesk.billing import actions
from ketadesk.billing.actions import MAX_SHIFT_DAYS, Cancelled, EstimateDrafted
from ketadesk.errors import FieldProblem, KetaDeskError, ValidationError
from ketadesk.scheduling.calendar import CalendarEntry, calendar_window
from ketadesk.scheduling.changes import CANCELLABLE
from ketadesk.scheduling.floor import confirm
from ketadesk.scheduling.models import SessionStatus
from ketadesk.scheduling.series import AHEAD
from ketadesk.scheduling.waitlist import WaitlistOffer
from ketadesk.ui.context import AppContext
from ketadesk.ui.schedule.text import day_heading, moment, time_range
from ketadesk.ui.style import set_role

FIELDS = (
    ("patient", "Patient"),
    ("mrn", "MRN"),
    ("series", "Series"),
    ("protocol", "Protocol"),
    ("chair", "Chair"),
    ("provider", "Provider"),
    ("day", "Date"),
    ("times", "Time"),
    ("status", "Status"),
    ("driver", "Driver"),
)


def describe_fields(entry: CalendarEntry) -> dict[str, str]:
    """What each row of the dialog says about ``entry``."""
    size = (
        f"session {entry.number} of {entry.series_size}"
        if entry.series_size
        else (f"session {entry.number} (open-ended)")
    )
    return {
        "patient": entry.patient_name,
        "mrn": entry.mrn,
        "series": size,
        "protocol": entry.protocol_name,
        "chair": entry.chair_name,
        "provider": entry.provider_name,
        "day": day_heading(entry.local_start.date(), long=True),
        "times": time_range(entry),
        "status": entry.status.label,
        "driver": "Ride home confirmed" if entry.driver_confirmed else "Not confirmed yet",
    }


def offer_line(offer: WaitlistOffer) -> str:
    note = f" — {offer.note}" if offer.note else ""
    return (
        f"{offer.patient_name} (MRN {offer.mrn}) · {offer.phone or 'no phone'} · "
        f"waiting since {offer.waiting_since:%b %d}{note}"
    )


class SessionDialog(QDialog):
    """Details and actions of one session (see the module docstring)."""

    changed = Signal()

    def __init__(
        self,
        context: AppContext,
        entry: CalendarEntry,
        location_id: int,
        *,
        clock_now: Callable[[], datetime] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.entry = entry
        self.location_id = location_id
        self._now = clock_now or (lambda: datetime.now().astimezone())
        self.offers: tuple[WaitlistOffer, ...] = ()
        self.setMinimumWidth(520)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 18, 20, 14)
        self.heading = QLabel()
        self.heading.setObjectName("detailName")
        outer.addWidget(self.heading)
        outer.addWidget(self._details())
        self.message = QLabel()
        self.message.setObjectName("sessionMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        outer.addWidget(self.message)
        self.offer_list = QListWidget()
        self.offer_list.setObjectName("waitlistOffers")
        self.offer_list.setMaximumHeight(120)
        self.offer_list.hide()
        outer.addWidget(self.offer_list)
        outer.addLayout(self._actions())
        outer.addWidget(self._cancel_box())
        outer.addWidget(self._shift_box())
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        outer.addWidget(close)
        self._show(entry)

    def _details(self) -> QFrame:
        card = QFrame()
        card.setObjectName("card")
        form = QFormLayout(card)
        form.setContentsMargins(16, 12, 16, 12)
        self.values: dict[str, QLabel] = {}
        for name, caption in FIELDS:
            value = QLabel()
            value.setObjectName(name)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            muted = QLabel(caption)
            set_role(muted, "muted")
            form.addRow(muted, value)
            self.values[name] = value
        return card

    def _actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.confirm_button = QPushButton("Confirm")
        self.confirm_button.setToolTip("The patient confirmed they are coming")
        self.confirm_button.clicked.connect(self.confirm)
        self.no_show_button = QPushButton("Mark no-show")
        self.no_show_button.clicked.connect(self.mark_no_show)
        row.addWidget(self.confirm_button)
        row.addWidget(self.no_show_button)
        row.addStretch(1)
        return row

    def _cancel_box(self) -> QFrame:
        box = QFrame()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 4, 0, 4)
        self.reason = QLineEdit()
        self.reason.setObjectName("cancelReason")
        self.reason.setPlaceholderText("Reason for cancelling (e.g. patient unwell)")
        self.reason.returnPressed.connect(self.cancel)
        self.cancel_button = QPushButton("Cancel session")
        self.cancel_button.setObjectName("cancelSession")
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.reason, 1)
        row.addWidget(self.cancel_button)
        return box

    def _shift_box(self) -> QFrame:
        box = QFrame()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 4, 0, 4)
        caption = QLabel("Move this and the later sessions of the series by")
        caption.setWordWrap(True)  # two lines in the dialog's width, never cut
        row.addWidget(caption, 1)
        self.shift_days = QSpinBox()
        self.shift_days.setObjectName("shiftDays")
        self.shift_days.setRange(-MAX_SHIFT_DAYS, MAX_SHIFT_DAYS)
        self.shift_days.setValue(7)
        self.shift_days.setSuffix(" days")
        self.shift_button = QPushButton("Shift the rest")
        self.shift_button.setObjectName("shiftRest")
        self.shift_button.setToolTip(
            "Every later session still ahead keeps its time of day and its spacing"
        )
        self.shift_button.clicked.connect(self.shift)
        row.addWidget(self.shift_days)
        row.addStretch(1)
        row.addWidget(self.shift_button)
        return box

    # -- showing ------------------------------------------------------------------------

    def _show(self, entry: CalendarEntry) -> None:
        self.entry = entry
        self.setWindowTitle(f"{entry.reference} — {entry.patient_name}")
        self.heading.setText(f"{entry.patient_name} · {entry.reference}")
        for name, text in describe_fields(entry).items():
            self.values[name].setText(text)
        actor = self.context.actor
        arrival = actor.can(Permission.SESSION_ARRIVAL)
        started = self._now() >= entry.starts_at
        self.confirm_button.setEnabled(arrival and entry.status is SessionStatus.SCHEDULED)
        self.no_show_button.setEnabled(arrival and entry.status in AHEAD and started)
        self.no_show_button.setToolTip(
            "" if started else "A no-show can be recorded once the session has begun"
        )
        can_cancel = actor.can(Permission.SCHEDULE_BOOK) and entry.status in CANCELLABLE
        self.cancel_button.setEnabled(can_cancel)
        self.reason.setEnabled(can_cancel)
        can_shift = actor.can(Permission.SCHEDULE_BOOK) and entry.status in AHEAD
        self.shift_button.setEnabled(can_shift)
        self.shift_days.setEnabled(can_shift)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        set_role(self.message, "error" if error else "muted")
        self.message.show()

    def _reload(self) -> None:
        day = self.entry.local_start.date()
        with self.context.db.reading() as session:
            window = calendar_window(session, self.context.actor, self.location_id, day)
        fresh = next((e for e in window.entries if e.session_id == self.entry.session_id), None)
        if fresh is not None:
            self._show(fresh)

    def _run(self, action: Callable[[Session], object]) -> object | None:
        """Run ``action`` in one transaction; show a refusal in words and return None."""
        try:
            with self.context.db.transaction() as session:
                result = action(session)
        except KetaDeskError as error:
            text = (
                "; ".join(_problem_text(p) for p in error.problems)
                if isinstance(error, ValidationError)
                else str(error)
            )
            self._say(f"Not done: {text[:1].upper()}{text[1:]}", error=True)
            return None
        self._reload()
        self.changed.emit()
        return result if result is not None else True

    # -- actions ------------------------------------------------------------------------

    def confirm(self) -> None:
        sid = self.entry.session_id
        if self._run(lambda s: confirm(s, self.context.actor, sid, now=self._now())):
            self._say(f"{self.entry.reference} is confirmed.")

    def mark_no_show(self, *, ask: bool = True) -> None:
        entry = self.entry
        if (
            ask
            and QMessageBox.question(
                self,
                "Record a no-show",
                f"Record that {entry.patient_name} did not come to {entry.reference} "
                f"({moment(entry.local_start)})?",
            )
            != QMessageBox.StandardButton.Yes
        ):
            return
        sid = entry.session_id
        # The estimate drafted, True when none was, None when refused (see _run).
        estimate = self._run(
            lambda s: actions.record_no_show(s, self.context.actor, sid, now=self._now()).estimate
        )
        if estimate is not None:
            self._say(f"{entry.reference} is recorded as a no-show.{_estimate_note(estimate)}")

    def cancel(self) -> None:
        sid, reason = self.entry.session_id, self.reason.text()
        result = self._run(
            lambda s: _cancelled(
                actions.cancel_session(s, self.context.actor, sid, reason, now=self._now())
            )
        )
        if not isinstance(result, tuple):
            return
        late, offers, estimate = result
        self.reason.clear()
        self.offers = offers
        kind = "a late cancellation (inside the cancellation window)" if late else "cancelled"
        text = f"{self.entry.reference} is {kind}; the chair is free again."
        if offers:
            text += f" {len(offers)} waiting patient(s) could take the slot — call them:"
        self._say(text + _estimate_note(estimate))
        self.offer_list.clear()
        self.offer_list.addItems([offer_line(o) for o in offers])
        self.offer_list.setVisible(bool(offers))

    def shift(self) -> None:
        """Move this session and the later ones of its series by the chosen days."""
        sid, days = self.entry.session_id, self.shift_days.value()
        result = self._run(
            lambda s: _shifted(
                actions.shift_rest_by(s, self.context.actor, sid, days, now=self._now())
            )
        )
        if not isinstance(result, tuple):
            return
        count, estimate = result
        direction = "later" if days > 0 else "earlier"
        self._say(
            f"{self.entry.reference} and the rest of the series moved {abs(days)} "
            f"day{'s' if abs(days) != 1 else ''} {direction}: {count} "
            f"session{'s' if count != 1 else ''}.{_estimate_note(estimate)}"
        )


def _problem_text(problem: FieldProblem) -> str:
    """A refusal's problem in words; one about another session of the series (a shift
    names each session that cannot move: "S-12 (session 3)") says which."""
    return f"{problem.field}: {problem.message}" if problem.field.startswith("S-") else (
        problem.message
    )


def _shifted(moved: actions.Moved) -> tuple[int, EstimateDrafted | None]:
    return len(moved.sessions), moved.estimate


def _estimate_note(estimate: object) -> str:
    return f" {estimate.sentence}" if isinstance(estimate, EstimateDrafted) else ""


def _cancelled(
    cancelled: Cancelled,
) -> tuple[bool, tuple[WaitlistOffer, ...], EstimateDrafted | None]:
    """The parts of a cancellation that outlive the transaction (not the ORM row)."""
    return cancelled.result.late, cancelled.result.offers, cancelled.estimate
