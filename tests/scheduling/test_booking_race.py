"""Racing workstations: real processes book one chair at one time; exactly one wins.

Each racer is a separate Python process (``race_booker.py``) with its own database
connection. They all connect first, then get the start signal at the same moment. On
SQLite the write lock (``BEGIN IMMEDIATE``) queues them; on PostgreSQL the chair's row
lock does, and the exclusion constraint stands behind it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from builders import NOW, SchedulingClinic, at, scheduling_clinic
from scheduling.booking_helpers import another_patient, session_count
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.db import Database
from ketadesk.errors import SlotTaken
from ketadesk.scheduling import booking
from ketadesk.scheduling.booking import book_session
from ketadesk.scheduling.changes import cancel_session
from ketadesk.scheduling.models import RELEASED, TreatmentSession

RACERS = 6
RACER = Path(__file__).with_name("race_booker.py")
REPO = Path(__file__).resolve().parents[2]
SLOT = "2026-12-07 09:00"
POSTGRES = [pytest.param("postgresql", marks=pytest.mark.postgres)]


def set_up_clinic(database: Database) -> tuple[list[int], int]:
    """A committed clinic with ``RACERS`` patients; their ids and the contested chair's."""
    with database.transaction() as session:
        clinic = scheduling_clinic(session)
        others = [another_patient(session, f"Racer{n}") for n in range(1, RACERS)]
        patient_ids = [clinic.patient.id, *(p.id for p in others)]
        chair_id = clinic.iv_chairs[0].id
    return patient_ids, chair_id


def start_racers(url: str, patient_ids: list[int], chair_id: int) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    starts_at = at(SLOT).isoformat()
    racers = [
        subprocess.Popen(
            [sys.executable, str(RACER), url, str(pid), str(chair_id), starts_at],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env,
        )
        for pid in patient_ids
    ]
    for racer in racers:
        assert racer.stdout is not None
        ready = racer.stdout.readline().strip()
        assert ready == "ready", racer.communicate()[1]
    return racers


def run_race(racers: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    for racer in racers:  # the start signal, to every racer at once
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    results = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.mark.slow
def test_exactly_one_racing_process_wins(database: Database) -> None:
    patient_ids, chair_id = set_up_clinic(database)
    racers = start_racers(database.url, patient_ids, chair_id)
    results = run_race(racers)

    assert [r for r in results if "error" in r] == []
    winners = [r["won"] for r in results if "won" in r]
    assert len(winners) == 1
    winner = winners[0]
    losers = [r for r in results if "taken" in r]
    assert len(losers) == RACERS - 1
    for loser in losers:
        assert loser["session_id"] == winner
        assert f"IV 1 is taken by S-{winner}: " in loser["taken"]
    with database.reading() as session:
        holding = session.scalars(
            select(TreatmentSession).where(
                TreatmentSession.chair_id == chair_id,
                TreatmentSession.starts_at < at("2026-12-07 10:10"),
                TreatmentSession.ends_at > at(SLOT),
                TreatmentSession.status.not_in(RELEASED),
            )
        ).all()
        assert [ts.id for ts in holding] == [winner]
        assert session_count(session) == 1


@pytest.mark.parametrize("database", POSTGRES, indirect=True)
def test_the_exclusion_constraint_refuses_an_overlap_written_in_sql(database: Database) -> None:
    with database.transaction() as session:
        clinic = scheduling_clinic(session)
        booked = book_session(
            session,
            Actor(username="desk", role=Role.FRONT_DESK),
            clinic.patient,
            clinic.protocols["iv-booster"],
            clinic.iv_chairs[0],
            at(SLOT),
            now=NOW,
        )
    row = {
        "series": booked.series_id,
        "patient": booked.patient_id,
        "location": booked.location_id,
        "chair": booked.chair_id,
        "provider": booked.provider_id,
        "starts": at("2026-12-07 10:00").astimezone(UTC),
        "ends": at("2026-12-07 11:10").astimezone(UTC),
    }
    with pytest.raises(IntegrityError) as refused, database.engine.begin() as connection:
        insert_raw(connection, row, "scheduled")
    assert getattr(refused.value.orig, "sqlstate", None) == "23P01"
    assert "ex_session_chair_overlap" in str(refused.value)
    with database.engine.begin() as connection:  # a released session holds nothing
        insert_raw(connection, row, "cancelled")
    with database.reading() as session:
        assert session_count(session) == 2


def insert_raw(connection: Any, row: dict[str, Any], status: str) -> None:
    connection.execute(
        text(
            "INSERT INTO treatment_session (series_id, number, patient_id, location_id, "
            "chair_id, provider_id, modality, starts_at, ends_at, status, driver_confirmed, "
            "fasting_confirmed, lot_number, ended_reason, notes, created_at, version) "
            "VALUES (:series, 2, :patient, :location, :chair, :provider, 'iv', :starts, :ends, "
            ":status, false, false, '', '', '', now(), 1)"
        ),
        {**row, "status": status},
    )


@pytest.mark.parametrize("session", POSTGRES, indirect=True)
def test_the_backstop_names_the_session_in_the_chair(
    session: Session, front_desk: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = scheduling_clinic(session)
    booster = clinic.protocols["iv-booster"]
    chair = clinic.iv_chairs[0]
    first = book_session(session, front_desk, clinic.patient, booster, chair, at(SLOT), now=NOW)
    other = another_patient(session, "Ng")
    # A path that skipped the checks: only the database itself stands in the way now.
    monkeypatch.setattr(booking, "check_slots", lambda ctx, wanted, now=None: [])
    with pytest.raises(SlotTaken) as refused:
        book_session(
            session,
            front_desk,
            other,
            booster,
            chair,
            at("2026-12-07 09:30"),
            provider=clinic.provider,
            now=NOW,
        )
    assert refused.value.session_id == first.id
    assert f"IV 1 was just taken by S-{first.id}: " in str(refused.value)
    # The savepoint was rolled back; the transaction goes on without the refused row.
    rows = session.scalars(select(TreatmentSession.patient_id)).all()
    assert rows == [clinic.patient.id]


def test_a_cancelled_session_does_not_hold_its_slot(session: Session, front_desk: Actor) -> None:
    clinic: SchedulingClinic = scheduling_clinic(session)
    booster = clinic.protocols["iv-booster"]
    chair = clinic.iv_chairs[0]
    first = book_session(session, front_desk, clinic.patient, booster, chair, at(SLOT), now=NOW)
    other = another_patient(session, "Ng")
    with pytest.raises(SlotTaken):
        book_session(session, front_desk, other, booster, chair, at(SLOT), now=NOW)
    cancel_session(session, front_desk, first.id, "feeling unwell", now=at("2026-12-01 09:00"))
    again = book_session(session, front_desk, other, booster, chair, at(SLOT), now=NOW)
    assert again.chair_id == first.chair_id
    assert again.starts_at == first.starts_at
    count = select(func.count()).where(TreatmentSession.chair_id == chair.id)
    assert session.scalar(count) == 2
