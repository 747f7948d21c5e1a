"""The Chairs tab: treatment chairs and rooms, where each sits and which treatments it hosts.

A :class:`~ketadesk.ui.settings.table.RecordTab` over :mod:`ketadesk.clinic.chairs`. The
location is picked from the clinic's locations (read again whenever the list is), the
treatments are ticked from the modalities KetaDesk knows. Deactivating a chair saves it
with ``active`` off: scheduling stops offering it, and its past sessions stay.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QComboBox
from sqlalchemy.orm import Session

from ketadesk.clinic import chairs as service
from ketadesk.clinic.models import Chair, Modality
from ketadesk.errors import NotFound
from ketadesk.ui.forms import FieldForm
from ketadesk.ui.settings.table import Fields, RecordTab, Row, location_choices, set_choices

FIELDS = Fields(service.CHAIR_FIELDS)


class ChairsTab(RecordTab):
    noun = "chair"
    columns = ("Name", "Location", "Treatments")
    stretch_column = 2

    def build_form(self, form: FieldForm) -> None:
        self.location = FIELDS.add_choice(form, "location", [])
        FIELDS.add_texts(form, ("name",), {"name": "e.g. Chair 3 or Quiet room"})
        form.add_checklist("modalities", FIELDS.label("modalities"),
                           [(m.value, m.label) for m in Modality], required=True)

    def load_choices(self, session: Session) -> None:
        if isinstance(self.location, QComboBox):
            set_choices(self.location, location_choices(session, self.context))

    def load_rows(self, session: Session, include_inactive: bool) -> list[Row]:
        found = service.list_chairs(session, self.context.actor,
                                    include_inactive=include_inactive)
        return [Row(chair.id, (chair.name, chair.location.code, treatments(chair)), chair.active)
                for chair in found]

    def load_values(self, session: Session, key: int) -> Mapping[str, object]:
        chair = session.get(Chair, key)
        if chair is None:
            raise NotFound(f"There is no chair with id {key}.")
        return service.chair_values(chair)

    def describe(self, values: Mapping[str, object]) -> str:
        return f"{values['name']} at {values['location']}"

    def create_record(self, session: Session, raw: Mapping[str, object]) -> int:
        return service.create_chair(session, self.context.actor, raw).id

    def update_record(self, session: Session, key: int, raw: Mapping[str, object]) -> int:
        return service.update_chair(session, self.context.actor, key, raw).id


def treatments(chair: Chair) -> str:
    """``"IV infusion, Esketamine nasal"``, in the order the modalities are declared."""
    return ", ".join(m.label for m in Modality if m in chair.modalities)
