"""The Patients area driven as a person uses it: type, click, read what is shown.

The tests that register a patient, refuse bad input and add a policy run on SQLite and
PostgreSQL (``database``); the rest use a private SQLite copy to keep the suite quick.
"""

from __future__ import annotations

from typing import Any

import pytest
from builders import add_location, add_payer, patient_raw
from PySide6.QtCore import QEvent, QItemSelectionModel, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import event, func, select

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic import patients
from ketadesk.clinic.models import InsurancePolicy, Patient
from ketadesk.clinic.policies import POLICY_FIELDS
from ketadesk.db import Database
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import CheckList
from ketadesk.ui.patients.form import PatientDialog, PatientForm
from ketadesk.ui.patients.list_model import PatientListModel
from ketadesk.ui.patients.policies import PolicyDialog, PolicyForm
from ketadesk.ui.patients.view import PatientsView

pytestmark = pytest.mark.gui


def register(db: Database, actor: Actor, **overrides: Any) -> int:
    with db.transaction() as session:
        return patients.create_patient(session, actor, patient_raw(**overrides)).id


def count(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Patient)) or 0


def make_view(qtbot: QtBot, db: Database, actor: Actor) -> PatientsView:
    view = PatientsView(AppContext(db, actor))
    qtbot.add_widget(view)
    view.resize(1100, 760)
    view.show()
    qtbot.waitExposed(view)
    return view


def type_into(qtbot: QtBot, editor: QWidget, text: str) -> None:
    """Clear ``editor`` and type ``text`` key by key (QTest types ASCII only, so other
    letters arrive as key events carrying their text, as an input method sends them)."""
    assert isinstance(editor, QLineEdit)
    editor.clear()
    for char in text:
        if char.isascii():
            qtbot.keyClicks(editor, char)
        else:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(
                    editor, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


def choose(editor: QWidget, value: str) -> None:
    """Pick the drop-down entry whose value is ``value``, as a click on it would."""
    assert isinstance(editor, QComboBox)
    index = editor.findData(value)
    assert index >= 0, value
    editor.setCurrentIndex(index)


def new_patient_dialog(qtbot: QtBot, view: PatientsView) -> PatientDialog:
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    dialog = view.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def save(qtbot: QtBot, dialog: QWidget) -> None:
    button = getattr(dialog, "save_button", None)
    if button is None:
        dialog.save()  # type: ignore[attr-defined]
    else:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def open_row(qtbot: QtBot, view: PatientsView, row: int) -> None:
    """Double-click ``row`` of the results, as a person opens a patient."""
    where = view.table.visualRect(view.model.index(row, 1)).center()
    # QTest's double-click lacks the first press that item views expect; send it first.
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.waitUntil(lambda: view.detail.record is not None)


def search(qtbot: QtBot, view: PatientsView, text: str) -> None:
    view.search.clear()
    qtbot.keyClicks(view.search, text)
    qtbot.waitUntil(lambda: view.model.text == text.strip(), timeout=10_000)


# --- registering -------------------------------------------------------------------------


def test_new_patient_is_saved_listed_selected_and_found_again(
    qtbot: QtBot, database: Database, front_desk: Actor
) -> None:
    with database.transaction() as session:
        add_location(session, "NYC", name="Midtown")
    view = make_view(qtbot, database, front_desk)
    assert view.count.text() == "No patients yet"
    dialog = new_patient_dialog(qtbot, view)
    form = dialog.form
    type_into(qtbot, form.editors["family_name"], "Łukasiewicz")
    type_into(qtbot, form.editors["given_name"], "Zoë")
    type_into(qtbot, form.editors["date_of_birth"], "03/09/1984")
    choose(form.editors["sex"], "F")
    type_into(qtbot, form.editors["phone"], "(212) 555-0142")
    choose(form.editors["state"], "NY")
    type_into(qtbot, form.editors["diagnoses"], "F33.2, F43.10")
    flags = form.editors["screening_flags"]
    assert isinstance(flags, CheckList)
    flags.set_checked_value("uncontrolled_hypertension")
    type_into(qtbot, form.editors["weight_kg"], "81.4")
    choose(form.editors["home_location"], "NYC")
    save(qtbot, dialog)

    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert count(database) == 1
    assert view.detail.record is not None
    assert view.detail.name.text() == "Łukasiewicz, Zoë"
    assert view.detail.values["phone"].text() == "(212) 555-0142"
    assert view.detail.values["home_location"].text() == "Midtown (NYC)"
    assert "Uncontrolled hypertension" in view.detail.flags.text()
    selected = view.table.selectionModel().selectedRows()
    assert [view.model.patient_at(i.row()).id for i in selected] == [view.detail.record.id]

    search(qtbot, view, "luk")
    assert [row.display_name for row in view.model.rows] == ["Łukasiewicz, Zoë"]
    assert view.count.text() == "1 patient matches"
    assert view.model.data(view.model.index(0, 4)) == "(212) 555-0142"


def test_wrong_phone_and_future_birth_date_are_shown_beside_their_fields(
    qtbot: QtBot, database: Database, front_desk: Actor
) -> None:
    view = make_view(qtbot, database, front_desk)
    dialog = new_patient_dialog(qtbot, view)
    form = dialog.form
    type_into(qtbot, form.editors["family_name"], "Ng")
    type_into(qtbot, form.editors["given_name"], "Ana")
    type_into(qtbot, form.editors["date_of_birth"], "2999-01-01")
    choose(form.editors["sex"], "X")
    type_into(qtbot, form.editors["phone"], "555-12")
    save(qtbot, dialog)

    assert dialog.isVisible()
    assert "in the future" in form.error_text("date_of_birth")
    assert "digits" in form.error_text("phone")
    assert form.error_text("family_name") == ""
    assert not form.banner.isVisible()
    assert count(database) == 0

    type_into(qtbot, form.editors["date_of_birth"], "1990-05-01")
    type_into(qtbot, form.editors["phone"], "212 555 0199")
    save(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert count(database) == 1


def test_every_patient_and_policy_field_has_an_editor(qtbot: QtBot) -> None:
    form = PatientForm([("NYC", "NYC — Midtown")])
    qtbot.add_widget(form)
    assert set(form.editors) == {spec.name for spec in patients.PATIENT_FIELDS}
    assert isinstance(form.editors["sex"], QComboBox)
    assert isinstance(form.editors["state"], QComboBox)
    assert isinstance(form.editors["home_location"], QComboBox)
    assert isinstance(form.editors["screening_flags"], CheckList)
    date_editor = form.editors["date_of_birth"]
    assert isinstance(date_editor, QLineEdit)
    assert "MM/DD/YYYY" in date_editor.placeholderText()
    policy_form = PolicyForm([("1", "Aetna")])
    qtbot.add_widget(policy_form)
    assert set(policy_form.editors) == set(POLICY_FIELDS)


# --- opening and editing -----------------------------------------------------------------


def test_double_click_opens_the_record_and_the_opening_is_audited(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor
) -> None:
    register(sqlite_db, front_desk, family_name="Abara", notes="Prefers afternoons")
    register(sqlite_db, front_desk, family_name="Brennan")
    view = make_view(qtbot, sqlite_db, front_desk)
    assert view.count.text() == "2 patients"
    open_row(qtbot, view, 1)
    assert view.detail.name.text() == "Brennan, Zoë"
    assert "MRN 100002" in view.detail.facts.text()
    with sqlite_db.reading() as session:
        seen = session.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == "view"))
        assert list(seen) == ["100002"]


def test_the_record_shows_each_diagnosis_with_its_words(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor
) -> None:
    register(sqlite_db, front_desk, diagnoses="F33.2, F43.10")
    view = make_view(qtbot, sqlite_db, front_desk)
    open_row(qtbot, view, 0)
    assert view.detail.values["diagnoses"].text() == (
        "F33.2 – Major depressive disorder, recurrent severe without psychotic features\n"
        "F43.10 – Post-traumatic stress disorder, unspecified"
    )


def test_enter_in_the_search_box_then_enter_in_the_list_opens_the_patient(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor
) -> None:
    register(sqlite_db, front_desk, family_name="Abara", notes="Prefers afternoons")
    register(sqlite_db, front_desk, family_name="Brennan")
    view = make_view(qtbot, sqlite_db, front_desk)
    with qtbot.waitActive(view):
        view.activateWindow()
    qtbot.keyClicks(view.search, "abar")
    qtbot.keyClick(view.search, Qt.Key.Key_Return)
    assert view.table.hasFocus()
    assert view.table.currentIndex().row() == 0
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.detail.record is not None)
    assert view.detail.name.text() == "Abara, Zoë"
    assert view.detail.values["notes"].text() == "Prefers afternoons"


def test_edit_patient_saves_and_shows_the_change(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor
) -> None:
    register(sqlite_db, front_desk)
    view = make_view(qtbot, sqlite_db, front_desk)
    open_row(qtbot, view, 0)
    qtbot.mouseClick(view.detail.edit_button, Qt.MouseButton.LeftButton)
    dialog = view.dialog
    assert dialog is not None
    phone = dialog.form.editors["phone"]
    assert isinstance(phone, QLineEdit) and phone.text() == "2125550142"
    type_into(qtbot, phone, "646-555-0100")
    type_into(qtbot, dialog.form.editors["preferred_name"], "Zo")
    save(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert view.detail.values["phone"].text() == "(646) 555-0100"
    assert view.detail.name.text() == 'Łukasiewicz, Zoë "Zo"'
    assert view.model.data(view.model.index(0, 1)) == 'Łukasiewicz, Zoë "Zo"'
    with sqlite_db.reading() as session:
        assert session.scalar(select(Patient.version)) == 2


def test_a_stale_edit_says_someone_else_changed_the_record(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient_id = register(sqlite_db, front_desk)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda _parent, _title, text: shown.append(text))
    view = make_view(qtbot, sqlite_db, front_desk)
    open_row(qtbot, view, 0)
    qtbot.mouseClick(view.detail.edit_button, Qt.MouseButton.LeftButton)
    dialog = view.dialog
    assert dialog is not None
    with sqlite_db.transaction() as session:  # another workstation saves first
        patients.update_patient(session, front_desk, patient_id, patient_raw(city="Albany"),
                                expected_version=1)
    type_into(qtbot, dialog.form.editors["city"], "Buffalo")
    save(qtbot, dialog)
    assert dialog.isVisible()
    assert len(shown) == 1 and "changed by someone else" in shown[0]
    with sqlite_db.reading() as session:
        assert session.scalar(select(Patient.city)) == "Albany"


# --- the list ----------------------------------------------------------------------------


def test_the_list_model_fetches_one_page_at_a_time(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor
) -> None:
    with sqlite_db.transaction() as session:
        for number in range(250):
            patients.create_patient(session, front_desk,
                                    patient_raw(family_name=f"Doe{number:03d}"))
    model = PatientListModel(AppContext(sqlite_db, front_desk))
    model.search("")
    assert model.rowCount() == 100
    assert model.summary() == "250 patients"
    root = model.index(-1, -1)
    assert model.canFetchMore(root)
    with qtbot.wait_signal(model.page_loaded):
        model.fetchMore(root)
    assert model.rowCount() == 200
    model.fetchMore(root)
    assert model.rowCount() == 250
    assert not model.canFetchMore(root)
    assert [row.display_name for row in model.rows[:2]] == ["Doe000, Zoë", "Doe001, Zoë"]

    model.search("doe1")  # exactly one full page: Doe100 to Doe199
    assert model.rowCount() == 100
    assert model.summary() == "100 patients match"  # exact before the last page is asked for
    model.fetchMore(root)
    assert model.rowCount() == 100 and model.summary() == "100 patients match"
    model.search("doe2")
    assert model.rowCount() == 50 and model.summary() == "50 patients match"
    model.search("doe")
    assert model.rowCount() == 100 and model.summary() == "250 patients match"


def test_a_search_reads_its_page_and_count_on_one_connection(
    sqlite_db: Database, front_desk: Actor
) -> None:
    # More matches than a page holds, so the count is read as well as the page: both on
    # one connection, not one each; and the next keystroke reuses it (HeldRows).
    with sqlite_db.transaction() as session:
        for number in range(120):
            patients.create_patient(session, front_desk,
                                    patient_raw(family_name=f"Doe{number:03d}"))
    checkouts: list[object] = []
    event.listen(sqlite_db.engine, "checkout", lambda *args: checkouts.append(args[0]))
    model = PatientListModel(AppContext(sqlite_db, front_desk))
    model.search("doe")
    assert model.rowCount() == 100 and model.summary() == "120 patients match"
    assert len(checkouts) == 1
    model.search("doe11")  # one page holds all ten: no count is read
    assert model.summary() == "10 patients match"
    assert len(checkouts) == 1


def test_scrolling_the_table_loads_the_next_page(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor
) -> None:
    with sqlite_db.transaction() as session:
        for number in range(130):
            patients.create_patient(session, front_desk,
                                    patient_raw(family_name=f"Doe{number:03d}"))
    view = make_view(qtbot, sqlite_db, front_desk)
    assert view.model.rowCount() == 100
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: view.model.rowCount() == 130)


def test_typing_searches_after_a_short_pause(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor
) -> None:
    register(sqlite_db, front_desk, family_name="Okafor", date_of_birth="1970-01-02")
    register(sqlite_db, front_desk, family_name="Olsen", phone="3035550199")
    view = make_view(qtbot, sqlite_db, front_desk)
    qtbot.keyClicks(view.search, "o")
    assert view.model.text == ""  # nothing searched per keystroke
    qtbot.waitUntil(lambda: view.count.text() == "2 patients match")
    search(qtbot, view, "01/02/1970")
    assert [r.family_name for r in view.model.rows] == ["Okafor"]
    search(qtbot, view, "0199")
    assert [r.family_name for r in view.model.rows] == ["Olsen"]
    search(qtbot, view, "nobody")
    assert view.count.text() == "No patient matches"


# --- policies ----------------------------------------------------------------------------


def test_add_a_primary_policy_to_the_open_patient(
    qtbot: QtBot, database: Database, front_desk: Actor
) -> None:
    register(database, front_desk)
    with database.transaction() as session:
        add_payer(session, "Aetna")
    view = make_view(qtbot, database, front_desk)
    open_row(qtbot, view, 0)
    panel = view.detail.policies
    assert panel.empty.isVisible()
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    assert isinstance(dialog, PolicyDialog)
    form = dialog.form
    rank = form.editors["rank"]
    assert isinstance(rank, QComboBox) and rank.currentData() == "primary"
    payer = form.editors["payer_id"]
    assert isinstance(payer, QComboBox)
    payer.setCurrentIndex(payer.findText("Aetna"))
    type_into(qtbot, form.editors["member_id"], "w123 456")
    type_into(qtbot, form.editors["effective_from"], "01/01/2026")
    type_into(qtbot, form.editors["prior_auth_number"], "PA-77")
    save(qtbot, dialog)
    assert "sessions" in form.error_text("sessions_authorized")  # authorised how many?
    type_into(qtbot, form.editors["sessions_authorized"], "12")
    save(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible())

    assert panel.list.count() == 1
    shown = panel.list.item(0).text()
    assert shown.startswith("Primary: Aetna · member W123456")
    assert "Prior auth PA-77 · 12 sessions" in shown
    with database.reading() as session:
        policy = session.scalars(select(InsurancePolicy)).one()
        assert (policy.member_id, policy.sessions_authorized) == ("W123456", 12)


def test_end_a_policy_keeps_it_listed_as_ended(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor
) -> None:
    patient_id = register(sqlite_db, front_desk)
    with sqlite_db.transaction() as session:
        payer = add_payer(session, "Cigna")
        from ketadesk.clinic.policies import add_policy

        add_policy(session, front_desk, patient_id, {
            "payer_id": payer.id, "rank": "primary", "member_id": "C1",
            "effective_from": "2025-01-01"})
    view = make_view(qtbot, sqlite_db, front_desk)
    open_row(qtbot, view, 0)
    panel = view.detail.policies
    assert not panel.end_button.isEnabled()
    panel.list.setCurrentRow(0, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    qtbot.mouseClick(panel.end_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    assert dialog is not None
    type_into(qtbot, dialog.form.editors["effective_to"], "2024-12-31")
    save(qtbot, dialog)
    assert "ends before it starts" in dialog.form.error_text("effective_to")
    type_into(qtbot, dialog.form.editors["effective_to"], "2025-06-30")
    save(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert "(ended)" in panel.list.item(0).text()
    assert "01/01/2025 – 06/30/2025" in panel.list.item(0).text()


def test_a_role_without_policy_rights_sees_no_policy_buttons(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor
) -> None:
    register(sqlite_db, front_desk)
    nurse = Actor(username="nurse", role=Role.CLINICAL)
    view = make_view(qtbot, sqlite_db, nurse)
    open_row(qtbot, view, 0)
    panel = view.detail.policies
    assert not panel.add_button.isVisible()
    assert not panel.end_button.isVisible()
    assert view.new_button.isEnabled()  # clinical staff may register patients
