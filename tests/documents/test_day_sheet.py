"""The printed day sheet, read back with pypdf field by field.

Most tests render a :class:`CalendarWindow` built by hand (the renderer's whole input), so a
day of 60 sessions or a closed day needs no bookings; one test renders a window read from a
real database on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from builders import SchedulingClinic, at, scheduling_clinic
from pypdf import PdfReader
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.clinic.locations import Interval
from ketadesk.clinic.models import Modality
from ketadesk.documents import day_sheet
from ketadesk.documents.day_sheet import render_day_sheet, sessions_by_chair
from ketadesk.scheduling.calendar import (
    CalendarDay,
    CalendarEntry,
    CalendarWindow,
    ChairColumn,
    calendar_window,
)
from ketadesk.scheduling.models import Series, SessionStatus, TreatmentSession

ZONE = ZoneInfo("America/New_York")
DAY = date(2026, 12, 7)
CHAIRS = (
    ChairColumn(1, "IV 1", frozenset({Modality.IV}), True),
    ChairColumn(2, "IV 2", frozenset({Modality.IV}), True),
    ChairColumn(3, "Nasal 1", frozenset({Modality.ESKETAMINE}), True),
    ChairColumn(4, "Old chair", frozenset({Modality.IV}), False),
)
PRINTED = datetime(2026, 12, 6, 22, 5, tzinfo=UTC)
LONG_NAME = "Featherstonehaugh, Alexandra Maximiliane Josephine Wilhelmina"


def entry(
    number: int,
    chair: ChairColumn,
    clock: str,
    name: str = "Łukasiewicz, Zoë",
    *,
    status: SessionStatus = SessionStatus.SCHEDULED,
    driver: bool = False,
    minutes: int = 70,
    driver_name: str = "",
    driver_phone: str = "",
) -> CalendarEntry:
    local = datetime.combine(DAY, time.fromisoformat(clock), tzinfo=ZONE)
    return CalendarEntry(
        session_id=number,
        reference=f"S-{number}",
        version=1,
        series_id=number,
        number=(number - 1) % 6 + 1,
        series_size=6,
        patient_id=number,
        patient_name=name,
        mrn=f"{100000 + number}",
        protocol_key="iv-induction",
        protocol_name="IV ketamine induction",
        modality=Modality.IV,
        status=status,
        chair_id=chair.chair_id,
        chair_name=chair.name,
        provider_id=1,
        provider_name="Ama Osei, MD",
        starts_at=local.astimezone(UTC),
        ends_at=(local + timedelta(minutes=minutes)).astimezone(UTC),
        local_start=local,
        local_end=local + timedelta(minutes=minutes),
        driver_confirmed=driver,
        driver_name=driver_name,
        driver_phone=driver_phone,
    )


def window(*entries: CalendarEntry, closed: str | None = None) -> CalendarWindow:
    hours = () if closed else (Interval(0, time(8), time(12)), Interval(0, time(13), time(18)))
    return CalendarWindow(
        location_id=1,
        location_code="NYC",
        location_name="KetaDesk NYC",
        time_zone="America/New_York",
        days=(CalendarDay(DAY, closed, hours),),
        chairs=CHAIRS,
        entries=tuple(sorted(entries, key=lambda e: (e.starts_at, e.chair_name))),
    )


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def render(w: CalendarWindow, clinic_name: str = "Brightwater Ketamine Clinic") -> bytes:
    return render_day_sheet(w, clinic_name=clinic_name, printed_at=PRINTED, deterministic=True)


def assert_in_order(text: str, fields: list[str], start: int = 0) -> int:
    """Assert ``fields`` appear in ``text`` in this order from ``start``; return the end."""
    for field in fields:
        found = text.find(field, start)
        assert found >= 0, f"{field!r} missing after position {start}"
        start = found + len(field)
    return start


def test_header_names_the_clinic_location_day_and_hours() -> None:
    (text,) = pages(render(window(entry(1, CHAIRS[0], "09:00"))))
    lines = text.splitlines()
    assert lines[:4] == [
        "Brightwater Ketamine Clinic",
        "Monday, December 7, 2026 · KetaDesk NYC (NYC)",
        "Open 08:00-12:00, 13:00-18:00",
        "1 session booked.",
    ]
    assert "Day sheet NYC 2026-12-07 · printed 2026-12-06 17:05 EST" in text
    assert text.rstrip().endswith("Page 1 of 1")


def test_each_session_prints_every_field_under_its_chair() -> None:
    w = window(
        entry(1, CHAIRS[0], "09:00", driver=True),
        entry(2, CHAIRS[1], "09:00", "阮文英, 阮"),
        entry(3, CHAIRS[0], "10:30", "Nguyễn, Thị Minh Khai", status=SessionStatus.CONFIRMED),
    )
    (text,) = pages(render(w))
    columns = ["Time", "Patient", "MRN", "Protocol", "Status", "Provider", "Driver"]
    at_iv1 = assert_in_order(text, ["IV 1", *columns])
    zoe = ["09:00–10:10", "Łukasiewicz, Zoë", "100001", "IV ketamine induction", "1 of 6"]
    end = assert_in_order(text, [*zoe, "Scheduled", "Ama Osei, MD", "✓"], at_iv1)
    nguyen = ["10:30–11:40", "Nguyễn, Thị Minh Khai", "100003", "3 of 6", "Confirmed"]
    end = assert_in_order(text, nguyen, end)
    end = assert_in_order(text, ["IV 2", *columns, "09:00–10:10", "阮文英, 阮", "100002"], end)
    assert text.count("✓") == 1


def test_empty_chairs_say_so_and_retired_empty_chairs_are_left_out() -> None:
    (text,) = pages(render(window(entry(1, CHAIRS[0], "09:00"))))
    assert_in_order(text, ["IV 2", "No sessions booked.", "Nasal 1", "No sessions booked."])
    assert "Old chair" not in text


def test_a_retired_chair_still_holding_sessions_is_printed_as_out_of_service() -> None:
    (text,) = pages(render(window(entry(1, CHAIRS[3], "09:00"))))
    assert text.count("Old chair (out of service)") == 1
    assert_in_order(text, ["Old chair (out of service)", "09:00–10:10", "100001"])


def test_cancelled_sessions_print_with_their_status_and_are_counted_apart() -> None:
    w = window(
        entry(1, CHAIRS[0], "09:00"),
        entry(2, CHAIRS[0], "11:00", status=SessionStatus.LATE_CANCELLED),
        entry(3, CHAIRS[1], "11:00", status=SessionStatus.NO_SHOW),
    )
    (text,) = pages(render(w))
    assert "1 session booked; 2 cancelled or no-show." in text
    assert_in_order(text, ["11:00–12:10", "100002", "Late", "cancelled"])  # wraps in its cell
    assert_in_order(text, ["IV 2", "100003", "No-show"])


def test_a_closed_day_gives_the_reason() -> None:
    w = window(closed="Thanksgiving Day (public holiday)")
    (text,) = pages(render(w))
    assert "Closed: Thanksgiving Day (public holiday)" in text
    assert "No sessions booked." in text
    closure = window(closed="Closed: Staff training")
    assert "Closed: Staff training\n" in pages(render(closure))[0]


def test_the_driver_column_names_the_usual_driver_and_ticks_a_confirmed_ride() -> None:
    """Issue 9: the column was empty until the checklist; it now prints who drives the
    patient home (from the record) and ticks the ride once it is confirmed."""
    w = window(
        entry(1, CHAIRS[0], "09:00", driver_name="Sam Rivera", driver_phone="2125550199"),
        entry(2, CHAIRS[0], "10:30", driver=True, driver_name="Ana Ruiz"),
        entry(3, CHAIRS[1], "09:00", driver=True),
        entry(4, CHAIRS[2], "09:00"),
    )
    (text,) = pages(render(w))
    assert_in_order(text, ["100001", "Ama Osei, MD", "Sam Rivera", "(212) 555-0199", "10:30"])
    assert_in_order(text, ["100002", "Ama Osei, MD", "✓ Ana Ruiz"])
    assert_in_order(text, ["IV 2", "100003", "Ama Osei, MD", "✓", "Nasal 1", "100004"])
    assert text.count("✓") == 2


def test_the_signatures_never_stand_alone_on_the_last_page() -> None:
    """Whatever the number of sessions, the last page holds at least one session row with
    the notes and signature lines (they used to move on alone when the page was full)."""
    for count in range(10, 48):
        sessions = [
            entry(n, CHAIRS[2 if n > count // 2 else 0], f"{8 + n % 10:02}:{n * 7 % 60:02}")
            for n in range(1, count + 1)
        ]
        texts = pages(render(window(*sessions)))
        last = texts[-1]
        assert "Signature" in last, f"{count} sessions: the signatures are not on the last page"
        rows = [line for line in last.splitlines() if line.startswith("1000")]
        assert rows, f"{count} sessions: the last page holds only the notes and signatures"
        assert "".join(texts[:-1]).count("Signature") == 0


def test_a_long_name_wraps_inside_its_cell_without_losing_words() -> None:
    (text,) = pages(render(window(entry(1, CHAIRS[0], "09:00", LONG_NAME))))
    assert_in_order(text, ["09:00–10:10", *LONG_NAME.split(), "100001", "IV ketamine"])
    assert LONG_NAME not in text  # it did not fit one line: it wrapped rather than ran over


def sixty_sessions() -> CalendarWindow:
    entries = [
        entry(
            n,
            CHAIRS[n % 3],
            f"{8 + n // 6:02}:{n % 6 * 10:02}",
            LONG_NAME if n % 7 == 0 else "Łukasiewicz, Zoë",
            driver=n % 2 == 0,
        )
        for n in range(1, 61)
    ]
    return window(*entries)


def test_sixty_sessions_flow_onto_numbered_pages_with_nothing_lost() -> None:
    texts = pages(render(sixty_sessions()))
    total = len(texts)
    assert total >= 3
    for number, text in enumerate(texts, start=1):
        assert text.rstrip().endswith(f"Page {number} of {total}")
    everything = "\n".join(texts)
    for n in range(1, 61):
        assert everything.count(f"{100000 + n}\n") == 1
    assert everything.count("Signature") == 1


def test_a_chair_running_onto_the_next_page_repeats_its_name_and_headings() -> None:
    texts = pages(render(sixty_sessions()))
    continued = [t for t in texts[1:] if t.lstrip().startswith(("IV 1", "IV 2", "Nasal 1"))]
    assert continued, "no page starts with a chair's name"
    for text in continued:
        assert_in_order(text, ["Time", "Patient", "MRN", "Protocol", "Status"])


def test_deterministic_mode_gives_identical_bytes() -> None:
    first, second = render(sixty_sessions()), render(sixty_sessions())
    assert first == second
    other = render(replace(sixty_sessions(), location_name="KetaDesk Midtown"))
    assert other != first


def test_without_deterministic_mode_the_printed_time_defaults_to_now() -> None:
    pdf = render_day_sheet(window(), clinic_name="Brightwater")
    today = datetime.now(ZONE).strftime("%Y-%m-%d")
    assert f"printed {today}" in pages(pdf)[0]
    unprinted = render_day_sheet(window(), clinic_name="Brightwater", deterministic=True)
    assert "printed" not in pages(unprinted)[0]


def test_a_naive_printed_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        render_day_sheet(window(), clinic_name="B", printed_at=datetime(2026, 12, 6, 9, 0))


def test_only_the_shipped_fonts_are_embedded() -> None:
    reader = PdfReader(io.BytesIO(render(window(entry(1, CHAIRS[0], "09:00", "阮文英, 阮")))))
    used = {
        str(font.get_object()["/BaseFont"]).split("+")[-1]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert used == {"DejaVuSans", "DejaVuSans-Bold", "DroidSansFallback"}
    assert reader.metadata is not None and reader.metadata.title == "Day sheet NYC 2026-12-07"


def test_the_columns_fill_the_page_between_the_margins() -> None:
    page_width = 612
    assert sum(day_sheet.WIDTHS) == page_width - 2 * (day_sheet.MARGIN + day_sheet.FRAME_PADDING)


def booked_window(
    session: Session, clinic: SchedulingClinic, admin: Actor, *, number: int, driver: bool
) -> CalendarWindow:
    """The window of DAY after writing one IV session at 09:15 in the second IV chair."""
    protocol = clinic.protocols["iv-induction"]
    series = Series(
        patient_id=clinic.patient.id, protocol_id=protocol.id, location_id=clinic.location.id
    )
    session.add(series)
    session.flush()
    starts = at("2026-12-07 09:15")
    session.add(
        TreatmentSession(
            series_id=series.id,
            number=number,
            patient_id=clinic.patient.id,
            location_id=clinic.location.id,
            chair_id=clinic.iv_chairs[1].id,
            provider_id=clinic.provider.id,
            modality=protocol.modality,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=protocol.chair_minutes),
            driver_confirmed=driver,
        )
    )
    session.flush()
    return calendar_window(session, admin, clinic.location.id, DAY, 1)


def test_a_window_from_the_database_prints_its_sessions(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    w = booked_window(session, clinic, admin, number=2, driver=True)
    assert [g.name for g in sessions_by_chair(w, DAY)] == ["IV 1", "IV 2", "Nasal 1", "Nasal 2"]
    (text,) = pages(render(w, clinic_name=w.location_name))
    header = "KetaDesk NYC\nMonday, December 7, 2026 · Location NYC\nOpen 08:00-18:00\n"
    assert text.startswith(header)
    assert_in_order(text, ["IV 2", "09:15–10:25", "Łukasiewicz, Zoë", clinic.patient.mrn, "2 of 6"])
    assert_in_order(text, ["Scheduled", "Osei", "✓", "Nasal 1"])


def test_the_usual_driver_comes_from_the_patients_record(session: Session, admin: Actor) -> None:
    clinic = scheduling_clinic(session, admin)
    clinic.patient.driver_name = "Sam Rivera"
    clinic.patient.driver_phone = "2125550199"
    w = booked_window(session, clinic, admin, number=1, driver=False)
    (found,) = w.entries
    assert (found.driver_name, found.driver_phone, found.driver_confirmed) == (
        "Sam Rivera",
        "2125550199",
        False,
    )
    (text,) = pages(render(w))
    assert_in_order(text, ["IV 2", "09:15–10:25", "Osei", "Sam Rivera", "(212) 555-0199"])
    assert "✓" not in text
