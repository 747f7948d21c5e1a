"""``ketadesk demo-data`` never mixes the demo with a clinic's real data, on every path.

Each path the command can take: no ``--db`` after ``ketadesk init`` (the demo clinic's own
file, never the clinic's), ``--db`` naming the clinic's own database (refused), ``--db``
naming a database with clinic records (refused, nothing written), ``--db`` naming a fresh
database (random passwords, shown once), and the demo clinic's own file (the published
password, as ``ketadesk --demo`` logs in with). Every "nothing changed" is checked by
reading back every row of every table.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from builders import add_payer
from cli.cli_helpers import Result, runner
from sqlalchemy import select

from ketadesk import config
from ketadesk.access.models import User
from ketadesk.access.users import authenticate
from ketadesk.db import Base, Database
from ketadesk.demo import DEMO_PASSWORD, DEMO_USER, DEMO_USERS, clinic_records, demo_target
from ketadesk.demo.generator import CLINIC_RECORDS, Accounts
from ketadesk.errors import AuthenticationFailed, Conflict

PASSWORD = "correct-horse-battery"
SMALL = ("--patients", "12", "--years", "1", "--locations", "1", "--seed", "3")
Rows = dict[str, list[Any]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    return runner(capsys)


@pytest.fixture
def admin_password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KETADESK_ADMIN_PASSWORD", PASSWORD)
    return PASSWORD


@contextmanager
def _open(url: str) -> Iterator[Database]:
    db = Database(url)
    try:
        yield db
    finally:
        db.dispose()


def _rows(url: str) -> Rows:
    """Every row of every table, to show that nothing at all changed."""
    with _open(url) as db, db.reading() as s:
        return {
            name: [tuple(row) for row in s.execute(
                select(table).order_by(*table.primary_key.columns)).all()]
            for name, table in Base.metadata.tables.items()
        }


def _logs_in(url: str, username: str, password: str) -> bool:
    with _open(url) as db, db.transaction() as s:
        try:
            authenticate(s, username, password)
        except AuthenticationFailed:
            return False
        return True


def _patients(url: str) -> int:
    with _open(url) as db, db.reading() as s:
        return clinic_records(s).get("patients", 0)


def _refused(result: Result, *words: str) -> None:
    assert result.code == 2
    assert result.err.startswith("ketadesk: error: ") and result.err.count("\n") == 1
    assert "Traceback" not in result.out + result.err
    for word in words:
        assert word in result.err


def test_without_db_the_demo_goes_to_its_own_file_never_the_clinics(
    cli: Any, admin_password: str
) -> None:
    # The steps: a clinic set up in the default place, then demo-data alone.
    assert cli("init", "--admin", "alice").code == 0
    clinic = config.database_url(None)
    before = _rows(clinic)
    result = cli("demo-data", *SMALL, "--json")
    assert result.code == 0, result.err
    assert result.json()["patients"] == 12 and "accounts" not in result.json()
    demo = config.demo_database_url()
    assert result.err.startswith(f"Generated the demo clinic into {demo.removeprefix('sqlite:///')}")
    assert _rows(clinic) == before  # not one row more in the clinic's database
    assert _patients(demo) == 12
    # The published password works in the demo's own file, and only there.
    assert _logs_in(demo, DEMO_USER, DEMO_PASSWORD)
    assert not _logs_in(clinic, DEMO_USER, DEMO_PASSWORD)
    assert _logs_in(clinic, "alice", admin_password)


def test_without_db_ketadesk_db_is_not_used_either(
    cli: Any, admin_password: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic_file = tmp_path / "clinic.sqlite3"
    monkeypatch.setenv("KETADESK_DB", str(clinic_file))
    assert cli("init", "--admin", "alice").code == 0
    before = _rows(config.database_url(None))
    assert cli("demo-data", *SMALL).code == 0
    assert _rows(config.database_url(None)) == before
    assert _patients(config.demo_database_url()) == 12


def test_db_naming_the_clinics_own_database_is_refused(
    cli: Any, admin_password: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("init", "--admin", "alice").code == 0
    default = config.database_url(None)
    default_path = default.removeprefix("sqlite:///")
    before = _rows(default)
    _refused(cli("demo-data", "--db", default_path, *SMALL), "the clinic's own database")
    # The same file written another way is the same database.
    roundabout = str(Path(default_path).parent / ".." / Path(default_path).parent.name
                     / Path(default_path).name)
    _refused(cli("demo-data", "--db", roundabout, *SMALL), "the clinic's own database")
    assert _rows(default) == before
    # $KETADESK_DB names the clinic's database too.
    configured = tmp_path / "configured.sqlite3"
    monkeypatch.setenv("KETADESK_DB", str(configured))
    assert cli("init").code == 0
    before = _rows(config.database_url(None))
    _refused(cli("demo-data", "--db", str(configured), *SMALL), "the clinic's own database")
    assert _rows(config.database_url(None)) == before
    assert not Path(config.demo_database_url().removeprefix("sqlite:///")).exists()


def test_a_database_with_clinic_records_is_refused_and_left_as_it_was(
    cli: Any, sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "real.sqlite3"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    with _open(url) as db, db.transaction() as s:
        add_payer(s)  # a clinic that has only just entered its first payer
    before = _rows(url)
    _refused(cli("demo-data", "--db", str(path), *SMALL), f"{path} already holds 1 payer;",
             "nothing but what 'ketadesk init' made")
    assert _rows(url) == before


@pytest.mark.slow
def test_sessions_and_money_count_as_clinic_records(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "filled.sqlite3"
    assert cli("demo-data", "--db", str(path), "--patients", "40", *SMALL[2:]).code == 0
    url = f"sqlite:///{path}"
    with _open(url) as db, db.reading() as s:
        held = clinic_records(s)
    assert {"patients", "series", "sessions", "charges", "ledger entries",
            "invoices"} <= set(held)
    assert set(held) <= {many for _one, many, _model in CLINIC_RECORDS}
    before = _rows(url)
    result = cli("demo-data", "--db", str(path), *SMALL)
    _refused(result, "sessions", "ledger entries", "invoices")
    assert _rows(url) == before


def test_a_freshly_initialised_database_gets_random_passwords_shown_once(
    cli: Any, admin_password: str, tmp_path: Path
) -> None:
    path = tmp_path / "fresh.sqlite3"
    assert cli("init", "--db", str(path), "--admin", "alice").code == 0
    result = cli("demo-data", "--db", str(path), *SMALL)
    assert result.code == 0, result.err
    assert "random passwords shown only this once" in result.out
    url = f"sqlite:///{path}"
    with _open(url) as db, db.reading() as s:
        users = set(s.scalars(select(User.username)))
    assert users == {"alice"} | {name for name, _, _ in DEMO_USERS}
    shown = {
        line.split()[0]: line.split()[1]
        for line in result.out.split("shown only this once:\n", 1)[1].splitlines()
    }
    assert set(shown) == {name for name, _, _ in DEMO_USERS}
    assert DEMO_PASSWORD not in shown.values()
    assert _logs_in(url, DEMO_USER, shown[DEMO_USER])
    assert not _logs_in(url, DEMO_USER, DEMO_PASSWORD)
    assert not _logs_in(url, "admin", DEMO_PASSWORD)
    assert _logs_in(url, "alice", admin_password)


def test_a_fresh_database_on_either_back_end_never_gets_the_published_password(
    cli: Any, database: Database
) -> None:
    result = cli("demo-data", "--db", database.url, *SMALL, "--json")
    assert result.code == 0, result.err
    accounts = result.json()["accounts"]
    assert [a["username"] for a in accounts] == [name for name, _, _ in DEMO_USERS]
    assert all(len(a["password"]) >= 16 and a["password"] != DEMO_PASSWORD for a in accounts)
    assert not _logs_in(database.url, DEMO_USER, DEMO_PASSWORD)


def test_the_demo_clinics_own_file_uses_the_published_password_and_is_filled_once(
    cli: Any,
) -> None:
    demo_path = config.demo_database_url().removeprefix("sqlite:///")
    result = cli("demo-data", "--db", demo_path, *SMALL, "--json")
    assert result.code == 0, result.err
    assert "accounts" not in result.json()
    assert _logs_in(config.demo_database_url(), DEMO_USER, DEMO_PASSWORD)
    before = _rows(config.demo_database_url())
    _refused(cli("demo-data", *SMALL), "already holds 1 location, ", "12 patients",
             "open it with: ketadesk --demo")
    assert _rows(config.demo_database_url()) == before


def test_demo_target_decides_the_database_and_the_passwords(tmp_path: Path) -> None:
    env = {"KETADESK_DATA_DIR": str(tmp_path / "data"), "KETADESK_DB": str(tmp_path / "c.db")}
    demo = config.demo_database_url(env)
    assert demo_target(None, env).url == demo
    assert demo_target(None, env).accounts is Accounts.PUBLIC
    assert demo_target(demo.removeprefix("sqlite:///"), env).accounts is Accounts.PUBLIC
    elsewhere = demo_target(str(tmp_path / "other.sqlite3"), env)
    assert elsewhere.accounts is Accounts.RANDOM and not elsewhere.demo_file
    pg = demo_target("postgresql://demo@127.0.0.1/demo", env)
    assert pg.accounts is Accounts.RANDOM
    for clinic in (str(tmp_path / "c.db"), str(tmp_path / "data" / "ketadesk.sqlite3")):
        with pytest.raises(Conflict, match="the clinic's own database"):
            demo_target(clinic, env)
    with pytest.raises(Conflict):
        demo_target("postgresql://clinic:secret@db/ketadesk",
                    {**env, "KETADESK_DB": "postgres://clinic@db/ketadesk"})
