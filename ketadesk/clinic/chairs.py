"""Treatment chairs and rooms: where each sits and which treatments it can host.

A chair belongs to one location and hosts one or more :class:`Modality` (an IV chair, a
quiet room for esketamine and its two-hour monitoring, a KAP room). Scheduling books only
chairs that are active and host the series' modality.

Input arrives as raw values keyed by :data:`CHAIR_FIELDS`: the location by its code,
modalities as a list or a comma string (``"iv, esketamine"``, values or labels).
:func:`clean_chair` resolves and validates everything at once, including the rule that
names are unique within a location. Writes need :data:`Permission.CLINIC_SETUP` and are
audited in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic import validation as v
from ketadesk.clinic.locations import location_code
from ketadesk.clinic.models import Chair, Location, Modality
from ketadesk.errors import InvalidValue, NotFound

_BY_WORD = {
    **{m.value.casefold(): m for m in Modality},
    **{m.label.casefold(): m for m in Modality},
}


def parse_modalities(value: object) -> frozenset[Modality]:
    """``"iv, Esketamine nasal"`` or ``[Modality.IV]`` -> the set; at least one is needed."""
    found: set[Modality] = set()
    for item in v.split_list(value):
        modality = _BY_WORD.get(" ".join(item.split()).casefold())
        if modality is None:
            choices = ", ".join(m.value for m in Modality)
            raise InvalidValue(f"{item!r} is not a treatment; expected some of {choices}")
        found.add(modality)
    if not found:
        raise InvalidValue("names no treatment; a chair hosts at least one")
    return frozenset(found)


CHAIR_FIELDS: tuple[v.FieldSpec, ...] = (
    v.FieldSpec("location", "Location", True, location_code),
    v.FieldSpec("name", "Name", True, v.plain_text(60)),
    v.FieldSpec("modalities", "Treatments", True, parse_modalities),
    v.FieldSpec("active", "Active", False, v.parse_flag),
)
_BLANKS: dict[str, Any] = {"active": True}


def clean_chair(
    session: Session,
    raw: Mapping[str, object],
    *,
    chair_id: int | None = None,
) -> dict[str, Any]:
    """Validate a chair's fields together; raise every problem at once.

    Returns the model's columns: ``location_id``, ``name``, ``modalities``, ``active``.
    ``chair_id`` is the chair being edited, so its own name does not count as taken.
    """
    checker = v.Checker()
    clean = v.collect_fields(checker, raw, CHAIR_FIELDS, _BLANKS, "chair")
    code = clean.pop("location")
    location = session.scalar(select(Location).where(Location.code == code)) if code else None
    if code and location is None:
        checker.add("location", f"there is no location with code {code}")
    if location is not None and clean["name"]:
        other = session.scalar(
            select(Chair).where(
                Chair.location_id == location.id,
                func.lower(Chair.name) == clean["name"].lower(),
                Chair.id != (chair_id or 0),
            )
        )
        if other is not None:
            checker.add(
                "name",
                f"{location.name} ({location.code}) already has a chair named "
                f"{other.name}; choose another name",
            )
    checker.raise_if_problems()
    clean["location_id"] = location.id if location else None
    return clean


def create_chair(session: Session, actor: Actor, raw: Mapping[str, object]) -> Chair:
    actor.require(Permission.CLINIC_SETUP)
    chair = Chair(**clean_chair(session, raw))
    session.add(chair)
    session.flush()
    audit.record(session, actor, "create", "chair", chair.id, after=audit.snapshot(chair))
    return chair


def update_chair(session: Session, actor: Actor, chair_id: int, raw: Mapping[str, object]) -> Chair:
    """Save an edit of the whole form (start from :func:`chair_values`)."""
    actor.require(Permission.CLINIC_SETUP)
    chair = session.get(Chair, chair_id)
    if chair is None:
        raise NotFound(f"There is no chair with id {chair_id}.")
    clean = clean_chair(session, raw, chair_id=chair.id)
    before = audit.snapshot(chair)
    for key, value in clean.items():
        setattr(chair, key, value)
    session.flush()
    audit.record_update(session, actor, "chair", chair.id, before, audit.snapshot(chair))
    return chair


def list_chairs(
    session: Session,
    actor: Actor,
    *,
    location_id: int | None = None,
    include_inactive: bool = False,
) -> list[Chair]:
    """Chairs ordered by location code then name; optionally of one location only."""
    actor.require(Permission.CLINIC_VIEW)
    query = select(Chair).join(Chair.location).order_by(Location.code, Chair.name)
    if location_id is not None:
        query = query.where(Chair.location_id == location_id)
    if not include_inactive:
        query = query.where(Chair.active.is_(True))
    return list(session.scalars(query))


def chair_by_name(
    session: Session, actor: Actor, name: str, *, location_id: int | None = None
) -> Chair:
    """The chair called ``name`` (any case), at ``location_id`` when given, else anywhere.

    A chair's number is accepted too. Raises :class:`NotFound` naming the location's chairs
    when none is called that, and when several locations have a chair of that name and no
    location was given (say which one).
    """
    actor.require(Permission.CLINIC_VIEW)
    text = name.strip()
    query = select(Chair).where(func.lower(Chair.name) == text.casefold())
    if location_id is not None:
        query = query.where(Chair.location_id == location_id)
    named = list(session.scalars(query.order_by(Chair.id)))
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise NotFound(f"several locations have a chair called {text}; say at which location")
    chair = session.get(Chair, int(text)) if text.isdigit() else None
    if chair is not None and location_id in (None, chair.location_id):
        return chair
    if location_id is None:
        raise NotFound(f"there is no chair {text}; say at which location")
    location = session.get(Location, location_id)
    code = location.code if location is not None else str(location_id)
    known = ", ".join(
        session.scalars(
            select(Chair.name)
            .where(Chair.location_id == location_id, Chair.active.is_(True))
            .order_by(Chair.name)
        )
    )
    missing = f"there is no chair called {text} at {code}"
    raise NotFound(missing + (f"; its chairs are {known}" if known else ""))


def chair_values(chair: Chair) -> dict[str, Any]:
    """The editable fields of ``chair`` in the raw form :func:`clean_chair` accepts."""
    return {
        "location": chair.location.code,
        "name": chair.name,
        "modalities": chair.modalities,
        "active": chair.active,
    }
