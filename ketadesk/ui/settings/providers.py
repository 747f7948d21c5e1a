"""The Providers tab: clinicians with their NPI, licence, REMS enrolment and locations.

A :class:`~ketadesk.ui.settings.table.RecordTab` over :mod:`ketadesk.clinic.providers`. The
locations a provider works at are ticked from the clinic's locations, read again whenever
the list is. Deactivating saves the provider with ``active`` off; their history stays.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session, selectinload

from ketadesk.clinic import providers as service
from ketadesk.clinic.models import Provider
from ketadesk.errors import NotFound
from ketadesk.ui.forms import CheckList, FieldForm
from ketadesk.ui.settings.table import Fields, RecordTab, Row, location_choices

FIELDS = Fields(service.PROVIDER_FIELDS)


class ProvidersTab(RecordTab):
    noun = "provider"
    columns = ("Name", "NPI", "Locations")

    def build_form(self, form: FieldForm) -> None:
        form.add_section("Person")
        FIELDS.add_texts(form, ("family_name", "given_name", "credentials"),
                         {"credentials": "e.g. MD, DO, NP or PA-C"})
        form.add_section("Identifiers")
        FIELDS.add_texts(form, ("npi", "licence_number", "licence_state"),
                         {"npi": "individual (type 1) NPI, 10 digits", "licence_state": "e.g. NY"})
        form.add_check("rems_enrolled", FIELDS.label("rems_enrolled"))
        form.add_section("Work")
        FIELDS.add_texts(form, ("max_concurrent_chairs",), {"max_concurrent_chairs": "1 to 12"})
        self.locations = form.add_checklist("locations", FIELDS.label("locations"), [])

    def blank_values(self) -> Mapping[str, object]:
        return {**super().blank_values(), "max_concurrent_chairs": "4", "rems_enrolled": False}

    def load_choices(self, session: Session) -> None:
        if isinstance(self.locations, CheckList):
            self.locations.set_choices(location_choices(session, self.context))

    def load_rows(self, session: Session, include_inactive: bool) -> list[Row]:
        found = service.list_providers(session, self.context.actor,
                                       include_inactive=include_inactive)
        return [Row(p.id, (p.display_name, p.npi, codes(p)), p.active) for p in found]

    def load_values(self, session: Session, key: int) -> Mapping[str, object]:
        provider = session.get(Provider, key, options=[selectinload(Provider.locations)])
        if provider is None:
            raise NotFound(f"There is no provider with id {key}.")
        return service.provider_values(provider)

    def describe(self, values: Mapping[str, object]) -> str:
        return f"{values['given_name']} {values['family_name']}, {values['credentials']}"

    def create_record(self, session: Session, raw: Mapping[str, object]) -> int:
        return service.create_provider(session, self.context.actor, raw).id

    def update_record(self, session: Session, key: int, raw: Mapping[str, object]) -> int:
        return service.update_provider(session, self.context.actor, key, raw).id


def codes(provider: Provider) -> str:
    """The codes of the locations ``provider`` works at: ``"BKN, NYC"``."""
    return ", ".join(sorted(loc.code for loc in provider.locations))
