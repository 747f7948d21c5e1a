"""Every report by name: what the window lists, what ``ketadesk report NAME`` runs, what the
PDF prints. Each report module declares one :class:`ReportSpec` named ``SPEC``; the faces
only ever reach reports through :func:`spec` and :func:`run_report`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.errors import InvalidValue
from ketadesk.reports.model import Chart, Detail, Dimension, ReportFilter, ReportTable, Row

Runner = Callable[[Session, Actor, ReportFilter, Sequence[str]], ReportTable]
Drill = Callable[[Session, Actor, ReportTable, Row, str], Detail]
Charter = Callable[[ReportTable], Chart | None]

# In the order the window and ``--help`` list them.
NAMES = (
    "revenue",
    "aging",
    "collections",
    "utilisation",
    "attendance",
    "series",
    "outcomes",
    "compliance",
)


@dataclass(frozen=True)
class ReportSpec:
    """One report: its name on the command line, its title, a sentence on what it answers,
    how it may be split (``--by``), how it runs, the rows behind a figure, and its chart.

    ``as_of`` reports (aging) stand on one day, the filter's ``date_to``; the others cover
    ``date_from`` to ``date_to``.
    """

    name: str
    title: str
    summary: str
    dimensions: tuple[Dimension, ...]
    default_by: tuple[str, ...]
    run: Runner
    detail: Drill
    chart: Charter
    as_of: bool = False


def spec(name: str) -> ReportSpec:
    """The report called ``name``, refused in words when there is none."""
    key = name.strip().lower()
    if key == "utilization":
        key = "utilisation"
    if key not in NAMES:
        raise InvalidValue(f"there is no report '{name}'; choose from {', '.join(NAMES)}")
    module = importlib.import_module(f"ketadesk.reports.{key}")
    found: ReportSpec = module.SPEC
    return found


def all_specs() -> list[ReportSpec]:
    return [spec(name) for name in NAMES]


def run_report(
    session: Session,
    actor: Actor,
    name: str,
    flt: ReportFilter,
    by: Sequence[str] | None = None,
) -> ReportTable:
    """Run report ``name`` split by ``by`` (its default split when None)."""
    found = spec(name)
    roomy_sorts(session)
    return found.run(session, actor, flt, found.default_by if by is None else by)


def roomy_sorts(session: Session) -> None:
    """On PostgreSQL, let this transaction's sorts and hashes use 64 MB before spilling to
    disk: a report groups hundreds of thousands of rows, where the server's default (4 MB)
    made the revenue split by service code four times slower. SQLite sorts in memory."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '64MB'"))
