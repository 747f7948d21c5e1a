"""The demo's treatment histories: depression patients have them, most esketamine patients
meet the TRD rule and a few do not (so the warning shows), judged by the real rule."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from ketadesk.clinic.history.models import PriorTreatment, TreatmentKind
from ketadesk.clinic.history.trd import trd_verdict
from ketadesk.clinic.models import Diagnosis, Modality
from ketadesk.db import Database
from ketadesk.demo.generator import Accounts, DemoSpec, generate
from ketadesk.migrations import open_database
from ketadesk.scheduling.models import Protocol, Series

SPEC = DemoSpec(patients=400, years=1, locations=2, seed=5, today=date(2025, 6, 30),
                now=datetime(2025, 6, 30, 15, 30, tzinfo=UTC), accounts=Accounts.NONE)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    path: Path = tmp_path_factory.mktemp("demo-history") / "demo.sqlite3"
    database = open_database(f"sqlite:///{path}")
    generate(database, SPEC)
    return database


def test_esketamine_patients_mostly_meet_the_rule_and_a_few_do_not(db: Database) -> None:
    with db.reading() as session:
        patients = set(session.scalars(
            select(Series.patient_id).join(Protocol, Protocol.id == Series.protocol_id)
            .join(Diagnosis, Diagnosis.patient_id == Series.patient_id)
            .where(Protocol.modality == Modality.ESKETAMINE, Diagnosis.position == 1,
                   Diagnosis.code.like("F3%"), Diagnosis.code.not_like("F31%"))
        ))
        met = Counter(trd_verdict(session, pid).met for pid in patients)
    assert len(patients) >= 10
    assert met[True] > 3 * met[False] > 0


def test_histories_hold_every_kind_and_only_depression_patients(db: Database) -> None:
    with db.reading() as session:
        kinds = Counter(session.scalars(select(PriorTreatment.kind)))
        codes = set(session.scalars(
            select(Diagnosis.code).join(PriorTreatment,
                                        PriorTreatment.patient_id == Diagnosis.patient_id)
            .where(Diagnosis.position == 1)
        ))
    assert {TreatmentKind.ANTIDEPRESSANT, TreatmentKind.PSYCHOTHERAPY,
            TreatmentKind.AUGMENTATION} <= set(kinds)
    assert kinds[TreatmentKind.ANTIDEPRESSANT] > kinds[TreatmentKind.PSYCHOTHERAPY]
    assert all(code.startswith(("F32", "F33")) for code in codes)
