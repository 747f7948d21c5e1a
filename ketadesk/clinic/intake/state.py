"""Whether a patient's intake is valid on a day: valid until, due in N days, expired, missing.

An intake assessed on day D with a validity of N months expires on the same day of the month
N months later (the last day of that month when it is shorter: 29 Feb + 12 months expires on
28 Feb); it is valid up to the day before and expired from that day on. It is "due" in the
last :data:`DUE_WITHIN_DAYS` days, so the desk books the review before it runs out.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, timedelta

DUE_WITHIN_DAYS = 30


class IntakeStatus(enum.StrEnum):
    VALID = "valid"
    DUE = "due"
    EXPIRED = "expired"
    MISSING = "missing"


@dataclass(frozen=True)
class IntakeState:
    """Where a patient's intake stands on ``today``."""

    status: IntakeStatus
    assessed_on: date | None = None
    expires_on: date | None = None
    days_left: int | None = None

    @property
    def valid_until(self) -> date | None:
        return self.expires_on - timedelta(days=1) if self.expires_on else None

    @property
    def usable(self) -> bool:
        """Valid on the day (due counts: it has not run out yet)."""
        return self.status in (IntakeStatus.VALID, IntakeStatus.DUE)

    @property
    def text(self) -> str:
        """``"Intake valid until 14 Nov 2027"``, ``"Intake due in 12 days"``, …"""
        if self.status is IntakeStatus.MISSING:
            return "No intake on record"
        if self.status is IntakeStatus.EXPIRED:
            return f"Intake expired on {self.expires_on:%d %b %Y}"
        if self.status is IntakeStatus.DUE:
            days = self.days_left or 0
            return f"Intake due in {days} day{'s' if days != 1 else ''}"
        return f"Intake valid until {self.valid_until:%d %b %Y}"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def intake_state_of(assessed_on: date | None, valid_months: int, today: date) -> IntakeState:
    """The state on ``today`` of an intake assessed on ``assessed_on`` (``None``: none)."""
    if assessed_on is None:
        return IntakeState(IntakeStatus.MISSING)
    expires = add_months(assessed_on, valid_months)
    left = (expires - today).days
    if left <= 0:
        status = IntakeStatus.EXPIRED
    elif left <= DUE_WITHIN_DAYS:
        status = IntakeStatus.DUE
    else:
        status = IntakeStatus.VALID
    return IntakeState(status, assessed_on, expires, left)
