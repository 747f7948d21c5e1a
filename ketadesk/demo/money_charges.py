"""The money stage's charges: captured, paid at check-out and posted, as billing does it.

Every session that ended is priced once (:meth:`Charges.drafts`) as charge capture prices
it: a completed session by the pure :func:`~ketadesk.billing.claims.coding.coded_drafts`
with the coding of the payer in force on the day
(:func:`~ketadesk.billing.claims.coding.coding_policy` on the day's coverage,
:func:`~ketadesk.billing.claims.coding.coding_for` its payer; none for self-pay, which
gives the self-pay drafts), a late cancellation or a no-show by the location's fee. The
last :data:`PENDING_DAYS` days stay in the review queue (:meth:`Charges.capture`); older
sessions are posted a few days later as :func:`~ketadesk.billing.review.post_charges`
posts them (:meth:`Charges.post`), a share of clinic fees waived. A posted session is
covered by a package if one applies, ordinary credit is applied, and what the patient pays
goes onto the month's invoice. Patients who pay at check-out pay their part of the
session's price at the desk the same day (:meth:`Charges.checkout`).

A charge goes where routing sends it (:meth:`~ketadesk.demo.money_world.PatientBooks.bill_to`):
a service the patient's payer covers on the day is posted on the payer's side at the billed
charge and put on a claim (:mod:`ketadesk.demo.money_claims`), a drug line with the product
and dose the claim builder gives it (:func:`~ketadesk.billing.superbill.charge_drug`,
:func:`~ketadesk.billing.claims.building.claim_drug`); the rest is the patient's.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from ketadesk.billing.capture import SessionFacts
from ketadesk.billing.claims.building import claim_drug
from ketadesk.billing.claims.coding import PayerCoding, coded_drafts, coding_for, coding_policy
from ketadesk.billing.claims.models import ClaimLine
from ketadesk.billing.claims.routing import BillTo
from ketadesk.billing.models import Charge, ChargeSource, ChargeStatus, EntryKind
from ketadesk.billing.review import entry_description
from ketadesk.billing.superbill import charge_drug
from ketadesk.demo.bulk import Sink
from ketadesk.demo.dice import Dice
from ketadesk.demo.money_books import BILLING_USER, FRONT_DESK_USER, Books
from ketadesk.demo.money_claims import Claims, Line
from ketadesk.demo.money_invoices import Invoices
from ketadesk.demo.money_packages import Packages, covers
from ketadesk.demo.money_payments import Payments
from ketadesk.demo.money_world import Entry, PatientBooks, Visit, World, cents_of
from ketadesk.scheduling.models import SessionStatus

PENDING_DAYS = 14  # sessions of the last two weeks wait in the review queue
POST_LAG_DAYS = (1, 3)  # billing posts the queue this many days after a session
FEE_WAIVED_RATE = 0.12  # clinic fees dismissed in review (the patient called ahead, was ill)
WAIVED_REASONS = (
    "Fee waived: patient was ill and called ahead",
    "Fee waived: weather closure of the patient's route",
    "Fee waived: first missed session",
    "Fee waived by the practice manager",
)


class Charges:
    """Prices, captures, posts and takes check-out payments for every session that ended."""

    def __init__(
        self, dice: Dice, world: World, sink: Sink, books: Books, packages: Packages,
        payments: Payments, invoices: Invoices, claims: Claims,
    ) -> None:
        self.dice = dice
        self.world = world
        self.sink = sink
        self.books = books
        self.packages = packages
        self.payments = payments
        self.invoices = invoices
        self.claims = claims
        self.cal = books.cal
        self.pending = 0
        self._descriptions: dict[tuple[str, str, str, int], str] = {}
        self._codings: dict[int, PayerCoding] = {}  # by payer id

    def drafts(self, patient: PatientBooks, visit: Visit) -> list[dict[str, Any]]:
        """The charge rows capture writes for the visit (without status and ids), priced
        once: check-out and posting both read them."""
        if visit.rows is None:
            visit.rows = self._price(patient, visit)
        return visit.rows

    def _price(self, patient: PatientBooks, visit: Visit) -> list[dict[str, Any]]:
        base = {
            "patient_id": patient.id,
            "location_id": visit.place.id,
            "provider_id": visit.provider_id,
            "session_id": visit.session_id,
            "service_date": visit.day,
            "dismissed_reason": "",
            "created_by": BILLING_USER,
            "version": 1,
        }
        if visit.status is not SessionStatus.COMPLETED:
            fee = visit.place.fees.get(visit.status)
            if fee is None:
                return []
            source, cents = fee
            return [
                {
                    **base,
                    "source": source,
                    "code": "",
                    "modifiers": "",
                    "description": source.label,
                    "units": 1,
                    "unit_price": cents,
                    "amount": cents,
                    "billed_charge": cents,
                    "diagnosis_pointers": "",
                    "review_note": "",
                }
            ]
        facts = SessionFacts(
            session_id=visit.session_id,
            modality=visit.series.protocol.modality,
            service_codes=visit.series.codes,
            service_date=visit.day,
            status=visit.status,
            infusion_minutes=visit.infusion_minutes,
            dose_mg=visit.dose_mg,
            monitoring_minutes=visit.monitoring_minutes,
            route=visit.route,
            ndc=visit.ndc,
            established=visit.established,
        )
        return [
            {
                **base,
                "source": ChargeSource.SESSION,
                "code": d.code,
                "modifiers": d.modifiers,
                "description": d.description,
                "units": d.units,
                "unit_price": cents_of(d.unit_price),
                "amount": cents_of(d.amount),
                "billed_charge": cents_of(d.billed_charge),
                "diagnosis_pointers": patient.pointers,
                "review_note": d.review_note[:300],
            }
            for d in coded_drafts(facts, self.world.book, self._coding(patient, visit))
        ]

    def _coding(self, patient: PatientBooks, visit: Visit) -> PayerCoding | None:
        """The coding of the payer in force on the visit's day (None: self-pay), as
        :func:`ketadesk.billing.claims.coding.payer_codings` finds it for capture."""
        policy = coding_policy(patient.coverage_on(visit.day))
        if policy is None:
            return None
        found = self._codings.get(policy.payer_id)
        if found is None:
            found = self._codings[policy.payer_id] = coding_for(policy.payer)
        return found

    def _charge_row(
        self, row: dict[str, Any], status: ChargeStatus, captured: datetime
    ) -> dict[str, Any]:
        return {
            **row,
            "id": self.sink.next_id(Charge),
            "status": status,
            "entry_id": None,
            "created_at": captured,
            "posted_at": None,
            "posted_by": "",
        }

    def capture(self, patient: PatientBooks, visit: Visit) -> None:
        """A recent session: its charges wait in the review queue."""
        for row in self.drafts(patient, visit):
            self.sink.add(Charge, self._charge_row(row, ChargeStatus.PENDING, self.cal.stamp))
            self.pending += 1

    def checkout(self, patient: PatientBooks, visit: Visit) -> None:
        """The patient pays the session's price at the desk (:func:`payments.take_payment`
        with no invoice: what they owe oldest first, the rest as credit): the lines that
        will be theirs, not those their payer is billed."""
        codes = set(visit.series.codes)
        if any(covers(p, codes, visit.day) for p in patient.packages):
            return  # prepaid
        cents = sum(
            row["amount"]
            for row in self.drafts(patient, visit)
            if not patient.bill_to(visit.day, row["code"]).insurer
        )
        if cents <= 0:
            return
        method = self.payments.method(patient)
        self.payments.payment(patient, cents, method, visit.place.id, None, by=FRONT_DESK_USER)

    def post(self, patient: PatientBooks, visit: Visit, waived: bool) -> None:
        """:func:`review.post_charges` for one session's captured charges."""
        captured = datetime.combine(visit.day, time(23, 30), UTC)
        entries = []
        claimed: dict[BillTo, list[Line]] = {}
        for row in self.drafts(patient, visit):
            if waived:
                charge = self._charge_row(row, ChargeStatus.DISMISSED, captured)
                charge["dismissed_reason"] = self.dice.one(WAIVED_REASONS)
                self.sink.add(Charge, charge)
                continue
            if row["amount"] <= 0:  # capture could not price it: it waits for a person
                self.sink.add(Charge, self._charge_row(row, ChargeStatus.PENDING, captured))
                self.pending += 1
                continue
            to = patient.bill_to(visit.day, row["code"])
            entry = self.books.post_entry(
                patient,
                EntryKind.CHARGE,
                posted_cents(row, to),
                visit.day,
                visit.place.id,
                self._describe(row),
                payer_id=to.payer_id,
            )
            charge = self._charge_row(row, ChargeStatus.POSTED, captured)
            charge.update(entry_id=entry.id, posted_at=self.cal.stamp, posted_by=BILLING_USER)
            self.sink.add(Charge, charge)
            if to.insurer:
                claimed.setdefault(to, []).append(self._line(entry, charge, visit))
            else:
                entries.append((entry, row["code"]))
        visit.rows = None  # written; the memory is not needed again
        for to, lines in claimed.items():
            self.claims.claim(patient, visit, to, lines)
        if not entries:
            return
        if visit.status is SessionStatus.COMPLETED:
            self.packages.cover(patient, visit, entries)
        self.books.apply_credit(patient)
        self.invoices.bill(patient, visit, [e for e, _code in entries])

    def _line(self, entry: Entry, charge: dict[str, Any], visit: Visit) -> Line:
        """The claim line of a charge posted on the payer's side, a drug line with what
        :func:`~ketadesk.billing.claims.building.build_claims` gives it."""
        code = charge["code"]
        drug = charge_drug(
            code, charge["modifiers"], charge["description"], visit.day, visit.given,
            self.world.products,
        )  # fmt: skip
        return Line(
            self.sink.next_id(ClaimLine),
            entry,
            charge["id"],
            code,
            charge["modifiers"],
            charge["description"],
            charge["units"],
            entry.amount,
            charge["diagnosis_pointers"],
            claim_drug(code, drug) if drug is not None else None,
        )

    def _describe(self, row: dict[str, Any]) -> str:
        """:func:`review.entry_description` of the charge (one ORM object per kind of line)."""
        key = (row["code"], row["modifiers"], row["description"], row["units"])
        found = self._descriptions.get(key)
        if found is None:
            found = self._descriptions[key] = entry_description(
                Charge(
                    code=row["code"],
                    modifiers=row["modifiers"],
                    description=row["description"],
                    units=row["units"],
                )
            )
        return found


def posted_cents(row: dict[str, Any], to: BillTo) -> int:
    """What posting puts on the ledger, as :func:`ketadesk.billing.review.post_charges`
    does: an insurer is billed the clinic's billed charge, the patient the self-pay price."""
    if to.insurer and row["billed_charge"] > 0:
        return int(row["billed_charge"])
    return int(row["amount"])
