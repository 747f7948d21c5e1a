"""The chair card's "Review needed" line for a patient awaiting a provider's review.

A serious side effect flags the patient (:mod:`ketadesk.scheduling.side_effects.review`);
the board carries the words on :attr:`~ketadesk.scheduling.board.BoardSession.review_needed`
and the card draws them here, in the warning colours, with the whole sentence as the tooltip
and the full text wrapped, so the nurse sees it before the checklist refuses the dose.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout

from ketadesk.scheduling.board import BoardSession
from ketadesk.ui.style import set_role


def add_review_badge(body: QVBoxLayout, shown: BoardSession) -> QLabel | None:
    """Add the "Review needed" line to a card's ``body`` when ``shown``'s patient needs one."""
    if not shown.review_needed:
        return None
    label = QLabel(
        "⚠ Review needed — " + shown.review_needed.removeprefix("Provider review needed: ")
    )
    label.setObjectName("reviewNeeded")
    label.setWordWrap(True)
    label.setToolTip(shown.review_needed)
    set_role(label, "warning")
    body.addWidget(label)
    return label
