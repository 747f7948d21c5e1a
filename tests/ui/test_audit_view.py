"""The audit viewer (a Settings tab for managers and administrators) and the banner an
administrator sees when the audit log's chain is broken."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from builders import add_location, patient_raw
from pypdf import PdfReader
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.patients import create_patient, open_patient
from ketadesk.db import Database
from ketadesk.ui.audit import AuditView
from ketadesk.ui.context import AppContext
from ketadesk.ui.main_window import MainWindow
from ketadesk.ui.settings import SettingsView

pytestmark = pytest.mark.gui

ADMIN = Actor(username="ada", role=Role.ADMIN)
MANAGER = Actor(username="mia", role=Role.MANAGER)
NINA = Actor(username="nina", role=Role.CLINICAL)


@pytest.fixture
def db(sqlite_template: Path, tmp_path: Path) -> Database:
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    with database.transaction() as session:
        location = add_location(session)
        zoe = create_patient(session, ADMIN, patient_raw(home_location=location.code))
        other = create_patient(session, ADMIN, patient_raw(given_name="Omar"))
        open_patient(session, NINA, zoe.id)
        open_patient(session, NINA, other.id)
        audit.record_update(
            session, NINA, "patient", zoe.mrn, {"phone": "2125550100"}, {"phone": "2125550142"}
        )
    return database


def zoe_mrn(db: Database) -> str:
    with db.reading() as session:
        flt = audit.AuditFilter(entity="patient")
        lines = audit.search(session, ADMIN, flt, oldest_first=True)
    return lines[0].entity_id


def viewer(qtbot: QtBot, db: Database, actor: Actor = MANAGER) -> AuditView:
    view = AuditView(AppContext(db, actor))
    qtbot.addWidget(view)
    return view


def texts(view: AuditView, column: int) -> list[str]:
    return [view.table.item(row, column).text() for row in range(view.table.rowCount())]


def test_lists_every_row_newest_first_and_filters_by_patient(qtbot: QtBot, db: Database) -> None:
    view = viewer(qtbot, db)
    assert view.table.rowCount() == 5
    zoe = zoe_mrn(db)
    qtbot.keyClicks(view.mrn, zoe)
    qtbot.keyClick(view.mrn, Qt.Key.Key_Return)
    assert texts(view, 2) == [
        f"nina changed patient {zoe} (phone).",
        f"nina viewed patient {zoe}.",
        f"ada created patient {zoe}.",
    ]
    assert view.message.text() == "3 entries."


def test_choosing_a_row_shows_before_and_after(qtbot: QtBot, db: Database) -> None:
    view = viewer(qtbot, db)
    qtbot.keyClicks(view.user, "nina")
    qtbot.mouseClick(view.show_button, Qt.MouseButton.LeftButton)
    assert texts(view, 1) == ["nina", "nina", "nina"]
    view.table.selectRow(0)
    assert '"phone": "2125550100"' in view.before.toPlainText()
    assert '"phone": "2125550142"' in view.after.toPlainText()
    view.table.selectRow(1)
    assert view.before.toPlainText() == "—"


def test_dates_and_unknown_patients_are_answered_in_words(qtbot: QtBot, db: Database) -> None:
    view = viewer(qtbot, db)
    qtbot.keyClicks(view.start, "2000-01-01")
    qtbot.keyClicks(view.end, "2000-01-31")
    qtbot.mouseClick(view.show_button, Qt.MouseButton.LeftButton)
    assert view.table.rowCount() == 0 and view.message.text() == "0 entries."
    view.start.clear()
    view.end.clear()
    qtbot.keyClicks(view.mrn, "999999")
    qtbot.mouseClick(view.show_button, Qt.MouseButton.LeftButton)
    assert view.message.text() == "no patient with MRN 999999"


def test_the_accounting_of_disclosures_button_saves_the_pdf(
    qtbot: QtBot, db: Database, tmp_path: Path
) -> None:
    view = viewer(qtbot, db)
    zoe = zoe_mrn(db)
    qtbot.keyClicks(view.mrn, zoe)
    saved = view.save_disclosures(tmp_path / "zoe.pdf")
    assert saved is not None and stat.S_IMODE(saved.stat().st_mode) == 0o600
    words = PdfReader(saved).pages[0].extract_text()
    assert f"nina viewed patient {zoe}." in words
    assert "Saved the accounting (3 entries)" in view.message.text()


def test_only_managers_and_administrators_get_the_tab(qtbot: QtBot, db: Database) -> None:
    for actor, expected in ((MANAGER, True), (ADMIN, True), (NINA, False)):
        settings = SettingsView(AppContext(db, actor))
        qtbot.addWidget(settings)
        titles = [settings.tabs.tabText(i) for i in range(settings.tabs.count())]
        assert ("Audit log" in titles) is expected


def test_an_administrator_sees_a_broken_chain_at_log_in(qtbot: QtBot, db: Database) -> None:
    window = MainWindow(AppContext(db, ADMIN))
    qtbot.addWidget(window)
    assert window.audit_banner is None
    path = db.engine.url.database
    assert path is not None
    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER audit_entry_no_update")
    # Row 6 is the "verify" row the first log-in left, after its checkpoint (row 5).
    raw.execute("UPDATE audit_entry SET actor = 'someone' WHERE id = 6")
    raw.commit()
    raw.close()
    manager_window = MainWindow(AppContext(db, MANAGER))
    qtbot.addWidget(manager_window)
    assert manager_window.audit_banner is None
    again = MainWindow(AppContext(db, ADMIN))
    qtbot.addWidget(again)
    assert again.audit_banner is not None
    assert "Row 6 was altered" in again.audit_banner.text()
