"""Insurance policies on a patient: primary, secondary, tertiary, and prior authorisation.

A patient holds at most one active policy of each rank. Dates must run forwards, and a
prior authorisation's dates sit inside the policy's. Every change is audited.

Coverage on a day has its home here, in two forms that share one definition of "in force":

* :func:`in_force` is the SQL condition on ``insurance_policy`` rows: active, and its
  effective dates (both inclusive; no end date means open-ended) meet the day or the range
  of days. Queries over many patients (the superbill batch, the demo, claims) put it in
  their ``WHERE``.
* :func:`coverage_on` answers for one patient and one day with a frozen :class:`Coverage`:
  the primary and the secondary policy in force, each or both ``None`` when self-pay.
  Estimates, superbills, the parties printed on bills and the booking gates call it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic import validation as v
from ketadesk.clinic.models import InsurancePolicy, Patient, Payer, PolicyRank, Relationship
from ketadesk.errors import InvalidValue, NotFound, StaleEdit


def _choice(kind: type[PolicyRank] | type[Relationship]) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        try:
            return kind(str(value).strip().lower())
        except ValueError:
            choices = ", ".join(m.value for m in kind)
            raise InvalidValue(f"{value!r} is not one of {choices}") from None

    return parse


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else v.parse_date(value)


def _short(limit: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        text = str(value).strip()
        if len(text) > limit:
            raise InvalidValue(f"is longer than {limit} characters")
        return text

    return check


def _payer_id(value: int | str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidValue(f"{value!r} is not a payer") from None


# name -> (validator, required, value when blank)
POLICY_FIELDS: dict[str, tuple[Callable[[Any], Any], bool, Any]] = {
    "payer_id": (_payer_id, True, None),
    "rank": (_choice(PolicyRank), True, None),
    "member_id": (v.member_id, True, None),
    "group_number": (_short(30), False, ""),
    "subscriber_name": (v.person_name, False, ""),
    "subscriber_dob": (v.date_of_birth, False, None),
    "relationship_to_subscriber": (_choice(Relationship), False, Relationship.SELF),
    "effective_from": (_day, True, None),
    "effective_to": (_day, False, None),
    "prior_auth_number": (_short(40), False, ""),
    "sessions_authorized": (lambda x: v.positive_int(x, maximum=500), False, None),
    "auth_from": (_day, False, None),
    "auth_to": (_day, False, None),
}


def clean_policy(session: Session, raw: Mapping[str, object]) -> dict[str, Any]:
    """Validate a policy's fields together; raise every problem at once."""
    checker = v.Checker()
    clean: dict[str, Any] = {}
    for name, (validator, required, blank) in POLICY_FIELDS.items():
        value = checker.check(name, validator, raw.get(name), required=required)
        clean[name] = blank if value is None else value
    if clean["payer_id"] is not None and session.get(Payer, clean["payer_id"]) is None:
        checker.add("payer_id", "is not a payer in this clinic's list")
    _check_order(
        checker, clean, "effective_from", "effective_to", "the policy ends before it starts"
    )
    _check_order(checker, clean, "auth_from", "auth_to", "the authorisation ends before it starts")
    if clean["prior_auth_number"] and clean["sessions_authorized"] is None:
        checker.add("sessions_authorized", "say how many sessions the authorisation covers")
    checker.raise_if_problems()
    return clean


def _check_order(checker: v.Checker, clean: dict[str, Any], start: str, end: str, msg: str) -> None:
    if clean[start] and clean[end] and clean[end] < clean[start]:
        checker.add(end, msg)


def _check_rank_free(
    session: Session, patient_id: int, clean: dict[str, Any], own: int | None
) -> None:
    query = select(InsurancePolicy).where(
        InsurancePolicy.patient_id == patient_id,
        InsurancePolicy.rank == clean["rank"],
        InsurancePolicy.active.is_(True),
    )
    for other in session.scalars(query):
        if other.id != own:
            checker = v.Checker()
            checker.add(
                "rank",
                (
                    f"the patient already has an active {other.rank.value} policy "
                    f"({other.payer.name}, member {other.member_id}); end that one first"
                ),
            )
            checker.raise_if_problems()


def add_policy(
    session: Session, actor: Actor, patient_id: int, raw: Mapping[str, object]
) -> InsurancePolicy:
    actor.require(Permission.POLICY_EDIT)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    clean = clean_policy(session, raw)
    _check_rank_free(session, patient_id, clean, None)
    policy = InsurancePolicy(patient_id=patient_id, active=True, **clean)
    session.add(policy)
    session.flush()
    audit.record(
        session, actor, "create", "insurance_policy", policy.id, after=audit.snapshot(policy)
    )
    return policy


def update_policy(
    session: Session,
    actor: Actor,
    policy_id: int,
    raw: Mapping[str, object],
    *,
    expected_version: int,
    active: bool = True,
) -> InsurancePolicy:
    """Save an edit (or end the policy with ``active=False``); refuses a stale copy."""
    actor.require(Permission.POLICY_EDIT)
    policy = session.get(InsurancePolicy, policy_id)
    if policy is None:
        raise NotFound(f"no insurance policy with id {policy_id}")
    stale = StaleEdit("this policy was changed by someone else; reopen it and edit again")
    if policy.version != expected_version:
        raise stale
    clean = clean_policy(session, raw)
    if active:
        _check_rank_free(session, policy.patient_id, clean, policy.id)
    before = audit.snapshot(policy)
    for key, value in clean.items():
        setattr(policy, key, value)
    policy.active = active
    try:
        session.flush()
    except StaleDataError:
        raise stale from None
    audit.record_update(
        session, actor, "insurance_policy", policy.id, before, audit.snapshot(policy)
    )
    return policy


def policy_values(policy: InsurancePolicy) -> dict[str, Any]:
    """The editable fields of ``policy`` as :func:`clean_policy` returns them (for forms)."""
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


# ---------------------------------------------------------------------------------------
# Coverage on a day
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """The policies in force for one patient on one day; ``None`` where there is none."""

    on: date
    primary: InsurancePolicy | None
    secondary: InsurancePolicy | None

    @property
    def self_pay(self) -> bool:
        """True when neither a primary nor a secondary policy is in force."""
        return self.primary is None and self.secondary is None


def span_in_force(effective_from: date, effective_to: date | None, on: date) -> bool:
    """Whether a policy effective ``effective_from``..``effective_to`` covers ``on``: the
    rule of :func:`in_force` for rows already in memory (both dates inclusive; no end date
    never ends). Whether the policy is active is the caller's filter, as in SQL."""
    return effective_from <= on and (effective_to is None or on <= effective_to)


def in_force(first: date, last: date | None = None) -> ColumnElement[bool]:
    """SQL: an ``insurance_policy`` row is active and in force on some day of
    ``first``..``last`` (``last`` defaults to ``first``: one day).

    Both effective dates are inclusive and a policy with no ``effective_to`` never ends.
    Correlate it with the patient yourself (``InsurancePolicy.patient_id == ...``).
    """
    until = first if last is None else last
    return and_(
        InsurancePolicy.active.is_(True),
        InsurancePolicy.effective_from <= until,
        or_(InsurancePolicy.effective_to.is_(None), InsurancePolicy.effective_to >= first),
    )


def coverage_on(session: Session, patient_id: int, on: date) -> Coverage:
    """Which policy is in force for ``patient_id`` on ``on``, primary and secondary.

    One query with :func:`in_force`; the choice among them is :func:`coverage_from`'s.
    """
    policies = session.scalars(
        select(InsurancePolicy).where(
            InsurancePolicy.patient_id == patient_id,
            InsurancePolicy.rank.in_((PolicyRank.PRIMARY, PolicyRank.SECONDARY)),
            in_force(on),
        )
    ).all()
    return coverage_from(policies, on)


def coverage_from(policies: Sequence[InsurancePolicy], on: date) -> Coverage:
    """The coverage on ``on`` among one patient's ``policies`` already in memory (any mix of
    ranks and dates; inactive ones and those not in force are passed over).

    Should a patient hold two policies of one rank in force on the day (an old one never
    ended), the one that took effect last wins, and of two taking effect the same day the
    later entered; a tertiary policy is not part of the answer.
    """
    ranked = sorted(
        (
            p
            for p in policies
            if p.active
            and p.rank in (PolicyRank.PRIMARY, PolicyRank.SECONDARY)
            and span_in_force(p.effective_from, p.effective_to, on)
        ),
        key=lambda p: (p.effective_from, p.id),
        reverse=True,
    )
    first: dict[PolicyRank, InsurancePolicy] = {}
    for policy in ranked:
        first.setdefault(policy.rank, policy)
    return Coverage(
        on=on, primary=first.get(PolicyRank.PRIMARY), secondary=first.get(PolicyRank.SECONDARY)
    )
