"""The log-in dialog: a user name, a password, and the service's answer in words.

Pressing Enter (or "Log in") calls :func:`ketadesk.access.users.authenticate` in a write
transaction (a successful log-in records the time and an audit row). A refusal — wrong
password, unknown name, disabled account — is shown in red inside the dialog, the password
is cleared, and the person tries again. On success :attr:`LoginDialog.actor` holds who
logged in and the dialog is accepted.
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

from ketadesk.access.permissions import Actor
from ketadesk.access.users import authenticate
from ketadesk.db import Database
from ketadesk.errors import AuthenticationFailed
from ketadesk.ui.style import set_role


class LoginDialog(QDialog):
    """Ask for a user name and password until they are right or the person cancels."""

    def __init__(self, db: Database, *, database_label: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
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
        try:
            with self.db.transaction() as session:
                self.actor = authenticate(session, name, password)
        except AuthenticationFailed as error:
            self._refuse(_sentence(str(error)))
            return
        self.accept()

    def _refuse(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()
        self.password.clear()
        (self.password if self.username.text().strip() else self.username).setFocus()


def _sentence(text: str) -> str:
    """``"wrong user name or password"`` -> ``"Wrong user name or password."``"""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
