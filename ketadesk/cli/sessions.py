"""``ketadesk session book``: book one session in a named chair at a local time.

The flow, in one write transaction (``db.transaction()``, which on SQLite takes the write
lock first): look up the patient by MRN, the protocol by key, the chair by name (at
``--location`` or the patient's home location) or id, and the provider by NPI; read the
start as wall-clock time at the chair's location, refusing a time the clocks skip or
repeat that night; then :func:`ketadesk.scheduling.booking.book_session` checks and books.
With ``--acknowledge`` the booking gates' warnings (screening flags, prior authorisation)
are acknowledged; without it they stop the booking with one line naming them.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ketadesk.cli import common
from ketadesk.cli.common import (
    location_by_code,
    patient_by_mrn,
    protocol_by_key,
    unacknowledged_line,
)
from ketadesk.errors import NotFound, Unacknowledged, ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ketadesk.access.permissions import Actor
    from ketadesk.billing.actions import EstimateDrafted
    from ketadesk.clinic.models import Chair, Location, Patient, Provider
    from ketadesk.scheduling.models import Protocol, TreatmentSession

BOOK_OPTIONS = {
    "patient": "--patient",
    "chair": "--chair",
    "start": "--start",
    "starts_at": "--start",
    "session 1": "--start",  # booking words a slot's problems under "session 1"
    "protocol": "--protocol",
    "location": "--location",
    "provider": "--provider",
}
SHIFT_OPTIONS = {"session": "SESSION", "days": "--days", "to": "--to", "starts_at": "--to"}
GROUP_EXAMPLES = """\
  ketadesk session book --patient 100001 --chair "IV 1" --start "2026-12-07 09:00" \\
      --protocol iv-booster
  ketadesk session shift S-120 --days 7
"""


def register(commands: Any) -> None:
    actions = common.command_group(
        commands,
        "session",
        summary="book a single session; shift a session and the rest of its series",
        description="Work with single treatment sessions. To book a whole series, use\n"
        "'ketadesk series plan --book'.",
        examples=GROUP_EXAMPLES,
    )
    parser = common.command_parser(
        actions,
        "book",
        summary="book one session in a chair at a time",
        description="Book one session (a series of one) for a patient in a chair. The "
        "time is the\nwall-clock time at the chair's location. The same checks "
        "as for a series apply:\nopening hours, the chair, the provider's "
        "chairs, the patient, spacing and REMS.",
        examples="""\
  ketadesk session book --patient 100001 --chair "IV 1" --start "2026-12-07 09:00" \\
      --protocol iv-booster
  ketadesk session book --patient 100001 --chair "Nasal 2" --start 2026-12-08T13:30 \\
      --protocol esketamine-maintenance --location NYC --provider 1234567893 --json""",
        json_output=True,
    )
    parser.add_argument("--patient", metavar="MRN", required=True, help="the patient's MRN")
    parser.add_argument(
        "--chair",
        metavar="CHAIR",
        required=True,
        help="the chair's name (at --location, else the patient's home location) or its id",
    )
    parser.add_argument(
        "--start",
        metavar="DATETIME",
        required=True,
        help='local start time at the chair, e.g. "2026-12-07 09:00"',
    )
    parser.add_argument(
        "--protocol",
        metavar="KEY",
        required=True,
        help="the protocol's key, e.g. iv-booster (see 'ketadesk protocol list')",
    )
    parser.add_argument("--location", metavar="CODE", help="the location the chair is at")
    parser.add_argument(
        "--provider",
        metavar="NPI",
        help="the supervising provider's NPI (default: one who is free)",
    )
    parser.add_argument(
        "--acknowledge",
        action="store_true",
        help="acknowledge the booking warnings (screening flags, prior authorisation)",
    )
    parser.set_defaults(func=book, options=BOOK_OPTIONS)
    _register_shift(actions)


def _register_shift(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "shift",
        summary="move a session and the rest of its series by the same amount",
        description="Move a session, and every later session of its series still ahead, by "
        "the same\namount of local time: --days N (negative moves earlier) or --to the new "
        "local start\nof this session. 09:00 stays 09:00 across a daylight-saving change. "
        "All or nothing:\na refusal names every session that cannot move. The series' Good "
        "Faith Estimate\nis re-drafted when its dates change.",
        examples="""\
  ketadesk session shift S-120 --days 7
  ketadesk session shift 120 --to "2026-12-16 10:00" --json""",
        json_output=True,
    )
    parser.add_argument("session", metavar="SESSION", help="the session, e.g. S-120 or 120")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--days", metavar="N", help="days to move by, e.g. 7 or -2")
    when.add_argument(
        "--to", metavar="DATETIME", help='the new local start, e.g. "2026-12-16 10:00"'
    )
    parser.set_defaults(func=shift, options=SHIFT_OPTIONS)


def book(args: argparse.Namespace) -> int:
    from ketadesk.billing import actions

    now = common.clock_of(args).now()
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient = patient_by_mrn(session, actor, args.patient)
        protocol = protocol_by_key(session, args.protocol)
        chair = find_chair(session, actor, patient, args.chair, args.location)
        starts_at = common.parse_instant(args.start, chair.location.time_zone)
        provider = _provider(session, actor, args.provider) if args.provider else None
        acknowledged = (
            _warning_codes(session, patient, protocol, chair.location, starts_at)
            if args.acknowledge
            else []
        )
        try:
            booked = actions.book_session(
                session,
                actor,
                patient,
                protocol,
                chair,
                starts_at,
                now=now,
                provider=provider,
                acknowledged=acknowledged,
            )
        except Unacknowledged as error:
            raise common.UsageError(unacknowledged_line(error)) from None
        data = {**session_data(booked.sessions[0]), **estimate_data(booked.estimate)}
    common.emit(args, data, lambda: booked_text(data))
    return 0


def shift(args: argparse.Namespace) -> int:
    """Shift a session and the rest of its series in one write transaction."""
    from ketadesk.billing import actions

    now = common.clock_of(args).now()
    number = session_number(args.session)
    days = _days(args.days) if args.days is not None else None
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        if days is not None:
            moved = actions.shift_rest_by(session, actor, number, days, now=now)
        else:
            zone = _session(session, number).location.time_zone
            starts_at = common.parse_instant(args.to, zone, "to")
            moved = actions.shift_rest(session, actor, number, starts_at, now=now)
        data = {
            "sessions": [session_data(row) for row in moved.sessions],
            **estimate_data(moved.estimate),
        }
    common.emit(args, data, lambda: shifted_text(data))
    return 0


def session_number(text: str) -> int:
    """``"S-120"``, ``"s120"`` or ``"120"`` → 120; anything else is refused in words."""
    digits = text.strip().upper().removeprefix("S").removeprefix("-")
    if not digits.isdigit() or not 0 < int(digits) < 2**31:
        raise ValidationError.single(
            "session", f"{text.strip()!r} is not a session; write it as S-120 or 120"
        )
    return int(digits)


def _days(text: str) -> int:
    """``"7"`` or ``"-2"``; the range is the action's to check."""
    digits = text.strip().removeprefix("-").removeprefix("+")
    if not digits.isdigit() or len(digits) > 4:
        raise ValidationError.single(
            "days", f"{text.strip()!r} is not a whole number of days; write e.g. 7 or -2"
        )
    return int(text.strip())


def _session(session: Session, number: int) -> TreatmentSession:
    from ketadesk.scheduling.models import TreatmentSession

    ts = session.get(TreatmentSession, number)
    if ts is None:
        raise NotFound(f"there is no session S-{number}")
    return ts


def _warning_codes(
    session: Session, patient: Patient, protocol: Protocol, location: Location, start: datetime
) -> list[str]:
    """The codes of the warnings booking will ask about, for ``--acknowledge``."""
    from ketadesk.scheduling.gates import booking_gates

    day = start.astimezone(ZoneInfo(location.time_zone)).date()
    _blockers, warnings = booking_gates(session, patient, protocol, location, day, [day])
    return [warning.code for warning in warnings]


# --------------------------------------------------------------------------------------
# Look-ups
# --------------------------------------------------------------------------------------


def find_chair(
    session: Session, actor: Actor, patient: Patient, text: str, code: str | None
) -> Chair:
    """The chair named ``text`` (or numbered) at ``--location``, else the patient's home:
    :func:`ketadesk.clinic.chairs.chair_by_name`; not found is a problem of ``--chair``."""
    from ketadesk.clinic.chairs import chair_by_name

    where = location_by_code(session, code) if code else patient.home_location
    try:
        return chair_by_name(
            session, actor, text, location_id=where.id if where else None
        )
    except NotFound as error:
        raise ValidationError.single("chair", str(error)) from None


def _provider(session: Session, actor: Actor, npi: str) -> Provider:
    from ketadesk.clinic.providers import provider_by_npi

    try:
        return provider_by_npi(session, actor, npi)
    except NotFound as error:
        raise ValidationError.single("provider", str(error)) from None


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def session_data(booked: TreatmentSession) -> dict[str, Any]:
    zone = ZoneInfo(booked.location.time_zone)
    return {
        "id": booked.id,
        "reference": booked.reference,
        "series_id": booked.series_id,
        "number": booked.number,
        "status": booked.status,
        "patient": booked.patient.display_name,
        "mrn": booked.patient.mrn,
        "protocol": booked.series.protocol.key,
        "protocol_name": booked.series.protocol.name,
        "location": booked.location.code,
        "time_zone": booked.location.time_zone,
        "chair": booked.chair.name,
        "chair_id": booked.chair_id,
        "provider": booked.provider.display_name,
        "provider_npi": booked.provider.npi,
        "starts_at": booked.starts_at,
        "ends_at": booked.ends_at,
        "local_start": booked.starts_at.astimezone(zone),
        "local_end": booked.ends_at.astimezone(zone),
    }


def estimate_data(estimate: EstimateDrafted | None) -> dict[str, Any]:
    """The Good Faith Estimate an action drafted, as JSON types (``None`` when none)."""
    if estimate is None:
        return {"estimate": None}
    return {
        "estimate": {
            "number": estimate.number,
            "total": str(estimate.total),
            "give_by": estimate.give_by.isoformat() if estimate.give_by else None,
            "replaces": estimate.replaces,
            "sentence": estimate.sentence,
        }
    }


def booked_text(data: dict[str, Any]) -> str:
    start, end = data["local_start"], data["local_end"]
    text = (
        f"Booked {data['reference']}: {data['patient']} (MRN {data['mrn']}), "
        f"{start:%a %Y-%m-%d %H:%M}-{end:%H:%M} {start.tzname()} at {data['location']}, "
        f"chair {data['chair']}, with {data['provider']} ({data['protocol_name']})"
    )
    return text + (f"\n{data['estimate']['sentence']}" if data["estimate"] else "")


def shifted_text(data: dict[str, Any]) -> str:
    """One line a session moved, then the estimate re-drafted (if it was)."""
    rows = data["sessions"]
    lines = [f"Moved {len(rows)} session{'s' if len(rows) != 1 else ''} of the series:"]
    for row in rows:
        start, end = row["local_start"], row["local_end"]
        lines.append(
            f"  {row['reference']} (session {row['number']}) now "
            f"{start:%a %Y-%m-%d %H:%M}-{end:%H:%M} {start.tzname()}, chair {row['chair']}"
        )
    if data["estimate"]:
        lines.append(data["estimate"]["sentence"])
    return "\n".join(lines)
