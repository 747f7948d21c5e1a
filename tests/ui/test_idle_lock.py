"""The idle lock: typing works while it watches, a cover after the idle time, what was typed
kept, the password to go on, wrong ones counted toward the account's lock, activity
postpones it. The idle time is milliseconds here; no assertion depends on timing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketadesk.access import users
from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.config import AccountPolicy
from ketadesk.db import Database
from ketadesk.ui.context import AppContext
from ketadesk.ui.lock import IdleLock

pytestmark = pytest.mark.gui
PASSWORD = "correct horse battery"
LONG = 3_600_000  # an hour: never runs out during a test


def window_for(
    qtbot: QtBot,
    db: Database,
    admin: Actor,
    *,
    idle_ms: int = LONG,
    policy: AccountPolicy | None = None,
) -> tuple[QMainWindow, QLineEdit, IdleLock]:
    with db.transaction() as session:
        users.create_user(
            session,
            admin,
            username="alice",
            full_name="Alice",
            role=Role.FRONT_DESK,
            password=PASSWORD,
        )
        alice = users.log_in(session, "alice", PASSWORD).accepted()
    window = QMainWindow()
    note = QLineEdit()
    window.setCentralWidget(note)
    window.resize(1280, 800)
    qtbot.add_widget(window)
    window.show()
    with qtbot.waitActive(window):  # shortcuts act only in the active window
        window.activateWindow()
    note.setFocus()
    lock = IdleLock(window, AppContext(db=db, actor=alice), idle_ms=idle_ms, policy=policy)
    return window, note, lock


def failed_logins(db: Database) -> int:
    with db.reading() as session:
        return users.get_user(session, "alice").failed_logins


def under(window: QWidget, point: QPoint) -> QWidget | None:
    return window.childAt(point)


def test_typing_and_clicking_work_with_the_lock_installed(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    _window, note, lock = window_for(qtbot, database, admin)
    qtbot.keyClicks(note, "ketamine 0.5 mg/kg")
    qtbot.mouseClick(note, Qt.MouseButton.LeftButton)
    qtbot.keyClick(note, Qt.Key.Key_Backspace)
    assert note.text() == "ketamine 0.5 mg/k"
    assert not lock.is_locked


def test_idle_time_locks_and_the_password_restores_what_was_there(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    window, note, lock = window_for(qtbot, database, admin)
    qtbot.keyClicks(note, "half-typed note")
    lock.timer.setInterval(20)
    with qtbot.wait_signal(lock.locked, timeout=10_000):
        lock.timer.start()
    prompt = lock.prompt
    assert prompt is not None and prompt.isVisible()
    assert prompt.geometry() == window.rect()  # the whole window is covered
    assert under(window, window.rect().center()) is not note  # clicks land on the cover
    assert QApplication.focusWidget() is prompt.password  # keys go to the password
    qtbot.keyClick(prompt.password, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is prompt.password  # Tab does not reach the note
    assert note.text() == "half-typed note"

    with qtbot.wait_signal(lock.unlocked):
        qtbot.keyClicks(prompt.password, PASSWORD)
        qtbot.keyClick(prompt.password, Qt.Key.Key_Return)
    assert not lock.is_locked and lock.prompt is None
    assert under(window, window.rect().center()) is note
    assert QApplication.focusWidget() is note  # the focus is back where it was
    assert note.text() == "half-typed note" and note.isVisible()
    assert lock.timer.isActive()  # watching again
    qtbot.keyClicks(note, "!")
    assert note.text() == "half-typed note!"
    with database.reading() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "unlock" in actions


def test_a_wrong_password_keeps_it_locked_and_counts(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    _window, note, lock = window_for(qtbot, database, admin)
    qtbot.keyClicks(note, "kept")
    lock.lock()
    prompt = lock.prompt
    assert prompt is not None
    qtbot.keyClicks(prompt.password, "not the password")
    qtbot.keyClick(prompt.password, Qt.Key.Key_Return)
    assert lock.is_locked and prompt.isVisible()
    assert prompt.message.text() == "Wrong user name or password."
    assert prompt.password.text() == ""
    assert failed_logins(database) == 1
    assert not lock.unlock("")
    assert prompt.message.text() == "Type your password."
    assert failed_logins(database) == 1  # an empty field is not a guess
    assert lock.unlock(PASSWORD)
    assert failed_logins(database) == 0
    assert note.text() == "kept"


def test_wrong_passwords_at_the_lock_lock_the_account(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    _window, _note, lock = window_for(qtbot, database, admin, policy=AccountPolicy(lock_after=2))
    lock.lock()
    assert lock.prompt is not None
    for _ in range(2):
        assert not lock.unlock("not the password")
    assert "the account is locked until" in lock.prompt.message.text()
    assert not lock.unlock(PASSWORD)  # even the right one, now
    assert lock.is_locked
    assert "locked until" in lock.prompt.message.text()


def test_activity_postpones_the_lock(qtbot: QtBot, database: Database, admin: Actor) -> None:
    _window, note, lock = window_for(qtbot, database, admin)
    lock.timer.stop()
    qtbot.keyClick(note, Qt.Key.Key_A)  # any key starts the full wait again
    assert lock.timer.isActive() and lock.timer.remainingTime() > LONG - 60_000
    lock.timer.stop()
    qtbot.mouseMove(note, QPoint(5, 5))
    qtbot.mouseMove(note, QPoint(40, 10))
    assert lock.timer.isActive()
    lock.timer.stop()
    qtbot.mouseClick(note, Qt.MouseButton.LeftButton)
    assert lock.timer.isActive()
    assert not lock.is_locked


def test_every_open_window_is_covered_and_a_modal_dialog_asks(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    window, _note, lock = window_for(qtbot, database, admin)
    other = QLineEdit("second window")
    qtbot.add_widget(other)
    other.show()
    qtbot.waitExposed(other)
    lock.lock()
    covered = {cover.parentWidget() for cover in lock.covers}
    assert {window, other} <= covered
    assert lock.prompt is not None and lock.prompt.parentWidget() is window
    assert other.text() == "second window"
    assert lock.unlock(PASSWORD)
    assert lock.covers == [] and other.isVisible()


def test_shortcuts_of_the_covered_window_do_not_act_while_locked(
    qtbot: QtBot, database: Database, admin: Actor
) -> None:
    window, note, lock = window_for(qtbot, database, admin)
    saved: list[bool] = []
    save = QAction("Save", window)
    save.setShortcut(QKeySequence("Ctrl+S"))
    save.triggered.connect(lambda: saved.append(True))
    window.addAction(save)
    qtbot.keyClick(note, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert saved == [True]  # the shortcut works while unlocked
    lock.lock()
    assert lock.prompt is not None
    qtbot.keyClick(lock.prompt.password, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert saved == [True]  # claimed by the password field
    assert lock.unlock(PASSWORD)
    qtbot.keyClick(note, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert saved == [True, True]
