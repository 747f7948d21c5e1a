"""``ketadesk init`` writing the shipped protocols, and ``ketadesk protocol list``.

The commands run in-process through :func:`ketadesk.cli.main.main` on real SQLite files;
what they wrote is read back through the services.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from cli.cli_helpers import runner
from sqlalchemy import select

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import SEEDING, Actor, Role
from ketadesk.db import Database
from ketadesk.scheduling import protocol_editing
from ketadesk.scheduling.protocols import default_protocols, get_protocol

SHIPPED = list(default_protocols())
MANAGER = Actor(username="maria", role=Role.MANAGER)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """``cli("protocol", "list")`` runs main() and returns its status and output."""

    return runner(capsys)


@pytest.fixture
def clinic_db(cli: Any, tmp_path: Path) -> Path:
    """A database made by ``ketadesk init``, so it holds the shipped protocols."""
    path = tmp_path / "clinic.sqlite3"
    assert cli("init", "--db", str(path)).code == 0
    return path


def open_db(path: Path) -> Database:
    return Database(f"sqlite:///{path}")


# -- init -----------------------------------------------------------------------------------------


def test_init_writes_the_shipped_protocols_once(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite3"
    first = cli("init", "--db", str(path))
    assert first.code == 0
    assert first.out.splitlines()[-1] == (
        f"Added 6 shipped protocols ({', '.join(SHIPPED)}); edit them in Settings → Protocols."
    )
    again = cli("init", "--db", str(path), "--json")
    assert again.json()["protocols_added"] == []
    assert "protocol" not in cli("init", "--db", str(path)).out
    db = open_db(path)
    with db.reading() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.entity == "protocol")).all()
        assert len(rows) == 6
        assert {row.action for row in rows} == {"create"}
        assert all(row.actor == SEEDING for row in rows)  # init on a new database
    db.dispose()


def test_init_reports_the_protocols_it_added_in_json(cli: Any, tmp_path: Path) -> None:
    data = cli("init", "--db", str(tmp_path / "clinic.sqlite3"), "--json").json()
    assert data["created"] is True
    assert data["protocols_added"] == SHIPPED


def test_init_keeps_a_clinics_edits_of_the_protocols(cli: Any, clinic_db: Path) -> None:
    db = open_db(clinic_db)
    with db.transaction() as session:
        iv = get_protocol(session, "iv-induction")
        values = {**protocol_editing.protocol_values(iv), "treatment_minutes": "55"}
        protocol_editing.update_protocol(session, MANAGER, iv.id, values)
        kap = get_protocol(session, "kap")
        protocol_editing.set_protocol_active(session, MANAGER, kap.id, False)
    assert cli("init", "--db", str(clinic_db), "--json").json()["protocols_added"] == []
    with db.reading() as session:
        assert get_protocol(session, "iv-induction").treatment_minutes == 55
        assert get_protocol(session, "kap").active is False
    db.dispose()


# -- protocol list --------------------------------------------------------------------------------


def test_list_shows_each_active_protocol_as_a_row(cli: Any, clinic_db: Path) -> None:
    result = cli("protocol", "list", "--db", str(clinic_db))
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == [
        "Key",
        "Name",
        "Treatment",
        "Phase",
        "Sessions",
        "Spacing",
        "Chair",
        "time",
        "Services",
    ]
    esketamine = next(line for line in lines if line.startswith("esketamine-induction "))
    assert "Esketamine (Spravato) induction" in esketamine
    assert "2,2,2,2,1,1,1,1 a week, 48 h apart" in esketamine
    assert "15+120 min" in esketamine and esketamine.endswith("G2083, 99213")
    maintenance = next(line for line in lines if line.startswith("esketamine-maintenance "))
    assert "open-ended" in maintenance and "every 1 or 2 weeks, 48 h apart" in maintenance
    assert len(lines) == 2 + len(SHIPPED)


def test_list_leaves_inactive_protocols_out_unless_asked(cli: Any, clinic_db: Path) -> None:
    db = open_db(clinic_db)
    with db.transaction() as session:
        protocol_editing.set_protocol_active(
            session, MANAGER, get_protocol(session, "iv-booster").id, False
        )
    db.dispose()
    shown = cli("protocol", "list", "--db", str(clinic_db), "--json").json()
    assert "iv-booster" not in [p["key"] for p in shown]
    every = cli("protocol", "list", "--all", "--db", str(clinic_db))
    booster = next(line for line in every.out.splitlines() if line.startswith("iv-booster "))
    assert booster.endswith("inactive")
    assert every.out.splitlines()[0].endswith("Status")


def test_list_json_gives_every_field_a_script_needs(cli: Any, clinic_db: Path) -> None:
    data = cli("protocol", "list", "--db", str(clinic_db), "--json").json()
    assert sorted(p["key"] for p in data) == sorted(SHIPPED)
    iv = next(p for p in data if p["key"] == "iv-induction")
    assert iv == {
        "id": iv["id"],
        "key": "iv-induction",
        "name": "IV ketamine induction",
        "modality": "iv",
        "phase": "induction",
        "session_count": 6,
        "weekly_pattern": "3,3",
        "interval_weeks": "",
        "min_hours_between": 48,
        "max_gap_days": 7,
        "max_span_days": 21,
        "treatment_minutes": 40,
        "monitoring_minutes": 30,
        "fasting_food_hours": 6,
        "fasting_drink_minutes": 120,
        "services": "96365,96366,J3490",
        "description": default_protocols()["iv-induction"]["description"],
        "active": True,
        "chair_minutes": 70,
    }
    booster = next(p for p in data if p["key"] == "iv-booster")
    assert (booster["session_count"], booster["interval_weeks"]) == (None, "4,2,3,5,6")


def test_list_on_a_database_without_protocols_says_how_to_get_them(
    cli: Any, sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "bare.sqlite3"  # a copy: the command's administrator is linked in it
    shutil.copyfile(sqlite_template, path)
    result = cli("protocol", "list", "--db", str(path))
    assert (result.code, result.out) == (
        0,
        "No protocols yet; 'ketadesk init' adds the shipped ones.\n",
    )


def test_list_refuses_a_database_that_does_not_exist(cli: Any, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    result = cli("protocol", "list", "--db", str(missing))
    assert result.code == 2
    assert result.err == (
        f"ketadesk: error: there is no KetaDesk database at {missing}; "
        f"create it with: ketadesk init --db {missing}\n"
    )
