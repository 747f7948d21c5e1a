"""REMS monitoring forms on SQLite and PostgreSQL: due dates, filing, the overdue list."""

from __future__ import annotations

from datetime import date

import pytest
from builders import SchedulingClinic, add_chair, add_location, at, scheduling_clinic
from scheduling.floor_helpers import NURSE, book, complete_esketamine
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor
from ketadesk.clinic.models import Modality
from ketadesk.errors import Conflict, PermissionDenied, ValidationError
from ketadesk.scheduling import floor, rems
from ketadesk.scheduling.models import SessionStatus


@pytest.fixture
def clinic(session: Session) -> SchedulingClinic:
    return scheduling_clinic(session)


def test_the_form_is_due_seven_days_after_the_local_session_day(
    session: Session, clinic: SchedulingClinic
) -> None:
    # 20:00 in New York is already the next day in UTC; the form follows the clinic's day.
    ts = complete_esketamine(session, clinic, "2026-12-07 20:00")
    assert ts.rems_form_due_on == date(2026, 12, 14)
    [form] = rems.rems_forms_due(session, NURSE, today=date(2026, 12, 8))
    assert (form.session_day, form.due_on, form.days_left) == (
        date(2026, 12, 7),
        ts.rems_form_due_on,
        6,
    )
    assert rems.rems_form_due_on(date(2026, 12, 28)) == date(2027, 1, 4)


def test_forms_due_list_overdue_first_then_by_due_date(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    late = complete_esketamine(session, clinic, "2026-12-01 09:00")  # due 8 Dec
    soon = complete_esketamine(session, clinic, "2026-12-08 09:00")  # due 15 Dec
    later = complete_esketamine(session, clinic, "2026-12-03 14:00")  # due 10 Dec, filed
    rems.file_rems_form(session, NURSE, later.id, date(2026, 12, 4), today=date(2026, 12, 9))
    first = complete_esketamine(session, clinic, "2026-12-02 09:00")  # due 9 Dec

    forms = rems.rems_forms_due(session, front_desk, today=date(2026, 12, 9))
    assert [(f.session_id, f.due_on, f.overdue, f.days_left) for f in forms] == [
        (late.id, date(2026, 12, 8), True, -1),
        (first.id, date(2026, 12, 9), False, 0),
        (soon.id, date(2026, 12, 15), False, 6),
    ]
    shown = forms[0]
    assert shown.reference == f"S-{late.id}"
    assert shown.patient_id == clinic.patient.id
    assert shown.patient_name == clinic.patient.display_name
    assert shown.mrn == clinic.patient.mrn
    assert shown.session_day == date(2026, 12, 1)
    assert shown.filed_on is None


def test_filed_forms_show_only_when_asked(session: Session, clinic: SchedulingClinic) -> None:
    ts = complete_esketamine(session, clinic, "2026-12-01 09:00")
    rems.file_rems_form(session, NURSE, ts.id, date(2026, 12, 10), today=date(2026, 12, 10))
    assert rems.rems_forms_due(session, NURSE, today=date(2026, 12, 20)) == []
    overdue = complete_esketamine(session, clinic, "2026-12-03 09:00")
    listed = rems.rems_forms_due(session, NURSE, today=date(2026, 12, 20), include_filed=True)
    assert [(f.session_id, f.filed_on, f.overdue) for f in listed] == [
        (overdue.id, None, True),  # overdue first, though due after the filed one
        (ts.id, date(2026, 12, 10), False),
    ]


def test_only_completed_esketamine_sessions_are_listed(
    session: Session, clinic: SchedulingClinic
) -> None:
    done = complete_esketamine(session, clinic, "2026-12-01 09:00")
    on_the_floor = book(session, clinic, start="2026-12-02 09:00")
    floor.check_in(session, NURSE, on_the_floor.id, now=at("2026-12-02 08:55"))
    infusion = book(session, clinic, "iv-induction", start="2026-12-02 09:00")
    infusion.status = SessionStatus.COMPLETED
    # Due dates set some other way (an import, a hand edit) do not put them on the list.
    on_the_floor.rems_form_due_on = infusion.rems_form_due_on = date(2026, 12, 9)
    session.flush()
    forms = rems.rems_forms_due(session, NURSE, today=date(2026, 12, 20))
    assert [f.session_id for f in forms] == [done.id]


def test_forms_due_by_location(session: Session, clinic: SchedulingClinic) -> None:
    here = complete_esketamine(session, clinic, "2026-12-01 09:00")
    boston = add_location(session, "BOS", city="Boston", state="MA", zip_code="02108")
    chair = add_chair(session, boston, "Nasal B", frozenset({Modality.ESKETAMINE}))
    there = book(session, clinic, start="2026-12-02 09:00", chair=chair)
    there.location_id = boston.id
    session.flush()
    there.status = SessionStatus.COMPLETED
    there.rems_form_due_on = date(2026, 12, 9)
    session.flush()
    today = date(2026, 12, 20)
    assert [f.session_id for f in rems.rems_forms_due(session, NURSE, today=today)] == [
        here.id,
        there.id,
    ]
    only_here = rems.rems_forms_due(session, NURSE, location_id=clinic.location.id, today=today)
    assert [f.session_id for f in only_here] == [here.id]


def test_the_list_is_one_query(session: Session, clinic: SchedulingClinic) -> None:
    for day in ("2026-12-01", "2026-12-02", "2026-12-03"):
        complete_esketamine(session, clinic, f"{day} 09:00")
    session.expire_all()
    statements: list[str] = []

    def count(conn: Connection, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        forms = rems.rems_forms_due(session, NURSE, today=date(2026, 12, 20))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(forms) == 3
    assert all(f.patient_name for f in forms)
    assert len(statements) == 1


def test_filing_records_the_day_and_is_audited(session: Session, clinic: SchedulingClinic) -> None:
    ts = complete_esketamine(session, clinic, "2026-12-07 09:00")
    rems.file_rems_form(session, NURSE, ts.id, date(2026, 12, 9), today=date(2026, 12, 9))
    assert ts.rems_form_filed_on == date(2026, 12, 9)
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "treatment_session", AuditEntry.entity_id == str(ts.id))
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None and entry.actor == "nurse-kim"
    assert entry.after is not None and entry.after["rems_form_filed_on"] == "2026-12-09"


def test_filing_day_is_neither_in_the_future_nor_before_the_session(
    session: Session, clinic: SchedulingClinic
) -> None:
    ts = complete_esketamine(session, clinic, "2026-12-07 09:00")
    with pytest.raises(ValidationError, match="10 December 2026 is in the future"):
        rems.file_rems_form(session, NURSE, ts.id, date(2026, 12, 10), today=date(2026, 12, 9))
    with pytest.raises(ValidationError, match="is before the session on 7 December 2026"):
        rems.file_rems_form(session, NURSE, ts.id, date(2026, 12, 6), today=date(2026, 12, 9))
    assert ts.rems_form_filed_on is None


def test_only_completed_esketamine_sessions_file_a_form(
    session: Session, clinic: SchedulingClinic
) -> None:
    waiting = book(session, clinic)
    with pytest.raises(Conflict, match="is scheduled; the REMS form is filed after the patient"):
        rems.file_rems_form(session, NURSE, waiting.id, date(2026, 12, 7), today=date(2026, 12, 7))
    infusion = book(session, clinic, "iv-induction", start="2026-12-08 09:00")
    with pytest.raises(Conflict, match="is not an esketamine session; it has no REMS form"):
        rems.file_rems_form(session, NURSE, infusion.id, date(2026, 12, 8), today=date(2026, 12, 8))


def test_front_desk_may_see_the_list_but_not_file(
    session: Session, clinic: SchedulingClinic, front_desk: Actor
) -> None:
    ts = complete_esketamine(session, clinic, "2026-12-07 09:00")
    assert len(rems.rems_forms_due(session, front_desk, today=date(2026, 12, 9))) == 1
    with pytest.raises(PermissionDenied, match="may not record dosing"):
        rems.file_rems_form(session, front_desk, ts.id, date(2026, 12, 8), today=date(2026, 12, 9))
