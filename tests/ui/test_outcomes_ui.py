"""The Outcomes tab of the patient chart, "Record score…", and the item-9 alert on the Today
board with its acknowledgement, used as a clinician would."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from builders import at, scheduling_clinic
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QPlainTextEdit
from pytestqt.qtbot import QtBot
from scheduling.planning_helpers import existing_session
from sqlalchemy import select
from ui.test_today import (  # the board's builders
    Clock,
    book,
    card,
    dialog_of,
    dose_esketamine,
    make_view,
    press,
)

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.models import Chair, Patient, Provider
from ketadesk.db import Database
from ketadesk.scheduling import floor
from ketadesk.scheduling.models import Phase, Protocol, ScoreKind, Series, SessionStatus
from ketadesk.scheduling.outcomes import scores
from ketadesk.scheduling.outcomes.measures import shipped
from ketadesk.scheduling.outcomes.models import OutcomeScore, SafetyAlert
from ketadesk.scheduling.outcomes.summary import MeasureOutcomes, ScorePoint, SeriesOutcome
from ketadesk.ui.context import AppContext
from ketadesk.ui.patients.outcomes import RecordScoreDialog, outcome_chart
from ketadesk.ui.patients.view import PatientsView
from ketadesk.ui.today.outcomes_badge import AcknowledgeAlertDialog

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
NURSE = Actor(username="nurse-kim", role=Role.CLINICAL)
MANAGER = Actor(username="boss", role=Role.MANAGER)
ITEM9 = (2, 2, 2, 2, 1, 1, 2, 1, 1)


@pytest.fixture
def clinic_db(sqlite_db: Database) -> Database:
    with sqlite_db.transaction() as session:
        scheduling_clinic(session, ADMIN)
    return sqlite_db


def _treated(db: Database) -> int:
    """An IV induction held on 11-02 and 11-04, PHQ-9 20 before it and 8 at its second session."""
    with db.transaction() as session:
        built_patient = session.scalars(select(Patient)).one()
        protocol = session.scalars(select(Protocol).where(Protocol.key == "iv-induction")).one()
        chair = session.scalars(select(Chair).order_by(Chair.name)).first()
        provider = session.scalars(select(Provider)).one()
        assert chair is not None
        series: Series | None = None
        made = []
        for number, start in enumerate(("2026-11-02 09:00", "2026-11-04 09:00"), 1):
            ts = existing_session(
                session, built_patient, protocol, chair, provider, at(start),
                status=SessionStatus.COMPLETED, series=series, number=number,
                dosed_at=at(start) + timedelta(minutes=10),
            )  # fmt: skip
            series = ts.series
            made.append(ts)
        pid = built_patient.id
        for total, when, visit in (
            (20, "2026-10-30 10:00", None),
            (8, "2026-11-04 11:00", made[1]),
        ):
            scores.record_score(
                session, NURSE, pid, "phq9", scores.Answers(total=total),
                session_id=None if visit is None else visit.id, taken_at=at(when),
            )  # fmt: skip
        return pid


def _open_chart(qtbot: QtBot, db: Database, patient_id: int) -> PatientsView:
    view = PatientsView(AppContext(db, NURSE))
    qtbot.add_widget(view)
    view.resize(1280, 800)
    view.show()
    assert view.open_patient(patient_id) is not None
    return view


def test_the_outcomes_tab_shows_response_and_records_a_score(
    qtbot: QtBot, clinic_db: Database
) -> None:
    pid = _treated(clinic_db)
    view = _open_chart(qtbot, clinic_db, pid)
    tabs = view.detail.tabs
    assert tabs is not None
    assert [tabs.tabText(i) for i in range(tabs.count())] == [
        "Record",
        "Intake",
        "Consent",
        "History",
        "Outcomes",
    ]
    record_series = [
        label.text() for label in view.detail.series.findChildren(QLabel, "seriesOutcome")
    ]
    assert record_series == ["PHQ-9 20 → 8 (-12, -60%): response, not in remission"]
    panel = view.detail.outcomes
    tabs.setCurrentWidget(panel)
    assert panel.series_texts() == [
        "IV ketamine induction from 11/02/2026: 20 → 8 (-12, -60%): response, not in remission"
    ]

    dialog = panel.open_record_dialog()
    assert isinstance(dialog, RecordScoreDialog)
    dialog.form.editors["measure"].setCurrentIndex(1)  # GAD-7
    dialog.form.editors["items"].setText("1,1,1")  # type: ignore[union-attr]
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert "GAD-7 has 7 items; 3 answers were given" in dialog.form.errors["items"].text()
    dialog.form.editors["items"].setText("1 1 1 1 0 0 1")  # type: ignore[union-attr]
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    with clinic_db.reading() as session:
        gad7 = session.scalars(select(OutcomeScore).where(OutcomeScore.measure == "gad7")).one()
        assert (gad7.total, gad7.answers) == (5, (1, 1, 1, 1, 0, 0, 1))
    assert [m.measure.key for m in panel.found.measures] == ["phq9", "gad7"]  # type: ignore[union-attr]


def test_the_item_nine_alert_is_acknowledged_on_the_today_board(
    qtbot: QtBot, clinic_db: Database
) -> None:
    booked = book(clinic_db)
    dose_esketamine(clinic_db, booked, at("2026-12-07 09:05"))
    with clinic_db.transaction() as session:
        floor.record_score(session, NURSE, booked.session_id, ScoreKind.PHQ9, None, ITEM9)
    clock = Clock("2026-12-07 09:30")

    watching = make_view(qtbot, clinic_db, MANAGER, clock)  # sees it, may not acknowledge
    (badge,) = card(watching).findChildren(QLabel, "safetyAlert")
    assert badge.text().startswith("⚠ Self-harm alert: PHQ-9 item 9 (thoughts of self-harm)")
    assert "ack_alert" not in card(watching).buttons

    view = make_view(qtbot, clinic_db, NURSE, clock)
    press(qtbot, view, "ack_alert")
    dialog = dialog_of(view, AcknowledgeAlertDialog)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.form.errors["note"].text() == "say what was done about the alert"
    note = dialog.form.editors["note"]
    assert isinstance(note, QPlainTextEdit)
    note.setPlainText("Spoke with the patient; safety plan reviewed, no intent")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    with clinic_db.reading() as session:
        alert = session.scalars(select(SafetyAlert)).one()
        assert (alert.acknowledged_by, alert.note) == (
            "nurse-kim",
            "Spoke with the patient; safety plan reviewed, no intent",
        )
    view.refresh()
    assert card(view).findChildren(QLabel, "safetyAlert") == []


def test_the_chart_measures_each_series_against_its_own_baseline() -> None:
    """An induction from PHQ-9 20, and a second induction months later from 12: the baseline
    line steps at the second baseline; scores before any baseline take the first one."""
    phq9 = next(m for m in shipped() if m.key == "phq9")

    def point(n: int, day: str, total: int) -> ScorePoint:
        return ScorePoint(n, at(f"{day} 10:00"), total, (), None, "nurse-kim")

    early, first, mid, second, late = (point(1, "2026-09-01", 22), point(2, "2026-10-30", 20),
                                       point(3, "2026-11-20", 9), point(4, "2027-02-01", 12),
                                       point(5, "2027-03-01", 5))

    def measured(baseline: ScorePoint, latest: ScorePoint, start: str) -> SeriesOutcome:
        return SeriesOutcome(baseline.score_id, "IV ketamine", Phase.INDUCTION, at(start),
                             baseline, latest, True, None)

    block = MeasureOutcomes(phq9, (early, first, mid, second, late), (
        measured(first, mid, "2026-11-02 09:00"), measured(second, late, "2027-02-03 09:00")))
    chart = outcome_chart(block, ZoneInfo("America/New_York"))
    lines = {s.name: s.values for s in chart.series}
    assert lines["Baseline"] == tuple(Decimal(n) for n in (20, 20, 20, 12, 12))
    assert lines["Response (50% of baseline)"] == tuple(Decimal(n) for n in (10, 10, 10, 6, 6))
    assert lines["PHQ-9"] == tuple(Decimal(n) for n in (22, 20, 9, 12, 5))
