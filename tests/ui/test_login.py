"""The log-in dialog: right and wrong passwords, a disabled account, Enter to submit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from ketadesk.access import users
from ketadesk.access.permissions import Actor, Role
from ketadesk.db import Database
from ketadesk.ui.login import LoginDialog

pytestmark = pytest.mark.gui
PASSWORD = "correct horse battery"


def add_user(db: Database, admin: Actor, name: str = "alice", *, active: bool = True) -> None:
    with db.transaction() as session:
        users.create_user(session, admin, username=name, full_name=name.title(),
                          role=Role.FRONT_DESK, password=PASSWORD)
        if not active:
            users.set_active(session, admin, name, False)


def make_dialog(qtbot: QtBot, db: Database) -> LoginDialog:
    dialog = LoginDialog(db, database_label="clinic.sqlite3")
    qtbot.add_widget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_wrong_password_is_said_in_the_dialog_and_the_right_one_logs_in(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    add_user(database, admin)
    dialog = make_dialog(qtbot, database)
    qtbot.keyClicks(dialog.username, "alice")
    qtbot.keyClicks(dialog.password, "not the password")
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.message.isVisible()
    assert dialog.message.text() == "Wrong user name or password."
    assert dialog.password.text() == ""
    assert dialog.actor is None

    qtbot.keyClicks(dialog.password, PASSWORD)
    with qtbot.wait_signal(dialog.accepted):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)  # Enter submits
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.actor is not None
    assert (dialog.actor.username, dialog.actor.role) == ("alice", Role.FRONT_DESK)


def test_a_disabled_account_is_told_so(qtbot: QtBot, database: Database, admin: Actor) -> None:
    add_user(database, admin, "bob", active=False)
    dialog = make_dialog(qtbot, database)
    qtbot.keyClicks(dialog.username, "bob")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert "disabled" in dialog.message.text()


def test_blank_fields_ask_for_both_without_asking_the_database(qtbot: QtBot) -> None:
    nowhere = Database("sqlite://")
    dialog = make_dialog(qtbot, nowhere)
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == "Enter your user name and password."
    nowhere.dispose()
