"""Providers: the clinicians who order, give and supervise treatments, and bill for them.

A provider carries what claims and the Spravato REMS need (individual NPI, credentials,
licence and its state, REMS enrolment) and what the floor needs (how many chairs one can
supervise at once, and at which locations they work).

Input arrives as raw values keyed by :data:`PROVIDER_FIELDS`, locations as a list of codes
or a comma string. :func:`clean_provider` validates the values alone; the create and
update services add the checks that need the database (a unique NPI, existing location
codes) and report every problem together. Writes need :data:`Permission.CLINIC_SETUP` and
are audited in the caller's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic import validation as v
from ketadesk.clinic.locations import location_code
from ketadesk.clinic.models import Location, Provider
from ketadesk.errors import InvalidValue, NotFound

MAX_CONCURRENT_CHAIRS = 12
_CREDENTIALS_FORM = re.compile(r"[A-Za-z.,\- ]+")


def credentials(value: Any) -> str:
    """Post-nominal credentials as written on claims: ``"MD"``, ``"PA-C"``, ``"MD, PhD"``."""
    text = " ".join(str(value).split())
    if not _CREDENTIALS_FORM.fullmatch(text) or not any(c.isalpha() for c in text):
        raise InvalidValue(
            f"{text!r} is not a credential; expected letters, dots, commas, "
            "dashes and spaces, e.g. MD, PA-C or MD, PhD"
        )
    if len(text) > 40:
        raise InvalidValue(f"is {len(text)} characters long; at most 40 fit")
    return text


def concurrent_chairs(value: Any) -> int:
    """How many chairs one provider may supervise at once: 1 to 12."""
    return v.positive_int(value, maximum=MAX_CONCURRENT_CHAIRS)


def location_codes(value: object) -> list[str]:
    """``"nyc, bos"`` -> ``["NYC", "BOS"]``: valid codes, duplicates dropped, order kept."""
    return list(dict.fromkeys(location_code(code) for code in v.split_list(value)))


PROVIDER_FIELDS: tuple[v.FieldSpec, ...] = (
    v.FieldSpec("family_name", "Family name", True, v.person_name),
    v.FieldSpec("given_name", "Given name", True, v.person_name),
    v.FieldSpec("credentials", "Credentials", True, credentials),
    v.FieldSpec("npi", "NPI (individual)", True, v.npi),
    v.FieldSpec("licence_number", "Licence number", True, v.licence_number),
    v.FieldSpec("licence_state", "Licence state", True, v.us_state),
    v.FieldSpec("rems_enrolled", "Enrolled in the Spravato REMS", False, v.parse_flag),
    v.FieldSpec("max_concurrent_chairs", "Chairs supervised at once", False, concurrent_chairs),
    v.FieldSpec("locations", "Locations", False, location_codes),
    v.FieldSpec("active", "Active", False, v.parse_flag),
)
_BLANKS: dict[str, Any] = {
    "rems_enrolled": False,
    "max_concurrent_chairs": 4,
    "locations": [],
    "active": True,
}


def _check(checker: v.Checker, raw: Mapping[str, object]) -> dict[str, Any]:
    return v.collect_fields(checker, raw, PROVIDER_FIELDS, _BLANKS, "provider")


def clean_provider(raw: Mapping[str, object]) -> dict[str, Any]:
    """Validate every field of ``raw``; return clean values or raise every problem at once.

    ``locations`` comes back as a list of codes; whether they exist, and whether the NPI
    is free, is checked by :func:`create_provider` and :func:`update_provider`.
    """
    checker = v.Checker()
    clean = _check(checker, raw)
    checker.raise_if_problems()
    return clean


def _clean_with_database(
    session: Session,
    raw: Mapping[str, object],
    own_id: int | None,
) -> tuple[dict[str, Any], list[Location]]:
    """Clean values plus the resolved locations; database problems join the rest."""
    checker = v.Checker()
    clean = _check(checker, raw)
    codes: list[str] = clean.pop("locations")
    query = select(Location).where(Location.code.in_(codes))
    found = {loc.code: loc for loc in session.scalars(query)}
    missing = [code for code in codes if code not in found]
    if missing:
        checker.add("locations", f"there is no location with code {', '.join(missing)}")
    if clean["npi"]:
        other = session.scalar(
            select(Provider).where(Provider.npi == clean["npi"], Provider.id != (own_id or 0))
        )
        if other is not None:
            checker.add(
                "npi",
                f"{other.display_name} already has NPI {other.npi}; each provider has their own",
            )
    checker.raise_if_problems()
    return clean, [found[code] for code in codes]


def _snapshot(provider: Provider) -> dict[str, Any]:
    data = audit.snapshot(provider)
    data["locations"] = sorted(loc.code for loc in provider.locations)
    return data


def create_provider(session: Session, actor: Actor, raw: Mapping[str, object]) -> Provider:
    actor.require(Permission.CLINIC_SETUP)
    clean, locations = _clean_with_database(session, raw, None)
    provider = Provider(locations=locations, **clean)
    session.add(provider)
    session.flush()
    audit.record(session, actor, "create", "provider", provider.id, after=_snapshot(provider))
    return provider


def update_provider(
    session: Session,
    actor: Actor,
    provider_id: int,
    raw: Mapping[str, object],
) -> Provider:
    """Save an edit of the whole form (start from :func:`provider_values`)."""
    actor.require(Permission.CLINIC_SETUP)
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFound(f"There is no provider with id {provider_id}.")
    clean, locations = _clean_with_database(session, raw, provider.id)
    before = _snapshot(provider)
    for key, value in clean.items():
        setattr(provider, key, value)
    provider.locations = locations
    session.flush()
    audit.record_update(session, actor, "provider", provider.id, before, _snapshot(provider))
    return provider


def list_providers(
    session: Session,
    actor: Actor,
    *,
    location_id: int | None = None,
    include_inactive: bool = False,
) -> list[Provider]:
    """Providers by family then given name; optionally only those working at a location."""
    actor.require(Permission.CLINIC_VIEW)
    query = (
        select(Provider)
        .options(selectinload(Provider.locations))
        .order_by(Provider.family_name, Provider.given_name, Provider.id)
    )
    if location_id is not None:
        query = query.where(Provider.locations.any(Location.id == location_id))
    if not include_inactive:
        query = query.where(Provider.active.is_(True))
    return list(session.scalars(query))


def provider_by_npi(session: Session, actor: Actor, npi: str) -> Provider:
    """The provider whose individual NPI is ``npi``; :class:`NotFound` in words otherwise."""
    actor.require(Permission.CLINIC_VIEW)
    wanted = npi.strip()
    provider = session.scalar(select(Provider).where(Provider.npi == wanted))
    if provider is None:
        raise NotFound(f"no provider with NPI {wanted}")
    return provider


def provider_values(provider: Provider) -> dict[str, Any]:
    """The editable fields of ``provider`` as :func:`clean_provider` returns them (for forms)."""
    values = {spec.name: getattr(provider, spec.name) for spec in PROVIDER_FIELDS}
    values["locations"] = sorted(loc.code for loc in provider.locations)
    return values
