"""Alembic migrations, run at start-up by every face (window, CLI, demo).

:func:`upgrade` brings a database to the newest revision. Before it touches an existing
SQLite file it copies the file with SQLite's online backup API into its backups folder
(``backups/`` beside it unless configured), so a failed migration never costs a clinic its
data; those copies are rotated as the daily backups are (:mod:`ketadesk.backups.rotation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ketadesk.db import Database, backup_sqlite, has_tables, sqlite_path

if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).resolve().parent
# The newest revision, pinned so that start-up on a current database need not import
# Alembic (a quarter of a second); tests/test_migrations.py keeps it equal to the scripts'.
HEAD = "0013"


@dataclass(frozen=True)
class MigrationResult:
    before: str | None
    after: str
    backup: Path | None


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    return config


def head() -> str:
    """The newest revision according to the migration scripts themselves."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(_config()).get_current_head()
    if revision is None:
        raise RuntimeError("no migrations found")
    return revision


def current(db: Database) -> str | None:
    """The revision the database is at, or ``None`` for a database never migrated."""
    with db.engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            return None


def upgrade(db: Database) -> MigrationResult:
    """Migrate ``db`` to the newest revision, backing a SQLite file up first."""
    before = current(db)
    if before == HEAD:
        return MigrationResult(before, HEAD, None)
    from alembic import command

    target = head()
    backup = None
    path = sqlite_path(db.engine)
    if path is not None and path.exists() and has_tables(db.engine):
        from ketadesk.backups.backup import folder_for, rotate_configured

        now = datetime.now(UTC)
        folder = folder_for(db.url)
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        backup = backup_sqlite(db.engine, folder / f"{path.stem}-{stamp}-before-{target}.sqlite3")
        rotate_configured(folder, path.stem, now)  # the copies of retried migrations too
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
