"""The money stage's books in memory: what :mod:`ketadesk.billing.ledger` writes, replayed.

Each patient's open debits and unapplied credits live on their
:class:`~ketadesk.demo.money_world.PatientBooks`, so nothing is read back from the
database. :meth:`Books.post_entry` writes what :func:`ketadesk.billing.ledger.post` writes;
:meth:`Books.apply` pays debits in order from credits in order by the ledger's own
:func:`ketadesk.billing.ledger.allocation_plan`, each allocation written as the service
writes it. :func:`open_debits` and :func:`open_credits` are the ledger's "oldest
first" lists (a package's prepayment is never ordinary credit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from ketadesk.billing.ledger import allocation_plan
from ketadesk.billing.models import (
    AdjustmentReason,
    Allocation,
    EntryKind,
    LedgerEntry,
    PaymentMethod,
)
from ketadesk.demo.bulk import Sink
from ketadesk.demo.money_calendar import Calendar
from ketadesk.demo.money_world import Entry, PatientBooks, oldest_first

# The demo users who do the work (see generator.DEMO_USERS).
BILLING_USER = "billing"
FRONT_DESK_USER = "frontdesk"


class Books:
    """Posts entries and allocations for every patient, stamped with the calendar's moment."""

    def __init__(self, sink: Sink, cal: Calendar) -> None:
        self.sink = sink
        self.cal = cal

    def post_entry(
        self,
        patient: PatientBooks,
        kind: EntryKind,
        cents: int,
        on: date,
        location_id: int,
        description: str,
        *,
        by: str = BILLING_USER,
        method: PaymentMethod | None = None,
        reference: str = "",
        reason: AdjustmentReason | None = None,
        note: str = "",
        reverses: Entry | None = None,
        package: int | None = None,
        payer_id: int | None = None,
        claim_id: int | None = None,
    ) -> Entry:
        """What :func:`ketadesk.billing.ledger.post` writes. An entry on an insurer's side
        (``payer_id``) is kept off the patient's open debits and credits: their payments
        never reach it."""
        entry = Entry(
            self.sink.next_id(LedgerEntry),
            cents,
            abs(cents),
            on,
            location_id,
            description[:300],
            package,
        )
        self.sink.add(
            LedgerEntry,
            {
                "id": entry.id,
                "patient_id": patient.id,
                "location_id": location_id,
                "kind": kind,
                "amount": cents,
                "posted_on": on,
                "description": entry.description,
                "method": method,
                "reference": reference,
                "reason": reason,
                "note": note[:300],
                "reverses_id": reverses.id if reverses is not None else None,
                "package_purchase_id": package,
                "payer_id": payer_id,
                "claim_id": claim_id,
                "created_at": self.cal.stamp,
                "created_by": by,
            },
        )
        if payer_id is not None:
            return entry
        if cents > 0:
            patient.debits.append(entry)
        elif package is None:
            patient.credits.append(entry)
        return entry

    def allocate(
        self, patient: PatientBooks, credit: Entry, debit: Entry, cents: int, by: str
    ) -> None:
        if not 0 < cents <= min(credit.left, debit.left):
            raise RuntimeError(f"allocation of {cents} from {credit.id} to {debit.id} overdraws")
        self.allocation(patient, credit, debit, cents, by)

    def allocation(
        self, patient: PatientBooks, credit: Entry, debit: Entry, cents: int, by: str
    ) -> None:
        credit.left -= cents
        debit.left -= cents
        credit.paid.append((debit, cents))
        self.sink.add(
            Allocation,
            {
                "id": self.sink.next_id(Allocation),
                "patient_id": patient.id,
                "credit_id": credit.id,
                "debit_id": debit.id,
                "amount": cents,
                "created_at": self.cal.stamp,
                "created_by": by,
            },
        )

    def apply(
        self,
        patient: PatientBooks,
        credits: Sequence[tuple[Entry, int]],
        debits: Sequence[Entry],
        by: str = BILLING_USER,
    ) -> int:
        """:func:`ledger.apply_oldest_first`: pay ``debits`` in order from ``credits`` (each
        up to its limit) until one runs out; return the cents applied.

        The amounts are :func:`ledger.allocation_plan`'s, the ledger's own rule.
        """
        plan = allocation_plan(
            [min(limit, entry.left) for entry, limit in credits], [d.left for d in debits]
        )
        for step in plan:
            self.allocate(patient, credits[step.credit][0], debits[step.debit], step.cents, by)
        return sum(step.cents for step in plan)

    def apply_credit(self, patient: PatientBooks, only: Iterable[Entry] | None = None) -> None:
        credits = open_credits(patient)
        if credits:
            self.apply(patient, credits, open_debits(patient, only))


def open_debits(patient: PatientBooks, only: Iterable[Entry] | None = None) -> list[Entry]:
    """The patient's debits still owed (of ``only``), oldest first."""
    patient.debits = [e for e in patient.debits if e.left > 0]
    found = patient.debits if only is None else [e for e in only if e.left > 0]
    return sorted(found, key=oldest_first)


def open_credits(patient: PatientBooks) -> list[tuple[Entry, int]]:
    """The patient's ordinary credit (never a package's), oldest first."""
    patient.credits = [e for e in patient.credits if e.left > 0]
    return [(e, e.left) for e in sorted(patient.credits, key=oldest_first)]
