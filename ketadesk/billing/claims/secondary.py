"""Secondary claims: after the primary payer answers, what it left to the patient goes to
the patient's secondary payer, on a claim that says what the primary paid and adjusted.

:func:`build_secondary` is called while a primary's remittance is posted: the shares it
moves onto the secondary payer's side (transfer entries) become the lines of one new claim
to that payer. Each line bills the service's full charge, as coordination of benefits
wants, while what the secondary owes is the transferred share; the 837P carries the
primary's payment (2320/2430) from the posted remittance (:mod:`.forms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor
from ketadesk.billing.claims.building import next_number
from ketadesk.billing.claims.models import Claim, ClaimLine, ClaimStatus
from ketadesk.billing.claims.scrubber import check_and_mark
from ketadesk.billing.claims.status import record_event
from ketadesk.billing.models import LedgerEntry
from ketadesk.clinic.models import InsurancePolicy
from ketadesk.money import ZERO

if TYPE_CHECKING:
    from ketadesk.billing.claims.remittance import LinePlan


def build_secondary(
    session: Session,
    actor: Actor,
    primary: Claim,
    policy: InsurancePolicy,
    moved: Sequence[tuple[LinePlan, LedgerEntry]],
    *,
    paid_on: date,
) -> Claim:
    """A claim to ``policy``'s payer for the lines whose shares moved onto its side."""
    lines = {line.id: line for line in primary.lines}
    claim = Claim(
        number=next_number(session, primary.service_from.year),
        patient_id=primary.patient_id,
        payer_id=policy.payer_id,
        policy_id=policy.id,
        location_id=primary.location_id,
        provider_id=primary.provider_id,
        rank=policy.rank,
        status=ClaimStatus.DRAFT,
        primary_claim_id=primary.id,
        service_from=primary.service_from,
        service_to=primary.service_to,
        billed=sum((lines[plan.line_id].billed for plan, _ in moved), ZERO),
        diagnoses=primary.diagnoses,
        prior_auth_number=policy.prior_auth_number,
        note=primary.note,
        # a secondary payer's clock runs from the primary's answer
        filing_deadline=paid_on + timedelta(days=policy.payer.timely_filing_days),
        created_by=actor.username,
    )
    claim.lines = [
        _line(position, lines[plan.line_id], entry)
        for position, (plan, entry) in enumerate(moved, start=1)
    ]
    session.add(claim)
    session.flush()
    record_event(
        session,
        actor,
        claim,
        ClaimStatus.DRAFT,
        f"Secondary to {primary.number}, after {primary.payer.name} answered",
        was="",
    )
    audit.record(session, actor, "create", "claim", claim.id, after=audit.snapshot(claim))
    check_and_mark(session, actor, [claim], today=paid_on)
    return claim


def _line(position: int, original: ClaimLine, entry: LedgerEntry) -> ClaimLine:
    return ClaimLine(
        position=position,
        charge_id=original.charge_id,
        entry_id=entry.id,
        service_date=original.service_date,
        code=original.code,
        modifiers=original.modifiers,
        description=original.description,
        units=original.units,
        billed=original.billed,
        pointers=original.pointers,
        ndc=original.ndc,
        ndc_quantity=original.ndc_quantity,
        ndc_unit=original.ndc_unit,
        note=original.note,
    )
