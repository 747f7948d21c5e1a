"""The chart's Intake tab, its dialogs, Settings → Screening rules and the Today card's
intake line, driven as clinic staff use them (pytest-qt, offscreen, a real SQLite file)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pytest
from builders import at, scheduling_clinic
from clinic.intake_helpers import record
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.intake.assessments import current_intake
from ketadesk.clinic.intake.models import FindingRule, IntakeAssessment
from ketadesk.clinic.intake.rules import effective_rules
from ketadesk.clinic.models import Location, Patient, Provider
from ketadesk.db import Database
from ketadesk.scheduling.gates import booking_gates
from ketadesk.scheduling.models import Protocol
from ketadesk.ui.context import AppContext
from ketadesk.ui.patients.intake import IntakePanel
from ketadesk.ui.patients.intake_dialogs import IntakeDialog, OverrideDialog
from ketadesk.ui.patients.view import PatientsView
from ketadesk.ui.settings import SettingsView
from ketadesk.ui.style import ERROR, WARNING_SOFT
from ketadesk.ui.today import TodayView

pytestmark = pytest.mark.gui

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
CLINICIAN = Actor(username="dr-osei", role=Role.CLINICAL)
DESK = Actor(username="desk-lee", role=Role.FRONT_DESK)
MANAGER = Actor(username="mgr", role=Role.MANAGER)
TODAY = date(2026, 12, 7)


@dataclass(frozen=True)
class Ids:
    patient: int
    provider: int


@pytest.fixture
def ids(sqlite_db: Database) -> Ids:
    with sqlite_db.transaction() as session:
        clinic = scheduling_clinic(session, ADMIN)
        return Ids(clinic.patient.id, clinic.provider.id)


def open_intake_tab(qtbot: QtBot, db: Database, patient_id: int, actor: Actor) -> IntakePanel:
    view = PatientsView(AppContext(db, actor))
    qtbot.add_widget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    assert view.open_patient(patient_id) is not None
    tabs = view.detail.tabs
    panel = view.detail.intake
    assert tabs is not None and panel is not None
    panel.today = lambda: TODAY
    tabs.setCurrentWidget(panel)
    return panel


def fill_dialog(qtbot: QtBot, dialog: IntakeDialog, **readings: str) -> None:
    values = {"systolic": "128", "diastolic": "82", "heart_rate": "72", "weight": "80.5"}
    values.update(readings)
    for name, text in values.items():
        qtbot.keyClicks(getattr(dialog, name), text)


def test_recording_an_intake_with_a_liver_finding_warns_at_booking(
    qtbot: QtBot, sqlite_db: Database, ids: Ids
) -> None:
    panel = open_intake_tab(qtbot, sqlite_db, ids.patient, CLINICIAN)
    assert panel.state.text() == "No intake on record"
    assert panel.new_button.isEnabled() and not panel.override_button.isEnabled()
    dialog = IntakeDialog(panel.context, ids.patient, TODAY, panel)
    qtbot.add_widget(dialog)
    assert not dialog.details["liver_disease"].isEnabled()
    dialog.checks["liver_disease"].click()
    qtbot.keyClicks(dialog.details["liver_disease"], "ALT twice normal")
    qtbot.keyClicks(dialog.medications, "Lorazepam 1 mg")
    fill_dialog(qtbot, dialog)
    dialog.save()
    assert dialog.result() == IntakeDialog.DialogCode.Accepted
    panel.refresh()
    assert panel.state.text() == "Intake valid until 06 Dec 2027"
    rows = [panel.findings.item(r, 0).text() for r in range(panel.findings.rowCount())]
    assert rows == ["Liver disease", "Benzodiazepine"]
    assert panel.findings.item(0, 0).background().color().name() == WARNING_SOFT
    assert panel.medications.item(0, 2).text() == "Benzodiazepine"
    assert "BP 128/82" in panel.vitals.text()
    with sqlite_db.reading() as session:
        patient = session.get(Patient, ids.patient)
        protocol = session.scalars(select(Protocol).where(Protocol.key == "iv-induction")).one()
        assert patient is not None and patient.home_location_id is None
        location = session.scalars(select(Location)).one()
        day = date(2026, 12, 14)
        _, warnings = booking_gates(session, patient, protocol, location, day, [day], today=TODAY)
    assert [w.code for w in warnings] == ["intake:liver_disease", "intake:benzodiazepine"]


def test_bad_input_stays_in_the_dialog_and_saves_nothing(
    qtbot: QtBot, sqlite_db: Database, ids: Ids
) -> None:
    panel = open_intake_tab(qtbot, sqlite_db, ids.patient, CLINICIAN)
    dialog = IntakeDialog(panel.context, ids.patient, TODAY, panel)
    qtbot.add_widget(dialog)
    fill_dialog(qtbot, dialog, systolic="", heart_rate="fast", weight="lots")
    qtbot.keyClicks(dialog.medications, "20 mg")
    dialog.save()
    assert dialog.result() != IntakeDialog.DialogCode.Accepted
    assert dialog.problems.isVisibleTo(dialog)
    assert "Medications: '20 mg' has no medication name" in dialog.problems.text()
    dialog.medications.clear()
    dialog.save()
    text = dialog.problems.text()
    assert "Systolic:" in text and "Heart rate: 'fast'" in text and "Weight:" in text
    with sqlite_db.reading() as session:
        assert session.scalars(select(IntakeAssessment)).first() is None


def test_an_absolute_finding_is_red_until_a_provider_overrides_it(
    qtbot: QtBot, sqlite_db: Database, ids: Ids
) -> None:
    with sqlite_db.transaction() as session:
        patient, provider = session.get(Patient, ids.patient), session.get(Provider, ids.provider)
        assert patient is not None and provider is not None
        record(session, patient, provider, TODAY, {"pregnancy": "12 weeks"})
    panel = open_intake_tab(qtbot, sqlite_db, ids.patient, CLINICIAN)
    assert panel.findings.item(0, 1).text() == "Absolute — stops dosing"
    assert panel.findings.item(0, 0).foreground().color().name() == ERROR
    assert panel.override_button.isEnabled()
    assert panel.view is not None and panel.view.current is not None
    dialog = OverrideDialog(panel.context, ids.patient, panel.view.current.findings, panel)
    qtbot.add_widget(dialog)
    dialog.save()
    assert "Reason: write why dosing may go ahead" in dialog.problems.text()
    qtbot.keyClicks(dialog.reason, "Termination scheduled; obstetrics agrees")
    dialog.save()
    assert dialog.result() == OverrideDialog.DialogCode.Accepted
    panel.refresh()
    assert panel.findings.item(0, 1).text() == "Absolute — overridden"
    assert "obstetrics agrees" in panel.findings.item(0, 3).text()
    assert not panel.override_button.isEnabled()


def test_the_desk_sees_the_intake_but_may_not_record_one(
    qtbot: QtBot, sqlite_db: Database, ids: Ids
) -> None:
    panel = open_intake_tab(qtbot, sqlite_db, ids.patient, DESK)
    assert not panel.new_button.isEnabled()
    assert "may not record intakes" in panel.new_button.toolTip()


def test_a_manager_changes_a_rule_and_the_period_in_settings(
    qtbot: QtBot, sqlite_db: Database, ids: Ids
) -> None:
    view = SettingsView(AppContext(sqlite_db, MANAGER))
    qtbot.add_widget(view)
    tab = view.screening_rules
    box = tab.choices["liver_disease"]
    assert box.currentText() == "Relative (default)" and box.isEnabled()
    box.setCurrentIndex(0)
    box.activated.emit(0)
    tab.months.setValue(6)
    tab.save_months.click()
    with sqlite_db.reading() as session:
        assert effective_rules(session)["liver_disease"] is FindingRule.ABSOLUTE
    assert tab.months.value() == 6
    sources = [tab.table.item(r, 2).text() for r in range(tab.table.rowCount())]
    assert all(sources) and "Spravato" in " ".join(sources)


def test_clinicians_read_the_rules_and_the_desk_does_not_see_them(
    qtbot: QtBot, sqlite_db: Database, ids: Ids
) -> None:
    clinical = SettingsView(AppContext(sqlite_db, CLINICIAN))
    qtbot.add_widget(clinical)
    assert not clinical.screening_rules.choices["pregnancy"].isEnabled()
    desk = SettingsView(AppContext(sqlite_db, DESK))
    qtbot.add_widget(desk)
    titles = [desk.tabs.tabText(i) for i in range(desk.tabs.count())]
    assert "Screening rules" not in titles


def test_the_today_card_says_the_intake_is_due(qtbot: QtBot, sqlite_db: Database, ids: Ids) -> None:
    from ui.test_today import book

    with sqlite_db.transaction() as session:
        patient, provider = session.get(Patient, ids.patient), session.get(Provider, ids.provider)
        assert patient is not None and provider is not None
        record(session, patient, provider, date(2025, 12, 20), today=TODAY)
        assert current_intake(session, patient.id) is not None
    book(sqlite_db)
    moment: datetime = at("2026-12-07 08:50")
    view = TodayView(AppContext(sqlite_db, CLINICIAN), clock=lambda: moment)
    qtbot.add_widget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    badges = [
        label.text()
        for widget in view.cards.values()
        for label in widget.findChildren(QLabel)
        if label.objectName() == "intakeBadge"
    ]
    assert badges == ["Intake due in 13 days"]
