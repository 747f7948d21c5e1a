"""The Schedule area driven as a person uses it: look, drag, double-click, book a series.

Every test runs on a private SQLite file (``sqlite_db``) with the scheduling clinic of
``tests/builders.py``: New York, Mon–Fri 08:00–18:00, chairs IV 1, IV 2, Nasal 1, Nasal 2.
The view's clock is fixed at Tue Dec 1 2026 09:00 so the shown week (Dec 7–13) is ahead.
Drags are real mouse presses, moves and releases on the calendar's viewport.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from builders import at, give_consents, patient_raw, scheduling_clinic
from PySide6.QtCore import QDate, QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QLabel, QWizard
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import actions
from ketadesk.billing.estimates import current_estimate
from ketadesk.billing.models import Estimate
from ketadesk.clinic.models import Chair, Location, Modality, Patient, Provider
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database
from ketadesk.scheduling.calendar import CalendarEntry
from ketadesk.scheduling.models import Protocol, Series, SessionStatus, TreatmentSession
from ketadesk.scheduling.planner import plan_series
from ketadesk.scheduling.waitlist import add_to_waitlist
from ketadesk.ui.context import AppContext
from ketadesk.ui.schedule import ScheduleView, colors
from ketadesk.ui.schedule.grid import SessionBlock
from ketadesk.ui.schedule.layout import side_by_side
from ketadesk.ui.schedule.session_dialog import SessionDialog
from ketadesk.ui.schedule.view import DAY, WEEK
from ketadesk.ui.schedule.wizard import NewSeriesWizard

pytestmark = pytest.mark.gui

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=NEW_YORK)
MONDAY = date(2026, 12, 7)
LEFT = Qt.MouseButton.LeftButton
NO_KEYS = Qt.KeyboardModifier.NoModifier


@dataclass(frozen=True)
class Clinic:
    location_id: int
    chairs: dict[str, int]
    patient_id: int  # Łukasiewicz, Zoë
    other_id: int  # Okafor, Chidi: uncontrolled hypertension on file
    protocols: dict[str, int]


def open_clinic(db: Database, admin: Actor) -> Clinic:
    with db.transaction() as s:
        clinic = scheduling_clinic(s, admin)
        other = create_patient(
            s,
            admin,
            patient_raw(
                family_name="Okafor",
                given_name="Chidi",
                date_of_birth="1979-06-02",
                screening_flags="uncontrolled_hypertension",
                weight_kg="82",
            ),
        )
        give_consents(s, other.id)
        return Clinic(
            clinic.location.id,
            {c.name: c.id for c in clinic.iv_chairs + clinic.esketamine_chairs},
            clinic.patient.id,
            other.id,
            {key: p.id for key, p in clinic.protocols.items()},
        )


def book(
    db: Database,
    clinic: Clinic,
    chair: str,
    start: str,
    *,
    patient_id: int | None = None,
    key: str = "iv-induction",
    status: SessionStatus = SessionStatus.SCHEDULED,
) -> int:
    """One session written directly (as an earlier booking left it); returns its id."""
    with db.transaction() as s:
        protocol = s.get(Protocol, clinic.protocols[key])
        provider = s.scalar(select(Provider.id))
        assert protocol is not None and provider is not None
        patient = patient_id or clinic.patient_id
        series = Series(patient_id=patient, protocol_id=protocol.id, location_id=clinic.location_id)
        s.add(series)
        s.flush()
        starts = at(start)
        row = TreatmentSession(
            series_id=series.id,
            number=1,
            patient_id=patient,
            location_id=clinic.location_id,
            chair_id=clinic.chairs[chair],
            provider_id=provider,
            modality=protocol.modality,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=protocol.chair_minutes),
            status=status,
        )
        s.add(row)
        s.flush()
        return row.id


def stored(db: Database, session_id: int) -> tuple[int, datetime, SessionStatus, int]:
    """Chair, local start, status and version of session ``session_id`` as saved."""
    with db.reading() as s:
        row = s.get(TreatmentSession, session_id)
        assert row is not None
        return row.chair_id, row.starts_at.astimezone(NEW_YORK), row.status, row.version


def open_view(qtbot: QtBot, db: Database, actor: Actor, mode: str = DAY) -> ScheduleView:
    view = ScheduleView(AppContext(db, actor), clock_now=lambda: NOW)
    qtbot.add_widget(view)
    view.resize(1280, 980)
    view.show()
    qtbot.waitExposed(view)
    view.set_mode(mode)
    view.go_to(MONDAY)
    return view


def block(view: ScheduleView, session_id: int) -> SessionBlock:
    found = view.grid.block(session_id)
    assert found is not None, f"S-{session_id} is not drawn"
    return found


def on_screen(view: ScheduleView, scene: QPointF) -> QPoint:
    return view.grid.mapFromScene(scene)


def drag(
    view: ScheduleView,
    session_id: int,
    chair: int,
    hour: int,
    minute: int = 0,
    *,
    day: date = MONDAY,
) -> None:
    """Press on the block's middle, drag it to ``chair`` on ``day`` at ``hour:minute``,
    let go."""
    grid = view.grid
    grip = grid.scene_point(session_id)
    home_top = block(view, session_id).pos().y()
    target = grid.drop_point(day, chair, hour * 60 + minute)
    end = QPointF(target.x(), grip.y() + target.y() - home_top)
    viewport = grid.viewport()
    start = on_screen(view, grip)
    QTest.mousePress(viewport, LEFT, NO_KEYS, start)
    QTest.mouseMove(viewport, start + QPoint(12, 12))
    QTest.mouseMove(viewport, on_screen(view, end))
    QTest.mouseRelease(viewport, LEFT, NO_KEYS, on_screen(view, end))


# -- what the calendar shows -----------------------------------------------------------------


def test_the_week_draws_each_session_in_its_chair_and_day_at_its_time(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    clinic = open_clinic(sqlite_db, admin)
    monday = book(sqlite_db, clinic, "IV 2", "2026-12-07 09:00")
    wednesday = book(
        sqlite_db,
        clinic,
        "Nasal 1",
        "2026-12-09 13:30",
        patient_id=clinic.other_id,
        key="esketamine-induction",
    )
    view = open_view(qtbot, sqlite_db, front_desk, WEEK)
    geometry = view.grid.geometry_
    assert geometry is not None
    for session_id, day, chair, minute in (
        (monday, MONDAY, "IV 2", 9 * 60),
        (wednesday, date(2026, 12, 9), "Nasal 1", 13 * 60 + 30),
    ):
        shown = block(view, session_id)
        column = geometry.column_of(day, clinic.chairs[chair])
        assert column is not None
        assert column.contains(view.grid.scene_point(session_id).x())
        assert shown.pos().y() == pytest.approx(geometry.y_of(minute), abs=1.5)
    assert block(view, monday).height == pytest.approx(70 * 64 / 60, abs=3)  # 70 min
    assert view.title.text() == "Dec 7 – 13, 2026"
    # the weekend is closed and collapses to a band that says so
    saturday = next(b for b in geometry.bands if b.day.day == date(2026, 12, 12))
    assert saturday.collapsed and saturday.day.closed == "Closed on Saturdays"


def test_released_sessions_are_faded_and_share_the_column_with_the_session_booked_over_them(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    clinic = open_clinic(sqlite_db, admin)
    gone = book(sqlite_db, clinic, "IV 1", "2026-12-07 09:00", status=SessionStatus.NO_SHOW)
    live = book(sqlite_db, clinic, "IV 1", "2026-12-07 09:30", patient_id=clinic.other_id)
    view = open_view(qtbot, sqlite_db, front_desk)
    faded, kept = block(view, gone), block(view, live)
    assert faded.opacity() == colors.FADED_OPACITY and kept.opacity() == 1.0
    assert colors.look(SessionStatus.NO_SHOW).badge == "No-show"
    # side by side, not on top of each other: the live session takes the left lane
    assert kept.pos().x() < faded.pos().x()
    assert kept.pos().x() + kept.width <= faded.pos().x()


def test_lanes_leave_sessions_that_do_not_overlap_the_whole_column() -> None:
    def entry(
        session_id: int, start: str, minutes: int, status: SessionStatus = SessionStatus.SCHEDULED
    ) -> CalendarEntry:
        begins = at(start)
        return CalendarEntry(
            session_id,
            f"S-{session_id}",
            1,
            1,
            1,
            6,
            1,
            "A, B",
            "1",
            "iv-induction",
            "IV",
            Modality.IV,
            status,
            1,
            "IV 1",
            1,
            "Dr",
            begins,
            begins + timedelta(minutes=minutes),
            begins,
            begins + timedelta(minutes=minutes),
            False,
        )

    lanes = side_by_side(
        [
            entry(1, "2026-12-07 09:00", 70, SessionStatus.CANCELLED),
            entry(2, "2026-12-07 09:00", 70),
            entry(3, "2026-12-07 11:00", 70),
        ]
    )
    placed = {e.session_id: (lane, count) for e, lane, count in lanes}
    assert placed == {2: (0, 2), 1: (1, 2), 3: (0, 1)}


def test_a_drop_snaps_to_the_quarter_hour(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    clinic = open_clinic(sqlite_db, admin)
    view = open_view(qtbot, sqlite_db, front_desk)
    geometry = view.grid.geometry_
    assert geometry is not None
    x = view.grid.drop_point(MONDAY, clinic.chairs["IV 2"], 9 * 60).x()
    early = geometry.target_at(x, geometry.y_of(9 * 60 + 7), 70)
    late = geometry.target_at(x, geometry.y_of(9 * 60 + 8), 70)
    assert early is not None and late is not None
    assert (early.start.hour, early.start.minute) == (9, 0)
    assert (late.start.hour, late.start.minute) == (9, 15)
    assert late.chair_id == clinic.chairs["IV 2"] and late.day == MONDAY


def test_the_current_time_is_a_line_on_today_only(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    open_clinic(sqlite_db, admin)
    view = open_view(qtbot, sqlite_db, front_desk, WEEK)
    assert view.grid.now_line_y() is None  # Dec 7-13 does not hold Dec 1
    view.today()
    geometry = view.grid.geometry_
    assert geometry is not None and view.first_day == date(2026, 11, 30)
    assert view.grid.now_line_y() == pytest.approx(geometry.y_of(9 * 60))


def test_the_tool_bar_moves_through_days_and_weeks(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    open_clinic(sqlite_db, admin)
    view = open_view(qtbot, sqlite_db, front_desk, WEEK)
    qtbot.mouseClick(view.next_button, LEFT)
    assert view.title.text() == "Dec 14 – 20, 2026" and view.first_day == date(2026, 12, 14)
    qtbot.mouseClick(view.day_button, LEFT)
    assert view.title.text() == "Monday, December 14, 2026" and view.day_count == 1
    qtbot.mouseClick(view.previous_button, LEFT)
    assert view.first_day == date(2026, 12, 13)
    window = view.window_data
    assert window is not None and window.days[0].closed == "Closed on Sundays"
    qtbot.mouseClick(view.today_button, LEFT)
    assert view.first_day == NOW.date()


# -- moving by dragging ----------------------------------------------------------------------


def test_dragging_onto_a_taken_chair_is_refused_and_names_the_session_in_the_way(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    clinic = open_clinic(sqlite_db, admin)
    mine = book(sqlite_db, clinic, "IV 1", "2026-12-07 09:00")
    theirs = book(sqlite_db, clinic, "IV 2", "2026-12-07 09:00", patient_id=clinic.other_id)
    before = stored(sqlite_db, mine)
    view = open_view(qtbot, sqlite_db, front_desk)
    home = block(view, mine).pos()

    drag(view, mine, clinic.chairs["IV 2"], 9, 30)

    message = view.banner.text()
    assert view.banner.kind == "error"
    assert f"S-{mine}" in message and "was not moved" in message
    assert f"S-{theirs}" in message and "Okafor, Chidi" in message
    assert block(view, mine).pos() == home  # snapped back
    assert view.grid.selected_id == theirs  # the session in the way is outlined
    assert stored(sqlite_db, mine) == before


def test_dragging_to_a_free_slot_moves_the_session(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    clinic = open_clinic(sqlite_db, admin)
    mine = book(sqlite_db, clinic, "IV 1", "2026-12-07 09:00")
    view = open_view(qtbot, sqlite_db, front_desk)

    drag(view, mine, clinic.chairs["IV 2"], 11, 15)

    chair, starts, status, _version = stored(sqlite_db, mine)
    assert chair == clinic.chairs["IV 2"]
    assert (starts.date(), starts.hour, starts.minute) == (MONDAY, 11, 15)
    assert status is SessionStatus.SCHEDULED
    assert view.banner.kind == "info" and "Moved" in view.banner.text()
    geometry = view.grid.geometry_
    assert geometry is not None
    column = geometry.column_of(MONDAY, clinic.chairs["IV 2"])
    assert column is not None and column.contains(view.grid.scene_point(mine).x())


def test_who_may_not_book_cannot_drag(qtbot: QtBot, sqlite_db: Database, admin: Actor) -> None:
    clinic = open_clinic(sqlite_db, admin)
    mine = book(sqlite_db, clinic, "IV 1", "2026-12-07 09:00")
    view = open_view(qtbot, sqlite_db, Actor("bill", Role.BILLING))
    assert not block(view, mine).draggable and not view.new_button.isVisible()
    drag(view, mine, clinic.chairs["IV 2"], 11)
    assert stored(sqlite_db, mine)[0] == clinic.chairs["IV 1"]


def booked_with_estimate(db: Database, clinic: Clinic, *, series: bool) -> list[int]:
    """Zoë (no insurance) booked through the shared actions, as the window books: the IV
    induction from Monday (``series``) or one booster on Monday at 09:00; her Good Faith
    Estimate is drafted. Returns the session ids in order."""
    with db.transaction() as s:
        patient = s.get(Patient, clinic.patient_id)
        location = s.get(Location, clinic.location_id)
        assert patient is not None and location is not None
        if series:
            protocol = s.get(Protocol, clinic.protocols["iv-induction"])
            assert protocol is not None
            plan = plan_series(s, front_desk_actor(), patient, protocol, location, MONDAY, now=NOW)
            booked = actions.book_series(s, front_desk_actor(), plan, now=NOW)
        else:
            protocol = s.get(Protocol, clinic.protocols["iv-booster"])
            chair = s.get(Chair, clinic.chairs["IV 1"])
            assert protocol is not None and chair is not None
            booked = actions.book_session(
                s, front_desk_actor(), patient, protocol, chair, at("2026-12-07 09:00"), now=NOW
            )
        assert booked.estimate is not None
        return [row.id for row in booked.sessions]


def front_desk_actor() -> Actor:
    return Actor(username="test-front", role=Role.FRONT_DESK)


def current_estimate_days(db: Database, session_id: int) -> tuple[int, date, date]:
    """How many estimates the session's series has had, and the current one's dates."""
    with db.reading() as s:
        row = s.get(TreatmentSession, session_id)
        assert row is not None
        every = s.scalars(select(Estimate).where(Estimate.series_id == row.series_id)).all()
        current = current_estimate(s, row.series_id)
        assert current is not None
        return len(every), current.first_service_on, current.last_service_on


def test_dragging_to_another_day_redrafts_the_estimate(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    clinic = open_clinic(sqlite_db, admin)
    [mine] = booked_with_estimate(sqlite_db, clinic, series=False)
    assert current_estimate_days(sqlite_db, mine) == (1, MONDAY, MONDAY)
    view = open_view(qtbot, sqlite_db, front_desk, WEEK)

    tuesday = MONDAY + timedelta(days=1)
    drag(view, mine, clinic.chairs["IV 1"], 10, day=tuesday)

    _chair, starts, _status, _version = stored(sqlite_db, mine)
    assert (starts.date(), starts.hour) == (tuesday, 10)
    assert current_estimate_days(sqlite_db, mine) == (2, tuesday, tuesday)
    assert view.banner.kind == "info"
    assert "Good Faith Estimate GFE-2026-00002 re-drafted (Dates changed" in view.banner.text()


# -- the session dialog ----------------------------------------------------------------------


def open_dialog(qtbot: QtBot, view: ScheduleView, session_id: int) -> SessionDialog:
    point = on_screen(view, view.grid.scene_point(session_id))
    QTest.mouseDClick(view.grid.viewport(), LEFT, NO_KEYS, point)
    dialog = view.dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def test_double_click_shows_the_session_and_confirming_and_cancelling_work(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    clinic = open_clinic(sqlite_db, admin)
    mine = book(sqlite_db, clinic, "IV 1", "2026-12-07 09:00")
    with sqlite_db.transaction() as s:
        add_to_waitlist(
            s, admin, clinic.other_id, clinic.location_id, Modality.IV, note="any morning"
        )
    view = open_view(qtbot, sqlite_db, front_desk)
    dialog = open_dialog(qtbot, view, mine)
    assert dialog.values["patient"].text() == "Łukasiewicz, Zoë"
    assert dialog.values["series"].text() == "session 1 of 6"
    assert dialog.values["chair"].text() == "IV 1"
    assert dialog.values["times"].text() == "9:00–10:10 AM"
    assert dialog.values["driver"].text() == "Not confirmed yet"
    assert not dialog.no_show_button.isEnabled()  # it has not begun yet

    qtbot.mouseClick(dialog.confirm_button, LEFT)
    assert stored(sqlite_db, mine)[2] is SessionStatus.CONFIRMED
    assert dialog.values["status"].text() == "Confirmed"
    assert block(view, mine).entry.status is SessionStatus.CONFIRMED  # the schedule redrew

    qtbot.mouseClick(dialog.cancel_button, LEFT)  # no reason given: refused in words
    assert "say why" in dialog.message.text().lower()
    assert stored(sqlite_db, mine)[2] is SessionStatus.CONFIRMED
    qtbot.keyClicks(dialog.reason, "Patient has the flu")
    qtbot.mouseClick(dialog.cancel_button, LEFT)
    assert stored(sqlite_db, mine)[2] is SessionStatus.CANCELLED
    assert "cancelled" in dialog.message.text()
    assert [
        dialog.offer_list.item(n).text().split(" (")[0] for n in range(dialog.offer_list.count())
    ] == ["Okafor, Chidi"]
    assert block(view, mine).opacity() == colors.FADED_OPACITY


def test_the_session_dialog_shifts_the_rest_of_the_series(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    clinic = open_clinic(sqlite_db, admin)
    ids = booked_with_estimate(sqlite_db, clinic, series=True)
    before = [stored(sqlite_db, i)[1] for i in ids]
    view = open_view(qtbot, sqlite_db, front_desk, WEEK)
    view.go_to(before[4].date())
    dialog = open_dialog(qtbot, view, ids[4])
    assert dialog.shift_button.isEnabled()

    dialog.shift_days.setValue(5)
    qtbot.mouseClick(dialog.shift_button, LEFT)

    after = [stored(sqlite_db, i)[1] for i in ids]
    assert after[:4] == before[:4]
    assert after[4:] == [b + timedelta(days=5) for b in before[4:]]
    text = dialog.message.text()
    assert text.startswith(f"S-{ids[4]} and the rest of the series moved 5 days later: 2 sessions.")
    assert "re-drafted (Dates changed" in text
    assert current_estimate_days(sqlite_db, ids[0])[0] == 2


def test_a_refused_shift_changes_nothing_and_says_why(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    clinic = open_clinic(sqlite_db, admin)
    ids = booked_with_estimate(sqlite_db, clinic, series=True)
    before = [stored(sqlite_db, i)[1] for i in ids]
    view = open_view(qtbot, sqlite_db, front_desk)
    dialog = open_dialog(qtbot, view, ids[0])

    dialog.shift_days.setValue(-10)  # before the view's now (Tue 1 Dec)
    qtbot.mouseClick(dialog.shift_button, LEFT)

    text = dialog.message.text()
    assert text.startswith(f"Not done: S-{ids[0]} (session 1): Fri 27 Nov 2026")
    assert "already passed" in text and f"S-{ids[4]} (session 5): " in text
    assert [stored(sqlite_db, i)[1] for i in ids] == before
    assert current_estimate_days(sqlite_db, ids[0])[0] == 1


# -- booking a series ------------------------------------------------------------------------


def test_booking_a_series_through_the_wizard(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    clinic = open_clinic(sqlite_db, admin)
    view = open_view(qtbot, sqlite_db, front_desk, WEEK)
    qtbot.mouseClick(view.new_button, LEFT)
    wizard = view.wizard
    assert wizard is not None
    qtbot.waitExposed(wizard)
    next_button = wizard.button(QWizard.WizardButton.NextButton)

    qtbot.keyClicks(wizard.patient_page.search, "okaf")
    qtbot.waitUntil(lambda: wizard.patient_page.results.count() == 1)
    assert wizard.patient_page.results.item(0).text().startswith("Okafor, Chidi")
    qtbot.mouseClick(next_button, LEFT)

    protocols = wizard.protocol_page.list
    row = next(
        r
        for r in range(protocols.count())
        if protocols.item(r).text().startswith("IV ketamine induction")
    )
    qtbot.mouseClick(
        protocols.viewport(), LEFT, pos=protocols.visualItemRect(protocols.item(row)).center()
    )
    qtbot.mouseClick(next_button, LEFT)

    wizard.preferences_page.start.setDate(QDate(2026, 12, 7))
    qtbot.mouseClick(next_button, LEFT)

    page = wizard.proposal_page
    days = page.rows.day_texts()
    assert len(days) == 6 and "Not placed" not in days
    assert days[0].startswith("Mon Dec 7")
    book_button = wizard.button(QWizard.WizardButton.FinishButton)
    assert book_button.text() == "Book" and not book_button.isEnabled()
    acknowledge = page.findChild(QCheckBox, "acknowledge:screening:uncontrolled_hypertension")
    words = page.findChild(QLabel, "warning:screening:uncontrolled_hypertension")
    assert acknowledge is not None and words is not None and "hypertension" in words.text()
    qtbot.mouseClick(acknowledge, LEFT)
    assert book_button.isEnabled()
    qtbot.mouseClick(book_button, LEFT)

    with sqlite_db.reading() as s:
        sessions = s.scalars(
            select(TreatmentSession)
            .where(TreatmentSession.patient_id == clinic.other_id)
            .order_by(TreatmentSession.starts_at)
        ).all()
        first_id, count = sessions[0].id, len(sessions)
    assert count == 6
    assert not wizard.isVisible()
    assert view.banner.text().startswith("Booked IV ketamine induction for Okafor, Chidi")
    assert view.first_day == MONDAY and view.grid.selected_id == first_id
    assert block(view, first_id).highlighted


def wizard_at_the_plan(qtbot: QtBot, view: ScheduleView, start: QDate) -> NewSeriesWizard:
    """The wizard walked to its plan: Zoë, the IV induction, from ``start``."""
    wizard = view.new_series()
    assert wizard is not None
    qtbot.waitExposed(wizard)
    wizard.patient_page.search.setText("Łukasiewicz")
    wizard.patient_page.search_now()
    wizard.next()
    wizard.protocol_page.choose("iv-induction")
    wizard.next()
    wizard.preferences_page.start.setDate(start)
    wizard.next()
    return wizard


def test_the_wizard_names_a_series_of_the_same_modality_under_way(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    clinic = open_clinic(sqlite_db, admin)
    booked_with_estimate(sqlite_db, clinic, series=True)
    view = open_view(qtbot, sqlite_db, front_desk, WEEK)
    wizard = wizard_at_the_plan(qtbot, view, QDate(2027, 1, 4))
    page = wizard.proposal_page
    book_button = wizard.button(QWizard.WizardButton.FinishButton)

    acknowledge = page.findChild(QCheckBox, "acknowledge:series:active")
    words = page.findChild(QLabel, "warning:series:active")
    assert acknowledge is not None and words is not None
    assert "already has another IV infusion series under way" in words.text()
    assert "IV ketamine induction (series " in words.text()
    wizard.resize(1280, 800)
    assert wizard.width() == 1280  # the long warning wraps instead of widening the wizard
    assert not book_button.isEnabled()
    qtbot.mouseClick(acknowledge, LEFT)
    assert book_button.isEnabled()


def test_the_wizard_says_why_a_booking_was_refused_and_stays_open(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    clinic = open_clinic(sqlite_db, admin)
    view = open_view(qtbot, sqlite_db, front_desk, WEEK)
    wizard = wizard_at_the_plan(qtbot, view, QDate(2026, 12, 7))
    page = wizard.proposal_page
    assert page.isComplete()
    # Someone at another desk takes the first proposed chair and time meanwhile.
    first = page.rows.current_plan()
    assert first is not None and first.sessions[0].slot is not None
    slot = first.sessions[0].slot
    taken = book(
        sqlite_db,
        clinic,
        slot.chair_name,
        f"{slot.starts_at.astimezone(NEW_YORK):%Y-%m-%d %H:%M}",
        patient_id=clinic.other_id,
    )

    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), LEFT)

    assert wizard.isVisible()
    assert page.error.text().startswith("Not booked:") and f"S-{taken}" in page.error.text()
    with sqlite_db.reading() as s:
        assert (
            s.scalars(
                select(TreatmentSession).where(TreatmentSession.patient_id == clinic.patient_id)
            ).all()
            == []
        )
    qtbot.mouseClick(page.replan, LEFT)  # plan around it, then book
    assert page.isComplete()
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), LEFT)
    assert not wizard.isVisible()


def test_the_wizards_patient_search_counts_every_match(
    qtbot: QtBot, sqlite_db: Database, admin: Actor, front_desk: Actor
) -> None:
    open_clinic(sqlite_db, admin)
    with sqlite_db.transaction() as s:
        for n in range(55):  # more than the wizard lists
            create_patient(s, admin, patient_raw(family_name="Moreau", given_name=f"Lu{n}"))
    view = open_view(qtbot, sqlite_db, front_desk, WEEK)
    wizard = view.new_series()
    assert wizard is not None
    wizard.patient_page.search.setText("moreau")
    wizard.patient_page.search_now()
    assert wizard.patient_page.results.count() == 50
    assert wizard.patient_page.count.text() == "55 found (the first 50; type more to narrow)"
    wizard.patient_page.search.setText("moreau lu54")
    wizard.patient_page.search_now()
    assert wizard.patient_page.count.text() == "1 found"
