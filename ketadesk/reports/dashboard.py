"""The manager's dashboard: six key figures against the period before, and four charts.

Every figure is the total of a report (read by its measure key, with that measure's own
definition), so the dashboard can never disagree with the report it opens: net revenue
(revenue), net collection rate (collections), AR over 90 days (aging, as of the last day),
chair utilisation (utilisation), no-show rate (attendance) and induction completion (series).
The charts are the reports' own charts: revenue by month and payer, the aging buckets, the
utilisation heat map by weekday and hour, and the outcome trend.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def dashboard(session: Session, actor: Actor, flt: ReportFilter) -> Dashboard:
    """The key figures for ``flt`` (each with the same figure for the period just before it)
    and the dashboard's charts."""
    actor.require(Permission.REPORT_VIEW)
    earlier = flt.previous()
    charted = {name: run_report(session, actor, name, flt, by) for name, by in CHARTS}
    figures = []
    for tile in TILES:
        now = charted.get(tile.report) if _total_only(tile.report) else None
        table = now or run_report(session, actor, tile.report, flt, ())
        before = run_report(session, actor, tile.report, earlier, ())
        figures.append(_figure(tile, table, before))
    charts = []
    for name, _by in CHARTS:
        chart = spec(name).chart(charted[name])
        if chart is not None:
            charts.append(chart)
    return Dashboard(filter=flt, figures=tuple(figures), charts=tuple(charts))


def _total_only(report: str) -> bool:
    """Whether the charted run of ``report`` has the same total as an unsplit one (every split
    of these reports partitions the same rows)."""
    return report in ("revenue", "aging")


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
