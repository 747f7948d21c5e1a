"""Candidacy and consent end to end, as the clinic works them in the window (pytest-qt,
offscreen, one real SQLite file): a clinician records an intake with a liver finding; the
desk books an IV induction and is shown the finding (and the missing consent) to
acknowledge; on the day the nurse's check-in is refused because nothing is signed; the
signed form is recorded from the chart; check-in, the pre-dose checklist and the dose then
go through once the nurse ticks the liver finding as reviewed. Each step goes through the
same widgets staff click."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from builders import at, patient_raw, scheduling_clinic
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QMessageBox, QWidget, QWizard
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.consent.models import ConsentKey
from ketadesk.clinic.models import Chair, Patient
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database
from ketadesk.scheduling.models import SessionStatus, TreatmentSession
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import CheckList
from ketadesk.ui.patients.consent import RecordConsentDialog
from ketadesk.ui.patients.intake_dialogs import IntakeDialog
from ketadesk.ui.patients.view import PatientsView
from ketadesk.ui.schedule import ScheduleView
from ketadesk.ui.today import TodayView
from ketadesk.ui.today.dialogs import ChecklistDialog, DoseDialog, FloorDialog

pytestmark = pytest.mark.gui

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
CLINICIAN = Actor(username="dr-osei", role=Role.CLINICAL)
DESK = Actor(username="desk-lee", role=Role.FRONT_DESK)
NEW_YORK = ZoneInfo("America/New_York")
FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=NEW_YORK)  # the intake and the booking
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(autouse=True)
def said(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What message boxes said, instead of showing them (a modal box would block)."""
    texts: list[str] = []

    def say(_parent: QWidget | None, _title: str, text: str, *_args: object) -> int:
        texts.append(text)
        return 0

    monkeypatch.setattr(QMessageBox, "warning", say)
    monkeypatch.setattr(QMessageBox, "information", say)
    return texts


@pytest.fixture
def chidi(sqlite_db: Database) -> int:
    """A new patient of the builders' clinic: no intake, no consent signed."""
    with sqlite_db.transaction() as session:
        scheduling_clinic(session, ADMIN)
        raw = patient_raw(family_name="Okafor", given_name="Chidi", weight_kg="82",
                          phone="(212) 555-0199")  # fmt: skip
        return create_patient(session, ADMIN, raw).id


def record_liver_intake(qtbot: QtBot, db: Database, patient_id: int) -> None:
    view = PatientsView(AppContext(db, CLINICIAN))
    qtbot.add_widget(view)
    view.resize(1280, 800)
    view.show()
    assert view.open_patient(patient_id) is not None
    panel = view.detail.intake
    assert panel is not None and panel.new_button.isEnabled()
    dialog = IntakeDialog(panel.context, patient_id, FRIDAY.date(), panel)
    qtbot.add_widget(dialog)
    dialog.checks["liver_disease"].click()
    qtbot.keyClicks(dialog.details["liver_disease"], "ALT twice the upper limit")
    for name, typed in {"systolic": "126", "diastolic": "80", "heart_rate": "70",
                        "weight": "82"}.items():  # fmt: skip
        qtbot.keyClicks(getattr(dialog, name), typed)
    dialog.save()
    assert dialog.result() == IntakeDialog.DialogCode.Accepted


def book_iv_induction(qtbot: QtBot, db: Database) -> list[str]:
    """Book through the wizard; return the warning codes the desk had to acknowledge."""
    view = ScheduleView(AppContext(db, DESK), clock_now=lambda: FRIDAY)
    qtbot.add_widget(view)
    view.resize(1280, 980)
    view.show()
    wizard = view.new_series()
    assert wizard is not None
    wizard.patient_page.search.setText("Okafor")
    wizard.patient_page.search_now()
    wizard.next()
    wizard.protocol_page.choose("iv-induction")
    wizard.next()
    wizard.preferences_page.start.setDate(QDate(2026, 12, 7))
    wizard.next()
    page = wizard.proposal_page
    liver = page.findChild(QLabel, "warning:intake:liver_disease")
    assert liver is not None and "liver" in liver.text().lower()
    book = wizard.button(QWizard.WizardButton.FinishButton)
    assert not book.isEnabled()  # nothing is booked before every warning is acknowledged
    boxes = [b for b in page.findChildren(QCheckBox) if b.objectName().startswith("acknowledge:")]
    for box in boxes:
        qtbot.mouseClick(box, LEFT)
    assert book.isEnabled()
    qtbot.mouseClick(book, LEFT)
    return sorted(b.objectName().removeprefix("acknowledge:") for b in boxes)


def first_session(db: Database, patient_id: int) -> tuple[int, datetime, str]:
    with db.reading() as session:
        ts = session.scalars(
            select(TreatmentSession)
            .where(TreatmentSession.patient_id == patient_id)
            .order_by(TreatmentSession.starts_at)
        ).first()
        assert ts is not None
        chair = session.get(Chair, ts.chair_id)
        assert chair is not None
        return ts.id, ts.starts_at, chair.name


def status_of(db: Database, session_id: int) -> SessionStatus:
    with db.reading() as session:
        ts = session.get(TreatmentSession, session_id)
        assert ts is not None
        return ts.status


def fill(dialog: FloorDialog, **values: object) -> None:
    for name, value in values.items():
        editor = dialog.form.editors[name]
        if isinstance(editor, QLineEdit):
            editor.setText(str(value))
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))


def test_intake_warning_at_booking_consent_refusal_at_check_in_then_the_dose(
    qtbot: QtBot, sqlite_db: Database, chidi: int, said: list[str]
) -> None:
    record_liver_intake(qtbot, sqlite_db, chidi)

    acknowledged = book_iv_induction(qtbot, sqlite_db)
    assert "intake:liver_disease" in acknowledged
    assert "consent:missing" in acknowledged  # booking warns; it does not refuse

    session_id, starts, chair = first_session(sqlite_db, chidi)
    assert starts.astimezone(NEW_YORK).date() == at("2026-12-07 12:00").date()
    arrival = starts - timedelta(minutes=5)
    nurse = AppContext(sqlite_db, CLINICIAN)
    today = TodayView(nurse, clock=lambda: arrival)
    qtbot.add_widget(today)
    today.resize(1280, 860)
    today.show()

    qtbot.mouseClick(today.card_widget(chair).button("check_in"), LEFT)
    assert any("cannot be checked in" in text and "IV ketamine" in text for text in said), said
    assert status_of(sqlite_db, session_id) is SessionStatus.SCHEDULED

    consent = RecordConsentDialog(nurse, chidi, lambda: arrival, today,
                                  chosen=ConsentKey.IV_KETAMINE)  # fmt: skip
    qtbot.add_widget(consent)
    consent.signed.setDate(QDate(2026, 12, 7))
    consent.signer.setText("Chidi Okafor")
    consent.witness.setText("Kim Park, RN")
    qtbot.mouseClick(consent.save_button, LEFT)
    assert consent.result() == consent.DialogCode.Accepted

    today.refresh()
    qtbot.mouseClick(today.card_widget(chair).button("check_in"), LEFT)
    assert status_of(sqlite_db, session_id) is SessionStatus.CHECKED_IN
    qtbot.mouseClick(today.card_widget(chair).button("checklist"), LEFT)
    checklist = today.dialog
    assert isinstance(checklist, ChecklistDialog)
    fill(checklist, ride_home=True, food_fasted_hours="8", drink_fasted_minutes="180",
         systolic=124, diastolic=80, heart_rate=70, spo2=98)  # fmt: skip
    qtbot.mouseClick(checklist.ok_button, LEFT)  # the liver finding not yet ticked
    assert checklist.isVisible()
    assert "Not acknowledged: Liver disease" in checklist.result_label.text()
    reviewed = checklist.form.editors["acknowledged"]
    assert isinstance(reviewed, CheckList) and reviewed.count() == 1
    assert reviewed.item(0).text().startswith("Liver disease")
    reviewed.item(0).setCheckState(Qt.CheckState.Checked)
    qtbot.mouseClick(checklist.ok_button, LEFT)
    assert not checklist.isVisible(), checklist.result_label.text()
    qtbot.mouseClick(today.card_widget(chair).button("dose"), LEFT)
    dose = today.dialog
    assert isinstance(dose, DoseDialog)
    fill(dose, dose_mg="41", lot_number="KT-77")
    qtbot.mouseClick(dose.ok_button, LEFT)
    assert status_of(sqlite_db, session_id) is SessionStatus.DOSING
    with sqlite_db.reading() as session:
        patient = session.get(Patient, chidi)
        assert patient is not None and patient.family_name == "Okafor"
