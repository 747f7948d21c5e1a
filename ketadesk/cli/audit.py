"""``ketadesk audit``: read the audit log, print a patient's accounting, verify the chain.

``ketadesk audit [--patient MRN] [--user NAME] [--from DATE --to DATE] [--entity NAME]``
lists who saw or changed what (newest first; ``--json`` for scripts) through
:func:`ketadesk.access.audit.search`; with ``--patient MRN --pdf FILE`` it writes that
patient's accounting of disclosures (:mod:`ketadesk.documents.disclosures`) owner-only.
``ketadesk audit verify`` walks the whole hash chain (:func:`ketadesk.access.audit_chain.
verify_chain`) and exits 3 naming the first row altered, deleted or inserted out of order.
Every read goes through the services as the command-line actor.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ketadesk.cli import common

EXIT_BROKEN = 3
OPTIONS = {"mrn": "--patient", "username": "--user", "start": "--from", "end": "--to"}
EXAMPLES = """\
  ketadesk audit --patient 100001
  ketadesk audit --user maria --from 2026-12-01 --to 2026-12-07 --json
  ketadesk audit --patient 100001 --pdf disclosures.pdf
  ketadesk audit verify"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "audit",
        help="read the audit log, a patient's accounting of disclosures, verify the chain",
        description="Who saw or changed what, newest first. With --patient and --pdf, the "
        "patient's\naccounting of disclosures as a PDF. 'ketadesk audit verify' checks "
        "that no row\nwas altered, deleted or inserted.",
        epilog="examples:\n" + EXAMPLES,
        formatter_class=common.HelpFormatter,
    )
    common.add_db_option(parser)
    common.add_json_option(parser)
    parser.add_argument("--patient", metavar="MRN", help="rows about this patient")
    parser.add_argument("--user", metavar="NAME", help="rows written by this user")
    parser.add_argument("--from", dest="start", metavar="DATE", help="first day (included)")
    parser.add_argument("--to", dest="end", metavar="DATE", help="last day (included)")
    parser.add_argument("--entity", metavar="NAME", help="rows about one kind of record")
    parser.add_argument("--limit", type=int, default=200, help="at most this many rows")
    parser.add_argument("--pdf", metavar="FILE", help="with --patient: the accounting PDF")
    parser.set_defaults(func=show, options=OPTIONS)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions")
    verify = common.command_parser(
        actions,
        "verify",
        summary="check the audit log's hash chain",
        description="Walk the audit log's hash chain from the first row; name the first row "
        "that was\naltered, deleted or inserted out of order, and exit 3 if there is one.",
        examples="  ketadesk audit verify\n  ketadesk audit verify --json",
        json_output=True,
    )
    verify.set_defaults(func=verify_log, options=OPTIONS)


def _filter(args: argparse.Namespace, session: Any, actor: Any) -> Any:
    from ketadesk.documents.disclosures import audit_filter
    from ketadesk.errors import NotFound, ValidationError

    start = common.parse_date(args.start, "start") if args.start else None
    end = common.parse_date(args.end, "end") if args.end else None
    try:
        return audit_filter(
            session,
            actor,
            mrn=args.patient,
            username=args.user,
            start=start,
            end=end,
            entity=args.entity,
        )
    except NotFound as error:
        raise ValidationError.single("mrn", str(error)) from None


def show(args: argparse.Namespace) -> int:
    from ketadesk.access import audit
    from ketadesk.errors import ValidationError

    if args.pdf and not args.patient:
        raise ValidationError.single("pdf", "needs --patient: whose accounting to print")
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient, flt = _filter(args, session, actor)
        if args.pdf:
            return _pdf(args, session, actor, patient, flt)
        lines = audit.search(session, actor, flt, limit=args.limit)
        data = [_line_data(line) for line in lines]
    common.emit(args, data, lambda: _lines_table(data))
    return 0


def _pdf(args: argparse.Namespace, session: Any, actor: Any, patient: Any, flt: Any) -> int:
    from ketadesk.db import utcnow
    from ketadesk.documents.disclosures import disclosures_view, render_disclosures
    from ketadesk.files import write_private

    zone = patient.home_location.time_zone if patient.home_location else "UTC"
    view = disclosures_view(
        session, actor, patient, start=flt.start, end=flt.end, time_zone=zone, printed_at=utcnow()
    )
    path = write_private(Path(args.pdf), render_disclosures(view))
    data = {"file": str(path), "mrn": view.mrn, "entries": len(view.lines)}
    common.emit(
        args,
        data,
        lambda: (
            f"Wrote the accounting of disclosures for MRN {view.mrn} "
            f"({len(view.lines)} entries) to {path}."
        ),
    )
    return 0


def _line_data(line: Any) -> dict[str, Any]:
    from ketadesk.access.audit import sentence

    return {
        "id": line.id,
        "at": line.at,
        "user": line.actor,
        "action": line.action,
        "entity": line.entity,
        "entity_id": line.entity_id,
        "before": line.before,
        "after": line.after,
        "text": sentence(line),
    }


def _lines_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No audit rows match."
    return common.table(
        ["#", "When (UTC)", "User", "What"],
        [[r["id"], f"{r['at']:%Y-%m-%d %H:%M:%S}", r["user"], r["text"]] for r in rows],
    )


def verify_log(args: argparse.Namespace) -> int:
    from ketadesk.access import audit
    from ketadesk.access.permissions import Permission

    with common.opened(args) as db, db.reading() as session:
        common.actor(args).require(Permission.AUDIT_VIEW)
        report = audit.verify_chain(session)
    broken = report.broken
    data = {
        "ok": report.ok,
        "rows_checked": report.rows_checked,
        "last_good_row": report.last_good.row_id if report.last_good else None,
        "broken_row": broken.row_id if broken else None,
        "kind": broken.kind if broken else None,
        "message": report.sentence(),
    }
    common.emit(args, data, report.sentence)
    return 0 if report.ok else EXIT_BROKEN
