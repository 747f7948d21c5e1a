"""Account actions in the window: File → Change password…, and Settings → Users'
"Reset password…" and "Rename…", driven by clicks and typing over a real SQLite file.

Every test checks what the person reads and what the database then holds (logging in
through :func:`ketadesk.access.users.log_in` as the window does). Message boxes are
recorded instead of opened, and each test checks that none was needed.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketadesk.access import users
from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.config import AccountPolicy
from ketadesk.db import Database
from ketadesk.ui.context import AppContext
from ketadesk.ui.login import ChangePasswordDialog
from ketadesk.ui.main_window import MainWindow
from ketadesk.ui.settings import SettingsView
from ketadesk.ui.settings.user_dialogs import RenameUserDialog, ResetPasswordDialog
from ketadesk.ui.settings.users import UsersTab

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton
ROOT = Actor(username="root", role=Role.ADMIN)
PASSWORD = "correct horse battery"
TEMPORARY = "violet kettle harbour"
NEW = "amber lantern meadow"


@pytest.fixture(autouse=True)
def boxes_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Message boxes are recorded instead of blocking; the tests expect none."""
    shown: list[str] = []

    def record(_parent: QWidget | None, _title: str, text: str, *_args: object) -> None:
        shown.append(text)

    for kind in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, kind, record)
    return shown


def add_user(db: Database, name: str, full_name: str, role: Role = Role.FRONT_DESK) -> None:
    with db.transaction() as session:
        users.create_user(
            session, ROOT, username=name, full_name=full_name, role=role, password=PASSWORD
        )


def log_in(db: Database, name: str, password: str) -> users.LoginAttempt:
    with db.transaction() as session:
        return users.log_in(session, name, password)


def click(qtbot: QtBot, button: QPushButton) -> None:
    qtbot.mouseClick(button, LEFT)


def type_over(qtbot: QtBot, editor: QWidget, text: str) -> None:
    editor.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor, text)


# -- File → Change password… ------------------------------------------------------------------


def open_window(qtbot: QtBot, db: Database, actor: Actor) -> MainWindow:
    window = MainWindow(AppContext(db, actor), initial="settings")
    qtbot.add_widget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window


def file_action(window: MainWindow, text: str) -> object:
    menu = window.menuBar().actions()[0].menu()
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)  # type: ignore[union-attr]


def test_a_user_changes_their_password_from_the_file_menu(
    qtbot: QtBot, sqlite_db: Database, boxes_shown: list[str]
) -> None:
    add_user(sqlite_db, "alice", "Alice Moreno")
    alice = log_in(sqlite_db, "alice", PASSWORD).accepted()
    window = open_window(qtbot, sqlite_db, alice)
    action = file_action(window, "Change password…")
    assert action is window.change_password_action and action.isEnabled()

    action.trigger()
    dialog = window.findChild(ChangePasswordDialog)
    assert dialog is not None and dialog.isVisible() and dialog.old.isVisible()
    qtbot.keyClicks(dialog.old, "not my password")
    qtbot.keyClicks(dialog.new, NEW)
    qtbot.keyClicks(dialog.again, NEW)
    click(qtbot, dialog.save_button)
    assert dialog.isVisible()
    assert dialog.message.text() == "The current password is wrong."

    qtbot.keyClicks(dialog.old, PASSWORD)
    qtbot.keyClicks(dialog.new, NEW)
    qtbot.keyClicks(dialog.again, NEW)
    with qtbot.wait_signal(dialog.accepted):
        click(qtbot, dialog.save_button)
    assert not dialog.isVisible()
    assert window.statusBar().currentMessage() == "Your password was changed."
    assert log_in(sqlite_db, "alice", PASSWORD).actor is None
    assert log_in(sqlite_db, "alice", NEW).actor is not None
    assert boxes_shown == []


def test_change_password_follows_a_rename_made_since_the_log_in(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    add_user(sqlite_db, "alice", "Alice Moreno")
    alice = log_in(sqlite_db, "alice", PASSWORD).accepted()
    with sqlite_db.transaction() as session:
        users.rename_user(session, ROOT, "alice", "amoreno")
    window = open_window(qtbot, sqlite_db, alice)
    dialog = window.change_password()
    assert isinstance(dialog, ChangePasswordDialog)
    qtbot.keyClicks(dialog.old, PASSWORD)
    qtbot.keyClicks(dialog.new, NEW)
    qtbot.keyClicks(dialog.again, NEW)
    with qtbot.wait_signal(dialog.accepted):
        click(qtbot, dialog.save_button)
    assert log_in(sqlite_db, "amoreno", NEW).actor is not None


def test_without_an_account_there_is_no_password_to_change(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    window = open_window(qtbot, sqlite_db, ROOT)  # the command line's actor: no user id
    action = window.change_password_action
    assert not action.isEnabled()
    assert "no password to change" in action.statusTip()
    assert window.change_password() is None
    assert window.findChild(ChangePasswordDialog) is None


# -- Settings → Users: reset and rename --------------------------------------------------------


def users_tab(qtbot: QtBot, db: Database, actor: Actor, name: str) -> UsersTab:
    """Open Settings on the Users tab and click the row of user ``name``."""
    view = SettingsView(AppContext(db, actor))
    qtbot.add_widget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    tab = view.pages["Users"]
    view.tabs.setCurrentWidget(tab)
    assert isinstance(tab, UsersTab)
    item = tab.table.findItems(name, Qt.MatchFlag.MatchExactly)[0]
    qtbot.mouseClick(tab.table.viewport(), LEFT, pos=tab.table.visualItemRect(item).center())
    assert tab.form.values()["username"] == name
    return tab


def test_an_administrator_resets_a_locked_password_which_must_then_be_changed(
    qtbot: QtBot, sqlite_db: Database, boxes_shown: list[str]
) -> None:
    add_user(sqlite_db, "alice", "Alice Moreno")
    with sqlite_db.transaction() as session:  # three wrong passwords lock the account
        for _ in range(3):
            users.log_in(session, "alice", "wrong", policy=AccountPolicy(lock_after=3))
    tab = users_tab(qtbot, sqlite_db, ROOT, "alice")
    assert tab.reset_button.isVisible() and tab.rename_button.isVisible()
    click(qtbot, tab.reset_button)
    dialog = tab.findChild(ResetPasswordDialog)
    assert dialog is not None and dialog.isVisible()
    assert "must then choose a new one" in dialog.hint.text()
    assert f"at least {users.MIN_PASSWORD_LENGTH} characters" in dialog.hint.text()

    qtbot.keyClicks(dialog.password, "password123")
    qtbot.keyClicks(dialog.again, "password123")
    click(qtbot, dialog.ok_button)
    assert dialog.isVisible()
    assert dialog.message.text().startswith("The temporary password is too easy to guess.")
    qtbot.keyClicks(dialog.password, TEMPORARY)
    qtbot.keyClicks(dialog.again, TEMPORARY + "!")
    click(qtbot, dialog.ok_button)
    assert dialog.message.text() == (
        "The two copies of the temporary password differ; type both again."
    )
    assert log_in(sqlite_db, "alice", TEMPORARY).actor is None  # nothing written yet

    qtbot.keyClicks(dialog.password, TEMPORARY)
    qtbot.keyClicks(dialog.again, TEMPORARY)
    with qtbot.wait_signal(dialog.accepted):
        click(qtbot, dialog.ok_button)
    assert tab.saved.text() == "Password reset: alice must choose a new one at the next log-in."
    attempt = log_in(sqlite_db, "alice", TEMPORARY)
    assert attempt.actor is not None and attempt.must_change_password  # and the lock is gone
    assert boxes_shown == []


def test_an_administrator_renames_a_user_and_is_told_why_a_name_will_not_do(
    qtbot: QtBot, sqlite_db: Database, boxes_shown: list[str]
) -> None:
    add_user(sqlite_db, "alice", "Alice Moreno")
    add_user(sqlite_db, "bob", "Bob Tran")
    tab = users_tab(qtbot, sqlite_db, ROOT, "alice")
    click(qtbot, tab.rename_button)
    dialog = tab.findChild(RenameUserDialog)
    assert dialog is not None and dialog.new_name.text() == "alice"

    type_over(qtbot, dialog.new_name, "bob")
    click(qtbot, dialog.ok_button)
    assert dialog.message.text() == "There is already a user called bob."
    type_over(qtbot, dialog.new_name, "9 lives")
    click(qtbot, dialog.ok_button)
    assert dialog.message.text().startswith("The new user name must use 2–60 lower-case")
    type_over(qtbot, dialog.new_name, "AMoreno")
    with qtbot.wait_signal(dialog.accepted):
        qtbot.keyClick(dialog.new_name, Qt.Key.Key_Return)
    assert tab.saved.text() == "Renamed alice to amoreno."
    assert tab.form.values()["username"] == "amoreno"  # the renamed account stays chosen
    assert [tab.table.item(r, 0).text() for r in range(tab.table.rowCount())] == ["amoreno", "bob"]
    assert log_in(sqlite_db, "amoreno", PASSWORD).actor is not None
    with sqlite_db.reading() as session:
        renames = session.scalars(select(AuditEntry).where(AuditEntry.action == "rename")).all()
        assert len(renames) == 1 and renames[0].actor == ROOT.username
    assert boxes_shown == []


def test_the_services_refuse_a_manager_in_words_and_the_tab_hides_the_buttons(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    add_user(sqlite_db, "alice", "Alice Moreno")
    manager = Actor(username="maria", role=Role.MANAGER)
    tab = UsersTab(AppContext(sqlite_db, ROOT))  # built as an administrator ...
    qtbot.add_widget(tab)
    context = AppContext(sqlite_db, manager)
    for kind, field, text in (
        (ResetPasswordDialog, "password", TEMPORARY),
        (RenameUserDialog, "new_name", "amoreno"),
    ):
        dialog = kind(context, "alice", "Alice Moreno", tab)  # ... the manager acts
        qtbot.add_widget(dialog)
        editors = [getattr(dialog, field)] + ([dialog.again] if field == "password" else [])
        for editor in editors:
            type_over(qtbot, editor, text)
        dialog.submit()
        assert dialog.message.text() == "Maria (Manager) may not manage users."
        assert dialog.result() != dialog.DialogCode.Accepted
    assert log_in(sqlite_db, "alice", PASSWORD).actor is not None  # nothing changed

    hidden = UsersTab(context)  # the list is refused (Settings shows no Users tab to her)
    qtbot.add_widget(hidden)
    hidden.show()
    with sqlite_db.reading() as session:
        hidden.show_record(users.get_user(session, "alice").id)
    assert hidden.current is not None
    assert not hidden.reset_button.isVisible() and not hidden.rename_button.isVisible()
