"""The Users tab (administrators only): accounts, their roles, and who may log in.

A :class:`~ketadesk.ui.settings.table.RecordTab` over :mod:`ketadesk.access.users`. A new
account needs a user name, a full name, a role and its password typed twice; an existing
one can change role or be disabled and enabled again (accounts are never deleted, because
the audit log names them). The name and password of an existing account are not edited in
the form, so those fields are locked or hidden once a user is chosen; instead, under the
form, "Reset password…" and "Rename…" open the dialogs of
:mod:`ketadesk.ui.settings.user_dialogs` on the chosen account (the services check that the
actor is an administrator; the buttons are not shown to anyone else). When a dialog is
accepted the list is read again and the line beside the buttons says what was done.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget
from sqlalchemy.orm import Session

from ketadesk.access import users as service
from ketadesk.access.models import User
from ketadesk.access.permissions import Permission, Role
from ketadesk.errors import FieldProblem, NotFound, ValidationError
from ketadesk.ui.forms import FieldForm
from ketadesk.ui.settings.table import RecordTab, Row, set_read_only
from ketadesk.ui.settings.user_dialogs import AccountDialog, RenameUserDialog, ResetPasswordDialog

PASSWORD_FIELDS = ("password", "password_again")
NAME_FIELDS = ("username", "full_name")


def matching_passwords(raw: Mapping[str, object]) -> list[FieldProblem]:
    """A problem when the password was not typed the same way twice."""
    if raw.get("password") == raw.get("password_again"):
        return []
    return [FieldProblem("password_again", "does not match the password above; type both again")]


def load_user(session: Session, key: int) -> User:
    user = session.get(User, key)
    if user is None:
        raise NotFound(f"There is no user with id {key}.")
    return user


class UsersTab(RecordTab):
    noun = "user"
    columns = ("User name", "Full name", "Role", "OS account")  # linked: ketadesk user link
    permission = Permission.USER_ADMIN
    read_only_text = "Only administrators can manage users."
    deactivate_texts = ("Disable", "Enable")
    status_texts = ("Active", "Disabled")
    status_in_raw = False

    #: the account dialog open now, if any (kept so it lives while it is shown)
    account_dialog: AccountDialog | None = None

    def side_panel(self, details: QWidget) -> QWidget:
        """The form, and under it the account's own actions: reset password, rename."""
        self.reset_button = QPushButton("Reset password…")
        self.reset_button.setObjectName("reset_password")
        self.rename_button = QPushButton("Rename…")
        self.rename_button.setObjectName("rename_user")
        self.reset_button.clicked.connect(lambda: self.open_account_dialog(ResetPasswordDialog))
        self.rename_button.clicked.connect(lambda: self.open_account_dialog(RenameUserDialog))
        panel = QWidget()
        box = QVBoxLayout(panel)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(details, 1)
        row = QHBoxLayout()
        row.setContentsMargins(4, 0, 0, 0)
        self.account_label = QLabel("This account:")
        row.addWidget(self.account_label)
        row.addWidget(self.reset_button)
        row.addWidget(self.rename_button)
        row.addStretch(1)
        box.addLayout(row)
        return panel

    def build_form(self, form: FieldForm) -> None:
        form.add_text("username", "User name", placeholder="e.g. jsmith", required=True)
        form.add_text("full_name", "Full name", required=True)
        form.add_choice("role", "Role", [(role.value, role.label) for role in Role],
                        required=True)
        for name, label in zip(PASSWORD_FIELDS, ("Password", "Password again"), strict=True):
            editor = form.add_text(name, label, placeholder="at least "
                                   f"{service.MIN_PASSWORD_LENGTH} characters", required=True)
            editor.setEchoMode(QLineEdit.EchoMode.Password)

    def blank_values(self) -> Mapping[str, object]:
        return {**super().blank_values(), "role": Role.FRONT_DESK.value}

    def load_rows(self, session: Session, include_inactive: bool) -> list[Row]:
        found = service.list_users(session, self.context.actor)
        return [Row(u.id, (u.username, u.full_name, u.role.label, u.os_account or ""), u.active)
                for u in found if include_inactive or u.active]

    def load_values(self, session: Session, key: int) -> Mapping[str, object]:
        user = load_user(session, key)
        return {"username": user.username, "full_name": user.full_name,
                "role": user.role.value, "password": "", "password_again": ""}

    def describe(self, values: Mapping[str, object]) -> str:
        return f"{values['full_name']} ({values['username']})"

    def record_shown(self, key: int | None) -> None:
        """A new account types every field; an existing one only changes its role."""
        for name in NAME_FIELDS:
            editor = self.form.editors[name]
            if isinstance(editor, QLineEdit):
                set_read_only(editor, key is not None or not self.editable)
        for name in PASSWORD_FIELDS:
            row = self.form.editors[name].parentWidget()  # the field's row: editor and error
            if row is not None:
                self.form.layout_.setRowVisible(row, key is None and self.editable)
        for widget in (self.account_label, self.reset_button, self.rename_button):
            widget.setVisible(key is not None and self.editable)

    def open_account_dialog(self, kind: type[AccountDialog]) -> AccountDialog | None:
        """Open ``kind`` on the chosen account; when it is accepted, show what was done."""
        key = self.current
        if key is None:
            return None
        values = self.reading(lambda s: self.load_values(s, key))
        if values is None:
            return None
        dialog = kind(self.context, str(values["username"]), str(values["full_name"]), self)
        dialog.accepted.connect(lambda: self._account_changed(key, dialog))
        self.account_dialog = dialog
        dialog.open()
        return dialog

    def _account_changed(self, key: int, dialog: AccountDialog) -> None:
        self.reload(key)
        self.saved.setText(dialog.done_text)
        self.changed.emit()

    def create_record(self, session: Session, raw: Mapping[str, object]) -> int:
        mismatch = matching_passwords(raw)
        try:
            user = service.create_user(
                session, self.context.actor, username=str(raw["username"]),
                full_name=str(raw["full_name"]), role=service.parse_role(str(raw["role"])),
                password=str(raw["password"]))
        except ValidationError as error:
            raise ValidationError([*error.problems, *mismatch]) from None
        if mismatch:
            raise ValidationError(mismatch)  # the transaction rolls the new user back
        return user.id

    def update_record(self, session: Session, key: int, raw: Mapping[str, object]) -> int:
        user = load_user(session, key)
        role = service.parse_role(str(raw["role"]))
        return service.change_role(session, self.context.actor, user.username, role).id

    def set_record_active(self, session: Session, key: int, active: bool) -> None:
        service.set_active(session, self.context.actor, load_user(session, key).username, active)
