"""Revision 0012 copies the PHQ-9/GAD-7 scores already on sessions into ``outcome_score``,
and its downgrade removes the outcome tables (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from builders import at, scheduling_clinic
from scheduling.planning_helpers import existing_session
from sqlalchemy import inspect, select

from ketadesk import migrations
from ketadesk.access.permissions import Actor, Role
from ketadesk.db import Database
from ketadesk.scheduling.models import ScoreKind, SessionStatus
from ketadesk.scheduling.outcomes.models import OutcomeScore

ADMIN = Actor(username="test-admin", role=Role.ADMIN)


def _to(db: Database, revision: str) -> None:
    config = migrations._config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_the_scores_on_sessions_become_outcome_scores(database: Database) -> None:
    _to(database, "0011")
    assert "outcome_score" not in inspect(database.engine).get_table_names()
    with database.transaction() as session:
        clinic = scheduling_clinic(session, ADMIN)
        made = []
        for number, (kind, score) in enumerate(((ScoreKind.PHQ9, 17), (None, None)), 1):
            start = at(f"2026-11-0{number + 1} 09:00")
            made.append(
                existing_session(
                    session, clinic.patient, clinic.protocols["iv-induction"],
                    clinic.iv_chairs[0], clinic.provider, start,
                    status=SessionStatus.COMPLETED, number=number, score_kind=kind, score=score,
                    dosed_at=start + timedelta(minutes=10),
                    discharged_at=start + timedelta(minutes=80),
                ).id
            )  # fmt: skip
    migrations.upgrade(database)
    with database.reading() as session:
        copied = session.scalars(select(OutcomeScore)).all()
        assert [(s.session_id, s.measure, s.total, s.items, s.taken_at) for s in copied] == [
            (made[0], "phq9", 17, "", at("2026-11-02 10:20"))
        ]
