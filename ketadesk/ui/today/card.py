"""One chair's card on the board: who is in it, the phase, the timers, what is due, buttons.

:class:`ChairCardWidget` draws a :class:`~ketadesk.scheduling.board.ChairCard` and redraws
its body in place on every refresh (:meth:`ChairCardWidget.show_card`). Its buttons do
nothing themselves: each emits :attr:`ChairCardWidget.step_requested` with the step's key
and the session, and the Today view runs the floor service.

Check-out: a discharged session leaves the board, yet the front desk still has to take the
patient's payment. So the card remembers the session it last showed in monitoring; when
that session is gone from the chair at the next refresh it was discharged (a session being
monitored cannot be cancelled or moved), and the card keeps a "Checked out" line with a
"Take payment…" button (``take_payment`` step, for roles that take payments) until the next
patient is on the floor in that chair or the day ends.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access.permissions import Actor
from ketadesk.clinic.models import Modality
from ketadesk.scheduling.board import BoardSession, ChairCard
from ketadesk.scheduling.floor import DueItem
from ketadesk.scheduling.models import SessionStatus
from ketadesk.ui.style import ACCENT, ACCENT_SOFT, ERROR, LINE, MUTED, WARNING_INK, WARNING_SOFT
from ketadesk.ui.today import outcomes_badge
from ketadesk.ui.today.consent_badge import add_consent_badge
from ketadesk.ui.today.intake_badge import add_intake_badge
from ketadesk.ui.today.sideeffects_badge import add_review_badge
from ketadesk.ui.today.steps import Step, checkout_steps, steps_for

# The phase chip of each status: (text colour, background). Only the Today board uses these.
PHASE_COLOURS: dict[SessionStatus, tuple[str, str]] = {
    SessionStatus.SCHEDULED: (MUTED, "#eef1f4"),
    SessionStatus.CONFIRMED: ("#2f5d8a", "#e4eef8"),
    SessionStatus.CHECKED_IN: ("#5b3f99", "#eee8f8"),
    SessionStatus.DOSING: (WARNING_INK, WARNING_SOFT),
    SessionStatus.MONITORING: (ACCENT, ACCENT_SOFT),
}
# Chair modalities as the card's corner says them (the full names are in its tooltip).
SHORT_MODALITY = {
    Modality.IV: "IV",
    Modality.IM: "IM",
    Modality.ESKETAMINE: "Esketamine",
    Modality.ORAL: "Oral/SL",
    Modality.KAP: "KAP",
}
CARD_WIDTH = 400  # a card's width when there is room to spare
CARD_MIN_WIDTH = 320  # narrower than this, a card's lines would wrap word by word
BUTTONS_PER_ROW = 2

CARD_STYLE = f"""
QLabel#chairName {{ font-size: 15px; font-weight: 600; }}
QLabel#phase {{ border-radius: 9px; padding: 1px 9px; font-weight: 600; }}
QLabel#patientName {{ font-size: 14px; font-weight: 600; }}
QLabel#timers {{ font-weight: 600; }}
QLabel[overdue="true"] {{ color: {ERROR}; font-weight: 600; }}
QFrame#cardRule {{ background: {LINE}; border: none; max-height: 1px; }}
QFrame#card[overdue="true"] {{ border: 1px solid {ERROR}; }}
"""


def clock_text(moment: datetime) -> str:
    """A local instant as the floor reads it: ``09:40``."""
    return moment.strftime("%H:%M")


def due_text(item: DueItem, now: datetime) -> str:
    """``"Due 09:40 · 40-minute blood pressure"`` in ``now``'s time zone, or
    ``"Overdue since 09:40 · …"``."""
    at = clock_text(item.due_at.astimezone(now.tzinfo))
    return f"{'Overdue since' if item.overdue else 'Due'} {at} · {item.label}"


def timers_text(shown: BoardSession) -> str:
    """``"Dosed 42 min ago · 78 min of monitoring remain"`` (empty before the dose)."""
    parts: list[str] = []
    if shown.minutes_since_dose is not None:
        parts.append(f"Dosed {shown.minutes_since_dose} min ago")
    if shown.monitoring_remaining is not None:
        remaining = shown.monitoring_remaining
        parts.append(
            f"{remaining} min of monitoring remain" if remaining > 0 else "monitoring time complete"
        )
    return " · ".join(parts)


def arrival_text(shown: BoardSession) -> str:
    """``"11:30 Ng, Tam — Esketamine induction 2 of 12 (Confirmed)"``."""
    return (
        f"{clock_text(shown.local_start)}  {shown.patient_name} — {shown.protocol_name} "
        f"{shown.progress} ({shown.status.label})"
    )


def _rule() -> QFrame:
    line = QFrame()
    line.setObjectName("cardRule")
    line.setFixedHeight(1)
    return line


def _label(text: str, name: str = "", *, muted: bool = False, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    label.setWordWrap(wrap)
    if muted:
        label.setProperty("role", "muted")
    return label


def clear_layout(layout: QLayout) -> None:
    """Remove everything from ``layout``, deleting its widgets (and nested layouts')."""
    while layout.count():
        item = layout.takeAt(0)
        if item is None:
            break
        widget = item.widget()
        inner = item.layout()
        if widget is not None:
            widget.setParent(None)  # gone from view now (it is deleted later, safely)
            widget.deleteLater()
        elif inner is not None:
            clear_layout(inner)


class ChairCardWidget(QFrame):
    """A chair's card; emits ``step_requested(key, session)`` when a button is pressed."""

    step_requested = Signal(str, object)

    def __init__(self, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actor = actor
        self.setObjectName("card")
        self.setStyleSheet(CARD_STYLE)
        self.card_width = CARD_WIDTH
        self.setFixedWidth(CARD_WIDTH)
        self.buttons: dict[str, QPushButton] = {}
        self.due_labels: list[QLabel] = []
        self.card: ChairCard | None = None
        # The session last seen in monitoring here, and the one discharged from this chair
        # whose patient may still be at the desk (see the module's docstring).
        self.monitoring: BoardSession | None = None
        self.checked_out: BoardSession | None = None
        self.outer = outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 14)
        outer.setSpacing(6)
        heading = QHBoxLayout()
        self.chair_name = _label("", "chairName", wrap=False)
        self.modalities = _label("", "chairModalities", muted=True, wrap=False)
        heading.addWidget(self.chair_name)
        heading.addStretch(1)
        heading.addWidget(self.modalities)
        outer.addLayout(heading)
        outer.addWidget(_rule())
        self.body = QVBoxLayout()
        self.body.setSpacing(5)
        outer.addLayout(self.body)
        outer.addStretch(1)

    # --- drawing ---------------------------------------------------------------------

    def show_card(self, card: ChairCard, now: datetime) -> None:
        """Draw ``card`` as of ``now`` (the location's local time)."""
        self.card = card
        self.chair_name.setText(card.chair_name)
        ordered = [m for m in Modality if m in card.modalities]
        self.modalities.setText(" · ".join(SHORT_MODALITY[m] for m in ordered))
        self.modalities.setToolTip(", ".join(m.label for m in ordered))
        self._note_checkout(card, now)
        clear_layout(self.body)
        self.buttons = {}
        self.due_labels = []
        if card.current is None:
            self.body.addWidget(_label("Free — nobody in this chair", "chairFree", muted=True))
        else:
            self._current(card.current, now)
        self._checkout()
        self._upcoming(card)
        overdue = card.current is not None and card.current.overdue
        self.setProperty("overdue", "true" if overdue else "false")
        self.style().unpolish(self)
        self.style().polish(self)
        # Wrapped labels need their height for the card's fixed width; a grid would not ask.
        # Qt shows widgets added to a visible card only later, and hidden ones take no room,
        # so show them now (the card hides none of its own) to measure the card.
        for child in self.children():
            if isinstance(child, QWidget):
                child.show()
        self._fit_height()

    def set_card_width(self, width: int) -> None:
        """Give the card ``width`` pixels (the board shares its row out) and fit its height."""
        if width == self.card_width:
            return
        self.card_width = width
        self.setFixedWidth(width)
        self._fit_height()

    def _fit_height(self) -> None:
        self.outer.invalidate()  # forget the height measured before this redraw
        height = self.heightForWidth(self.card_width)
        self.setFixedHeight(height if height > 0 else self.sizeHint().height())

    def _current(self, shown: BoardSession, now: datetime) -> None:
        row = QHBoxLayout()
        phase = _label(shown.status.label, "phase", wrap=False)
        ink, fill = PHASE_COLOURS.get(shown.status, (MUTED, "#eef1f4"))
        phase.setStyleSheet(f"color: {ink}; background: {fill};")
        row.addWidget(phase)
        booked = _label(
            f"{clock_text(shown.local_start)}–{clock_text(shown.local_end)}  ·  {shown.reference}",
            "booked",
            muted=True,
            wrap=False,
        )
        row.addWidget(booked)
        row.addStretch(1)
        self.body.addLayout(row)
        name = _label(shown.patient_name, "patientName")
        name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.addWidget(name)
        add_review_badge(self.body, shown)
        outcomes_badge.add_alert_badge(self, shown)
        self.body.addWidget(
            _label(
                f"MRN {shown.mrn}  ·  {shown.protocol_name} {shown.progress}",
                "sessionFacts",
                muted=True,
            )
        )
        self._facts(shown)
        add_intake_badge(self.body, shown)
        add_consent_badge(self.body, shown)
        for item in shown.due:
            self._due(item, now)
        self._buttons(shown)

    def _facts(self, shown: BoardSession) -> None:
        timers = timers_text(shown)
        if timers:
            self.body.addWidget(_label(timers, "timers"))
        facts: list[str] = []
        if shown.dose_mg is not None:
            dose = f"{shown.dose_mg.normalize():f} mg"
            if shown.dose_mg_per_kg is not None:
                dose += f" ({shown.dose_mg_per_kg} mg/kg)"
            facts.append(dose + (f" {shown.route.label}" if shown.route else ""))
        if shown.score_kind is not None and shown.score is not None:
            facts.append(f"{shown.score_kind.label} {shown.score}")
        if shown.on_floor:
            facts.append(
                "ride home confirmed" if shown.driver_confirmed else "ride home not yet confirmed"
            )
        if facts:
            self.body.addWidget(_label(" · ".join(facts), "doseFacts", muted=True))

    def _due(self, item: DueItem, now: datetime) -> None:
        label = _label(("⚠ " if item.overdue else "") + due_text(item, now), "dueItem")
        label.setProperty("overdue", "true" if item.overdue else "false")
        label.setProperty("role", "" if item.overdue else "muted")
        self.body.addWidget(label)
        self.due_labels.append(label)

    def _buttons(self, shown: BoardSession) -> None:
        steps = steps_for(shown, self.actor)
        if not steps:
            return
        grid = QGridLayout()
        grid.setSpacing(6)
        for index, step in enumerate(steps):
            grid.addWidget(
                self._button(step, shown), index // BUTTONS_PER_ROW, index % BUTTONS_PER_ROW
            )
        self.body.addSpacing(4)
        self.body.addLayout(grid)

    def _button(self, step: Step, shown: BoardSession) -> QPushButton:
        button = QPushButton(step.label)
        button.setObjectName(f"step_{step.key}")
        if step.primary:
            button.setProperty("role", "primary")
        button.clicked.connect(lambda _checked=False: self.step_requested.emit(step.key, shown))
        self.buttons[step.key] = button
        return button

    def _note_checkout(self, card: ChairCard, now: datetime) -> None:
        """Notice a discharge since the last refresh; forget it once the chair moves on."""
        current = card.current
        shown = {s.session_id for s in (current, card.next_up) if s is not None}
        if self.monitoring is not None and self.monitoring.session_id not in shown:
            self.checked_out = self.monitoring  # only discharge ends monitoring
        left = self.checked_out
        if left is not None and (
            left.local_start.date() != now.date()
            or (current is not None and current.on_floor and current.session_id != left.session_id)
        ):
            self.checked_out = None
        watched = current is not None and current.status is SessionStatus.MONITORING
        self.monitoring = current if watched else None

    def _checkout(self) -> None:
        left = self.checked_out
        steps = checkout_steps(self.actor)
        if left is None or not steps:
            return
        self.body.addSpacing(4)
        self.body.addWidget(_rule())
        self.body.addWidget(
            _label(f"Checked out: {left.patient_name} · MRN {left.mrn}", "checkedOut")
        )
        row = QHBoxLayout()
        for step in steps:
            button = self._button(step, left)
            button.setProperty("role", "primary")  # the desk's one job for this patient now
            row.addWidget(button)
        row.addStretch(1)
        self.body.addLayout(row)

    def _upcoming(self, card: ChairCard) -> None:
        if card.next_up is None and not card.later_today:
            return
        self.body.addSpacing(4)
        self.body.addWidget(_rule())
        if card.next_up is not None:
            upcoming = card.next_up
            label = _label("Next in chair: " + arrival_text(upcoming), "nextUp", muted=True)
            self.body.addWidget(label)
        if card.later_today:
            count = card.later_today
            more = "1 more session" if count == 1 else f"{count} more sessions"
            self.body.addWidget(_label(f"+ {more} later today", "laterToday", muted=True))

    # --- what tests and the view read ------------------------------------------------

    def button(self, key: str) -> QPushButton:
        """The button of step ``key`` (KeyError when the card does not offer it)."""
        return self.buttons[key]

    def due_texts(self) -> list[tuple[str, bool]]:
        """What is due, as shown: ``(text, shown in red)``."""
        return [(label.text(), label.property("overdue") == "true") for label in self.due_labels]
