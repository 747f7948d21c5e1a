"""The week view's statements are built once and reused with new parameters (issue 14)."""

from __future__ import annotations

from datetime import date

from builders import at, scheduling_clinic
from scheduling.planning_helpers import existing_session
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.scheduling import calendar
from ketadesk.scheduling.models import SessionStatus


def test_moving_through_weeks_reuses_one_statement_and_reads_each_span(
    session: Session, admin: Actor
) -> None:
    clinic = scheduling_clinic(session, admin)
    protocol = clinic.protocols["iv-induction"]
    booked = [existing_session(session, clinic.patient, protocol, clinic.iv_chairs[0],
                               clinic.provider, at(start), number=number)
              for number, start in enumerate(("2026-12-07 09:00", "2026-12-15 10:00"), 1)]
    booked[1].status = SessionStatus.CANCELLED  # changed, not yet flushed: still shown so
    calendar._entries_statement.cache_clear()
    weeks = []
    for monday in (date(2026, 12, 7), date(2026, 12, 14), date(2026, 12, 21)):
        window = calendar.calendar_window(session, admin, clinic.location.id, monday, 7)
        weeks.append([(e.session_id, e.status) for e in window.entries])
    assert weeks == [[(booked[0].id, SessionStatus.SCHEDULED)],
                     [(booked[1].id, SessionStatus.CANCELLED)], []]
    assert calendar._entries_statement.cache_info().misses == 1
    live = calendar.calendar_window(session, admin, clinic.location.id, date(2026, 12, 14), 7,
                                    include_released=False)
    assert live.entries == ()
