"""The floor's dialogs: checklist, dose, blood pressure, observation, score, cancel, REMS filed.

Every dialog here is a :class:`FloorDialog`: a heading naming the patient and session, a
:class:`~ketadesk.ui.forms.FieldForm`, and an OK button that reads the typed text
(:class:`Typed` turns it into numbers, listing every field it cannot read), then runs one
floor service in one ``db.transaction()``. A refusal is shown beside its field (validation)
or in a message box (anything else); nothing is half-saved because the transaction rolls
back. On success the dialog keeps the service's answer in :attr:`FloorDialog.outcome` and
closes — except the checklist, which stays open after a failure to show what failed and
offer "Reschedule…" or "Cancel session…" instead of dosing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.billing import actions
from ketadesk.clinic.models import Modality
from ketadesk.clinic.validation import weight_kg
from ketadesk.errors import FieldProblem, InvalidValue, KetaDeskError, ValidationError
from ketadesk.scheduling import floor, rems
from ketadesk.scheduling.board import BoardSession
from ketadesk.scheduling.models import Checkpoint, ObservationKind, Route, ScoreKind, Severity
from ketadesk.scheduling.rems import RemsFormDue
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import CheckList, FieldForm, attempt, require_hooks, show_error
from ketadesk.ui.style import ERROR, set_role

Clock = Callable[[], datetime]


_PLAIN_NUMBER = re.compile(r"[0-9]{1,6}(?:[.,][0-9]{1,6})?")


def plain_number(text: str) -> Decimal | None:
    """``35``, ``35.5`` or ``35,5`` as a Decimal; ``None`` for anything else — exponents
    (``1e3``), digits other than 0-9, NaN — which ``Decimal()`` alone would take."""
    text = text.strip()
    if not _PLAIN_NUMBER.fullmatch(text):
        return None
    return Decimal(text.replace(",", "."))


class Typed:
    """Reads numbers out of a form's raw text, collecting a problem per unreadable field."""

    def __init__(self, values: Mapping[str, object]) -> None:
        self.values = values
        self.problems: list[FieldProblem] = []

    def _text(self, name: str) -> str:
        return str(self.values.get(name) or "").strip()

    def whole(self, name: str, what: str) -> int:
        """A required whole number (0 when it cannot be read; the problem is kept)."""
        found = self.maybe_whole(name, what)
        if found is None and not any(p.field == name for p in self.problems):
            self.problems.append(FieldProblem(name, f"enter the {what}"))
        return found or 0

    def maybe_whole(self, name: str, what: str) -> int | None:
        text = self._text(name)
        if not text:
            return None
        if not (text.isascii() and text.isdigit()):  # "²".isdigit(), yet int("²") fails
            self.problems.append(FieldProblem(name, f"give the {what} as a whole number"))
            return None
        return int(text)

    def decimal(self, name: str, what: str) -> Decimal:
        value = plain_number(self._text(name))
        if value is None:
            self.problems.append(FieldProblem(name, f"give the {what} as a number"))
            return Decimal(0)
        return value

    def check(self) -> None:
        """Raise :class:`ValidationError` with every problem found so far."""
        if self.problems:
            raise ValidationError(self.problems)


def add_vitals(form: FieldForm) -> None:
    form.add_text("systolic", "Systolic (mmHg)", placeholder="e.g. 128", required=True)
    form.add_text("diastolic", "Diastolic (mmHg)", placeholder="e.g. 82", required=True)
    form.add_text("heart_rate", "Heart rate (bpm)", placeholder="optional")
    form.add_text("spo2", "SpO2 (%)", placeholder="optional")


def read_vitals(typed: Typed) -> floor.VitalsInput:
    return floor.VitalsInput(
        systolic=typed.whole("systolic", "systolic pressure"),
        diastolic=typed.whole("diastolic", "diastolic pressure"),
        heart_rate=typed.maybe_whole("heart_rate", "heart rate"),
        spo2=typed.maybe_whole("spo2", "SpO2"),
    )


def heading_text(shown: BoardSession) -> str:
    return (
        f"<b>{shown.patient_name}</b> · MRN {shown.mrn}<br>{shown.reference} · "
        f"{shown.protocol_name} {shown.progress}"
    )


class FloorDialog(QDialog):
    """A heading, a form and OK/Cancel; OK runs :meth:`act` in one write transaction."""

    ok_text = "Save"

    def __init__(
        self,
        context: AppContext,
        shown: BoardSession,
        clock: Clock,
        title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.shown = shown
        self.clock = clock
        self.outcome: object = None
        self.setWindowTitle(f"{title} — {shown.reference}")
        self.setMinimumWidth(480)
        self.column = QVBoxLayout(self)
        heading = QLabel(heading_text(shown))
        heading.setObjectName("dialogHeading")
        self.column.addWidget(heading)
        self.form = FieldForm()
        self.build(self.form)
        self.column.addWidget(self.form)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button.setText(self.ok_text)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.column.addWidget(self.buttons)

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    # -- hooks: every dialog defines build and act; one without is refused when defined.

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        require_hooks(cls, ("build", "act"))

    if TYPE_CHECKING:

        def build(self, form: FieldForm) -> None:
            """Add this dialog's fields to ``form``."""

        def act(self, session: Session, typed: Typed) -> object:
            """Call the service with what was typed (inside the transaction)."""

    def submit(self) -> None:
        """Run the service; close on success, show the refusal otherwise."""
        outcome = attempt(self, self._run, self.form)
        if outcome is not None:
            self.outcome = outcome
            self.succeeded(outcome)

    def _run(self) -> object:
        typed = Typed(self.form.values())
        with self.context.db.transaction() as session:
            outcome = self.act(session, typed)
            typed.check()  # any unreadable field rolls the transaction back
            return outcome

    def succeeded(self, outcome: object) -> None:
        self.accept()


class ChecklistDialog(FloorDialog):
    """The pre-dose checklist. A failure keeps the dialog open with what failed, and offers
    "Reschedule…" and "Cancel session…" instead of dosing."""

    ok_text = "Run checklist"
    reschedule_requested = Signal()
    cancel_requested = Signal()

    def build(self, form: FieldForm) -> None:
        shown = self.shown
        asks = QLabel(
            f"This protocol asks for no food for {shown.fasting_food_hours} h and no "
            f"drink for {shown.fasting_drink_minutes} min before the dose."
        )
        asks.setWordWrap(True)
        set_role(asks, "muted")
        self.column.addWidget(asks)
        form.add_check("ride_home", "Ride home confirmed")
        form.add_text("food_fasted_hours", "Hours since food", placeholder="e.g. 3", required=True)
        form.add_text(
            "drink_fasted_minutes", "Minutes since a drink", placeholder="e.g. 45", required=True
        )
        add_vitals(form)
        with self.context.db.reading() as session:
            self.to_acknowledge = floor.to_acknowledge(
                session, self.context.actor, shown.session_id)
        if self.to_acknowledge:  # each relative intake finding, ticked once reviewed
            form.add_checklist("acknowledged", "Findings reviewed",
                               [(item.key, item.words) for item in self.to_acknowledge])
        self.result_label = QLabel()
        self.result_label.setObjectName("checklistResult")
        self.result_label.setWordWrap(True)
        self.result_label.hide()  # placed under the form once the dialog is built

    def act(self, session: Session, typed: Typed) -> object:
        values = self.form.values()
        hours = typed.decimal("food_fasted_hours", "hours since food")
        minutes = typed.whole("drink_fasted_minutes", "minutes since a drink")
        vitals = read_vitals(typed)
        typed.check()
        return floor.run_checklist(
            session,
            self.context.actor,
            self.shown.session_id,
            ride_home=bool(values["ride_home"]),
            food_fasted_hours=float(hours),
            drink_fasted_minutes=minutes,
            vitals=vitals,
            acknowledged=self.acknowledged(),
            now=self.clock(),
        )

    def acknowledged(self) -> list[str]:
        """The keys of the findings ticked as reviewed."""
        editor = self.form.editors.get("acknowledged")
        return [str(key) for key in editor.checked()] if isinstance(editor, CheckList) else []

    def succeeded(self, outcome: object) -> None:
        if isinstance(outcome, floor.ChecklistResult) and not outcome.passed:
            self.show_failures(outcome)
        else:
            self.accept()

    def show_failures(self, result: floor.ChecklistResult) -> None:
        """Say what failed (and what passed) under the form, and offer the ways out."""
        if self.column.indexOf(self.result_label) < 0:
            self.column.insertWidget(self.column.indexOf(self.buttons), self.result_label)
        lines = [f"<b style='color:{ERROR}'>Not ready to dose.</b>"]
        lines += [
            f"<span style='color:{ERROR}'>✗ {item.detail[:1].upper()}{item.detail[1:]}</span>"
            for item in result.failures
        ]
        lines += [f"✓ {item.label}" for item in result.items if item.passed]
        self.result_label.setText("<br>".join(lines))
        self.result_label.show()
        self.ok_button.setText("Run again")
        if not hasattr(self, "reschedule_button"):
            role = QDialogButtonBox.ButtonRole.ActionRole
            self.reschedule_button = self.buttons.addButton("Reschedule…", role)
            self.reschedule_button.setObjectName("reschedule")
            self.reschedule_button.clicked.connect(self.reschedule_requested)
            self.cancel_session_button = self.buttons.addButton("Cancel session…", role)
            self.cancel_session_button.setObjectName("cancelSession")
            self.cancel_session_button.clicked.connect(self.cancel_requested)
        self.failures = result.failures

    def failure_summary(self) -> str:
        """The failed items in one line, for a cancellation reason."""
        failures = getattr(self, "failures", ())
        return "; ".join(item.detail for item in failures)


class DoseDialog(FloorDialog):
    """Dose, route, lot and the product's NDC; for IV and IM also the weight, in kilograms
    or pounds, and the dose per kilogram as it is typed.

    The weight starts as the one on file (in kg). A weight typed here is recorded on the
    patient (:func:`ketadesk.scheduling.floor.record_weight`, stored in kg) in the same
    transaction as the dose, so the mg/kg on the session is worked out from it. The figure
    shown while typing comes from :func:`ketadesk.scheduling.floor.mg_per_kg`, the same
    rounding the session records.
    """

    ok_text = "Start dose"

    def build(self, form: FieldForm) -> None:
        modality = self.shown.modality
        if modality is Modality.ESKETAMINE:
            form.add_choice(
                "dose_mg",
                "Dose",
                [("56", "56 mg (2 devices)"), ("84", "84 mg (3 devices)")],
                required=True,
            )
        else:
            form.add_text("dose_mg", "Dose (mg)", placeholder="e.g. 35", required=True)
        routes = floor.ROUTES[modality]
        form.add_choice("route", "Route", [(r.value, r.label) for r in routes], required=True)
        form.add_text("lot_number", "Lot number", required=True)
        form.add_text("ndc", "NDC", placeholder="blank: the fee schedule's product")
        self.weighs = any(r in floor.WEIGHED_ROUTES for r in routes)
        if self.weighs:
            weight = form.add_text("weight", "Weight", placeholder="e.g. 154")
            unit = form.add_choice("weight_unit", "Weight in", [("kg", "kg"), ("lb", "lb")])
            if self.shown.weight_kg is not None:
                weight.setText(str(self.shown.weight_kg))
            else:
                unit.setCurrentIndex(unit.findData("lb"))  # US scales read pounds
            weight.textChanged.connect(self.update_per_kg)
            unit.currentIndexChanged.connect(self.update_per_kg)
        self.per_kg = QLabel()
        self.per_kg.setObjectName("mgPerKg")
        set_role(self.per_kg, "muted")
        self.column.addWidget(self.per_kg)
        dose, route = form.editors["dose_mg"], form.editors["route"]
        if isinstance(dose, QLineEdit):
            dose.textChanged.connect(self.update_per_kg)
        if isinstance(route, QComboBox):
            route.currentIndexChanged.connect(self.update_per_kg)
        self.update_per_kg()

    def typed_weight(self) -> tuple[str, str]:
        """The weight as typed and its unit (``""`` when no weight field or nothing typed)."""
        if not self.weighs:
            return "", ""
        values = self.form.values()
        return str(values["weight"]).strip(), str(values["weight_unit"])

    def update_per_kg(self) -> None:
        """Show the dose per kilogram as it is typed (IV and IM doses go by weight)."""
        values = self.form.values()
        route = Route(str(values["route"]))
        if route not in floor.WEIGHED_ROUTES:
            self.per_kg.setText("")
            return
        text, unit = self.typed_weight()
        if not text:
            self.per_kg.setText("No weight on file: weigh the patient and type the weight.")
            return
        try:
            weight = weight_kg(text, unit)
        except InvalidValue as error:
            self.per_kg.setText(f"Weight: {error}")
            return
        shown = f"{weight} kg" + (f" ({text} lb)" if unit == "lb" else "")
        dose = plain_number(str(values["dose_mg"]))
        if dose is None or dose <= 0:
            self.per_kg.setText(f"Weight {shown}")
            return
        self.per_kg.setText(f"= {floor.mg_per_kg(dose, weight)} mg/kg for {shown}")

    def act(self, session: Session, typed: Typed) -> object:
        dose = typed.decimal("dose_mg", "dose in mg")
        typed.check()
        values = self.form.values()
        route = Route(str(values["route"]))
        text, unit = self.typed_weight()
        if text and route in floor.WEIGHED_ROUTES:
            floor.record_weight(
                session, self.context.actor, self.shown.session_id, text, unit=unit
            )
        return floor.start_dosing(
            session,
            self.context.actor,
            self.shown.session_id,
            dose_mg=dose,
            route=route,
            lot_number=str(values["lot_number"]),
            ndc=str(values["ndc"]),
            now=self.clock(),
        )


class VitalsDialog(FloorDialog):
    """A blood pressure (and pulse, SpO2) at a checkpoint; the next one due is chosen."""

    ok_text = "Record"

    def build(self, form: FieldForm) -> None:
        choices = [(c.value, c.label) for c in Checkpoint if c is not Checkpoint.PRE_DOSE]
        checkpoint = form.add_choice("checkpoint", "Checkpoint", choices, required=True)
        wanted = (
            Checkpoint.FORTY_MINUTES
            if self.shown.modality is Modality.ESKETAMINE
            and Checkpoint.FORTY_MINUTES not in self.shown.checkpoints
            else Checkpoint.DISCHARGE
        )
        checkpoint.setCurrentIndex(max(checkpoint.findData(wanted.value), 0))
        add_vitals(form)

    def act(self, session: Session, typed: Typed) -> object:
        vitals = read_vitals(typed)
        typed.check()
        checkpoint = Checkpoint(str(self.form.values()["checkpoint"]))
        return floor.record_vitals(
            session, self.context.actor, self.shown.session_id, checkpoint, vitals, now=self.clock()
        )


class ObservationDialog(FloorDialog):
    ok_text = "Record"

    def build(self, form: FieldForm) -> None:
        form.add_choice(
            "kind",
            "Observed",
            [(k.value, k.value.capitalize()) for k in ObservationKind],
            required=True,
        )
        form.add_choice(
            "severity",
            "Severity",
            [(s.value, s.value.capitalize()) for s in Severity],
            required=True,
        )
        form.add_text("note", "Note")

    def act(self, session: Session, typed: Typed) -> object:
        values = self.form.values()
        return floor.record_observation(
            session,
            self.context.actor,
            self.shown.session_id,
            ObservationKind(str(values["kind"])),
            Severity(str(values["severity"])),
            str(values["note"]),
            now=self.clock(),
        )


class ScoreDialog(FloorDialog):
    ok_text = "Record"

    def build(self, form: FieldForm) -> None:
        kind = form.add_choice(
            "kind",
            "Questionnaire",
            [(k.value, f"{k.label} (0–{k.maximum})") for k in ScoreKind],
            required=True,
        )
        if self.shown.score_kind is not None:
            kind.setCurrentIndex(kind.findData(self.shown.score_kind.value))
        form.add_text("score", "Score", required=True)

    def act(self, session: Session, typed: Typed) -> object:
        score = typed.whole("score", "score")
        typed.check()
        kind = ScoreKind(str(self.form.values()["kind"]))
        return floor.record_score(session, self.context.actor, self.shown.session_id, kind, score)


class CancelDialog(FloorDialog):
    """Cancel the session with a reason (late-cancelled inside the location's window)."""

    ok_text = "Cancel session"

    def build(self, form: FieldForm) -> None:
        form.add_text("reason", "Reason", required=True)

    def act(self, session: Session, typed: Typed) -> object:
        reason = str(self.form.values()["reason"])
        # The shared action re-drafts a self-pay series' Good Faith Estimate too.
        return actions.cancel_session(
            session, self.context.actor, self.shown.session_id, reason, now=self.clock()
        ).result


class FiledDialog(QDialog):
    """Record the day a REMS patient monitoring form was filed."""

    def __init__(
        self, context: AppContext, form_due: RemsFormDue, today: date, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.form_due = form_due
        self.today = today
        self.outcome: object = None
        self.setWindowTitle(f"REMS form filed — {form_due.reference}")
        column = QVBoxLayout(self)
        column.addWidget(
            QLabel(
                f"<b>{form_due.patient_name}</b> · MRN {form_due.mrn}<br>Session "
                f"{form_due.reference} on {form_due.session_day:%m/%d/%Y}, form due "
                f"{form_due.due_on:%m/%d/%Y}"
            )
        )
        column.addWidget(QLabel("Filed on"))
        self.filed_on = QDateEdit(QDate(today.year, today.month, today.day))
        self.filed_on.setObjectName("filed_on")
        self.filed_on.setCalendarPopup(True)
        self.filed_on.setDisplayFormat("MM/dd/yyyy")
        column.addWidget(self.filed_on)
        self.error = QLabel()
        self.error.setObjectName("filed_on_error")
        set_role(self.error, "error")
        self.error.hide()
        column.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Record filing")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)

    def submit(self) -> None:
        picked = self.filed_on.date()
        filed = date(picked.year(), picked.month(), picked.day())
        self.error.hide()
        try:
            with self.context.db.transaction() as session:
                rems.file_rems_form(
                    session, self.context.actor, self.form_due.session_id, filed, today=self.today
                )
        except ValidationError as error:
            self.error.setText("\n".join(p.message for p in error.problems))
            self.error.show()
            return
        except KetaDeskError as error:
            show_error(self, error)
            return
        self.outcome = filed
        self.accept()
