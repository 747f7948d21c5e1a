"""The Payers tab: insurers the clinic bills, with EDI payer id and timely-filing limit.

A :class:`~ketadesk.ui.settings.table.RecordTab` over :mod:`ketadesk.clinic.payers`.
Deactivating saves the payer with ``active`` off: new policies cannot name it, and claims
already sent to it carry on.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from ketadesk.clinic import payers as service
from ketadesk.clinic.models import Payer
from ketadesk.errors import NotFound
from ketadesk.ui.forms import FieldForm
from ketadesk.ui.settings.table import Fields, RecordTab, Row, shown_phone

FIELDS = Fields(service.PAYER_FIELDS)


class PayersTab(RecordTab):
    noun = "payer"
    columns = ("Name", "EDI payer id", "Timely filing")

    def build_form(self, form: FieldForm) -> None:
        FIELDS.add_texts(form, ("name", "edi_payer_id"), {"edi_payer_id": "e.g. 60054"})
        form.add_section("Paper claims and appeals")
        FIELDS.add_texts(form, ("address_line1", "city", "state", "zip_code", "phone"),
                         {"state": "e.g. NY", "phone": "e.g. (800) 555-0100"})
        form.add_section("Claims follow-up")
        FIELDS.add_texts(form, ("timely_filing_days",), {"timely_filing_days": "1 to 730"})

    def blank_values(self) -> Mapping[str, object]:
        return {**super().blank_values(), "timely_filing_days": "90"}

    def load_rows(self, session: Session, include_inactive: bool) -> list[Row]:
        found = service.list_payers(session, self.context.actor,
                                    include_inactive=include_inactive)
        return [Row(p.id, (p.name, p.edi_payer_id, f"{p.timely_filing_days} days"), p.active)
                for p in found]

    def load_values(self, session: Session, key: int) -> Mapping[str, object]:
        payer = session.get(Payer, key)
        if payer is None:
            raise NotFound(f"There is no payer with id {key}.")
        return shown_phone(service.payer_values(payer))

    def create_record(self, session: Session, raw: Mapping[str, object]) -> int:
        return service.create_payer(session, self.context.actor, raw).id

    def update_record(self, session: Session, key: int, raw: Mapping[str, object]) -> int:
        return service.update_payer(session, self.context.actor, key, raw).id
