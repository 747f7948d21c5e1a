"""The chart's History tab, used as a clinician uses it: add a trial through the dialog
(a bad dose shown beside its field), see the verdict change, remove an entry with a reason,
and open the letter of medical necessity."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import add_location, patient_raw
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit
from pytestqt.qtbot import QtBot

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database
from ketadesk.ui.context import AppContext
from ketadesk.ui.patients.history import AddTreatmentDialog, HistoryPanel, RemoveDialog
from ketadesk.ui.patients.view import PatientsView

pytestmark = pytest.mark.gui
ADMIN = Actor(username="test-admin", role=Role.ADMIN)
NURSE = Actor(username="nurse-kim", role=Role.CLINICAL)
DESK = Actor(username="desk-lee", role=Role.FRONT_DESK)
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def patient_id(sqlite_db: Database) -> int:
    with sqlite_db.transaction() as session:
        location = add_location(session)
        return create_patient(session, ADMIN, patient_raw(home_location=location.code)).id


def open_history(qtbot: QtBot, db: Database, patient_id: int, actor: Actor) -> HistoryPanel:
    view = PatientsView(AppContext(db, actor))
    qtbot.add_widget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    assert view.open_patient(patient_id) is not None
    tabs = view.detail.tabs
    assert tabs is not None
    bar = tabs.tabBar()
    history = next(i for i in range(tabs.count()) if tabs.tabText(i) == "History")
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(history).center())
    assert tabs.tabText(tabs.currentIndex()) == "History"
    return view.detail.history


def fill(qtbot: QtBot, dialog: AddTreatmentDialog, **typed: str) -> None:
    for name, text in typed.items():
        editor = dialog.form.editors[name]
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(editor.findData(text))
        elif isinstance(editor, QLineEdit):
            editor.clear()
            qtbot.keyClicks(editor, text)


def add_trial(qtbot: QtBot, panel: HistoryPanel, drug: str, dose: str) -> AddTreatmentDialog:
    qtbot.mouseClick(panel.add_button, LEFT)
    dialog = panel.dialog
    assert isinstance(dialog, AddTreatmentDialog)
    fill(qtbot, dialog, kind="antidepressant", treatment=drug, dose=dose, weeks="8",
         response="none", stopped="no response", started="2026-03")
    dialog.save()
    return dialog


def test_a_clinician_records_trials_and_the_verdict_follows(
    qtbot: QtBot, sqlite_db: Database, patient_id: int, tmp_path: Path
) -> None:
    panel = open_history(qtbot, sqlite_db, patient_id, NURSE)
    assert "not shown: 0 of the 2" in panel.verdict.text()
    refused = add_trial(qtbot, panel, "sertraline", "150mg")
    assert "write the number, a space and the unit" in refused.form.error_text("dose")
    assert refused.isVisible() and panel.table.rowCount() == 0
    fill(qtbot, refused, dose="150 mg")
    refused.save()
    assert not refused.isVisible() and panel.table.rowCount() == 1
    add_trial(qtbot, panel, "bupropion", "300 mg")
    assert panel.table.rowCount() == 2
    assert "Treatment-resistant depression shown" in panel.verdict.text()
    assert panel.table.item(1, 6).text() == "Yes"

    panel.table.selectRow(1)
    qtbot.mouseClick(panel.remove_button, LEFT)
    remove = panel.dialog
    assert isinstance(remove, RemoveDialog)
    qtbot.keyClicks(remove.form.editors["reason"], "entered for the wrong patient")
    remove.remove()
    assert panel.table.rowCount() == 1
    assert "not shown: 1 of the 2" in panel.verdict.text()

    opened: list[QUrl] = []
    panel.letter_button.opener = lambda url: opened.append(url) or True
    path = panel.letter_button.open_pdf()
    assert path is not None and path.read_bytes().startswith(b"%PDF")


def test_an_earlier_episode_is_ticked_in_the_dialog(
    qtbot: QtBot, sqlite_db: Database, patient_id: int
) -> None:
    panel = open_history(qtbot, sqlite_db, patient_id, NURSE)
    qtbot.mouseClick(panel.add_button, LEFT)
    dialog = panel.dialog
    assert isinstance(dialog, AddTreatmentDialog)
    fill(qtbot, dialog, kind="tms", treatment="TMS, left DLPFC", weeks="6", response="partial")
    episode = dialog.form.editors["earlier_episode"]
    assert isinstance(episode, QCheckBox)
    episode.setChecked(True)
    dialog.save()
    assert panel.table.item(0, 0).text() == "TMS (earlier episode)"
    assert "tms is not an oral antidepressant trial" in panel.verdict.text()


def test_the_desk_reads_the_history_but_may_not_change_it(
    qtbot: QtBot, sqlite_db: Database, patient_id: int
) -> None:
    panel = open_history(qtbot, sqlite_db, patient_id, DESK)
    assert not panel.add_button.isEnabled() and not panel.remove_button.isEnabled()
    assert "may not record" in panel.add_button.toolTip()
    assert panel.letter_button.isEnabled()
