"""Rotation keeps the newest backup of each of the last days, weeks and months; the daily
backup is taken only when the newest is over a day old. Clocks are passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketadesk.backups.archive import read_manifest
from ketadesk.backups.daily import due, start_daily, take_daily
from ketadesk.backups.rotation import Dated, Keep, dated, rotate, stamp, to_remove
from ketadesk.config import backup_settings
from ketadesk.db import Database

NOW = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)


def nightly(days: int, hour: int = 2, series: str = "backup") -> list[Dated]:
    """One backup a night for ``days`` nights up to NOW."""
    return [
        Dated(Path(f"n{i}"), NOW.replace(hour=hour) - timedelta(days=i), series)
        for i in range(days)
    ]


def kept(files: list[Dated], keep: Keep | None = None) -> list[datetime]:
    removed = set(to_remove(files, NOW, keep or Keep()))
    return sorted((f.taken_at for f in files if f.path not in removed), reverse=True)


def test_a_year_of_nightly_backups_keeps_7_days_4_weeks_12_months() -> None:
    survivors = kept(nightly(400))
    days = [d.date().isoformat() for d in survivors]
    # the last seven nights
    assert days[:7] == [(NOW - timedelta(days=i)).date().isoformat() for i in range(7)]
    # Sunday nights close ISO weeks: the newest of each of the last four weeks is among them
    weeks = {d.isocalendar()[:2] for d in survivors}
    assert {(NOW - timedelta(weeks=w)).isocalendar()[:2] for w in range(4)} <= weeks
    # the newest of each of the last twelve months: the last night of each earlier month
    # (this month counts as the first of the twelve)
    assert "2026-11-30" in days and "2026-01-31" in days
    assert "2025-12-31" not in days  # a thirteenth month is one too many
    assert len(survivors) <= 7 + 4 + 12
    assert len(survivors) == len(set(survivors))


def test_many_backups_in_one_day_keep_only_the_newest() -> None:
    files = [Dated(Path(f"b{i}"), NOW - timedelta(hours=i), "backup") for i in range(20)]
    survivors = kept(files, Keep(daily=1, weekly=0, monthly=0))
    assert survivors == [NOW]


def test_migration_copies_rotate_apart_from_the_backups() -> None:
    files = nightly(10) + nightly(10, hour=3, series="migration")
    survivors = kept(files, Keep(daily=2, weekly=0, monthly=0))
    assert survivors == [
        NOW.replace(hour=3),
        NOW.replace(hour=2),
        NOW.replace(hour=3) - timedelta(days=1),
        NOW.replace(hour=2) - timedelta(days=1),
    ]


def test_a_backup_dated_in_the_future_and_the_newest_are_never_removed() -> None:
    future = Dated(Path("future"), NOW + timedelta(days=3), "backup")
    files = [*nightly(5), future]
    survivors = kept(files, Keep(daily=0, weekly=0, monthly=0))
    assert survivors == [future.taken_at, NOW.replace(hour=2)]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=24 * 800), min_size=1, max_size=60),
    st.integers(0, 8),
    st.integers(0, 6),
    st.integers(0, 14),
)
def test_rotation_keeps_the_newest_and_at_most_what_it_allows(
    hours_ago: list[int], daily: int, weekly: int, monthly: int
) -> None:
    files = [
        Dated(Path(f"f{i}"), NOW - timedelta(hours=h), "backup") for i, h in enumerate(hours_ago)
    ]
    survivors = kept(files, Keep(daily, weekly, monthly))
    assert NOW - timedelta(hours=min(hours_ago)) in survivors
    assert len(survivors) <= max(1, daily + weekly + monthly)
    # a day with a survivor keeps its newest backup, not an older one of the same day
    for day in {s.date() for s in survivors}:
        newest = max(f.taken_at for f in files if f.taken_at.date() == day)
        assert newest in survivors


def test_rotate_deletes_files_in_the_folder_and_leaves_others_alone(tmp_path: Path) -> None:
    for i in range(10):
        when = NOW - timedelta(days=i)
        (tmp_path / f"clinic-{stamp(when)}-daily.kdbackup").write_bytes(b"x")
        (tmp_path / f"clinic-{stamp(when)}-before-0008.sqlite3").write_bytes(b"x")
        (tmp_path / f"other-{stamp(when)}-daily.kdbackup").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("mine")
    removed = rotate(tmp_path, "clinic", NOW, Keep(daily=3, weekly=0, monthly=0))
    assert len(removed) == 14
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("clinic-"))
    assert left == sorted(
        [f"clinic-{stamp(NOW - timedelta(days=i))}-daily.kdbackup" for i in range(3)]
        + [f"clinic-{stamp(NOW - timedelta(days=i))}-before-0008.sqlite3" for i in range(3)]
    )
    assert len(list(tmp_path.glob("other-*"))) == 10 and (tmp_path / "notes.txt").exists()


def test_names_that_are_not_backups_are_not_dated() -> None:
    assert dated(Path("clinic-20261207T210000Z-daily.kdbackup"), "clinic") is not None
    assert dated(Path("clinic-20261207T210000Z-2-manual.kdbackup"), "clinic") is not None
    assert dated(Path("clinic-20261207T210000Z-daily.kdbackup"), "clin") is None
    assert dated(Path("clinic-20261207T210000Z-replaced.sqlite3"), "clinic") is None
    assert dated(Path("clinic.sqlite3"), "clinic") is None


def test_the_keep_setting_is_read_and_checked() -> None:
    assert backup_settings({}).keep == (7, 4, 12)
    assert backup_settings({"KETADESK_BACKUP_KEEP": "3, 2,1"}).keep == (3, 2, 1)
    with pytest.raises(ValueError, match="three whole numbers"):
        backup_settings({"KETADESK_BACKUP_KEEP": "7,4"})


# --- the daily backup ----------------------------------------------------------------------


def test_the_daily_backup_is_taken_once_a_day_and_rotated(
    sqlite_db: Database, tmp_path: Path
) -> None:
    env = {"KETADESK_BACKUP_KEEP": "2,0,0"}
    assert due(sqlite_db.url, NOW, env)
    first = take_daily(sqlite_db.url, NOW, env)
    assert first is not None and first.manifest.kind == "daily"
    assert first.path.parent == tmp_path / "backups"
    assert not due(sqlite_db.url, NOW + timedelta(hours=2), env)  # 23:00, the same day
    assert take_daily(sqlite_db.url, NOW + timedelta(hours=2), env) is None
    # the next morning: less than a day later, but another day
    assert due(sqlite_db.url, NOW + timedelta(hours=12), env)
    later = [take_daily(sqlite_db.url, NOW + timedelta(days=d, hours=1), env) for d in (1, 2, 3)]
    assert all(t is not None for t in later)
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [
        f"clinic-{stamp(NOW + timedelta(days=d, hours=1))}-daily.kdbackup" for d in (2, 3)
    ]


def test_the_daily_backup_goes_where_configured_and_sealed(
    sqlite_db: Database, tmp_path: Path
) -> None:
    secret = tmp_path / "passphrase"
    secret.write_text("kept in the safe\n")
    env = {
        "KETADESK_BACKUP_DIR": str(tmp_path / "elsewhere"),
        "KETADESK_BACKUP_PASSPHRASE_FILE": str(secret),
    }
    thread = start_daily(sqlite_db.url, clock=lambda: NOW, environ=env)
    assert thread is not None
    thread.join()
    (made,) = (tmp_path / "elsewhere").iterdir()
    assert read_manifest(made).encrypted
    assert start_daily(sqlite_db.url, clock=lambda: NOW, environ=env) is None  # fresh now


def test_the_daily_backup_can_be_switched_off(sqlite_db: Database, tmp_path: Path) -> None:
    env = {"KETADESK_BACKUP_DAILY": "off"}
    assert start_daily(sqlite_db.url, clock=lambda: NOW, environ=env) is None
    assert take_daily(sqlite_db.url, NOW, env) is None
    assert not (tmp_path / "backups").exists()
