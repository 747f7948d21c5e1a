"""``ketadesk patient import``: problems by line, exit statuses, --skip-invalid, --dry-run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from builders import add_payer
from cli.cli_helpers import link_os_admin
from sqlalchemy import func, select

from ketadesk.cli.main import main
from ketadesk.clinic.models import Patient
from ketadesk.clinic.patient_import import KNOWN_COLUMNS
from ketadesk.config import RESOURCES
from ketadesk.db import Database

HEADER = ("family_name,given_name,date_of_birth,sex,diagnoses,primary_payer,primary_member_id,"
          "primary_effective_from")
GOOD = ["Łukasiewicz,Zoë,1984-03-09,F,F33.2;F43.10,Aetna,W123,2025-01-01",
        "Okafor,Chinedu,07/22/1979,M,F32.2,,,"]
BROKEN = [
    "Future,Fay,2999-01-01,F,,,,",                     # line 4
    "Code,Cal,1980-01-01,M,F99.99,,,",                 # line 5
    "Payer,Pat,1980-01-01,F,,Blue Moon,M2,2025-01-01",  # line 6
    "Okafor,Chinedu,1979-07-22,M,,,,",                 # line 7: repeats line 3
]


@pytest.fixture
def db_path(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    with db.transaction() as session:
        add_payer(session, "Aetna")
        add_payer(session, "Cigna", edi_payer_id="62308")
    db.dispose()
    link_os_admin(path)
    monkeypatch.setenv("KETADESK_DB", str(path))
    return path


def write_csv(tmp_path: Path, *lines: str, newline: str = "\n", bom: bool = False) -> str:
    path = tmp_path / "patients.csv"
    text = newline.join(lines) + newline
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return str(path)


def stored(path: Path) -> int:
    db = Database(f"sqlite:///{path}")
    try:
        with db.reading() as session:
            return session.scalar(select(func.count()).select_from(Patient)) or 0
    finally:
        db.dispose()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["patient", "import", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_good_file_is_imported(capsys: pytest.CaptureFixture[str], db_path: Path,
                               tmp_path: Path) -> None:
    code, out, err = run(capsys, write_csv(tmp_path, HEADER, *GOOD))
    assert (code, err) == (0, "")
    assert out == "2 rows read; 2 patients imported (MRN 100001 to 100002), 0 skipped.\n"
    assert stored(db_path) == 2


def test_broken_rows_are_each_reported_and_nothing_is_written(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    code, out, err = run(capsys, write_csv(tmp_path, HEADER, *GOOD, *BROKEN))
    assert code == 2
    assert out.splitlines() == [
        "line 4, date_of_birth: 2999-01-01 is in the future; a date of birth is today or earlier",
        "line 5, diagnoses: F99.99 is not an ICD-10-CM code; check for a typo",
        "line 6, primary_payer: there is no payer named 'Blue Moon'; add it to the clinic's "
        "payers first",
        "line 7: repeats line 3 (Okafor, Chinedu, born 1979-07-22)",
        "6 rows read; 4 with problems; nothing was imported.",
    ]
    assert err == ("ketadesk: error: 4 of 6 rows have problems; nothing was imported; "
                   "--skip-invalid imports the 2 good rows\n")
    assert stored(db_path) == 0


def test_a_missing_required_column_is_reported_on_line_1(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    code, out, err = run(capsys, write_csv(tmp_path, "family_name,given_name,sex",
                                           "Ng,Ana,F"))
    assert code == 2
    assert out.splitlines()[0] == "line 1: required columns missing: date_of_birth"
    assert err == "ketadesk: error: the file cannot be imported; nothing was written\n"


def test_skip_invalid_imports_only_the_good_rows(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    code, out, err = run(capsys, write_csv(tmp_path, HEADER, *GOOD, *BROKEN), "--skip-invalid")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == (
        "6 rows read; 2 patients imported (MRN 100001 to 100002), 4 skipped.")
    assert stored(db_path) == 2


def test_dry_run_writes_nothing(capsys: pytest.CaptureFixture[str], db_path: Path,
                                tmp_path: Path) -> None:
    code, out, _ = run(capsys, write_csv(tmp_path, HEADER, *GOOD), "--dry-run")
    assert code == 0
    assert out == ("Dry run: 2 rows read; 2 would be imported, 0 skipped; "
                   "nothing was written.\n")
    assert stored(db_path) == 0
    code, _, err = run(capsys, write_csv(tmp_path, HEADER, *BROKEN), "--dry-run")
    assert code == 2 and "rows have problems" in err
    assert stored(db_path) == 0


def test_bom_and_crlf_file(capsys: pytest.CaptureFixture[str], db_path: Path,
                           tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER, *GOOD, "Future,Fay,2999-01-01,F,,,,", newline="\r\n",
                     bom=True)
    code, out, _ = run(capsys, path, "--json")
    assert code == 2
    report = json.loads(out)
    assert report["problems"] == [{"line": 4, "field": "date_of_birth", "message":
                                   "2999-01-01 is in the future; a date of birth is today "
                                   "or earlier"}]
    code, out, _ = run(capsys, path, "--json", "--skip-invalid")
    assert code == 0
    assert {k: v for k, v in json.loads(out).items() if k != "problems"} == {
        "read": 3, "imported": 2, "skipped": 1, "dry_run": False, "stopped": False,
        "mrns": ["100001", "100002"]}


def test_a_missing_file_is_one_line(capsys: pytest.CaptureFixture[str], db_path: Path,
                                    tmp_path: Path) -> None:
    code, out, err = run(capsys, str(tmp_path / "nope.csv"))
    assert (code, out) == (2, "")
    assert err == f"ketadesk: error: there is no file {tmp_path / 'nope.csv'}\n"


def test_a_spreadsheet_saved_as_xlsx_is_refused(capsys: pytest.CaptureFixture[str],
                                                db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "patients.xlsx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xa8\xb1")
    code, out, _ = run(capsys, str(path))
    assert code == 2
    assert out.startswith("line 1: the file holds binary data, not CSV text")


def test_the_sample_file(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    code, out, err = run(capsys, str(RESOURCES / "samples" / "patients.csv"))
    assert (code, err) == (0, "")
    assert stored(db_path) >= 5
    code, out, _ = run(capsys, str(RESOURCES / "samples" / "patients.csv"), "--dry-run")
    assert code == 2
    assert "line 2: looks like MRN 100001 already (Łukasiewicz, Zoë, born 1984-03-09)" in out


def test_help_names_every_column_the_import_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["patient", "import", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    missing = [c for c in KNOWN_COLUMNS if not c.startswith("secondary_") and c not in text]
    assert missing == []
