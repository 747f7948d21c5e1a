"""Who pays for a charge: the patient, or the insurer of a policy in force that covers it.

One rule, used when charges are posted and wherever a charge's destination is shown:

* a charge without a service code (a late-cancellation or no-show fee) is the patient's;
* otherwise the policies in force on the service date are tried in rank order (primary,
  then secondary, see :func:`ketadesk.clinic.policies.coverage_on`), and the first whose
  payer covers the code (``Payer.covered``) is billed;
* with no such policy the charge is the patient's, as self-pay care always was.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.clinic.models import InsurancePolicy
from ketadesk.clinic.policies import Coverage, coverage_from, coverage_on


@dataclass(frozen=True)
class BillTo:
    """Where one charge goes: ``payer_id`` ``None`` means the patient."""

    payer_id: int | None
    policy_id: int | None
    words: str  # "Aetna (primary)" or "Patient"

    @property
    def insurer(self) -> bool:
        return self.payer_id is not None


PATIENT = BillTo(None, None, "Patient")


def route(coverage: Coverage, code: str) -> BillTo:
    """Where a charge for ``code`` goes under ``coverage`` (pure; see the module's rule)."""
    if not code:
        return PATIENT
    for policy in (coverage.primary, coverage.secondary):
        if policy is not None and code in policy.payer.covered:
            return _to(policy)
    return PATIENT


def _to(policy: InsurancePolicy) -> BillTo:
    return BillTo(policy.payer_id, policy.id, f"{policy.payer.name} ({policy.rank.value})")


class Router:
    """:func:`route` for many charges, reading each patient's coverage on a day once; after
    :meth:`prime`, from policies read for many patients in one query."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._coverage: dict[tuple[int, date], Coverage] = {}
        self._policies: dict[int, list[InsurancePolicy]] | None = None

    def prime(self, patient_ids: Iterable[int]) -> Router:
        """Read the active policies (with payers) of ``patient_ids`` at once."""
        ids = list(dict.fromkeys(patient_ids))
        found: dict[int, list[InsurancePolicy]] = {pid: [] for pid in ids}
        for chunk in range(0, len(ids), 900):
            for policy in self._session.scalars(
                select(InsurancePolicy)
                .where(
                    InsurancePolicy.patient_id.in_(ids[chunk : chunk + 900]),
                    InsurancePolicy.active.is_(True),
                )
                .options(selectinload(InsurancePolicy.payer))
            ):
                found[policy.patient_id].append(policy)
        self._policies = found
        return self

    def coverage(self, patient_id: int, on: date) -> Coverage:
        key = (patient_id, on)
        if key not in self._coverage:
            primed = self._policies.get(patient_id) if self._policies is not None else None
            self._coverage[key] = (
                coverage_from(primed, on)
                if primed is not None
                else coverage_on(self._session, patient_id, on)
            )
        return self._coverage[key]

    def bill_to(self, patient_id: int, on: date, code: str) -> BillTo:
        if not code:
            return PATIENT
        return route(self.coverage(patient_id, on), code)
