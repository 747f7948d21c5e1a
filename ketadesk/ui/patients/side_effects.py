"""The patient chart's "Side effects" section, with "Clear review…" for a provider.

:class:`SideEffectsPanel` reads :func:`~ketadesk.scheduling.side_effects.chart.side_effect_chart`
(read-only: the chart's opening of the record was audited) and shows the review state
first -- "Provider review needed: …" in the warning colours while one is pending -- then one
wrapped line per side effect, newest first (a serious one in red), then the clearances.
"Clear review…" opens :class:`ClearReviewDialog`, whose note is required; it is offered only
while a review is pending and to roles that may clear one (``CLINICAL_DECIDE``). The service
checks both again.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access.permissions import Permission
from ketadesk.scheduling.side_effects.chart import (
    SideEffectChart,
    SideEffectLine,
    side_effect_chart,
)
from ketadesk.scheduling.side_effects.review import clear_review
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import us_date
from ketadesk.ui.forms import FieldForm, attempt
from ketadesk.ui.style import ERROR, set_role


def line_text(line: SideEffectLine) -> str:
    """``"12/07/2026 09:30 · S-1, 25 min after the dose · Vomiting (severe, serious) · done:
    ondansetron 4 mg IV · nurse-kim"``."""
    when = f"{us_date(line.onset.date())} {line.onset:%H:%M} · {line.session_reference}"
    if line.minutes_after_dose is not None:
        when += f", {line.minutes_after_dose} min after the dose"
    what = line.kind_label + (f": {line.detail}" if line.detail else "")
    grade = line.severity + (", serious" if line.serious else "")
    parts = [when, f"{what} ({grade})"]
    if line.action:
        parts.append(f"done: {line.action}")
    parts.append(line.recorded_by + (f" (corrects {line.corrects})" if line.corrects else ""))
    return " · ".join(parts)


class SideEffectsPanel(QWidget):
    """The open patient's side effects, review state and clearances."""

    cleared = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.patient_id: int | None = None
        self.chart: SideEffectChart | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        top = QHBoxLayout()
        self.review = QLabel()
        self.review.setObjectName("sideEffectReview")
        self.review.setWordWrap(True)
        top.addWidget(self.review, 1)
        self.clear_button = QPushButton("Clear review…")
        self.clear_button.setObjectName("clearReview")
        self.clear_button.clicked.connect(self.open_clear)
        top.addWidget(self.clear_button)
        column.addLayout(top)
        self.lines = QVBoxLayout()
        self.lines.setSpacing(4)
        column.addLayout(self.lines)
        column.addStretch(1)  # in a taller space the lines stay together at the top

    def set_patient(self, patient_id: int) -> None:
        """Read and show ``patient_id``'s side effects."""
        self.patient_id = patient_id
        with self.context.db.reading() as session:  # the chart's opening was audited
            chart = side_effect_chart(session, self.context.actor, patient_id)
        self.show_chart(chart)

    def show_chart(self, chart: SideEffectChart) -> None:
        self.chart = chart
        pending = bool(chart.review_needed)
        self.review.setText(chart.review_needed or "No provider review pending.")
        set_role(self.review, "warning" if pending else "muted")
        may_clear = self.context.actor.can(Permission.CLINICAL_DECIDE)
        self.clear_button.setVisible(pending and may_clear)
        while (item := self.lines.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        if not chart.side_effects:
            self._add("No side effects recorded.", muted=True)
        for line in chart.side_effects:
            label = self._add(line_text(line))
            if line.serious:
                label.setStyleSheet(f"color: {ERROR};")
        for clearance in chart.clearances:
            self._add(
                f"Review cleared {us_date(clearance.cleared_at.date())} "
                f"{clearance.cleared_at:%H:%M} by {clearance.cleared_by}: {clearance.note}",
                muted=True,
            )

    def _add(self, text: str, *, muted: bool = False) -> QLabel:
        label = QLabel(text)
        label.setObjectName("sideEffectLine")
        label.setWordWrap(True)
        if muted:
            set_role(label, "muted")
        self.lines.addWidget(label)
        return label

    def line_texts(self) -> list[str]:
        """What the section lists, as shown (for tests)."""
        found = []
        for index in range(self.lines.count()):
            item = self.lines.itemAt(index)
            widget = item.widget() if item is not None else None
            if isinstance(widget, QLabel):
                found.append(widget.text())
        return found

    def open_clear(self) -> ClearReviewDialog | None:
        """Open the clearing dialog for the open patient (returned, for tests)."""
        if self.patient_id is None or self.chart is None:
            return None
        dialog = ClearReviewDialog(self.context, self.patient_id, self.chart.review_needed, self)
        dialog.accepted.connect(self._after_clear)
        dialog.open()
        return dialog

    def _after_clear(self) -> None:
        if self.patient_id is not None:
            self.set_patient(self.patient_id)
        self.cleared.emit()


class ClearReviewDialog(QDialog):
    """A provider's note clearing the review; OK runs :func:`clear_review`."""

    def __init__(
        self, context: AppContext, patient_id: int, review: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.patient_id = patient_id
        self.setWindowTitle("Clear provider review")
        self.setMinimumWidth(480)
        column = QVBoxLayout(self)
        heading = QLabel(review)
        heading.setObjectName("dialogHeading")
        heading.setWordWrap(True)
        column.addWidget(heading)
        self.form = FieldForm()
        self.form.add_multiline(
            "note", "Provider's note", placeholder="why the next dose may go ahead"
        )
        column.addWidget(self.form)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Clear review")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        column.addWidget(self.buttons)

    def submit(self) -> None:
        def run() -> object:
            note = str(self.form.values().get("note") or "")
            with self.context.db.transaction() as session:
                return clear_review(session, self.context.actor, self.patient_id, note)

        if attempt(self, run, self.form) is not None:
            self.accept()
