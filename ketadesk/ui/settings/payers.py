"""The Payers tab: insurers the clinic bills: EDI payer id, filing and appeal limits, network,
the services each covers and how it wants esketamine coded.

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
    columns = ("Name", "EDI payer id", "Timely filing", "Network", "Esketamine billed as")

    def build_form(self, form: FieldForm) -> None:
        FIELDS.add_texts(form, ("name", "edi_payer_id"), {"edi_payer_id": "e.g. 60054"})
        form.add_section("Paper claims and appeals")
        FIELDS.add_texts(form, ("address_line1", "city", "state", "zip_code", "phone"),
                         {"state": "e.g. NY", "phone": "e.g. (800) 555-0100"})
        form.add_section("Claims follow-up")
        FIELDS.add_texts(form, ("timely_filing_days", "appeal_days"),
                         {"timely_filing_days": "1 to 730", "appeal_days": "1 to 730"})
        form.add_check("in_network", FIELDS.label("in_network"))
        form.add_section("Coverage and coding")
        form.add_check("is_medicare", FIELDS.label("is_medicare"))
        FIELDS.add_texts(form, ("covered_codes",),
                         {"covered_codes": "blank: the esketamine services"})
        FIELDS.add_choice(form, "esketamine_billing",
                          [("", "By Medicare or not"),
                           *((key, words) for key, words in service.ESKETAMINE_BILLING.items())])
        form.add_check("bills_drug", FIELDS.label("bills_drug"))
        form.add_check("rems_kx", FIELDS.label("rems_kx"))
        FIELDS.add_texts(form, ("code_swaps",), {"code_swaps": "e.g. J0013>S0013"})

    def blank_values(self) -> Mapping[str, object]:
        return {**super().blank_values(), "timely_filing_days": "90", "appeal_days": "180",
                "in_network": True, "bills_drug": True,
                "covered_codes": service.ESKETAMINE_SERVICES}

    def load_rows(self, session: Session, include_inactive: bool) -> list[Row]:
        found = service.list_payers(session, self.context.actor,
                                    include_inactive=include_inactive)
        return [Row(p.id, (p.name, p.edi_payer_id, f"{p.timely_filing_days} days",
                           "In" if p.in_network else "Out",
                           "G-code bundle" if p.esketamine_billing == "g_code" else "Visit + drug"),
                    p.active)
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
