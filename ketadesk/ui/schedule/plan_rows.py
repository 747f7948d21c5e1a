"""The proposed sessions of a series plan, one row each, with their problems and alternatives.

:class:`PlanRows` shows a :class:`~ketadesk.scheduling.proposals.SeriesPlan`: for every
session its number, day and time, chair and provider, and beneath it, in words, the
problems the planner met (amber when the session was moved, red when it could not be
placed). A session with alternatives gets a drop-down; picking one applies
:meth:`SeriesPlan.choose` to a copy of the plan (:meth:`PlanRows.current_plan`), so the
planner's own answer is never lost and "keep the proposed time" undoes the choice.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QScrollArea, QWidget

from ketadesk.scheduling.proposals import ProposedSession, SeriesPlan, Slot
from ketadesk.ui import style
from ketadesk.ui.schedule.text import day_heading, slot_text, span
from ketadesk.ui.style import set_role

HEADINGS = ("#", "Day and time", "Chair", "Provider", "Instead")


def slot_cells(slot: Slot | None, zone: ZoneInfo) -> tuple[str, str, str]:
    """Day and time, chair, provider of ``slot`` (``"Not placed"`` without one)."""
    if slot is None:
        return "Not placed", "—", "—"
    start, end = slot.starts_at.astimezone(zone), slot.ends_at.astimezone(zone)
    when = f"{day_heading(start.date())}, {span(start.time(), end.time())}"
    return when, slot.chair_name, slot.provider_name


class PlanRows(QScrollArea):
    """The sessions of one plan (see the module docstring)."""

    changed = Signal()  # a different alternative was picked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("proposals")
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.StyledPanel)
        self.plan: SeriesPlan | None = None
        self.chosen: dict[int, Slot] = {}
        self.cells: dict[int, tuple[QLabel, QLabel, QLabel]] = {}
        self.notes: dict[int, QLabel] = {}
        self.boxes: dict[int, QComboBox] = {}

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.plan.time_zone if self.plan else "UTC")

    def show_plan(self, plan: SeriesPlan | None) -> None:
        """Show ``plan`` (``None``: nothing), forgetting any alternative picked before."""
        self.plan, self.chosen = plan, {}
        self.cells, self.notes, self.boxes = {}, {}, {}
        inner = QWidget()
        inner.setObjectName("planRows")
        inner.setStyleSheet(f"QWidget#planRows {{ background: {style.SURFACE}; }}")
        grid = QGridLayout(inner)
        grid.setContentsMargins(12, 8, 12, 8)
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(2)
        for column, text in enumerate(HEADINGS):
            heading = QLabel(text)
            heading.setObjectName("sectionTitle")
            grid.addWidget(heading, 0, column)
        for index, proposed in enumerate(plan.sessions if plan else ()):
            self._add_row(grid, 1 + 2 * index, proposed)
        grid.setColumnStretch(3, 1)
        grid.setRowStretch(2 + 2 * len(plan.sessions if plan else ()), 1)
        self.setWidget(inner)

    def _add_row(self, grid: QGridLayout, row: int, proposed: ProposedSession) -> None:
        number = QLabel(str(proposed.number))
        labels = (QLabel(), QLabel(), QLabel())
        grid.addWidget(number, row, 0)
        for column, label in enumerate(labels, start=1):
            grid.addWidget(label, row, column)
        note = QLabel()
        note.setWordWrap(True)
        note.setContentsMargins(0, 0, 0, 6)
        grid.addWidget(note, row + 1, 1, 1, 4)
        self.cells[proposed.number], self.notes[proposed.number] = labels, note
        if proposed.alternatives:
            box = self._alternatives(proposed)
            grid.addWidget(box, row, 4)
            self.boxes[proposed.number] = box
        self._fill(proposed)

    def _alternatives(self, proposed: ProposedSession) -> QComboBox:
        """A drop-down of ``proposed``'s alternatives, first "keep" (or "choose").

        Slots are looked up by row, never stored as item data: PySide6 hands an empty
        item's data back as a ``None`` it does not own.
        """
        box = QComboBox()
        box.setObjectName(f"alternatives{proposed.number}")
        box.addItem("Keep the proposed time" if proposed.slot else "Choose a time…")
        box.addItems([slot_text(slot, self._zone()) for slot in proposed.alternatives])
        box.currentIndexChanged.connect(
            lambda index, proposed=proposed: self.choose(
                proposed.number, proposed.alternatives[index - 1] if index > 0 else None
            )
        )
        return box

    def _fill(self, proposed: ProposedSession) -> None:
        """The row of ``proposed``: its slot, or the alternative picked instead."""
        slot = self.chosen.get(proposed.number, proposed.slot)
        for label, text in zip(
            self.cells[proposed.number], slot_cells(slot, self._zone()), strict=True
        ):
            label.setText(text)
            set_role(label, "error" if slot is None else "")
        note = self.notes[proposed.number]
        if proposed.number in self.chosen:
            note.setText("Your choice.")
            note.setStyleSheet(f"color: {style.MUTED};")
        else:
            note.setText("\n".join(proposed.problems))
            note.setStyleSheet(f"color: {style.ERROR if slot is None else style.WARNING_INK};")
        note.setVisible(bool(note.text()))

    def choose(self, number: int, slot: Slot | None) -> None:
        """Use ``slot`` for session ``number`` (``None``: back to the proposal)."""
        if slot is None:
            self.chosen.pop(number, None)
        else:
            self.chosen[number] = slot
        proposed = (
            next((s for s in self.plan.sessions if s.number == number), None)
            if (self.plan)
            else None
        )
        if proposed is not None:
            self._fill(proposed)
        self.changed.emit()

    def current_plan(self) -> SeriesPlan | None:
        """The plan with the alternatives picked so far."""
        plan = self.plan
        for number, slot in self.chosen.items():
            plan = plan.choose(number, slot) if plan else None
        return plan

    def day_texts(self) -> list[str]:
        """The day and time shown for each session, in order."""
        return [labels[0].text() for labels in self.cells.values()]

    def note_text(self, number: int) -> str:
        return self.notes[number].text()

    def alternatives_box(self, number: int) -> QComboBox:
        """The drop-down of session ``number``'s alternatives (``LookupError`` without)."""
        if number not in self.boxes:
            raise LookupError(f"session {number} has no alternatives")
        return self.boxes[number]
