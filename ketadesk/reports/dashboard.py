"""The manager's dashboard: six key figures against the period before, and four charts.

Every figure is the total of a report (read by its measure key, with that measure's own
definition), so the dashboard can never disagree with the report it opens: net revenue
(revenue), net collection rate (collections), AR over 90 days (aging, as of the last day),
chair utilisation (utilisation), no-show rate (attendance) and induction completion (series).
The charts are the reports' own charts: revenue by month and payer, the aging buckets, the
utilisation heat map by weekday and hour, and the outcome trend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.reports.catalog import run_report, spec
from ketadesk.reports.model import Chart, KeyFigure, ReportFilter, ReportTable, Value


@dataclass(frozen=True)
class Dashboard:
    filter: ReportFilter
    figures: tuple[KeyFigure, ...]
    charts: tuple[Chart, ...]


@dataclass(frozen=True)
class _Tile:
    """Where a key figure comes from: a report, how it is split, and measure keys whose
    total values are added (AR over 90 days is two buckets)."""

    key: str
    label: str
    report: str
    measures: tuple[str, ...]
    better_when_higher: bool = True


TILES = (
    _Tile("net_revenue", "Net revenue", "revenue", ("net_revenue",)),
    _Tile("net_collection_rate", "Collection rate", "collections", ("net_collection_rate",)),
    _Tile("ar_over_90", "AR over 90 days", "aging", ("d91_120", "over_120"), False),
    _Tile("utilisation", "Chair utilisation", "utilisation", ("utilisation",)),
    _Tile("no_show_rate", "No-show rate", "attendance", ("no_show_rate",), False),
    _Tile("completion_rate", "Series completion", "series", ("completion_rate",)),
)

# The charts beneath, each a report split the way its chart reads best.
CHARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("revenue", ("month", "payer")),
    ("aging", ("side",)),
    ("utilisation", ("weekday", "hour")),
    ("outcomes", ("month",)),
)


Job = tuple[str, ReportFilter, tuple[str, ...]]  # a report, its filter, its split
Reading = Callable[[], AbstractContextManager[Session]]


def dashboard(session: Session, actor: Actor, flt: ReportFilter) -> Dashboard:
    """The key figures for ``flt`` (each with the same figure for the period just before it)
    and the dashboard's charts, every report read in ``session``."""
    actor.require(Permission.REPORT_VIEW)
    tables = {job: _run(session, actor, job) for job in plan(flt)}
    return assembled(flt, tables)


def dashboard_in_parallel(
    reading: Reading, actor: Actor, flt: ReportFilter, *, threads: int = 2
) -> Dashboard:
    """:func:`dashboard`, its reports spread over ``threads`` threads, each reading in its
    own session from ``reading`` (``Database.reading``). The database does the work of a
    report outside Python's lock, so two reports run at once on two cores; the costliest
    start first."""
    actor.require(Permission.REPORT_VIEW)

    def run(job: Job) -> ReportTable:
        with reading() as session:
            return _run(session, actor, job)

    jobs = sorted(plan(flt), key=_cost, reverse=True)
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        tables = dict(zip(jobs, pool.map(run, jobs), strict=True))
    return assembled(flt, tables)


def plan(flt: ReportFilter) -> list[Job]:
    """Every report run the dashboard needs: the charts, then each tile's figure for the
    period (unless a chart's run already holds that total) and for the period before."""
    earlier = flt.previous()
    jobs: list[Job] = [(name, flt, by) for name, by in CHARTS]
    for tile in TILES:
        now = _charted(tile.report, flt) or (tile.report, flt, ())
        for job in (now, (tile.report, earlier, ())):
            if job not in jobs:
                jobs.append(job)
    return jobs


def assembled(flt: ReportFilter, tables: Mapping[Job, ReportTable]) -> Dashboard:
    """The dashboard made of the tables :func:`plan` asked for."""
    earlier = flt.previous()
    figures = []
    for tile in TILES:
        now = _charted(tile.report, flt) or (tile.report, flt, ())
        figures.append(_figure(tile, tables[now], tables[(tile.report, earlier, ())]))
    charts = []
    for name, by in CHARTS:
        chart = spec(name).chart(tables[(name, flt, by)])
        if chart is not None:
            charts.append(chart)
    return Dashboard(filter=flt, figures=tuple(figures), charts=tuple(charts))


def _run(session: Session, actor: Actor, job: Job) -> ReportTable:
    name, flt, by = job
    return run_report(session, actor, name, flt, by)


def _charted(report: str, flt: ReportFilter) -> Job | None:
    """The chart run whose total is also the unsplit total (every split of these reports
    partitions the same rows), or None."""
    if report not in _SPLIT_KEEPS_TOTAL:
        return None
    return next(((name, flt, by) for name, by in CHARTS if name == report), None)


_SPLIT_KEEPS_TOTAL = frozenset({"revenue", "aging", "utilisation"})
# Rough cost on the 20,000-patient demo (docs/PERFORMANCE.md), so the longest start first.
_COSTS = {"aging": 5, "utilisation": 4, "revenue": 3, "attendance": 3, "collections": 2}


def _cost(job: Job) -> int:
    return _COSTS.get(job[0], 1) + len(job[2])


def _figure(tile: _Tile, now: ReportTable, before: ReportTable) -> KeyFigure:
    measure = now.measures[now.measure_index(tile.measures[0])]
    definition = measure.definition
    if len(tile.measures) > 1:
        labels = " + ".join(now.measures[now.measure_index(k)].label for k in tile.measures)
        definition = f"{labels}: what was still owed on the last day of the period, "
        definition += "on services more than 90 days old."
    return KeyFigure(
        key=tile.key,
        label=tile.label,
        kind=measure.kind,
        value=_total(now, tile.measures),
        previous=_total(before, tile.measures),
        definition=definition,
        better_when_higher=tile.better_when_higher,
    )


def _total(table: ReportTable, keys: Sequence[str]) -> Value:
    values = [table.total.values[table.measure_index(k)] for k in keys]
    if any(v is None for v in values):
        return None
    if len(values) == 1:
        return values[0]
    return sum((Decimal(v) for v in values if v is not None), Decimal(0))
