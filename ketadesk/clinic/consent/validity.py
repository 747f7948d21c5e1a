"""The one rule for whether a signed consent holds on a day.

A consent holds for a treatment on a local ``day`` when, for that treatment's key,

* it was signed on or before ``day``;
* ``day`` falls on or before its expiry: the day signed plus the months the signed
  version gives (a version with no period expires only by the other rules);
* no *material* later version of the text has taken effect on or before ``day``;
* it was not withdrawn on or before ``day``.

The rule is pure: :func:`consent_state` reads rows already loaded (the patient's signed
consents and the texts' versions) and answers with a :class:`ConsentState` that says, in
words, why a consent does not hold. Days are the location's local days; the caller turns
an instant into a day in the right zone, so daylight-saving changes and year ends move
nothing.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from ketadesk.clinic.consent.models import ConsentKey, ConsentText, SignedConsent


class ConsentStatus(enum.StrEnum):
    VALID = "valid"
    MISSING = "missing"
    EXPIRED = "expired"
    NEW_VERSION = "new_version"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class ConsentState:
    """Where one treatment's consent stands for a patient on ``day``.

    ``consent_id``, ``signed_on`` and ``signed_version`` describe the newest consent signed
    for the key (None when there is none); ``expires_on`` is its last valid day (None when
    it does not expire); ``needs_version`` is the version to sign when a material new one
    has taken effect. ``reason`` is the sentence a person reads.
    """

    key: ConsentKey
    day: date
    status: ConsentStatus
    reason: str
    consent_id: int | None = None
    signed_on: date | None = None
    signed_version: int | None = None
    expires_on: date | None = None
    needs_version: int | None = None

    @property
    def valid(self) -> bool:
        return self.status is ConsentStatus.VALID

    def as_dict(self) -> dict[str, object]:
        return {
            "treatment": self.key.value,
            "label": self.key.label,
            "status": self.status.value,
            "reason": self.reason,
            "signed_on": _iso(self.signed_on),
            "signed_version": self.signed_version,
            "valid_until": _iso(self.expires_on),
            "needs_version": self.needs_version,
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, on the month's last day when it is shorter (31 Jan + 1
    month is 28 or 29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def expires_on(consent: SignedConsent) -> date | None:
    """The last day the consent holds by its period (None: no period)."""
    months = consent.text.valid_months
    return None if months is None else add_months(consent.signed_on, months)


def consent_state(
    key: ConsentKey,
    day: date,
    signed: Iterable[SignedConsent],
    versions: Sequence[ConsentText],
) -> ConsentState:
    """Whether the patient's consent for ``key`` holds on ``day``.

    Args:
        signed: the patient's signed consents (any keys; with their text and withdrawal).
        versions: the texts' versions (any keys).
    """
    mine = [c for c in signed if c.key == key and c.signed_on <= day]
    if not mine:
        return ConsentState(key, day, ConsentStatus.MISSING, f"no {key.label} consent is signed")
    newest_first = sorted(mine, key=lambda c: (c.signed_on, c.id), reverse=True)
    states = [_judge(key, day, consent, versions) for consent in newest_first]
    # An older consent may still hold (a newer one recorded by mistake and withdrawn).
    return next((s for s in states if s.valid), states[0])


def _judge(
    key: ConsentKey, day: date, consent: SignedConsent, versions: Sequence[ConsentText]
) -> ConsentState:
    ends = expires_on(consent)
    signed_version = consent.text.version

    def state(status: ConsentStatus, reason: str, needs: int | None = None) -> ConsentState:
        return ConsentState(
            key, day, status, reason, consent.id, consent.signed_on, signed_version, ends, needs
        )

    withdrawal = consent.withdrawal
    if withdrawal is not None and withdrawal.withdrawn_on <= day:
        return state(
            ConsentStatus.WITHDRAWN,
            f"the {key.label} consent was withdrawn on {withdrawal.withdrawn_on:%d %b %Y}",
        )
    newer = material_version_since(key, signed_version, day, versions)
    if newer is not None:
        return state(
            ConsentStatus.NEW_VERSION,
            f"the {key.label} consent was signed on version {signed_version}; version "
            f"{newer.version} changed it materially from {newer.effective_on:%d %b %Y} and "
            "needs signing",
            newer.version,
        )
    if ends is not None and day > ends:
        return state(ConsentStatus.EXPIRED, f"the {key.label} consent expired on {ends:%d %b %Y}")
    until = f"until {ends:%d %b %Y}" if ends else "until withdrawn"
    return state(
        ConsentStatus.VALID,
        f"the {key.label} consent (version {signed_version}) is valid {until}",
    )


def material_version_since(
    key: ConsentKey, signed_version: int, day: date, versions: Sequence[ConsentText]
) -> ConsentText | None:
    """The newest material version of ``key`` after ``signed_version`` in effect on ``day``."""
    later = [
        v for v in versions
        if v.key == key and v.material and v.version > signed_version and v.effective_on <= day
    ]
    return max(later, key=lambda v: v.version) if later else None
