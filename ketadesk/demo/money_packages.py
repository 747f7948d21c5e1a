"""The money stage's packages: sold, used, expired and refunded as the package service does.

:meth:`Packages.sell` is :func:`~ketadesk.billing.packages.sell_package` at the first
session's check-in (the prepayment is the package's, never ordinary credit);
:meth:`Packages.cover` follows :func:`~ketadesk.billing.packages.cover_session` step for
step: the soonest-expiring package of a service the session billed pays for it, up to one
use's value (:func:`~ketadesk.billing.packages.package_share`), an adjustment taking the
rest when the package rate is below the listed fees and a forfeit when it is above, as
:func:`~ketadesk.billing.packages.settle_use` decides for both. A week after
a package's last day :func:`~ketadesk.billing.packages.expire_packages` runs: the unused
value is forfeited or, for refundable packages, sometimes asked back
(:func:`~ketadesk.billing.packages.refund_unused`).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from ketadesk.billing.models import (
    AdjustmentReason,
    EntryKind,
    PackagePurchase,
    PackageStatus,
    PackageUse,
    UnusedPolicy,
)
from ketadesk.billing.packages import package_share, settle_use
from ketadesk.demo.bulk import Sink
from ketadesk.demo.dice import Dice
from ketadesk.demo.money_books import BILLING_USER, FRONT_DESK_USER, Books, open_debits
from ketadesk.demo.money_calendar import EXPIRE, REFUND, Calendar
from ketadesk.demo.money_payments import Payments
from ketadesk.demo.money_world import Entry, Offer, PatientBooks, Purchase, Visit

# Packages sold at the first session of a series, by protocol: (share of series, sessions
# of the template sold).
PACKAGE_RATES = {"iv-induction": (0.15, 6), "im-induction": (0.08, 6), "iv-booster": (0.05, 3)}
PACKAGE_REFUND_RATE = 0.6  # expired packages whose unused sessions the patient asks back
EXPIRY_RUN_DAYS = 7  # expiry is run this many days after a package's last day
PACKAGE_REFUND_REASONS = (
    "Stopped treatment before the package was used",
    "Moved out of the area",
    "Side effects: patient chose to stop",
)


class Packages:
    """Every package sold, and what happens to it."""

    def __init__(
        self, dice: Dice, sink: Sink, books: Books, payments: Payments, cal: Calendar
    ) -> None:
        self.dice = dice
        self.sink = sink
        self.books = books
        self.payments = payments
        self.cal = cal
        self.purchases: list[Purchase] = []

    def sell(self, patient: PatientBooks, visit: Visit, offer: Offer) -> None:
        """:func:`packages.sell_package` at the first session's check-in."""
        method = self.payments.method(patient)
        purchase = Purchase(
            self.sink.next_id(PackagePurchase),
            offer,
            visit.place.id,
            visit.day,
            visit.day + timedelta(days=offer.valid_days),
            method,
            self.payments.reference(patient, method),
        )
        self.sink.add(
            PackagePurchase,
            {
                "id": purchase.id,
                "template_id": offer.id,
                "patient_id": patient.id,
                "location_id": purchase.location_id,
                "name": offer.name,
                "service_code": offer.service_code,
                "sessions_total": offer.sessions,
                "price": offer.price,
                "unused_policy": offer.unused_policy,
                "purchased_on": purchase.purchased_on,
                "expires_on": purchase.expires_on,
                "status": PackageStatus.ACTIVE,  # the final status is written at the end
                "created_at": self.cal.stamp,
                "created_by": FRONT_DESK_USER,
                "version": 1,
            },
        )
        purchase.prepayment = self.books.post_entry(
            patient,
            EntryKind.PAYMENT,
            -offer.price,
            visit.day,
            purchase.location_id,
            f"Package prepayment: {offer.name}",
            by=FRONT_DESK_USER,
            method=method,
            reference=purchase.reference,
            package=purchase.id,
        )
        patient.packages.append(purchase)
        self.purchases.append(purchase)
        self.cal.at(
            purchase.expires_on + timedelta(days=EXPIRY_RUN_DAYS),
            EXPIRE,
            partial(self._expire, patient, purchase),
        )

    def cover(self, patient: PatientBooks, visit: Visit, posted: list[tuple[Entry, str]]) -> None:
        """:func:`packages.cover_session`: the soonest-expiring package of a service the
        session billed pays for it, up to one use's value."""
        codes = {code for _entry, code in posted}
        candidates = sorted(
            (p for p in patient.packages if covers(p, codes, visit.day)),
            key=lambda p: (p.expires_on, p.id),
        )
        for purchase in candidates:
            prepayment = purchase.prepayment
            number = purchase.uses + 1
            value = package_share(purchase.offer.price, purchase.offer.sessions, number)
            if prepayment is None or prepayment.left < value:
                continue
            self._use(patient, visit, purchase, prepayment, number, value, [e for e, _ in posted])
            return

    def _use(
        self,
        patient: PatientBooks,
        visit: Visit,
        purchase: Purchase,
        prepayment: Entry,
        number: int,
        value: int,
        charges: list[Entry],
    ) -> None:
        offer = purchase.offer
        label = f"{offer.name}: session {number} of {offer.sessions}"
        owed = open_debits(patient, charges)
        total = sum(e.left for e in owed)
        used = self.books.apply(patient, [(prepayment, value)], owed)
        settled = settle_use(total, value, used)
        adjustment = None
        if settled.adjustment_cents:
            adjustment = self.books.post_entry(
                patient,
                EntryKind.ADJUSTMENT,
                -settled.adjustment_cents,
                visit.day,
                charges[0].location_id,
                label,
                reason=AdjustmentReason.PACKAGE,
                note="package rate below the listed fees",
                package=purchase.id,
            )
            self.books.apply(
                patient, [(adjustment, settled.adjustment_cents)], open_debits(patient, charges)
            )
        elif settled.forfeit_cents:
            self._forfeit(
                patient, purchase, settled.forfeit_cents, visit.day, f"{label} (rate above fees)"
            )
        self.sink.add(
            PackageUse,
            {
                "id": self.sink.next_id(PackageUse),
                "purchase_id": purchase.id,
                "session_id": visit.session_id,
                "number": number,
                "value": value,
                "adjustment_entry_id": adjustment.id if adjustment is not None else None,
                "used_on": visit.day,
                "created_at": self.cal.stamp,
            },
        )
        purchase.uses = number
        if number == offer.sessions:
            purchase.becomes(PackageStatus.USED_UP)

    def _forfeit(
        self, patient: PatientBooks, purchase: Purchase, cents: int, on: date, description: str
    ) -> None:
        if purchase.prepayment is None:
            return
        entry = self.books.post_entry(
            patient,
            EntryKind.FORFEIT,
            cents,
            on,
            purchase.location_id,
            description,
            package=purchase.id,
        )
        self.books.allocate(patient, purchase.prepayment, entry, cents, BILLING_USER)

    def _expire(self, patient: PatientBooks, purchase: Purchase) -> None:
        """:func:`packages.expire_packages`, run a week after the package's last day."""
        if purchase.status is not PackageStatus.ACTIVE:
            return
        purchase.becomes(PackageStatus.EXPIRED)
        left = purchase.prepayment.left if purchase.prepayment is not None else 0
        offer = purchase.offer
        if offer.unused_policy is UnusedPolicy.FORFEIT:
            if left > 0:
                self._forfeit(
                    patient,
                    purchase,
                    left,
                    self.cal.day,
                    f"{offer.name}: {offer.sessions - purchase.uses} of {offer.sessions} "
                    f"sessions unused, expired {purchase.expires_on.isoformat()}",
                )
        elif left > 0 and self.dice.chance(PACKAGE_REFUND_RATE):
            self.cal.at(
                self.cal.day + timedelta(days=self.dice.between(3, 30)),
                REFUND,
                partial(self._refund_unused, patient, purchase),
            )

    def _refund_unused(self, patient: PatientBooks, purchase: Purchase) -> None:
        """:func:`packages.refund_unused`: the unused sessions' value paid back."""
        prepayment = purchase.prepayment
        if prepayment is None or prepayment.left <= 0:
            return
        offer = purchase.offer
        left = prepayment.left
        entry = self.books.post_entry(
            patient,
            EntryKind.REFUND,
            left,
            self.cal.day,
            purchase.location_id,
            f"Refund of unused package sessions: {offer.name} "
            f"({offer.sessions - purchase.uses} of {offer.sessions} unused)",
            method=purchase.method,
            reference=purchase.reference,
            note=self.dice.one(PACKAGE_REFUND_REASONS),
            package=purchase.id,
        )
        self.books.allocate(patient, prepayment, entry, left, BILLING_USER)
        purchase.becomes(PackageStatus.REFUNDED)


def covers(purchase: Purchase, codes: set[str], day: date) -> bool:
    return (
        purchase.status is PackageStatus.ACTIVE
        and purchase.offer.service_code in codes
        and purchase.expires_on >= day
        and purchase.uses < purchase.offer.sessions
    )
