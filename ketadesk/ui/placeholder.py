"""An honest page for an area that is not built yet: what will be there, and that it isn't.

The main window shows one of these for an area that has no view of its own yet. It
has no buttons, so nobody clicks something that does nothing.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ketadesk.ui.style import set_role

NOT_YET = "Not available yet in this version."

# area key -> (title, one sentence of what the area will hold)
PLANNED: dict[str, tuple[str, str]] = {
    "billing": (
        "Billing",
        "Charges, invoices, payments, packages, Good Faith Estimates, superbills and "
        "insurance claims.",
    ),
    "settings": (
        "Settings",
        "Clinic setup: locations and their hours, chairs, providers, payers and users.",
    ),
}


class PlaceholderView(QWidget):
    """Title, one sentence, and "Not available yet in this version." — nothing to click."""

    def __init__(self, title: str, description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(32, 28, 32, 28)
        heading = QLabel(title)
        heading.setObjectName("pageTitle")
        outer.addWidget(heading)
        outer.addSpacing(12)
        card = QFrame()
        card.setObjectName("card")
        inside = QVBoxLayout(card)
        inside.setContentsMargins(22, 18, 22, 18)
        self.description = QLabel(description)
        self.description.setWordWrap(True)
        self.notice = QLabel(NOT_YET)
        set_role(self.notice, "muted")
        inside.addWidget(self.description)
        inside.addSpacing(6)
        inside.addWidget(self.notice)
        card.setMaximumWidth(640)
        row = QHBoxLayout()
        row.addWidget(card, 1)
        row.addStretch(0)
        outer.addLayout(row)
        outer.addStretch(1)


def placeholder_for(key: str) -> PlaceholderView:
    """The placeholder page of area ``key`` (one of :data:`PLANNED`)."""
    title, description = PLANNED[key]
    return PlaceholderView(title, description)
