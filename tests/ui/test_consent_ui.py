"""The consent in the window: the chart's Consent tab, the Today card's words, and check-in
refused in words until the signed form is recorded (pytest-qt, offscreen)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from builders import at, scheduling_clinic
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from scheduling.planning_helpers import existing_session

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.consent import records
from ketadesk.clinic.consent.models import ConsentKey
from ketadesk.db import Database
from ketadesk.scheduling.models import SessionStatus, TreatmentSession
from ketadesk.ui.context import AppContext
from ketadesk.ui.patients.consent import ConsentPanel, RecordConsentDialog
from ketadesk.ui.today import TodayView

pytestmark = pytest.mark.gui
ADMIN = Actor(username="test-admin", role=Role.ADMIN)
NURSE = Actor(username="nurse-kim", role=Role.CLINICAL)
BILLING = Actor(username="bill-ray", role=Role.BILLING)
MORNING = at("2026-12-07 08:55")


@pytest.fixture(autouse=True)
def said(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What message boxes said, instead of showing them."""
    texts: list[str] = []

    def say(_parent: QWidget | None, _title: str, text: str, *_args: object) -> int:
        texts.append(text)
        return 0

    monkeypatch.setattr(QMessageBox, "warning", say)
    monkeypatch.setattr(QMessageBox, "information", say)
    return texts


@pytest.fixture
def booked(sqlite_db: Database) -> tuple[int, int]:
    """(patient id, session id): the clinic's patient booked for esketamine at 09:00 today,
    having withdrawn the esketamine consent yesterday."""
    with sqlite_db.transaction() as session:
        clinic = scheduling_clinic(session, ADMIN)
        records.withdraw_consent(
            session, ADMIN, clinic.patient.id, ConsentKey.ESKETAMINE,
            withdrawn_on=date(2026, 12, 6),
        )
        ts = existing_session(
            session, clinic.patient, clinic.protocols["esketamine-induction"],
            clinic.esketamine_chairs[0], clinic.provider, at("2026-12-07 09:00"),
        )
        return clinic.patient.id, ts.id


def status_of(db: Database, session_id: int) -> SessionStatus:
    with db.reading() as session:
        ts = session.get(TreatmentSession, session_id)
        assert ts is not None
        return ts.status


def test_check_in_is_refused_in_words_until_the_form_is_recorded(
    qtbot: QtBot, sqlite_db: Database, booked: tuple[int, int], said: list[str]
) -> None:
    patient_id, session_id = booked
    view = TodayView(AppContext(sqlite_db, NURSE), clock=lambda: MORNING)
    qtbot.add_widget(view)
    view.resize(1280, 800)
    view.show()
    card = view.card_widget("Nasal 1")
    badge = card.findChild(QWidget, "consentBadge")
    assert badge is not None and "No consent" in badge.text()  # type: ignore[attr-defined]
    qtbot.mouseClick(card.button("check_in"), Qt.MouseButton.LeftButton)
    assert any("cannot be checked in: the Esketamine (Spravato) consent was withdrawn on "
               "06 Dec 2026" in text for text in said)
    assert status_of(sqlite_db, session_id) is SessionStatus.SCHEDULED

    panel = ConsentPanel(AppContext(sqlite_db, NURSE), clock=lambda: MORNING)
    qtbot.add_widget(panel)
    panel.set_patient(patient_id)
    assert panel.state_texts()["Esketamine (Spravato)"] == "Withdrawn"
    dialog = RecordConsentDialog(AppContext(sqlite_db, NURSE), patient_id, lambda: MORNING,
                                 panel, chosen=ConsentKey.ESKETAMINE)
    dialog.signed.setDate(QDate(2026, 12, 7))
    dialog.signer.setText("Zoë Łukasiewicz")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "witness: give the witness's name" in dialog.error.text()  # refused in words
    dialog.witness.setText("Kim Park, RN")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted
    panel.reload()
    assert panel.state_texts()["Esketamine (Spravato)"] == "Valid until withdrawn"

    view.refresh()
    card = view.card_widget("Nasal 1")
    assert card.findChild(QWidget, "consentBadge") is None
    qtbot.mouseClick(card.button("check_in"), Qt.MouseButton.LeftButton)
    assert status_of(sqlite_db, session_id) is SessionStatus.CHECKED_IN


def test_the_consent_tab_prints_the_form_and_withdraws(
    qtbot: QtBot, sqlite_db: Database, booked: tuple[int, int]
) -> None:
    patient_id, _session_id = booked
    panel = ConsentPanel(AppContext(sqlite_db, NURSE), clock=lambda: MORNING)
    qtbot.add_widget(panel)
    printed: list[tuple[bytes, str]] = []
    panel.pdf_opener = lambda data, name: printed.append((data, name))
    panel.set_patient(patient_id)
    assert "No valid consent for: Esketamine (Spravato)" in panel.summary.text()
    assert "which the planned series need" in panel.summary.text()
    assert "Ketamine-assisted psychotherapy" not in panel.summary.text()  # not her treatment
    assert "Ketamine-assisted psychotherapy" in panel.state_texts()  # listed all the same
    panel.table.selectRow(list(ConsentKey).index(ConsentKey.KAP))
    qtbot.mouseClick(panel.print_button, Qt.MouseButton.LeftButton)
    assert printed and printed[0][0].startswith(b"%PDF") and printed[0][1].endswith("-kap.pdf")
    assert panel.withdraw_now(ConsentKey.KAP, "changed her mind")
    assert panel.state_texts()["Ketamine-assisted psychotherapy"] == "Withdrawn"


def test_billing_staff_see_the_consents_but_cannot_take_them(
    qtbot: QtBot, sqlite_db: Database, booked: tuple[int, int]
) -> None:
    panel = ConsentPanel(AppContext(sqlite_db, BILLING), clock=lambda: datetime.now())
    qtbot.add_widget(panel)
    panel.set_patient(booked[0])
    assert len(panel.state_texts()) == len(ConsentKey)
    assert not panel.record_button.isEnabled() and not panel.withdraw_button.isEnabled()


def test_settings_edits_a_text_as_a_new_material_version(
    qtbot: QtBot, sqlite_db: Database, booked: tuple[int, int]
) -> None:
    from ketadesk.ui.settings import SettingsView

    manager = Actor(username="maria", role=Role.MANAGER)
    view = SettingsView(AppContext(sqlite_db, manager))
    qtbot.add_widget(view)
    tab = view.consent_texts
    titles = [view.tabs.tabText(i) for i in range(view.tabs.count())]
    assert "Consent texts" in titles
    kap_rows = [r for r, v in enumerate(tab.versions) if v.key is ConsentKey.KAP]
    tab.table.selectRow(kap_rows[-1])
    assert "What the treatment is" in tab.body.toPlainText()
    tab.body.setPlainText("")
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    assert "the consent text is empty" in tab.error.text()
    tab.body.setPlainText("What the treatment is\nNew words.")
    tab.material.setChecked(True)
    tab.months.setValue(6)
    tab.effective.setDate(QDate(2026, 12, 1))
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    newest = [v for v in tab.versions if v.key is ConsentKey.KAP][-1]
    assert (newest.version, newest.material, newest.valid_months) == (3, True, 6)
    panel = ConsentPanel(AppContext(sqlite_db, NURSE), clock=lambda: MORNING)
    qtbot.add_widget(panel)
    panel.set_patient(booked[0])
    assert panel.state_texts()["Ketamine-assisted psychotherapy"] == (
        "Needs re-signing for version 3")


def test_settings_has_no_consent_texts_for_the_desk(
    qtbot: QtBot, sqlite_db: Database, booked: tuple[int, int]
) -> None:
    from ketadesk.ui.settings import SettingsView

    view = SettingsView(AppContext(sqlite_db, Actor(username="d", role=Role.FRONT_DESK)))
    qtbot.add_widget(view)
    assert "Consent texts" not in [view.tabs.tabText(i) for i in range(view.tabs.count())]
