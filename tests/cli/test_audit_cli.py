"""``ketadesk audit``: the log filtered by patient, user and dates, as text and JSON; a
patient's accounting of disclosures as a PDF; ``audit verify`` naming a tampered row."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from builders import add_location, patient_raw
from cli.cli_helpers import runner
from pypdf import PdfReader

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.patients import create_patient, open_patient
from ketadesk.db import Database

ADMIN = Actor(username="ada", role=Role.ADMIN)
NINA = Actor(username="nina", role=Role.CLINICAL)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    return runner(capsys)


@pytest.fixture
def db(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(sqlite_template, path)
    monkeypatch.setenv("KETADESK_DB", str(path))
    database = Database(f"sqlite:///{path}")
    with database.transaction() as session:
        location = add_location(session)
        zoe = create_patient(session, ADMIN, patient_raw(home_location=location.code))
        other = create_patient(session, ADMIN, patient_raw(given_name="Omar"))
        open_patient(session, NINA, zoe.id)
        open_patient(session, NINA, other.id)
        audit.record_update(
            session, NINA, "patient", zoe.mrn, {"phone": "2125550100"}, {"phone": "2125550142"}
        )
    return database


def mrns(db: Database) -> list[str]:
    with db.reading() as session:
        lines = audit.search(session, ADMIN, audit.AuditFilter(entity="patient"), oldest_first=True)
    return list(dict.fromkeys(line.entity_id for line in lines))


def test_filters_by_patient_and_user_as_json(cli: Any, db: Database) -> None:
    zoe, omar = mrns(db)
    rows = cli("audit", "--patient", zoe, "--json").json()
    assert [(r["user"], r["action"], r["entity_id"]) for r in rows] == [
        ("nina", "update", zoe),
        ("nina", "view", zoe),
        ("ada", "create", zoe),
    ]
    assert rows[0]["before"] == {"phone": "2125550100"}
    assert rows[0]["after"] == {"phone": "2125550142"}
    assert rows[0]["text"] == f"nina changed patient {zoe} (phone)."
    by_nina = cli("audit", "--user", "nina", "--json").json()
    assert {r["entity_id"] for r in by_nina} == {zoe, omar}
    assert all(r["user"] == "nina" for r in by_nina)


def test_dates_bound_the_rows_and_text_lists_them(cli: Any, db: Database) -> None:
    assert cli("audit", "--from", "2000-01-01", "--to", "2000-01-31", "--json").json() == []
    today = cli("audit", "--from", "today", "--to", "today")
    assert today.code == 0
    assert "nina viewed patient" in today.out and "When (UTC)" in today.out
    assert (
        cli("audit", "--from", "2000-01-01", "--to", "2000-01-31").out == "No audit rows match.\n"
    )


def test_an_unknown_patient_is_refused_in_words(cli: Any, db: Database) -> None:
    result = cli("audit", "--patient", "999999")
    assert result.code == 2 and "--patient" in result.err


def test_the_accounting_of_disclosures_pdf(cli: Any, db: Database, tmp_path: Path) -> None:
    zoe, _ = mrns(db)
    out = tmp_path / "disclosures.pdf"
    result = cli("audit", "--patient", zoe, "--pdf", str(out))
    assert result.code == 0 and "3 entries" in result.out
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    words = " ".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Accounting of disclosures" in words and f"MRN {zoe}" in words
    assert f"nina viewed patient {zoe}." in words
    assert "2125550100 → 2125550142" in words
    assert "America/New_York" in words
    refused = cli("audit", "--pdf", str(tmp_path / "x.pdf"))
    assert refused.code == 2 and "--patient" in refused.err


def test_verify_passes_then_names_a_tampered_row(cli: Any, db: Database) -> None:
    good = cli("audit", "verify", "--json")
    assert good.code == 0 and good.json()["ok"] and good.json()["rows_checked"] == 5
    path = db.engine.url.database
    assert path is not None
    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER audit_entry_no_delete")
    raw.execute("DELETE FROM audit_entry WHERE id = 2")
    raw.commit()
    raw.close()
    bad = cli("audit", "verify")
    assert bad.code == 3
    assert bad.out == "Row 2 was deleted: row 3 no longer follows row 1.\n"
    data = cli("audit", "verify", "--json").json()
    assert (data["ok"], data["broken_row"], data["kind"]) == (False, 3, "deleted")
