"""The chart's Intake tab: the current intake assessment, its findings and state.

Flow: :meth:`IntakePanel.set_patient` remembers whose chart is open and reads when the tab
is shown (:meth:`IntakePanel.refresh`): one audited read
(:func:`~ketadesk.clinic.intake.assessments.intake_view`) copies the intake into a frozen
view, which the panel draws: the state ("Intake valid until…", "due in N days", "expired",
none), the findings coloured by what they do (absolute and not overridden in red, relative
in amber, overridden muted) with their overrides, the medications with the interactions
found, the baseline vitals and weight. "New intake…" opens
:class:`~ketadesk.ui.patients.intake_dialogs.IntakeDialog`, "Override…"
:class:`~ketadesk.ui.patients.intake_dialogs.OverrideDialog`; each saves through the
services in one transaction and the tab reads again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access.permissions import Permission
from ketadesk.clinic.intake.assessments import IntakeView, intake_view
from ketadesk.clinic.intake.findings import Finding
from ketadesk.clinic.intake.models import FindingRule
from ketadesk.clinic.intake.state import IntakeStatus
from ketadesk.ui.billing import make_table
from ketadesk.ui.context import AppContext
from ketadesk.ui.style import ERROR, MUTED, WARNING_INK, WARNING_SOFT, set_role

ABSOLUTE_SOFT = "#fbe4e2"
STATE_INK = {
    IntakeStatus.VALID: MUTED,
    IntakeStatus.DUE: WARNING_INK,
    IntakeStatus.EXPIRED: ERROR,
    IntakeStatus.MISSING: WARNING_INK,
}


def finding_colours(finding: Finding) -> tuple[str, str]:
    """(ink, background) of a finding's row: what it does, at a glance."""
    if finding.blocks:
        return ERROR, ABSOLUTE_SOFT
    if finding.rule is FindingRule.ABSOLUTE:
        return MUTED, "#eef1f4"  # overridden by a provider
    return WARNING_INK, WARNING_SOFT


def rule_words(finding: Finding) -> str:
    if finding.rule is FindingRule.ABSOLUTE:
        return "Absolute — overridden" if finding.override else "Absolute — stops dosing"
    return "Relative — acknowledge"


class IntakePanel(QWidget):
    """The Intake tab of one patient's chart."""

    def __init__(
        self,
        context: AppContext,
        parent: QWidget | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("intakePanel")
        self.context = context
        self.today = today
        self.patient_id: int | None = None
        self.view: IntakeView | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 8, 6, 4)
        column.setSpacing(8)
        column.addLayout(self._head())
        self.signed = QLabel()
        self.signed.setObjectName("intakeSigned")
        self.signed.setWordWrap(True)
        set_role(self.signed, "muted")
        column.addWidget(self.signed)
        self.vitals = QLabel()
        self.vitals.setObjectName("intakeVitals")
        column.addWidget(self.vitals)
        column.addWidget(QLabel("Findings"))
        self.findings = make_table(
            ("Finding", "Rule", "Details", "Override"), stretch=3, object_name="intakeFindings"
        )
        self.findings.setWordWrap(True)
        header = self.findings.horizontalHeader()
        for index in (0, 1):
            header.setSectionResizeMode(index, QHeaderView.ResizeMode.ResizeToContents)
        for index in (2, 3):
            header.setSectionResizeMode(index, QHeaderView.ResizeMode.Stretch)
        header.sectionResized.connect(lambda *_: self.findings.resizeRowsToContents())
        column.addWidget(self.findings, 2)
        column.addWidget(QLabel("Medications"))
        self.medications = make_table(
            ("Medication", "Dose", "Interactions"), stretch=2, object_name="intakeMedications"
        )
        column.addWidget(self.medications, 1)

    def _head(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.state = QLabel()
        self.state.setObjectName("intakeState")
        self.state.setStyleSheet("font-weight: 600;")
        row.addWidget(self.state, 1)
        self.new_button = QPushButton("New intake…")
        self.new_button.setObjectName("newIntake")
        self.new_button.clicked.connect(self.new_intake)
        self.override_button = QPushButton("Override…")
        self.override_button.setObjectName("overrideFinding")
        self.override_button.clicked.connect(self.override)
        actor = self.context.actor
        if not actor.can(Permission.CLINICAL_RECORD):
            self.new_button.setEnabled(False)
            self.new_button.setToolTip(f"Your role ({actor.role.label}) may not record intakes.")
        row.addWidget(self.new_button)
        row.addWidget(self.override_button)
        return row

    # --- reading ------------------------------------------------------------------------

    def set_patient(self, patient_id: int) -> None:
        self.patient_id = patient_id
        self.view = None
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.view is None and self.patient_id is not None:
            self.refresh()

    def refresh(self) -> None:
        if self.patient_id is None:
            return
        with self.context.db.transaction() as session:  # the read is audited
            self.view = intake_view(session, self.context.actor, self.patient_id, self.today())
        self.show_view(self.view)

    def show_view(self, view: IntakeView) -> None:
        self.state.setText(view.state.text)
        self.state.setStyleSheet(f"font-weight: 600; color: {STATE_INK[view.state.status]};")
        current = view.current
        blocking = bool(current and any(f.blocks for f in current.findings))
        may_decide = self.context.actor.can(Permission.CLINICAL_DECIDE)
        self.override_button.setEnabled(blocking and may_decide)
        self.override_button.setToolTip(
            "" if blocking else "Only an absolute finding not yet overridden needs a decision."
        )
        if current is None:
            self.signed.setText("Record the patient's intake with “New intake…”.")
            self.vitals.setText("")
            self.findings.setRowCount(0)
            self.medications.setRowCount(0)
            return
        self.signed.setText(
            f"Assessed {current.assessed_on:%d %b %Y} by {current.provider} · recorded by "
            f"{current.recorded_by}"
            + (f" · {len(view.history) - 1} earlier intake(s)" if len(view.history) > 1 else "")
        )
        self.vitals.setText(
            f"Baseline: BP {current.systolic}/{current.diastolic} · heart rate "
            f"{current.heart_rate} · weight {current.weight_kg} kg"
        )
        self._fill_findings(current.findings)
        self._fill(
            self.medications,
            [[m.name, m.dose, ", ".join(m.interactions)] for m in current.medications],
        )

    def _fill_findings(self, findings: tuple[Finding, ...]) -> None:
        rows = [
            [
                f.label,
                rule_words(f),
                f.details,
                f"{f.override.provider}: {f.override.reason}" if f.override else "",
            ]
            for f in findings
        ]
        self._fill(self.findings, rows)
        for index, finding in enumerate(findings):
            ink, fill = finding_colours(finding)
            for column in range(self.findings.columnCount()):
                item = self.findings.item(index, column)
                if item is None:
                    continue
                item.setForeground(QBrush(QColor(ink)))
                item.setBackground(QBrush(QColor(fill)))
        self.findings.resizeRowsToContents()

    @staticmethod
    def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                table.setItem(r, c, item)

    # --- actions ------------------------------------------------------------------------

    def new_intake(self) -> None:
        from ketadesk.ui.patients.intake_dialogs import IntakeDialog

        if self.patient_id is None:
            return
        dialog = IntakeDialog(self.context, self.patient_id, self.today(), self)
        if dialog.exec():
            self.refresh()

    def override(self) -> None:
        from ketadesk.ui.patients.intake_dialogs import OverrideDialog

        if self.view is None or self.view.current is None:
            return
        blocking = [f for f in self.view.current.findings if f.blocks]
        dialog = OverrideDialog(self.context, self.view.patient_id, blocking, self)
        if dialog.exec():
            self.refresh()
