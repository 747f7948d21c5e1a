"""``ketadesk intake``: show, record, override and the rules, in text and JSON, on SQLite and
PostgreSQL; bad input is one line and exit 2, and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from builders import scheduling_clinic
from cli.cli_helpers import Result, clock_on, runner
from sqlalchemy import func, select

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.intake.models import IntakeAssessment
from ketadesk.db import Database

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
TODAY = date(2026, 12, 7)


@dataclass
class Clinic:
    db: Database
    mrn: str
    npi: str


@pytest.fixture
def clinic(database: Database) -> Clinic:
    with database.transaction() as session:
        made = scheduling_clinic(session, ADMIN)
        return Clinic(database, made.patient.mrn, made.provider.npi)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], clinic: Clinic) -> Any:
    run = runner(capsys, clock=clock_on(TODAY))
    return lambda *argv: run(*argv, "--db", clinic.db.url)


def expect_one_error(result: Result, expected: str) -> None:
    assert result.code == 2, result.out + result.err
    assert result.err.count("\n") == 1 and expected in result.err
    assert "Traceback" not in result.err


def intakes(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(IntakeAssessment)) or 0


def record(cli: Any, clinic: Clinic, *extra: str) -> Result:
    return cli(
        "intake",
        "record",
        "--patient",
        clinic.mrn,
        "--provider",
        clinic.npi,
        "--on",
        "today",
        "--bp",
        "128/82",
        "--heart-rate",
        "72",
        "--weight",
        "80.5",
        *extra,
    )


def test_show_without_an_intake_says_so(cli: Any, clinic: Clinic) -> None:
    result = cli("intake", "--patient", clinic.mrn)
    assert result.code == 0 and "No intake on record" in result.out
    data = cli("intake", "--patient", clinic.mrn, "--json").json()
    assert data["state"]["status"] == "missing" and data["current"] is None


def test_record_then_show_in_text_and_json(cli: Any, clinic: Clinic) -> None:
    result = record(
        cli,
        clinic,
        "--finding",
        "liver_disease:ALT twice normal",
        "--finding",
        "pregnancy",
        "--medication",
        "Lorazepam 1 mg",
        "--medication",
        "Sertraline 100 mg",
    )
    assert result.code == 0, result.err
    assert "Intake valid until 06 Dec 2027" in result.out
    assert "Liver disease" in result.out and "needed before dosing" in result.out
    data = cli("intake", "--patient", clinic.mrn, "--json").json()
    current = data["current"]
    assert current["vitals"] == {
        "systolic": 128,
        "diastolic": 82,
        "heart_rate": 72,
        "weight_kg": "80.5",
    }
    findings = {f["key"]: f for f in current["findings"]}
    assert findings["pregnancy"]["rule"] == "absolute" and findings["pregnancy"]["blocks_dosing"]
    assert findings["liver_disease"]["details"] == "ALT twice normal"
    assert findings["benzodiazepine"]["kind"] == "interaction"
    assert current["medications"][0] == {
        "name": "Lorazepam",
        "dose": "1 mg",
        "interactions": ["Benzodiazepine"],
    }
    assert data["state"]["valid_until"] == "2027-12-06"


def test_override_with_json(cli: Any, clinic: Clinic) -> None:
    record(cli, clinic, "--finding", "pregnancy")
    result = cli(
        "intake",
        "override",
        "--patient",
        clinic.mrn,
        "--finding",
        "pregnancy",
        "--provider",
        clinic.npi,
        "--reason",
        "negative test today",
        "--json",
    )
    assert result.code == 0, result.err
    finding = result.json()["current"]["findings"][0]
    assert finding["override"]["reason"] == "negative test today"
    assert not finding["blocks_dosing"]


def test_rules_show_set_and_period(cli: Any, clinic: Clinic) -> None:
    rules = cli("intake", "rules", "--json").json()
    assert rules["valid_months"] == 12
    liver = next(r for r in rules["rules"] if r["key"] == "liver_disease")
    assert liver["rule"] == "relative" and liver["source"]
    assert cli("intake", "rules", "set", "liver_disease", "absolute").code == 0
    assert "absolute*" in cli("intake", "rules").out
    assert cli("intake", "rules", "period", "6").code == 0
    assert cli("intake", "rules", "--json").json()["valid_months"] == 6


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (("--bp", "128-82"), "--bp: '128-82' is not a blood pressure"),
        (("--finding", "gout"), "--finding: 'gout' is not a screening rule"),
        (("--finding", "benzodiazepine"), "is not a condition the intake asks about"),
        (("--weight", "heavy"), "--weight: heavy is not a weight"),
        (("--heart-rate", "700"), "--heart-rate: '700' is not a reading from 20 to 250"),
        (("--on", "2027-01-01"), "--on: 01 Jan 2027 is in the future"),
        (("--provider", "1234567890"), "--provider:"),
        (("--medication", "20 mg"), "--medication: '20 mg' has no medication name"),
    ],
)
def test_bad_record_input_is_one_line_and_changes_nothing(
    cli: Any, clinic: Clinic, extra: tuple[str, ...], expected: str
) -> None:
    expect_one_error(record(cli, clinic, *extra), expected)
    assert intakes(clinic.db) == 0


def test_other_bad_input(cli: Any, clinic: Clinic) -> None:
    expect_one_error(cli("intake"), "--patient: say whose intake to show")
    expect_one_error(cli("intake", "--patient", "999999"), "--patient: no patient with MRN 999999")
    expect_one_error(
        cli("intake", "rules", "set", "liver_disease", "maybe"), "RULE: 'maybe' is not a rule"
    )
    expect_one_error(cli("intake", "rules", "period", "0"), "MONTHS: '0' is not a number of months")
    expect_one_error(
        cli(
            "intake",
            "override",
            "--patient",
            clinic.mrn,
            "--finding",
            "pregnancy",
            "--provider",
            clinic.npi,
            "--reason",
            "x",
        ),
        "has no intake on record",
    )
