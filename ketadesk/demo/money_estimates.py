"""The money stage's Good Faith Estimates, drafted and given as the estimate service does.

A series booked for a patient with no policy in force on its first day gets an estimate on
the day it was booked (:meth:`Estimates.draft`): its sessions still holding a chair (twelve
months of an open-ended one) priced and explained by the estimate service's own pure
helpers (:func:`~ketadesk.billing.estimates.expected_session_drafts`,
:func:`~ketadesk.billing.estimates.line_note`), equal items grouped into one line per code
and price. Most are given at once or by the deadline
(:func:`~ketadesk.billing.estimates.give_deadline`); some of the newest wait as drafts, and
the first few past their deadline are left overdue, for the desk to see.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ketadesk.billing import estimates
from ketadesk.billing.capture import ChargeDraft
from ketadesk.billing.models import Estimate, EstimateLine, EstimateStatus
from ketadesk.demo.bulk import Sink
from ketadesk.demo.dice import Dice, table
from ketadesk.demo.money_books import FRONT_DESK_USER
from ketadesk.demo.money_calendar import Calendar
from ketadesk.demo.money_world import PatientBooks, SeriesRun, World, cents_of
from ketadesk.money import ZERO
from ketadesk.scheduling.models import Protocol

GFE_DRAFT_RATE = 0.5  # estimates of series booked in the last days not given yet
GFE_RECENT_DAYS = 7
GFE_OVERDUE = 2  # estimates left past their deadline, at most
GIVEN_HOW = (("in person", 55.0), ("email", 30.0), ("portal", 10.0), ("mail", 5.0))
_GIVEN_HOW = table(GIVEN_HOW)


class Estimates:
    """Drafts and gives the estimates of self-pay series."""

    def __init__(self, dice: Dice, world: World, sink: Sink, cal: Calendar) -> None:
        self.dice = dice
        self.world = world
        self.sink = sink
        self.cal = cal
        self._overdue_left = GFE_OVERDUE
        self._expected: dict[tuple[int, date], list[ChargeDraft]] = {}

    def draft(self, patient: PatientBooks, run: SeriesRun) -> None:
        """The estimate drafted when the series was booked, priced as
        :func:`estimates.draft_for_series` prices it, and given (or not yet)."""
        protocol = run.protocol
        holding = run.holding
        if protocol.session_count is None:  # open-ended: twelve months from the first
            horizon = estimates.twelve_months_after(holding[0][0])
            holding = [(day, provider) for day, provider in holding if day < horizon]
        lines = self._estimate_lines(protocol, [day for day, _provider in holding])
        counter = f"estimate:{self.cal.day.year}"
        number = self.cal.next_number(counter)
        upcoming = [day for day, _provider in holding if day >= self.cal.day]
        give_by = estimates.give_deadline(self.cal.day, upcoming[0]) if upcoming else None
        given_on = self._given_on(give_by, holding[-1][0])
        estimate_id = self.sink.next_id(Estimate)
        self.sink.add(
            Estimate,
            {
                "id": estimate_id,
                "number": f"GFE-{self.cal.day.year}-{number:05d}",
                "patient_id": patient.id,
                "series_id": run.id,
                "location_id": run.place.id,
                "provider_id": holding[0][1],
                "status": EstimateStatus.DRAFT if given_on is None else EstimateStatus.GIVEN,
                "first_service_on": holding[0][0],
                "last_service_on": holding[-1][0],
                "session_count": len(holding),
                "total": sum(line["amount"] for line in lines),
                "drafted_on": self.cal.day,
                "give_by": give_by,
                "given_on": given_on,
                "given_by": FRONT_DESK_USER if given_on is not None else "",
                "given_how": self.dice.pick(_GIVEN_HOW) if given_on is not None else "",
                "redraft_reason": "",
                "supersedes_id": None,
                "created_at": self.cal.stamp,
                "created_by": FRONT_DESK_USER,
                "version": 1 if given_on is None else 2,
            },
        )
        for position, line in enumerate(lines, start=1):
            self.sink.add(
                EstimateLine,
                {
                    "id": self.sink.next_id(EstimateLine),
                    "estimate_id": estimate_id,
                    "position": position,
                    **line,
                },
            )

    def _estimate_lines(self, protocol: Protocol, days: list[date]) -> list[dict[str, Any]]:
        """The estimate's lines for sessions on ``days``: each day priced and explained by
        the estimate service's own helpers, equal items grouped into one line per code and
        price, in the order they first appear."""
        groups: dict[tuple[object, ...], list[ChargeDraft]] = {}
        notes: dict[tuple[object, ...], str] = {}
        for day in days:
            for draft in self._expected_drafts(protocol, day):
                key = (draft.code, draft.modifiers, draft.description, draft.unit_price)
                groups.setdefault(key, []).append(draft)
                if key not in notes:
                    notes[key] = estimates.line_note(draft, protocol, day, self.world.book)
        return [
            {
                "code": drafts[0].code,
                "modifiers": drafts[0].modifiers,
                "description": drafts[0].description,
                "sessions": len(drafts),
                "units": sum(d.units for d in drafts),
                "unit_price": cents_of(drafts[0].unit_price),
                "amount": cents_of(sum((d.amount for d in drafts), ZERO)),
                "note": notes[key],
            }
            for key, drafts in groups.items()
        ]

    def _expected_drafts(self, protocol: Protocol, day: date) -> list[ChargeDraft]:
        key = (protocol.id, day)
        found = self._expected.get(key)
        if found is None:
            found = self._expected[key] = estimates.expected_session_drafts(
                protocol, protocol.modality, day, self.world.book
            )
        return found

    def _given_on(self, give_by: date | None, last_day: date) -> date | None:
        """When the estimate was given: at once or by its deadline, except that some of
        the newest for series still ahead wait (and the first few past their deadline are
        left overdue, for the desk to see)."""
        today = self.cal.today
        recent = (today - self.cal.day).days < GFE_RECENT_DAYS and last_day >= today
        if recent:
            if give_by is not None and give_by < self.cal.today:
                if self._overdue_left > 0:
                    self._overdue_left -= 1
                    return None
            elif self.dice.chance(GFE_DRAFT_RATE):
                return None
        latest = min(give_by or self.cal.day + timedelta(days=1), self.cal.today)
        return self.cal.day if self.dice.chance(0.7) else max(self.cal.day, latest)
