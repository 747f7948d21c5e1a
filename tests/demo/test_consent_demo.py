"""The demo's consents: nearly every treated patient signed; everyone booked today holds a
valid consent but for the two whose check-in the Today board refuses; a few lapse soon."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ketadesk.clinic.consent.models import ConsentWithdrawal, SignedConsent
from ketadesk.db import Database
from ketadesk.demo.generator import Accounts, DemoSpec, generate
from ketadesk.migrations import open_database
from ketadesk.scheduling.consent_check import consent_badges
from ketadesk.scheduling.models import RELEASED, TreatmentSession

TODAY = date(2025, 6, 30)
NOW = datetime(2025, 6, 30, 15, 30, tzinfo=UTC)  # 11:30 in New York: every location open
SPEC = DemoSpec(
    patients=300, years=2, locations=3, seed=3, today=TODAY, now=NOW, accounts=Accounts.NONE
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    made = open_database(f"sqlite:///{tmp_path_factory.mktemp('consent') / 'demo.sqlite3'}")
    generate(made, SPEC)
    yield made
    made.dispose()


def test_nearly_every_treated_patient_signed(db: Database) -> None:
    with db.reading() as s:
        treated = s.scalar(select(func.count(func.distinct(TreatmentSession.patient_id))))
        signed = s.scalar(select(func.count(func.distinct(SignedConsent.patient_id))))
    assert treated and signed == treated


def test_today_two_are_refused_and_everyone_else_holds_a_consent(db: Database) -> None:
    with db.reading() as s:
        today = list(
            s.scalars(
                select(TreatmentSession).where(
                    TreatmentSession.starts_at >= NOW - timedelta(hours=8),
                    TreatmentSession.starts_at < NOW + timedelta(hours=10),
                    TreatmentSession.status.not_in(RELEASED),
                )
            )
        )
        badges = consent_badges(s, today, TODAY)
        refused = {ts.patient_id for ts in today if ts.id in badges and badges[ts.id].refused}
        reasons = sorted(badges[ts.id].text for ts in today
                         if ts.id in badges and badges[ts.id].refused)
        withdrawals = s.scalar(select(func.count()).select_from(ConsentWithdrawal))
    assert len(refused) == 2
    assert any("expired on 29 Jun 2025" in r for r in reasons)
    assert any("withdrawn on 30 Jun 2025" in r for r in reasons)
    assert withdrawals and withdrawals >= 1
    soon = [b for b in badges.values() if not b.refused]
    assert soon, "a few consents lapse within the month"
