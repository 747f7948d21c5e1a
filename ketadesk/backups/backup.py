"""Taking, checking and restoring backups: what ``ketadesk backup`` and ``restore`` run.

:func:`take_backup` snapshots the database (SQLite: online backup API; PostgreSQL:
``pg_dump`` of an exported snapshot), writes it under a manifest of its figures
(:mod:`ketadesk.backups.archive`), owner-only and renamed when whole, and -- in the backups
folder -- applies the rotation. :func:`verify_backup` opens a backup into a scratch database
and compares what it finds with the manifest. :func:`restore_backup` does the same checks
first (header, schema revision, kind of database, passphrase, checksum, integrity, row
counts), then keeps the database it replaces and puts the backup in its place; nothing is
touched until every check passed.

These functions sit below the faces and take a database URL, not a session: a backup is of
the whole database, not one transaction in it. The face checks who may run them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from ketadesk.backups import postgres, sqlite
from ketadesk.backups.archive import (
    SUFFIX,
    BackupError,
    Manifest,
    extract_payload,
    read_manifest,
    write_archive,
)
from ketadesk.backups.rotation import Keep, rotate, stamp
from ketadesk.backups.sqlite import Figures
from ketadesk.config import backup_settings, data_dir
from ketadesk.files import scratch_folder
from ketadesk.migrations import HEAD


@dataclass(frozen=True)
class BackupTaken:
    path: Path
    manifest: Manifest
    rotated_out: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Comparison:
    """One figure of a backup: what its manifest says and what a restored copy holds."""

    name: str
    expected: int
    found: int | None

    @property
    def matches(self) -> bool:
        return self.expected == self.found


@dataclass(frozen=True)
class Verified:
    manifest: Manifest
    figures: tuple[Comparison, ...]

    @property
    def matches(self) -> bool:
        return all(f.matches for f in self.figures)


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    kept: Path | None
    """Where the replaced database went (a file beside it, or a backup of it)."""


def source_kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"KetaDesk backs up SQLite files and PostgreSQL, not {backend}")
    return backend


def database_file(url: str) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:":
        raise BackupError("a database in memory cannot be backed up")
    return Path(name)


def stem_of(url: str) -> str:
    """The name a database's backups start with: its file's stem or its PostgreSQL name."""
    if source_kind(url) == "sqlite":
        return database_file(url).stem
    return str(make_url(url).database)


def folder_for(url: str, environ: Mapping[str, str] | None = None) -> Path:
    """Where ``url``'s backups go: the configured folder, else ``backups`` beside a SQLite
    file, else ``backups/<host>-<name>`` in the user data folder for PostgreSQL."""
    import os

    env = os.environ if environ is None else environ
    settings = backup_settings(env)
    if settings.folder is not None:
        return settings.folder
    if source_kind(url) == "sqlite":
        return database_file(url).parent / "backups"
    parsed = make_url(url)
    return data_dir(env) / "backups" / f"{parsed.host or 'local'}-{parsed.database}"


def _snapshot(url: str, target: Path) -> Figures:
    if source_kind(url) == "sqlite":
        path = database_file(url)
        if not path.exists():
            raise BackupError(f"there is no database at {path} to back up")
        return sqlite.snapshot(path, target)
    return postgres.snapshot(url, target)


def take_backup(
    url: str,
    *,
    now: datetime,
    out: Path | None = None,
    passphrase: str | None = None,
    kind: str = "manual",
    keep: Keep | None = None,
    environ: Mapping[str, str] | None = None,
) -> BackupTaken:
    """Back up the database at ``url`` to ``out`` (default: a new file in its backups
    folder, which is then rotated with ``keep``)."""
    folder = folder_for(url, environ)
    target = out if out is not None else _free_name(folder, stem_of(url), now, kind)
    with scratch_folder(target.parent) as scratch:
        payload = scratch / "payload"
        counted = _snapshot(url, payload)
        manifest = Manifest(
            schema=counted.schema,
            created_at=now.isoformat(),
            source=source_kind(url),
            database=stem_of(url),
            tables=counted.tables,
            ledger_cents=counted.ledger_cents,
            kind=kind,
        )
        written = write_archive(target, manifest, payload, passphrase)
    rotated: list[Path] = []
    if out is None:
        rotated = rotate(folder, stem_of(url), now, keep or _configured_keep(environ))
    return BackupTaken(target, written, tuple(rotated))


def rotate_configured(
    folder: Path, stem: str, now: datetime, environ: Mapping[str, str] | None = None
) -> list[Path]:
    """Rotate ``stem``'s backups in ``folder`` as configured (the migration step's way in)."""
    return rotate(folder, stem, now, _configured_keep(environ))


def _configured_keep(environ: Mapping[str, str] | None) -> Keep:
    import os

    daily, weekly, monthly = backup_settings(os.environ if environ is None else environ).keep
    return Keep(daily, weekly, monthly)


def _free_name(folder: Path, stem: str, now: datetime, kind: str) -> Path:
    base = f"{stem}-{stamp(now)}"
    target = folder / f"{base}-{kind}{SUFFIX}"
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{base}-{number}-{kind}{SUFFIX}"
    return target


def check_schema(manifest: Manifest, path: Path) -> None:
    """Refuse a backup whose schema this KetaDesk does not know (newer, or none at all)."""
    if manifest.schema is None:
        raise BackupError(f"{path} holds no KetaDesk schema revision; nothing was changed")
    if not manifest.schema.isdigit() or int(manifest.schema) > int(HEAD):
        raise BackupError(
            f"{path} was written by a newer KetaDesk (schema {manifest.schema}; this one "
            f"knows up to {HEAD}): upgrade KetaDesk before restoring it; nothing was changed"
        )


def _compare(manifest: Manifest, found: Figures) -> tuple[Comparison, ...]:
    names = sorted(set(manifest.tables) | set(found.tables))
    rows = [
        Comparison(n, manifest.tables.get(n, 0), found.tables.get(n) if n in found.tables else None)
        for n in names
    ]
    rows.append(Comparison("ledger total (cents)", manifest.ledger_cents, found.ledger_cents))
    return tuple(rows)


def _opened(
    path: Path,
    payload: Path,
    url: str | None,
    passphrase: str | None,
) -> tuple[Manifest, Figures]:
    """Extract and check the payload; the manifest and what the payload holds."""
    manifest = extract_payload(path, payload, passphrase)
    check_schema(manifest, path)
    if manifest.source == "sqlite":
        return manifest, sqlite.checked(payload)
    postgres.listed(payload)
    if url is None or source_kind(url) != "postgresql":
        raise BackupError(
            f"{path} is a PostgreSQL backup: name the server to check it on "
            "with --db postgresql://..."
        )
    return manifest, postgres.into_scratch(url, payload)


def verify_backup(path: Path, *, url: str | None = None, passphrase: str | None = None) -> Verified:
    """Open backup ``path`` into a scratch database and compare its figures with the
    manifest (a PostgreSQL backup needs a server: ``url``)."""
    read_manifest(path)
    with scratch_folder(path.resolve().parent) as scratch:
        manifest, found = _opened(path, scratch / "payload", url, passphrase)
    return Verified(manifest, _compare(manifest, found))


def restore_backup(
    path: Path,
    url: str,
    *,
    now: datetime,
    passphrase: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Restored:
    """Replace the database at ``url`` by backup ``path`` after every check passed.

    The database replaced is kept: a SQLite file as ``<name>-replaced-<stamp>.sqlite3``
    beside it, a PostgreSQL database as a backup in its backups folder.
    """
    manifest = read_manifest(path)
    check_schema(manifest, path)
    if manifest.source != source_kind(url):
        raise BackupError(
            f"{path} is a backup of a {manifest.source} database and cannot "
            f"be restored into {source_kind(url)}; nothing was changed"
        )
    near = database_file(url).parent if manifest.source == "sqlite" else folder_for(url, environ)
    with scratch_folder(near) as scratch:
        payload = scratch / "payload"
        manifest, found = _opened(path, payload, url, passphrase)
        mismatched = [c for c in _compare(manifest, found) if not c.matches]
        if mismatched:
            first = mismatched[0]
            raise BackupError(
                f"{path} does not hold what its manifest says ({first.name}: "
                f"{first.expected} expected, {first.found} found); "
                "nothing was changed"
            )
        if manifest.source == "sqlite":
            target = database_file(url)
            kept = target.with_name(f"{target.stem}-replaced-{stamp(now)}{target.suffix}")
            return Restored(manifest, sqlite.replace(target, payload, kept))
        before = take_backup(url, now=now, kind="before-restore", environ=environ)
        postgres.replace(url, payload)
        return Restored(manifest, before.path)
