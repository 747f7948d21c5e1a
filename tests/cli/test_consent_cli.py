"""``ketadesk consent``: show, record, withdraw, print the form, list and edit the texts;
``--json``; bad input as one line and exit 2. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from builders import scheduling_clinic
from cli.cli_helpers import clock_on, runner
from clinic.consent_helpers import unconsented
from pypdf import PdfReader

from ketadesk.db import Database


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    return runner(capsys, clock=clock_on(date(2026, 12, 7)))


@pytest.fixture
def clinic(database: Database) -> dict[str, str]:
    """The test clinic (its patient signed everything) and a patient who signed nothing."""
    with database.transaction() as session:
        built = scheduling_clinic(session)
        other = unconsented(session)
        return {"db": database.url, "signed": built.patient.mrn, "unsigned": other.mrn}


def test_show_lists_each_treatment(cli: Any, clinic: dict[str, str]) -> None:
    shown = cli("consent", "--patient", clinic["unsigned"], "--db", clinic["db"])
    assert shown.code == 0
    iv_line = next(line for line in shown.out.splitlines() if line.startswith("iv_ketamine"))
    assert "IV ketamine" in iv_line and iv_line.endswith("missing")
    data = cli("consent", "--patient", clinic["signed"], "--json", "--db", clinic["db"]).json()
    assert data["on"] == "2026-12-07"
    states = {row["treatment"]: row for row in data["consents"]}
    assert set(states) == {"iv_ketamine", "im_ketamine", "esketamine", "kap", "rems_enrolment"}
    assert states["kap"]["status"] == "valid" and states["kap"]["valid_until"] is None


def test_record_then_show_valid_until(cli: Any, clinic: dict[str, str]) -> None:
    recorded = cli(
        "consent", "record", "--patient", clinic["unsigned"], "--treatment", "IV-ketamine",
        "--signed", "today", "--signer", "Lan Ng", "--guardian", "mother",
        "--witness", "Kim Park", "--json", "--db", clinic["db"],
    )
    assert recorded.code == 0, recorded.err
    assert recorded.json()["guardian"] == "mother" and recorded.json()["version"] == 2
    shown = cli("consent", "--patient", clinic["unsigned"], "--db", clinic["db"])
    assert "valid until withdrawn" in shown.out  # the test clinic's open-ended texts


def test_withdraw_then_show_withdrawn(cli: Any, clinic: dict[str, str]) -> None:
    done = cli("consent", "withdraw", "--patient", clinic["signed"], "--treatment", "kap",
               "--db", clinic["db"])
    assert done.code == 0 and "check-in for that treatment is refused" in done.out
    data = cli("consent", "--patient", clinic["signed"], "--json", "--db", clinic["db"]).json()
    kap = next(row for row in data["consents"] if row["treatment"] == "kap")
    assert kap["status"] == "withdrawn"


def test_a_material_edit_asks_for_signing_again(
    cli: Any, clinic: dict[str, str], tmp_path: Path
) -> None:
    new_text = tmp_path / "kap.txt"
    new_text.write_text("What the treatment is\nKetamine with therapy, in new words.\n",
                        encoding="utf-8")
    edited = cli("consent", "texts", "edit", "kap", "--file", str(new_text), "--material",
                 "--valid-months", "6", "--json", "--db", clinic["db"])
    assert edited.code == 0, edited.err
    assert (edited.json()["version"], edited.json()["valid_months"]) == (3, 6)
    listed = cli("consent", "texts", "--json", "--db", clinic["db"]).json()
    assert [(t["version"], t["material"]) for t in listed if t["treatment"] == "kap"] == [
        (1, True), (2, False), (3, True)]
    assert [t["shipped"] for t in listed if t["treatment"] == "kap"] == [True, True, False]
    plain = cli("consent", "texts", "--db", clinic["db"]).out
    assert "the start" in plain and "2000" not in plain  # the shipped day is nobody's choice
    shown = cli("consent", "--patient", clinic["signed"], "--db", clinic["db"])
    assert "needs re-signing for version 3" in shown.out


def test_the_pdf_for_a_named_treatment(
    cli: Any, clinic: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "form.pdf"
    made = cli("consent", "pdf", "--patient", clinic["signed"], "--treatment", "esketamine",
               "-o", str(out), "--db", clinic["db"])
    assert made.code == 0, made.err
    text = " ".join(page.extract_text() for page in PdfReader(out).pages)
    assert "esketamine nasal spray" in " ".join(text.split())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("consent",), "--patient: say whose consents: --patient MRN"),
        (("consent", "--patient", "999999"), "--patient: no patient with MRN 999999"),
        (("consent", "record", "--patient", "{unsigned}", "--treatment", "ketamine",
          "--signed", "today", "--signer", "A", "--witness", "B"), "not a consent treatment"),
        (("consent", "record", "--patient", "{unsigned}", "--treatment", "kap",
          "--signed", "2026-13-40", "--signer", "A", "--witness", "B"), "--signed:"),
        (("consent", "record", "--patient", "{unsigned}", "--treatment", "kap",
          "--signed", "tomorrow", "--signer", "A", "--witness", " "),
         "--signed: 08 Dec 2026 is after today"),
        (("consent", "withdraw", "--patient", "{unsigned}", "--treatment", "kap"),
         "has no Ketamine-assisted psychotherapy consent to withdraw"),
        (("consent", "pdf", "--patient", "{unsigned}", "-o", "{tmp}/x.pdf"),
         "--treatment: 100002 has no planned or active series"),
        (("consent", "texts", "edit", "kap", "--file", "{tmp}/missing.txt"),
         "--file: cannot read"),
        (("consent", "texts", "edit", "kap", "--file", "{tmp}/ok.txt", "--valid-months", "x"),
         "--valid-months: 'x' is not a number of months"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    cli: Any, clinic: dict[str, str], tmp_path: Path, argv: tuple[str, ...], message: str
) -> None:
    (tmp_path / "ok.txt").write_text("Words.", encoding="utf-8")
    words = [a.format(unsigned=clinic["unsigned"], tmp=tmp_path) for a in argv]
    result = cli(*words, "--db", clinic["db"])
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert message in result.err
    assert not (tmp_path / "x.pdf").exists()
