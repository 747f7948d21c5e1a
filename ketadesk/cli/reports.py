"""``ketadesk report NAME``: a manager's report on the command line, for people and scripts.

One command runs any report of :mod:`ketadesk.reports.catalog` (the only way the faces
reach reports):

1. the options are read before the database is opened, so a mistake costs nothing: the
   report's name (:func:`~ketadesk.reports.catalog.spec`), ``--by`` against the report's own
   splits, ``--from``/``--to`` as people type dates (``12/01/2026``, ``today``);
2. in one read transaction, ``--location`` codes become ids (an unknown code is refused in
   words), "today" is the chosen location's today, the report runs
   (:func:`~ketadesk.reports.catalog.run_report`) and its chart is drawn from its table;
3. the result is printed as an aligned table with the definition of every measure under it
   (the default), as JSON (``--json``, :func:`ketadesk.reports.export.table_data`) or as CSV
   (``--csv``, formula-guarded); ``--pdf FILE`` also writes the PDF
   (:func:`ketadesk.documents.report.render_report`) readable by its owner only.

Every refusal is one ``ketadesk: error:`` line naming the option, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketadesk.cli import common
from ketadesk.errors import InvalidValue, ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ketadesk.reports.catalog import ReportSpec
    from ketadesk.reports.model import Chart, ReportFilter, ReportTable
    from ketadesk.reports.names import Names

OPTIONS = {
    "report": "REPORT",
    "from": "--from",
    "to": "--to",
    "location": "--location",
    "by": "--by",
    "pdf": "--pdf",
}
REPORTS = (
    "revenue",
    "aging",
    "collections",
    "utilisation",
    "attendance",
    "series",
    "outcomes",
    "compliance",
)  # as ketadesk.reports.catalog.NAMES; kept here so --help needs no database layer

DESCRIPTION = """\
Run a manager's report and print it as a table, with the definition of every figure
under it; --json and --csv give the same figures to scripts and spreadsheets, and
--pdf FILE also writes the report with its chart as a PDF (readable by you only).

Reports: revenue, aging, collections, utilisation, attendance, series, outcomes,
compliance.

The period runs from --from to --to, both days included (dates as 2026-12-01,
12/01/2026, today or yesterday). --to defaults to today at the clinic (in the time
zone of the first location chosen, else of the first location); --from defaults to
1 January of --to's year (the year to date). The aging report stands on one day:
--to is its as-of day and --from is ignored.

--by splits the report (comma-separated, in order); each report has its own splits
and its default (revenue: month). Money in --json and --csv is exact decimal text
("1234.50"); counts are whole numbers; rates are decimal text or null."""

EXAMPLES = """\
  ketadesk report revenue
  ketadesk report revenue --from 2026-01-01 --to 2026-12-31 --by month,payer
  ketadesk report revenue --location NYC,BOS --by location --csv > revenue.csv
  ketadesk report aging --to 11/30/2026 --by payer --pdf aging.pdf
  ketadesk report collections --by payer --json"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "report",
        help="run a manager's report: revenue, aging, collections, utilisation, …",
        description=DESCRIPTION,
        epilog="examples:\n" + EXAMPLES,
        formatter_class=common.HelpFormatter,
    )
    common.add_db_option(parser)
    parser.add_argument("report", metavar="REPORT", help=f"the report to run: {', '.join(REPORTS)}")
    parser.add_argument("--from", dest="date_from", metavar="DATE", help="first day of the period")
    parser.add_argument(
        "--to", dest="date_to", metavar="DATE", help="last day of the period (aging: as of)"
    )
    parser.add_argument(
        "--location",
        metavar="CODE",
        help="only these locations, by code (several comma-separated); default: all",
    )
    parser.add_argument("--by", metavar="SPLIT", help="how to split the report, e.g. month,payer")
    output = parser.add_mutually_exclusive_group()
    common.add_json_option(output)
    output.add_argument("--csv", action="store_true", help="print CSV for spreadsheets")
    parser.add_argument("--pdf", metavar="FILE", help="also write the report as a PDF")
    parser.set_defaults(func=report_command, options=OPTIONS)


@dataclass(frozen=True)
class Asked:
    """What the command line asked for, read before the database is opened."""

    spec: ReportSpec
    by: tuple[str, ...]
    date_from: date | None
    date_to: date | None
    codes: tuple[str, ...]


def read_options(args: argparse.Namespace) -> Asked:
    """The options checked without the database; each refusal names its option."""
    from ketadesk.reports.catalog import spec
    from ketadesk.reports.model import require_by

    try:
        found = spec(args.report)
    except InvalidValue as error:
        raise ValidationError.single("report", str(error)) from None
    by = found.default_by
    if args.by is not None:
        try:
            dims = require_by(args.by.split(","), found.dimensions, found.name)
        except InvalidValue as error:
            raise ValidationError.single("by", str(error)) from None
        by = tuple(d.key for d in dims)
    clock = common.clock_of(args)
    first = None
    if args.date_from and not found.as_of:
        first = common.parse_date(args.date_from, "from", clock=clock)
    last = common.parse_date(args.date_to, "to", clock=clock) if args.date_to else None
    if first and last and last < first:
        raise ValidationError.single(
            "to", f"{last.isoformat()} is before --from ({first.isoformat()})"
        )
    codes = tuple(c.strip().upper() for c in (args.location or "").split(",") if c.strip())
    return Asked(found, by, first, last, codes)


def report_command(args: argparse.Namespace) -> int:
    from ketadesk.reports.catalog import run_report

    asked = read_options(args)
    if asked.spec.as_of and args.date_from:
        print(
            f"{common.PROG}: note: --from is ignored: the {asked.spec.name} report stands on "
            "one day, --to",
            file=sys.stderr,
        )
    progress = common.Progress()
    steps = 2 if args.pdf else 1
    with common.opened(args) as db, db.transaction(job=True) as session:
        actor = common.actor(args)
        progress("Reading the figures", 0, steps)
        scope = _scope(session, asked, common.clock_of(args))
        table = run_report(session, actor, asked.spec.name, scope.filter, asked.by)
        chart = asked.spec.chart(table)
    if args.pdf:
        progress("Drawing the PDF", 1, steps)
        _write_pdf(asked.spec, table, chart, scope, Path(args.pdf))
    progress("Done", steps, steps)
    if progress.live:
        progress.finish(f"{asked.spec.title}: {len(table.rows)} rows")
    _print(args, asked.spec, table, scope)
    return 0


@dataclass(frozen=True)
class Scope:
    """The filter the report runs with, and the names the header prints."""

    filter: ReportFilter
    names: Names
    locations: tuple[str, ...]


def _scope(session: Session, asked: Asked, clock: common.Clock) -> Scope:
    """Location codes as ids, and the period with its defaults at the clinic's today."""
    from sqlalchemy import select

    from ketadesk.clinic.models import Location
    from ketadesk.reports.model import ReportFilter
    from ketadesk.reports.names import read_names

    chosen = [common.location_by_code(session, code) for code in asked.codes]
    first = chosen[0] if chosen else session.scalars(select(Location).order_by(Location.id)).first()
    today = clock.today_in(first.time_zone) if first is not None else clock.today()
    last = asked.date_to or today
    if asked.spec.as_of:
        start = last
    else:
        start = asked.date_from or date(last.year, 1, 1)
        if start > last:
            raise ValidationError.single(
                "from", f"{start.isoformat()} is after --to ({last.isoformat()})"
            )
    unique = list(dict.fromkeys(location.id for location in chosen))
    shown = tuple(dict.fromkeys(f"{loc.name} ({loc.code})" for loc in chosen))
    return Scope(
        ReportFilter(date_from=start, date_to=last, location_ids=tuple(unique)),
        read_names(session),
        shown,
    )


def _write_pdf(
    found: ReportSpec, table: ReportTable, chart: Chart | None, scope: Scope, path: Path
) -> None:
    from ketadesk.cli.billing_common import write_pdf
    from ketadesk.documents.report import report_pdf

    content = report_pdf(table, chart, scope.names, summary=found.summary, as_of=found.as_of)
    write_pdf(content, path, "pdf")


def _print(args: argparse.Namespace, found: ReportSpec, table: ReportTable, scope: Scope) -> None:
    from ketadesk.reports import export

    if args.json:
        data = export.table_data(table, as_of=found.as_of)
        if args.pdf:
            data["pdf"] = str(args.pdf)
        print(json.dumps(data, indent=2, ensure_ascii=False))
    elif args.csv:
        sys.stdout.write(export.table_csv(table))
    else:
        print(report_text(found, table, scope.locations))
        if args.pdf:
            print(f"\nPDF written to {args.pdf}")


# --------------------------------------------------------------------------------------
# Text for people
# --------------------------------------------------------------------------------------


def report_text(found: ReportSpec, table: ReportTable, locations: Sequence[str] = ()) -> str:
    """The report as people read it: a heading, the aligned table, then the notes and the
    definition of every measure."""
    from ketadesk.documents.report import period_words

    where = ", ".join(locations) if locations else "all locations"
    split = ", ".join(d.label.lower() for d in table.dimensions) or "nothing"
    lines = [
        f"{table.title} · {period_words(table, as_of=found.as_of)} · {where} · by {split}",
        "",
        aligned(table) if table.rows else "No figures for this period and these filters.",
        "",
    ]
    lines += [f"Note: {note}" for note in table.notes]
    lines += [f"{m.label}: {m.definition}" for m in table.measures]
    return "\n".join(lines)


def aligned(table: ReportTable) -> str:
    """The rows and the total under their headings, labels to the left, figures to the
    right, a rule under the headings and above the total."""
    from ketadesk.documents.report import figure_text

    width = max(len(table.dimensions), 1)
    heads = [d.label for d in table.dimensions] or [""]
    heads += [m.label for m in table.measures]
    body: list[list[str]] = []
    for row in (*table.rows, table.total):
        labels = list(row.labels[:width]) + [""] * (width - len(row.labels))
        if row is table.total:
            labels = ["Total"] + [""] * (width - 1)
        figures = [figure_text(v, m.kind) for m, v in zip(table.measures, row.values, strict=True)]
        body.append(labels + figures)
    sizes = [max(len(r[i]) for r in [heads, *body]) for i in range(len(heads))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < width else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, sizes, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in sizes)
    return "\n".join([line(heads), rule, *(line(r) for r in body[:-1]), rule, line(body[-1])])
