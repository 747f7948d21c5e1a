"""The money stage's insurance claims: built, checked, sent and answered over the years.

Charges a payer covers on a day its policy is in force are posted on that payer's side of
the ledger (:meth:`~ketadesk.demo.money_charges.Charges.post`, routed by
:func:`ketadesk.billing.claims.routing.route`). For each visit's insurer-side charges the
flow, replayed on the money calendar with the same rules the claim services use:

1. **Build** (:meth:`Claims.claim`, a day or two after posting): one claim per patient,
   payer and day, as :func:`~ketadesk.billing.claims.building.build_claims` builds it
   (its number, note and filing deadline from building's own helpers), checked by the
   scrubber's pure :func:`~ketadesk.billing.claims.scrubber.check` on facts held in memory:
   with no problems it is *ready*, otherwise a *draft* with its problems listed. The chart
   keeps only a patient's current prior authorisation; sessions before it were under
   earlier ones (``PA`` + patient + year), which the claims carry.
2. **Send** (:meth:`Claims._send`): ready claims go out in an 837P batch per payer on
   Mondays and Thursdays, as :func:`~ketadesk.billing.claims.actions.mark_submitted` marks
   them.
3. **Answer** (:meth:`Claims._answer_run`): each payer answers a week's claims of a
   location (the payee: its NPI) in one remittance on Tuesdays, two to five weeks later.
   An outcome is drawn per claim (:data:`OUTCOMES`): paid (CO-45 down to the allowed
   amount, the patient's deductible, coinsurance or copay as PR-1/2/3), partly paid (one
   line denied CO-97) or denied with a common reason (:data:`DENIALS`). Every answer is
   planned by the posting service's pure
   :func:`~ketadesk.billing.claims.remittance.plan_claim` and written as
   :func:`~ketadesk.billing.claims.remittance.post` writes it: the remit rows, the payer's
   payment, contractual adjustments, the patient's share moved to the patient's side (and
   onto their next invoice, which they mostly pay), denials held on the payer's side.
4. **Follow-up**: some denials are appealed (:data:`APPEAL_RATES`) and most appeals won
   (paid on a later remittance); the rest, and denied lines of partly paid claims, are
   written off as :func:`~ketadesk.billing.claims.actions.write_off` does, unless their day
   has not come: those wait in the worklist.

Claims answered after ``today`` stay submitted; recent ones ready or draft. A patient with
a secondary policy gets no patient share from the demo's primary payers, so no secondary
claims are built (the secondary claim flow is the posting service's, not replayed here).
The remittances are posted as :class:`~ketadesk.billing.edi.model.Remittance` values;
:mod:`ketadesk.demo.samples` writes stored ones back as 835 files (the samples shipped in
``resources/samples``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from ketadesk.billing.claims import remit_codes, scrubber
from ketadesk.billing.claims.building import (
    G_CODES,
    ClaimDrug,
    claim_number,
    number_counter,
)
from ketadesk.billing.claims.coding import rems_note
from ketadesk.billing.claims.models import (
    Claim,
    ClaimBatch,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    Remit,
    RemitAdjustment,
    RemitClaim,
    RemitLine,
    RemitSource,
)
from ketadesk.billing.claims.remittance import ClaimPlan, plan_claim
from ketadesk.billing.claims.routing import BillTo
from ketadesk.billing.edi.model import Adjustment, ClaimPayment, Remittance, ServicePayment
from ketadesk.billing.models import AdjustmentReason, EntryKind, PaymentMethod
from ketadesk.clinic.models import InsurancePolicy, Patient
from ketadesk.demo.bulk import Sink
from ketadesk.demo.dice import Dice, table
from ketadesk.demo.money_books import BILLING_USER, Books
from ketadesk.demo.money_calendar import ADJUST, INVOICE, PAY, POST, Calendar
from ketadesk.demo.money_invoices import Invoices
from ketadesk.demo.money_world import Entry, PatientBooks, Visit, World
from ketadesk.money import ZERO, from_cents, to_cents

BUILD_LAG_DAYS = (1, 2)  # after posting
SEND_WEEKDAYS = (0, 3)  # Mondays and Thursdays
UNSENT_DAYS = 21  # claims for the last days posted (the review queue holds 14) wait, ready
ANSWER_WEEKDAY = 1  # payers' remittances arrive on Tuesdays
ANSWER_DAYS = (14, 35)  # after sending
OUTCOMES = table((("paid", 80.0), ("partly", 7.0), ("denied", 13.0)))
# Common denials: (CARC, RARC or "", weight).
DENIALS = table(
    (
        (("50", "N115"), 28.0),  # not medically necessary
        (("197", "N54"), 24.0),  # no prior authorisation on file
        (("16", "N290"), 20.0),  # information missing: the rendering provider's number
        (("27", ""), 10.0),  # coverage had ended (the demo sends every claim in time)
        (("97", "M15"), 18.0),  # bundled into another service
    )
)
APPEAL_RATES = {"50": 0.6, "197": 0.5, "16": 0.8, "97": 0.3}  # CO-27 is never appealed
APPEAL_WON_RATE = 0.7
APPEAL_AFTER = (7, 40)  # days after the denial
APPEAL_ANSWER = (20, 50)  # days after the appeal
WRITE_OFF_AFTER = (30, 120)  # days after a denial nobody appeals (or a lost appeal)
APPEAL_REASONS = {
    "50": "Letter of medical necessity with the PHQ-9 history and failed antidepressant trials",
    "197": "Retro-authorisation granted by the payer; authorisation number attached",
    "16": "Corrected: rendering provider's NPI added; request for reconsideration",
    "97": "The visit was separately identifiable; notes attached",
}
WRITE_OFF_REASONS = {
    "27": "Coverage had ended before the date of service; the policy was not renewed",
    "": "Denial upheld; not billable to the patient under the contract",
}


@dataclass(eq=False)
class Line:
    """A charge posted on a payer's side, as its claim line copies it."""

    id: int
    entry: Entry
    charge_id: int
    code: str
    modifiers: str
    description: str
    units: int
    billed: int  # cents
    pointers: str
    drug: ClaimDrug | None = None  # a drug line's NDC, quantity and note


@dataclass(eq=False)
class OpenClaim:
    """A claim the demo keeps while it follows it; its row is updated once at the end."""

    id: int
    number: str
    patient: PatientBooks
    visit: Visit
    policy: InsurancePolicy
    lines: list[Line]
    status: ClaimStatus
    changes: dict[str, Any] = field(default_factory=dict)  # columns moved since insert
    version: int = 1
    denial: tuple[str, str] = ("", "")  # the last denial's CARC and RARC
    appealed: bool = False
    answered_as: str = ""  # the outcome drawn for its last answer

    @property
    def billed(self) -> int:
        return sum(line.billed for line in self.lines)


class Claims:
    """Builds, sends and answers every insured visit's claim on the money calendar."""

    def __init__(
        self,
        dice: Dice,
        world: World,
        sink: Sink,
        books: Books,
        invoices: Invoices,
        cal: Calendar,
    ) -> None:
        self.dice = dice
        self.world = world
        self.sink = sink
        self.books = books
        self.invoices = invoices
        self.cal = cal
        self.claims: list[OpenClaim] = []
        self._to_send: dict[tuple[int, date], list[OpenClaim]] = {}
        # A remittance pays one payee: (payer, location, day) -> the claims it answers.
        self._answers: dict[tuple[int, int, date], list[tuple[OpenClaim, str]]] = {}
        self._claimed: dict[tuple[int, str], set[date]] = {}  # days under an authorisation

    # -- building ----------------------------------------------------------------------

    def claim(self, patient: PatientBooks, visit: Visit, to: BillTo, lines: list[Line]) -> None:
        """Put the visit's insurer-side charges on a claim a day or two after posting."""
        day = self.cal.day + timedelta(days=self.dice.between(*BUILD_LAG_DAYS))
        self.cal.at(day, POST, partial(self._build, patient, visit, to, lines))

    def _build(self, patient: PatientBooks, visit: Visit, to: BillTo, lines: list[Line]) -> None:
        policy = next(p for p in patient.policies if p.id == to.policy_id)
        payer = policy.payer
        year = visit.day.year
        claim = OpenClaim(
            self.sink.next_id(Claim),
            claim_number(year, self.cal.next_number(number_counter(year))),
            patient, visit, policy, lines, ClaimStatus.DRAFT,
        )  # fmt: skip
        auth = self._authorisation(patient, policy, visit.day)
        problems = scrubber.check(self._facts(claim, auth))
        note = ""
        if payer.rems_kx and any(line.code in G_CODES for line in lines):
            note = rems_note(visit.place.name)
        self.sink.add(Claim, {
            "id": claim.id, "number": claim.number, "patient_id": patient.id,
            "payer_id": payer.id, "policy_id": policy.id, "location_id": visit.place.id,
            "provider_id": visit.provider_id, "rank": policy.rank,
            "status": ClaimStatus.DRAFT, "frequency": "1", "replaces_id": None,
            "primary_claim_id": None, "service_from": visit.day, "service_to": visit.day,
            "billed": claim.billed, "diagnoses": ",".join(patient.diagnoses),
            "prior_auth_number": auth[0], "note": note, "payer_claim_number": "",
            "batch_id": None, "submitted_on": None, "adjudicated_on": None,
            "filing_deadline": visit.day + timedelta(days=payer.timely_filing_days),
            "appeal_deadline": None, "problems": "\n".join(p.sentence for p in problems),
            "created_at": self.cal.stamp, "created_by": BILLING_USER, "version": 1,
        })  # fmt: skip
        for position, line in enumerate(lines, start=1):
            self._line_row(claim, line, position)
        self.claims.append(claim)
        count = len(lines)
        self._event(claim, ClaimStatus.DRAFT, f"Built from {count} charge{'s' * (count != 1)}")
        if problems:
            return
        self._move(claim, ClaimStatus.READY, "Checked: no problems")
        if auth[0]:
            self._claimed.setdefault((policy.id, auth[0]), set()).add(visit.day)
        if visit.day > self.world.today - timedelta(days=UNSENT_DAYS):
            return  # the latest week's claims wait, ready, for the next batch
        send = self.cal.day
        while send.weekday() not in SEND_WEEKDAYS:
            send += timedelta(days=1)
        key = (payer.id, send)
        if key not in self._to_send:
            self._to_send[key] = []
            self.cal.at(send, INVOICE, partial(self._send, key))
        self._to_send[key].append(claim)

    def _line_row(self, claim: OpenClaim, line: Line, position: int) -> None:
        drug = line.drug
        self.sink.add(ClaimLine, {
            "id": line.id, "claim_id": claim.id, "position": position,
            "charge_id": line.charge_id, "entry_id": line.entry.id,
            "service_date": claim.visit.day, "code": line.code, "modifiers": line.modifiers,
            "description": line.description[:200], "units": line.units,
            "billed": line.billed, "pointers": line.pointers,
            "ndc": drug.ndc if drug else "", "ndc_quantity": drug.quantity if drug else None,
            "ndc_unit": drug.unit if drug else "", "note": drug.note if drug else "",
        })  # fmt: skip

    def _authorisation(
        self, patient: PatientBooks, policy: InsurancePolicy, day: date
    ) -> tuple[str, date | None, date | None, int | None]:
        """The prior authorisation a claim for ``day`` carries: the policy's own from its
        first day on, an earlier one (renewed yearly, no longer on the chart) before."""
        if policy.prior_auth_number and (policy.auth_from is None or day >= policy.auth_from):
            return (
                policy.prior_auth_number, policy.auth_from, policy.auth_to,
                policy.sessions_authorized,
            )  # fmt: skip
        if day < self.world.today - timedelta(days=90) or policy.prior_auth_number:
            return f"PA{patient.id:07d}{day.year % 100:02d}", None, None, None
        return "", None, None, None

    def _facts(
        self, claim: OpenClaim, auth: tuple[str, date | None, date | None, int | None]
    ) -> scrubber.ClaimFacts:
        policy, payer, visit = claim.policy, claim.policy.payer, claim.visit
        number, auth_from, auth_to, authorised = auth
        return scrubber.ClaimFacts(
            number=claim.number, service_date=visit.day, today=self.cal.day,
            filing_deadline=visit.day + timedelta(days=payer.timely_filing_days),
            diagnoses=claim.patient.diagnoses,
            lines=tuple(
                scrubber.LineFacts(
                    position=i, service_date=visit.day, code=line.code,
                    modifiers=tuple(m for m in line.modifiers.split(",") if m),
                    units=line.units, billed=from_cents(line.billed),
                    pointers=tuple(int(p) for p in line.pointers.split(",") if p),
                    ndc=line.drug.ndc if line.drug else "",
                    note=line.drug.note if line.drug else "",
                )
                for i, line in enumerate(claim.lines, start=1)
            ),
            payer_name=payer.name, medicare=payer.is_medicare, rems_kx=payer.rems_kx,
            covered=payer.covered, swaps=scrubber.swaps_of(payer), member_id=policy.member_id,
            relationship=policy.relationship_to_subscriber,
            subscriber_name=policy.subscriber_name, subscriber_dob=policy.subscriber_dob,
            prior_auth_number=number, auth_from=auth_from, auth_to=auth_to,
            sessions_authorized=authorised,
            sessions_claimed=len(self._claimed.get((policy.id, number), set()) - {visit.day}),
            billing_npi=visit.place.npi, tin=visit.place.tin,
            rendering_npi=self.world.npis.get(visit.provider_id),
        )  # fmt: skip

    # -- sending -----------------------------------------------------------------------

    def _send(self, key: tuple[int, date]) -> None:
        """One 837P batch of the payer's ready claims (``mark_submitted``)."""
        claims = self._to_send.pop(key)
        batch = self.sink.next_id(ClaimBatch)
        self.sink.add(ClaimBatch, {
            "id": batch, "payer_id": key[0], "claim_count": len(claims),
            "total": sum(c.billed for c in claims), "file_name": f"837P-{batch:09d}.txt",
            "sha256": "", "created_at": self.cal.stamp, "created_by": BILLING_USER,
        })  # fmt: skip
        for claim in claims:
            claim.changes.update(batch_id=batch, submitted_on=self.cal.day)
            self._move(claim, ClaimStatus.SUBMITTED, f"Sent as 837P batch {batch}")
            self._expect(claim, self.dice.pick(OUTCOMES), ANSWER_DAYS)

    def _expect(self, claim: OpenClaim, outcome: str, after: tuple[int, int]) -> None:
        """The payer answers ``claim`` with ``outcome`` on its next remittance day."""
        day = self.cal.day + timedelta(days=self.dice.between(*after))
        while day.weekday() != ANSWER_WEEKDAY:
            day += timedelta(days=1)
        key = (claim.policy.payer_id, claim.visit.place.id, day)
        if key not in self._answers:
            self._answers[key] = []
            self.cal.at(day, PAY, partial(self._answer_run, key))
        self._answers[key].append((claim, outcome))

    # -- answering ---------------------------------------------------------------------

    def _answer_run(self, key: tuple[int, int, date]) -> None:
        """One remittance of the payer: every claim it answers that day, planned by the
        posting service's rule and posted."""
        answers = self._answers.pop(key)
        payer = answers[0][0].policy.payer
        payments = [self._payment(claim, outcome) for claim, outcome in answers]
        remittance = Remittance(
            payer_name=payer.name, payer_id=payer.edi_payer_id,
            payee_name=answers[0][0].visit.place.name, payee_npi=answers[0][0].visit.place.npi,
            total_paid=sum((p.paid for p in payments), ZERO), method="ACH",
            paid_on=self.cal.day, trace_number=f"EFT{self.dice.digits(10)}", claims=tuple(payments),
        )  # fmt: skip
        remit = self.sink.next_id(Remit)
        self.sink.add(Remit, {
            "id": remit, "source": RemitSource.EDI_835, "sha256": None, "file_name": "",
            "payer_id": payer.id, "payer_name": payer.name[:120],
            "trace_number": remittance.trace_number, "method": "ACH",
            "paid_on": self.cal.day, "total_paid": to_cents(remittance.total_paid),
            "created_at": self.cal.stamp, "created_by": BILLING_USER,
        })  # fmt: skip
        for (claim, _outcome), payment in zip(answers, payments, strict=True):
            planned = plan_claim(payment, _shell(claim))
            if not planned.postable:
                raise RuntimeError(f"the demo's answer to {claim.number}: {planned.problems}")
            self._post(remittance, remit, claim, planned)

    def _payment(self, claim: OpenClaim, outcome: str) -> ClaimPayment:
        services = self._services(claim, outcome)
        status = "4" if outcome == "denied" else "1"  # CLP02: denied, or processed as primary
        return ClaimPayment(
            claim_number=claim.number, status=status, billed=from_cents(claim.billed),
            paid=sum((s.paid for s in services), ZERO),
            patient_responsibility=sum(
                (a.amount for s in services for a in s.adjustments if a.group == "PR"), ZERO
            ),
            payer_claim_number=claim.changes.get("payer_claim_number")
            or f"{claim.policy.payer.edi_payer_id}{claim.id:010d}",
            services=services, patient_name=claim.patient.name,
            member_id=claim.policy.member_id,
        )  # fmt: skip

    def _services(self, claim: OpenClaim, outcome: str) -> tuple[ServicePayment, ...]:
        claim.answered_as = outcome
        if outcome == "denied":
            if not claim.appealed:  # a lost appeal is denied for the same reason again
                claim.denial = self.dice.pick(DENIALS)
            carc, remark = claim.denial
            return tuple(
                _service(line, 0, (Adjustment("CO", carc, from_cents(line.billed)),),
                         (remark,) if remark else ())
                for line in claim.lines
            )  # fmt: skip
        if outcome == "partly" and len(claim.lines) > 1:
            claim.denial = ("97", "M15")
            paid = self._paid_services(claim, claim.lines[:-1])
            last = claim.lines[-1]
            held = (Adjustment("CO", "97", from_cents(last.billed)),)
            return (*paid, _service(last, 0, held, ("M15",)))
        return self._paid_services(claim, claim.lines)

    def _paid_services(self, claim: OpenClaim, lines: list[Line]) -> tuple[ServicePayment, ...]:
        """Each line paid down to the allowed amount, the patient's share on top."""
        payer, dice = claim.policy.payer, self.dice
        low, high = (38, 50) if payer.is_medicare else (45, 62) if payer.in_network else (30, 45)
        percent = dice.between(low, high)
        secondary = _has_secondary(claim)
        shares = self._share_plan(claim) if not secondary else ("", 0, 0)
        kind, first, rate = shares
        services = []
        for i, line in enumerate(lines):
            allowed = line.billed * percent // 100
            adjustments = [Adjustment("CO", "45", from_cents(line.billed - allowed))]
            share = 0
            if kind in ("1", "3") and i == 0:
                share = min(first, allowed)
                adjustments.append(Adjustment("PR", kind, from_cents(share)))
            if rate:
                coinsurance = (allowed - share) * rate // 100
                if coinsurance:
                    adjustments.append(Adjustment("PR", "2", from_cents(coinsurance)))
                    share += coinsurance
            services.append(
                _service(line, allowed - share, tuple(adjustments), (), allowed=allowed)
            )
        return tuple(services)

    def _share_plan(self, claim: OpenClaim) -> tuple[str, int, int]:
        """(PR-1 deductible or PR-3 copay or "", its cents, coinsurance %) for a claim."""
        payer, dice, day = claim.policy.payer, self.dice, claim.visit.day
        if payer.is_medicare:
            return ("1", 25_700, 20) if day.month == 1 and dice.chance(0.5) else ("", 0, 20)
        if day.month <= 3 and dice.chance(0.3):
            return "1", dice.between(5, 30) * 5000, 0 if payer.in_network else 30
        if not payer.in_network:
            return "", 0, dice.one((30, 40))
        if dice.chance(0.5):
            return "3", dice.one((2500, 3000, 4000, 5000)), 0
        return "", 0, dice.one((10, 20))

    # -- posting -----------------------------------------------------------------------

    def _post(self, remittance: Remittance, remit: int, claim: OpenClaim, plan: ClaimPlan) -> None:
        """What :func:`remittance.post` writes for one postable claim payment."""
        self._store(remit, claim, plan)
        payer, patient = remittance.payer_name, claim.patient
        entries = {line.entry.id: line.entry for line in claim.lines}
        location = claim.visit.place.id
        post = partial(self.books.post_entry, patient, on=self.cal.day, location_id=location,
                       payer_id=claim.policy.payer_id, claim_id=claim.id)  # fmt: skip
        paid = to_cents(plan.total("paid"))
        if paid > 0:
            entry = post(
                kind=EntryKind.PAYMENT, cents=-paid,
                description=f"{payer} paid claim {claim.number}", method=PaymentMethod.EFT,
                reference=remittance.trace_number,
            )  # fmt: skip
            for line in plan.lines:
                if line.paid > ZERO:
                    self.books.allocate(patient, entry, entries[line.entry_id],
                                        to_cents(line.paid), BILLING_USER)  # fmt: skip
        for line in plan.lines:
            if line.adjusted > ZERO:
                codes = ", ".join(
                    f"{a.group}-{a.reason}" for a in line.adjustments
                    if a.group != "PR" and not remit_codes.is_denial(a.group, a.reason)
                )  # fmt: skip
                entry = post(
                    kind=EntryKind.ADJUSTMENT, cents=-to_cents(line.adjusted),
                    description=f"{payer} contractual adjustment, {line.code} ({codes})",
                    reason=AdjustmentReason.CONTRACTUAL,
                )  # fmt: skip
                self.books.allocate(patient, entry, entries[line.entry_id],
                                    to_cents(line.adjusted), BILLING_USER)  # fmt: skip
        self._shares(claim, plan, payer, entries)
        claim.changes.update(
            payer_claim_number=plan.payment.payer_claim_number, adjudicated_on=self.cal.day
        )
        outcome = plan.outcome or ClaimStatus.PAID
        reasons = "; ".join(plan.denial_reasons)
        words = f"{RemitSource.EDI_835.label} {remittance.trace_number}"
        self._move(claim, outcome, f"{words}: {reasons}" if reasons else words)
        if outcome in (ClaimStatus.DENIED, ClaimStatus.PARTLY_PAID):
            days = claim.policy.payer.appeal_days
            claim.changes["appeal_deadline"] = self.cal.day + timedelta(days=days)
            self._follow_up(claim, outcome)

    def _shares(
        self, claim: OpenClaim, plan: ClaimPlan, payer: str, entries: dict[int, Entry]
    ) -> None:
        """Each line's patient share from the payer's side to the patient's, invoiced."""
        patient, place = claim.patient, claim.visit.place
        moved = []
        for line in plan.lines:
            cents = to_cents(line.patient_share)
            if cents <= 0:
                continue
            out = self.books.post_entry(
                patient, EntryKind.TRANSFER, -cents, self.cal.day, place.id,
                f"{line.code} patient share to the patient: {line.share_words}",
                payer_id=claim.policy.payer_id, claim_id=claim.id,
            )  # fmt: skip
            self.books.allocate(patient, out, entries[line.entry_id], cents, BILLING_USER)
            moved.append(self.books.post_entry(
                patient, EntryKind.TRANSFER, cents, self.cal.day, place.id,
                f"Your share of claim {claim.number} ({payer}), {line.code}: "
                f"{line.share_words}",
                claim_id=claim.id,
            ))  # fmt: skip
        if moved:
            self.invoices.bill_on(patient, place, self.cal.day, moved)

    def _store(self, remit: int, claim: OpenClaim, plan: ClaimPlan) -> None:
        p = plan.payment
        stored = self.sink.next_id(RemitClaim)
        self.sink.add(RemitClaim, {
            "id": stored, "remit_id": remit, "claim_id": claim.id,
            "claim_number": p.claim_number, "status_code": p.status,
            "billed": to_cents(p.billed), "paid": to_cents(p.paid),
            "patient_share": to_cents(p.patient_responsibility),
            "payer_claim_number": p.payer_claim_number, "patient_name": plan.patient_name[:120],
            "remarks": ",".join(p.remarks), "posted": True,
        })  # fmt: skip
        for line in plan.lines:
            svc = line.payment
            if svc is None:
                continue
            row = self.sink.next_id(RemitLine)
            self.sink.add(RemitLine, {
                "id": row, "remit_claim_id": stored, "claim_line_id": line.line_id,
                "code": svc.code, "billed": to_cents(svc.billed), "paid": to_cents(svc.paid),
                "allowed": svc.allowed, "units": svc.units, "remarks": ",".join(svc.remarks),
            })  # fmt: skip
            for a in svc.adjustments:
                self.sink.add(RemitAdjustment, {
                    "id": self.sink.next_id(RemitAdjustment), "remit_claim_id": stored,
                    "remit_line_id": row, "group": a.group, "reason": a.reason,
                    "amount": to_cents(a.amount),
                })  # fmt: skip

    # -- follow-up ---------------------------------------------------------------------

    def _follow_up(self, claim: OpenClaim, outcome: ClaimStatus) -> None:
        """Appeal a denial (``actions.appeal``), or write off what stays denied later."""
        dice = self.dice
        # Only a claim denied whole is appealed here: an appeal's answer pays every line.
        whole = claim.answered_as == "denied"
        rate = APPEAL_RATES.get(claim.denial[0], 0.0)
        if whole and outcome is ClaimStatus.DENIED and not claim.appealed and dice.chance(rate):
            day = self.cal.day + timedelta(days=dice.between(*APPEAL_AFTER))
            self.cal.at(day, ADJUST, partial(self._appeal, claim))
            return
        day = self.cal.day + timedelta(days=dice.between(*WRITE_OFF_AFTER))
        self.cal.at(day, ADJUST, partial(self._write_off, claim))

    def _appeal(self, claim: OpenClaim) -> None:
        claim.appealed = True
        self._move(claim, ClaimStatus.APPEALED, APPEAL_REASONS[claim.denial[0]])
        won = self.dice.chance(APPEAL_WON_RATE)
        self._expect(claim, "paid" if won else "denied", APPEAL_ANSWER)

    def _write_off(self, claim: OpenClaim) -> None:
        """What ``actions.write_off`` posts: each line's open amount adjusted away on the
        payer's side, and the claim closed."""
        if claim.status not in (ClaimStatus.DENIED, ClaimStatus.PARTLY_PAID):
            return
        why = WRITE_OFF_REASONS.get(claim.denial[0], WRITE_OFF_REASONS[""])
        for line in claim.lines:
            charge = line.entry
            if charge.left <= 0:
                continue
            down = self.books.post_entry(
                claim.patient, EntryKind.ADJUSTMENT, -charge.left, self.cal.day,
                claim.visit.place.id,
                f"Write-off of {charge.description} (claim {claim.number})", note=why,
                reason=AdjustmentReason.WRITE_OFF, payer_id=claim.policy.payer_id,
                claim_id=claim.id,
            )  # fmt: skip
            self.books.allocate(claim.patient, down, charge, charge.left, BILLING_USER)
        self._move(claim, ClaimStatus.CLOSED, f"Written off: {why}")

    # -- history -----------------------------------------------------------------------

    def _move(self, claim: OpenClaim, to: ClaimStatus, reason: str) -> None:
        """``status.move``: the change with who, when and why."""
        was = claim.status
        claim.status = to
        claim.version += 1
        self._event(claim, to, reason, was.value)

    def _event(self, claim: OpenClaim, to: ClaimStatus, reason: str, was: str = "") -> None:
        self.sink.add(ClaimEvent, {
            "id": self.sink.next_id(ClaimEvent), "claim_id": claim.id, "from_status": was,
            "to_status": to, "at": self.cal.stamp, "actor": BILLING_USER,
            "reason": reason[:300],
        })  # fmt: skip

    def final_rows(self) -> list[dict[str, Any]]:
        """Each claim's columns as they ended, for one bulk ``UPDATE``."""
        return [
            {
                "cid": c.id,
                "new_status": c.status,
                "new_version": c.version,
                "new_batch": c.changes.get("batch_id"),
                "new_submitted": c.changes.get("submitted_on"),
                "new_adjudicated": c.changes.get("adjudicated_on"),
                "new_appeal": c.changes.get("appeal_deadline"),
                "new_payer_number": c.changes.get("payer_claim_number", ""),
            }
            for c in self.claims
            if c.version > 1
        ]


def _service(
    line: Line,
    paid: int,
    adjustments: tuple[Adjustment, ...],
    remarks: tuple[str, ...],
    *,
    allowed: int | None = None,
) -> ServicePayment:
    return ServicePayment(
        code=line.code, billed=from_cents(line.billed), paid=from_cents(paid),
        units=Decimal(line.units), adjustments=adjustments, remarks=remarks,
        line_id=str(line.id), allowed=from_cents(allowed) if allowed is not None else None,
    )  # fmt: skip


def _shell(claim: OpenClaim) -> Claim:
    """The claim as the posting rule reads it, in memory only (never added to a session)."""
    family, _, given = claim.patient.name.partition(", ")
    return Claim(
        id=claim.id, number=claim.number, billed=from_cents(claim.billed), status=claim.status,
        patient=Patient(family_name=family, given_name=given, preferred_name=""),
        lines=[
            ClaimLine(id=line.id, entry_id=line.entry.id, code=line.code,
                      billed=from_cents(line.billed), units=line.units, position=i)
            for i, line in enumerate(claim.lines, start=1)
        ],
    )  # fmt: skip


def _has_secondary(claim: OpenClaim) -> bool:
    """Whether the patient has a secondary policy besides this claim's (no share then)."""
    return any(
        p.id != claim.policy.id and p.rank.value == "secondary" for p in claim.patient.policies
    )
