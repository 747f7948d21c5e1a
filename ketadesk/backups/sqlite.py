"""SQLite files: a consistent copy while others work, its check, and putting one back.

:func:`snapshot` copies the live file with SQLite's online backup API (one step, so the copy
is one consistent moment even while another process writes; WAL lets the writer carry on)
and reads the copy's figures (:class:`Figures`), so what the manifest says is exactly what
the copy holds. :func:`checked` runs ``PRAGMA integrity_check`` on a restored copy and reads
the same figures. :func:`replace` keeps the database being replaced beside it, then writes
the restored copy into it through the backup API again, which goes through SQLite's own
locking and write-ahead log; a file too wrecked to open is moved aside instead.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ketadesk.backups.archive import BackupError


@dataclass(frozen=True)
class Figures:
    """What a database holds, as a backup's manifest records it."""

    schema: str | None
    tables: Mapping[str, int]
    ledger_cents: int


def private_file(path: Path) -> Path:
    """Create ``path`` empty and owner-only, so SQLite writes into a 0600 file."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    return path


def figures(connection: sqlite3.Connection) -> Figures:
    """Schema revision, rows per table and the ledger's total in cents."""
    names = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    tables = {
        name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
        for name in names
    }
    schema = None
    if "alembic_version" in tables:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        schema = None if row is None else str(row[0])
    ledger = 0
    if "ledger_entry" in tables:
        ledger = int(
            connection.execute("SELECT COALESCE(SUM(amount), 0) FROM ledger_entry").fetchone()[0]
        )
    return Figures(schema, tables, ledger)


def snapshot(source: Path, target: Path) -> Figures:
    """Copy the live database ``source`` to ``target`` (0600) and read the copy's figures."""
    private_file(target)
    live = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=15)
    copy = sqlite3.connect(target)
    try:
        live.backup(copy)  # all pages in one step: one consistent moment
        return figures(copy)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"cannot back up {source}: {error}") from None
    finally:
        copy.close()
        live.close()


def checked(path: Path) -> Figures:
    """The figures of a restored copy after ``PRAGMA integrity_check`` passed on it."""
    connection = sqlite3.connect(path)
    try:
        verdict = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if verdict != ["ok"]:
            raise BackupError(
                "the backup's database fails SQLite's integrity check: " + "; ".join(verdict[:3])
            )
        return figures(connection)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"the backup's database cannot be read: {error}") from None
    finally:
        connection.close()


def replace(target: Path, restored: Path, kept: Path) -> Path | None:
    """Put ``restored`` in place of ``target``, keeping ``target`` as ``kept`` first.

    Returns where the replaced database went (``None`` when there was none).
    """
    if not target.exists():
        restored.replace(target)
        return None
    try:
        snapshot_to(target, kept)
    except sqlite3.DatabaseError:
        return _move_aside(target, restored, kept)
    source = sqlite3.connect(restored)
    destination = sqlite3.connect(target, timeout=15)
    try:
        source.backup(destination)
    except sqlite3.DatabaseError:
        destination.close()
        return _move_aside(target, restored, kept)
    finally:
        destination.close()
        source.close()
    restored.unlink()
    return kept


def snapshot_to(source: Path, target: Path) -> None:
    """A plain owner-only copy of ``source`` through the backup API (raises if unreadable)."""
    private_file(target)
    live = sqlite3.connect(source, timeout=15)
    copy = sqlite3.connect(target)
    try:
        live.execute("SELECT count(*) FROM sqlite_master").fetchone()
        live.backup(copy)
    except sqlite3.DatabaseError:
        copy.close()
        target.unlink(missing_ok=True)
        raise
    finally:
        copy.close()
        live.close()


def _move_aside(target: Path, restored: Path, kept: Path) -> Path:
    """A wrecked file: move it (and its journal files) aside whole, then the copy in."""
    for suffix in ("", "-wal", "-shm"):
        old = Path(f"{target}{suffix}")
        if old.exists():
            old.replace(Path(f"{kept}{suffix}"))
    kept.chmod(0o600)  # it holds PHI, whatever mode the wrecked file had
    restored.replace(target)
    return kept
