"""Gates: what must be true of a patient before a series may be booked at all.

:func:`booking_gates` looks at the patient, the protocol and the location, not at any one
slot (slots are :mod:`~ketadesk.scheduling.rules`' business), and answers in two parts:

* **blockers**, hard stops that forbid booking, each a sentence saying why:

  - esketamine (Spravato) needs the patient enrolled in the REMS on or before the first
    session day;
  - esketamine needs at least one active, REMS-enrolled provider at the location.

* **warnings** (:class:`~ketadesk.scheduling.proposals.PlanWarning`), which the user
  must acknowledge by ``code`` before booking:

  - the intake's findings and state (:mod:`~ketadesk.scheduling.candidacy`):
    ``intake:<finding>``, ``intake:missing``, ``intake:expired``, ``intake:expires``;
    ``screening:<flag>`` for every screening flag on a patient without an intake;
  - ``review:serious_event`` while the patient needs a provider's review after a serious
    side effect (:mod:`~ketadesk.scheduling.side_effects.review`);
  - ``series:active`` when the patient already has a series of the same modality under
    way or booked (:func:`same_modality_warnings`), naming it and how far it has come:
    two esketamine inductions at once is almost always a mistake at the desk;
  - on the primary policy in force on the first session day
    (:func:`~ketadesk.clinic.policies.coverage_on`), when it carries a prior authorisation
    (a number, a count of sessions or dates): ``prior_auth:exhausted`` when the sessions
    already holding inside the authorised dates plus the planned ones exceed the count,
    ``prior_auth:expired`` when the authorisation ended before today, otherwise
    ``prior_auth:dates`` when planned days fall outside the authorised dates;
  - ``history:trd_unproven`` for esketamine when the treatment history does not show two
    adequate antidepressant trials in this episode (:mod:`ketadesk.clinic.history.trd`).
  - ``consent:missing`` / ``consent:expires`` (:mod:`.consent_check`): the treatment's
    consent does not hold on the first day, or lapses before the last planned session.

The planner puts both into :class:`~ketadesk.scheduling.proposals.SeriesPlan`; booking
runs the gates again inside its transaction. Four small queries at most, none per day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ketadesk.clinic.history.trd import trd_warnings
from ketadesk.clinic.models import (
    InsurancePolicy,
    Location,
    Modality,
    Patient,
    Provider,
    ScreeningFlag,
    provider_location,
)
from ketadesk.clinic.policies import coverage_on
from ketadesk.scheduling import candidacy
from ketadesk.scheduling.consent_check import consent_warnings
from ketadesk.scheduling.models import (
    RELEASED,
    Protocol,
    Series,
    SeriesStatus,
    TreatmentSession,
)
from ketadesk.scheduling.proposals import PlanWarning
from ketadesk.scheduling.series import series_progress
from ketadesk.scheduling.side_effects.review import review_warnings

# What each screening flag means for a ketamine session, in the words of a warning.
_SCREENING_WORDS = {
    ScreeningFlag.PSYCHOSIS_HISTORY: "a history of psychosis; ketamine may bring it back",
    ScreeningFlag.UNCONTROLLED_HYPERTENSION: (
        "uncontrolled hypertension; ketamine raises blood pressure"
    ),
    ScreeningFlag.PREGNANCY: "a pregnancy; ketamine is not recommended in pregnancy",
    ScreeningFlag.ANEURYSMAL_VASCULAR_DISEASE: (
        "aneurysmal vascular disease; a rise in blood pressure is dangerous"
    ),
    ScreeningFlag.INTRACEREBRAL_HEMORRHAGE: (
        "a history of intracerebral haemorrhage; a rise in blood pressure is dangerous"
    ),
    ScreeningFlag.SUBSTANCE_USE_DISORDER: "a substance use disorder; ketamine can be misused",
    ScreeningFlag.CARDIAC_DISEASE: "cardiac disease; ketamine raises heart rate and pressure",
    ScreeningFlag.SEIZURE_DISORDER: "a seizure disorder",
}


def booking_gates(
    session: Session,
    patient: Patient,
    protocol: Protocol,
    location: Location,
    first_day: date,
    days: Sequence[date],
    *,
    today: date | None = None,
    series_id: int | None = None,
) -> tuple[tuple[str, ...], tuple[PlanWarning, ...]]:
    """The hard stops and the warnings for booking ``protocol`` for ``patient``.

    Args:
        first_day: the local day of the first session to book.
        days: the local day of every session to book (the prior-authorisation count and
            dates are checked against them).
        today: the location's today, for "the authorisation has expired"; defaults to the
            date now in the location's time zone.
        series_id: the series the sessions are added to, if any (it is not "another
            active series").

    Returns:
        ``(blockers, warnings)``: sentences that forbid booking, and findings to
        acknowledge by code.
    """
    blockers = _rems_blockers(session, patient, protocol, location, first_day)
    if today is None:
        today = datetime.now(ZoneInfo(location.time_zone)).date()
    flags = _screening_warnings(patient)
    warnings = candidacy.booking_warnings(session, patient, today, days, flags)
    warnings.extend(same_modality_warnings(session, patient, protocol, location, series_id))
    warnings.extend(review_warnings(session, patient))
    warnings.extend(_prior_auth_warnings(session, patient, location, first_day, days, today))
    warnings.extend(PlanWarning(*w) for w in trd_warnings(session, patient.id, protocol.modality))
    warnings.extend(consent_warnings(session, patient, protocol.modality, [first_day, *days]))
    return tuple(blockers), tuple(warnings)


def _rems_blockers(
    session: Session, patient: Patient, protocol: Protocol, location: Location, first_day: date
) -> list[str]:
    if not protocol.requires_rems:
        return []
    blockers = []
    name = f"{patient.given_name} {patient.family_name}"
    enrolled = patient.rems_enrolled_on
    if enrolled is None:
        blockers.append(
            f"{name} is not enrolled in the Spravato REMS; esketamine cannot be booked "
            "until the enrolment date is recorded on the patient."
        )
    elif enrolled > first_day:
        blockers.append(
            f"{name} is enrolled in the Spravato REMS only from {enrolled:%d %b %Y}, after "
            f"the first session on {first_day:%d %b %Y}; start the series on or after the "
            "enrolment date."
        )
    if not _rems_provider_at(session, location):
        blockers.append(
            f"No active provider at {location.name} is enrolled in the Spravato REMS; "
            "esketamine cannot be given there until one is."
        )
    return blockers


def _rems_provider_at(session: Session, location: Location) -> bool:
    found = session.scalar(
        select(Provider.id)
        .join(provider_location, provider_location.c.provider_id == Provider.id)
        .where(
            provider_location.c.location_id == location.id,
            Provider.active.is_(True),
            Provider.rems_enrolled.is_(True),
        )
        .limit(1)
    )
    return found is not None


def _screening_warnings(patient: Patient) -> list[PlanWarning]:
    return [
        PlanWarning(
            f"screening:{flag.value}",
            f"Screening: the patient has {_SCREENING_WORDS.get(flag, flag.label.lower())}. "
            "Confirm with the provider that the series may go ahead.",
        )
        for flag in sorted(patient.screening_flags, key=lambda f: f.value)
    ]


def same_modality_warnings(
    session: Session,
    patient: Patient,
    protocol: Protocol,
    location: Location,
    series_id: int | None = None,
) -> list[PlanWarning]:
    """``series:active`` when the patient has another planned or active series of the same
    modality still holding a session (``series_id``, the series being extended, aside).

    One warning names every such series: its protocol, where it stands ("3 of 12") and
    its next session in the location's time.
    """
    holding = select(TreatmentSession.id).where(
        TreatmentSession.series_id == Series.id, TreatmentSession.status.not_in(RELEASED)
    )
    query = (
        select(Series)
        .join(Protocol, Protocol.id == Series.protocol_id)
        .where(
            Series.patient_id == patient.id,
            Series.status.in_([SeriesStatus.PLANNED, SeriesStatus.ACTIVE]),
            Protocol.modality == protocol.modality,
            holding.exists(),
        )
        .options(selectinload(Series.sessions), selectinload(Series.protocol))
        .order_by(Series.id)
    )
    if series_id is not None:
        query = query.where(Series.id != series_id)
    others = session.scalars(query).all()
    if not others:
        return []
    zone = ZoneInfo(location.time_zone)
    named = "; ".join(_series_words(series, zone) for series in others)
    many = len(others) > 1
    what = Modality(protocol.modality).label
    return [
        PlanWarning(
            "series:active",
            f"{patient.given_name} {patient.family_name} already has "
            f"{'other' if many else 'another'} {what} series under way: {named}. Booking "
            "this one runs them side by side; check with the provider, or add sessions to "
            f"{'those series' if many else 'that series'} instead.",
        )
    ]


def _series_words(series: Series, zone: ZoneInfo) -> str:
    """``"Esketamine induction (series 12), 3 of 12, next Mon 14 Dec 2026 09:00"``."""
    progress = series_progress(series)
    upcoming = progress.next_session
    nxt = (
        f", next {upcoming.starts_at.astimezone(zone):%a %d %b %Y %H:%M}"
        if upcoming is not None
        else ""
    )
    return f"{series.protocol.name} (series {series.id}), {progress.text}{nxt}"


def _has_prior_auth(policy: InsurancePolicy) -> bool:
    return bool(
        policy.prior_auth_number
        or policy.sessions_authorized is not None
        or policy.auth_from
        or policy.auth_to
    )


def _prior_auth_warnings(
    session: Session,
    patient: Patient,
    location: Location,
    first_day: date,
    days: Sequence[date],
    today: date,
) -> list[PlanWarning]:
    policy = coverage_on(session, patient.id, first_day).primary
    if policy is None or not _has_prior_auth(policy):
        return []
    label = _auth_label(policy)
    warnings = []
    exhausted = _exhausted(session, patient, location, policy, days, label)
    if exhausted:
        warnings.append(exhausted)
    if policy.auth_to is not None and policy.auth_to < today:
        warnings.append(
            PlanWarning(
                "prior_auth:expired",
                f"The {label} expired on {policy.auth_to:%d %b %Y}; ask the payer for a new "
                "authorisation before the series.",
            )
        )
    else:
        outside = [day for day in sorted(days) if not _in_window(policy, day)]
        if outside:
            warnings.append(
                PlanWarning(
                    "prior_auth:dates",
                    f"{len(outside)} planned session(s) fall outside the dates of the {label} "
                    f"({_window(policy)}): {', '.join(f'{d:%a %d %b %Y}' for d in outside)}.",
                )
            )
    return warnings


def _exhausted(
    session: Session,
    patient: Patient,
    location: Location,
    policy: InsurancePolicy,
    days: Sequence[date],
    label: str,
) -> PlanWarning | None:
    allowed = policy.sessions_authorized
    if allowed is None:
        return None
    held = _sessions_in_window(session, patient, location, policy)
    planned = sum(1 for day in days if _in_window(policy, day))
    if held + planned <= allowed:
        return None
    return PlanWarning(
        "prior_auth:exhausted",
        f"The {label} covers {allowed} session(s): {held} already booked or given in its dates "
        f"and {planned} planned make {held + planned} of {allowed} authorised sessions.",
    )


def _sessions_in_window(
    session: Session, patient: Patient, location: Location, policy: InsurancePolicy
) -> int:
    """The patient's sessions holding a chair inside the authorised dates (any location)."""
    zone = ZoneInfo(location.time_zone)
    query = select(func.count(TreatmentSession.id)).where(
        TreatmentSession.patient_id == patient.id,
        TreatmentSession.status.not_in(RELEASED),
    )
    if policy.auth_from is not None:
        since = datetime.combine(policy.auth_from, time(), tzinfo=zone).astimezone(UTC)
        query = query.where(TreatmentSession.starts_at >= since)
    if policy.auth_to is not None:
        after = policy.auth_to + timedelta(days=1)
        until = datetime.combine(after, time(), tzinfo=zone).astimezone(UTC)
        query = query.where(TreatmentSession.starts_at < until)
    return session.scalar(query) or 0


def _in_window(policy: InsurancePolicy, day: date) -> bool:
    return (policy.auth_from is None or policy.auth_from <= day) and (
        policy.auth_to is None or day <= policy.auth_to
    )


def _window(policy: InsurancePolicy) -> str:
    since = f"{policy.auth_from:%d %b %Y}" if policy.auth_from else "any date"
    until = f"{policy.auth_to:%d %b %Y}" if policy.auth_to else "open-ended"
    return f"{since} to {until}"


def _auth_label(policy: InsurancePolicy) -> str:
    number = f" {policy.prior_auth_number}" if policy.prior_auth_number else ""
    return f"prior authorisation{number}"
