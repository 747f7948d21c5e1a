"""``ketadesk side-effects`` on SQLite and PostgreSQL: list (text and --json), record,
correct, clear the review; bad input is one line, exit 2, and nothing changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from builders import at, scheduling_clinic
from cli.cli_helpers import Result, runner
from scheduling.side_effect_helpers import dosed_esketamine
from sqlalchemy import func, select

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.cli.common import Clock
from ketadesk.cli.side_effects import KINDS
from ketadesk.db import Database
from ketadesk.scheduling.side_effects.models import ReviewClearance, SideEffect, SideEffectKind

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
NOW = at("2026-12-07 09:40")  # 35 minutes after the dose


@dataclass
class Dosed:
    url: str
    db: Database
    mrn: str
    session: str  # "S-1"


@pytest.fixture
def dosed(database: Database) -> Dosed:
    with database.transaction() as session:
        clinic = scheduling_clinic(session, ADMIN)
        ts = dosed_esketamine(session, clinic)
        return Dosed(database.url, database, clinic.patient.mrn, ts.reference)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    return runner(capsys, clock=Clock(at=NOW))


def rows(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count(SideEffect.id))) or 0


def refused(result: Result, expected: str) -> None:
    assert result.code == 2, result.out + result.err
    assert result.err == f"ketadesk: error: {expected}\n"


def test_record_list_and_clear_a_serious_side_effect(cli: Any, dosed: Dosed) -> None:
    recorded = cli(
        "side-effects", "record", "--db", dosed.url, "--session", dosed.session,
        "--kind", "vomiting", "--severity", "severe", "--serious", "--onset", "25",
        "--action", "ondansetron 4 mg IV", "--json",
    )  # fmt: skip
    assert recorded.code == 0, recorded.err
    assert recorded.json()["words"] == "Vomiting (severe, serious)"
    shown = cli("side-effects", "--db", dosed.url, "--patient", dosed.mrn, "--json")
    data = shown.json()
    assert data["review_needed"].startswith("Provider review needed: Vomiting (severe, serious)")
    [line] = data["side_effects"]
    assert (line["kind"], line["minutes_after_dose"], line["action"]) == (
        "vomiting",
        25,
        "ondansetron 4 mg IV",
    )
    assert line["onset"] == "2026-12-07T09:30:00-05:00"
    with dosed.db.reading() as session:
        opened = session.scalars(
            select(AuditEntry.entity_id).where(
                AuditEntry.action == "view", AuditEntry.entity == "patient"
            )
        ).all()
        assert opened == [dosed.mrn]  # showing the side effects is reading the record
    text = cli("side-effects", "--db", dosed.url, "--patient", dosed.mrn).out
    assert "Provider review needed: Vomiting (severe, serious)" in text
    assert "+25 min" in text and "ondansetron 4 mg IV" in text
    cleared = cli(
        "side-effects", "clear", "--db", dosed.url, "--patient", dosed.mrn,
        "--note", "Seen; antiemetic before the next dose",
    )  # fmt: skip
    assert cleared.code == 0 and cleared.out.startswith(f"Review cleared for MRN {dosed.mrn}")
    after = cli("side-effects", "--db", dosed.url, "--patient", dosed.mrn, "--json").json()
    assert after["review_needed"] == ""
    assert after["clearances"][0]["note"] == "Seen; antiemetic before the next dose"


def test_a_correction_through_the_command(cli: Any, dosed: Dosed) -> None:
    base = ["side-effects", "record", "--db", dosed.url, "--session", dosed.session]
    first = cli(*base, "--kind", "nausea", "--severity", "mild", "--json").json()
    first_id = int(first["side_effect"].removeprefix("SE-"))
    second = cli(
        *base, "--kind", "nausea", "--severity", "moderate", "--corrects", first["side_effect"]
    )
    assert second.code == 0
    assert second.out.startswith(
        f"Recorded SE-{first_id + 1} in {dosed.session}: Nausea (moderate)"
    )
    assert f"(corrects {first['side_effect']})" in second.out
    shown = cli("side-effects", "--db", dosed.url, "--patient", dosed.mrn, "--json").json()
    assert [line["reference"] for line in shown["side_effects"]] == [f"SE-{first_id + 1}"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--kind", "itchy", "--severity", "mild"], "--kind: 'itchy' is not a side effect; use "),
        (
            ["--kind", "nausea", "--severity", "bad"],
            "--severity: 'bad' is not a severity; use mild, moderate or severe",
        ),
        (
            ["--kind", "nausea", "--severity", "mild", "--onset", "ten"],
            "--onset: 'ten' is not a number of minutes after the dose; write e.g. 20",
        ),
        (
            ["--kind", "nausea", "--severity", "mild", "--onset", "90"],
            "--onset: the onset cannot be later than now",
        ),
        (
            ["--kind", "other", "--severity", "mild"],
            "--detail: say in words what the other side effect was",
        ),
        (
            ["--kind", "nausea", "--severity", "mild", "--corrects", "SE-x"],
            "--corrects: 'SE-x' is not a side effect; write it as SE-12 or 12",
        ),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    cli: Any, dosed: Dosed, extra: list[str], expected: str
) -> None:
    result = cli("side-effects", "record", "--db", dosed.url, "--session", dosed.session, *extra)
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err.startswith(f"ketadesk: error: {expected}")
    assert result.err.count("\n") == 1
    assert rows(dosed.db) == 0


def test_refusals_name_what_to_do(cli: Any, dosed: Dosed) -> None:
    refused(
        cli("side-effects", "--db", dosed.url),
        "--patient: say whose side effects to show: --patient MRN",
    )
    refused(
        cli("side-effects", "record", "--db", dosed.url, "--session", "S-999", "--kind",
            "nausea", "--severity", "mild"),
        "there is no session S-999",
    )  # fmt: skip
    refused(
        cli("side-effects", "clear", "--db", dosed.url, "--patient", dosed.mrn, "--note", "ok"),
        "Zoë Łukasiewicz has no review to clear",
    )
    refused(
        cli("side-effects", "clear", "--db", dosed.url, "--patient", dosed.mrn, "--note", " "),
        "--note: write the provider's note clearing the review",
    )
    with dosed.db.reading() as session:
        assert session.scalar(select(func.count(ReviewClearance.id))) == 0


def test_the_help_names_every_kind() -> None:
    assert KINDS.split(", ") == [kind.value for kind in SideEffectKind]
