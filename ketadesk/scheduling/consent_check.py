"""What a consent means at booking and at check-in.

The rule itself (does a signed consent hold on a day) lives in
:mod:`ketadesk.clinic.consent.validity`; this module applies it to sessions:

* :func:`require_consent` — the hard stop :func:`ketadesk.scheduling.floor.check_in`
  calls: without a valid consent for every key the session's modality needs
  (:data:`~ketadesk.clinic.consent.models.REQUIRED`) on the session's local day, it raises
  :class:`~ketadesk.errors.ConsentRequired` naming the treatment and why.
* :func:`consent_warnings` — the booking gate's findings: ``consent:missing`` when a needed
  consent does not hold on the first planned day, ``consent:expires`` when it holds then but
  lapses before the last planned day (naming the day it lapses).
* :func:`consents_needed` — the consents the patient's planned and active series need
  (what the chart's Consent tab sums up).
* :func:`series_consent_key` — the form for the patient's current series' treatment,
  which a printed consent form defaults to.
* :func:`consent_badges` — the Today card's words per session ("No consent",
  "Consent expires in N days"), for many sessions in two queries.

Every day here is the location's local day of a session, so a daylight-saving change or
a year end moves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.clinic.consent.models import ConsentKey, ConsentText, SignedConsent, required_for
from ketadesk.clinic.consent.records import consents_for
from ketadesk.clinic.consent.validity import ConsentState, ConsentStatus, consent_state
from ketadesk.clinic.models import Modality, Patient
from ketadesk.errors import ConsentRequired, NotFound
from ketadesk.scheduling.models import Protocol, Series, SeriesStatus, TreatmentSession
from ketadesk.scheduling.proposals import PlanWarning

EXPIRES_SOON_DAYS = 30  # the Today card warns of a consent lapsing within this many days


def session_states(session: Session, ts: TreatmentSession) -> list[ConsentState]:
    """Where each consent the session's treatment needs stands on the session's day."""
    day = ts.starts_at.astimezone(ZoneInfo(ts.location.time_zone)).date()
    signed, versions = consents_for(session, [ts.patient_id])
    return _states(ts.modality, day, signed.get(ts.patient_id, []), versions)


def require_consent(session: Session, ts: TreatmentSession) -> None:
    """Raise :class:`ConsentRequired` unless every consent ``ts`` needs holds on its day."""
    for state in session_states(session, ts):
        if not state.valid:
            raise ConsentRequired(
                f"{ts.reference} cannot be checked in: {state.reason}. Record the signed "
                f"{state.key.label} form first.",
                treatment=state.key.label,
                reason=state.reason,
            )


def consent_warnings(
    session: Session, patient: Patient, modality: Modality, days: Sequence[date]
) -> list[PlanWarning]:
    """``consent:missing`` and ``consent:expires`` for booking ``days`` (local days)."""
    if not days:
        return []
    first, last = min(days), max(days)
    signed, versions = consents_for(session, [patient.id])
    mine = signed.get(patient.id, [])
    missing = [s for s in _states(modality, first, mine, versions) if not s.valid]
    if missing:
        reasons = "; ".join(s.reason for s in missing)
        return [
            PlanWarning(
                "consent:missing",
                f"Consent: {reasons}. The patient cannot be checked in on "
                f"{first:%d %b %Y} until the signed form is recorded.",
            )
        ]
    lapsing = [s for s in _states(modality, last, mine, versions) if not s.valid]
    if not lapsing:
        return []
    words = "; ".join(_lapse_words(s, first, mine, versions) for s in lapsing)
    return [
        PlanWarning(
            "consent:expires",
            f"Consent: {words}, before the last planned session on {last:%d %b %Y}; "
            "have the form signed again before then.",
        )
    ]


def _lapse_words(
    state: ConsentState,
    first: date,
    signed: Sequence[SignedConsent],
    versions: Sequence[ConsentText],
) -> str:
    holding = consent_state(state.key, first, signed, versions)
    if holding.expires_on is not None and state.status is ConsentStatus.EXPIRED:
        return f"the {state.key.label} consent runs out on {holding.expires_on:%d %b %Y}"
    return state.reason


def consents_needed(session: Session, patient_id: int) -> list[ConsentKey]:
    """The consents the patient's planned and active series need, each once, in the order
    their treatments require them (empty when no series is planned)."""
    modalities = session.scalars(
        select(Protocol.modality)
        .join(Series, Series.protocol_id == Protocol.id)
        .where(
            Series.patient_id == patient_id,
            Series.status.in_([SeriesStatus.PLANNED, SeriesStatus.ACTIVE]),
        )
        .order_by(Series.id)
    )
    return list(dict.fromkeys(key for modality in modalities for key in required_for(modality)))


def series_consent_key(session: Session, patient: Patient) -> ConsentKey:
    """The consent form for the patient's current series (the newest planned or active
    one): its modality's first required key. Raises :class:`NotFound` with no such series.
    """
    modality = session.scalar(
        select(Protocol.modality)
        .join(Series, Series.protocol_id == Protocol.id)
        .where(
            Series.patient_id == patient.id,
            Series.status.in_([SeriesStatus.PLANNED, SeriesStatus.ACTIVE]),
        )
        .order_by(Series.id.desc())
        .limit(1)
    )
    if modality is None:
        raise NotFound(
            f"{patient.mrn} has no planned or active series to print a consent form for; "
            "name the treatment"
        )
    return required_for(modality)[0]


@dataclass(frozen=True)
class ConsentBadge:
    """The Today card's consent words for one session; ``refused`` when check-in would be."""

    text: str
    refused: bool


def consent_badges(
    session: Session, sessions: Iterable[TreatmentSession], today: date
) -> dict[int, ConsentBadge]:
    """Badge words by session id, for sessions whose consent is missing or lapses within
    :data:`EXPIRES_SOON_DAYS` (the others get none)."""
    wanted = list(sessions)
    signed, versions = consents_for(session, {ts.patient_id for ts in wanted})
    badges = {}
    for ts in wanted:
        day = ts.starts_at.astimezone(ZoneInfo(ts.location.time_zone)).date()
        states = _states(ts.modality, day, signed.get(ts.patient_id, []), versions)
        badge = _badge(states, today)
        if badge is not None:
            badges[ts.id] = badge
    return badges


def _badge(states: Sequence[ConsentState], today: date) -> ConsentBadge | None:
    failing = [s for s in states if not s.valid]
    if failing:
        return ConsentBadge(f"No consent: {failing[0].reason}", refused=True)
    ending = [s.expires_on for s in states if s.expires_on is not None]
    if not ending:
        return None
    left = (min(ending) - today).days
    if left > EXPIRES_SOON_DAYS:
        return None
    return ConsentBadge(
        "Consent expires today" if left == 0 else f"Consent expires in {left} days",
        refused=False,
    )


def _states(
    modality: Modality,
    day: date,
    signed: Sequence[SignedConsent],
    versions: Sequence[ConsentText],
) -> list[ConsentState]:
    return [consent_state(key, day, signed, versions) for key in required_for(modality)]
