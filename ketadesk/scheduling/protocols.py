"""Protocols: reading them, and writing the shipped defaults into a new database.

The defaults live in ``ketadesk/resources/protocols.toml`` (one table per protocol key).
:func:`ensure_default_protocols` adds any default whose key the database lacks and never
touches a protocol that exists, so a clinic's edits survive upgrades. Editing protocols
(:func:`create_protocol`, :func:`update_protocol`) lives in :mod:`.protocol_editing`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor
from ketadesk.clinic.models import Modality
from ketadesk.config import RESOURCES
from ketadesk.errors import NotFound
from ketadesk.scheduling.models import Phase, Protocol

DEFAULTS_FILE = RESOURCES / "protocols.toml"


@cache
def default_protocols() -> Mapping[str, Mapping[str, Any]]:
    """The shipped protocols by key, as the column values :class:`Protocol` takes."""
    with DEFAULTS_FILE.open("rb") as handle:
        raw = tomllib.load(handle)
    return MappingProxyType(
        {key: MappingProxyType(_columns(values)) for key, values in raw.items()}
    )


def _columns(values: Mapping[str, Any]) -> dict[str, Any]:
    columns = dict(values)
    columns["modality"] = Modality(columns["modality"])
    columns["phase"] = Phase(columns["phase"])
    return columns


def ensure_default_protocols(session: Session, actor: Actor) -> list[Protocol]:
    """Add the shipped protocols whose keys are missing; return the ones added."""
    existing = set(session.scalars(select(Protocol.key)))
    added = []
    for key, columns in default_protocols().items():
        if key in existing:
            continue
        protocol = Protocol(key=key, **columns)
        session.add(protocol)
        added.append(protocol)
    session.flush()
    for protocol in added:
        audit.record(
            session, actor, "create", "protocol", protocol.id, after=audit.snapshot(protocol)
        )
    return added


def list_protocols(session: Session, *, include_inactive: bool = False) -> list[Protocol]:
    query = select(Protocol).order_by(Protocol.name)
    if not include_inactive:
        query = query.where(Protocol.active.is_(True))
    return list(session.scalars(query))


def get_protocol(session: Session, key_or_id: str | int) -> Protocol:
    """The protocol with this key (``"iv-induction"``) or id; :class:`NotFound` otherwise."""
    if isinstance(key_or_id, int):
        protocol = session.get(Protocol, key_or_id)
    else:
        protocol = session.scalar(select(Protocol).where(Protocol.key == key_or_id.strip()))
    if protocol is None:
        keys = ", ".join(session.scalars(select(Protocol.key).order_by(Protocol.key)))
        raise NotFound(f"no protocol {key_or_id!r}" + (f"; known: {keys}" if keys else ""))
    return protocol
