"""Today's floor in the demo: someone in a chair at any hour the clinic is open.

:class:`TodayFloor` tops up ``today`` at each location with single booster sessions (IV,
and esketamine when an esketamine chair stands empty) for patients between series, until
:data:`~ketadesk.demo.history_rates.TODAY_MIN_IN_CHAIRS` chairs are taken at every half hour.
"""

from __future__ import annotations

from ketadesk.clinic.models import Modality
from ketadesk.demo.history_journeys import History
from ketadesk.demo.history_people import Person
from ketadesk.demo.history_rates import TODAY_MIN_IN_CHAIRS
from ketadesk.demo.history_slots import Site
from ketadesk.scheduling.models import Protocol


class TodayFloor:
    """Tops up ``today`` so that every half hour the clinic is open has people in chairs."""

    def __init__(self, history: History) -> None:
        self.h = history

    def fill(self, between: list[Person]) -> None:
        by_site: dict[int, list[Person]] = {}
        for patient in between:
            if patient.active and patient.leaves_on is None:
                by_site.setdefault(patient.site.id, []).append(patient)
        for site in self.h.clinic.sites.values():
            self._fill_site(site, by_site.get(site.id, []))

    def _fill_site(self, site: Site, candidates: list[Person]) -> None:
        h, today = self.h, self.h.today
        protocols = h.clinic.protocols
        target = min(TODAY_MIN_IN_CHAIRS, len(site.all_chairs))
        for opens, closes in site.intervals(today):
            for mark in range(opens, closes, 2):
                while h.occupancy.chairs_taken(site, today, mark) < target:
                    if not any(
                        self._add(site, protocols[key], mark, candidates)
                        for key in ("esketamine-maintenance", "iv-booster")
                    ):
                        break

    def _add(self, site: Site, protocol: Protocol, mark: int, candidates: list[Person]) -> bool:
        """Book one session of ``protocol`` in a chair at ``mark`` for a patient between
        series (a new single-session maintenance series); ``False`` when none fits."""
        h, today = self.h, self.h.today
        if not site.offers(protocol.modality):
            return False
        length = -(-protocol.chair_minutes // 15)
        valid = site.start_mask(today, length)
        ticks = [t for t in range(mark, mark - length, -1) if t >= 0 and valid >> t & 1]
        start = site.instant(today, min(ticks, default=mark))
        esketamine = protocol.modality is Modality.ESKETAMINE
        fitting = [  # esketamine maintenance only after esketamine, boosters after the rest
            p
            for p in candidates
            if p.earliest(protocol) <= start
            and (p.last_modality is Modality.ESKETAMINE) == esketamine
        ]
        if not ticks or not fitting:
            return False
        patient = h.dice.one(fitting)
        interval = protocol.interval_choices[0] if protocol.interval_choices else None
        run = h.open_run(patient, protocol, today, interval)
        if h.visit(run, 1, today, today, fates=False, ticks=ticks) is None:
            return False
        candidates.remove(patient)
        h.close(run)
        return True
