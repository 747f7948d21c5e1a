"""The log-in dialog, and the dialog in which a user changes their own password.

Pressing Enter (or "Log in") calls :func:`ketadesk.access.users.log_in` in a write
transaction that commits whatever the answer, so a wrong password is counted toward the
account's lock and audited. A refusal — wrong password, unknown name, disabled or locked
account (with the time it opens) — is shown in red inside the dialog, the password is
cleared, and the person tries again. When an administrator has reset the password, the
:class:`ChangePasswordDialog` opens at once and the log-in only goes on once a new password
is chosen. On success :attr:`LoginDialog.actor` holds who logged in and the dialog is
accepted.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access import users
from ketadesk.access.permissions import Actor
from ketadesk.config import AccountPolicy
from ketadesk.db import Database
from ketadesk.errors import AuthenticationFailed, ValidationError
from ketadesk.ui.style import set_role


class LoginDialog(QDialog):
    """Ask for a user name and password until they are right or the person cancels."""

    def __init__(self, db: Database, *, database_label: str = "",
                 policy: AccountPolicy | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.policy = policy
        self.actor: Actor | None = None
        self.setWindowTitle("KetaDesk — Log in")
        self.setMinimumWidth(380)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 18)
        title = QLabel("Log in to KetaDesk")
        title.setObjectName("pageTitle")
        outer.addWidget(title)
        if database_label:
            where = QLabel(f"Database: {database_label}")
            set_role(where, "muted")
            outer.addWidget(where)
        outer.addSpacing(8)
        outer.addLayout(self._fields())
        self.message = QLabel()
        self.message.setObjectName("loginMessage")
        self.message.setWordWrap(True)
        set_role(self.message, "error")
        self.message.hide()
        outer.addWidget(self.message)
        outer.addWidget(self._buttons())

    def _fields(self) -> QFormLayout:
        form = QFormLayout()
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("User name", self.username)
        form.addRow("Password", self.password)
        return form

    def _buttons(self) -> QDialogButtonBox:
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.login_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.login_button.setText("Log in")
        self.login_button.setDefault(True)  # Enter in either field submits
        set_role(self.login_button, "primary")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        return buttons

    def submit(self) -> None:
        """Check the typed name and password; accept, or say why not."""
        name, password = self.username.text().strip(), self.password.text()
        if not name or not password:
            self._refuse("Enter your user name and password.")
            return
        with self.db.transaction() as session:
            attempt = users.log_in(session, name, password, policy=self.policy)
        if attempt.actor is None:
            self._refuse(_sentence(attempt.refusal or users.WRONG))
            return
        if attempt.must_change_password and not self._changed(attempt.actor, password):
            self._refuse("An administrator reset your password: choose a new one to go on.")
            return
        self.actor = attempt.actor
        self.accept()

    def _changed(self, actor: Actor, password: str) -> bool:
        """Ask for a new password right away; False if the person gave up."""
        dialog = ChangePasswordDialog(self.db, actor, old_password=password,
                                      policy=self.policy, parent=self)
        return dialog.exec() == QDialog.DialogCode.Accepted

    def _refuse(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()
        self.password.clear()
        (self.password if self.username.text().strip() else self.username).setFocus()


class ChangePasswordDialog(QDialog):
    """A user chooses a new password: the current one (unless just typed at a forced
    change), and the new one twice. Problems are said in words inside the dialog; a wrong
    current password counts toward the account's lock."""

    def __init__(self, db: Database, actor: Actor, *, old_password: str | None = None,
                 policy: AccountPolicy | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.actor, self.policy = db, actor, policy
        self.forced_old = old_password
        self.setWindowTitle("KetaDesk — Change password")
        self.setMinimumWidth(440)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 18)
        title = QLabel("Choose a new password" if old_password else "Change your password")
        title.setObjectName("pageTitle")
        outer.addWidget(title)
        hint = QLabel(
            (f"An administrator reset the password of {actor.username}. " if old_password
             else "") + f"Use at least {users.MIN_PASSWORD_LENGTH} characters that are hard to "
            "guess: a few unrelated words work well."
        )
        hint.setWordWrap(True)
        set_role(hint, "muted")
        outer.addWidget(hint)
        form = QFormLayout()
        self.old = self._secret("old_password")
        if old_password is None:
            form.addRow("Current password", self.old)
        self.new = self._secret("new_password")
        self.again = self._secret("new_password_again")
        form.addRow("New password", self.new)
        form.addRow("New password again", self.again)
        outer.addLayout(form)
        self.message = QLabel()
        self.message.setObjectName("passwordMessage")
        self.message.setWordWrap(True)
        set_role(self.message, "error")
        self.message.hide()
        outer.addWidget(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.save_button.setText("Change password")
        self.save_button.setDefault(True)
        set_role(self.save_button, "primary")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)

    def _secret(self, name: str) -> QLineEdit:
        editor = QLineEdit()
        editor.setObjectName(name)
        editor.setEchoMode(QLineEdit.EchoMode.Password)
        return editor

    def submit(self) -> None:
        """Change the password through the service; accept, or say why not."""
        old = self.forced_old if self.forced_old is not None else self.old.text()
        new = self.new.text()
        if new != self.again.text():
            self._say("The two new passwords differ; type both again.")
            return
        try:
            with self.db.transaction() as session:
                attempt = users.change_password(session, self.actor.username,
                                                old_password=old, new_password=new,
                                                policy=self.policy)
            attempt.accepted()
        except ValidationError as error:
            self._say(" ".join(_sentence(f"The new password {text}") for text in
                               error.for_field("new_password")))
            return
        except AuthenticationFailed as error:
            self._say(_sentence(str(error)).replace("Wrong user name or password",
                                                   "The current password is wrong"))
            return
        self.accept()

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()
        for editor in (self.old, self.new, self.again):
            editor.clear()
        (self.new if self.forced_old is not None else self.old).setFocus()


def _sentence(text: str) -> str:
    """``"wrong user name or password"`` -> ``"Wrong user name or password."``"""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
