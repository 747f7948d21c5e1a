"""Where things go on the schedule: days across, chairs within each day, time down the side.

:class:`Geometry` turns one :class:`~ketadesk.scheduling.calendar.CalendarWindow` and the
width available into scene coordinates, and back again:

* each day is a :class:`DayBand` holding one :class:`Column` per chair; a day the location
  is closed with nothing booked collapses to a narrow band that only says why;
* the time axis runs from an hour before the earliest opening to an hour after the latest
  closing (stretched to hold any session booked outside them), :data:`PX_PER_MINUTE` tall;
* :meth:`Geometry.block_rects` places every session in its column; sessions that overlap
  in one chair (a cancelled one and the session booked over it) share the column side by
  side, live sessions first;
* :meth:`Geometry.target_at` reads a drop point back as a day, a chair and a local start
  time snapped to :data:`SNAP_MINUTES`.

Nothing here draws; :mod:`ketadesk.ui.schedule.grid` does.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time

from PySide6.QtCore import QRectF

from ketadesk.scheduling.calendar import CalendarDay, CalendarEntry, CalendarWindow, ChairColumn

PX_PER_MINUTE = 64 / 60  # an hour is 64 pixels tall
SNAP_MINUTES = 15
MIN_DAY_COLUMN = 160  # a chair's width in the day view, at least
MIN_WEEK_COLUMN = 96  # a chair's width in the week view, at least
CLOSED_BAND = 96  # a closed day with nothing booked
BLOCK_GAP = 2.0  # pixels between a block and its column's edges


@dataclass(frozen=True)
class Column:
    """One chair on one day."""

    day: date
    chair: ChairColumn
    x: float
    width: float

    def contains(self, x: float) -> bool:
        return self.x <= x < self.x + self.width


@dataclass(frozen=True)
class DayBand:
    """One day: its chairs' columns, or none when it is closed with nothing booked."""

    day: CalendarDay
    x: float
    width: float
    columns: tuple[Column, ...]

    @property
    def collapsed(self) -> bool:
        return not self.columns


@dataclass(frozen=True)
class DropTarget:
    """Where a dragged session was let go: a day, a chair (``None`` on a closed day's
    narrow band) and a local start time on the 15-minute grid."""

    day: date
    chair_id: int | None
    chair_name: str
    start: time
    closed: str | None = None


def minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def clock_time(total: int) -> time:
    total = max(0, min(total, 24 * 60 - 1))
    return time(total // 60, total % 60)


def _entry_minutes(entry: CalendarEntry) -> tuple[int, int]:
    """Local start and end of ``entry`` in minutes after its day's midnight."""
    start = minutes(entry.local_start.time())
    if entry.local_end.date() > entry.local_start.date():
        return start, 24 * 60
    return start, max(minutes(entry.local_end.time()), start + SNAP_MINUTES)


def shown_chairs(window: CalendarWindow) -> tuple[ChairColumn, ...]:
    """Active chairs, plus retired ones that still hold a session in the window."""
    used = {e.chair_id for e in window.entries}
    return tuple(c for c in window.chairs if c.active or c.chair_id in used)


class Geometry:
    """The scene's coordinates for one calendar window at one available width."""

    def __init__(self, window: CalendarWindow, available_width: float, *, week: bool) -> None:
        self.window = window
        self.week = week
        self.chairs = shown_chairs(window)
        self.first_minute, self.last_minute = self._time_range()
        self.height = (self.last_minute - self.first_minute) * PX_PER_MINUTE
        self.bands = self._bands(max(available_width, 0.0))
        self.width = sum(band.width for band in self.bands)

    # -- the time axis ----------------------------------------------------------------

    def _time_range(self) -> tuple[int, int]:
        first = minutes(self.window.earliest_opening()) - 60
        last = minutes(self.window.latest_closing()) + 60
        for entry in self.window.entries:
            start, end = _entry_minutes(entry)
            first, last = min(first, start), max(last, end)
        first = max(0, first // 60 * 60)
        last = min(24 * 60, math.ceil(last / 60) * 60)
        return first, max(last, first + 60)

    def y_of(self, minute: int) -> float:
        return (minute - self.first_minute) * PX_PER_MINUTE

    def minute_at(self, y: float, duration: int = 0) -> int:
        """The 15-minute mark nearest ``y``, kept so a session of ``duration`` fits."""
        raw = self.first_minute + y / PX_PER_MINUTE
        snapped = round(raw / SNAP_MINUTES) * SNAP_MINUTES
        latest = max(self.first_minute, self.last_minute - duration)
        return int(min(max(snapped, self.first_minute), latest))

    def hours(self) -> range:
        """The whole hours drawn on the axis, in minutes after midnight."""
        return range(self.first_minute, self.last_minute + 1, 60)

    # -- days and chairs across -------------------------------------------------------

    def _bands(self, available: float) -> tuple[DayBand, ...]:
        booked = {e.local_start.date() for e in self.window.entries}
        open_days = [d for d in self.window.days if not self._collapses(d, booked)]
        collapsed = len(self.window.days) - len(open_days)
        spare = available - collapsed * CLOSED_BAND
        count = max(len(open_days) * len(self.chairs), 1)
        least = MIN_WEEK_COLUMN if self.week else MIN_DAY_COLUMN
        width = max(float(least), spare / count)
        bands: list[DayBand] = []
        x = 0.0
        for day in self.window.days:
            if day in open_days:
                columns = tuple(
                    Column(day.day, chair, x + n * width, width)
                    for n, chair in enumerate(self.chairs)
                )
                band_width = width * len(self.chairs) if self.chairs else width
            else:
                columns, band_width = (), float(CLOSED_BAND)
            bands.append(DayBand(day, x, band_width, columns))
            x += band_width
        return tuple(bands)

    def _collapses(self, day: CalendarDay, booked: set[date]) -> bool:
        return bool(day.closed) and day.day not in booked and len(self.window.days) > 1

    def band_at(self, x: float) -> DayBand | None:
        for band in self.bands:
            if band.x <= x < band.x + band.width:
                return band
        return None

    def column_of(self, day: date, chair_id: int) -> Column | None:
        for band in self.bands:
            if band.day.day == day:
                return next((c for c in band.columns if c.chair.chair_id == chair_id), None)
        return None

    def columns(self) -> Iterable[Column]:
        for band in self.bands:
            yield from band.columns

    # -- sessions ---------------------------------------------------------------------

    def block_rects(self) -> list[tuple[CalendarEntry, QRectF]]:
        """Every session of the window with the rectangle it is drawn in."""
        by_column: dict[tuple[date, int], list[CalendarEntry]] = defaultdict(list)
        for entry in self.window.entries:
            by_column[(entry.local_start.date(), entry.chair_id)].append(entry)
        placed: list[tuple[CalendarEntry, QRectF]] = []
        for (day, chair_id), entries in by_column.items():
            column = self.column_of(day, chair_id)
            if column is None:
                continue
            for entry, lane, lanes in side_by_side(entries):
                start, end = _entry_minutes(entry)
                share = column.width / lanes
                placed.append(
                    (
                        entry,
                        QRectF(
                            column.x + lane * share + BLOCK_GAP,
                            self.y_of(start) + 1,
                            share - 2 * BLOCK_GAP,
                            max((end - start) * PX_PER_MINUTE - 2, 8.0),
                        ),
                    )
                )
        return placed

    def target_at(self, x: float, top: float, duration: int) -> DropTarget | None:
        """The day, chair and snapped start a block of ``duration`` minutes dropped with its
        top at ``top`` and its grip at ``x`` lands on; ``None`` outside every day."""
        band = self.band_at(x)
        if band is None:
            return None
        start = clock_time(self.minute_at(top, duration))
        column = next((c for c in band.columns if c.contains(x)), None)
        if column is None:
            return DropTarget(band.day.day, None, "", start, band.day.closed)
        return DropTarget(
            band.day.day, column.chair.chair_id, column.chair.name, start, band.day.closed
        )


def side_by_side(entries: Sequence[CalendarEntry]) -> list[tuple[CalendarEntry, int, int]]:
    """Lay overlapping sessions of one chair side by side: ``(entry, lane, lanes)``.

    Each run of overlapping sessions shares the column between as many lanes as it needs,
    so no block covers another; sessions holding the chair take the left lanes, the
    cancelled and no-show sessions they were booked over go to the right.
    """
    out: list[tuple[CalendarEntry, int, int]] = []
    for cluster in _overlapping_runs(entries):
        ordered = sorted(cluster, key=lambda e: (not e.holds_chair, e.local_start, e.session_id))
        lane_ends: list[list[tuple[int, int]]] = []  # per lane, the spans it holds
        placed: list[tuple[CalendarEntry, int]] = []
        for entry in ordered:
            start, end = _entry_minutes(entry)
            lane = next(
                (
                    n
                    for n, spans in enumerate(lane_ends)
                    if all(end <= s or start >= e for s, e in spans)
                ),
                len(lane_ends),
            )
            if lane == len(lane_ends):
                lane_ends.append([])
            lane_ends[lane].append((start, end))
            placed.append((entry, lane))
        out.extend((entry, lane, len(lane_ends)) for entry, lane in placed)
    return out


def _overlapping_runs(entries: Sequence[CalendarEntry]) -> list[list[CalendarEntry]]:
    """``entries`` by start, cut into runs in which each overlaps the run so far."""
    runs: list[list[CalendarEntry]] = []
    run_end = -1
    for entry in sorted(entries, key=lambda e: (e.local_start, e.session_id)):
        start, end = _entry_minutes(entry)
        if not runs or start >= run_end:
            runs.append([])
            run_end = end
        runs[-1].append(entry)
        run_end = max(run_end, end)
    return runs
