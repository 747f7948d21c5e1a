"""Migrations from an empty database, idempotence, and the backup taken before migrating."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from ketadesk import migrations
from ketadesk.db import Database
from ketadesk.migrations.models import Base


def test_migrating_an_empty_file_creates_every_table(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    result = migrations.upgrade(db)
    assert (result.before, result.after, result.backup) == (None, migrations.head(), None)
    tables = set(sa.inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert migrations.upgrade(db).before == migrations.head()  # second run does nothing


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    """Autogenerate against a migrated database finds nothing left to migrate."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = Database(f"sqlite:///{tmp_path / 'cmp.sqlite3'}")
    migrations.upgrade(db)
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_the_open_rems_index_is_partial_on_both_back_ends(database: Database) -> None:
    # The model names only SQLite's predicate (so the models load no PostgreSQL dialect);
    # the migration gives PostgreSQL the same one.
    query = {
        "sqlite": "SELECT sql FROM sqlite_master WHERE name = 'ix_session_rems_open'",
        "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_session_rems_open'",
    }[database.engine.dialect.name]
    with database.engine.connect() as connection:
        definition = connection.execute(sa.text(query)).scalar_one()
    assert "rems_form_filed_on IS NULL" in definition and "WHERE" in definition.upper()


def test_an_old_sqlite_file_is_backed_up_before_migrating(tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite3"
    with sqlite3.connect(path) as raw:  # a database from "before" KetaDesk's first revision
        raw.execute("CREATE TABLE legacy_note (id INTEGER PRIMARY KEY, body TEXT)")
        raw.execute("INSERT INTO legacy_note (body) VALUES ('keep me')")
    raw.close()
    result = migrations.upgrade(Database(f"sqlite:///{path}"))
    assert result.backup is not None and result.backup.parent == tmp_path / "backups"
    copy = sqlite3.connect(result.backup)
    assert copy.execute("SELECT body FROM legacy_note").fetchall() == [("keep me",)]
    assert copy.execute("SELECT count(*) FROM sqlite_master WHERE name = 'patient'").fetchone() == (
        0,
    )
    copy.close()


@pytest.mark.postgres
def test_postgresql_database_is_at_head(pg_template: str) -> None:
    from conftest import _pg_url

    db = Database(_pg_url(pg_template))
    assert migrations.current(db) == migrations.head()
    db.dispose()


def test_pinned_head_matches_the_scripts() -> None:
    assert migrations.head() == migrations.HEAD


def test_start_up_on_a_current_database_does_not_load_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'current.sqlite3'}"
    migrations.upgrade(Database(url))
    script = (
        "import sys\n"
        "from ketadesk.migrations import open_database\n"
        f"open_database({url!r})\n"
        "print('alembic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
