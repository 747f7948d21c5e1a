"""The patient form: every field of :data:`ketadesk.clinic.patients.PATIENT_FIELDS`.

:class:`PatientForm` lays the fields out in five sections (Identity; Contact; Emergency
contact & driver; Clinical; Notes). Sex, state and home location are drop-downs, screening
flags are check boxes, dates are typed (ISO or US style). :class:`PatientDialog` wraps the
form for registering or editing a patient: Save runs the service inside one transaction
through :func:`~ketadesk.ui.forms.attempt`, so a refused save shows every problem beside
its field (or a stale-edit message) and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ketadesk.clinic.models import ScreeningFlag, Sex
from ketadesk.clinic.patients import PATIENT_FIELDS, create_patient, update_patient
from ketadesk.clinic.validation import US_STATES
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import FieldForm, attempt
from ketadesk.ui.style import set_role

DATE_HINT = "YYYY-MM-DD or MM/DD/YYYY"

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Identity", ("family_name", "given_name", "middle_name", "preferred_name",
                  "date_of_birth", "sex")),
    ("Contact", ("phone", "email", "address_line1", "address_line2", "city", "state",
                 "zip_code")),
    ("Emergency contact & driver", ("emergency_contact_name", "emergency_contact_phone",
                                    "emergency_contact_relationship", "driver_name",
                                    "driver_phone")),
    ("Clinical", ("diagnoses", "screening_flags", "rems_enrolled_on", "weight_kg",
                  "home_location")),
    ("Notes", ("notes",)),
)
PLACEHOLDERS: dict[str, str] = {
    "date_of_birth": DATE_HINT,
    "rems_enrolled_on": DATE_HINT,
    "phone": "(212) 555-0142",
    "emergency_contact_phone": "(212) 555-0142",
    "driver_phone": "(212) 555-0142",
    "email": "name@example.com",
    "zip_code": "12345 or 12345-6789",
    "diagnoses": "ICD-10-CM codes, primary first: F33.2, F43.10",
    "weight_kg": "e.g. 72.5, or 160 lb",
    "emergency_contact_relationship": "e.g. spouse, parent, friend",
}
_SPECS = {spec.name: spec for spec in PATIENT_FIELDS}


def sex_choices() -> list[tuple[str, str]]:
    return [("", "Choose…"), *((s.value, s.label) for s in Sex)]


def state_choices() -> list[tuple[str, str]]:
    return [("", "—"), *((code, f"{code} — {name}") for code, name in US_STATES.items())]


class PatientForm(FieldForm):
    """Every patient field, grouped in sections; ``locations`` are ``(code, label)`` pairs."""

    def __init__(self, locations: Sequence[tuple[str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for title, names in SECTIONS:
            self.add_section(title)
            for name in names:
                self._add_field(name, locations)

    def _add_field(self, name: str, locations: Sequence[tuple[str, str]]) -> None:
        spec = _SPECS[name]
        if name == "sex":
            self.add_choice(name, spec.label, sex_choices(), required=spec.required)
        elif name == "state":
            self.add_choice(name, spec.label, state_choices())
        elif name == "home_location":
            self.add_choice(name, spec.label, [("", "None"), *locations])
        elif name == "screening_flags":
            choices = [(flag.value, flag.label) for flag in ScreeningFlag]
            flags = self.add_checklist(name, spec.label, choices)
            rows = len(choices) * flags.sizeHintForRow(0)
            flags.setFixedHeight(rows + 2 * flags.frameWidth() + 6)  # every flag, no scrolling
        elif name == "notes":
            self.add_multiline(name, spec.label, placeholder="Anything staff should know")
        else:
            self.add_text(name, spec.label, placeholder=PLACEHOLDERS.get(name, ""),
                          required=spec.required)

    def keep_location(self, code: str, label: str) -> None:
        """Offer ``code`` even if it is no longer an active location (the patient's own)."""
        box = self.editors["home_location"]
        if code and isinstance(box, QComboBox) and box.findData(code) < 0:
            box.addItem(label, code)


def location_choices(context: AppContext) -> list[tuple[str, str]]:
    """Active locations as ``(code, "CODE — Name")`` pairs for the drop-down."""
    from ketadesk.clinic.locations import list_locations

    with context.db.reading() as session:
        return [(loc.code, f"{loc.code} — {loc.name}")
                for loc in list_locations(session, context.actor)]


class PatientDialog(QDialog):
    """Register a new patient, or edit one opened at ``version``; sets :attr:`saved_id`."""

    def __init__(self, context: AppContext, *, patient_id: int | None = None,
                 values: Mapping[str, Any] | None = None, version: int | None = None,
                 title: str = "New patient", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context, self.patient_id, self.version = context, patient_id, version
        self.saved_id: int | None = None
        self.setWindowTitle(title)
        self.resize(780, 760)
        self.form = PatientForm(location_choices(context))
        if values is not None:
            code = str(values.get("home_location") or "")
            self.form.keep_location(code, f"{code} (inactive)")
            self.form.set_values(values)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setWidget(self.form)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scroller, 1)
        layout.addWidget(self._buttons())

    def _buttons(self) -> QDialogButtonBox:
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Save patient")
        self.save_button.setDefault(True)
        set_role(self.save_button, "primary")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        return buttons

    def save(self) -> None:
        """Save through the service; on refusal keep the dialog open with the problems shown."""
        saved = attempt(self, self._write, self.form)
        if saved is not None:
            self.saved_id = saved
            self.accept()
            return
        focused = QApplication.focusWidget()
        if focused is not None and self.form.isAncestorOf(focused):
            self.scroller.ensureWidgetVisible(focused)

    def _write(self) -> int:
        values = self.form.values()
        with self.context.db.transaction() as session:
            if self.patient_id is None:
                patient = create_patient(session, self.context.actor, values)
            else:
                patient = update_patient(session, self.context.actor, self.patient_id, values,
                                         expected_version=self.version or 0)
            return patient.id
