"""The intake's line on a Today card: "Intake expired", "Intake due in N days", an
absolute finding waiting for a provider's override, or that the intake is in order.

The words and the level come from :func:`ketadesk.scheduling.candidacy.board_intake`
(read once for the whole board); this module only draws them.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout

from ketadesk.scheduling.board import BoardSession
from ketadesk.ui.style import ERROR, MUTED, WARNING_INK, WARNING_SOFT

# (ink, background) of each level: a stop in red, what needs doing soon in amber.
LEVEL_COLOURS = {
    "stop": (ERROR, "#fbe4e2"),
    "warn": (WARNING_INK, WARNING_SOFT),
    "due": (WARNING_INK, WARNING_SOFT),
    "ok": (MUTED, "transparent"),
}


def add_intake_badge(column: QVBoxLayout, shown: BoardSession) -> QLabel | None:
    """Add the intake's line for ``shown`` to the card's ``column``; none without one."""
    if shown.intake is None:
        return None
    ink, fill = LEVEL_COLOURS.get(shown.intake.level, LEVEL_COLOURS["ok"])
    prefix = "⚠ " if shown.intake.level in ("stop", "warn") else ""
    label = QLabel(prefix + shown.intake.text)
    label.setObjectName("intakeBadge")
    label.setWordWrap(True)
    label.setProperty("level", shown.intake.level)
    boxed = shown.intake.level != "ok"  # in order: a plain line like the card's others
    label.setStyleSheet(
        f"color: {ink};"
        + (f" background: {fill}; border-radius: 6px; padding: 1px 6px;" if boxed else "")
        + (" font-weight: 600;" if shown.intake.level == "stop" else "")
    )
    column.addWidget(label)
    return label
