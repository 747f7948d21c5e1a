"""Provider services on SQLite and PostgreSQL: create, edit, list, and their rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from builders import VALID_NPIS, add_location, add_provider
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor
from ketadesk.clinic import providers
from ketadesk.clinic.models import Provider
from ketadesk.errors import NotFound, PermissionDenied, ValidationError


def provider_raw(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "family_name": "Nguyễn", "given_name": "Văn  An", "credentials": "md,  PhD",
        "npi": VALID_NPIS[2], "licence_number": "md-445566", "licence_state": "new york",
        "rems_enrolled": "yes", "max_concurrent_chairs": "3", "locations": "nyc, bos",
    }
    raw.update(overrides)
    return raw


def audit_rows(session: Session) -> Sequence[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.entity == "provider").order_by(AuditEntry.id)
    return session.scalars(query).all()


@pytest.fixture
def sites(session: Session) -> Session:
    add_location(session, "NYC")
    add_location(session, "BOS")
    return session


def test_create_stores_clean_values_and_locations(sites: Session, admin: Actor) -> None:
    provider = providers.create_provider(sites, admin, provider_raw())
    assert provider.given_name == "Văn An"
    assert provider.credentials == "md, PhD"
    assert (provider.licence_number, provider.licence_state) == ("MD-445566", "NY")
    assert (provider.rems_enrolled, provider.max_concurrent_chairs) == (True, 3)
    assert [loc.code for loc in provider.locations] == ["NYC", "BOS"]
    assert provider.active is True
    [row] = audit_rows(sites)
    assert row.action == "create"
    assert row.after is not None
    assert (row.after["npi"], row.after["locations"]) == (VALID_NPIS[2], ["BOS", "NYC"])


def test_defaults_for_optional_fields(sites: Session, admin: Actor) -> None:
    raw = provider_raw(rems_enrolled="", max_concurrent_chairs=None, locations="")
    provider = providers.create_provider(sites, admin, raw)
    assert (provider.rems_enrolled, provider.max_concurrent_chairs) == (False, 4)
    assert provider.locations == []


@pytest.mark.parametrize(("field", "value", "message"), [
    ("family_name", "", "is required"),
    ("given_name", "123", "has no letters"),
    ("credentials", "M.D.; Ph.D.", "is not a credential; expected letters, dots, commas"),
    ("credentials", "1st", "is not a credential"),
    ("credentials", "A" * 41, "is 41 characters long; at most 40 fit"),
    ("npi", "1234567890", "fails the NPI check digit"),
    ("npi", "3234567893", "an NPI starts with 1 (individual) or 2"),
    ("licence_number", "MD 44", "is not a licence number"),
    ("licence_state", "Ontario", "is not a US state or territory"),
    ("rems_enrolled", "perhaps", "is not yes or no"),
    ("max_concurrent_chairs", "0", "0 is not positive"),
    ("max_concurrent_chairs", "13", "13 is more than the maximum; expected at most 12"),
    ("max_concurrent_chairs", "two", "is not a whole number"),
    ("locations", "nyc, new york", "'NEW YORK' is not a location code"),
    ("active", "unsure", "is not yes or no"),
])
def test_each_rule_has_its_message(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        providers.clean_provider(provider_raw(**{field: value}))
    [problem] = caught.value.problems
    assert problem.field == field
    assert message in problem.message


@pytest.mark.parametrize("value", ["MD", "DO", "NP", "PA-C", "CRNA", "RN", "M.D., Ph.D."])
def test_usual_credentials_are_accepted(value: str) -> None:
    assert providers.clean_provider(provider_raw(credentials=value))["credentials"] == value


def test_npi_is_unique_naming_the_other_provider(sites: Session, admin: Actor) -> None:
    add_provider(sites, npi=VALID_NPIS[2], given_name="Ama", family_name="Osei", credentials="DO")
    with pytest.raises(ValidationError) as caught:
        providers.create_provider(sites, admin, provider_raw(locations="nyc, xyz, qq"))
    assert caught.value.for_field("npi") == [
        f"Ama Osei, DO already has NPI {VALID_NPIS[2]}; each provider has their own"]
    assert caught.value.for_field("locations") == ["there is no location with code XYZ, QQ"]
    assert len(sites.scalars(select(Provider)).all()) == 1


def test_update_is_audited_including_locations(sites: Session, admin: Actor) -> None:
    provider = providers.create_provider(sites, admin, provider_raw())
    values = providers.provider_values(provider)
    assert values["locations"] == ["BOS", "NYC"]
    assert values["max_concurrent_chairs"] == 3
    providers.update_provider(sites, admin, provider.id, values)  # unchanged: no row
    providers.update_provider(sites, admin, provider.id,
                              {**values, "locations": ["bos"], "max_concurrent_chairs": 6})
    rows = audit_rows(sites)
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[1].before == {"max_concurrent_chairs": 3, "locations": ["BOS", "NYC"]}
    assert rows[1].after == {"max_concurrent_chairs": 6, "locations": ["BOS"]}
    with pytest.raises(NotFound, match=r"There is no provider with id 9999\."):
        providers.update_provider(sites, admin, 9999, values)


def test_list_filters_by_location_and_activity(sites: Session, front_desk: Actor,
                                               admin: Actor) -> None:
    providers.create_provider(sites, admin, provider_raw(family_name="Baker", locations="nyc"))
    providers.create_provider(sites, admin, provider_raw(
        family_name="Adams", npi=VALID_NPIS[3], locations="bos"))
    providers.create_provider(sites, admin, provider_raw(
        family_name="Clark", npi=VALID_NPIS[4], active="no", locations="nyc"))
    nyc_id = next(loc.id for loc in providers.list_providers(sites, front_desk)[1].locations)

    def names(**kwargs: Any) -> list[str]:
        return [p.family_name for p in providers.list_providers(sites, front_desk, **kwargs)]

    assert names() == ["Adams", "Baker"]
    assert names(include_inactive=True) == ["Adams", "Baker", "Clark"]
    assert names(location_id=nyc_id, include_inactive=True) == ["Baker", "Clark"]


def test_front_desk_may_not_change_providers(sites: Session, front_desk: Actor,
                                             admin: Actor) -> None:
    with pytest.raises(PermissionDenied, match="may not change clinic setup"):
        providers.create_provider(sites, front_desk, provider_raw())
    provider = providers.create_provider(sites, admin, provider_raw())
    with pytest.raises(PermissionDenied, match="may not change clinic setup"):
        providers.update_provider(sites, front_desk, provider.id, provider_raw(credentials="RN"))
    assert provider.credentials == "md, PhD"


def test_a_provider_is_found_by_npi(sites: Session, admin: Actor) -> None:
    osei = add_provider(sites)
    assert providers.provider_by_npi(sites, admin, f" {VALID_NPIS[0]} ") is osei
    with pytest.raises(NotFound, match=f"no provider with NPI {VALID_NPIS[2]}"):
        providers.provider_by_npi(sites, admin, VALID_NPIS[2])
