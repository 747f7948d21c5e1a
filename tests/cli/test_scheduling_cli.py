"""The scheduling commands: ``series plan``, ``session book`` and ``schedule day``.

Each test runs :func:`ketadesk.cli.main.main` in-process against a real database: a SQLite
file, and where the command books, PostgreSQL too (the ``database`` fixture). The clinic is
:func:`builders.scheduling_clinic` (New York, Mon–Fri 08:00–18:00, chairs IV 1, IV 2,
Nasal 1, Nasal 2). Bookings are made in the future, on a Monday whose next weeks have no
holiday, so the planner's "not in the past" never interferes.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from builders import add_chair, add_location, give_consents, patient_raw, scheduling_clinic
from cli.cli_helpers import Result, runner
from pypdf import PdfReader
from sqlalchemy import func, select

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.models import Estimate
from ketadesk.cli.common import Clock
from ketadesk.clinic.locations import closed_reason, parse_hours, set_hours
from ketadesk.clinic.models import Location, Modality, Patient
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database
from ketadesk.scheduling.models import Series, TreatmentSession

NEW_YORK = ZoneInfo("America/New_York")
NOT_A_TIME = "is not a date and time; write it as 2026-12-07 09:00 or 12/07/2026 9:00"
ADMIN = Actor(username="test-admin", role=Role.ADMIN)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    return runner(capsys)


def expect_one_error_line(result: Result, expected: str) -> None:
    assert result.code == 2, result.out + result.err
    assert result.err == f"ketadesk: error: {expected}\n"
    assert "Traceback" not in result.out + result.err


@dataclass
class Clinic:
    url: str
    db: Database
    mrn: str  # Zoë Łukasiewicz, REMS-enrolled, no home location
    chairs: dict[str, int]
    npi: str
    monday: date  # a future Monday with four open weeks after it


def open_monday(db: Database) -> date:
    """The first Monday at least two weeks ahead whose next four weeks have no closed weekday."""
    day = date.today() + timedelta(days=14)
    day += timedelta(days=-day.weekday() % 7)
    with db.reading() as session:
        location = session.scalars(select(Location)).one()
        while any(
            closed_reason(location, day + timedelta(days=n))
            for n in range(28)
            if (day + timedelta(days=n)).weekday() < 5
        ):
            day += timedelta(days=7)
    return day


def set_up(db: Database) -> Clinic:
    with db.transaction() as session:
        clinic = scheduling_clinic(session, ADMIN)
        chairs = {c.name: c.id for c in [*clinic.iv_chairs, *clinic.esketamine_chairs]}
        mrn, npi = clinic.patient.mrn, clinic.provider.npi
    return Clinic(db.url, db, mrn, chairs, npi, open_monday(db))


@pytest.fixture
def clinic(database: Database) -> Clinic:
    """The scheduling clinic on SQLite and on PostgreSQL."""
    return set_up(database)


@pytest.fixture
def sqlite_clinic(sqlite_db: Database) -> Clinic:
    return set_up(sqlite_db)


def add_patient(db: Database, **overrides: Any) -> str:
    """A REMS-enrolled patient who signed every consent (booking meets no consent warning)."""
    with db.transaction() as session:
        raw = patient_raw(**{"rems_enrolled_on": "2026-01-05", **overrides})
        patient = create_patient(session, ADMIN, raw)
        give_consents(session, patient.id)
        return patient.mrn


def count(db: Database, model: type[Any]) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def when(day: date, clock: str) -> str:
    return f"{day.isoformat()} {clock}"


def local(day: date, clock: str) -> datetime:
    return datetime.fromisoformat(when(day, clock)).replace(tzinfo=NEW_YORK)


def book(cli: Any, c: Clinic, chair: str, start: str, *extra: str, mrn: str = "") -> Result:
    return cli(
        "session",
        "book",
        "--db",
        c.url,
        "--patient",
        mrn or c.mrn,
        "--chair",
        chair,
        "--start",
        start,
        "--protocol",
        "iv-booster",
        "--location",
        "NYC",
        *extra,
    )


# --- the parser ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [["series", "plan"], ["session", "book"], ["session", "shift"], ["schedule", "day"]],
    ids=" ".join,
)
def test_help_works_for_every_scheduling_command(cli: Any, command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.code == 0
    assert result.out.startswith(f"usage: ketadesk {' '.join(command)}")
    assert "examples:" in result.out and "--db URL" in result.out and "--json" in result.out


def test_the_commands_are_listed_in_the_top_level_help(cli: Any) -> None:
    out = cli("--help").out
    for name in ("series", "session", "schedule"):
        assert f"\n    {name} " in out


# --- session book ----------------------------------------------------------------------------


def test_session_book_prints_the_booked_session(cli: Any, clinic: Clinic) -> None:
    day = clinic.monday
    result = book(cli, clinic, "IV 1", when(day, "09:00"))
    assert result.code == 0, result.err
    with clinic.db.reading() as session:
        booked = session.scalars(select(TreatmentSession)).one()
        assert booked.starts_at == local(day, "09:00")
        assert booked.ends_at - booked.starts_at == timedelta(minutes=70)
        assert booked.chair_id == clinic.chairs["IV 1"]
        reference = booked.reference
        [(number, series_id)] = session.execute(select(Estimate.number, Estimate.series_id))
        assert series_id == booked.series_id
    booked_line, estimate_line = result.out.splitlines()
    assert booked_line == (
        f"Booked {reference}: Łukasiewicz, Zoë (MRN {clinic.mrn}), "
        f"Mon {day.isoformat()} 09:00-10:10 EST at NYC, chair IV 1, with Ama Osei, MD "
        "(IV ketamine booster)"
    )
    # The patient has no insurance: the one-session series gets its Good Faith Estimate.
    assert estimate_line.startswith(f"Good Faith Estimate {number} drafted ")


def test_session_book_json_gives_utc_and_local_instants(cli: Any, clinic: Clinic) -> None:
    day = clinic.monday
    result = book(cli, clinic, str(clinic.chairs["IV 2"]), f"{day.isoformat()}T13:30", "--json")
    assert result.code == 0, result.err
    data = result.json()
    start = local(day, "13:30")
    assert data["starts_at"] == start.astimezone(ZoneInfo("UTC")).isoformat()
    assert data["local_start"] == start.isoformat()
    assert data["local_end"] == (start + timedelta(minutes=70)).isoformat()
    assert (data["chair"], data["provider_npi"], data["protocol"]) == (
        "IV 2",
        clinic.npi,
        "iv-booster",
    )
    assert (data["number"], data["status"]) == (1, "scheduled")
    assert data["reference"] == f"S-{data['id']}"


def test_a_taken_chair_is_refused_naming_the_session_in_the_way(cli: Any, clinic: Clinic) -> None:
    other = add_patient(clinic.db, family_name="Ng", given_name="Ana")
    first = book(cli, clinic, "IV 1", when(clinic.monday, "09:00"), "--json")
    taken = book(cli, clinic, "IV 1", when(clinic.monday, "09:30"), mrn=other)
    assert taken.code == 2
    assert f"S-{first.json()['id']}" in taken.err
    assert taken.err.startswith("ketadesk: error: ") and taken.err.count("\n") == 1
    assert count(clinic.db, TreatmentSession) == 1


def test_warnings_need_acknowledge(cli: Any, clinic: Clinic) -> None:
    flagged = add_patient(clinic.db, screening_flags="pregnancy")
    start = when(clinic.monday, "09:00")
    refused = book(cli, clinic, "IV 1", start, mrn=flagged)
    assert refused.code == 2
    assert refused.err.startswith("ketadesk: error: acknowledge with --acknowledge: ")
    assert "pregnan" in refused.err.lower() and refused.err.count("\n") == 1
    assert count(clinic.db, Series) == 0
    assert book(cli, clinic, "IV 1", start, "--acknowledge", mrn=flagged).code == 0
    assert count(clinic.db, TreatmentSession) == 1


def test_session_book_outside_opening_hours_names_the_start(
    cli: Any, sqlite_clinic: Clinic
) -> None:
    saturday = sqlite_clinic.monday + timedelta(days=5)
    result = book(cli, sqlite_clinic, "IV 1", when(saturday, "09:00"))
    assert result.code == 2
    assert result.err.startswith("ketadesk: error: --start: ")
    assert "closed" in result.err.lower() and result.err.count("\n") == 1


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (
            "2027-03-14 02:30",
            "--start: 2027-03-14 02:30 does not exist in America/New_York: the clocks go "
            "forward that night; choose another time",
        ),
        (
            "2027-11-07 01:30",
            "--start: 2027-11-07 01:30 happens twice in America/New_York: the clocks go back "
            "that night; choose another time or add the UTC offset, e.g. 2027-11-07T01:30-04:00",
        ),
        ("next monday", f"--start: 'next monday' {NOT_A_TIME}"),
        ("2027-03-15", f"--start: '2027-03-15' {NOT_A_TIME}"),
    ],
)
def test_times_the_clock_skips_repeats_or_cannot_read_are_refused(
    cli: Any, sqlite_clinic: Clinic, start: str, expected: str
) -> None:
    expect_one_error_line(book(cli, sqlite_clinic, "IV 1", start), expected)
    assert count(sqlite_clinic.db, TreatmentSession) == 0


def test_a_time_with_its_offset_is_taken_as_written(cli: Any, sqlite_clinic: Clinic) -> None:
    day = sqlite_clinic.monday
    result = book(cli, sqlite_clinic, "IV 1", f"{day.isoformat()}T14:00+00:00", "--json")
    assert result.code == 0, result.err
    assert result.json()["local_start"] == local(day, "09:00").isoformat()


@pytest.mark.parametrize(
    ("typed", "clock"),
    [("{day:%m/%d/%Y} 9:00", "09:00"), ("{day:%m/%d/%Y} 1:30 pm", "13:30")],
)
def test_session_book_takes_the_us_date_as_every_other_option_does(
    cli: Any, sqlite_clinic: Clinic, typed: str, clock: str
) -> None:
    day = sqlite_clinic.monday
    result = book(cli, sqlite_clinic, "IV 1", typed.format(day=day), "--json")
    assert result.code == 0, result.err
    assert result.json()["local_start"] == local(day, clock).isoformat()


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (
            "0001-01-01 09:00",
            "--start: 0001-01-01 is before 01/01/2000, the earliest date this takes",
        ),
        (
            "9999-12-31 09:00",
            "--start: 9999-12-31 is after 12/31/2099, the latest date this takes",
        ),
        (
            "9999-12-31T23:59+14:00",
            "--start: 9999-12-31 is after 12/31/2099, the latest date this takes",
        ),
        (
            "2027-03-15 25:00",
            "--start: '2027-03-15 25:00' is not a time of day; "
            "write it as 2026-12-07 09:00 or 12/07/2026 9:00",
        ),
        ("2027-03-15 13:00 pm", "--start: '2027-03-15 13:00 pm' has hour 13 with am/pm"),
        ("2027-03-15T09:00+99:00", "--start: +99:00 is not a UTC offset; write it like -05:00"),
    ],
)
def test_dates_off_the_calendar_are_refused_in_words(
    cli: Any, sqlite_clinic: Clinic, start: str, expected: str
) -> None:
    expect_one_error_line(book(cli, sqlite_clinic, "IV 1", start), expected)
    assert count(sqlite_clinic.db, TreatmentSession) == 0


def test_session_book_look_up_errors_name_their_option(cli: Any, sqlite_clinic: Clinic) -> None:
    c, start = sqlite_clinic, when(sqlite_clinic.monday, "09:00")
    expect_one_error_line(
        book(cli, c, "IV 1", start, mrn="999999"), "--patient: no patient with MRN 999999"
    )
    expect_one_error_line(
        book(cli, c, "Chair 9", start),
        "--chair: there is no chair called Chair 9 at NYC; its chairs are IV 1, IV 2, Nasal 1, "
        "Nasal 2",
    )
    expect_one_error_line(
        book(cli, c, "IV 1", start, "--provider", "1999999999"),
        "--provider: no provider with NPI 1999999999",
    )
    wrong = cli(
        "session",
        "book",
        "--db",
        c.url,
        "--patient",
        c.mrn,
        "--chair",
        "IV 1",
        "--start",
        start,
        "--protocol",
        "nope",
    )
    assert wrong.code == 2
    assert wrong.err.startswith("ketadesk: error: --protocol: no protocol 'nope'; known: ")
    elsewhere = book(cli, c, "IV 1", start, "--location", "BOS")
    expect_one_error_line(elsewhere, "--location: there is no location with code BOS")
    assert count(c.db, TreatmentSession) == 0


def test_a_chair_name_without_a_location_must_be_unique(cli: Any, sqlite_clinic: Clinic) -> None:
    c, start = sqlite_clinic, when(sqlite_clinic.monday, "09:00")
    args = (
        "session",
        "book",
        "--db",
        c.url,
        "--patient",
        c.mrn,
        "--start",
        start,
        "--protocol",
        "iv-booster",
    )
    assert cli(*args, "--chair", "iv 1").code == 0  # one location: the name is enough
    with c.db.transaction() as session:
        boston = add_location(session, "BOS", name="KetaDesk Boston", time_zone="America/New_York")
        add_chair(session, boston, "IV 1", frozenset({Modality.IV}))
    expect_one_error_line(
        cli(*args, "--chair", "IV 1"),
        "--chair: several locations have a chair called IV 1; say at which location",
    )


def test_the_chair_defaults_to_the_patients_home_location(cli: Any, sqlite_clinic: Clinic) -> None:
    c = sqlite_clinic
    with c.db.transaction() as session:
        boston = add_location(session, "BOS", name="KetaDesk Boston", time_zone="America/New_York")
        set_hours(session, ADMIN, boston.id, parse_hours("mon-fri 08:00-18:00"))
        add_chair(session, boston, "IV 1", frozenset({Modality.IV}))
        patient = session.scalars(select(Patient).where(Patient.mrn == c.mrn)).one()
        patient.home_location_id = session.scalars(
            select(Location.id).where(Location.code == "NYC")
        ).one()
    result = cli(
        "session",
        "book",
        "--db",
        c.url,
        "--patient",
        c.mrn,
        "--chair",
        "IV 1",
        "--start",
        when(c.monday, "09:00"),
        "--protocol",
        "iv-booster",
        "--json",
    )
    assert result.code == 0, result.err
    assert (result.json()["location"], result.json()["chair_id"]) == ("NYC", c.chairs["IV 1"])


def test_a_booking_is_audited_as_the_linked_account_and_the_os_user(
    cli: Any, sqlite_clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ketadesk.access.os_accounts.os_user_name", lambda: "pat")
    assert book(cli, sqlite_clinic, "IV 1", when(sqlite_clinic.monday, "09:00")).code == 0
    with sqlite_clinic.db.reading() as session:
        rows = session.execute(
            select(AuditEntry.entity, AuditEntry.actor).where(AuditEntry.action == "create")
        ).all()
    who = "clinic-admin (os:pat)"
    assert ("session", who) in rows and ("series", who) in rows


# --- session shift ---------------------------------------------------------------------------


def booked_series(cli: Any, c: Clinic) -> dict[str, Any]:
    """The six-session IV induction booked from ``c.monday`` with ``series plan --book``."""
    result = cli(*plan_args(c, "iv-induction", "--book", "--json"))
    assert result.code == 0, result.err
    data: dict[str, Any] = result.json()
    return data


def shift(cli: Any, c: Clinic, *args: str) -> Result:
    return cli("session", "shift", "--db", c.url, *args)


def starts(db: Database, ids: list[int]) -> list[datetime]:
    with db.reading() as session:
        rows = {r.id: r.starts_at for r in session.scalars(select(TreatmentSession))}
    return [rows[i] for i in ids]


def test_session_shift_moves_the_rest_and_redrafts_the_estimate(cli: Any, clinic: Clinic) -> None:
    booked = booked_series(cli, clinic)
    ids, first_estimate = booked["session_ids"], booked["estimate"]
    before = starts(clinic.db, ids)

    result = shift(cli, clinic, f"S-{ids[0]}", "--days", "7", "--json")

    assert result.code == 0, result.err
    data = result.json()
    assert [row["id"] for row in data["sessions"]] == ids
    after = starts(clinic.db, ids)
    assert [b.astimezone(NEW_YORK) + timedelta(days=7) for b in before] == [
        a.astimezone(NEW_YORK) for a in after
    ]
    assert [row["local_start"] for row in data["sessions"]] == [
        a.astimezone(NEW_YORK).isoformat() for a in after
    ]
    assert data["estimate"]["replaces"] == first_estimate["number"]
    assert "re-drafted (Dates changed" in data["estimate"]["sentence"]
    with clinic.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Estimate)) == 2


def test_session_shift_to_a_time_prints_what_moved(cli: Any, sqlite_clinic: Clinic) -> None:
    ids = booked_series(cli, sqlite_clinic)["session_ids"]
    fifth = starts(sqlite_clinic.db, ids)[4].astimezone(NEW_YORK)
    later = (fifth + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")

    result = shift(cli, sqlite_clinic, str(ids[4]), "--to", later)

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "Moved 2 sessions of the series:"
    assert lines[1].startswith(f"  S-{ids[4]} (session 5) now {fifth:%a %Y-%m-%d} ")
    assert f"{fifth + timedelta(hours=1):%H:%M}-" in lines[1]
    # The same days, an hour later: nothing the estimate states changed.
    assert len(lines) == 3


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--days", "0"], "--days: move by a whole number of days from -366 to 366, not 0"),
        (["--days", "400"], "--days: move by a whole number of days from -366 to 366, not 400"),
        (["--days", "1w"], "--days: '1w' is not a whole number of days; write e.g. 7 or -2"),
        (["--to", "tomorrow"], f"--to: 'tomorrow' {NOT_A_TIME}"),
    ],
)
def test_session_shift_refuses_bad_input_in_one_line(
    cli: Any, sqlite_clinic: Clinic, args: list[str], expected: str
) -> None:
    ids = booked_series(cli, sqlite_clinic)["session_ids"]
    before = starts(sqlite_clinic.db, ids)
    expect_one_error_line(shift(cli, sqlite_clinic, f"S-{ids[0]}", *args), expected)
    assert starts(sqlite_clinic.db, ids) == before


def test_session_shift_names_a_session_that_is_not_there(cli: Any, sqlite_clinic: Clinic) -> None:
    expect_one_error_line(
        shift(cli, sqlite_clinic, "S-999999", "--days", "7"),
        "there is no session S-999999",
    )
    expect_one_error_line(
        shift(cli, sqlite_clinic, "S-999999", "--to", "2027-01-04 09:00"),
        "there is no session S-999999",
    )
    expect_one_error_line(
        shift(cli, sqlite_clinic, "seven", "--days", "7"),
        "SESSION: 'seven' is not a session; write it as S-120 or 120",
    )


# --- schedule day ----------------------------------------------------------------------------


def day_args(c: Clinic, day: date | str, *extra: str) -> list[str]:
    shown = day.isoformat() if isinstance(day, date) else day
    return ["schedule", "day", shown, "--db", c.url, *extra]


def test_schedule_day_lists_sessions_by_chair(cli: Any, clinic: Clinic) -> None:
    day = clinic.monday
    other = add_patient(clinic.db, family_name="阮", given_name="文英")
    assert book(cli, clinic, "IV 1", when(day, "09:00")).code == 0
    assert book(cli, clinic, "IV 2", when(day, "13:15"), mrn=other).code == 0
    result = cli(*day_args(clinic, day))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    long_day = f"{day:%A}, {day:%B} {day.day}, {day.year}"
    assert lines[0] == f"KetaDesk NYC (NYC) · {long_day} · Open 08:00-18:00"
    iv1 = lines.index("IV 1")
    assert lines[iv1 + 1].split() == [
        "Time",
        "Patient",
        "MRN",
        "Protocol",
        "Status",
        "Provider",
        "Driver",
        "confirmed",
    ]
    assert lines[iv1 + 3].split() == [
        "09:00-10:10",
        "Łukasiewicz,",
        "Zoë",
        clinic.mrn,
        "IV",
        "ketamine",
        "booster",
        "#1",
        "Scheduled",
        "Ama",
        "Osei,",
        "MD",
        "no",
    ]
    assert lines[lines.index("IV 2") + 3].split()[:4] == ["13:15-14:25", "阮,", "文英", other]
    assert lines[lines.index("Nasal 1") + 1] == "  no sessions"
    assert lines[-1] == "2 sessions booked."


def test_schedule_day_json(cli: Any, clinic: Clinic) -> None:
    day = clinic.monday
    booked = book(cli, clinic, "Nasal 2", when(day, "10:00"), "--json")
    assert booked.code == 2  # a booster is IV: the esketamine chair is refused
    assert book(cli, clinic, "IV 2", when(day, "10:00")).code == 0
    data = cli(*day_args(clinic, day, "--json")).json()
    assert data["location"] == {
        "code": "NYC",
        "name": "KetaDesk NYC",
        "time_zone": "America/New_York",
    }
    assert (data["date"], data["closed"], data["hours"], data["pdf"]) == (
        day.isoformat(),
        None,
        ["08:00-18:00"],
        None,
    )
    assert [c["name"] for c in data["chairs"]] == ["IV 1", "IV 2", "Nasal 1", "Nasal 2"]
    (entry,) = data["chairs"][1]["sessions"]
    assert entry["local_start"] == local(day, "10:00").isoformat()
    assert entry["starts_at"] == local(day, "10:00").astimezone(ZoneInfo("UTC")).isoformat()
    assert (entry["mrn"], entry["protocol"], entry["progress"], entry["status"]) == (
        clinic.mrn,
        "iv-booster",
        "#1",
        "scheduled",
    )
    assert entry["driver_confirmed"] is False


def test_schedule_day_writes_the_day_sheet(cli: Any, sqlite_clinic: Clinic, tmp_path: Path) -> None:
    c, day = sqlite_clinic, sqlite_clinic.monday
    other = add_patient(c.db, family_name="阮", given_name="文英")
    book(cli, c, "IV 1", when(day, "09:00"))
    book(cli, c, "IV 2", when(day, "11:45"), mrn=other)
    pdf = tmp_path / "sheet.pdf"
    result = cli(*day_args(c, day, "--pdf", str(pdf)))
    assert result.code == 0, result.err
    assert result.out.endswith(f"Day sheet written to {pdf}\n")
    (text,) = [page.extract_text() for page in PdfReader(pdf).pages]
    assert text.startswith(f"KetaDesk NYC\n{day:%A}, {day:%B} {day.day}, {day.year} · Location NYC")
    fields = [
        "Open 08:00-18:00",
        "IV 1",
        "09:00–10:10",
        "Łukasiewicz, Zoë",
        c.mrn,
        "IV 2",
        "11:45–12:55",
        "阮, 文英",
        other,
        "IV ketamine booster",
        "Nasal 2",
        "Page 1 of 1",
    ]
    for field in fields:
        assert field in text


def test_a_holiday_says_the_location_is_closed_and_why(
    cli: Any, sqlite_clinic: Clinic, tmp_path: Path
) -> None:
    pdf = tmp_path / "thanksgiving.pdf"
    result = cli(*day_args(sqlite_clinic, "2026-11-26", "--pdf", str(pdf)))
    assert result.out.splitlines()[0] == (
        "KetaDesk NYC (NYC) · Thursday, November 26, 2026 · "
        "Closed: Thanksgiving Day (public holiday)"
    )
    assert "Closed: Thanksgiving Day (public holiday)" in PdfReader(pdf).pages[0].extract_text()
    data = cli(*day_args(sqlite_clinic, "11/26/2026", "--json")).json()
    assert (data["closed"], data["hours"]) == ("Thanksgiving Day (public holiday)", [])


def test_today_is_the_locations_today(
    capsys: pytest.CaptureFixture[str], sqlite_clinic: Clinic
) -> None:
    # 03:30 UTC on Tuesday 8 December is still Monday evening in New York.
    cli = runner(capsys, clock=Clock(at=datetime(2026, 12, 8, 3, 30, tzinfo=UTC)))
    assert cli(*day_args(sqlite_clinic, "today", "--json")).json()["date"] == "2026-12-07"
    assert cli(*day_args(sqlite_clinic, "Tomorrow", "--json")).json()["date"] == "2026-12-08"


def test_session_book_reads_now_from_the_commands_clock(
    capsys: pytest.CaptureFixture[str], sqlite_clinic: Clinic
) -> None:
    start = local(sqlite_clinic.monday, "09:00")
    late = runner(capsys, clock=Clock(at=start + timedelta(days=1)))
    refused = book(late, sqlite_clinic, "IV 1", when(sqlite_clinic.monday, "09:00"))
    expect_one_error_line(
        refused, f"--start: {sqlite_clinic.monday:%a %d %b %Y} 09:00: that time has already passed"
    )
    assert count(sqlite_clinic.db, TreatmentSession) == 0
    early = runner(capsys, clock=Clock(at=start - timedelta(days=1)))
    booked = book(early, sqlite_clinic, "IV 1", when(sqlite_clinic.monday, "09:00"))
    assert booked.code == 0, booked.err
    assert count(sqlite_clinic.db, TreatmentSession) == 1


def test_schedule_day_needs_a_location_when_there_are_several(
    cli: Any, sqlite_clinic: Clinic
) -> None:
    with sqlite_clinic.db.transaction() as session:
        add_location(session, "BOS", name="KetaDesk Boston")
    expect_one_error_line(
        cli(*day_args(sqlite_clinic, "2026-12-07")),
        "--location: there are 2 locations; choose one of BOS, NYC",
    )
    assert cli(*day_args(sqlite_clinic, "2026-12-07", "--location", "bos")).out.startswith(
        "KetaDesk Boston (BOS)"
    )


def test_schedule_day_errors(cli: Any, sqlite_clinic: Clinic, tmp_path: Path) -> None:
    expect_one_error_line(
        cli(*day_args(sqlite_clinic, "2026-13-45")),
        "DATE: 2026-13-45 is not a real calendar date; check the month and the day",
    )
    expect_one_error_line(
        cli(*day_args(sqlite_clinic, "0001-01-01")),
        "DATE: 0001-01-01 is before 01/01/1900, the earliest date this takes",
    )
    expect_one_error_line(
        cli(*day_args(sqlite_clinic, "2026-12-07", "--location", "BOS")),
        "--location: there is no location with code BOS",
    )
    missing = tmp_path / "no" / "such" / "folder" / "sheet.pdf"
    expect_one_error_line(
        cli(*day_args(sqlite_clinic, "2026-12-07", "--pdf", str(missing))),
        f"--pdf: cannot write {missing}: No such file or directory; nothing was written",
    )


def test_schedule_day_without_locations(cli: Any, sqlite_db: Database) -> None:
    expect_one_error_line(
        cli("schedule", "day", "2026-12-07", "--db", sqlite_db.url),
        "there are no locations yet; add one in the window, under Settings → Locations",
    )


def test_the_pdf_matches_the_text(cli: Any, sqlite_clinic: Clinic, tmp_path: Path) -> None:
    c, day = sqlite_clinic, sqlite_clinic.monday
    book(cli, c, "IV 1", when(day, "15:00"))
    pdf = tmp_path / "sheet.pdf"
    data = cli(*day_args(c, day, "--pdf", str(pdf), "--json")).json()
    assert data["pdf"] == str(pdf)
    text = PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text()
    (entry,) = data["chairs"][0]["sessions"]
    assert f"{entry['mrn']}\n" in text and f"\n{entry['patient']}\n" in text


# --- series plan -----------------------------------------------------------------------------


def plan_args(c: Clinic, key: str, *extra: str, mrn: str = "") -> list[str]:
    return [
        "series",
        "plan",
        "--db",
        c.url,
        "--patient",
        mrn or c.mrn,
        "--protocol",
        key,
        "--start",
        c.monday.isoformat(),
        "--location",
        "NYC",
        *extra,
    ]


def shown(item: dict[str, Any]) -> str:
    start = datetime.fromisoformat(item["local_start"])
    end = datetime.fromisoformat(item["local_end"])
    return f"{start:%a %Y-%m-%d %H:%M}-{end:%H:%M}"


def test_series_plan_prints_every_session_and_books_nothing(
    cli: Any, sqlite_clinic: Clinic
) -> None:
    c = sqlite_clinic
    result = cli(*plan_args(c, "iv-induction"))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == (
        f"IV ketamine induction for Łukasiewicz, Zoë (MRN {c.mrn}) at KetaDesk NYC, "
        "times in America/New_York"
    )
    assert lines[2].split() == ["#", "When", "Chair", "Provider"]
    sessions = cli(*plan_args(c, "iv-induction", "--json")).json()["sessions"]
    assert len(sessions) == 6
    for row, item in zip(lines[4:10], sessions, strict=True):
        expected = f"{item['number']} {shown(item)} {item['chair']} {item['provider']}"
        assert row.split() == expected.split()
    assert lines[-1] == "Bookable: run again with --book to book it."
    assert count(c.db, Series) == 0


def test_series_plan_json_gives_utc_and_local_instants(cli: Any, sqlite_clinic: Clinic) -> None:
    c = sqlite_clinic
    data = cli(*plan_args(c, "iv-induction", "--json")).json()
    assert data["patient"] == {"mrn": c.mrn, "name": "Łukasiewicz, Zoë"}
    assert data["protocol"] == {"key": "iv-induction", "name": "IV ketamine induction"}
    assert data["location"]["code"] == "NYC" and data["time_zone"] == "America/New_York"
    assert (data["bookable"], data["booked"], data["series_id"], data["refused"]) == (
        True,
        False,
        None,
        None,
    )
    assert (data["blockers"], data["warnings"]) == ([], [])
    assert [s["number"] for s in data["sessions"]] == [1, 2, 3, 4, 5, 6]
    for item in data["sessions"]:
        utc, here = (datetime.fromisoformat(item[k]) for k in ("starts_at", "local_start"))
        assert utc.utcoffset() == timedelta(0) and utc == here
        assert here.utcoffset() == here.astimezone(NEW_YORK).utcoffset()
        assert item["chair"] in ("IV 1", "IV 2") and item["provider"] == "Ama Osei, MD"
        assert item["placed"] is True and item["problems"] == []
    days = [datetime.fromisoformat(s["local_start"]).date() for s in data["sessions"]]
    assert days[0] >= c.monday and days == sorted(days)


def test_series_plan_book_books_the_plan_it_shows(cli: Any, clinic: Clinic) -> None:
    planned = cli(*plan_args(clinic, "iv-induction", "--json")).json()
    result = cli(*plan_args(clinic, "iv-induction", "--book", "--json"))
    assert result.code == 0, result.err
    data = result.json()
    assert data["booked"] is True and len(data["session_ids"]) == 6
    assert data["sessions"] == planned["sessions"]
    with clinic.db.reading() as session:
        rows = session.scalars(
            select(TreatmentSession)
            .where(TreatmentSession.series_id == data["series_id"])
            .order_by(TreatmentSession.number)
        ).all()
        assert [r.id for r in rows] == data["session_ids"]
        assert [r.starts_at.isoformat() for r in rows] == [s["starts_at"] for s in data["sessions"]]
    text = cli(*plan_args(clinic, "iv-induction", "--book", mrn=add_patient(clinic.db)))
    assert text.code == 0, text.err
    booked_line = [line for line in text.out.splitlines() if line.startswith("Booked series ")]
    assert len(booked_line) == 1
    # A self-pay patient's series gets its Good Faith Estimate drafted in the same step.
    assert text.out.splitlines()[-1].startswith("Good Faith Estimate GFE-")
    assert text.out.count("S-") == 6


def test_plan_and_book_share_one_write_transaction(
    cli: Any, sqlite_clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketadesk.scheduling import booking, planner

    seen: list[tuple[str, int, bool]] = []
    real_plan, real_book = planner.plan_series, booking.book_series

    def plan_series(session: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(("plan", id(session), session.in_transaction()))
        return real_plan(session, *args, **kwargs)

    def book_series(session: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(("book", id(session), session.in_transaction()))
        return real_book(session, *args, **kwargs)

    monkeypatch.setattr(planner, "plan_series", plan_series)
    monkeypatch.setattr(booking, "book_series", book_series)
    assert cli(*plan_args(sqlite_clinic, "iv-induction", "--book")).code == 0
    (plan_call, book_call) = seen
    assert plan_call[1] == book_call[1] and plan_call[2] and book_call[2]
    seen.clear()
    assert (
        cli(*plan_args(sqlite_clinic, "iv-induction", mrn=add_patient(sqlite_clinic.db))).code == 0
    )
    assert [name for name, _, _ in seen] == ["plan"]


@pytest.mark.parametrize("book", [(), ("--book",)])
def test_series_plan_from_a_day_gone_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], sqlite_clinic: Clinic, book: tuple[str, ...]
) -> None:
    args = plan_args(sqlite_clinic, "iv-induction", *book)
    args[args.index("--start") + 1] = "2026-01-05"
    # The command's clock decides what has passed: 01:00 UTC on 10 Dec is 9 Dec in New York.
    cli = runner(capsys, clock=Clock(at=datetime(2026, 12, 10, 1, 0, tzinfo=UTC)))
    result = cli(*args)
    expect_one_error_line(
        result,
        "--start: Mon 05 Jan 2026 has already passed at KetaDesk NYC; "
        "start on Wed 09 Dec 2026 or later",
    )
    assert result.out == ""
    assert count(sqlite_clinic.db, Series) == 0


def test_hard_stops_refuse_booking_and_say_why(cli: Any, clinic: Clinic) -> None:
    unenrolled = add_patient(clinic.db, family_name="Ng", given_name="Ana", rems_enrolled_on="")
    args = plan_args(clinic, "esketamine-induction", mrn=unenrolled)
    shown_only = cli(*args)
    assert shown_only.code == 0 and "Cannot be booked:" in shown_only.out
    refused = cli(*args, "--book")
    assert refused.code == 2
    assert refused.err.startswith(
        "ketadesk: error: not booked: Ana Ng is not enrolled in the Spravato REMS"
    )
    assert refused.err.count("\n") == 1 and "Cannot be booked:" in refused.out
    assert count(clinic.db, Series) == 0


def test_unplaced_sessions_refuse_booking_and_offer_alternatives(
    cli: Any, sqlite_clinic: Clinic
) -> None:
    args = plan_args(sqlite_clinic, "iv-induction", "--weekdays", "sat,sun", "--book")
    refused = cli(*args)
    expect_one_error_line(
        refused,
        "not booked: sessions 1, 2, 3, 4, 5, 6 could not be placed; pick one of the "
        "alternatives offered, or plan again from another start or with other preferences",
    )
    assert refused.out.count("not placed") == 6
    assert "     ! " in refused.out and "     or " in refused.out
    data = cli(*args, "--json").json()
    assert data["refused"].startswith("not booked: sessions 1, 2")
    first = data["sessions"][0]
    assert (first["placed"], first["starts_at"], first["chair"]) == (False, None, None)
    assert first["problems"] and first["alternatives"]
    for choice in first["alternatives"]:
        assert datetime.fromisoformat(choice["starts_at"]).utcoffset() == timedelta(0)
        assert choice["local_start"] != choice["starts_at"] and choice["chair"].startswith("IV")
    assert count(sqlite_clinic.db, Series) == 0


def test_warnings_must_be_acknowledged_to_book(cli: Any, clinic: Clinic) -> None:
    flagged = add_patient(
        clinic.db, family_name="Ng", given_name="Ana", screening_flags="pregnancy"
    )
    args = plan_args(clinic, "iv-induction", "--book", mrn=flagged)
    refused = cli(*args)
    assert refused.code == 2
    assert refused.err.startswith(
        "ketadesk: error: acknowledge with --acknowledge: Screening: the patient has a pregnancy"
    )
    assert refused.err.count("\n") == 1
    assert "[screening:pregnancy]" in refused.out and "Bookable" not in refused.out
    assert count(clinic.db, Series) == 0
    booked = cli(*args, "--acknowledge", "--json")
    assert booked.code == 0, booked.err
    assert booked.json()["warnings"][0]["code"] == "screening:pregnancy"
    assert count(clinic.db, TreatmentSession) == 6


def test_a_second_series_of_the_same_modality_must_be_acknowledged(
    cli: Any, sqlite_clinic: Clinic
) -> None:
    first = booked_series(cli, sqlite_clinic)
    args = plan_args(sqlite_clinic, "iv-induction", "--book")
    args[args.index("--start") + 1] = (sqlite_clinic.monday + timedelta(days=14)).isoformat()

    refused = cli(*args)

    assert refused.code == 2 and refused.err.count("\n") == 1
    assert refused.err.startswith(
        "ketadesk: error: acknowledge with --acknowledge: Zoë Łukasiewicz already has another "
        f"IV infusion series under way: IV ketamine induction (series {first['series_id']}), "
        "0 of 6, next "
    )
    assert count(sqlite_clinic.db, Series) == 1
    assert cli(*args, "--acknowledge").code == 0
    assert count(sqlite_clinic.db, Series) == 2


def test_the_location_defaults_to_the_patients_home(cli: Any, sqlite_clinic: Clinic) -> None:
    c = sqlite_clinic
    args = [
        "series",
        "plan",
        "--db",
        c.url,
        "--patient",
        c.mrn,
        "--protocol",
        "iv-induction",
        "--start",
        c.monday.isoformat(),
    ]
    expect_one_error_line(
        cli(*args),
        f"--location: needed, because Łukasiewicz, Zoë (MRN {c.mrn}) has no home location",
    )
    with c.db.transaction() as session:
        patient = session.scalars(select(Patient).where(Patient.mrn == c.mrn)).one()
        patient.home_location_id = session.scalars(select(Location.id)).one()
    assert cli(*args, "--json").json()["location"]["code"] == "NYC"


def test_preferences_reach_the_plan(cli: Any, sqlite_clinic: Clinic) -> None:
    c = sqlite_clinic
    data = cli(
        *plan_args(
            c,
            "esketamine-induction",
            "--weekdays",
            "Monday, thu",
            "--earliest",
            "13:00",
            "--latest",
            "14:00",
            "--json",
        )
    ).json()
    starts = [datetime.fromisoformat(s["local_start"]) for s in data["sessions"]]
    assert len(starts) == 12
    assert {s.weekday() for s in starts} <= {0, 3}
    assert all("13:00" <= f"{s:%H:%M}" <= "14:00" for s in starts)
    upkeep = cli(
        *plan_args(c, "esketamine-maintenance", "--interval", "2", "--count", "3", "--json")
    ).json()
    days = [datetime.fromisoformat(s["local_start"]).date() for s in upkeep["sessions"]]
    assert (len(days), upkeep["interval_weeks"]) == (3, 2)
    assert [b - a for a, b in itertools.pairwise(days)] == [timedelta(days=14)] * 2


def test_every_bad_preference_is_named_at_once(cli: Any, sqlite_clinic: Clinic) -> None:
    expect_one_error_line(
        cli(
            *plan_args(
                sqlite_clinic,
                "iv-induction",
                "--weekdays",
                "sat,funday",
                "--earliest",
                "25:00",
                "--count",
                "0",
            )
        ),
        "--weekdays: 'funday' is not a weekday; use mon, tue, wed, thu, fri, sat, sun or full "
        "names; --earliest: '25:00' is not a time of day; write it as HH:MM, e.g. 09:30; "
        "--count: '0' is not a whole number of at least 1",
    )
    expect_one_error_line(
        cli(*plan_args(sqlite_clinic, "iv-induction", "--earliest", "14:00", "--latest", "9:00")),
        "--latest: 09:00 is before the earliest time 14:00",
    )
    interval = cli(*plan_args(sqlite_clinic, "esketamine-maintenance", "--interval", "9"))
    assert interval.code == 2 and interval.err.startswith("ketadesk: error: --interval: every 9 ")


def test_series_plan_look_up_errors_name_their_option(cli: Any, sqlite_clinic: Clinic) -> None:
    c = sqlite_clinic
    expect_one_error_line(
        cli(*plan_args(c, "iv-induction", mrn="999999")), "--patient: no patient with MRN 999999"
    )
    args = plan_args(c, "iv-induction")
    args[args.index("--start") + 1] = "31/12/2027"
    expect_one_error_line(
        cli(*args),
        "--start: 31/12/2027 has month 31; dates are written month first (MM/DD/YYYY), "
        "e.g. 12/31/2027",
    )
    unknown = cli(*plan_args(c, "nope"))
    assert unknown.code == 2 and unknown.err.startswith("ketadesk: error: --protocol: no protocol")


def test_weekday_words() -> None:
    from ketadesk.cli.series import parse_clock, parse_weekdays

    assert parse_weekdays("mon, WED thursday") == frozenset({0, 2, 3})
    assert parse_weekdays("Tues,sun") == frozenset({1, 6})
    with pytest.raises(ValueError, match="name at least one weekday"):
        parse_weekdays(" , ")
    with pytest.raises(ValueError, match="'xx', 'yy' are not weekdays"):
        parse_weekdays("xx,yy")
    assert parse_clock("9:05").isoformat() == "09:05:00"
    with pytest.raises(ValueError, match="not a time of day"):
        parse_clock("9.30")
