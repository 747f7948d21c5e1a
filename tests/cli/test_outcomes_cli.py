"""``ketadesk outcomes``: show, record, alerts, ack, measures and define, on SQLite and
PostgreSQL, with the clock stated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from builders import scheduling_clinic
from cli.cli_helpers import Result, runner
from scheduling.planning_helpers import existing_session
from sqlalchemy import func, select

from ketadesk.access.permissions import Actor, Role
from ketadesk.cli.common import Clock
from ketadesk.db import Database
from ketadesk.scheduling.models import SessionStatus
from ketadesk.scheduling.outcomes.models import OutcomeScore, SafetyAlert

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)  # noon in New York


@dataclass
class Clinic:
    url: str
    db: Database
    mrn: str
    first_session: int
    second_session: int


@pytest.fixture
def clinic(database: Database) -> Clinic:
    """The scheduling clinic with an IV induction: held on 11-30 and 12-03."""
    with database.transaction() as session:
        built = scheduling_clinic(session, ADMIN)
        made = []
        series = None
        for number, day in enumerate((date(2026, 11, 30), date(2026, 12, 3)), 1):
            start = datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)
            ts = existing_session(
                session,
                built.patient,
                built.protocols["iv-induction"],
                built.iv_chairs[0],
                built.provider,
                start,
                status=SessionStatus.COMPLETED,
                series=series,
                number=number,
                dosed_at=start + timedelta(minutes=10),
            )
            series = ts.series
            made.append(ts.id)
        mrn = built.patient.mrn
    return Clinic(database.url, database, mrn, made[0], made[1])


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    return runner(capsys, clock=Clock(at=NOW))


def _count(db: Database, model: type[Any]) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_record_and_show(cli: Any, clinic: Clinic) -> None:
    db = ("--db", clinic.url)
    base = cli("outcomes", "record", *db, "--patient", clinic.mrn, "--measure", "phq9",
               "--score", "20", "--on", "2026-11-27")  # fmt: skip
    assert base.code == 0, base.err
    assert base.out == f"Recorded phq9 20 for MRN {clinic.mrn}.\n"
    later = cli("outcomes", "record", *db, "--patient", clinic.mrn, "--measure", "PHQ9",
                "--items", "1,1,1,1,1,1,1,1,0", "--session", f"S-{clinic.second_session}",
                "--json")  # fmt: skip
    assert later.code == 0, later.err
    assert later.json()["total"] == 8 and later.json()["alert"] is None

    shown = cli("outcomes", *db, "--patient", clinic.mrn, "--json")
    assert shown.code == 0, shown.err
    (phq9,) = shown.json()["measures"]
    (series,) = phq9["series"]
    assert (series["baseline"], series["latest"], series["change"]) == (20, 8, -12)
    assert (series["change_ratio"], series["response"], series["remission"]) == (
        "-3/5",
        True,
        False,
    )
    assert phq9["scores"][0]["taken_at"] == "2026-11-27T17:00:00+00:00"  # noon in New York
    text = cli("outcomes", *db, "--patient", clinic.mrn)
    assert "-12 (-60%)" in text.out and "response, not in remission" in text.out
    assert "PHQ-9 (0–27, lower is better; remission under 5)" in text.out


def test_item_nine_alert_listed_and_acknowledged(cli: Any, clinic: Clinic) -> None:
    db = ("--db", clinic.url)
    made = cli("outcomes", "record", *db, "--patient", clinic.mrn, "--measure", "phq9",
               "--items", "2,2,2,2,1,1,2,1,1")  # fmt: skip
    assert made.code == 0, made.err
    assert "ALERT A-" in made.out
    listed = cli("outcomes", "alerts", *db, "--json")
    (alert,) = listed.json()
    assert (alert["mrn"], alert["item_9"], alert["phq9_total"]) == (clinic.mrn, 1, 14)
    shown = cli("outcomes", *db, "--patient", clinic.mrn)
    assert f"OPEN ALERT {alert['alert']}" in shown.out
    blank = cli("outcomes", "ack", *db, "--alert", alert["alert"], "--note", "  ")
    _expect_one_line(blank, "--note: say what was done about the alert")
    done = cli("outcomes", "ack", *db, "--alert", alert["alert"].lower(), "--note", "Called")
    assert done.code == 0 and done.out == f"Acknowledged {alert['alert']}.\n"
    assert cli("outcomes", "alerts", *db).out == "No open alerts.\n"
    again = cli("outcomes", "ack", *db, "--alert", alert["alert"], "--note", "Called")
    assert again.code == 2 and "already acknowledged" in again.err


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (("--measure", "phq9", "--score", "fourteen"), "--score: give a whole number"),
        (("--measure", "phq9", "--score", "30"), "--score: a PHQ-9 score is a whole number"),
        (("--measure", "phq9", "--score", "9", "--items", "1,1,1"), "--items: PHQ-9 has 9 items"),
        (("--measure", "phq9", "--items", "1;2"), "--items: give the item answers"),
        (("--measure", "hamd", "--score", "9"), "--measure: there is no measure 'hamd'"),
        (("--measure", "gad7",), "--score: give the GAD-7 total or its item answers"),
        (("--measure", "gad7", "--score", "9", "--on", "2026-12-25"), "--on: a score cannot"),
        (("--measure", "gad7", "--score", "9", "--session", "S-x"), "--session: give a number"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_changes_nothing(
    cli: Any, clinic: Clinic, words: tuple[str, ...], expected: str
) -> None:
    result = cli("outcomes", "record", "--db", clinic.url, "--patient", clinic.mrn, *words)
    assert result.code == 2, result.out
    assert result.err.startswith(f"ketadesk: error: {expected}")
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert _count(clinic.db, OutcomeScore) == 0 and _count(clinic.db, SafetyAlert) == 0


def test_show_needs_a_patient(cli: Any, clinic: Clinic) -> None:
    _expect_one_line(cli("outcomes", "--db", clinic.url), "give --patient MRN to show")
    _expect_one_line(
        cli("outcomes", "--db", clinic.url, "--patient", "999"), "--patient: no patient"
    )


def test_measures_listed_and_defined(cli: Any, clinic: Clinic) -> None:
    db = ("--db", clinic.url)
    keys = [m["key"] for m in cli("outcomes", "measures", *db, "--json").json()]
    assert keys == ["phq9", "gad7", "pcl5", "pain"]
    added = cli("outcomes", "define", *db, "--key", "wsas", "--name", "Work and social adjustment",
                "--max", "40", "--remission", "10")  # fmt: skip
    assert added.code == 0, added.err
    assert "wsas" in cli("outcomes", "measures", *db).out
    _expect_one_line(
        cli("outcomes", "define", *db, "--key", "wsas", "--name", "Again", "--max", "forty"),
        "--max: give a whole number",
    )


def _expect_one_line(result: Result, start: str) -> None:
    assert result.code == 2, result.out
    assert result.err.startswith(f"ketadesk: error: {start}"), result.err
    assert result.err.count("\n") == 1
