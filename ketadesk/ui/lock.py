"""The idle lock: after a while without a key press or a mouse move the window hides what is
on screen behind a cover that asks for the password again.

Flow:

1. :class:`IdleLock` is an application-wide event filter. Every key press, mouse press or
   move, wheel turn or touch restarts a single-shot timer (its interval is passed in, so
   tests use milliseconds; the window uses :attr:`AccountPolicy.idle_minutes`). The filter
   only *notes* activity: it always returns False, so no event is ever taken from the
   widget it was meant for.
2. When the timer runs out, :meth:`IdleLock.lock` lays an opaque :class:`LockCover` over
   every visible top-level window; the one in front (an open modal dialog, else the main
   window) asks for the password of the logged-in user. Nothing underneath is closed or
   changed, so unlocking shows exactly what was there, what was typed included.
3. While locked, the covers stand between the mouse and the windows, and the password
   password field keeps the focus (Tab stays in it, and every would-be shortcut is
   claimed by it), so keys cannot reach a field or a menu beneath.
4. The password goes through :func:`ketadesk.access.users.log_in` (audited as "unlock"),
   so wrong ones count toward the account's lock like wrong log-ins and a locked account
   is told so in words. The right one removes the covers, gives the focus back to the
   widget that had it, and starts the timer again.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access import users
from ketadesk.config import AccountPolicy
from ketadesk.ui.context import AppContext
from ketadesk.ui.style import set_role

ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)
COVER_STYLE = (
    "#lockCover { background: #1f2a36; } "
    "#lockCover QLabel { color: #f4f6f8; } "
    "#lockCover QLabel#lockTitle { font-size: 20px; font-weight: 600; } "
    "#lockCover QLabel#lockMessage { color: #ffb4a8; }"
)


class PasswordField(QLineEdit):
    """The lock's password field keeps the keyboard while it has the focus: Tab does not
    move on to a field beneath the cover, and every would-be shortcut is claimed, so a
    menu's or a view's shortcut cannot act on the covered window."""

    def focusNextPrevChild(self, next: bool) -> bool:
        return True  # stay: the next field in the chain is under the cover

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()  # "this key is mine": Qt then sends it here as a key press
            return True
        return super().event(event)


class LockCover(QFrame):
    """An opaque cover over one window; with ``asks`` it holds the password prompt."""

    unlock_requested = Signal(str)

    def __init__(self, window: QWidget, username: str, *, asks: bool) -> None:
        super().__init__(window)
        self.setObjectName("lockCover")
        self.setAutoFillBackground(True)
        self.setStyleSheet(COVER_STYLE)
        self.password = PasswordField()
        self.message = QLabel()
        self.unlock_button = QPushButton("Unlock")
        if asks:
            self._prompt(username)
        self.setGeometry(window.rect())
        window.installEventFilter(self)  # follow the window's size

    def _prompt(self, username: str) -> None:
        title = QLabel("KetaDesk is locked")
        title.setObjectName("lockTitle")
        who = QLabel(
            "Locked after a while without use; what was on screen is kept.\n"
            f"Type the password of {username} to go on where you left off."
        )
        who.setWordWrap(True)
        self.password.setObjectName("lockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Password")
        self.password.returnPressed.connect(self._submit)
        self.message.setObjectName("lockMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.unlock_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the field keeps the keys
        self.unlock_button.clicked.connect(self._submit)
        set_role(self.unlock_button, "primary")
        panel = QWidget()
        panel.setFixedWidth(460)  # wrapped sentences find their height at a fixed width
        inner = QVBoxLayout(panel)
        inner.setSpacing(12)
        for widget in (title, who, self.password, self.message, self.unlock_button):
            inner.addWidget(widget)
        row = QHBoxLayout()  # stretches, not an alignment, centre it: an aligned widget
        row.addStretch(1)  # loses its height-for-width and clips wrapped text
        row.addWidget(panel)
        row.addStretch(1)
        column = QVBoxLayout(self)
        column.addStretch(1)
        column.addLayout(row)
        column.addStretch(2)

    def _submit(self) -> None:
        self.unlock_requested.emit(self.password.text())

    def refuse(self, text: str) -> None:
        """Say why the password was not taken; the field is cleared for another try."""
        self.message.setText(text)
        self.message.show()
        self.password.clear()
        self.password.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            self.setGeometry(watched.rect())
        return False  # only watching the size


class IdleLock(QObject):
    """Locks ``window`` (and every other open window) after ``idle_ms`` without input."""

    locked = Signal()
    unlocked = Signal()

    def __init__(
        self,
        window: QWidget,
        context: AppContext,
        *,
        idle_ms: int,
        policy: AccountPolicy | None = None,
    ) -> None:
        super().__init__(window)
        self.main, self.context, self.policy = window, context, policy
        self.covers: list[LockCover] = []
        self.prompt: LockCover | None = None
        self._focus_before: QWidget | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(idle_ms)
        self.timer.timeout.connect(self.lock)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.timer.start()

    @property
    def is_locked(self) -> bool:
        return self.prompt is not None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Note activity; never take the event (always False)."""
        if not self.is_locked and event.type() in ACTIVITY:
            self.timer.start()  # restart: the person is here
        return False

    def lock(self) -> None:
        """Cover every visible window; the front one asks for the password."""
        if self.is_locked:
            return
        self.timer.stop()
        self._focus_before = QApplication.focusWidget()
        front = QApplication.activeModalWidget() or self.main
        windows = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
        if front not in windows:
            windows.append(front)
        for window in windows:
            cover = LockCover(window, self.context.actor.username, asks=window is front)
            cover.show()
            cover.raise_()
            self.covers.append(cover)
            if window is front:
                self.prompt = cover
                cover.unlock_requested.connect(self.unlock)
        if self.prompt is not None:
            self.prompt.password.setFocus()
        self.locked.emit()

    def unlock(self, password: str) -> bool:
        """Check the password (counted like a log-in); uncover the windows if right."""
        prompt = self.prompt
        if prompt is None:
            return True
        if not password:
            prompt.refuse("Type your password.")
            return False
        with self.context.db.transaction() as session:
            attempt = users.log_in(
                session,
                self.context.actor.username,
                password,
                policy=self.policy,
                action="unlock",
            )
        if attempt.actor is None or attempt.actor.user_id != self.context.actor.user_id:
            prompt.refuse(_sentence(attempt.refusal or users.WRONG))
            return False
        self._uncover()
        self.timer.start()
        self.unlocked.emit()
        return True

    def _uncover(self) -> None:
        if self._focus_before is not None and shiboken6.isValid(self._focus_before):
            # before the covers go, or Qt hands the focus on as if by Tab (selecting a
            # field's whole text, ready to be typed over)
            self._focus_before.setFocus()
        self._focus_before = None
        for cover in self.covers:
            cover.hide()
            cover.deleteLater()
        self.covers, self.prompt = [], None


def _sentence(text: str) -> str:
    """``"wrong user name or password"`` -> ``"Wrong user name or password."``"""
    text = text.strip()
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?")) else text + "."
