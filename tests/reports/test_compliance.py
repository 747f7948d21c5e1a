"""The compliance report: Good Faith Estimates on time, late or missing and overrun by $400,
REMS forms on time, late or overdue, unsent claims reaching their filing deadline; exact
counts at each boundary, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from builders import SchedulingClinic, add_payer, at, insure, scheduling_clinic
from scheduling.planning_helpers import existing_session
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.claims.models import Claim, ClaimStatus
from ketadesk.billing.models import (
    Charge,
    ChargeSource,
    ChargeStatus,
    EntryKind,
    Estimate,
    EstimateStatus,
)
from ketadesk.clinic.models import PolicyRank
from ketadesk.errors import PermissionDenied
from ketadesk.money import money
from ketadesk.reports import compliance
from ketadesk.reports.catalog import spec
from ketadesk.reports.model import ReportFilter, ReportTable
from ketadesk.scheduling.models import Series as PlannedSeries
from ketadesk.scheduling.models import SessionStatus, TreatmentSession

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
MANAGER = Actor(username="test-manager", role=Role.MANAGER)
NOVEMBER = ReportFilter(date(2026, 11, 1), date(2026, 11, 30))


@dataclass
class Desk:
    session: Session
    clinic: SchedulingClinic
    count: int = 0

    def estimate(
        self,
        give_by: date | None,
        given_on: date | None = None,
        status: EstimateStatus = EstimateStatus.DRAFT,
        *,
        total: str = "1000.00",
        first: date = date(2026, 11, 20),
        series_id: int | None = None,
    ) -> Estimate:
        self.count += 1
        row = Estimate(
            number=f"GFE-2026-{self.count:05d}",
            patient_id=self.clinic.patient.id,
            series_id=series_id,
            location_id=self.clinic.location.id,
            provider_id=self.clinic.provider.id,
            status=status,
            first_service_on=first,
            last_service_on=first + timedelta(days=20),
            session_count=6,
            total=money(total),
            drafted_on=first - timedelta(days=14),
            give_by=give_by,
            given_on=given_on,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def esketamine(self, day: int, due: date, filed: date | None) -> TreatmentSession:
        ts = existing_session(
            self.session,
            self.clinic.patient,
            self.clinic.protocols["esketamine-induction"],
            self.clinic.esketamine_chairs[0],
            self.clinic.provider,
            at(f"2026-10-{day:02d} 09:00"),
            status=SessionStatus.COMPLETED,
            rems_form_due_on=due,
            rems_form_filed_on=filed,
        )
        return ts

    def claim(self, deadline: date, status: ClaimStatus) -> Claim:
        self.count += 1
        payer = add_payer(self.session, f"Payer {self.count}", edi_payer_id=f"P{self.count}")
        policy = insure(self.session, self.clinic.patient.id, payer_id=payer.id)
        row = Claim(
            number=f"C{self.count:06d}",
            patient_id=self.clinic.patient.id,
            payer_id=payer.id,
            policy_id=policy.id,
            location_id=self.clinic.location.id,
            provider_id=self.clinic.provider.id,
            rank=PolicyRank.PRIMARY,
            status=status,
            service_from=deadline - timedelta(days=90),
            service_to=deadline - timedelta(days=90),
            billed=money("500.00"),
            filing_deadline=deadline,
        )
        self.session.add(row)
        self.session.flush()
        return row


@pytest.fixture
def desk(session: Session) -> Desk:
    return Desk(session, scheduling_clinic(session))


def run(
    session: Session, by: tuple[str, ...] = ("month",), flt: ReportFilter = NOVEMBER
) -> ReportTable:
    return compliance.compliance(session, MANAGER, flt, by)


def total(table: ReportTable) -> dict[str, object]:
    return {m.key: table.total.values[i] for i, m in enumerate(table.measures)}


def test_estimates_on_time_late_and_missing_at_each_boundary(desk: Desk) -> None:
    deadline = date(2026, 11, 10)
    desk.estimate(deadline, deadline, EstimateStatus.GIVEN)  # on the day: on time
    desk.estimate(deadline, deadline + timedelta(days=1), EstimateStatus.GIVEN)  # a day late
    desk.estimate(deadline)  # never given: missing
    desk.estimate(date(2026, 11, 30))  # due on the last day, not given yet: not missing
    desk.estimate(None)  # service too close for a deadline: not counted
    desk.estimate(date(2026, 11, 5), status=EstimateStatus.SUPERSEDED)  # replaced, never given
    desk.estimate(date(2026, 12, 1))  # due after the period
    desk.estimate(date(2026, 11, 20), date(2026, 12, 2), EstimateStatus.GIVEN)  # given after
    table = run(desk.session)
    got = total(table)
    assert (got["gfe_on_time"], got["gfe_late"], got["gfe_missing"]) == (1, 1, 2)
    (row,) = [r for r in table.rows if r.labels == ("Nov 2026",)]
    missing = compliance.detail(desk.session, MANAGER, table, row, "gfe_missing")
    assert [d.on for d in missing.rows] == [deadline, date(2026, 11, 20)]
    assert all(d.patient_id == desk.clinic.patient.id for d in missing.rows)


def test_rems_forms_on_time_late_and_overdue(desk: Desk) -> None:
    desk.esketamine(1, date(2026, 11, 8), date(2026, 11, 8))  # on the due day
    desk.esketamine(2, date(2026, 11, 9), date(2026, 11, 10))  # a day late
    desk.esketamine(3, date(2026, 11, 10), None)  # overdue
    desk.esketamine(5, date(2026, 11, 30), None)  # due on the last day: not yet overdue
    desk.esketamine(6, date(2026, 11, 12), date(2026, 12, 3))  # filed after the report
    desk.esketamine(7, date(2026, 10, 31), None)  # due before the period
    table = run(desk.session)
    got = total(table)
    assert (got["rems_on_time"], got["rems_late"], got["rems_overdue"]) == (1, 1, 2)
    (row,) = [r for r in table.rows if r.labels == ("Nov 2026",)]
    late = compliance.detail(desk.session, MANAGER, table, row, "rems_late")
    assert [(d.on, d.session_id is not None) for d in late.rows] == [(date(2026, 11, 9), True)]


def test_unsent_claims_whose_filing_deadline_falls_in_the_period(desk: Desk) -> None:
    desk.claim(date(2026, 11, 1), ClaimStatus.DRAFT)
    desk.claim(date(2026, 11, 30), ClaimStatus.REJECTED)
    desk.claim(date(2026, 11, 15), ClaimStatus.READY)
    desk.claim(date(2026, 11, 15), ClaimStatus.SUBMITTED)  # sent: fine
    desk.claim(date(2026, 12, 1), ClaimStatus.DRAFT)  # after the period
    desk.claim(date(2026, 10, 31), ClaimStatus.DRAFT)  # before it
    table = run(desk.session)
    assert total(table)["claims_near_filing"] == 3
    (row,) = table.rows
    detail = compliance.detail(desk.session, MANAGER, table, row, "claims_near_filing")
    assert sorted(d.on for d in detail.rows) == [
        date(2026, 11, 1),
        date(2026, 11, 15),
        date(2026, 11, 30),
    ]
    assert all(d.claim_id is not None for d in detail.rows)


def _billed(desk: Desk, estimate: Estimate, amount: str) -> None:
    """A posted session charge of ``amount`` in the estimate's series and dates."""
    assert estimate.series_id is not None
    ts = existing_session(
        desk.session,
        desk.clinic.patient,
        desk.clinic.protocols["iv-induction"],
        desk.clinic.iv_chairs[0],
        desk.clinic.provider,
        at(f"{estimate.first_service_on:%Y-%m-%d} 09:00"),
        status=SessionStatus.COMPLETED,
        series=desk.session.get(PlannedSeries, estimate.series_id),
    )
    entry = ledger.post(
        desk.session,
        ADMIN,
        patient_id=desk.clinic.patient.id,
        location_id=desk.clinic.location.id,
        kind=EntryKind.CHARGE,
        amount=money(amount),
        posted_on=estimate.first_service_on,
        description="IV infusion",
    )
    desk.session.add(
        Charge(
            patient_id=desk.clinic.patient.id,
            location_id=desk.clinic.location.id,
            session_id=ts.id,
            source=ChargeSource.SESSION,
            service_date=estimate.first_service_on,
            code="96365",
            description="IV infusion",
            unit_price=money(amount),
            amount=money(amount),
            status=ChargeStatus.POSTED,
            entry_id=entry.id,
        )
    )
    desk.session.flush()


def _series(desk: Desk) -> int:
    series = PlannedSeries(
        patient_id=desk.clinic.patient.id,
        protocol_id=desk.clinic.protocols["iv-induction"].id,
        location_id=desk.clinic.location.id,
    )
    desk.session.add(series)
    desk.session.flush()
    return series.id


def test_patients_billed_400_or_more_over_their_estimate(desk: Desk) -> None:
    over = desk.estimate(None, total="1000.00", first=date(2026, 11, 3), series_id=_series(desk))
    _billed(desk, over, "1400.00")  # exactly $400 over: flagged
    under = desk.estimate(None, total="1000.00", first=date(2026, 11, 4), series_id=_series(desk))
    _billed(desk, under, "1399.99")  # a cent short of the threshold
    table = run(desk.session)
    assert total(table)["billed_over_gfe"] == 1
    (row,) = [r for r in table.rows if r.value(table, "billed_over_gfe")]
    detail = compliance.detail(desk.session, MANAGER, table, row, "billed_over_gfe")
    assert [d.amount for d in detail.rows] == [Decimal("400.00")]


def test_split_by_provider_and_the_chart_per_period(desk: Desk) -> None:
    desk.estimate(date(2026, 11, 10))
    desk.esketamine(3, date(2026, 11, 10), None)
    flt = ReportFilter(date(2026, 10, 1), date(2026, 11, 30))
    by_month = run(desk.session, ("month",), flt)
    assert [r.labels[0] for r in by_month.rows] == ["Oct 2026", "Nov 2026"]
    chart = spec("compliance").chart(by_month)
    assert chart is not None
    series = {s.name: s.values for s in chart.series}
    assert series["Estimates late or missing"] == (Decimal(0), Decimal(1))
    assert series["REMS forms late or overdue"] == (Decimal(0), Decimal(1))
    by_provider = run(desk.session, ("provider",), flt)
    assert [r.labels[0] for r in by_provider.rows] == ["Ama Osei, MD"]
    other = ReportFilter(flt.date_from, flt.date_to, provider_ids=(desk.clinic.provider.id + 99,))
    assert total(run(desk.session, ("month",), other))["gfe_missing"] == 0


def test_only_report_viewers_see_compliance(desk: Desk) -> None:
    with pytest.raises(PermissionDenied):
        compliance.compliance(desk.session, Actor("desk", Role.FRONT_DESK), NOVEMBER, ())
