"""Settings → Protocols driven as a manager and a front-desk user would: click, type, read.

Each test opens a real :class:`SettingsView` over a migrated database holding the shipped
protocols, clicks the Protocols tab and a protocol in its list, types over fields and
presses the buttons, then checks what the screen says and what the database holds.
"""

from __future__ import annotations

import pytest
from builders import scheduling_clinic
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QMessageBox, QTableWidget, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.db import Database
from ketadesk.scheduling import protocol_editing
from ketadesk.scheduling.models import Protocol, Series
from ketadesk.scheduling.protocols import ensure_default_protocols, get_protocol
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import FieldForm
from ketadesk.ui.settings import SettingsView
from ketadesk.ui.settings.protocols import KEY_FREE, ProtocolsTab

pytestmark = pytest.mark.gui

MANAGER = Actor(username="maria", role=Role.MANAGER)
FRONT_DESK = Actor(username="tom", role=Role.FRONT_DESK)
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(autouse=True)
def warnings_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Message boxes are recorded instead of blocking the test; each test checks them."""
    shown: list[str] = []

    def warn(_parent: QWidget | None, _title: str, text: str, *_args: object) -> None:
        shown.append(text)

    monkeypatch.setattr(QMessageBox, "warning", warn)
    return shown


def with_protocols(db: Database) -> Database:
    with db.transaction() as session:
        ensure_default_protocols(session, MANAGER)
    return db


def open_protocols(qtbot: QtBot, db: Database, actor: Actor, name: str) -> ProtocolsTab:
    """Open Settings as ``actor``, click the Protocols tab, then the protocol ``name``."""
    view = SettingsView(AppContext(db, actor))
    qtbot.add_widget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    bar = view.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == "Protocols")
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())
    tab = view.pages["Protocols"]
    assert isinstance(tab, ProtocolsTab) and view.tabs.currentWidget() is tab
    click_row(qtbot, tab.table, name)
    return tab


def click_row(qtbot: QtBot, table: QTableWidget, text: str) -> None:
    items = table.findItems(text, Qt.MatchFlag.MatchExactly)
    assert items, f"no row shows {text!r}"
    table.scrollToItem(items[0])
    qtbot.mouseClick(table.viewport(), LEFT, pos=table.visualItemRect(items[0]).center())


def type_in(qtbot: QtBot, form: FieldForm, name: str, text: str) -> None:
    """Click into field ``name``, select what is there, and type ``text`` over it."""
    editor = form.editors[name]
    assert isinstance(editor, QLineEdit)
    qtbot.mouseClick(editor, LEFT)
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor, text)


def choose(qtbot: QtBot, form: FieldForm, name: str, label: str) -> None:
    """Pick the drop-down entry ``label`` with the arrow keys."""
    combo = form.editors[name]
    assert isinstance(combo, QComboBox)
    index = combo.findText(label)
    combo.setFocus()
    while combo.currentIndex() != index:
        key = Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up
        qtbot.keyClick(combo, key)


def row_of(table: QTableWidget, first_cell: str) -> list[str]:
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == first_cell)
    return [table.item(row, c).text() for c in range(table.columnCount())]


def shown_errors(form: FieldForm) -> dict[str, str]:
    return {name: form.error_text(name) for name in form.errors if form.error_text(name)}


def test_manager_changes_the_iv_induction_chair_time(
    qtbot: QtBot, database: Database, warnings_shown: list[str]
) -> None:
    tab = open_protocols(qtbot, with_protocols(database), MANAGER, "IV ketamine induction")
    assert tab.heading.text() == "IV ketamine induction (iv-induction)"
    assert row_of(tab.table, "IV ketamine induction")[1:] == ["6", "70 min", "Active"]
    type_in(qtbot, tab.form, "treatment_minutes", "50")
    type_in(qtbot, tab.form, "monitoring_minutes", "40")
    qtbot.mouseClick(tab.save_button, LEFT)

    assert tab.saved.text() == "Saved."
    assert row_of(tab.table, "IV ketamine induction")[1:] == ["6", "90 min", "Active"]
    with database.reading() as session:
        protocol = get_protocol(session, "iv-induction")
        assert (protocol.treatment_minutes, protocol.monitoring_minutes) == (50, 40)
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.actor == "maria")
        ).one()
        assert audit.after == {"treatment_minutes": 50, "monitoring_minutes": 40, "version": 2}
    assert warnings_shown == []


def test_a_bad_weekly_pattern_is_shown_beside_it_and_nothing_is_saved(
    qtbot: QtBot, sqlite_db: Database, warnings_shown: list[str]
) -> None:
    tab = open_protocols(qtbot, with_protocols(sqlite_db), MANAGER, "IV ketamine induction")
    type_in(qtbot, tab.form, "weekly_pattern", "2,2")
    type_in(qtbot, tab.form, "treatment_minutes", "45")
    qtbot.mouseClick(tab.save_button, LEFT)

    assert shown_errors(tab.form) == {
        "weekly_pattern": "adds up to 4 sessions but the protocol has 6; make them agree"
    }
    assert tab.saved.text() == ""
    with sqlite_db.reading() as session:
        protocol = get_protocol(session, "iv-induction")
        assert (protocol.weekly_pattern, protocol.treatment_minutes, protocol.version) == (
            "3,3",
            40,
            1,
        )

    type_in(qtbot, tab.form, "weekly_pattern", "2,2,2")
    qtbot.mouseClick(tab.save_button, LEFT)
    assert shown_errors(tab.form) == {}
    with sqlite_db.reading() as session:
        assert get_protocol(session, "iv-induction").weekly_pattern == "2,2,2"
    assert warnings_shown == []


def test_front_desk_reads_protocols_but_cannot_change_them(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    tab = open_protocols(
        qtbot, with_protocols(sqlite_db), FRONT_DESK, "Esketamine (Spravato) induction"
    )
    note = tab.findChild(QWidget, "read_only_note")
    assert note is not None and note.isVisible()
    assert note.text() == "Only managers and administrators can change protocols."  # type: ignore[attr-defined]
    assert tab.form.values()["weekly_pattern"] == "2,2,2,2,1,1,1,1"
    assert tab.form.values()["monitoring_minutes"] == "120"
    buttons = (tab.save_button, tab.new_button, tab.deactivate_button)
    assert not any(button.isVisible() for button in buttons)
    editors = tab.form.editors.values()
    assert all(e.isReadOnly() for e in editors if isinstance(e, QLineEdit))
    assert not any(e.isEnabled() for e in editors if isinstance(e, QComboBox))


def test_the_key_and_treatment_lock_once_a_series_follows_the_protocol(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    with sqlite_db.transaction() as session:
        clinic = scheduling_clinic(session, MANAGER)
        session.add(
            Series(
                patient_id=clinic.patient.id,
                protocol_id=clinic.protocols["iv-induction"].id,
                location_id=clinic.location.id,
            )
        )
    tab = open_protocols(qtbot, sqlite_db, MANAGER, "IV ketamine induction")
    key, modality = tab.form.editors["key"], tab.form.editors["modality"]
    assert isinstance(key, QLineEdit) and key.isReadOnly()
    assert not modality.isEnabled()
    assert tab.key_note.text() == (
        "1 series follows this protocol, so its key and treatment can no longer change."
    )

    click_row(qtbot, tab.table, "IM ketamine induction")  # no series follow this one
    assert not key.isReadOnly() and modality.isEnabled()
    assert tab.key_note.text() == KEY_FREE
    type_in(qtbot, tab.form, "key", "im-six")
    qtbot.mouseClick(tab.save_button, LEFT)
    assert tab.heading.text() == "IM ketamine induction (im-six)"
    assert tab.saved.text() == "Saved."


def test_manager_adds_an_esketamine_protocol_only_with_two_hours_of_monitoring(
    qtbot: QtBot, sqlite_db: Database, warnings_shown: list[str]
) -> None:
    tab = open_protocols(qtbot, with_protocols(sqlite_db), MANAGER, "IV ketamine booster")
    qtbot.mouseClick(tab.new_button, LEFT)
    assert tab.heading.text() == "New protocol"
    typed = {
        "name": "Esketamine weekly maintenance",
        "key": "esketamine-weekly",
        "interval_weeks": "1",
        "min_hours_between": "48",
        "treatment_minutes": "15",
        "monitoring_minutes": "90",
        "services": "g2083, 99213",
    }
    for name, text in typed.items():
        type_in(qtbot, tab.form, name, text)
    choose(qtbot, tab.form, "modality", "Esketamine nasal")
    choose(qtbot, tab.form, "phase", "Maintenance")
    qtbot.mouseClick(tab.save_button, LEFT)
    assert list(shown_errors(tab.form)) == ["monitoring_minutes"]
    assert "Spravato REMS requires at least 120 minutes" in tab.form.error_text(
        "monitoring_minutes"
    )

    type_in(qtbot, tab.form, "monitoring_minutes", "120")
    qtbot.mouseClick(tab.save_button, LEFT)
    assert tab.heading.text() == "Esketamine weekly maintenance (esketamine-weekly)"
    assert row_of(tab.table, "Esketamine weekly maintenance")[1:] == [
        "open-ended",
        "135 min",
        "Active",
    ]
    with sqlite_db.reading() as session:
        protocol = get_protocol(session, "esketamine-weekly")
        assert (protocol.services, protocol.interval_weeks, protocol.requires_rems) == (
            "G2083,99213",
            "1",
            True,
        )
    assert warnings_shown == []


def test_a_save_over_someone_elses_edit_is_refused_in_words(
    qtbot: QtBot, sqlite_db: Database, warnings_shown: list[str]
) -> None:
    tab = open_protocols(
        qtbot, with_protocols(sqlite_db), MANAGER, "Ketamine-assisted psychotherapy"
    )
    with sqlite_db.transaction() as session:  # another workstation saves first
        kap = get_protocol(session, "kap")
        values = {**protocol_editing.protocol_values(kap), "treatment_minutes": "75"}
        protocol_editing.update_protocol(session, MANAGER, kap.id, values)
    type_in(qtbot, tab.form, "treatment_minutes", "100")
    qtbot.mouseClick(tab.save_button, LEFT)

    assert len(warnings_shown) == 1
    assert "was changed by someone else after you opened it" in warnings_shown[0]
    assert tab.saved.text() == ""
    with sqlite_db.reading() as session:
        assert get_protocol(session, "kap").treatment_minutes == 75


def test_a_deactivated_protocol_stays_listed_greyed(
    qtbot: QtBot, sqlite_db: Database, warnings_shown: list[str]
) -> None:
    tab = open_protocols(qtbot, with_protocols(sqlite_db), MANAGER, "IV ketamine booster")
    qtbot.mouseClick(tab.deactivate_button, LEFT)
    assert row_of(tab.table, "IV ketamine booster")[-1] == "Inactive"
    assert tab.deactivate_button.text() == "Reactivate"
    with sqlite_db.reading() as session:
        stored = session.scalars(select(Protocol).where(Protocol.key == "iv-booster")).one()
        assert stored.active is False
    assert warnings_shown == []
