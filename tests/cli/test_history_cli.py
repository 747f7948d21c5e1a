"""``ketadesk history`` and ``ketadesk necessity pdf`` on SQLite and PostgreSQL: recording,
showing with ``--json``, removing with a reason, and bad input refused in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import add_location, patient_raw
from cli.cli_helpers import runner
from pypdf import PdfReader

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database

ADMIN = Actor(username="ada", role=Role.ADMIN)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], database: Database) -> Any:
    run = runner(capsys)
    return lambda *argv: run(*argv, "--db", database.url)


@pytest.fixture
def mrn(database: Database) -> str:
    with database.transaction() as session:
        location = add_location(session)
        return create_patient(session, ADMIN, patient_raw(home_location=location.code)).mrn


def add(cli: Any, mrn: str, *extra: str) -> Any:
    return cli("history", "add", "--patient", mrn, "--kind", "antidepressant", *extra)


def test_add_show_and_remove(cli: Any, mrn: str) -> None:
    first = add(cli, mrn, "--treatment", "sertraline", "--dose", "150 mg", "--weeks", "8",
                "--response", "none", "--stopped", "no response", "--started", "2026-03")
    assert first.code == 0 and first.out.startswith("Recorded entry ")
    second = add(cli, mrn, "--treatment", "Wellbutrin XL", "--dose", "300 mg", "--weeks", "6",
                 "--response", "partial", "--json")
    shown = cli("history", "--patient", mrn, "--json").json()
    assert [e["treatment"] for e in shown["entries"]] == ["sertraline", "Wellbutrin XL"]
    first_entry = shown["entries"][0]
    assert first_entry["dose"] == "150 mg" and first_entry["started"] == "2026-03-01"
    assert shown["trd"]["met"] is True
    text = cli("history", "--patient", mrn).out
    assert "Treatment-resistant depression shown" in text and "Wellbutrin XL" in text
    entry = str(second.json()["entry"])
    removed = cli("history", "remove", "--patient", mrn, "--entry", entry, "--reason", "duplicate")
    assert removed.code == 0
    after = cli("history", "--patient", mrn, "--json").json()
    assert after["trd"]["met"] is False and len(after["entries"]) == 1


def test_an_earlier_episode_is_recorded_as_such(cli: Any, mrn: str) -> None:
    add(cli, mrn, "--treatment", "fluoxetine", "--dose", "40 mg", "--weeks", "12",
        "--response", "none", "--earlier-episode")
    [entry] = cli("history", "--patient", mrn, "--json").json()["entries"]
    assert entry["current_episode"] is False and "earlier episode" in entry["reason"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--dose", "150mg"), "--dose: '150mg' is not a dose; write the number, a space and"),
        (("--weeks", "abc"), "--weeks: 'abc' is not a number of weeks"),
        (("--response", "great"), "--response: 'great' is not a response"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    cli: Any, mrn: str, extra: tuple[str, ...], message: str
) -> None:
    refused = add(cli, mrn, "--treatment", "sertraline", *extra)
    assert refused.code == 2
    assert refused.err.startswith(f"ketadesk: error: {message}")
    assert refused.err.count("\n") == 1
    assert cli("history", "--patient", mrn, "--json").json()["entries"] == []


def test_an_unknown_kind_is_refused(cli: Any, mrn: str) -> None:
    refused = cli("history", "add", "--patient", mrn, "--kind", "pills", "--treatment", "x")
    assert refused.code == 2 and refused.err.count("\n") == 1
    assert "--kind: 'pills' is not a kind of treatment" in refused.err


def test_remove_needs_an_entry_of_this_patient(cli: Any, mrn: str) -> None:
    refused = cli("history", "remove", "--patient", mrn, "--entry", "x1", "--reason", "typo")
    assert refused.code == 2 and "--entry: 'x1' is not an entry number" in refused.err
    missing = cli("history", "remove", "--patient", mrn, "--entry", "99", "--reason", "typo")
    assert missing.code == 2 and "no treatment history entry 99" in missing.err


def test_necessity_pdf(cli: Any, mrn: str, tmp_path: Path) -> None:
    add(cli, mrn, "--treatment", "sertraline", "--dose", "150 mg", "--weeks", "8",
        "--response", "none")
    out = tmp_path / "letter.pdf"
    made = cli("necessity", "pdf", "--patient", mrn, "-o", str(out), "--json")
    assert made.code == 0 and made.json()["trd_met"] is False
    words = " ".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Letter of medical" in words and "sertraline" in words and "F33.2" in words


def test_show_needs_a_patient(cli: Any) -> None:
    refused = cli("history")
    assert refused.code == 2 and "--patient: say whose history" in refused.err
