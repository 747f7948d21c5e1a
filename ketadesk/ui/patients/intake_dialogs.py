"""The Intake tab's dialogs: a new intake assessment, and a provider's override.

:class:`IntakeDialog` asks the structured questions as checkboxes, each with a line for
details; the medications one per line ("Lorazepam 1 mg", split by
:func:`~ketadesk.clinic.intake.assessments.split_medication`); the baseline vitals and
weight. :class:`OverrideDialog` asks which absolute finding, which provider decides, and
the reason, which is required. Both save through the services in one transaction; a
refusal is listed in words inside the dialog, which stays open, and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ketadesk.clinic.intake.assessments import (
    IntakeInput,
    override_finding,
    record_intake,
    split_medication,
)
from ketadesk.clinic.intake.conditions import conditions
from ketadesk.clinic.intake.findings import Finding
from ketadesk.clinic.providers import list_providers
from ketadesk.errors import KetaDeskError, ValidationError
from ketadesk.ui.context import AppContext
from ketadesk.ui.style import set_role

MEDICATIONS_HEIGHT = 120  # about six lines; the questions keep the room
FIELD_WORDS = {
    "assessed_on": "Date",
    "provider": "Provider",
    "systolic": "Systolic",
    "diastolic": "Diastolic",
    "heart_rate": "Heart rate",
    "weight": "Weight",
    "medications": "Medications",
    "findings": "Findings",
    "reason": "Reason",
}


def problem_text(error: KetaDeskError) -> str:
    """Every problem on its own line, named as the dialog names its fields."""
    if isinstance(error, ValidationError):
        return "\n".join(
            f"{FIELD_WORDS.get(p.field, p.field.split(':')[-1].replace('_', ' ').capitalize())}: "
            f"{p.message}"
            for p in error.problems
        )
    return str(error)


def provider_choices(context: AppContext) -> list[tuple[str, int]]:
    with context.db.reading() as session:
        return [(p.display_name, p.id) for p in list_providers(session, context.actor)]


def _add_foot(dialog: QDialog, column: QVBoxLayout, save: Callable[[], None]) -> QLabel:
    """The dialog's foot: where refusals are listed (returned), then Save and Cancel."""
    label = QLabel()
    label.setObjectName("problems")
    label.setWordWrap(True)
    set_role(label, "error")
    label.hide()
    column.addWidget(label)
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.accepted.connect(save)
    buttons.rejected.connect(dialog.reject)
    column.addWidget(buttons)
    return label


class IntakeDialog(QDialog):
    """A new intake assessment for one patient; it supersedes the current one."""

    def __init__(
        self, context: AppContext, patient_id: int, today: date, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New intake assessment")
        self.context, self.patient_id, self.today = context, patient_id, today
        self.saved_id: int | None = None
        column = QVBoxLayout(self)
        column.addLayout(self._signature())
        column.addWidget(QLabel("Medical history — tick what is present, note the details:"))
        column.addWidget(self._questions(), 3)
        column.addLayout(self._lower(), 1)
        self.problems = _add_foot(self, column, self.save)
        self.resize(760, 720)

    def _signature(self) -> QFormLayout:
        form = QFormLayout()
        self.provider = QComboBox()
        self.provider.setObjectName("intakeProvider")
        for name, provider_id in provider_choices(self.context):
            self.provider.addItem(name, provider_id)
        self.day = QDateEdit(QDate(self.today.year, self.today.month, self.today.day))
        self.day.setObjectName("intakeDay")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("MM/dd/yyyy")
        form.addRow("Assessed by", self.provider)
        form.addRow("Date", self.day)
        return form

    def _questions(self) -> QScrollArea:
        body = QWidget()
        grid = QGridLayout(body)
        grid.setColumnStretch(1, 1)
        self.checks: dict[str, QCheckBox] = {}
        self.details: dict[str, QLineEdit] = {}
        for row, condition in enumerate(conditions()):
            check = QCheckBox(condition.label)
            check.setObjectName(f"condition_{condition.key}")
            details = QLineEdit()
            details.setObjectName(f"details_{condition.key}")
            details.setPlaceholderText("details (optional)")
            details.setEnabled(False)
            check.toggled.connect(details.setEnabled)
            grid.addWidget(check, row, 0)
            grid.addWidget(details, row, 1)
            self.checks[condition.key], self.details[condition.key] = check, details
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        return scroll

    def _lower(self) -> QHBoxLayout:
        row = QHBoxLayout()
        meds = QVBoxLayout()
        meds.addWidget(QLabel("Current medications, one a line (name and dose):"))
        self.medications = QPlainTextEdit()
        self.medications.setObjectName("intakeMedications")
        self.medications.setPlaceholderText("Lorazepam 1 mg\nSertraline 100 mg")
        self.medications.setMaximumHeight(MEDICATIONS_HEIGHT)
        meds.addWidget(self.medications)
        row.addLayout(meds, 2)
        vitals = QFormLayout()
        self.systolic, self.diastolic = QLineEdit(), QLineEdit()
        self.heart_rate, self.weight = QLineEdit(), QLineEdit()
        pressure = QHBoxLayout()
        pressure.addWidget(self.systolic)
        pressure.addWidget(QLabel("/"))
        pressure.addWidget(self.diastolic)
        vitals.addRow("Blood pressure", pressure)
        vitals.addRow("Heart rate", self.heart_rate)
        vitals.addRow("Weight (kg)", self.weight)
        vitals.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in ("systolic", "diastolic", "heart_rate", "weight"):
            getattr(self, name).setObjectName(f"intake_{name}")
        row.addLayout(vitals, 1)
        return row

    def intake_input(self) -> IntakeInput:
        """What was entered; a medication line without a name is a :class:`ValidationError`."""
        lines = [line for line in self.medications.toPlainText().splitlines() if line.strip()]
        qday = self.day.date()
        return IntakeInput(
            provider_id=self.provider.currentData() or 0,
            assessed_on=date(qday.year(), qday.month(), qday.day()),
            findings=self.findings_entered(),
            medications=[split_medication(line) for line in lines],
            systolic=self.systolic.text(),
            diastolic=self.diastolic.text(),
            heart_rate=self.heart_rate.text(),
            weight=self.weight.text(),
        )

    def findings_entered(self) -> dict[str, str]:
        return {k: self.details[k].text() for k, box in self.checks.items() if box.isChecked()}

    def save(self) -> None:
        try:
            data = self.intake_input()
            with self.context.db.transaction() as session:
                made = record_intake(
                    session, self.context.actor, self.patient_id, data, today=self.today
                )
                self.saved_id = made.id
        except KetaDeskError as error:
            self.problems.setText(problem_text(error))
            self.problems.show()
            return
        self.accept()


class OverrideDialog(QDialog):
    """A provider's written reason that an absolute finding does not stop dosing."""

    def __init__(
        self,
        context: AppContext,
        patient_id: int,
        findings: Sequence[Finding],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Override an absolute finding")
        self.context, self.patient_id = context, patient_id
        column = QVBoxLayout(self)
        form = QFormLayout()
        self.finding = QComboBox()
        self.finding.setObjectName("overrideFinding")
        for finding in findings:
            self.finding.addItem(finding.label, finding.key)
        self.provider = QComboBox()
        self.provider.setObjectName("overrideProvider")
        for name, provider_id in provider_choices(context):
            self.provider.addItem(name, provider_id)
        self.reason = QPlainTextEdit()
        self.reason.setObjectName("overrideReason")
        self.reason.setPlaceholderText("Why dosing may go ahead (required)")
        form.addRow("Finding", self.finding)
        form.addRow("Provider", self.provider)
        form.addRow("Reason", self.reason)
        column.addLayout(form)
        self.problems = _add_foot(self, column, self.save)
        self.resize(520, 320)

    def save(self) -> None:
        try:
            with self.context.db.transaction() as session:
                override_finding(
                    session,
                    self.context.actor,
                    self.patient_id,
                    self.finding.currentData() or "",
                    self.provider.currentData() or 0,
                    self.reason.toPlainText(),
                )
        except KetaDeskError as error:
            self.problems.setText(problem_text(error))
            self.problems.show()
            return
        self.accept()
