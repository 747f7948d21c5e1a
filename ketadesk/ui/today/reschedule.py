"""Reschedule a session from the floor (after a failed pre-dose checklist).

:class:`RescheduleDialog` asks :func:`~ketadesk.scheduling.board.reschedule_choices` for the
nearest valid slots around the session's usual time on a chosen day (the next day at
first), lists them, and moves the session to the picked one with
:func:`~ketadesk.billing.actions.move_session` in one ``db.transaction()``, which
re-drafts the series' Good Faith Estimate when its dates change. A slot taken
meanwhile is refused in words, and the list is read again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketadesk.billing.actions import move_session
from ketadesk.errors import KetaDeskError
from ketadesk.scheduling.board import BoardSession, reschedule_choices
from ketadesk.scheduling.proposals import Slot
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import attempt
from ketadesk.ui.style import set_role
from ketadesk.ui.today.dialogs import heading_text

CHOICES = 6


def slot_text(slot: Slot, shown: BoardSession) -> str:
    """``"Tue 12/08/2026 09:00 · Nasal 1 · Dr Osei"`` in the session's local time."""
    local = slot.starts_at.astimezone(shown.local_start.tzinfo)
    return f"{local:%a %m/%d/%Y %H:%M} · {slot.chair_name} · {slot.provider_name}"


class RescheduleDialog(QDialog):
    """Pick one of the nearest free slots on a day, and move the session there."""

    def __init__(
        self,
        context: AppContext,
        shown: BoardSession,
        clock: Callable[[], datetime],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.shown = shown
        self.clock = clock
        self.slots: list[Slot] = []
        self.outcome: object = None
        self.setWindowTitle(f"Reschedule — {shown.reference}")
        self.setMinimumWidth(520)
        column = QVBoxLayout(self)
        column.addWidget(QLabel(heading_text(shown)))
        row = QHBoxLayout()
        row.addWidget(QLabel("Look on"))
        first = shown.local_start.date() + timedelta(days=1)
        self.day = QDateEdit(QDate(first.year, first.month, first.day))
        self.day.setObjectName("rescheduleDay")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd MM/dd/yyyy")
        self.day.dateChanged.connect(lambda _day: self.load())
        row.addWidget(self.day)
        row.addStretch(1)
        column.addLayout(row)
        self.choices = QListWidget()
        self.choices.setObjectName("rescheduleChoices")
        self.choices.setStyleSheet("QListWidget::item { padding: 4px 6px; }")
        self.choices.itemDoubleClicked.connect(lambda _item: self.submit())
        column.addWidget(self.choices)
        self.note = QLabel()
        self.note.setObjectName("rescheduleNote")
        self.note.setWordWrap(True)
        set_role(self.note, "muted")
        column.addWidget(self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.move_button: QPushButton = buttons.addButton(
            "Move here", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.move_button.setObjectName("moveHere")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self.load()

    def picked_day(self) -> date:
        chosen = self.day.date()
        return date(chosen.year(), chosen.month(), chosen.day())

    def load(self) -> None:
        """List the nearest free slots around the session's time on the chosen day."""
        self.choices.clear()
        try:
            with self.context.db.reading() as session:
                self.slots = list(
                    reschedule_choices(
                        session,
                        self.context.actor,
                        self.shown.session_id,
                        self.picked_day(),
                        now=self.clock(),
                        limit=CHOICES,
                    )
                )
        except KetaDeskError as error:
            self.slots = []
            self.note.setText(str(error))
            self.move_button.setEnabled(False)
            return
        nearest = self.slots[0] if self.slots else None
        self.slots.sort(key=lambda slot: slot.starts_at)  # listed by time, nearest chosen
        for slot in self.slots:
            item = QListWidgetItem(slot_text(slot, self.shown))
            item.setData(Qt.ItemDataRole.UserRole, slot)
            self.choices.addItem(item)
        if nearest is not None:
            self.choices.setCurrentRow(self.slots.index(nearest))
            self.note.setText("The nearest free times; pick one and press Move here.")
        else:
            self.note.setText("No free time near that day; try another day.")
        self.move_button.setEnabled(bool(self.slots))

    def submit(self) -> None:
        row = self.choices.currentRow()
        if not 0 <= row < len(self.slots):
            return
        slot = self.slots[row]

        def move() -> object:
            with self.context.db.transaction() as session:
                return move_session(
                    session,
                    self.context.actor,
                    self.shown.session_id,
                    slot.starts_at,
                    now=self.clock(),
                    chair_id=slot.chair_id,
                    provider_id=slot.provider_id,
                    expected_version=self.shown.version,
                )

        outcome = attempt(self, move)
        if outcome is None:
            self.load()
            return
        self.outcome = slot
        self.accept()
