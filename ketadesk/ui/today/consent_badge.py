"""The consent line on a chair card: "No consent: …" in the error colour when check-in will
be refused, "Consent expires in N days" when the signature lapses within the month.

The words come from :func:`ketadesk.scheduling.consent_check.consent_badges`, read with the
board (:attr:`~ketadesk.scheduling.board.BoardSession.consent`); this module only draws them.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout

from ketadesk.scheduling.board import BoardSession
from ketadesk.ui.style import set_role


def add_consent_badge(body: QVBoxLayout, shown: BoardSession) -> QLabel | None:
    """Add the session's consent line to the card's ``body``; ``None`` when all is well."""
    badge = shown.consent
    if badge is None:
        return None
    label = QLabel(("⚠ " if badge.refused else "") + badge.text)
    label.setObjectName("consentBadge")
    label.setWordWrap(True)
    label.setProperty("overdue", "true" if badge.refused else "false")
    if not badge.refused:
        set_role(label, "warning")
    label.setToolTip(
        "Check-in is refused until the signed form is recorded in the patient's Consent tab."
        if badge.refused
        else "Have the form signed again before it lapses (patient's Consent tab)."
    )
    body.addWidget(label)
    return label
