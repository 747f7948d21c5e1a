"""The money stage's calendar: every event of the chain's money on its day, run in order.

Each thing a person would have done (a package sold at check-in, a payment at check-out,
charges posted from the review queue, the month's invoices, payments, refunds, expiry,
estimates) is put on the calendar by :meth:`Calendar.at` for a day and a step of that day
(:data:`SELL` … :data:`ESTIMATE`, the order they happen in). :meth:`Calendar.run` then
walks the days from the first event to ``today``, each day's events in step order (an event
may add more to its own day), so entries, invoices and estimates get their ids and numbers
in the order they happened. ``day`` and ``stamp`` say when the running event happens; the
running numbers of invoices and estimates (``numbers``) are kept here too, and written as
the ``counter`` rows the services continue from.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from itertools import count

from ketadesk.demo.bulk import Sink

ProgressCallback = Callable[[str, int, int], None]

# Steps of one day, in the order they happen.
SELL, CHECKOUT, CAPTURE, POST, INVOICE, ADJUST, PAY, REVERSE, REFUND, EXPIRE, ESTIMATE = range(11)


class Calendar:
    """The days of money events up to ``today``, and the moment the running one happens."""

    def __init__(self, sink: Sink, today: date, now: datetime) -> None:
        self.sink = sink
        self.today = today
        self.now = now
        # Each day's events by ordinal, a heap of (step, order of planning, action).
        self._days: dict[int, list[tuple[int, int, Callable[[], None]]]] = {}
        self._tie = count()
        self.day = date.min
        self.stamp = datetime.min.replace(tzinfo=UTC)
        self.numbers: dict[str, int] = {}  # counter name -> last number used

    def next_number(self, counter: str) -> int:
        """The next number of ``counter`` (an invoice series, the estimates of a year)."""
        number = self.numbers.get(counter, 0) + 1
        self.numbers[counter] = number
        return number

    def at(self, day: date, step: int, action: Callable[[], None]) -> None:
        """Do ``action`` on ``day`` at ``step`` of the day, unless that is after today."""
        if day <= self.today:
            ordinal = day.toordinal()
            waiting = self._days.get(ordinal)
            if waiting is None:
                waiting = self._days[ordinal] = []
            heapq.heappush(waiting, (step, next(self._tie), action))

    def run(self, report: ProgressCallback) -> None:
        """Every day from the first event to today, each day's events in step order (an
        event may add more to its own day)."""
        last = self.today.toordinal()
        first = min(self._days, default=last)
        total = max(1, last - first)
        report("money", 0, total)
        for ordinal in range(first, last + 1):
            if (ordinal - first) % 30 == 0 and ordinal > first:
                report("money", ordinal - first, total)
            # Left in place while it runs, so that an event adding more to its own day adds
            # them to this very heap.
            waiting = self._days.get(ordinal)
            if waiting is None:
                continue
            self.day = date.fromordinal(ordinal)
            # Late afternoon in the US, or now on today's events.
            self.stamp = min(datetime.combine(self.day, time(21, 0), UTC), self.now)
            while waiting:
                _step, _tie, action = heapq.heappop(waiting)
                action()
            del self._days[ordinal]
            if self.sink.full():
                self.sink.flush()
        report("money", total, total)
