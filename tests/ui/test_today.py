"""The Today area driven as the floor uses it: click the card's buttons, fill the dialogs.

A fixed clock is injected, so each test moves time forward the way a morning passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from builders import add_chair, add_location, at, scheduling_clinic
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.estimates import current_estimate
from ketadesk.clinic.models import Chair, Location, Modality, Patient, Provider
from ketadesk.db import Database
from ketadesk.scheduling import floor
from ketadesk.scheduling.models import (
    Checkpoint,
    Protocol,
    Route,
    Series,
    SessionStatus,
    SessionStep,
    TreatmentSession,
    VitalSign,
)
from ketadesk.ui.context import AppContext
from ketadesk.ui.style import ERROR
from ketadesk.ui.today import TodayView
from ketadesk.ui.today.card import ChairCardWidget
from ketadesk.ui.today.dialogs import (
    ChecklistDialog,
    DoseDialog,
    FiledDialog,
    FloorDialog,
    Typed,
    VitalsDialog,
)
from ketadesk.ui.today.reschedule import RescheduleDialog

pytestmark = pytest.mark.gui

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
NURSE = Actor(username="nurse-kim", role=Role.CLINICAL)
DESK = Actor(username="desk-lee", role=Role.FRONT_DESK)
GOOD = floor.VitalsInput(systolic=128, diastolic=82, heart_rate=72, spo2=98)


class Clock:
    """The injected clock: ``clock.now`` is what the view and its services see."""

    def __init__(self, start: str) -> None:
        self.now = at(start)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)


@dataclass(frozen=True)
class Booked:
    session_id: int
    location_id: int


@pytest.fixture
def clinic_db(sqlite_db: Database) -> Database:
    """The scheduling clinic of the builders, committed to a private SQLite file."""
    with sqlite_db.transaction() as session:
        scheduling_clinic(session, ADMIN)
    return sqlite_db


def book(
    db: Database, start: str = "2026-12-07 09:00", key: str = "esketamine-induction", chair: int = 0
) -> Booked:
    """One scheduled session of a new series in the ``chair``-th chair fit for ``key``."""
    with db.transaction() as session:
        protocol = session.scalars(select(Protocol).where(Protocol.key == key)).one()
        location = session.scalars(select(Location).order_by(Location.id)).first()
        assert location is not None
        patient = session.scalars(select(Patient)).one()
        provider = session.scalars(select(Provider)).one()
        chairs = [
            c
            for c in session.scalars(select(Chair).order_by(Chair.name))
            if protocol.modality in c.modalities
        ]
        series = Series(patient_id=patient.id, protocol_id=protocol.id, location_id=location.id)
        session.add(series)
        session.flush()
        starts = at(start)
        ts = TreatmentSession(
            series_id=series.id,
            number=1,
            patient_id=patient.id,
            location_id=location.id,
            chair_id=chairs[chair].id,
            provider_id=provider.id,
            modality=protocol.modality,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=protocol.chair_minutes),
        )
        session.add(ts)
        session.flush()
        return Booked(ts.id, location.id)


def dose_esketamine(db: Database, booked: Booked, dosed_at: datetime) -> None:
    """Check in, pass the checklist, dose 56 mg at ``dosed_at`` and start monitoring."""
    with db.transaction() as session:
        floor.check_in(session, NURSE, booked.session_id, now=dosed_at - timedelta(minutes=10))
        floor.run_checklist(
            session,
            NURSE,
            booked.session_id,
            ride_home=True,
            food_fasted_hours=3,
            drink_fasted_minutes=45,
            vitals=GOOD,
            now=dosed_at - timedelta(minutes=5),
        )
        floor.start_dosing(
            session,
            NURSE,
            booked.session_id,
            dose_mg=Decimal(56),
            route=Route.INTRANASAL,
            lot_number="EK-1",
            now=dosed_at,
        )
        floor.start_monitoring(session, NURSE, booked.session_id, now=dosed_at)


def make_view(qtbot: QtBot, db: Database, actor: Actor, clock: Clock) -> TodayView:
    view = TodayView(AppContext(db, actor), clock=clock)
    qtbot.add_widget(view)
    view.resize(1280, 860)
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.fixture(autouse=True)
def warnings_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What message boxes said, instead of showing them (a modal box would block the test)."""
    said: list[str] = []

    def say(_parent: QWidget | None, _title: str, text: str, *_args: object) -> int:
        said.append(text)
        return 0

    monkeypatch.setattr(QMessageBox, "warning", say)
    monkeypatch.setattr(QMessageBox, "information", say)
    return said


def status_of(db: Database, session_id: int) -> SessionStatus:
    with db.reading() as session:
        ts = session.get(TreatmentSession, session_id)
        assert ts is not None
        return ts.status


def card(view: TodayView, chair: str = "Nasal 1") -> ChairCardWidget:
    return view.card_widget(chair)


def press(qtbot: QtBot, view: TodayView, step: str, chair: str = "Nasal 1") -> None:
    qtbot.mouseClick(card(view, chair).button(step), Qt.MouseButton.LeftButton)


def dialog_of(view: TodayView, kind: type) -> FloorDialog:
    dialog = view.dialog
    assert isinstance(dialog, kind) and dialog.isVisible()
    return dialog  # type: ignore[return-value]


def fill(dialog: FloorDialog, **values: object) -> None:
    """Type into the dialog's fields as a person would: text, ticks and drop-downs."""
    for name, value in values.items():
        editor = dialog.form.editors[name]
        if isinstance(editor, QLineEdit):
            editor.setText(str(value))
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QComboBox):
            index = editor.findData(str(value))
            assert index >= 0, (name, value)
            editor.setCurrentIndex(index)


def ok(qtbot: QtBot, dialog: FloorDialog) -> None:
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def record_bp(qtbot: QtBot, view: TodayView, checkpoint: Checkpoint) -> None:
    press(qtbot, view, "vitals")
    dialog = dialog_of(view, VitalsDialog)
    fill(dialog, checkpoint=checkpoint.value, systolic=136, diastolic=86)
    ok(qtbot, dialog)
    assert not dialog.isVisible()


def test_walk_an_esketamine_session_to_discharge(
    qtbot: QtBot, clinic_db: Database, warnings_shown: list[str]
) -> None:
    booked = book(clinic_db)
    clock = Clock("2026-12-07 08:50")
    view = make_view(qtbot, clinic_db, NURSE, clock)
    assert card(view).card is not None and card(view).card.current is not None

    press(qtbot, view, "check_in")
    assert status_of(clinic_db, booked.session_id) is SessionStatus.CHECKED_IN

    clock.advance(5)
    press(qtbot, view, "checklist")
    checklist = dialog_of(view, ChecklistDialog)
    fill(
        checklist,
        ride_home=True,
        food_fasted_hours="3",
        drink_fasted_minutes="45",
        systolic=128,
        diastolic=82,
        heart_rate=72,
        spo2=98,
    )
    ok(qtbot, checklist)
    assert not checklist.isVisible()

    clock.advance(5)  # 09:00
    press(qtbot, view, "dose")
    dose = dialog_of(view, DoseDialog)
    fill(dose, dose_mg="56", lot_number="EK-2291")
    ok(qtbot, dose)
    assert status_of(clinic_db, booked.session_id) is SessionStatus.DOSING

    press(qtbot, view, "start_monitoring")
    assert card(view).card.current.status is SessionStatus.MONITORING  # type: ignore[union-attr]

    clock.advance(41)
    view.refresh()
    record_bp(qtbot, view, Checkpoint.FORTY_MINUTES)
    clock.advance(47)  # 10:28, 88 minutes after the dose
    record_bp(qtbot, view, Checkpoint.DISCHARGE)
    press(qtbot, view, "discharge")
    assert warnings_shown and "32 minutes of monitoring remain" in warnings_shown[-1]
    assert status_of(clinic_db, booked.session_id) is SessionStatus.MONITORING

    clock.advance(32)  # 11:00, two hours after the dose
    view.refresh()
    press(qtbot, view, "discharge")
    assert len(warnings_shown) == 1
    assert status_of(clinic_db, booked.session_id) is SessionStatus.COMPLETED
    assert card(view).card.current is None  # type: ignore[union-attr]
    forms = view.rems.forms
    assert [(f.session_id, f.due_on) for f in forms] == [(booked.session_id, date(2026, 12, 14))]
    assert not view.rems.is_red(booked.session_id)
    with clinic_db.reading() as session:
        steps = session.execute(
            select(SessionStep.actor, SessionStep.status)
            .where(SessionStep.session_id == booked.session_id)
            .order_by(SessionStep.id)
        ).all()
        taken = session.scalars(
            select(VitalSign.checkpoint).where(VitalSign.session_id == booked.session_id)
        ).all()
    assert {actor for actor, _status in steps} == {"nurse-kim"}
    assert steps[-1].status is SessionStatus.COMPLETED
    assert sorted(taken) == sorted(
        Checkpoint(c) for c in ("pre_dose", "forty_minutes", "discharge")
    )


def test_an_overdue_forty_minute_bp_shows_red(qtbot: QtBot, clinic_db: Database) -> None:
    booked = book(clinic_db)
    dose_esketamine(clinic_db, booked, at("2026-12-07 09:10"))
    clock = Clock("2026-12-07 09:55")  # due 09:50, not yet overdue (10 minutes' grace)
    view = make_view(qtbot, clinic_db, NURSE, clock)
    assert card(view).due_texts()[0] == ("Due 09:50 · 40-minute blood pressure", False)
    clock.advance(10)
    view.refresh()
    text, red = card(view).due_texts()[0]
    assert text == "⚠ Overdue since 09:50 · 40-minute blood pressure" and red
    label = card(view).due_labels[0]
    label.ensurePolished()
    assert label.palette().color(QPalette.ColorRole.WindowText).name() == ERROR
    assert card(view).property("overdue") == "true"


def test_a_failed_checklist_offers_to_reschedule(
    qtbot: QtBot, clinic_db: Database, warnings_shown: list[str]
) -> None:
    booked = book(clinic_db)
    clock = Clock("2026-12-07 08:55")
    view = make_view(qtbot, clinic_db, NURSE, clock)
    press(qtbot, view, "check_in")
    press(qtbot, view, "checklist")
    checklist = dialog_of(view, ChecklistDialog)
    fill(
        checklist,
        ride_home=True,
        food_fasted_hours="1",
        drink_fasted_minutes="45",
        systolic=128,
        diastolic=82,
    )
    ok(qtbot, checklist)
    assert checklist.isVisible()  # stays open to say what failed
    assert "Ate 1 h ago; the protocol asks for no food for 2 h" in checklist.result_label.text()
    assert checklist.result_label.isVisible()
    assert "dose" not in card(view).buttons  # no dosing after a failed checklist

    qtbot.mouseClick(checklist.reschedule_button, Qt.MouseButton.LeftButton)
    moving = view.dialog
    assert isinstance(moving, RescheduleDialog) and moving.isVisible()
    assert moving.slots, "the nearest free times are offered"
    first = moving.slots[moving.choices.currentRow()]  # the nearest: same time, next day
    assert first.starts_at == at("2026-12-08 09:00")
    assert [s.starts_at for s in moving.slots] == sorted(s.starts_at for s in moving.slots)
    qtbot.mouseClick(moving.move_button, Qt.MouseButton.LeftButton)
    assert warnings_shown == []
    assert not moving.isVisible()
    with clinic_db.reading() as session:
        ts = session.get(TreatmentSession, booked.session_id)
        assert ts is not None
        assert ts.status is SessionStatus.SCHEDULED and ts.starts_at == first.starts_at
        assert ts.checked_in_at is None and ts.checklist_passed_at is None
        # The move went through the shared action: the self-pay series' estimate is true.
        estimate = current_estimate(session, ts.series_id)
        assert estimate is not None and estimate.first_service_on == date(2026, 12, 8)
    assert card(view).card.current is None  # type: ignore[union-attr]


def test_a_failed_checklist_can_cancel_with_the_failures_as_reason(
    qtbot: QtBot, clinic_db: Database
) -> None:
    booked = book(clinic_db)
    view = make_view(qtbot, clinic_db, NURSE, Clock("2026-12-07 08:55"))
    press(qtbot, view, "check_in")
    press(qtbot, view, "checklist")
    checklist = dialog_of(view, ChecklistDialog)
    fill(
        checklist,
        ride_home=False,
        food_fasted_hours="4",
        drink_fasted_minutes="45",
        systolic=162,
        diastolic=104,
    )
    ok(qtbot, checklist)
    qtbot.mouseClick(checklist.cancel_session_button, Qt.MouseButton.LeftButton)
    cancel = view.dialog
    assert isinstance(cancel, FloorDialog) and cancel.isVisible()
    reason = cancel.form.values()["reason"]
    assert "no ride home" in str(reason) and "162/104" in str(reason)
    ok(qtbot, cancel)
    assert status_of(clinic_db, booked.session_id) in (
        SessionStatus.CANCELLED,
        SessionStatus.LATE_CANCELLED,
    )


def _iv_dose_dialog(qtbot: QtBot, db: Database) -> tuple[Booked, TodayView, DoseDialog]:
    """An IV session checked in with its checklist passed, and its dose dialog open."""
    booked = book(db, key="iv-induction")
    clock = Clock("2026-12-07 08:55")
    with db.transaction() as session:
        floor.check_in(session, NURSE, booked.session_id, now=clock.now)
        floor.run_checklist(
            session,
            NURSE,
            booked.session_id,
            ride_home=True,
            food_fasted_hours=8,
            drink_fasted_minutes=180,
            vitals=GOOD,
            now=clock.now,
        )
    view = make_view(qtbot, db, NURSE, clock)
    press(qtbot, view, "dose", chair="IV 1")
    dose = dialog_of(view, DoseDialog)
    assert isinstance(dose, DoseDialog)
    return booked, view, dose


def test_a_dose_shows_mg_per_kg_and_refuses_bad_input_beside_the_field(
    qtbot: QtBot, clinic_db: Database
) -> None:
    booked, view, dose = _iv_dose_dialog(qtbot, clinic_db)
    fill(dose, dose_mg="35")
    assert dose.per_kg.text() == "= 0.500 mg/kg for 70.0 kg"
    fill(dose, dose_mg="thirty", lot_number="")
    ok(qtbot, dose)
    assert dose.isVisible()
    assert dose.form.error_text("dose_mg") == "give the dose in mg as a number"
    for unreadable in ("1e1", "\u0663\u0665", "NaN"):  # Decimal() alone takes all three
        fill(dose, dose_mg=unreadable)
        assert dose.per_kg.text() == "Weight 70.0 kg"
        ok(qtbot, dose)
        assert dose.form.error_text("dose_mg") == "give the dose in mg as a number"
    fill(dose, dose_mg="35")
    ok(qtbot, dose)
    assert dose.form.error_text("lot_number") == "enter the lot number of the medicine given"
    assert status_of(clinic_db, booked.session_id) is SessionStatus.CHECKED_IN
    fill(dose, lot_number="KT-77", ndc="1234567890")
    ok(qtbot, dose)
    assert dose.form.error_text("ndc") == "1234567890: add the dashes, e.g. 1234-5678-90"
    assert status_of(clinic_db, booked.session_id) is SessionStatus.CHECKED_IN
    fill(dose, ndc="1234-5678-90")
    ok(qtbot, dose)
    assert status_of(clinic_db, booked.session_id) is SessionStatus.DOSING
    with clinic_db.reading() as session:
        dosed = session.get(TreatmentSession, booked.session_id)
        assert dosed is not None and dosed.ndc == "01234567890"
    assert "stop_infusion" in card(view, "IV 1").buttons
    assert "start_monitoring" not in card(view, "IV 1").buttons


def test_typed_numbers_are_plain_ascii_digits() -> None:
    typed = Typed({"systolic": "\u00b2", "dose": "35,5"})
    assert typed.maybe_whole("systolic", "systolic pressure") is None  # int("²") would fail
    assert typed.decimal("dose", "dose in mg") == Decimal("35.5")
    assert [p.field for p in typed.problems] == ["systolic"]


def _dosed(db: Database, booked: Booked) -> tuple[Decimal | None, Decimal | None]:
    """The session's recorded mg/kg and the patient's stored weight."""
    with db.reading() as session:
        ts = session.get(TreatmentSession, booked.session_id)
        assert ts is not None
        return ts.dose_mg_per_kg, ts.patient.weight_kg


def test_a_weight_in_pounds_is_stored_in_kilograms_and_doses_by_it(
    qtbot: QtBot, clinic_db: Database
) -> None:
    booked, _view, dose = _iv_dose_dialog(qtbot, clinic_db)
    assert dose.form.editors["weight"].text() == "70.0"  # type: ignore[attr-defined]
    fill(dose, weight="154", weight_unit="lb", dose_mg="35", lot_number="KT-77")
    assert dose.per_kg.text() == "= 0.501 mg/kg for 69.9 kg (154 lb)"
    ok(qtbot, dose)
    assert status_of(clinic_db, booked.session_id) is SessionStatus.DOSING
    assert _dosed(clinic_db, booked) == (Decimal("0.501"), Decimal("69.9"))


def test_the_dialog_rounds_mg_per_kg_as_the_session_records_it(
    qtbot: QtBot, clinic_db: Database
) -> None:
    # 1 mg for 80 kg is 0.0125 mg/kg exactly: half up gives 0.013 (half even would say 0.012).
    booked, _view, dose = _iv_dose_dialog(qtbot, clinic_db)
    fill(dose, weight="80", weight_unit="kg", dose_mg="1", lot_number="KT-77")
    assert dose.per_kg.text() == "= 0.013 mg/kg for 80.0 kg"
    ok(qtbot, dose)
    assert _dosed(clinic_db, booked) == (Decimal("0.013"), Decimal("80.0"))
    assert floor.mg_per_kg(Decimal(1), Decimal(80)) == Decimal("0.013")


def test_a_weight_that_cannot_be_a_body_weight_is_refused_and_nothing_is_saved(
    qtbot: QtBot, clinic_db: Database
) -> None:
    booked, _view, dose = _iv_dose_dialog(qtbot, clinic_db)
    fill(dose, weight="154", weight_unit="kg", dose_mg="35", lot_number="KT-77")
    fill(dose, weight="900", weight_unit="lb")
    assert dose.per_kg.text().startswith("Weight: 900 lb (408.2 kg) is outside")
    ok(qtbot, dose)
    assert dose.isVisible()
    assert dose.form.error_text("weight").startswith("900 lb (408.2 kg) is outside 44-882 lb")
    assert status_of(clinic_db, booked.session_id) is SessionStatus.CHECKED_IN
    assert _dosed(clinic_db, booked) == (None, Decimal("70.0"))


def test_the_front_desk_checks_in_but_sees_no_clinical_buttons(
    qtbot: QtBot, clinic_db: Database, warnings_shown: list[str]
) -> None:
    booked = book(clinic_db)
    view = make_view(qtbot, clinic_db, DESK, Clock("2026-12-07 08:55"))
    assert set(card(view).buttons) == {"confirm", "check_in"}
    press(qtbot, view, "check_in")
    assert status_of(clinic_db, booked.session_id) is SessionStatus.CHECKED_IN
    assert card(view).buttons == {}
    shown = card(view).card.current  # type: ignore[union-attr]
    view.run_step("discharge", shown)  # as if a button were there: the service refuses
    assert warnings_shown == [
        "desk-lee (Front desk) may not record dosing, vital signs and discharge"
    ]


def test_rems_forms_overdue_in_red_and_filed_from_the_list(
    qtbot: QtBot, clinic_db: Database
) -> None:
    booked = book(clinic_db, start="2026-11-27 09:00")
    dosed = at("2026-11-27 09:05")
    dose_esketamine(clinic_db, booked, dosed)
    with clinic_db.transaction() as session:
        for checkpoint, minutes in ((Checkpoint.FORTY_MINUTES, 41), (Checkpoint.DISCHARGE, 115)):
            floor.record_vitals(
                session,
                NURSE,
                booked.session_id,
                checkpoint,
                GOOD,
                now=dosed + timedelta(minutes=minutes),
            )
        floor.discharge(session, NURSE, booked.session_id, now=dosed + timedelta(minutes=120))
    view = make_view(qtbot, clinic_db, NURSE, Clock("2026-12-07 09:00"))
    assert view.rems.is_red(booked.session_id)
    assert "Overdue by 3 days (due 12/04)" in view.rems.lines[booked.session_id].text()
    qtbot.mouseClick(view.rems.buttons[booked.session_id], Qt.MouseButton.LeftButton)
    filed = view.dialog
    assert isinstance(filed, FiledDialog) and filed.isVisible()
    qtbot.mouseClick(filed.ok_button, Qt.MouseButton.LeftButton)
    assert not filed.isVisible()
    assert view.rems.forms == ()
    with clinic_db.reading() as session:
        ts = session.get(TreatmentSession, booked.session_id)
        assert ts is not None and ts.rems_form_filed_on == date(2026, 12, 7)


def test_the_location_picker_shows_that_locations_chairs(qtbot: QtBot, clinic_db: Database) -> None:
    with clinic_db.transaction() as session:
        other = add_location(session, "LAX", time_zone="America/Los_Angeles")
        add_chair(session, other, "Suite A", frozenset({Modality.KAP}))
        nyc = session.scalars(select(Location.id).where(Location.code == "NYC")).one()
    view = make_view(qtbot, clinic_db, NURSE, Clock("2026-12-07 08:55"))

    def chairs() -> list[str]:
        assert view.board is not None
        return [c.chair_name for c in view.board.cards]

    assert chairs() == ["Suite A"]  # locations are listed by code: LAX first
    assert "05:55 · KetaDesk LAX" in view.when.text()  # 08:55 in New York
    view.choose_location(nyc)
    assert chairs() == ["IV 1", "IV 2", "Nasal 1", "Nasal 2"]
    assert list(view.cards) == [view.board.card(name).chair_id for name in chairs()]  # type: ignore[union-attr]
    assert "08:55 · KetaDesk NYC" in view.when.text()


def test_the_board_refreshes_every_30_seconds_while_shown(
    qtbot: QtBot, clinic_db: Database
) -> None:
    booked = book(clinic_db)
    view = make_view(qtbot, clinic_db, NURSE, Clock("2026-12-07 08:55"))
    assert view.timer.isActive() and view.timer.interval() == 30_000
    assert view.location_id() == booked.location_id
    assert "Monday, December 7, 2026 · 08:55" in view.when.text()
    with clinic_db.transaction() as session:  # another workstation checks the patient in
        floor.check_in(session, DESK, booked.session_id, now=at("2026-12-07 08:56"))
    view.timer.timeout.emit()
    assert card(view).card.current.status is SessionStatus.CHECKED_IN  # type: ignore[union-attr]
    view.hide()
    assert not view.timer.isActive()  # no reading while another area is shown
    view.show()
    assert view.timer.isActive()


def test_a_card_redrawn_while_shown_keeps_every_line_visible(
    qtbot: QtBot, clinic_db: Database
) -> None:
    book(clinic_db)
    view = make_view(qtbot, clinic_db, NURSE, Clock("2026-12-07 08:55"))
    view.refresh()  # a redraw of a card already on screen
    shown = card(view)
    buttons = list(shown.buttons.values())
    assert buttons and all(b.isVisible() for b in buttons)
    assert all(b.geometry().bottom() < shown.height() for b in buttons)


def test_a_floor_dialog_without_its_hooks_is_refused_when_defined() -> None:
    from ketadesk.ui.today.dialogs import FloorDialog

    with pytest.raises(TypeError, match="must define act"):

        class Half(FloorDialog):  # builds a form but never calls a service
            def build(self, form: object) -> None:
                pass
