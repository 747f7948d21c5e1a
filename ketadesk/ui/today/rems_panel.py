"""The side panel "REMS monitoring forms due": forms still to file, overdue ones in red.

Each row names the patient, the session and its due date; roles that may file forms get a
"Filed…" button, which emits :attr:`RemsPanel.file_requested` with the row's
:class:`~ketadesk.scheduling.rems.RemsFormDue` (the Today view opens the dialog).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access.permissions import Actor, Permission
from ketadesk.scheduling.rems import RemsFormDue
from ketadesk.ui.style import ERROR, LINE
from ketadesk.ui.today.card import clear_layout

PANEL_WIDTH = 330
PANEL_STYLE = f"""
QLabel[overdue="true"] {{ color: {ERROR}; font-weight: 600; }}
QFrame#remsRow {{ border: none; border-bottom: 1px solid {LINE}; }}
"""


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def due_words(form: RemsFormDue) -> str:
    """``"Due 12/14 · 3 days left"``, ``"Due today"`` or ``"Overdue by 2 days (due 12/04)"``."""
    due = f"{form.due_on:%m/%d}"
    if form.overdue:
        return f"Overdue by {_days(-form.days_left)} (due {due})"
    if form.days_left == 0:
        return "Due today"
    return f"Due {due} · {_days(form.days_left)} left"


class RemsPanel(QFrame):
    """The REMS forms list; ``file_requested(form)`` when "Filed…" is pressed."""

    file_requested = Signal(object)

    def __init__(self, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actor = actor
        self.setObjectName("card")
        self.setStyleSheet(PANEL_STYLE)
        self.setFixedWidth(PANEL_WIDTH)
        column = QVBoxLayout(self)
        column.setContentsMargins(14, 10, 10, 10)
        title = QLabel("REMS MONITORING FORMS DUE")
        title.setObjectName("sectionTitle")
        column.addWidget(title)
        self.summary = QLabel()
        self.summary.setObjectName("remsSummary")
        self.summary.setWordWrap(True)
        self.summary.setProperty("role", "muted")
        column.addWidget(self.summary)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        self.rows = QVBoxLayout(body)
        self.rows.setContentsMargins(0, 0, 4, 0)
        self.rows.setSpacing(0)
        scroll.setWidget(body)
        column.addWidget(scroll, 1)
        self.forms: tuple[RemsFormDue, ...] = ()
        self.buttons: dict[int, QPushButton] = {}
        self.lines: dict[int, QLabel] = {}

    def show_forms(self, forms: Sequence[RemsFormDue]) -> None:
        self.forms = tuple(forms)
        clear_layout(self.rows)
        self.buttons = {}
        self.lines = {}
        overdue = sum(1 for f in forms if f.overdue)
        if not forms:
            self.summary.setText("Every esketamine session's form is filed.")
        else:
            self.summary.setText(
                f"{len(forms)} to file" + (f", {overdue} overdue" if overdue else "")
            )
        for form in forms:
            self.rows.addWidget(self._row(form))
        self.rows.addStretch(1)

    def _row(self, form: RemsFormDue) -> QFrame:
        row = QFrame()
        row.setObjectName("remsRow")
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 6, 0, 6)
        text = QLabel(
            f"<b>{form.patient_name}</b><br>Session {form.session_day:%m/%d} · "
            f"{form.reference}<br>{due_words(form)}"
        )
        text.setWordWrap(True)
        text.setProperty("overdue", "true" if form.overdue else "false")
        line.addWidget(text, 1)
        self.lines[form.session_id] = text
        if self.actor.can(Permission.FLOOR_CLINICAL):
            button = QPushButton("Filed…")
            button.setObjectName(f"filed_{form.session_id}")
            button.clicked.connect(lambda _checked=False, f=form: self.file_requested.emit(f))
            line.addWidget(button)
            self.buttons[form.session_id] = button
        return row

    def is_red(self, session_id: int) -> bool:
        """Whether the row of ``session_id`` is drawn as overdue."""
        return bool(self.lines[session_id].property("overdue") == "true")
