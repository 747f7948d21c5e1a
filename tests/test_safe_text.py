"""Free text never carries control characters: the database refuses them in words, the
command line never replays them raw, names never start a spreadsheet formula, and every CSV
the program writes goes through the one formula-guarded writer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from billing.billing_helpers import ADMIN, billing_clinic
from builders import patient_raw
from cli.cli_helpers import runner
from sqlalchemy import func, select

from ketadesk.billing import payments
from ketadesk.billing.models import LedgerEntry
from ketadesk.clinic import patients
from ketadesk.clinic.models import Patient
from ketadesk.db import Database
from ketadesk.errors import ValidationError
from ketadesk.safe_text import first_unsafe, scrub

PACKAGE = Path(__file__).resolve().parent.parent / "ketadesk"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("ref \x1b[2J", "\x1b"),
        ("NUL\x00", "\x00"),
        ("C1 \x9b31m", "\x9b"),
        ("gnp\u202eexe", "\u202e"),
        ("zero\u200bwidth", "\u200b"),
        ("\ufeffBOM", "\ufeff"),
    ],
)
def test_control_and_invisible_characters_are_found(text: str, found: str) -> None:
    assert first_unsafe(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "tab\tand\nlines\r\n",
        "Zoë Łukasiewicz",
        "محمد",
        "می\u200cخواهم",
        "李小龍",
        "O'Brien-Smith 😀",
    ],
)
def test_ordinary_text_of_any_script_passes(text: str) -> None:
    assert first_unsafe(text) is None
    assert scrub(text) == text


def test_scrub_shows_what_was_there_as_escapes() -> None:
    assert scrub("ref \x1b[31mred\x07") == "ref \\x1b[31mred\\x07"
    assert scrub("a\u202eb\x85") == "a\\u202eb\\u0085"
    assert scrub("50%\r[####    ]") == "50%\r[####    ]"


def test_the_database_refuses_a_payment_reference_holding_an_escape(database: Database) -> None:
    with database.transaction() as session:
        clinic = billing_clinic(session)
        patient_id = clinic.patient.id
    with database.reading() as session:
        before = session.scalar(select(func.count()).select_from(LedgerEntry))

    with pytest.raises(ValidationError) as refused, database.transaction() as session:
        payments.take_payment(
            session, ADMIN, patient_id=patient_id, amount="20.00", method="cash",
            on=_today(),
            reference="\x1b[2J\x1b[H", note="paid at the desk",
        )  # fmt: skip

    assert refused.value.for_field("reference") == [
        "contains the invisible control character U+001B (ESC); type it again without it "
        "(letters, digits, spaces, punctuation and line breaks are fine)"
    ]
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == before


def test_line_breaks_and_tabs_in_a_note_are_kept(database: Database) -> None:
    with database.transaction() as session:
        clinic = billing_clinic(session)
        result = payments.take_payment(
            session, ADMIN, patient_id=clinic.patient.id, amount="20.00", method="cash",
            on=_today(), reference="chk 1042", note="first line\n\tsecond line",
        )  # fmt: skip
        entry = session.get(LedgerEntry, result.entry_id)
        assert entry is not None and entry.note == "first line\n\tsecond line"


def test_a_name_that_starts_a_formula_is_refused_in_words(database: Database) -> None:
    raw = patient_raw(family_name='=HYPERLINK("http://x.example","click")')
    with pytest.raises(ValidationError) as refused, database.transaction() as session:
        patients.create_patient(session, ADMIN, raw)
    (message,) = refused.value.for_field("family_name")
    assert "starts with '=', which a spreadsheet reads as a formula" in message
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0


def test_a_patient_note_with_a_direction_override_is_refused_beside_the_field(
    database: Database,
) -> None:
    raw = patient_raw(notes="allergic to \u202etnelav")
    with pytest.raises(ValidationError) as refused, database.transaction() as session:
        patients.create_patient(session, ADMIN, raw)
    (message,) = refused.value.for_field("notes")
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in message


def test_the_command_line_never_prints_the_datas_escape_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = runner(capsys)("\x1b]0;owned\x07", "--help")
    assert result.code == 2
    assert "\x1b" not in result.err and "\x07" not in result.err
    assert "\\x1b]0;owned\\x07" in result.err


def test_every_csv_is_written_by_the_formula_guarded_writer() -> None:
    writers = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8"))
    ]
    assert writers == ["reports/export.py"]


def _today():  # type: ignore[no-untyped-def]
    from datetime import date

    return date(2026, 12, 1)


def test_a_value_set_on_a_record_directly_is_refused_at_the_flush(database: Database) -> None:
    with database.transaction() as session:
        patient_id = patients.create_patient(session, ADMIN, patient_raw()).id
    with pytest.raises(ValidationError) as refused, database.transaction() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        patient.notes = "bell\x07"
    assert refused.value.for_field("notes") and "U+0007 (BEL)" in refused.value.message
    with database.reading() as session:
        assert session.get(Patient, patient_id).notes == ""  # type: ignore[union-attr]


def test_a_new_database_and_its_journal_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    from ketadesk import migrations

    path = tmp_path / "clinic" / "new.sqlite3"
    db = Database(f"sqlite:///{path}")
    migrations.upgrade(db)
    with db.transaction() as session:
        patients.create_patient(session, ADMIN, patient_raw())
        modes = {
            p.name: p.stat().st_mode & 0o777 for p in path.parent.iterdir() if p.is_file()
        }
    db.dispose()
    assert modes[path.name] == 0o600
    assert modes.get(f"{path.name}-wal", 0o600) == 0o600
    assert (path.parent.stat().st_mode & 0o777) == 0o700
