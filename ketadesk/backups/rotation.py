"""Which backups to keep: the newest of each of the last days, weeks and months.

Backups in a folder are named ``<database>-<UTC stamp>-<kind>.kdbackup``; the copies taken
before a migration ``<database>-<UTC stamp>-before-<revision>.sqlite3``. Each of the two runs
under its own rotation (:class:`Keep`, by default 7 daily, 4 weekly, 12 monthly), so a day of
retried migrations cannot push the daily backups out, nor the reverse. :func:`to_remove` is
pure: it is given the files and "now" and says which to delete; :func:`rotate` deletes them.
A file dated in the future (a clock set wrong) is kept, and so is the newest of each series.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(
    r"^(?P<stem>.+)-(?P<stamp>\d{8}T\d{6}Z)(?:-\d+)?-(?P<kind>[a-z0-9-]+)"
    r"\.(?P<ext>kdbackup|sqlite3)$"
)


@dataclass(frozen=True)
class Keep:
    """How many daily, weekly and monthly backups a series keeps."""

    daily: int = 7
    weekly: int = 4
    monthly: int = 12


@dataclass(frozen=True)
class Dated:
    """A backup file with the instant its name records."""

    path: Path
    taken_at: datetime
    series: str  # "backup" or "migration"


def stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime(STAMP)


def dated(path: Path, stem: str) -> Dated | None:
    """``path`` read as one of ``stem``'s backups, or ``None`` when it is not one."""
    match = _NAME.match(path.name)
    if match is None or match["stem"] != stem:
        return None
    taken_at = datetime.strptime(match["stamp"], STAMP).replace(tzinfo=UTC)
    if match["ext"] == "sqlite3":
        if not match["kind"].startswith("before-"):
            return None
        return Dated(path, taken_at, "migration")
    return Dated(path, taken_at, "backup")


def backups_in(folder: Path, stem: str) -> list[Dated]:
    """``stem``'s backups in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = [d for p in folder.iterdir() if (d := dated(p, stem)) is not None]
    return sorted(found, key=lambda d: d.taken_at)


def _newest_per(files: Sequence[Dated], period: Callable[[date], object], count: int) -> set[Path]:
    kept: set[Path] = set()
    seen: set[object] = set()
    for item in sorted(files, key=lambda d: d.taken_at, reverse=True):
        key = period(item.taken_at.date())
        if key in seen:
            continue
        if len(seen) == count:
            break
        seen.add(key)
        kept.add(item.path)
    return kept


def to_remove(files: Iterable[Dated], now: datetime, keep: Keep) -> list[Path]:
    """The files rotation deletes, series by series (oldest first)."""
    removed: list[Path] = []
    by_series: dict[str, list[Dated]] = {}
    for item in files:
        by_series.setdefault(item.series, []).append(item)
    for series in by_series.values():
        past = [d for d in series if d.taken_at <= now]
        kept = {d.path for d in series if d.taken_at > now}
        kept |= _newest_per(past, lambda day: day, keep.daily)
        kept |= _newest_per(past, lambda day: day.isocalendar()[:2], keep.weekly)
        kept |= _newest_per(past, lambda day: (day.year, day.month), keep.monthly)
        if past:
            kept.add(max(past, key=lambda d: d.taken_at).path)
        removed += [d.path for d in sorted(series, key=lambda d: d.taken_at) if d.path not in kept]
    return removed


def rotate(folder: Path, stem: str, now: datetime, keep: Keep) -> list[Path]:
    """Delete what :func:`to_remove` says in ``folder``; return the deleted files."""
    removed = to_remove(backups_in(folder, stem), now, keep)
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
