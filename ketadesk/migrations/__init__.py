"""Alembic migrations, run at start-up by every face (window, CLI, demo).

:func:`upgrade` brings a database to the newest revision. Before it touches an existing
SQLite file it copies the file with SQLite's online backup API into ``backups/`` beside
it, so a failed migration never costs a clinic its data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ketadesk.db import Database, backup_sqlite, has_tables, sqlite_path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class MigrationResult:
    before: str | None
    after: str
    backup: Path | None


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    return config


def head() -> str:
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    if revision is None:
        raise RuntimeError("no migrations found")
    return revision


def current(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(db: Database) -> MigrationResult:
    """Migrate ``db`` to the newest revision, backing a SQLite file up first."""
    before, target = current(db), head()
    if before == target:
        return MigrationResult(before, target, None)
    backup = None
    path = sqlite_path(db.engine)
    if path is not None and path.exists() and has_tables(db.engine):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        backup = backup_sqlite(
            db.engine, path.parent / "backups" / f"{path.stem}-{stamp}-before-{target}.sqlite3"
        )
    config = _config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return MigrationResult(before, target, backup)


def open_database(url: str) -> Database:
    """Open the database at ``url`` and migrate it to the newest revision (start-up path)."""
    db = Database(url)
    upgrade(db)
    return db
