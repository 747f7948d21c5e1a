"""``ketadesk series plan``: propose a patient's whole series, and with ``--book`` book it.

The flow:

1. look up the patient (MRN), the protocol (key) and the location (``--location``, else
   the patient's home location), and read the preferences: weekdays, a start-time window,
   and for open-ended protocols the interval and how many sessions to book now;
2. :func:`ketadesk.scheduling.planner.plan_series` proposes every session with a chair,
   a provider and a time, or says why one cannot be placed and offers alternatives;
3. with ``--book``, :func:`ketadesk.billing.actions.book_series` books the plan in the
   *same* write transaction, so nothing can change between planning and booking, and
   drafts the Good Faith Estimate a self-pay series needs. Booking alone decides whether
   the plan can be booked; its refusal becomes the one line on stderr.

The plan prints as a table (number, local date and time, chair, provider) with each
session's problems and alternatives under it, then the hard stops and the warnings; or as
JSON with ``--json``. Exit status 2 with one line on stderr when ``--book`` cannot book:
hard stops, sessions without a time, or warnings not acknowledged (``--acknowledge``).
"""

from __future__ import annotations

import argparse
from contextlib import AbstractContextManager
from datetime import datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ketadesk.cli import common
from ketadesk.cli.common import (
    home_or_chosen_location,
    parse_day,
    patient_by_mrn,
    protocol_by_key,
    sentences,
    unacknowledged_line,
)
from ketadesk.errors import FieldProblem, Unacknowledged, ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ketadesk.access.permissions import Actor
    from ketadesk.billing.actions import Booked
    from ketadesk.db import Database
    from ketadesk.scheduling.proposals import Preferences, ProposedSession, SeriesPlan, Slot

PLAN_OPTIONS = {
    "patient": "--patient",
    "protocol": "--protocol",
    "start": "--start",
    "location": "--location",
    "weekdays": "--weekdays",
    "earliest": "--earliest",
    "latest": "--latest",
    "interval": "--interval",
    "count": "--count",
    "interval_weeks": "--interval",
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_WORDS = {
    **{name: n for n, name in enumerate(WEEKDAYS)},
    **{name[:3]: n for n, name in enumerate(WEEKDAYS)},
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
}
GROUP_EXAMPLES = """\
  ketadesk series plan --patient 100001 --protocol iv-induction --start 2026-12-07
  ketadesk series plan --patient 100001 --protocol iv-induction --start 2026-12-07 --book
"""


class _Refused(Exception):
    """Booking was refused after planning: roll back, show the plan, exit 2."""


def register(commands: Any) -> None:
    actions = common.command_group(
        commands,
        "series",
        summary="plan and book a patient's treatment series",
        description="Plan a patient's treatment series from a protocol, and book it in one step.",
        examples=GROUP_EXAMPLES,
    )
    parser = common.command_parser(
        actions,
        "plan",
        summary="propose every session of a series; --book books it",
        description="Propose every session of a series: a chair, a provider and a time each, "
        "honouring\nopening hours and holidays, the chairs, the providers' "
        "limits, the patient's other\nsessions, the protocol's spacing and the "
        "preferences given. A session that cannot\nbe placed says why and offers "
        "the nearest alternatives. --book books the plan,\nall or nothing; "
        "it exits 2 without booking when the plan has hard stops,\nunplaced "
        "sessions or warnings not acknowledged with --acknowledge.",
        examples="""\
  ketadesk series plan --patient 100001 --protocol iv-induction --start 2026-12-07
  ketadesk series plan --patient 100001 --protocol esketamine-induction \\
      --start 2026-12-07 --weekdays mon,thu --earliest 09:00 --latest 13:00 --book
  ketadesk series plan --patient 100001 --protocol esketamine-maintenance \\
      --start 2027-02-01 --interval 2 --count 6 --book --acknowledge --json""",
        json_output=True,
    )
    _add_options(parser)
    parser.set_defaults(func=plan, options=PLAN_OPTIONS)


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patient", metavar="MRN", required=True, help="the patient's MRN")
    parser.add_argument(
        "--protocol",
        metavar="KEY",
        required=True,
        help="the protocol's key, e.g. iv-induction (see 'ketadesk protocol list')",
    )
    parser.add_argument(
        "--start",
        metavar="DATE",
        required=True,
        help="the first day to consider: YYYY-MM-DD, MM/DD/YYYY, today or tomorrow",
    )
    parser.add_argument(
        "--location", metavar="CODE", help="where to book (default: the patient's home location)"
    )
    parser.add_argument(
        "--weekdays", metavar="DAYS", help="preferred weekdays, e.g. mon,wed or monday,thursday"
    )
    parser.add_argument("--earliest", metavar="HH:MM", help="start no earlier than this")
    parser.add_argument("--latest", metavar="HH:MM", help="start no later than this")
    parser.add_argument(
        "--interval", metavar="WEEKS", help="weeks between sessions, for open-ended protocols"
    )
    parser.add_argument(
        "--count", metavar="N", help="how many sessions to book now, for open-ended protocols"
    )
    parser.add_argument("--book", action="store_true", help="book the plan (all or nothing)")
    parser.add_argument(
        "--acknowledge",
        action="store_true",
        help="acknowledge the plan's warnings (screening flags, prior authorisation) when booking",
    )


# --------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------


def plan(args: argparse.Namespace) -> int:
    """Plan (and with ``--book`` book) in one transaction; see the module's docstring."""

    result: dict[str, Any] = {}
    try:
        with common.opened(args) as db, _session(db, write=args.book) as session:
            actor = common.actor(args)
            _plan_and_book(session, actor, args, result)
    except _Refused as refusal:
        result["refused"] = str(refusal)
        common.emit(args, result, lambda: plan_text(result))
        common.print_error(str(refusal))
        return 2
    common.emit(args, result, lambda: plan_text(result))
    return 0


def _session(db: Database, *, write: bool) -> AbstractContextManager[Session]:
    """A write transaction for booking (planned and booked at once), else a read."""
    return db.transaction() if write else db.reading()


def _plan_and_book(
    session: Session, actor: Actor, args: argparse.Namespace, result: dict[str, Any]
) -> None:
    """Fill ``result`` with the plan (and the booking); raise :class:`_Refused` to roll back."""
    from ketadesk.billing import actions
    from ketadesk.scheduling import planner

    now = common.clock_of(args).now()
    patient = patient_by_mrn(session, actor, args.patient)
    protocol = protocol_by_key(session, args.protocol)
    location = home_or_chosen_location(session, patient, args.location)
    start = parse_day(args.start, location.time_zone, common.clock_of(args), "start")
    proposal = planner.plan_series(
        session, actor, patient, protocol, location, start, preferences(args), now=now
    )
    result.update(
        patient={"mrn": patient.mrn, "name": patient.display_name},
        protocol={"key": protocol.key, "name": protocol.name},
        location={"code": location.code, "name": location.name, "time_zone": location.time_zone},
    )
    result.update(plan_data(proposal))
    if not args.book:
        return
    codes = [warning.code for warning in proposal.warnings] if args.acknowledge else []
    try:
        booked = actions.book_series(session, actor, proposal, now=now, acknowledged=codes)
    except Unacknowledged as error:
        raise _Refused(unacknowledged_line(error)) from None
    except ValidationError as error:
        raise _Refused("not booked: " + refusal_text(error)) from None
    result.update(booked_data(booked))


def refusal_text(error: ValidationError) -> str:
    """Booking's refusal in one line: its sentences, each under the session it names."""
    return sentences(
        p.message if p.field == "booking" else f"{p.field}: {p.message}" for p in error.problems
    )


def booked_data(booked: Booked) -> dict[str, Any]:
    """What a booking did, as JSON types: the series, its new sessions, the estimate."""
    estimate = booked.estimate
    return {
        "booked": True,
        "series_id": booked.series.id,
        "session_ids": [s.id for s in booked.sessions],
        "estimate": None
        if estimate is None
        else {
            "number": estimate.number,
            "total": str(estimate.total),
            "give_by": estimate.give_by.isoformat() if estimate.give_by else None,
            "sentence": estimate.sentence,
        },
    }


# --------------------------------------------------------------------------------------
# Preferences from the options
# --------------------------------------------------------------------------------------


def preferences(args: argparse.Namespace) -> Preferences:
    """The patient's preferences from the options; every bad option is named at once."""
    from ketadesk.scheduling.proposals import Preferences

    problems: list[FieldProblem] = []
    values: dict[str, Any] = {}
    readers = {
        "weekdays": ("weekdays", parse_weekdays),
        "earliest": ("earliest", parse_clock),
        "latest": ("latest", parse_clock),
        "interval": ("interval_weeks", _whole),
        "count": ("count", _whole),
    }
    for option, (name, read) in readers.items():
        text = getattr(args, option)
        if text is None:
            continue
        try:
            values[name] = read(text)
        except ValueError as error:
            problems.append(FieldProblem(option, str(error)))
    if problems:
        raise ValidationError(problems)
    return Preferences(**values)


def parse_weekdays(text: str) -> frozenset[int]:
    """``"mon,wed"`` → ``{0, 2}``; full names and short forms, any case, commas or spaces."""
    words = [w for w in text.replace(",", " ").split() if w]
    if not words:
        raise ValueError("name at least one weekday, e.g. mon,wed")
    unknown = [w for w in words if w.casefold() not in WEEKDAY_WORDS]
    if unknown:
        raise ValueError(
            f"{', '.join(repr(w) for w in unknown)} "
            f"{'is not a weekday' if len(unknown) == 1 else 'are not weekdays'}; "
            "use mon, tue, wed, thu, fri, sat, sun or full names"
        )
    return frozenset(WEEKDAY_WORDS[w.casefold()] for w in words)


def parse_clock(text: str) -> time:
    """``"09:30"`` (24-hour clock) → ``time(9, 30)``."""
    parts = text.strip().split(":")
    if len(parts) == 2 and all(p.isdigit() and len(p) <= 2 for p in parts):
        hour, minute = int(parts[0]), int(parts[1])
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ValueError(f"{text.strip()!r} is not a time of day; write it as HH:MM, e.g. 09:30")


def _whole(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"{text.strip()!r} is not a whole number of at least 1")
    return int(text)


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def slot_data(slot: Slot, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "local_start": slot.starts_at.astimezone(zone),
        "local_end": slot.ends_at.astimezone(zone),
        "chair": slot.chair_name,
        "chair_id": slot.chair_id,
        "provider": slot.provider_name,
        "provider_id": slot.provider_id,
    }


def _session_data(proposed: ProposedSession, zone: ZoneInfo) -> dict[str, Any]:
    slot = (
        slot_data(proposed.slot, zone)
        if proposed.slot
        else dict.fromkeys(
            (
                "starts_at",
                "ends_at",
                "local_start",
                "local_end",
                "chair",
                "chair_id",
                "provider",
                "provider_id",
            )
        )
    )
    return {
        "number": proposed.number,
        "placed": proposed.placed,
        **slot,
        "problems": list(proposed.problems),
        "alternatives": [slot_data(a, zone) for a in proposed.alternatives],
    }


def plan_data(proposal: SeriesPlan) -> dict[str, Any]:
    """The plan as JSON types: instants in UTC and in the location's time."""
    zone = ZoneInfo(proposal.time_zone)
    return {
        "time_zone": proposal.time_zone,
        "interval_weeks": proposal.interval_weeks,
        "bookable": proposal.bookable,
        "sessions": [_session_data(s, zone) for s in proposal.sessions],
        "blockers": list(proposal.blockers),
        "warnings": [{"code": w.code, "message": w.message} for w in proposal.warnings],
        "booked": False,
        "series_id": proposal.series_id,
        "session_ids": [],
        "estimate": None,
        "refused": None,
    }


def _when(start: datetime, end: datetime) -> str:
    return f"{start:%a %Y-%m-%d %H:%M}-{end:%H:%M}"


def _alternative(item: dict[str, Any]) -> str:
    return f"{_when(item['local_start'], item['local_end'])} {item['chair']} ({item['provider']})"


def plan_text(result: dict[str, Any]) -> str:
    """The plan as people read it: the sessions, then the hard stops and the warnings."""
    head = (
        f"{result['protocol']['name']} for {result['patient']['name']} "
        f"(MRN {result['patient']['mrn']}) at {result['location']['name']}, "
        f"times in {result['time_zone']}"
    )
    rows = [
        [
            str(s["number"]),
            _when(s["local_start"], s["local_end"]) if s["placed"] else "not placed",
            s["chair"] or "",
            s["provider"] or "",
        ]
        for s in result["sessions"]
    ]
    table = common.table(["#", "When", "Chair", "Provider"], rows).splitlines()
    lines = [head, "", *table[:2]]
    for line, item in zip(table[2:], result["sessions"], strict=True):
        lines.append(line)
        lines += [f"     ! {problem}" for problem in item["problems"]]
        lines += [f"     or {_alternative(a)}" for a in item["alternatives"]]
    lines += _findings(result)
    return "\n".join(lines)


def _findings(result: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if result["blockers"]:
        lines += ["", "Cannot be booked:", *[f"  - {b}" for b in result["blockers"]]]
    if result["warnings"]:
        lines += [
            "",
            "Warnings (book with --acknowledge to accept them):",
            *[f"  - {w['message']} [{w['code']}]" for w in result["warnings"]],
        ]
    if result["booked"]:
        refs = ", ".join(f"S-{i}" for i in result["session_ids"])
        lines += ["", f"Booked series {result['series_id']}: {refs}"]
        if result["estimate"]:
            lines.append(result["estimate"]["sentence"])
    elif result["bookable"] and not result["refused"]:
        lines += ["", "Bookable: run again with --book to book it."]
    return lines
