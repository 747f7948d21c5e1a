"""How the schedule writes times, days and sessions: US clinic style, in the location's time.

``9:00 AM``, ``9:00–10:10 AM``, ``Mon Dec 7``, ``Monday, December 7, 2026``. Every function
takes local times already (a :class:`~ketadesk.scheduling.calendar.CalendarEntry` carries
them; planner slots are converted with the plan's time zone), so nothing here guesses a
zone.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from ketadesk.scheduling.calendar import CalendarEntry
from ketadesk.scheduling.proposals import Slot


def clock(moment: time, *, short: bool = False, compact: bool = False) -> str:
    """``9:00 AM``; with ``short``, ``9 AM`` on the hour; ``compact``: ``9a``, ``10:30p``."""
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    if compact:
        minutes = f":{moment.minute:02d}" if moment.minute else ""
        return f"{hour}{minutes}{half[0].lower()}"
    if short and moment.minute == 0:
        return f"{hour} {half}"
    return f"{hour}:{moment.minute:02d} {half}"


def span(start: time, end: time) -> str:
    """``9:00–10:10 AM``, or ``11:30 AM–12:40 PM`` across noon."""
    if (start.hour < 12) == (end.hour < 12):
        return f"{clock(start)[:-3]}–{clock(end)}"
    return f"{clock(start)}–{clock(end)}"


def time_range(entry: CalendarEntry) -> str:
    return span(entry.local_start.time(), entry.local_end.time())


def compact_progress(entry: CalendarEntry) -> str:
    """``2/6``, or ``#4`` for an open-ended series."""
    return f"{entry.number}/{entry.series_size}" if entry.series_size else f"#{entry.number}"


def day_heading(day: date, *, long: bool = False) -> str:
    """``Mon Dec 7``, or ``Monday, December 7, 2026`` when ``long``."""
    if long:
        return f"{day:%A}, {day:%B} {day.day}, {day.year}"
    return f"{day:%a} {day:%b} {day.day}"


def week_heading(first: date, last: date) -> str:
    """``Dec 7 – 13, 2026``, ``Nov 30 – Dec 6, 2026``, ``Dec 28, 2026 – Jan 3, 2027``."""
    if first.year != last.year:
        return f"{first:%b} {first.day}, {first.year} – {last:%b} {last.day}, {last.year}"
    if first.month != last.month:
        return f"{first:%b} {first.day} – {last:%b} {last.day}, {last.year}"
    return f"{first:%b} {first.day} – {last.day}, {last.year}"


def moment(when: datetime) -> str:
    """``Mon Dec 7, 9:00 AM`` for a local datetime."""
    return f"{day_heading(when.date())}, {clock(when.time())}"


def entry_tooltip(entry: CalendarEntry) -> str:
    """A few lines for the block's tooltip: who, what, where, when, how it stands."""
    driver = "driver confirmed" if entry.driver_confirmed else "driver not confirmed yet"
    return "\n".join(
        (
            f"{entry.patient_name} · MRN {entry.mrn}",
            f"{entry.protocol_name}, session {entry.progress}",
            f"{day_heading(entry.local_start.date())}, {time_range(entry)} in {entry.chair_name}",
            f"{entry.provider_name}",
            f"{entry.status.label} · {driver} · {entry.reference}",
        )
    )


def entry_line(entry: CalendarEntry) -> str:
    """``S-12 · Doe, Jane (2 of 6), Mon Dec 7, 9:00–10:10 AM in IV 1``."""
    return (
        f"{entry.reference} · {entry.patient_name} ({entry.progress}), "
        f"{day_heading(entry.local_start.date())}, {time_range(entry)} in {entry.chair_name}"
    )


def slot_text(slot: Slot, zone: ZoneInfo, *, with_provider: bool = False) -> str:
    """``Wed Dec 9, 10:00–11:10 AM · IV 2`` (and the provider when asked)."""
    start, end = slot.starts_at.astimezone(zone), slot.ends_at.astimezone(zone)
    text = f"{day_heading(start.date())}, {span(start.time(), end.time())} · {slot.chair_name}"
    return f"{text} · {slot.provider_name}" if with_provider else text
