"""What every report is made of: the filter a manager chooses, the measures it shows (each with
its definition in words), the frozen rows it returns, and the rows behind a figure.

A report is a function ``(session, actor, ReportFilter, by) -> ReportTable`` registered in
:mod:`ketadesk.reports.catalog`; it aggregates in SQL and builds one :class:`Row` per group.
The window, the command line and the PDF only read these values: nothing here is Qt,
nothing here formats money for people (that is ``ui/`` and ``documents/``).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ketadesk.errors import InvalidValue

Value = Decimal | int | None
"""A figure: money as Decimal dollars, counts as int, rates and days as Decimal; None when it
cannot be computed (a rate over nothing)."""


class Kind(enum.StrEnum):
    """How a measure is read and shown."""

    MONEY = "money"  # Decimal dollars, exact
    COUNT = "count"  # int
    PERCENT = "percent"  # Decimal, 0–100, one decimal place
    DAYS = "days"  # Decimal, one decimal place
    NUMBER = "number"  # Decimal, one decimal place (scores, minutes)


@dataclass(frozen=True)
class Measure:
    """One column of figures, with the sentence that says how it is computed."""

    key: str
    label: str
    kind: Kind
    definition: str


@dataclass(frozen=True)
class Dimension:
    """One way to split a report: ``month``, ``payer``, ``chair``…"""

    key: str
    label: str


@dataclass(frozen=True)
class ReportFilter:
    """What the manager asked for. Empty tuples mean "all".

    ``payer_ids`` may hold ``None`` for self-pay (the patient's own side of the account).
    ``date_to`` is inclusive; reports that stand on one day (aging) read it as "as of".
    """

    date_from: date
    date_to: date
    location_ids: tuple[int, ...] = ()
    provider_ids: tuple[int, ...] = ()
    payer_ids: tuple[int | None, ...] = ()

    def __post_init__(self) -> None:
        if self.date_to < self.date_from:
            raise InvalidValue(
                f"the period ends ({self.date_to:%Y-%m-%d}) before it starts "
                f"({self.date_from:%Y-%m-%d})"
            )

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def shifted(self, *, years: int = 0, days: int = 0) -> ReportFilter:
        """The same filter over another period: ``years=-1`` is the same period last year,
        ``days=-self.days`` the period just before."""
        from dataclasses import replace
        from datetime import timedelta

        def move(day: date) -> date:
            if years:
                try:
                    day = day.replace(year=day.year + years)
                except ValueError:  # 29 February into a common year
                    day = day.replace(year=day.year + years, day=28)
            return day + timedelta(days=days)

        return replace(self, date_from=move(self.date_from), date_to=move(self.date_to))

    def previous(self) -> ReportFilter:
        """The period of the same length just before this one."""
        return self.shifted(days=-self.days)


@dataclass(frozen=True)
class Row:
    """One group of a report: its labels (one per dimension asked for, in order), its
    figures (one per measure, in order) and the keys that find the rows behind it."""

    labels: tuple[str, ...]
    values: tuple[Value, ...]
    keys: tuple[object, ...] = ()  # ids or period keys, one per dimension; for drill-down

    def value(self, report: ReportTable, key: str) -> Value:
        return self.values[report.measure_index(key)]


@dataclass(frozen=True)
class ReportTable:
    """A whole report: what was asked, how it is split, its rows and their total."""

    name: str
    title: str
    filter: ReportFilter
    dimensions: tuple[Dimension, ...]
    measures: tuple[Measure, ...]
    rows: tuple[Row, ...]
    total: Row
    notes: tuple[str, ...] = ()  # sentences shown under the table (definitions of the whole)

    def measure_index(self, key: str) -> int:
        for index, measure in enumerate(self.measures):
            if measure.key == key:
                return index
        raise KeyError(key)

    def column(self, key: str) -> list[Value]:
        index = self.measure_index(key)
        return [row.values[index] for row in self.rows]


@dataclass(frozen=True)
class DetailRow:
    """One ledger entry, session, claim or series behind a figure, with what opens it:
    the patient's ledger (``patient_id``) or the claim (``claim_id``)."""

    on: date
    patient_id: int | None
    mrn: str
    patient: str
    description: str
    amount: Value = None
    claim_id: int | None = None
    entry_id: int | None = None
    session_id: int | None = None


@dataclass(frozen=True)
class Detail:
    """The rows behind one figure of one row of a report."""

    title: str
    rows: tuple[DetailRow, ...]
    truncated: bool = False  # more rows matched than are shown
    amount_label: str = "Amount"


@dataclass(frozen=True)
class KeyFigure:
    """One tile of the dashboard: a figure, the same figure for the period before, and what
    it means."""

    key: str
    label: str
    kind: Kind
    value: Value
    previous: Value
    definition: str
    better_when_higher: bool = True

    @property
    def change(self) -> Value:
        """The change against the previous period, in the figure's own unit (percentage
        points for a rate)."""
        if self.value is None or self.previous is None:
            return None
        if isinstance(self.value, int) and isinstance(self.previous, int):
            return self.value - self.previous
        return Decimal(self.value) - Decimal(self.previous)


@dataclass(frozen=True)
class Series:
    """One line or bar group of a chart: a name and one value per category."""

    name: str
    values: tuple[Decimal, ...]


@dataclass(frozen=True)
class Chart:
    """A chart as data, drawn by QtCharts in the window and by reportlab in PDFs.

    ``style`` is ``bar`` (stacked bars per category), ``line`` or ``heat`` (``categories``
    across, ``rows`` down, one series per row).
    """

    title: str
    style: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    kind: Kind = Kind.MONEY
    rows: tuple[str, ...] = field(default=())


def percent(part: int, whole: int) -> Decimal | None:
    """``part ÷ whole × 100`` to one decimal place, halves rounded up as people expect; None
    over nothing (a rate of no sessions, no claims, no series)."""
    if not whole:
        return None
    return (Decimal(int(part)) * 100 / Decimal(int(whole))).quantize(TENTH, ROUND_HALF_UP)


TENTH = Decimal("0.1")


def require_by(by: Sequence[str], allowed: Sequence[Dimension], report: str) -> list[Dimension]:
    """The dimensions named in ``by``, in order, refused in words when one is not offered."""
    index = {dimension.key: dimension for dimension in allowed}
    chosen: list[Dimension] = []
    for key in by:
        key = key.strip().lower()
        if not key:
            continue
        if key not in index:
            offered = ", ".join(d.key for d in allowed)
            raise InvalidValue(
                f"the {report} report cannot be split by '{key}'; choose from {offered}"
            )
        if index[key] not in chosen:
            chosen.append(index[key])
    return chosen
