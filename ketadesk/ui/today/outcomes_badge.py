"""The PHQ-9 item-9 alert on a Today card, and the dialog that acknowledges it.

:func:`add_alert_badge` puts a red line on the card of a patient with an open alert
(``BoardSession.safety_alerts``) and, for someone who may acknowledge it, an "Acknowledge
alert…" button; the button asks the board for the step ``ack_alert``, which opens
:class:`AcknowledgeAlertDialog`. The note is required: the service refuses a blank one,
and the dialog shows that refusal beside the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QPushButton
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Permission
from ketadesk.scheduling.board import BoardSession
from ketadesk.scheduling.outcomes import alerts
from ketadesk.ui.style import ERROR
from ketadesk.ui.today.dialogs import FloorDialog, Typed

if TYPE_CHECKING:
    from ketadesk.ui.forms import FieldForm
    from ketadesk.ui.today.card import ChairCardWidget

ACK_STEP = "ack_alert"
BADGE_STYLE = (
    f"color: {ERROR}; background: #fdecea; border: 1px solid {ERROR}; border-radius: 4px;"
    " padding: 4px 8px; font-weight: 600;"
)


def badge_text(shown: BoardSession) -> str:
    """``"⚠ Self-harm alert: PHQ-9 item 9 … answered 2 (PHQ-9 total 18), 10:05"``."""
    first = shown.safety_alerts[0]
    when = first.raised_at.astimezone(shown.local_start.tzinfo)
    more = len(shown.safety_alerts) - 1
    text = f"⚠ Self-harm alert: {first.words}, {when:%m/%d %H:%M}"
    return text + (f" (+{more} more open)" if more else "")


def add_alert_badge(card: ChairCardWidget, shown: BoardSession) -> None:
    """The alert line and its button on ``card``, when ``shown``'s patient has one open."""
    if not shown.safety_alerts:
        return
    label = QLabel(badge_text(shown))
    label.setObjectName("safetyAlert")
    label.setWordWrap(True)
    label.setStyleSheet(BADGE_STYLE)
    card.body.addWidget(label)
    if card.actor.can(Permission.CLINICAL_DECIDE):
        button = QPushButton("Acknowledge alert…")
        button.setObjectName(f"step_{ACK_STEP}")
        button.clicked.connect(lambda _checked=False: card.step_requested.emit(ACK_STEP, shown))
        card.buttons[ACK_STEP] = button
        card.body.addWidget(button)


class AcknowledgeAlertDialog(FloorDialog):
    """Acknowledge the patient's oldest open alert with a note of what was done."""

    ok_text = "Acknowledge"

    def build(self, form: FieldForm) -> None:
        alert = self.shown.safety_alerts[0]
        when: datetime = alert.raised_at.astimezone(self.shown.local_start.tzinfo)
        said = QLabel(f"{alert.reference}: {alert.words}, raised {when:%m/%d/%Y %H:%M}.")
        said.setWordWrap(True)
        self.column.addWidget(said)
        form.add_multiline(
            "note", "What was done", placeholder="e.g. Safety plan reviewed; no intent or plan"
        )

    def act(self, session: Session, typed: Typed) -> object:
        note = str(self.form.values()["note"])
        alert = self.shown.safety_alerts[0]
        return alerts.acknowledge(
            session, self.context.actor, alert.alert_id, note, now=self.clock()
        )
