"""Editing protocols: a manager adds a clinic's own, or changes the shipped ones.

Input arrives as raw values keyed by :data:`PROTOCOL_FIELDS` (text as typed in the
Settings form, or the values :func:`protocol_values` gives back for editing).
:func:`clean_protocol` validates every field and the rules between them at once:

* a weekly pattern (``"2,2,2,2,1,1,1,1"``) must add up to the session count, and a week
  cannot hold more sessions than the minimum spacing allows;
* a blank session count means open-ended, which needs interval choices in weeks
  (``"1,2"``); interval choices cannot be combined with a weekly pattern;
* the longest gap cannot be shorter than the minimum spacing, nor the whole series shorter
  than its sessions at that spacing need;
* esketamine needs at least 120 monitoring minutes (the Spravato REMS two-hour rule);
* services are CPT or HCPCS Level II codes.

:func:`create_protocol`, :func:`update_protocol` and :func:`set_protocol_active` add the
checks that need the database (a free key and name; the key and modality stay fixed once a
series uses the protocol), need :data:`Permission.PROTOCOL_EDIT`, and write an audit row in
the caller's transaction. Everyone may read protocols (:mod:`.protocols`).

A protocol is a template: booked sessions carry their own chair, times and modality, so a
change to a protocol applies to what is planned from then on and never rewrites a session
already booked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic import validation as v
from ketadesk.clinic.codes import procedure_code
from ketadesk.clinic.models import Modality
from ketadesk.errors import InvalidValue, NotFound, StaleEdit
from ketadesk.scheduling.models import Phase, Protocol, Series

__all__ = [
    "ESKETAMINE_MONITORING_MINUTES",
    "PROTOCOL_FIELDS",
    "clean_protocol",
    "create_protocol",
    "protocol_values",
    "series_using",
    "set_protocol_active",
    "update_protocol",
]

ESKETAMINE_MONITORING_MINUTES = 120
"""The Spravato REMS: a patient stays under observation for at least two hours."""
HOURS_IN_WEEK_SPAN = 6 * 24  # first to last session of one week, at the same time of day


# ---------------------------------------------------------------------------------------
# Validators of single values
# ---------------------------------------------------------------------------------------

_KEY_FORM = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_DIGITS = re.compile(r"[0-9]+")


def protocol_key(value: Any) -> str:
    """A protocol's short key: ``" IV-Induction "`` -> ``"iv-induction"``."""
    text = str(value).strip().lower()
    if not _KEY_FORM.fullmatch(text):
        raise InvalidValue(
            f"{text!r} is not a protocol key; expected lower-case letters and digits joined "
            "by single dashes, e.g. iv-induction"
        )
    if not 2 <= len(text) <= 40:
        raise InvalidValue(f"{text} has {len(text)} characters; a key has 2 to 40")
    return text


def _choice(kind: type[Modality] | type[Phase], what: str) -> Callable[[Any], Any]:
    """A validator taking a member's value or label, in any case."""
    words = {m.value.casefold(): m for m in kind} | {m.label.casefold(): m for m in kind}

    def check(value: Any) -> Any:
        found = words.get(" ".join(str(value).split()).casefold())
        if found is None:
            choices = ", ".join(m.value for m in kind)
            raise InvalidValue(f"{str(value).strip()!r} is not a {what}; expected one of {choices}")
        return found

    return check


parse_modality: Callable[[Any], Modality] = _choice(Modality, "treatment")
parse_phase: Callable[[Any], Phase] = _choice(Phase, "phase")


def _number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"a whole number is int or str, not {type(value).__name__}")
    if isinstance(value, int):
        return value
    text = value.strip()
    if not _DIGITS.fullmatch(text) or len(text) > 6:
        raise InvalidValue(f"{text!r} is not a whole number; expected digits only, e.g. 6")
    return int(text)


def whole(low: int, high: int, unit: str = "") -> Callable[[Any], int]:
    """A validator for a whole number from ``low`` to ``high`` (``unit`` names it)."""
    suffix = f" {unit}" if unit else ""

    def check(value: Any) -> int:
        number = _number(value)
        if not low <= number <= high:
            raise InvalidValue(f"{number}{suffix} is outside {low} to {high}{suffix}")
        return number

    return check


def _numbers(value: object, low: int, high: int, what: str) -> list[int]:
    found: list[int] = []
    for item in v.split_list(value):
        if not _DIGITS.fullmatch(item):
            raise InvalidValue(f"{item!r} is not a whole number; write {what} like 2,2,1")
        number = int(item)
        if not low <= number <= high:
            raise InvalidValue(f"{number} is outside {low} to {high}; each of {what} is")
        found.append(number)
    if not found:
        raise InvalidValue(f"names no {what}")
    return found


def weekly_pattern(value: object) -> str:
    """Sessions in each consecutive week: ``"2, 2, 1"`` -> ``"2,2,1"`` (1 to 7 a week)."""
    text = ",".join(str(n) for n in _numbers(value, 1, 7, "the sessions in a week"))
    if len(text) > 60:
        raise InvalidValue(f"covers {text.count(',') + 1} weeks; at most 30 fit")
    return text


def interval_weeks(value: object) -> str:
    """Weeks between sessions offered at booking, the first the default: ``"1, 2"`` -> ``"1,2"``."""
    weeks = dict.fromkeys(_numbers(value, 1, 52, "the weeks between sessions"))
    text = ",".join(str(n) for n in weeks)
    if len(text) > 30:
        raise InvalidValue("offers too many choices; at most 30 characters fit")
    return text


def service_codes(value: object) -> str:
    """CPT/HCPCS codes each session bills: ``"96365, j3490"`` -> ``"96365,J3490"``."""
    codes: list[str] = []
    bad: list[str] = []
    for item in v.split_list(value):
        try:
            codes.append(procedure_code(item))
        except InvalidValue as error:
            bad.append(str(error))
    if bad:
        raise InvalidValue("; ".join(bad))
    text = ",".join(dict.fromkeys(codes))
    if len(text) > 200:
        raise InvalidValue(f"is {len(text)} characters long; at most 200 fit")
    return text


def description(value: Any) -> str:
    """Free text, line breaks kept, at most 2000 characters."""
    text = "\n".join(line.rstrip() for line in str(value).strip().splitlines())
    if len(text) > 2000:
        raise InvalidValue(f"is {len(text)} characters long; at most 2000 fit")
    return text


# ---------------------------------------------------------------------------------------
# The form
# ---------------------------------------------------------------------------------------

PROTOCOL_FIELDS: Mapping[str, v.FieldSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            v.FieldSpec("name", "Name", True, v.plain_text(120)),
            v.FieldSpec("key", "Key", True, protocol_key),
            v.FieldSpec("modality", "Treatment", True, parse_modality),
            v.FieldSpec("phase", "Phase", True, parse_phase),
            v.FieldSpec("session_count", "Number of sessions", False, whole(1, 200, "sessions")),
            v.FieldSpec("weekly_pattern", "Sessions per week", False, weekly_pattern),
            v.FieldSpec("interval_weeks", "Interval choices (weeks)", False, interval_weeks),
            v.FieldSpec(
                "min_hours_between", "Minimum hours between doses", False, whole(0, 1440, "hours")
            ),
            v.FieldSpec("max_gap_days", "Longest gap (days)", False, whole(1, 365, "days")),
            v.FieldSpec("max_span_days", "Longest series (days)", False, whole(1, 730, "days")),
            v.FieldSpec("treatment_minutes", "Treatment minutes", True, whole(1, 600, "minutes")),
            v.FieldSpec(
                "monitoring_minutes", "Monitoring minutes", False, whole(0, 600, "minutes")
            ),
            v.FieldSpec(
                "fasting_food_hours", "No food before (hours)", False, whole(0, 24, "hours")
            ),
            v.FieldSpec(
                "fasting_drink_minutes",
                "No drink before (minutes)",
                False,
                whole(0, 720, "minutes"),
            ),
            v.FieldSpec("services", "Services billed", False, service_codes),
            v.FieldSpec("description", "Description", False, description),
            v.FieldSpec("active", "Active", False, v.parse_flag),
        )
    }
)
"""Every field of a protocol, keyed by the raw key (which is also the column's name)."""

_BLANKS: dict[str, Any] = {
    "weekly_pattern": "",
    "interval_weeks": "",
    "min_hours_between": 0,
    "monitoring_minutes": 0,
    "fasting_food_hours": 0,
    "fasting_drink_minutes": 0,
    "services": "",
    "description": "",
    "active": True,
}


def clean_protocol(raw: Mapping[str, object]) -> dict[str, Any]:
    """Validate every field of ``raw`` and the rules between them; raise every problem at once.

    Returns the :class:`Protocol` columns. Whether the key and name are free is checked by
    :func:`create_protocol` and :func:`update_protocol`.
    """
    checker = v.Checker()
    clean = _check(checker, raw)
    checker.raise_if_problems()
    return clean


def _check(checker: v.Checker, raw: Mapping[str, object]) -> dict[str, Any]:
    clean = v.collect_fields(checker, raw, tuple(PROTOCOL_FIELDS.values()), _BLANKS, "protocol")
    bad = {p.field for p in checker.problems}
    if not bad & {"session_count", "weekly_pattern", "interval_weeks"}:
        _check_count(checker, clean)
    if not bad & {
        "weekly_pattern",
        "min_hours_between",
        "max_gap_days",
        "max_span_days",
        "session_count",
    }:
        _check_spacing(checker, clean)
    if not bad & {"modality", "monitoring_minutes"}:
        _check_monitoring(checker, clean)
    return clean


def _check_count(checker: v.Checker, clean: Mapping[str, Any]) -> None:
    """Session count, weekly pattern and interval choices describe one way of spacing."""
    count, pattern, interval = (
        clean["session_count"],
        clean["weekly_pattern"],
        clean["interval_weeks"],
    )
    total = sum(int(n) for n in pattern.split(",")) if pattern else 0
    if pattern and count is None:
        checker.add(
            "session_count",
            f"is needed with a weekly pattern: {pattern} adds up to {total}; enter {total}, "
            "or clear the pattern for an open-ended protocol",
        )
    elif pattern and total != count:
        checker.add(
            "weekly_pattern",
            f"adds up to {total} sessions but the protocol has {count}; make them agree",
        )
    if pattern and interval:
        checker.add(
            "interval_weeks", "cannot be combined with a weekly pattern; clear one of the two"
        )
    elif count is None and not pattern and not interval:
        checker.add(
            "interval_weeks",
            "is required when the number of sessions is blank (open-ended): enter the weeks "
            "between sessions offered at booking, e.g. 1,2",
        )


def _check_spacing(checker: v.Checker, clean: Mapping[str, Any]) -> None:
    """The minimum spacing must leave room for the pattern, the longest gap and the span."""
    hours: int = clean["min_hours_between"]
    pattern, gap, span, count = (
        clean["weekly_pattern"],
        clean["max_gap_days"],
        clean["max_span_days"],
        clean["session_count"],
    )
    busiest = max((int(n) for n in pattern.split(",")), default=0) if pattern else 0
    if hours and busiest > 1 and (busiest - 1) * hours > HOURS_IN_WEEK_SPAN:
        fits = HOURS_IN_WEEK_SPAN // hours + 1
        checker.add(
            "weekly_pattern",
            f"puts {busiest} sessions in one week, but at least {hours} hours apart only "
            f"{fits} fit in a week",
        )
    if gap is not None and gap * 24 < hours:
        checker.add(
            "max_gap_days",
            f"{gap} days is shorter than the minimum of {hours} hours between doses",
        )
    if span is not None and count and hours:
        needed = -(-(count - 1) * hours // 24)  # whole days, rounded up
        if span < needed:
            checker.add(
                "max_span_days",
                f"{span} days is too short: {count} sessions at least {hours} hours apart "
                f"take at least {needed} days",
            )


def _check_monitoring(checker: v.Checker, clean: Mapping[str, Any]) -> None:
    minutes = clean["monitoring_minutes"]
    if clean["modality"] is Modality.ESKETAMINE and minutes < ESKETAMINE_MONITORING_MINUTES:
        checker.add(
            "monitoring_minutes",
            f"{minutes} minutes is too short: the Spravato REMS requires at least "
            f"{ESKETAMINE_MONITORING_MINUTES} minutes of monitoring after esketamine",
        )


# ---------------------------------------------------------------------------------------
# Checks against the database
# ---------------------------------------------------------------------------------------


def series_using(session: Session, protocol_id: int) -> int:
    """How many series (of any status) follow protocol ``protocol_id``."""
    query = select(func.count()).select_from(Series).where(Series.protocol_id == protocol_id)
    return session.scalar(query) or 0


def _clean_with_database(
    session: Session, raw: Mapping[str, object], protocol: Protocol | None
) -> dict[str, Any]:
    checker = v.Checker()
    clean = _check(checker, raw)
    own_id = protocol.id if protocol is not None else 0
    if clean["key"]:
        other = session.scalar(
            select(Protocol).where(Protocol.key == clean["key"], Protocol.id != own_id)
        )
        if other is not None:
            checker.add("key", f"{other.name} already uses the key {other.key}; choose another")
    if clean["name"]:
        other = session.scalar(
            select(Protocol).where(
                func.lower(Protocol.name) == clean["name"].lower(), Protocol.id != own_id
            )
        )
        if other is not None:
            checker.add("name", f"another protocol ({other.key}) is called {other.name}")
    if protocol is not None:
        _check_fixed(session, checker, clean, protocol)
    checker.raise_if_problems()
    return clean


def _check_fixed(
    session: Session, checker: v.Checker, clean: Mapping[str, Any], protocol: Protocol
) -> None:
    """Once a series follows the protocol, its key and its treatment stay as they are."""
    key_moves = clean["key"] and clean["key"] != protocol.key
    modality_moves = clean["modality"] and clean["modality"] is not protocol.modality
    if not (key_moves or modality_moves):
        return
    used = series_using(session, protocol.id)
    if not used:
        return
    why = f"{used} series {'follows' if used == 1 else 'follow'} this protocol"
    if key_moves:
        checker.add("key", f"cannot change: {why}, and sessions and scripts name it {protocol.key}")
    if modality_moves:
        checker.add(
            "modality",
            f"cannot change: {why}; add a new protocol for {clean['modality'].label} instead",
        )


# ---------------------------------------------------------------------------------------
# The services
# ---------------------------------------------------------------------------------------


def create_protocol(session: Session, actor: Actor, raw: Mapping[str, object]) -> Protocol:
    """Add a protocol from the form's raw values; raises every problem at once."""
    actor.require(Permission.PROTOCOL_EDIT)
    protocol = Protocol(**_clean_with_database(session, raw, None))
    session.add(protocol)
    session.flush()
    audit.record(session, actor, "create", "protocol", protocol.id, after=audit.snapshot(protocol))
    return protocol


def update_protocol(
    session: Session,
    actor: Actor,
    protocol_id: int,
    raw: Mapping[str, object],
    *,
    expected_version: int | None = None,
) -> Protocol:
    """Save an edit of the whole form (start from :func:`protocol_values`).

    With ``expected_version`` (the version the editor opened) a copy someone else saved in
    between is refused with :class:`StaleEdit`. The change applies to sessions planned from
    now on; sessions already booked keep their chair, times and modality.
    """
    actor.require(Permission.PROTOCOL_EDIT)
    protocol = _load(session, protocol_id)
    if expected_version is not None and protocol.version != expected_version:
        raise _stale(protocol)
    clean = _clean_with_database(session, raw, protocol)
    before, stale = audit.snapshot(protocol), _stale(protocol)
    for name, value in clean.items():
        setattr(protocol, name, value)
    _flush(session, stale)
    audit.record_update(session, actor, "protocol", protocol.id, before, audit.snapshot(protocol))
    return protocol


def set_protocol_active(session: Session, actor: Actor, protocol_id: int, active: bool) -> Protocol:
    """Offer the protocol for new series again, or stop offering it (its series go on)."""
    actor.require(Permission.PROTOCOL_EDIT)
    protocol = _load(session, protocol_id)
    before, stale = audit.snapshot(protocol), _stale(protocol)
    protocol.active = active
    _flush(session, stale)
    audit.record_update(session, actor, "protocol", protocol.id, before, audit.snapshot(protocol))
    return protocol


def protocol_values(protocol: Protocol) -> dict[str, Any]:
    """The editable fields of ``protocol`` in the raw form :func:`clean_protocol` accepts."""
    return {name: getattr(protocol, name) for name in PROTOCOL_FIELDS}


def _load(session: Session, protocol_id: int) -> Protocol:
    protocol = session.get(Protocol, protocol_id)
    if protocol is None:
        raise NotFound(f"There is no protocol with id {protocol_id}.")
    return protocol


def _flush(session: Session, stale: StaleEdit) -> None:
    """Flush; another workstation's save in between (the version moved) raises ``stale``."""
    try:
        session.flush()
    except StaleDataError:
        raise stale from None


def _stale(protocol: Protocol) -> StaleEdit:
    return StaleEdit(
        f"The protocol {protocol.name} was changed by someone else after you opened it; "
        "reopen it and make your change again."
    )
