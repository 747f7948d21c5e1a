"""The demo's side effects: plausible rates per modality, past serious events cleared, and
exactly one patient booked today who needs a provider's review; on both back ends."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from ketadesk.clinic.models import Modality
from ketadesk.db import Database
from ketadesk.demo.generator import Accounts, DemoSpec, generate
from ketadesk.migrations import open_database
from ketadesk.scheduling.models import SessionStatus, TreatmentSession
from ketadesk.scheduling.side_effects import review
from ketadesk.scheduling.side_effects.models import SideEffect, SideEffectKind

TODAY = date(2025, 6, 30)  # a Monday
NOW = datetime(2025, 6, 30, 15, 30, tzinfo=UTC)  # every location open
SPEC = DemoSpec(
    patients=300, years=2, locations=3, seed=3, today=TODAY, now=NOW, accounts=Accounts.NONE
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = open_database(f"sqlite:///{tmp_path_factory.mktemp('se-demo') / 'demo.sqlite3'}")
    generate(db, SPEC)
    yield db
    db.dispose()


def rates(db: Database, modality: Modality) -> tuple[int, Counter[SideEffectKind]]:
    with db.reading() as session:
        completed = session.scalar(
            select(func.count(TreatmentSession.id)).where(
                TreatmentSession.status == SessionStatus.COMPLETED,
                TreatmentSession.modality == modality,
            )
        )
        kinds = session.scalars(
            select(SideEffect.kind)
            .join(TreatmentSession, TreatmentSession.id == SideEffect.session_id)
            .where(TreatmentSession.modality == modality)
        ).all()
    return completed or 0, Counter(kinds)


def test_ketamine_infusions_have_side_effects_at_plausible_rates(demo: Database) -> None:
    sessions, kinds = rates(demo, Modality.IV)
    assert sessions > 1000
    share = {kind: count / sessions for kind, count in kinds.items()}
    assert 0.09 < share[SideEffectKind.NAUSEA] < 0.16
    assert 0.02 < share[SideEffectKind.VOMITING] < 0.07
    assert 0.04 < share[SideEffectKind.BLOOD_PRESSURE] < 0.11
    assert SideEffectKind.DIZZINESS not in share


def test_esketamine_follows_the_labels_common_reactions(demo: Database) -> None:
    sessions, kinds = rates(demo, Modality.ESKETAMINE)
    assert sessions > 500
    assert {SideEffectKind.DISSOCIATION, SideEffectKind.DIZZINESS, SideEffectKind.SEDATION} <= set(
        kinds
    )
    assert 0.04 < kinds[SideEffectKind.DIZZINESS] / sessions < 0.12


def test_one_patient_booked_today_needs_a_review(demo: Database) -> None:
    with demo.reading() as session:
        patients = session.scalars(select(SideEffect.patient_id).distinct()).all()
        pending = review.pending_events(session, patients)
        [(patient_id, [event])] = pending.items()
        assert event.serious and event.kind is SideEffectKind.VOMITING
        later = session.scalars(
            select(TreatmentSession.starts_at).where(
                TreatmentSession.patient_id == patient_id, TreatmentSession.starts_at > NOW
            )
        ).all()
        assert min(later).date() == TODAY


def test_the_demo_writes_the_same_on_postgresql(database: Database) -> None:
    generate(database, dataclasses.replace(SPEC, patients=60, years=1))
    with database.reading() as session:
        assert session.scalar(select(func.count(SideEffect.id))) > 0
