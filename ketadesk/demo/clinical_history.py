"""The demo's treatment histories: what patients with depression tried before coming here.

:func:`add_treatment_histories` runs after the series are booked (it looks at who has an
esketamine series) and writes, in bulk, for every patient whose primary diagnosis is a
depressive disorder (F32/F33):

* esketamine patients: nine in ten have two or three adequate antidepressant trials that
  failed in this episode (so booking does not warn); the rest have one adequate trial and
  one too short or too low, so the ``history:trd_unproven`` warning and the chart's verdict
  have something to show;
* everyone else with depression: none to three trials, adequate or not;
* on top, at plausible rates: psychotherapy (about four in ten), an augmentation (one in
  five), a trial from an earlier episode, TMS (one in twenty) and ECT (one in forty).

Doses come from the same drugs as the shipped adequacy table, so the verdicts are the real
rule's (:mod:`ketadesk.clinic.history.trd`) and not the demo's guess.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.clinic.history.models import PriorTreatment, Response, TreatmentKind
from ketadesk.clinic.models import Diagnosis, Modality
from ketadesk.demo.bulk import insert_rows, table_of
from ketadesk.scheduling.models import Protocol, Series

RECORDED_BY = "demo"
# drug: (adequate daily doses in mg, a dose too low to count)
DRUGS = {
    "sertraline": ((100, 150, 200), 25), "escitalopram": ((10, 20), 5),
    "fluoxetine": ((20, 40), 10), "bupropion": ((300, 450), 150),
    "venlafaxine": ((150, 225), 75), "duloxetine": ((60, 90), 30),
    "citalopram": ((20, 40), 10), "mirtazapine": ((30, 45), 15),
    "vortioxetine": ((10, 20), 5), "desvenlafaxine": ((50, 100), 25),
}
FAILED = ((Response.NONE, "no response"), (Response.PARTIAL, "partial response only"),
          (Response.PARTIAL, "response faded"), (Response.NONE, "no improvement"))
AUGMENTATION = (("aripiprazole", (2, 5, 10)), ("lithium", (600, 900)),
                ("quetiapine", (150, 300)))
THERAPIES = ("CBT", "Interpersonal therapy", "Behavioural activation", "Psychodynamic therapy")


def add_treatment_histories(session: Session, rng: random.Random, *, today: date,
                            now: datetime) -> int:
    """Write the histories; return how many entries were written."""
    esketamine = set(session.scalars(
        select(Series.patient_id).join(Protocol, Protocol.id == Series.protocol_id)
        .where(Protocol.modality == Modality.ESKETAMINE)
    ))
    depressed = session.scalars(
        select(Diagnosis.patient_id)
        .where(Diagnosis.position == 1, Diagnosis.code.like("F3%"),
               Diagnosis.code.not_like("F31%"))
        .order_by(Diagnosis.patient_id)
    ).all()
    rows = [row for pid in depressed
            for row in _patient_rows(rng, pid, pid in esketamine, today, now)]
    insert_rows(session, table_of(PriorTreatment), rows)
    return len(rows)


def _patient_rows(rng: random.Random, patient_id: int, esketamine: bool, today: date,
                  now: datetime) -> Iterator[dict[str, Any]]:
    drugs = iter(rng.sample(list(DRUGS), 4))  # no drug tried twice
    entries: list[tuple[Any, ...]] = []
    if esketamine:
        enough = rng.random() < 0.9
        count = rng.choice((2, 2, 3)) if enough else 1
        entries += [_trial(rng, next(drugs), adequate=True) for _ in range(count)]
        entries += [] if enough else [_trial(rng, next(drugs), adequate=False)]
    else:
        entries += [_trial(rng, next(drugs), adequate=rng.random() < 0.6)
                    for _ in range(rng.randint(0, 3))]
    entries += _others(rng)
    entries.sort(key=lambda entry: entry[-1])  # an earlier episode's treatment came first
    months = len(entries) * 4
    for number, entry in enumerate(entries):
        started = _months_before(today, months - number * 4)
        yield _row(patient_id, entry, started, now - timedelta(days=rng.randint(1, 400)))


def _trial(rng: random.Random, drug: str, *, adequate: bool) -> tuple[Any, ...]:
    doses, low = DRUGS[drug]
    response, why = rng.choice(FAILED)
    if adequate:
        return (TreatmentKind.ANTIDEPRESSANT, drug, rng.choice(doses), "mg",
                rng.randint(6, 16), response, why, True)
    if rng.random() < 0.5:  # too low a dose, or not long enough at a good one
        return (TreatmentKind.ANTIDEPRESSANT, drug, low, "mg", rng.randint(6, 12), response,
                why, True)
    return (TreatmentKind.ANTIDEPRESSANT, drug, rng.choice(doses), "mg", rng.randint(2, 5),
            Response.NOT_TOLERATED, rng.choice(("nausea", "insomnia", "sexual side effects")),
            True)


def _others(rng: random.Random) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if rng.random() < 0.4:
        found.append((TreatmentKind.PSYCHOTHERAPY, rng.choice(THERAPIES), rng.randint(8, 24),
                      "sessions", rng.randint(8, 26), Response.PARTIAL, "course completed",
                      True))
    if rng.random() < 0.2:
        name, doses = rng.choice(AUGMENTATION)
        found.append((TreatmentKind.AUGMENTATION, name, rng.choice(doses), "mg",
                      rng.randint(4, 12), rng.choice((Response.NONE, Response.NOT_TOLERATED)),
                      rng.choice(("no added benefit", "weight gain", "akathisia")), True))
    if rng.random() < 0.15:
        drug = rng.choice(list(DRUGS))
        found.append((TreatmentKind.ANTIDEPRESSANT, drug, DRUGS[drug][0][0], "mg",
                      rng.randint(8, 30), Response.REMISSION, "well for years", False))
    if rng.random() < 0.05:
        found.append((TreatmentKind.TMS, "TMS, left DLPFC", 36, "sessions", 6,
                      Response.PARTIAL, "course completed", True))
    if rng.random() < 0.025:
        found.append((TreatmentKind.ECT, "ECT, right unilateral", 12, "treatments", 4,
                      Response.PARTIAL, "cognitive side effects", True))
    return found


def _months_before(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _row(patient_id: int, entry: tuple[Any, ...], started: date,
         recorded_at: datetime) -> dict[str, Any]:
    kind, name, amount, unit, weeks, response, why, current = entry
    return {
        "patient_id": patient_id, "kind": kind, "treatment": name,
        "dose_amount": Decimal(amount), "dose_unit": unit, "weeks": weeks,
        "response": response, "stopped_because": why, "started_on": started,
        "current_episode": current, "recorded_by": RECORDED_BY, "recorded_at": recorded_at,
        "supersedes_id": None, "removed_at": None, "removed_by": "", "removed_reason": "",
    }
