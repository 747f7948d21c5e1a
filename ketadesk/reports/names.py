"""Names for the ids a report groups by: locations, providers, payers, modalities.

Reports group by ids in SQL and name the groups afterwards from these small lookups (a
clinic has a handful of locations and payers), so no report joins a name table per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.clinic.locations import WEEKDAY_NAMES
from ketadesk.clinic.models import Chair, Location, Modality, Payer, Provider
from ketadesk.reports import periods

SELF_PAY = "Self-pay"
NONE = "Not tied to a service"


@dataclass(frozen=True)
class Names:
    """Every id's name, read once per report run."""

    locations: dict[int, str]
    location_codes: dict[int, str]
    providers: dict[int, str]
    payers: dict[int, str]
    chairs: dict[int, str]

    def location(self, key: object) -> str:
        return self.locations.get(key, NONE) if isinstance(key, int) else "No location"

    def provider(self, key: object) -> str:
        return self.providers.get(key, NONE) if isinstance(key, int) else "No provider"

    def payer(self, key: object) -> str:
        return self.payers.get(key, f"Payer {key}") if isinstance(key, int) else SELF_PAY

    def chair(self, key: object) -> str:
        return self.chairs.get(key, NONE) if isinstance(key, int) else "No chair"

    def group(self, key: str, value: Any) -> str | None:
        """A group key every report reads alike, as people read it (a period, a location,
        a provider, a payer, a modality, a chair, a weekday, an hour); None for a key the
        report names itself."""
        if key in periods.Grain.__members__.values():
            return periods.label_of(str(value), periods.Grain(key))
        named = {
            "location": self.location,
            "provider": self.provider,
            "payer": self.payer,
            "modality": self.modality,
            "chair": self.chair,
        }.get(key)
        if named is not None:
            return named(value)
        if key == "weekday":
            return WEEKDAY_NAMES[int(value)]
        if key == "hour":
            return f"{int(value):02d}:00"
        return None

    @staticmethod
    def modality(key: object) -> str:
        try:
            return Modality(str(key)).label
        except ValueError:
            return NONE


def read_names(session: Session) -> Names:
    locations = session.execute(select(Location.id, Location.code, Location.name)).all()
    providers = session.execute(
        select(Provider.id, Provider.given_name, Provider.family_name, Provider.credentials)
    ).all()
    chairs = session.execute(select(Chair.id, Chair.name, Chair.location_id)).all()
    codes = {row.id: row.code for row in locations}
    return Names(
        locations={row.id: row.name for row in locations},
        location_codes=codes,
        providers={
            row.id: " ".join(p for p in (row.given_name, row.family_name) if p)
            + (f", {row.credentials}" if row.credentials else "")
            for row in providers
        },
        payers={row.id: row.name for row in session.execute(select(Payer.id, Payer.name))},
        chairs={row.id: f"{codes.get(row.location_id, '')} {row.name}".strip() for row in chairs},
    )
