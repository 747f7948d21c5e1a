"""The log-in dialog: right and wrong passwords, a disabled or locked account, Enter to
submit, a forced change after a reset; the change-password dialog."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from ketadesk.access import users
from ketadesk.access.permissions import Actor, Role
from ketadesk.config import AccountPolicy
from ketadesk.db import Database
from ketadesk.ui.login import ChangePasswordDialog, LoginDialog

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


def test_a_locked_account_is_told_until_when_even_with_the_right_password(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    add_user(database, admin)
    dialog = make_dialog(qtbot, database)
    dialog.policy = AccountPolicy(lock_after=2, lock_minutes=15)
    qtbot.keyClicks(dialog.username, "alice")
    for _ in range(2):
        qtbot.keyClicks(dialog.password, "not the password")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.message.text().startswith(
        "2 wrong passwords in a row; the account is locked until ")
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.actor is None and dialog.isVisible()
    assert "locked until" in dialog.message.text()
    assert dialog.message.text().endswith("ask an administrator to reset the password.")


def reset_alice(db: Database, admin: Actor) -> None:
    add_user(db, admin)
    with db.transaction() as session:
        users.reset_password(session, admin, "alice", RESET)


RESET = "violet kettle harbour"


def test_after_a_reset_a_new_password_is_chosen_before_going_on(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    reset_alice(database, admin)
    dialog = make_dialog(qtbot, database)
    seen: list[str] = []

    def choose() -> None:
        change = dialog.findChild(ChangePasswordDialog)
        assert change is not None and not change.old.isVisible()  # just typed it
        qtbot.keyClicks(change.new, "password123")
        qtbot.keyClicks(change.again, "password123")
        qtbot.mouseClick(change.save_button, Qt.MouseButton.LeftButton)
        seen.append(change.message.text())
        qtbot.keyClicks(change.new, "amber lantern meadow")
        qtbot.keyClicks(change.again, "amber lantern meadow")
        qtbot.keyClick(change.again, Qt.Key.Key_Return)

    QTimer.singleShot(0, choose)
    qtbot.keyClicks(dialog.username, "alice")
    qtbot.keyClicks(dialog.password, RESET)
    with qtbot.wait_signal(dialog.accepted):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert seen == ["The new password is too easy to guess. This is a very common password. "
                    "Add another word or two. Uncommon words are better."]
    assert dialog.actor is not None and dialog.actor.username == "alice"
    with database.transaction() as session:
        again = users.log_in(session, "alice", "amber lantern meadow")
    assert again.actor is not None and not again.must_change_password


def test_giving_up_the_forced_change_does_not_log_in(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    reset_alice(database, admin)
    dialog = make_dialog(qtbot, database)
    QTimer.singleShot(0, lambda: dialog.findChild(ChangePasswordDialog).reject())
    qtbot.keyClicks(dialog.username, "alice")
    qtbot.keyClicks(dialog.password, RESET)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert dialog.actor is None and dialog.isVisible()
    assert dialog.message.text() == (
        "An administrator reset your password: choose a new one to go on.")


def test_a_user_changes_their_own_password(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    add_user(database, admin)
    with database.transaction() as session:
        alice = users.log_in(session, "alice", PASSWORD).accepted()
    change = ChangePasswordDialog(database, alice)
    qtbot.add_widget(change)
    change.show()
    qtbot.keyClicks(change.old, "not the password")
    qtbot.keyClicks(change.new, RESET)
    qtbot.keyClicks(change.again, RESET)
    qtbot.mouseClick(change.save_button, Qt.MouseButton.LeftButton)
    assert change.message.text() == "The current password is wrong."
    with database.reading() as session:
        assert users.get_user(session, "alice").failed_logins == 1
    qtbot.keyClicks(change.old, PASSWORD)
    qtbot.keyClicks(change.new, RESET)
    qtbot.keyClicks(change.again, RESET + "x")
    qtbot.mouseClick(change.save_button, Qt.MouseButton.LeftButton)
    assert change.message.text() == "The two new passwords differ; type both again."
    qtbot.keyClicks(change.old, PASSWORD)
    qtbot.keyClicks(change.new, RESET)
    qtbot.keyClicks(change.again, RESET)
    with qtbot.wait_signal(change.accepted):
        qtbot.mouseClick(change.save_button, Qt.MouseButton.LeftButton)
    with database.transaction() as session:
        assert users.log_in(session, "alice", RESET).actor is not None
