"""The CSV patient import service on SQLite and PostgreSQL: read, check every row, write."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from builders import add_location, add_payer
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic import patient_import, patients
from ketadesk.clinic.models import InsurancePolicy, Patient, PolicyRank
from ketadesk.clinic.patient_import import ImportProblem, ImportRefused, read_rows
from ketadesk.config import RESOURCES
from ketadesk.errors import NotFound, PermissionDenied

HEADER = "family_name,given_name,date_of_birth,sex,phone,diagnoses"
GOOD = [
    "Łukasiewicz,Zoë,1984-03-09,F,(212) 555-0142,F33.2;F43.10",
    "Okafor,Chinedu,07/22/1979,M,646-555-0193,F32.2",
    "Nguyen,Minh,1966-05-14,X,,",
]
INSURED_HEADER = (
    "family_name,given_name,date_of_birth,sex,primary_payer,primary_member_id,"
    "primary_effective_from,primary_prior_auth_number,primary_sessions_authorized,"
    "secondary_payer,secondary_member_id,secondary_effective_from"
)


def csv_file(tmp_path: Path, *lines: str, name: str = "patients.csv",
             newline: str = "\n", bom: bool = False) -> Path:
    path = tmp_path / name
    text = newline.join(lines) + newline
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def patient_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Patient)) or 0


def problems_of(report: patient_import.ImportReport) -> list[str]:
    return [str(p) for p in report.problems]


# --- reading ---------------------------------------------------------------------------


def test_rows_keep_their_csv_line_numbers() -> None:
    text = HEADER + "\n\n" + GOOD[0] + '\n"Okafor","Chi\nnedu",1979-07-22,M,,\n' + GOOD[2] + "\n"
    rows = read_rows(text)
    assert [row.line for row in rows] == [3, 4, 6]
    assert rows[0].cells["family_name"] == "Łukasiewicz"
    assert rows[1].cells["given_name"] == "Chi\nnedu"


def test_bom_and_windows_line_endings_are_read(tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER, *GOOD, newline="\r\n", bom=True)
    rows = read_rows(path)
    assert [row.line for row in rows] == [2, 3, 4]
    assert next(iter(rows[0].cells)) == "family_name"
    assert rows[2].cells["diagnoses"] == ""


def test_header_names_are_forgiving_about_case_and_spaces() -> None:
    rows = read_rows("Family Name, given-name ,DATE_OF_BIRTH,Sex\nNg,Ana,1990-01-02,F\n")
    assert set(rows[0].cells) == {"family_name", "given_name", "date_of_birth", "sex"}


def test_short_rows_are_padded_and_extra_cells_noted() -> None:
    rows = read_rows(HEADER + "\nNg,Ana,1990-01-02,F\nNg,Bo,1990-01-02,F,,,surprise,x\n")
    assert rows[0].cells["phone"] == ""
    assert (rows[0].extra_cells, rows[1].extra_cells) == (0, 2)


def test_blank_header_cells_name_no_column() -> None:
    rows = read_rows("family_name,given_name,,date_of_birth,sex,,\n"
                     "Ng,Ana,,1990-01-02,F,,\nNg,Bo,oops,1990-01-02,F,,\n")
    assert set(rows[0].cells) == {"family_name", "given_name", "date_of_birth", "sex"}
    assert rows[0].cells["date_of_birth"] == "1990-01-02"
    assert (rows[0].extra_cells, rows[1].extra_cells) == (0, 1)


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ("\n \n", "the file is empty"),
    ("famly_name,given_name,date_of_birth,sex,colour\n",
     "unknown columns: famly_name, colour; columns are patient fields"),
    ("family_name;given_name;date_of_birth;sex\n", "separated by something other than commas"),
    ("family_name,given_name,sex\n", "required columns missing: date_of_birth"),
    ("family_name,given_name,date_of_birth,sex,sex\n", "repeated columns: sex"),
    ("family_name,given_name,date_of_birth,sex\x00\n", "binary data"),
])
def test_files_that_are_not_patient_lists_are_refused(text: str, message: str) -> None:
    with pytest.raises(ImportRefused, match=message) as refused:
        read_rows(text)
    assert all(problem.line == 1 for problem in refused.value.problems)


def test_unknown_and_missing_columns_are_reported_together() -> None:
    with pytest.raises(ImportRefused) as refused:
        read_rows("famly_name,given_name,sex\n")
    assert [str(p) for p in refused.value.problems] == [
        "line 1: unknown columns: famly_name; columns are patient fields (family_name, "
        "given_name, date_of_birth, sex, phone, ...) and primary_/secondary_ insurance columns",
        "line 1: required columns missing: family_name, date_of_birth",
    ]


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"{HEADER}\nGarc\xeda,Ana,1990-01-02,F,,\n".encode("latin-1"))
    with pytest.raises(ImportRefused, match=r"line 2: the file is not UTF-8 text .*CSV UTF-8"):
        read_rows(path)


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="there is no file"):
        read_rows(tmp_path / "nope.csv")


def test_problem_text_names_line_and_column() -> None:
    assert str(ImportProblem(7, "date_of_birth", "2999-01-01 is in the future")) == (
        "line 7, date_of_birth: 2999-01-01 is in the future")
    assert str(ImportProblem(9, "", "repeats line 4")) == "line 9: repeats line 4"


# --- checking and importing --------------------------------------------------------------


def test_good_file_is_imported_with_policies_and_audit(
    session: Session, front_desk: Actor, tmp_path: Path
) -> None:
    add_payer(session, "Aetna")
    add_payer(session, "Cigna", edi_payer_id="62308")
    path = csv_file(
        tmp_path, INSURED_HEADER,
        "Ng,Ana,1990-01-02,F,aetna,w-123 456,2025-01-01,PA-1,8,Cigna,U77,2025-02-01",
        "Osei,Kofi,1975-06-30,M,,,,,,,,",
    )
    report = patient_import.import_patients(session, front_desk, path)
    assert (report.read, report.imported, report.skipped, report.problems) == (2, 2, 0, ())
    assert report.mrns == ("100001", "100002")
    ana = patients.open_by_mrn(session, front_desk, "100001")
    assert [(p.rank, p.payer.name, p.member_id, p.sessions_authorized) for p in ana.policies] == [
        (PolicyRank.PRIMARY, "Aetna", "W-123456", 8), (PolicyRank.SECONDARY, "Cigna", "U77", None)]
    actions = session.execute(select(AuditEntry.action, AuditEntry.entity)).all()
    assert actions.count(("create", "patient")) == 2
    assert actions.count(("create", "insurance_policy")) == 2
    assert ("import", "patient") in actions


def test_imported_values_match_a_registered_patient(
    session: Session, front_desk: Actor, tmp_path: Path
) -> None:
    add_location(session, "NYC")
    header = HEADER + ",home_location,screening_flags,weight_kg"
    path = csv_file(tmp_path, header, GOOD[0] + ",nyc,pregnancy;seizure_disorder,61.5")
    report = patient_import.import_patients(session, front_desk, path)
    imported = patients.open_by_mrn(session, front_desk, report.mrns[0])
    typed = patients.create_patient(session, front_desk, {
        "family_name": "Łukasiewicz", "given_name": "Zoë", "date_of_birth": "1984-03-09",
        "sex": "F", "phone": "(212) 555-0142", "diagnoses": "F33.2, F43.10",
        "home_location": "NYC", "screening_flags": "pregnancy, seizure_disorder",
        "weight_kg": "61.5",
    })
    assert patients.patient_values(imported) == patients.patient_values(typed)
    assert (imported.search_family, imported.search_given) == ("lukasiewicz", "zoe")
    assert patients.search_patients(session, front_desk, "lukas zoe")[0].mrn == "100001"


def test_every_broken_row_is_reported_and_nothing_is_written(
    session: Session, front_desk: Actor, tmp_path: Path
) -> None:
    add_payer(session, "Aetna")
    patients.create_patient(session, front_desk, {
        "family_name": "Stored", "given_name": "Sam", "date_of_birth": "1970-01-01", "sex": "M"})
    path = csv_file(
        tmp_path, "family_name,given_name,date_of_birth,sex,diagnoses,primary_payer,"
                  "primary_member_id,primary_effective_from",
        "Good,Gail,1980-01-01,F,F33.2,Aetna,M1,2025-01-01",           # line 2
        "Future,Fay,2999-01-01,F,,,,",                                # line 3
        "Code,Cal,1980-01-01,M,F32,,,",                               # line 4
        "Payer,Pat,1980-01-01,F,,Blue Moon Health,M2,2025-01-01",     # line 5
        "Good,Gail,1980-01-01,F,,,,",                                 # line 6: repeats line 2
        "stored,SAM,01/01/1970,M,,,,",                                # line 7: in the database
        "Member,Mo,1980-01-01,M,,Aetna,,2025-01-01",                  # line 8
        ",,1980-01-01,Q,,,,",                                         # line 9
    )
    report = patient_import.import_patients(session, front_desk, path)
    assert report.stopped and (report.read, report.imported, report.skipped) == (8, 0, 8)
    found = problems_of(report)
    assert found[0] == ("line 3, date_of_birth: 2999-01-01 is in the future; a date of birth "
                        "is today or earlier")
    assert found[1].startswith("line 4, diagnoses: F32 is a category, not a billable code")
    assert found[2] == ("line 5, primary_payer: there is no payer named 'Blue Moon Health'; "
                        "add it to the clinic's payers first")
    assert found[3] == "line 6: repeats line 2 (Good, Gail, born 1980-01-01)"
    assert found[4] == "line 7: looks like MRN 100001 already (stored, SAM, born 1970-01-01)"
    assert found[5] == "line 8, primary_member_id: is required"
    assert found[6:] == ["line 9, family_name: is required", "line 9, given_name: is required",
                         "line 9, sex: 'Q' is not one of F, M, X or U"]
    assert report.rows_with_problems == 7
    assert patient_count(session) == 1


def test_skip_invalid_writes_only_the_good_rows(
    session: Session, front_desk: Actor, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, HEADER, GOOD[0], "Bad,Bo,2999-01-01,M,,", GOOD[1], GOOD[1])
    report = patient_import.import_patients(session, front_desk, path, skip_invalid=True)
    assert not report.stopped
    assert (report.read, report.imported, report.skipped) == (4, 2, 2)
    assert [p.line for p in report.problems] == [3, 5]
    assert report.mrns == ("100001", "100002")
    assert patient_count(session) == 2


def test_dry_run_writes_nothing_and_says_what_would_happen(
    session: Session, front_desk: Actor, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, HEADER, *GOOD)
    report = patient_import.import_patients(session, front_desk, path, dry_run=True)
    assert (report.dry_run, report.imported, report.mrns, report.stopped) == (True, 3, (), False)
    assert patient_count(session) == 0
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    partial = patient_import.import_patients(
        session, front_desk, csv_file(tmp_path, HEADER, GOOD[0], "X,Y,bad,F,,"), dry_run=True,
        skip_invalid=True)
    assert (partial.imported, partial.skipped, partial.stopped) == (1, 1, False)


def test_a_refused_file_comes_back_as_a_report(
    session: Session, front_desk: Actor, tmp_path: Path
) -> None:
    report = patient_import.import_patients(session, front_desk, csv_file(tmp_path, "name,dob"))
    assert report.stopped and report.read == 0
    assert problems_of(report)[0].startswith("line 1: unknown columns: name, dob")


def test_unknown_home_location_and_extra_cells_are_problems(session: Session) -> None:
    rows = read_rows(f"{HEADER},home_location\n{GOOD[0]},BOS\n{GOOD[1]},,extra\n")
    report = patient_import.check(session, rows)
    assert problems_of(report) == [
        "line 2, home_location: there is no location with code BOS",
        "line 3: has 1 value outside the named columns; check for a stray comma",
    ]


def test_policies_need_the_policy_permission(session: Session, tmp_path: Path) -> None:
    add_payer(session, "Aetna")
    nurse = Actor(username="nurse", role=Role.CLINICAL)  # may register, may not edit policies
    path = csv_file(tmp_path, INSURED_HEADER, "Ng,Ana,1990-01-02,F,Aetna,M1,2025-01-01,,,,,")
    with pytest.raises(PermissionDenied, match="may not edit insurance policies"):
        patient_import.import_patients(session, nurse, path)
    self_pay = csv_file(tmp_path, HEADER, GOOD[0], name="self-pay.csv")
    assert patient_import.import_patients(session, nurse, self_pay).imported == 1


@contextmanager
def counted_statements(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_checking_a_large_file_does_not_query_per_row(session: Session, front_desk: Actor) -> None:
    add_payer(session, "Aetna")
    patients.create_patient(session, front_desk, {
        "family_name": "Row", "given_name": "G7", "date_of_birth": "1970-01-01", "sex": "M"})
    lines = [f"Row,G{n},1970-01-01,M,Aetna,M{n},2025-01-01" for n in range(300)]
    rows = read_rows("family_name,given_name,date_of_birth,sex,primary_payer,primary_member_id,"
                     "primary_effective_from\n" + "\n".join(lines))
    with counted_statements(session) as statements:
        report = patient_import.check(session, rows)
    assert problems_of(report) == [
        "line 9: looks like MRN 100001 already (Row, G7, born 1970-01-01)"]
    assert len(statements) <= 5, statements


def test_writing_many_rows_flushes_in_batches(
    session: Session, front_desk: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(patient_import, "WRITE_BATCH", 4)
    lines = [f"Batch,G{n},1970-01-{n + 1:02},F,,F33.2" for n in range(10)]
    seen: list[tuple[str, int, int]] = []
    report = patient_import.import_patients(
        session, front_desk, csv_file(tmp_path, HEADER, *lines),
        progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert report.mrns == tuple(str(100001 + n) for n in range(10))
    assert [s for s in seen if s[0] == "importing patients"] == [
        ("importing patients", 4, 10), ("importing patients", 8, 10),
        ("importing patients", 10, 10)]
    assert seen[-4] == ("checking rows", 10, 10)
    stored = session.scalars(select(Patient).order_by(Patient.mrn)).all()
    assert [p.given_name for p in stored] == [f"G{n}" for n in range(10)]
    assert all([d.code for d in p.diagnoses] == ["F33.2"] for p in stored)
    assert session.scalar(select(func.count()).select_from(InsurancePolicy)) == 0


def test_the_sample_file_imports_cleanly(session: Session, front_desk: Actor) -> None:
    add_payer(session, "Aetna")
    add_payer(session, "Cigna", edi_payer_id="62308")
    report = patient_import.import_patients(
        session, front_desk, RESOURCES / "samples" / "patients.csv")
    assert report.problems == ()
    assert report.imported == report.read >= 5
