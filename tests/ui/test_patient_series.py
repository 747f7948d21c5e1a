"""The patient's Series section: progress "4 of 6", sessions ahead and behind, the score chart."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from builders import patient_raw, scheduling_clinic
from PySide6.QtWidgets import QTableWidget
from pytestqt.qtbot import QtBot

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database
from ketadesk.scheduling.models import (
    ScoreKind,
    Series,
    SeriesStatus,
    SessionStatus,
    TreatmentSession,
)
from ketadesk.ui.context import AppContext
from ketadesk.ui.patients.series import SCORE_COLOURS, ScorePoint, ScoreTrendChart
from ketadesk.ui.patients.view import PatientsView

pytestmark = pytest.mark.gui

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
NEW_YORK = ZoneInfo("America/New_York")
PHQ9 = (19, 15, 12, 8)


def _local(days_from_today: int) -> datetime:
    day = date.today() + timedelta(days=days_from_today)
    return datetime.combine(day, time(9), tzinfo=NEW_YORK)


def iv_series_four_done(db: Database) -> int:
    """An IV induction: sessions 1–4 completed with falling PHQ-9 scores, 5–6 ahead."""
    with db.transaction() as session:
        clinic = scheduling_clinic(session, ADMIN)
        protocol = clinic.protocols["iv-induction"]
        series = Series(
            patient_id=clinic.patient.id,
            protocol_id=protocol.id,
            location_id=clinic.location.id,
            status=SeriesStatus.ACTIVE,
        )
        session.add(series)
        session.flush()
        offsets = (-14, -12, -9, -7, 2, 4)
        for number, offset in enumerate(offsets, start=1):
            starts = _local(offset)
            done = number <= len(PHQ9)
            session.add(
                TreatmentSession(
                    series_id=series.id,
                    number=number,
                    patient_id=clinic.patient.id,
                    location_id=clinic.location.id,
                    chair_id=clinic.iv_chairs[number % 2].id,
                    provider_id=clinic.provider.id,
                    modality=protocol.modality,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=protocol.chair_minutes),
                    status=SessionStatus.COMPLETED if done else SessionStatus.SCHEDULED,
                    score_kind=ScoreKind.PHQ9 if done else None,
                    score=PHQ9[number - 1] if done else None,
                )
            )
        session.flush()
        return clinic.patient.id


def open_record(qtbot: QtBot, db: Database, patient_id: int) -> PatientsView:
    view = PatientsView(AppContext(db, ADMIN))
    qtbot.add_widget(view)
    view.resize(1280, 900)
    view.show()
    qtbot.waitExposed(view)
    assert view.open_patient(patient_id) is not None
    return view


def test_the_series_shows_progress_sessions_and_the_score_chart(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    patient_id = iv_series_four_done(sqlite_db)
    panel = open_record(qtbot, sqlite_db, patient_id).detail.series
    assert panel.progress_texts() == ["4 of 6"]
    (line,) = panel.lines
    assert line.heading == "IV ketamine induction · KetaDesk NYC" and line.status.label == "Active"
    assert [s.number for s in line.upcoming] == [5, 6]
    assert [s.number for s in line.past] == [4, 3, 2, 1]
    tables = panel.findChildren(QTableWidget)
    upcoming, past = tables
    assert upcoming.rowCount() == 2 and past.rowCount() == 4
    first_ahead = _local(2)
    assert [upcoming.item(0, c).text() for c in range(5)] == [
        "5",
        first_ahead.strftime("%m/%d/%Y"),
        "09:00",
        "IV 2",
        "Scheduled",
    ]
    assert past.item(0, 5).text() == "PHQ-9 8"

    chart = panel.chart
    assert [(p.kind, p.score) for p in chart.points] == [(ScoreKind.PHQ9, s) for s in PHQ9]
    image = chart.grab().toImage()
    for point in chart.points:  # every score is painted as a dot in the PHQ-9 colour
        spot = chart.position(point)
        colour = image.pixelColor(round(spot.x()), round(spot.y())).name()
        assert colour == SCORE_COLOURS[ScoreKind.PHQ9]
    heights = [chart.position(p).y() for p in chart.points]
    assert heights == sorted(heights)  # falling scores are drawn lower (y grows downwards)


def test_a_patient_without_series_says_so(qtbot: QtBot, sqlite_db: Database) -> None:
    with sqlite_db.transaction() as session:
        patient_id = create_patient(session, ADMIN, patient_raw()).id
    panel = open_record(qtbot, sqlite_db, patient_id).detail.series
    assert panel.lines == () and panel.chart.points == ()
    assert panel.findChildren(QTableWidget) == []


def test_a_gad7_only_chart_scales_to_21(qtbot: QtBot) -> None:
    chart = ScoreTrendChart()
    qtbot.add_widget(chart)
    assert chart.kinds() == [] and chart.top_score() == 27
    chart.set_points(
        [
            ScorePoint(date(2026, 12, 1), ScoreKind.GAD7, 12, "S-1"),
            ScorePoint(date(2026, 12, 8), ScoreKind.GAD7, 9, "S-2"),
        ]
    )
    assert chart.kinds() == [ScoreKind.GAD7] and chart.top_score() == 21
