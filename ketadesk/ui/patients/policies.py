"""Insurance policies on the open patient: the list, and dialogs to add, edit and end one.

The list shows :class:`PolicyLine` values, plain copies made while the patient record was
open, so no ORM object outlives its session. Each dialog is a :class:`FieldForm` with every
field of :data:`ketadesk.clinic.policies.POLICY_FIELDS`; saving calls
:func:`~ketadesk.clinic.policies.add_policy` or :func:`~ketadesk.clinic.policies.update_policy`
in one transaction through :func:`attempt`, so every problem appears beside its field and
nothing is written. Ending a policy keeps it on record (claims refer to it) with its last
day of coverage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access.permissions import Permission
from ketadesk.clinic.models import InsurancePolicy, PolicyRank, Relationship
from ketadesk.clinic.policies import POLICY_FIELDS, add_policy, policy_values, update_policy
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import us_date
from ketadesk.ui.forms import FieldForm, attempt
from ketadesk.ui.style import MUTED, set_role

DATE_HINT = "YYYY-MM-DD or MM/DD/YYYY"

POLICY_LABELS: dict[str, str] = {
    "payer_id": "Payer",
    "rank": "Rank",
    "member_id": "Member ID",
    "group_number": "Group number",
    "effective_from": "Effective from",
    "effective_to": "Effective to",
    "relationship_to_subscriber": "Patient is the subscriber's",
    "subscriber_name": "Subscriber name",
    "subscriber_dob": "Subscriber date of birth",
    "prior_auth_number": "Authorisation number",
    "sessions_authorized": "Sessions authorised",
    "auth_from": "Authorised from",
    "auth_to": "Authorised to",
}
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Coverage", ("payer_id", "rank", "member_id", "group_number", "effective_from",
                  "effective_to")),
    ("Subscriber", ("relationship_to_subscriber", "subscriber_name", "subscriber_dob")),
    ("Prior authorisation", ("prior_auth_number", "sessions_authorized", "auth_from", "auth_to")),
)
_DATES = {"effective_from", "effective_to", "subscriber_dob", "auth_from", "auth_to"}
_RELATIONSHIP_LABELS = {
    Relationship.SELF: "Self (the patient is the subscriber)",
    Relationship.SPOUSE: "Spouse",
    Relationship.CHILD: "Child",
    Relationship.OTHER: "Other",
}


@dataclass(frozen=True)
class PolicyLine:
    """One policy as the window shows it, copied out of the session that loaded it."""

    id: int
    version: int
    payer_id: int
    payer_name: str
    active: bool
    values: Mapping[str, Any]

    @property
    def rank(self) -> PolicyRank:
        return PolicyRank(self.values["rank"])

    def coverage(self) -> str:
        start, end = self.values["effective_from"], self.values["effective_to"]
        return f"{us_date(start)} – {us_date(end) if end else 'open'}"

    def describe(self) -> str:
        """Lines for the list: who pays and the member; the dates; any prior authorisation."""
        status = "" if self.active else "  (ended)"
        first = (f"{self.rank.value.capitalize()}: {self.payer_name} · member "
                 f"{self.values['member_id']}{status}")
        lines = [first, f"Coverage {self.coverage()}"]
        if self.values["prior_auth_number"]:
            lines.append(f"Prior auth {self.authorisation()}")
        return "\n".join(lines)

    def authorisation(self) -> str:
        number = self.values["prior_auth_number"]
        if not number:
            return "—"
        parts = [number]
        if self.values["sessions_authorized"]:
            parts.append(f"{self.values['sessions_authorized']} sessions")
        start, end = self.values["auth_from"], self.values["auth_to"]
        if start or end:
            parts.append(f"{us_date(start) or '…'} – {us_date(end) or '…'}")
        return " · ".join(parts)


def policy_lines(policies: Iterable[InsurancePolicy]) -> tuple[PolicyLine, ...]:
    """Copy ``policies`` (inside their session) into :class:`PolicyLine` values."""
    return tuple(
        PolicyLine(
            id=policy.id, version=policy.version, payer_id=policy.payer_id,
            payer_name=policy.payer.name, active=policy.active, values=policy_values(policy),
        )
        for policy in policies
    )


class PolicyForm(FieldForm):
    """Every policy field, in three sections; the payer is chosen from the clinic's list."""

    def __init__(self, payers: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for title, names in SECTIONS:
            self.add_section(title)
            for name in names:
                self._add_field(name, payers)

    def _add_field(self, name: str, payers: Sequence[tuple[str, str]]) -> None:
        label, required = POLICY_LABELS[name], POLICY_FIELDS[name][1]
        if name == "payer_id":
            self.add_choice(name, label, [("", "Choose a payer…"), *payers], required=True)
        elif name == "rank":
            self.add_choice(name, label, [(r.value, r.value.capitalize()) for r in PolicyRank],
                            required=True)
        elif name == "relationship_to_subscriber":
            self.add_choice(name, label, [(r.value, t) for r, t in _RELATIONSHIP_LABELS.items()])
        elif name in _DATES:
            self.add_text(name, label, placeholder=DATE_HINT, required=required)
        elif name == "subscriber_name":
            self.add_text(name, label, placeholder="Blank when the patient is the subscriber")
        else:
            self.add_text(name, label, required=required)


def _payer_choices(context: AppContext, keep: PolicyLine | None) -> list[tuple[str, str]]:
    from ketadesk.clinic.payers import list_payers

    with context.db.reading() as session:
        choices = [(str(p.id), p.name) for p in list_payers(session, context.actor)]
    if keep is not None and str(keep.payer_id) not in {value for value, _ in choices}:
        choices.append((str(keep.payer_id), f"{keep.payer_name} (inactive)"))
    return choices


def _dialog_buttons(dialog: QDialog, save_text: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
    )
    save = buttons.button(QDialogButtonBox.StandardButton.Save)
    save.setText(save_text)
    save.setDefault(True)
    set_role(save, "primary")
    buttons.rejected.connect(dialog.reject)
    return buttons


class PolicyDialog(QDialog):
    """Add a policy to a patient, or edit one; :attr:`saved_id` is set when it was saved."""

    def __init__(self, context: AppContext, patient_id: int, line: PolicyLine | None = None,
                 *, default_rank: PolicyRank = PolicyRank.PRIMARY,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context, self.patient_id, self.line = context, patient_id, line
        self.saved_id: int | None = None
        self.setWindowTitle("Add insurance policy" if line is None
                            else f"Edit policy — {line.payer_name}")
        self.setMinimumWidth(640)
        payers = _payer_choices(context, line)
        self.form = PolicyForm(payers)
        layout = QVBoxLayout(self)
        if not payers:
            note = QLabel("No payers are set up yet; an administrator adds them in Settings.")
            set_role(note, "warning")
            layout.addWidget(note)
        layout.addWidget(self.form)
        buttons = _dialog_buttons(self, "Save policy")
        buttons.accepted.connect(self.save)
        layout.addWidget(buttons)
        if line is None:
            self.form.set_values({"rank": default_rank, "relationship_to_subscriber": "self"})
        else:
            self.form.set_values(line.values)

    def save(self) -> None:
        saved = attempt(self, self._write, self.form)
        if saved is not None:
            self.saved_id = saved
            self.accept()

    def _write(self) -> int:
        values = self.form.values()
        with self.context.db.transaction() as session:
            if self.line is None:
                policy = add_policy(session, self.context.actor, self.patient_id, values)
            else:
                policy = update_policy(session, self.context.actor, self.line.id, values,
                                       expected_version=self.line.version,
                                       active=self.line.active)
            return policy.id


class EndPolicyDialog(QDialog):
    """End a policy on a given last day; it stays on record as ended."""

    def __init__(self, context: AppContext, line: PolicyLine,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context, self.line = context, line
        self.saved_id: int | None = None
        self.setWindowTitle(f"End policy — {line.payer_name}")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"End the {line.rank.value} policy with {line.payer_name} (member "
            f"{line.values['member_id']}). It stays on record for claims already made."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.form = FieldForm()
        self.form.add_text("effective_to", "Last day of coverage", placeholder=DATE_HINT,
                           required=True)
        self.form.set_values({"effective_to": line.values["effective_to"] or date.today()})
        layout.addWidget(self.form)
        buttons = _dialog_buttons(self, "End policy")
        buttons.accepted.connect(self.save)
        layout.addWidget(buttons)

    def save(self) -> None:
        saved = attempt(self, self._write, self.form)
        if saved is not None:
            self.saved_id = saved
            self.accept()

    def _write(self) -> int:
        values = {**self.line.values, **self.form.values()}
        with self.context.db.transaction() as session:
            policy = update_policy(session, self.context.actor, self.line.id, values,
                                   expected_version=self.line.version, active=False)
            return policy.id


class PoliciesPanel(QWidget):
    """The patient's policies, a few lines each, with Add / Edit / End when the role allows."""

    changed = Signal(int)  # the id of the policy that was saved

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.patient_id: int | None = None
        self.lines: tuple[PolicyLine, ...] = ()
        self.dialog: PolicyDialog | EndPolicyDialog | None = None  # the one open, if any
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list = self._list()
        self.empty = QLabel("No insurance policies on file.")
        set_role(self.empty, "muted")
        layout.addWidget(self.empty)
        layout.addWidget(self.list)
        layout.addLayout(self._buttons())

    def _list(self) -> QListWidget:
        shown = QListWidget()
        shown.setObjectName("policies")
        shown.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        shown.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        shown.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        shown.setTextElideMode(Qt.TextElideMode.ElideRight)
        shown.itemSelectionChanged.connect(self._selection_changed)
        shown.itemDoubleClicked.connect(lambda _item: self.edit_selected())
        return shown

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.add_button = QPushButton("Add policy")
        self.edit_button = QPushButton("Edit")
        self.end_button = QPushButton("End policy")
        self.add_button.clicked.connect(self.add_policy)
        self.edit_button.clicked.connect(self.edit_selected)
        self.end_button.clicked.connect(self.end_selected)
        allowed = self._allowed()
        for button in (self.add_button, self.edit_button, self.end_button):
            button.setVisible(allowed)
            row.addWidget(button)
        row.addStretch(1)
        if not allowed:
            note = QLabel(f"Your role ({self.context.actor.role.label}) may not edit "
                          "insurance policies.")
            set_role(note, "muted")
            row.addWidget(note)
        self._selection_changed()
        return row

    def set_policies(self, patient_id: int, lines: Sequence[PolicyLine]) -> None:
        """Show ``lines``, the policies of patient ``patient_id``."""
        self.patient_id, self.lines = patient_id, tuple(lines)
        self.list.clear()
        for line in self.lines:
            item = QListWidgetItem(line.describe())
            if not line.active:
                item.setForeground(QColor(MUTED))
            self.list.addItem(item)
        self.list.setVisible(bool(self.lines))
        self.empty.setVisible(not self.lines)
        rows = sum(self.list.sizeHintForRow(r) for r in range(self.list.count()))
        self.list.setFixedHeight(rows + 2 * self.list.frameWidth() + 4)
        self._selection_changed()

    def selected(self) -> PolicyLine | None:
        rows = self.list.selectedIndexes()
        return self.lines[rows[0].row()] if rows else None

    def select_policy(self, policy_id: int) -> None:
        for row, line in enumerate(self.lines):
            if line.id == policy_id:
                self.list.setCurrentRow(row)

    def _selection_changed(self) -> None:
        line = self.selected()
        self.edit_button.setEnabled(line is not None)
        self.end_button.setEnabled(line is not None and line.active)
        self.add_button.setEnabled(self.patient_id is not None)

    def _free_rank(self) -> PolicyRank:
        taken = {line.rank for line in self.lines if line.active}
        return next((rank for rank in PolicyRank if rank not in taken), PolicyRank.PRIMARY)

    def add_policy(self) -> None:
        if self.patient_id is None or not self._allowed():
            return
        self._open(PolicyDialog(self.context, self.patient_id,
                                default_rank=self._free_rank(), parent=self))

    def edit_selected(self) -> None:
        line = self.selected()
        if line is not None and self.patient_id is not None and self._allowed():
            self._open(PolicyDialog(self.context, self.patient_id, line, parent=self))

    def end_selected(self) -> None:
        line = self.selected()
        if line is not None and line.active and self._allowed():
            self._open(EndPolicyDialog(self.context, line, parent=self))

    def _allowed(self) -> bool:
        return self.context.actor.can(Permission.POLICY_EDIT)

    def _open(self, dialog: PolicyDialog | EndPolicyDialog) -> None:
        """Show ``dialog`` window-modal; announce the saved policy when it is accepted."""
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = dialog

        def accepted() -> None:
            if dialog.saved_id is not None:
                self.changed.emit(dialog.saved_id)

        dialog.accepted.connect(accepted)
        dialog.open()
