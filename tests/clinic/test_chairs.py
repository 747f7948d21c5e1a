"""Chair services on SQLite and PostgreSQL: create, edit, list, and their rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from builders import add_chair, add_location
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor
from ketadesk.clinic import chairs
from ketadesk.clinic.models import Chair, Location, Modality
from ketadesk.errors import InvalidValue, NotFound, PermissionDenied, ValidationError


def chair_raw(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"location": "nyc", "name": " Bay  1 ", "modalities": "iv, esketamine"}
    raw.update(overrides)
    return raw


def audit_rows(session: Session) -> Sequence[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.entity == "chair").order_by(AuditEntry.id)
    return session.scalars(query).all()


@pytest.fixture
def nyc(session: Session) -> Location:
    return add_location(session, "NYC", name="Midtown")


def test_create_resolves_location_and_modalities(nyc: Location, session: Session,
                                                 admin: Actor) -> None:
    chair = chairs.create_chair(session, admin, chair_raw())
    assert (chair.location_id, chair.name, chair.active) == (nyc.id, "Bay 1", True)
    assert chair.modalities == frozenset({Modality.IV, Modality.ESKETAMINE})
    [row] = audit_rows(session)
    assert row.action == "create"
    assert row.after is not None
    assert (row.after["name"], row.after["modalities"]) == ("Bay 1", ["esketamine", "iv"])


@pytest.mark.parametrize(("value", "expected"), [
    ("iv", {Modality.IV}),
    ("IV infusion; esketamine nasal", {Modality.IV, Modality.ESKETAMINE}),
    ([Modality.KAP, "oral"], {Modality.KAP, Modality.ORAL}),
    (frozenset({Modality.IM}), {Modality.IM}),
    ("Ketamine-assisted  psychotherapy, kap", {Modality.KAP}),
])
def test_modalities_accept_values_labels_and_lists(value: object,
                                                   expected: set[Modality]) -> None:
    assert chairs.parse_modalities(value) == expected


@pytest.mark.parametrize(("value", "message"), [
    ("iv, laser", "'laser' is not a treatment; expected some of iv, im, esketamine, oral, kap"),
    ([], "names no treatment; a chair hosts at least one"),
    (" , ", "names no treatment"),
])
def test_bad_modalities_are_explained(value: object, message: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        chairs.parse_modalities(value)
    assert message in str(caught.value)


def test_every_problem_is_reported_at_once(nyc: Location, session: Session,
                                           admin: Actor) -> None:
    raw = chair_raw(location="XYZ", name="", modalities="", active="sometimes", colour="red")
    with pytest.raises(ValidationError) as caught:
        chairs.create_chair(session, admin, raw)
    problems = {p.field: p.message for p in caught.value.problems}
    assert problems == {
        "colour": "is not a chair field",
        "location": "there is no location with code XYZ",
        "name": "is required",
        "modalities": "is required",
        "active": "'sometimes' is not yes or no; expected yes/no, true/false or 1/0",
    }
    assert session.scalar(select(Chair.id)) is None


def test_too_long_name_and_bad_code(nyc: Location, session: Session, admin: Actor) -> None:
    with pytest.raises(ValidationError) as caught:
        chairs.clean_chair(session, chair_raw(name="x" * 61, location="N"))
    assert caught.value.for_field("name") == ["is 61 characters long; at most 60 fit"]
    assert "is not a location code" in caught.value.for_field("location")[0]


def test_name_is_unique_per_location(nyc: Location, session: Session, admin: Actor) -> None:
    add_location(session, "BOS")
    chairs.create_chair(session, admin, chair_raw())
    chairs.create_chair(session, admin, chair_raw(location="bos"))  # other location: fine
    with pytest.raises(ValidationError) as caught:
        chairs.create_chair(session, admin, chair_raw(name="bay 1"))
    assert caught.value.for_field("name") == [
        "Midtown (NYC) already has a chair named Bay 1; choose another name"]


def test_update_is_audited_and_keeps_its_own_name(nyc: Location, session: Session,
                                                  admin: Actor) -> None:
    chair = chairs.create_chair(session, admin, chair_raw())
    values = chairs.chair_values(chair)
    assert values == {"location": "NYC", "name": "Bay 1",
                      "modalities": frozenset({Modality.IV, Modality.ESKETAMINE}), "active": True}
    chairs.update_chair(session, admin, chair.id, values)  # unchanged: no row
    chairs.update_chair(session, admin, chair.id,
                        {**values, "name": "Quiet room", "modalities": "kap", "active": "no"})
    rows = audit_rows(session)
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[1].before == {"name": "Bay 1", "modalities": ["esketamine", "iv"], "active": True}
    assert rows[1].after == {"name": "Quiet room", "modalities": ["kap"], "active": False}


def test_update_refuses_a_name_taken_by_another_chair(nyc: Location, session: Session,
                                                      admin: Actor) -> None:
    add_chair(session, nyc, "Bay 2")
    chair = chairs.create_chair(session, admin, chair_raw())
    with pytest.raises(ValidationError, match="already has a chair named Bay 2"):
        chairs.update_chair(session, admin, chair.id, chair_raw(name="BAY 2"))
    with pytest.raises(NotFound, match=r"There is no chair with id 9999\."):
        chairs.update_chair(session, admin, 9999, chair_raw())


def test_list_filters_by_location_and_activity(nyc: Location, session: Session,
                                               front_desk: Actor) -> None:
    boston = add_location(session, "BOS")
    add_chair(session, nyc, "B")
    add_chair(session, nyc, "A")
    add_chair(session, boston, "Z")
    retired = add_chair(session, nyc, "C")
    retired.active = False

    def names(**kwargs: Any) -> list[str]:
        return [f"{c.location.code}/{c.name}"
                for c in chairs.list_chairs(session, front_desk, **kwargs)]

    assert names() == ["BOS/Z", "NYC/A", "NYC/B"]
    assert names(location_id=nyc.id) == ["NYC/A", "NYC/B"]
    assert names(location_id=nyc.id, include_inactive=True) == ["NYC/A", "NYC/B", "NYC/C"]


def test_front_desk_may_not_change_chairs(nyc: Location, session: Session, front_desk: Actor,
                                          admin: Actor) -> None:
    with pytest.raises(PermissionDenied, match="may not change clinic setup"):
        chairs.create_chair(session, front_desk, chair_raw())
    chair = chairs.create_chair(session, admin, chair_raw())
    with pytest.raises(PermissionDenied, match="may not change clinic setup"):
        chairs.update_chair(session, front_desk, chair.id, chair_raw(name="Bay 9"))
    assert chair.name == "Bay 1"
    assert [r.actor for r in audit_rows(session)] == ["test-admin"]


def test_a_chair_is_found_by_name_in_sql(nyc: Location, session: Session, admin: Actor) -> None:
    bay = add_chair(session, nyc, "Bay 1")
    boston = add_location(session, "BOS")
    add_chair(session, boston, "Bay 1")
    quiet = add_chair(session, boston, "Quiet room")

    assert chairs.chair_by_name(session, admin, " bay 1 ", location_id=nyc.id) is bay
    assert chairs.chair_by_name(session, admin, "QUIET ROOM") is quiet  # one of that name
    assert chairs.chair_by_name(session, admin, str(bay.id), location_id=nyc.id) is bay
    with pytest.raises(NotFound, match="several locations have a chair called Bay 1"):
        chairs.chair_by_name(session, admin, "Bay 1")
    with pytest.raises(NotFound, match="no chair called Bay 9 at BOS; its chairs are Bay 1, Quiet"):
        chairs.chair_by_name(session, admin, "Bay 9", location_id=boston.id)
    with pytest.raises(NotFound, match=f"no chair called {quiet.id} at NYC; its chairs are Bay 1$"):
        chairs.chair_by_name(session, admin, str(quiet.id), location_id=nyc.id)
