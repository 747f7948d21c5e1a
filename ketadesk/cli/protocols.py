"""``ketadesk protocol``: the clinic's treatment protocols, for reading and for scripts.

``protocol list`` reads :func:`ketadesk.scheduling.protocols.list_protocols` in one
read-only session and prints a table, or with ``--json`` every field of each protocol
(the same names the Settings form and :mod:`ketadesk.scheduling.protocol_editing` use),
which a script can use to find the key ``series plan --protocol`` takes. Protocols are
edited in the window (Settings → Protocols); ``ketadesk init`` writes the shipped ones.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ketadesk.cli import common

if TYPE_CHECKING:
    from ketadesk.scheduling.models import Protocol

GROUP_EXAMPLES = """\
  ketadesk protocol list
  ketadesk protocol list --all --json
"""
HEADERS = ("Key", "Name", "Treatment", "Phase", "Sessions", "Spacing", "Chair time", "Services")


def register(commands: Any) -> None:
    actions = common.command_group(
        commands,
        "protocol",
        summary="list treatment protocols",
        description="The clinic's treatment protocols: the templates a series is booked "
        "from.\nEdit them in the window, under Settings → Protocols.",
        examples=GROUP_EXAMPLES,
    )
    parser = common.command_parser(
        actions,
        "list",
        summary="list protocols",
        description="List the protocols offered for new series, by name; with --all also "
        "the inactive ones.",
        examples="  ketadesk protocol list\n  ketadesk protocol list --all --json",
        json_output=True,
    )
    parser.add_argument(
        "--all",
        dest="include_inactive",
        action="store_true",
        help="include protocols no longer offered for new series",
    )
    parser.set_defaults(func=list_protocols)


def list_protocols(args: argparse.Namespace) -> int:
    from ketadesk.scheduling import protocols

    with common.opened(args) as db, db.reading() as session:
        found = protocols.list_protocols(session, include_inactive=args.include_inactive)
        data = [protocol_data(p) for p in found]
        rows = [table_row(p) for p in found]
    common.emit(args, data, lambda: _text(rows, args.include_inactive))
    return 0


def protocol_data(protocol: Protocol) -> dict[str, Any]:
    """Every editable field of ``protocol``, plus its id and chair time, as JSON types."""
    from ketadesk.scheduling.protocol_editing import protocol_values

    return {
        "id": protocol.id,
        **common.plain(protocol_values(protocol)),
        "chair_minutes": protocol.chair_minutes,
    }


def table_row(protocol: Protocol) -> tuple[str, ...]:
    """One protocol as the cells of the readable table, with its status last."""
    return (
        protocol.key,
        protocol.name,
        protocol.modality.value,
        protocol.phase.label,
        "open-ended" if protocol.session_count is None else str(protocol.session_count),
        spacing(protocol),
        f"{protocol.treatment_minutes}+{protocol.monitoring_minutes} min",
        ", ".join(protocol.service_codes),
        "active" if protocol.active else "inactive",
    )


def spacing(protocol: Protocol) -> str:
    """``"2,2,1 a week, 48 h apart"`` or ``"every 1 or 2 weeks"``, as a person says it."""
    parts = []
    if protocol.weekly_pattern:
        parts.append(f"{protocol.weekly_pattern} a week")
    if protocol.interval_choices:
        weeks = [str(n) for n in protocol.interval_choices]
        parts.append(
            f"every {', '.join(weeks[:-1])} or {weeks[-1]} weeks"
            if len(weeks) > 1
            else f"every {weeks[0]} weeks"
        )
    if protocol.min_hours_between:
        parts.append(f"{protocol.min_hours_between} h apart")
    return ", ".join(parts)


def _text(rows: list[tuple[str, ...]], with_status: bool) -> str:
    if not rows:
        return "No protocols yet; 'ketadesk init' adds the shipped ones."
    if with_status:
        return common.table((*HEADERS, "Status"), rows)
    return common.table(HEADERS, [row[:-1] for row in rows])
