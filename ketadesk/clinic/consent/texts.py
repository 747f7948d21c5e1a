"""Consent texts: the shipped defaults, the versions a clinic writes, the one in effect.

The defaults live in ``ketadesk/resources/consents/<key>.toml`` (title, months a signature
stays valid, body), one file per treatment. :func:`ensure_default_consent_texts` writes
version 1 of every key the database lacks and never touches a key that has a text, so a
clinic's edits survive upgrades. An edit is :func:`add_version`: a new row with the next
number, never an update.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.consent.models import ConsentKey, ConsentText
from ketadesk.config import RESOURCES
from ketadesk.db import utcnow
from ketadesk.errors import FieldProblem, NotFound, ValidationError

DEFAULTS_DIR = RESOURCES / "consents"
TITLE_LENGTH = 200
MAX_VALID_MONTHS = 120


SHIPPED_EFFECTIVE_ON = date(2000, 1, 1)
"""The first day of the shipped texts: long before any consent a clinic records, so one
signed on any past day finds its text. Not a day anyone chose, so never shown as a date."""


def chosen_effective_on(text: ConsentText) -> date | None:
    """The day ``text`` took effect, or None for a shipped text (in effect from the start):
    what a form, the settings and the command line show."""
    return None if text.effective_on <= SHIPPED_EFFECTIVE_ON else text.effective_on


@dataclass(frozen=True)
class DefaultText:
    title: str
    valid_months: int | None
    body: str


@cache
def default_texts() -> Mapping[ConsentKey, DefaultText]:
    """The shipped consent texts by key."""
    texts = {}
    for key in ConsentKey:
        with (DEFAULTS_DIR / f"{key.value}.toml").open("rb") as handle:
            raw = tomllib.load(handle)
        months = int(raw["valid_months"])
        texts[key] = DefaultText(raw["title"], months or None, raw["body"].strip())
    return MappingProxyType(texts)


def ensure_default_consent_texts(
    session: Session,
    actor: Actor,
    *,
    effective_on: date = SHIPPED_EFFECTIVE_ON,
    now: datetime | None = None,
) -> list[ConsentText]:
    """Write version 1 of each shipped text whose key has no text yet; return those added.

    The defaults take effect from ``effective_on`` (long ago by default, so consents
    recorded for any past day find a text to have been signed on); ``now`` is when they
    are written (the clock; the demo states its own).
    """
    existing = set(session.scalars(select(ConsentText.key).distinct()))
    added = []
    for key, text in default_texts().items():
        if key in existing:
            continue
        row = ConsentText(
            key=key, version=1, title=text.title, body=text.body, material=True,
            valid_months=text.valid_months, effective_on=effective_on, edited_by=actor.username,
            created_at=now or utcnow(),
        )
        session.add(row)
        added.append(row)
    session.flush()
    for row in added:
        audit.record(session, actor, "create", "consent_text", row.id, after=_audited(row))
    return added


def all_versions(session: Session, key: ConsentKey | None = None) -> list[ConsentText]:
    """Every version (of ``key``, or of every key), by key then version."""
    query = select(ConsentText).order_by(ConsentText.key, ConsentText.version)
    if key is not None:
        query = query.where(ConsentText.key == key)
    return list(session.scalars(query))


def latest_versions(session: Session) -> dict[ConsentKey, ConsentText]:
    """The newest version of each key that has a text (in effect or still to come)."""
    return {text.key: text for text in all_versions(session)}


def text_in_effect(session: Session, key: ConsentKey, day: date) -> ConsentText:
    """The version a patient signing on ``day`` signs: the newest in effect that day."""
    text = session.scalar(
        select(ConsentText)
        .where(ConsentText.key == key, ConsentText.effective_on <= day)
        .order_by(ConsentText.version.desc())
        .limit(1)
    )
    if text is None:
        raise NotFound(
            f"there is no {key.label} consent text in effect on {day:%d %b %Y}; "
            "add one in Settings → Consent texts"
        )
    return text


def parse_key(raw: str) -> ConsentKey:
    """A treatment key as a person types it ("IV_ketamine", "kap"); ValidationError if not."""
    cleaned = raw.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return ConsentKey(cleaned)
    except ValueError:
        known = ", ".join(k.value for k in ConsentKey)
        raise ValidationError.single(
            "treatment", f"{raw.strip()!r} is not a consent treatment; use one of {known}"
        ) from None


def add_version(
    session: Session,
    actor: Actor,
    key: ConsentKey,
    body: str,
    *,
    material: bool,
    effective_on: date,
    valid_months: int | None,
    title: str | None = None,
) -> ConsentText:
    """Write the next version of ``key``'s text (the clinic's edit; never an update).

    ``title`` defaults to the current version's. Raises :class:`ValidationError` for an
    empty text, a title too long, or a period outside 1–120 months.
    """
    actor.require(Permission.CLINICAL_SETUP)
    current = latest_versions(session).get(key)
    title = (title if title is not None else current.title if current else key.label).strip()
    body = body.strip()
    _check(title, body, valid_months)
    row = ConsentText(
        key=key, version=(current.version + 1) if current else 1, title=title, body=body,
        material=material or current is None, valid_months=valid_months,
        effective_on=effective_on, edited_by=actor.username,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", "consent_text", row.id, after=_audited(row))
    return row


def _check(title: str, body: str, valid_months: int | None) -> None:
    problems = []
    if not body:
        problems.append(FieldProblem("text", "the consent text is empty"))
    if not title:
        problems.append(FieldProblem("title", "give the form a title"))
    elif len(title) > TITLE_LENGTH:
        problems.append(FieldProblem("title", f"keep the title under {TITLE_LENGTH} characters"))
    if valid_months is not None and not 1 <= valid_months <= MAX_VALID_MONTHS:
        problems.append(
            FieldProblem(
                "valid_months",
                f"a signature stays valid 1 to {MAX_VALID_MONTHS} months, not {valid_months}",
            )
        )
    if problems:
        raise ValidationError(problems)


def _audited(row: ConsentText) -> dict[str, object]:
    """The audit's copy of a version: everything but the long body (its length instead)."""
    shown = audit.snapshot(row, exclude=("body",))
    shown["body_characters"] = len(row.body)
    return shown
