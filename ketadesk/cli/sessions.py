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
GROUP_EXAMPLES = """\
  ketadesk session book --patient 100001 --chair "IV 1" --start "2026-12-07 09:00" \\
      --protocol iv-booster
"""


def register(commands: Any) -> None:
    actions = common.command_group(
        commands,
        "session",
        summary="book a single session",
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


def book(args: argparse.Namespace) -> int:
    from ketadesk.access.permissions import command_line_actor
    from ketadesk.scheduling import booking

    actor = command_line_actor()
    with common.opened(args) as db, db.transaction() as session:
        patient = patient_by_mrn(session, actor, args.patient)
        protocol = protocol_by_key(session, args.protocol)
        chair = find_chair(session, patient, args.chair, args.location)
        starts_at = common.parse_instant(args.start, chair.location.time_zone)
        provider = _provider(session, args.provider) if args.provider else None
        acknowledged = (
            _warning_codes(session, patient, protocol, chair.location, starts_at)
            if args.acknowledge
            else []
        )
        try:
            booked = booking.book_session(
                session,
                actor,
                patient,
                protocol,
                chair,
                starts_at,
                provider=provider,
                acknowledged=acknowledged,
            )
        except Unacknowledged as error:
            raise common.UsageError(unacknowledged_line(error)) from None
        data = session_data(booked)
    common.emit(args, data, lambda: booked_text(data))
    return 0


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


def find_chair(session: Session, patient: Patient, text: str, code: str | None) -> Chair:
    """The chair named ``text`` (or numbered) at ``--location``, else the patient's home:
    :func:`ketadesk.clinic.chairs.chair_by_name`; not found is a problem of ``--chair``."""
    from ketadesk.access.permissions import command_line_actor
    from ketadesk.clinic.chairs import chair_by_name

    where = location_by_code(session, code) if code else patient.home_location
    try:
        return chair_by_name(
            session, command_line_actor(), text, location_id=where.id if where else None
        )
    except NotFound as error:
        raise ValidationError.single("chair", str(error)) from None


def _provider(session: Session, npi: str) -> Provider:
    from ketadesk.access.permissions import command_line_actor
    from ketadesk.clinic.providers import provider_by_npi

    try:
        return provider_by_npi(session, command_line_actor(), npi)
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


def booked_text(data: dict[str, Any]) -> str:
    start, end = data["local_start"], data["local_end"]
    return (
        f"Booked {data['reference']}: {data['patient']} (MRN {data['mrn']}), "
        f"{start:%a %Y-%m-%d %H:%M}-{end:%H:%M} {start.tzname()} at {data['location']}, "
        f"chair {data['chair']}, with {data['provider']} ({data['protocol_name']})"
    )
