"""The schedule's colours, in one place: a fill per modality, a look per session status.

A block's *fill* says what kind of treatment it is (IV, IM, esketamine, oral, KAP); its
*border, badge and opacity* say where the session stands. Fills are pale so dark text reads
on every one of them; the modality's strong colour is kept for the stripe on the block's
left edge and the legend. Sessions that gave their chair back (cancelled, late-cancelled,
no-show) are drawn faded with a dashed border, so a glance separates them from live ones.

The calendar's own surface (opening hours white, outside hours grey, closed days hatched,
the current-time line) is named here too, so the grid carries no colour literals.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from ketadesk.clinic.models import Modality
from ketadesk.scheduling.models import SessionStatus
from ketadesk.ui import style


@dataclass(frozen=True)
class ModalityColours:
    fill: str  # the block's background: pale, dark text reads on it
    strong: str  # the stripe on the block's left edge, the border, the legend chip
    short: str  # two or three letters for narrow places


MODALITY_COLOURS: dict[Modality, ModalityColours] = {
    Modality.IV: ModalityColours("#dcebfb", "#2f6fb5", "IV"),
    Modality.IM: ModalityColours("#e9e2f9", "#6a4fb8", "IM"),
    Modality.ESKETAMINE: ModalityColours("#d8f1e5", "#1d8554", "ESK"),
    Modality.ORAL: ModalityColours("#fbedd3", "#b06f12", "ORL"),
    Modality.KAP: ModalityColours("#f9e0e8", "#b3385c", "KAP"),
}


@dataclass(frozen=True)
class StatusLook:
    """How a status changes a block: its badge, border and whether it is faded."""

    badge: str  # short word in the block's corner; empty for a plain scheduled session
    short: str  # the badge where the block is too narrow for the word
    border: str  # border colour; empty means the modality's strong colour
    border_width: float
    dashed: bool
    faded: bool
    badge_ink: str = style.INK
    badge_fill: str = "#ffffff"


def _on_the_floor(badge: str, short: str) -> StatusLook:
    """The patient is in the chair: a heavy dark border and a dark badge."""
    return StatusLook(
        badge,
        short,
        style.SIDEBAR,
        2.5,
        False,
        False,
        badge_ink="#ffffff",
        badge_fill=style.SIDEBAR,
    )


STATUS_LOOKS: dict[SessionStatus, StatusLook] = {
    SessionStatus.SCHEDULED: StatusLook("", "", "", 1.0, False, False),
    SessionStatus.CONFIRMED: StatusLook(
        "✓ Confirmed", "✓", "", 2.0, False, False, badge_ink="#ffffff", badge_fill=style.ACCENT
    ),
    SessionStatus.CHECKED_IN: _on_the_floor("Checked in", "In"),
    SessionStatus.DOSING: _on_the_floor("Dosing", "D"),
    SessionStatus.MONITORING: _on_the_floor("Monitoring", "M"),
    SessionStatus.COMPLETED: StatusLook(
        "Done", "✔", "#8896a4", 1.0, False, False, badge_ink=style.MUTED
    ),
    SessionStatus.CANCELLED: StatusLook(
        "Cancelled", "✕", "#8896a4", 1.2, True, True, badge_ink=style.MUTED
    ),
    SessionStatus.LATE_CANCELLED: StatusLook(
        "Late cancel",
        "LC",
        style.WARNING_INK,
        1.2,
        True,
        True,
        badge_ink=style.WARNING_INK,
        badge_fill=style.WARNING_SOFT,
    ),
    SessionStatus.NO_SHOW: StatusLook(
        "No-show", "NS", style.ERROR, 1.2, True, True, badge_ink="#ffffff", badge_fill=style.ERROR
    ),
}

FADED_OPACITY = 0.5

# The calendar's surface.
OPEN_HOURS = style.SURFACE
OUTSIDE_HOURS = "#eceff3"
BEYOND = style.CANVAS  # below the last hour, when the window is taller than the day
CLOSED_DAY = "#e4e8ed"
CLOSED_HATCH = "#d3d9e0"
CLOSED_TEXT = style.MUTED
HOUR_LINE = "#d8dee6"
QUARTER_LINE = "#eef1f4"
COLUMN_LINE = "#e1e6ec"
DAY_LINE = "#9aa8b6"
HEADER_FILL = style.SURFACE
HEADER_TODAY = style.ACCENT_SOFT
HEADER_INK = style.INK
HEADER_MUTED = style.MUTED
NOW_LINE = "#d93025"
TEXT = style.INK
TEXT_MUTED = style.MUTED
DROP_OK = style.ACCENT
HIGHLIGHT = "#f2a900"  # the session in the way, or the session just booked


def fill(modality: Modality) -> QColor:
    return QColor(MODALITY_COLOURS[modality].fill)


def strong(modality: Modality) -> QColor:
    return QColor(MODALITY_COLOURS[modality].strong)


def look(status: SessionStatus) -> StatusLook:
    return STATUS_LOOKS[status]


def border(modality: Modality, status: SessionStatus) -> QColor:
    """The block's border: the status's own colour, else the modality's strong colour."""
    chosen = STATUS_LOOKS[status].border
    return QColor(chosen) if chosen else strong(modality)


def pen_style(status: SessionStatus) -> Qt.PenStyle:
    return Qt.PenStyle.DashLine if STATUS_LOOKS[status].dashed else Qt.PenStyle.SolidLine
