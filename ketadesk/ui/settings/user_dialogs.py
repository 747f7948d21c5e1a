"""Two dialogs the Users tab opens on a chosen account: reset its password, rename it.

Each dialog shows what will happen in words, takes what it needs, and on its button runs
one service of :mod:`ketadesk.access.users` in one write transaction
(:func:`~ketadesk.access.users.reset_password`, :func:`~ketadesk.access.users.rename_user`),
which checks the actor's permission. A refusal — a weak temporary password, the two copies
differing, a name already taken or badly formed, a permission missing — is said in red
inside the dialog, nothing is written, and the person tries again; no message box opens.
On success the dialog is accepted and :attr:`AccountDialog.done_text` says what was done.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access import users
from ketadesk.errors import KetaDeskError, ValidationError
from ketadesk.ui.context import AppContext
from ketadesk.ui.style import set_role

# What the services call a field -> how the dialog names it at the start of a sentence.
FIELD_NAMES = {"password": "The temporary password", "username": "The new user name must"}


def sentence(text: str) -> str:
    """``"there is already a user called x"`` -> ``"There is already a user called x."``"""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def in_words(error: KetaDeskError) -> str:
    """A refusal as sentences; each field problem led by the field's name in the dialog."""
    if isinstance(error, ValidationError):
        return " ".join(
            sentence(f"{FIELD_NAMES.get(p.field, p.field)} {p.message}") for p in error.problems
        )
    return sentence(str(error))


class AccountDialog(QDialog):
    """A title, a hint in words, a form, a red line for refusals and two buttons.

    Subclasses add their fields in :meth:`build` and write in :meth:`save`, which returns
    the sentence that says what was done.
    """

    title = ""
    button_text = "OK"
    # Each kind of account dialog writes through its own service and returns the sentence
    # that says what was done (ResetPasswordDialog.save, RenameUserDialog.save).
    save: Callable[[Session], str]

    def __init__(
        self, context: AppContext, username: str, full_name: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context, self.username, self.full_name = context, username, full_name
        self.done_text = ""
        self.setWindowTitle(f"KetaDesk — {self.title}")
        self.setMinimumWidth(520)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 18)
        outer.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)  # wrapped text stays whole
        heading = QLabel(self.title)
        heading.setObjectName("pageTitle")
        outer.addWidget(heading)
        self.hint = QLabel(self.hint_text())
        self.hint.setObjectName("accountHint")
        self.hint.setWordWrap(True)
        set_role(self.hint, "muted")
        outer.addWidget(self.hint)
        form = QFormLayout()
        self.build(form)
        outer.addLayout(form)
        self.message = QLabel()
        self.message.setObjectName("accountMessage")
        self.message.setWordWrap(True)
        set_role(self.message, "error")
        self.message.hide()
        outer.addWidget(self.message)
        outer.addWidget(self._buttons())

    def hint_text(self) -> str:
        return ""

    def build(self, form: QFormLayout) -> None:
        """Add the dialog's fields."""

    def check(self) -> str | None:
        """A problem found before asking the database, in words; None when there is none."""
        return None

    def _buttons(self) -> QDialogButtonBox:
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.button_text)
        self.ok_button.setDefault(True)
        set_role(self.ok_button, "primary")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        return buttons

    def submit(self) -> None:
        """Write through the service; accept, or say why not and stay open."""
        problem = self.check()
        if problem is not None:
            self.refuse(problem)
            return
        try:
            with self.context.db.transaction() as session:
                done = self.save(session)
        except KetaDeskError as error:
            self.refuse(in_words(error))
            return
        self.done_text = done
        self.accept()

    def refuse(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()
        self.adjustSize()  # room for the sentence, without squeezing the hint


class ResetPasswordDialog(AccountDialog):
    """An administrator gives an account a temporary password, typed twice."""

    title = "Reset password"
    button_text = "Reset password"

    def hint_text(self) -> str:
        return (
            f"{self.full_name} ({self.username}) will log in with this temporary password once "
            "and must then choose a new one before doing anything else. It follows the same "
            f"rule as every password: at least {users.MIN_PASSWORD_LENGTH} characters that are "
            "hard to guess (a few unrelated words work well). Resetting also unlocks a locked "
            "account. Tell the password to them in person."
        )

    def build(self, form: QFormLayout) -> None:
        self.password = _secret("temporary_password")
        self.again = _secret("temporary_password_again")
        form.addRow("Temporary password", self.password)
        form.addRow("Temporary password again", self.again)

    def check(self) -> str | None:
        if not self.password.text():
            return "Type a temporary password, twice."
        if self.password.text() != self.again.text():
            return "The two copies of the temporary password differ; type both again."
        return None

    def save(self, session: Session) -> str:
        users.reset_password(session, self.context.actor, self.username, self.password.text())
        return f"Password reset: {self.username} must choose a new one at the next log-in."

    def refuse(self, text: str) -> None:
        super().refuse(text)
        self.password.clear()
        self.again.clear()
        self.password.setFocus()


class RenameUserDialog(AccountDialog):
    """An administrator gives an account a new log-in name."""

    title = "Rename user"
    button_text = "Rename"

    def hint_text(self) -> str:
        return (
            f"{self.full_name} ({self.username}) will log in with the new name from now on; the "
            "audit log keeps both names. Use 2–60 lower-case letters, digits, dots, dashes or "
            "underscores, starting with a letter."
        )

    def build(self, form: QFormLayout) -> None:
        self.new_name = QLineEdit(self.username)
        self.new_name.setObjectName("new_username")
        self.new_name.selectAll()
        form.addRow("New user name", self.new_name)

    def save(self, session: Session) -> str:
        user = users.rename_user(session, self.context.actor, self.username, self.new_name.text())
        if user.username == self.username:
            return f"The user name stays {user.username}."
        return f"Renamed {self.username} to {user.username}."


def _secret(name: str) -> QLineEdit:
    editor = QLineEdit()
    editor.setObjectName(name)
    editor.setEchoMode(QLineEdit.EchoMode.Password)
    return editor
