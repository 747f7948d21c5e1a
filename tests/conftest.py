"""Fixtures shared by every test: real SQLite files and a real PostgreSQL server.

``session`` and ``database`` are parametrised over both back ends, so one test body runs on
each. SQLite tests get a private copy of a database migrated once per run. PostgreSQL tests
run inside an outer transaction rolled back at teardown (``session``) or on a private
database cloned from a migrated template (``database``, for code that opens its own
transactions). Without a reachable server PostgreSQL tests skip and say why — except under
``CI=true``, where they fail, because CI must exercise PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No daily backups behind the tests' backs: tests/test_backups.py turns them on where tested.
os.environ["KETADESK_BACKUP_DAILY"] = "off"

from ketadesk import migrations
from ketadesk.access.permissions import Actor, Role
from ketadesk.db import Database

PG_ADMIN_URL = os.environ.get(
    "KETADESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(autouse=True)
def _private_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test may touch the real user data directory or the developer's KETADESK_DB."""
    monkeypatch.setenv("KETADESK_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    monkeypatch.delenv("KETADESK_DB", raising=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    migrations.upgrade(db)
    db.dispose()
    return path


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A private migrated SQLite file, for tests about SQLite itself or heavy GUI tests."""
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


def _pg_admin() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database for this run; dropped at the end."""
    admin = _pg_admin()
    try:
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        reason = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {error.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI must run the PostgreSQL tests)")
        pytest.skip(reason)
    name = f"ketadesk_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = Database(_pg_url(name))
    migrations.upgrade(db)
    db.dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A private, migrated database that code under test may open transactions on."""
    if request.param == "sqlite":
        path = tmp_path / "clinic.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        db = Database(f"sqlite:///{path}")
        yield db
        db.dispose()
        return
    template = request.getfixturevalue("pg_template")
    name = f"{template}_{uuid.uuid4().hex[:6]}"
    admin = _pg_admin()
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    db = Database(_pg_url(name))
    yield db
    db.dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    """A session whose work disappears after the test, on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "clinic.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        db = Database(f"sqlite:///{path}")
        with db.transaction() as s:
            yield s
            s.rollback()
        db.dispose()
        return
    engine = sa.create_engine(_pg_url(request.getfixturevalue("pg_template")))
    with engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
            yield s
        outer.rollback()
    engine.dispose()


@pytest.fixture
def admin() -> Actor:
    return Actor(username="test-admin", role=Role.ADMIN)


@pytest.fixture
def front_desk() -> Actor:
    return Actor(username="test-front", role=Role.FRONT_DESK)
