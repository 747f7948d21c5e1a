"""The card: a white panel with a small capitalised heading, the window's one way to group
a section (a patient's insurance, a billing tab's list, a batch's result).

The look comes from the style sheet (``QFrame#card``, ``QLabel#sectionTitle`` in
:mod:`ketadesk.ui.style`); this module only builds the frame, its heading and the column
the caller fills.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

ROOMY = (16, 10, 16, 12)  # margins of a card that holds a record's fields
COMPACT = (12, 8, 12, 12)  # margins of a card that holds a table in a tab


def section_card(
    title: str, margins: tuple[int, int, int, int] = ROOMY, spacing: int | None = None
) -> tuple[QFrame, QVBoxLayout]:
    """A card headed ``title`` (shown in capitals) and the column to add its widgets to.

    ``margins`` are left, top, right, bottom in pixels; ``spacing`` between the widgets of
    the column, the style's own when ``None``.
    """
    frame = QFrame()
    frame.setObjectName("card")
    column = QVBoxLayout(frame)
    column.setContentsMargins(*margins)
    if spacing is not None:
        column.setSpacing(spacing)
    heading = QLabel(title.upper())
    heading.setObjectName("sectionTitle")
    column.addWidget(heading)
    return frame, column
