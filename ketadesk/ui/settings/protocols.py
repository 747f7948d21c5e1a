"""The Protocols tab: the templates a series is booked from, and their spacing and chair time.

A :class:`~ketadesk.ui.settings.table.RecordTab` over
:mod:`ketadesk.scheduling.protocol_editing`. The form is grouped the way a manager thinks
of a protocol: what it is, how its sessions are spaced, how long each holds a chair, what
the pre-dose checklist asks, and what it bills. Every rule lives in the service; a refused
save puts each problem beside its field.

Everyone sees the protocols; only people who may edit them (managers, administrators) get
a working form. Opening a protocol also counts the series that follow it: once there is one,
the key and the treatment are locked and the note under the key says why. Saves carry the
version the form was read at, so an edit made meanwhile on another workstation is refused
instead of overwritten. Deactivating stops offering the protocol for new series; its series
go on, and booked sessions never change with a protocol.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QSizePolicy
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Permission
from ketadesk.clinic.models import Modality
from ketadesk.errors import NotFound
from ketadesk.scheduling import protocol_editing as service
from ketadesk.scheduling.models import Phase, Protocol
from ketadesk.scheduling.protocols import list_protocols
from ketadesk.ui.forms import FieldForm
from ketadesk.ui.settings.table import Fields, RecordTab, Row, set_read_only

FIELDS = Fields(tuple(service.PROTOCOL_FIELDS.values()))
PROTOCOL_NOTE = "Only managers and administrators can change protocols."
KEY_FREE = (
    "Scripts and the command line name the protocol by its key; it can change until a series "
    "follows the protocol."
)
HINT_STYLE = "color: #5f6368;"

SPACING_HINTS = {
    "session_count": "blank for open-ended maintenance",
    "weekly_pattern": "sessions in each week, e.g. 2,2,2,2,1,1,1,1",
    "interval_weeks": "open-ended only, e.g. 1,2 (first is the default)",
    "min_hours_between": "e.g. 48",
    "max_gap_days": "blank for no limit",
    "max_span_days": "first to last session; blank for no limit",
}
CHAIR_HINTS = {
    "treatment_minutes": "dosing or infusion, e.g. 40",
    "monitoring_minutes": "after the dose; esketamine at least 120",
}
FASTING_HINTS = {"fasting_food_hours": "0 for none", "fasting_drink_minutes": "0 for none"}


class ProtocolsTab(RecordTab):
    noun = "protocol"
    columns = ("Name", "Sessions", "Chair time")
    permission = Permission.PROTOCOL_EDIT
    read_only_text = PROTOCOL_NOTE
    #: the shown protocol's version (a save refuses a newer one) and how many series follow it
    _version: int | None = None
    _in_use = 0

    def build_form(self, form: FieldForm) -> None:
        form.add_section("Protocol")
        FIELDS.add_texts(
            form,
            ("name", "key"),
            {"name": "e.g. IV ketamine induction", "key": "e.g. iv-induction"},
        )
        self.key_note = hint(KEY_FREE)
        form.layout_.addRow("", self.key_note)
        FIELDS.add_choice(form, "modality", [(m.value, m.label) for m in Modality])
        FIELDS.add_choice(form, "phase", [(p.value, p.label) for p in Phase])
        form.add_section("Sessions and spacing")
        FIELDS.add_texts(form, tuple(SPACING_HINTS), SPACING_HINTS)
        form.add_section("Chair time (minutes)")
        FIELDS.add_texts(form, tuple(CHAIR_HINTS), CHAIR_HINTS)
        form.add_section("Before the dose")
        FIELDS.add_texts(form, tuple(FASTING_HINTS), FASTING_HINTS)
        form.add_section("Billing")
        FIELDS.add_texts(form, ("services",), {"services": "CPT/HCPCS codes, e.g. 96365, J3490"})
        form.add_multiline("description", FIELDS.label("description"))
        form.layout_.addRow(
            "",
            hint(
                "A change applies to sessions booked from now on; "
                "sessions already booked keep their times."
            ),
        )

    def load_rows(self, session: Session, include_inactive: bool) -> list[Row]:
        found = list_protocols(session, include_inactive=include_inactive)
        return [Row(p.id, (p.name, sessions(p), f"{p.chair_minutes} min"), p.active) for p in found]

    def load_values(self, session: Session, key: int) -> Mapping[str, object]:
        protocol = session.get(Protocol, key)
        if protocol is None:
            raise NotFound(f"There is no protocol with id {key}.")
        self._version = protocol.version
        self._in_use = service.series_using(session, protocol.id)
        return service.protocol_values(protocol)

    def describe(self, values: Mapping[str, object]) -> str:
        return f"{values['name']} ({values['key']})"

    def record_shown(self, key: int | None) -> None:
        """Lock the key and the treatment while a series follows the shown protocol."""
        locked = key is not None and self._in_use > 0
        if locked:
            follow = "series follows" if self._in_use == 1 else "series follow"
            self.key_note.setText(
                f"{self._in_use} {follow} this protocol, so its key and "
                "treatment can no longer change."
            )
        else:
            self.key_note.setText(KEY_FREE)
        if not self.editable:
            return  # the whole form is read-only already
        key_editor, modality = self.form.editors["key"], self.form.editors["modality"]
        if isinstance(key_editor, QLineEdit):
            set_read_only(key_editor, locked)
        if isinstance(modality, QComboBox):
            modality.setEnabled(not locked)

    def create_record(self, session: Session, raw: Mapping[str, object]) -> int:
        return service.create_protocol(session, self.context.actor, raw).id

    def update_record(self, session: Session, key: int, raw: Mapping[str, object]) -> int:
        return service.update_protocol(
            session, self.context.actor, key, raw, expected_version=self._version
        ).id

    def set_record_active(self, session: Session, key: int, active: bool) -> None:
        service.set_protocol_active(session, self.context.actor, key, active)


def hint(text: str) -> QLabel:
    """A small grey line under a field that says how it behaves."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(HINT_STYLE)
    # As wide as the fields above it: a wrapped label would otherwise ask for a narrow column.
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label


def sessions(protocol: Protocol) -> str:
    """``"12"``, or ``"open-ended"`` for a maintenance protocol without a count."""
    return "open-ended" if protocol.session_count is None else str(protocol.session_count)
