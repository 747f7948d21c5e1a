"""Packages: templates, the sale, each session's use, expiry by policy, refunds, refusals.

Sessions' charges are posted here the way ``review.post_charges`` posts them (a posted
:class:`Charge` and its ``charge`` entry), so these tests exercise the package rules whatever
charge capture decides; one test goes through the real capture and posting.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

import pytest
from billing.billing_helpers import completed_iv_session
from builders import SchedulingClinic, money, scheduling_clinic
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger, packages
from ketadesk.billing.models import (
    AdjustmentReason,
    Charge,
    ChargeSource,
    ChargeStatus,
    EntryKind,
    LedgerEntry,
    PackagePurchase,
    PackageStatus,
    PackageTemplate,
    PaymentMethod,
    UnusedPolicy,
)
from ketadesk.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ketadesk.scheduling.floor import session_day
from ketadesk.scheduling.models import TreatmentSession

BILLING = Actor(username="test-billing", role=Role.BILLING)
DESK = Actor(username="test-front", role=Role.FRONT_DESK)
NURSE = Actor(username="nurse-kim", role=Role.CLINICAL)
SOLD_ON = date(2026, 12, 1)
IV_FEES = (("96365", "300.00"), ("J3490", "150.00"))  # $450 at list prices
INDUCTION = "IV induction — 6 infusions"


def _template(session: Session, name: str = INDUCTION) -> PackageTemplate:
    packages.ensure_default_templates(session, BILLING)
    found = session.scalar(select(PackageTemplate).where(PackageTemplate.name == name))
    assert found is not None
    return found


def _custom(session: Session, **values: object) -> PackageTemplate:
    raw: dict[str, object] = {
        "name": "Three for a thousand",
        "service_code": "96365",
        "sessions": "3",
        "price": "1000.00",
        "valid_days": "30",
        "unused_policy": "refund_prorated",
    }
    raw.update(values)
    return packages.save_template(session, BILLING, raw)


def _sell(
    session: Session, clinic: SchedulingClinic, template: PackageTemplate, on: date = SOLD_ON
) -> PackagePurchase:
    return packages.sell_package(
        session,
        DESK,
        patient_id=clinic.patient.id,
        template_id=template.id,
        method=PaymentMethod.CARD,
        on=on,
        location_id=clinic.location.id,
        reference="slip 42",
    )


def _post(
    session: Session, ts: TreatmentSession, fees: Sequence[tuple[str, str]] = IV_FEES
) -> list[LedgerEntry]:
    """Post ``fees`` for ``ts`` as review.post_charges does (charge row + charge entry)."""
    entries = []
    day = session_day(ts)
    for code, amount in fees:
        entry = ledger.post(
            session,
            BILLING,
            patient_id=ts.patient_id,
            location_id=ts.location_id,
            kind=EntryKind.CHARGE,
            amount=money(amount),
            posted_on=day,
            description=f"{code} service",
        )
        session.add(
            Charge(
                patient_id=ts.patient_id,
                location_id=ts.location_id,
                session_id=ts.id,
                source=ChargeSource.SESSION,
                service_date=day,
                code=code,
                description=f"{code} service",
                units=1,
                unit_price=money(amount),
                amount=money(amount),
                status=ChargeStatus.POSTED,
                entry_id=entry.id,
            )
        )
        entries.append(entry)
    session.flush()
    return entries


def _session_on(session: Session, clinic: SchedulingClinic, day: date) -> TreatmentSession:
    return completed_iv_session(session, clinic, f"{day.isoformat()} 09:00", minutes=45)


def _open_on(session: Session, entries: Sequence[LedgerEntry]) -> Decimal:
    return sum((ledger.open_amount(session, e) for e in entries), Decimal("0.00"))


# -- templates -----------------------------------------------------------------------------


def test_default_templates_are_seeded_once_and_never_overwritten(session: Session) -> None:
    added = packages.ensure_default_templates(session, BILLING)
    by_name = {t.name: t for t in added}
    assert set(by_name) == {
        INDUCTION,
        "IV booster — 3 infusions",
        "IM induction — 6 injections",
    }
    induction = by_name[INDUCTION]
    assert (induction.service_code, induction.sessions, induction.valid_days) == ("96365", 6, 60)
    assert induction.price == money("2550.00")
    assert induction.unused_policy is UnusedPolicy.REFUND_PRORATED
    assert by_name["IM induction — 6 injections"].service_code == "96372"
    assert by_name["IV booster — 3 infusions"].valid_days == 120

    packages.save_template(
        session,
        BILLING,
        {
            "name": INDUCTION,
            "service_code": "96365",
            "sessions": 6,
            "price": "2400.00",
            "valid_days": 90,
        },
        induction.id,
    )
    assert packages.ensure_default_templates(session, BILLING) == []
    assert induction.price == money("2400.00")


def test_save_template_lists_every_bad_field(session: Session) -> None:
    with pytest.raises(ValidationError) as raised:
        packages.save_template(
            session,
            BILLING,
            {
                "name": "",
                "service_code": "ABC",
                "sessions": "0",
                "price": "0.00",
                "valid_days": "x",
                "unused_policy": "keep it",
                "colour": "red",
            },
        )
    fields = {p.field for p in raised.value.problems}
    assert fields == {
        "name",
        "service_code",
        "sessions",
        "price",
        "valid_days",
        "unused_policy",
        "colour",
    }
    assert "more than 0.00" in raised.value.for_field("price")[0]


def test_template_editing_needs_the_fee_schedule_permission(session: Session) -> None:
    with pytest.raises(PermissionDenied):
        packages.save_template(session, DESK, {"name": "x", "service_code": "96365"})


def test_template_names_are_unique(session: Session) -> None:
    _custom(session)
    with pytest.raises(ValueError, match="exists already"):
        _custom(session, name="three FOR a thousand")


def test_list_templates_hides_those_off_sale(session: Session) -> None:
    template = _custom(session)
    packages.set_template_active(session, BILLING, template.id, False)
    assert template not in packages.list_templates(session)
    assert template in packages.list_templates(session, include_inactive=True)


# -- selling -------------------------------------------------------------------------------


def test_selling_posts_a_reserved_prepayment(session: Session) -> None:
    clinic = scheduling_clinic(session)
    purchase = _sell(session, clinic, _template(session))

    assert purchase.expires_on == SOLD_ON + timedelta(days=60)
    assert (purchase.name, purchase.sessions_total, purchase.status) == (
        INDUCTION,
        6,
        PackageStatus.ACTIVE,
    )
    prepayment = packages.prepayment_of(session, purchase)
    assert prepayment is not None
    assert prepayment.kind is EntryKind.PAYMENT
    assert prepayment.amount == money("-2550.00")
    assert prepayment.method is PaymentMethod.CARD and prepayment.reference == "slip 42"
    assert ledger.balance(session, clinic.patient.id) == money("-2550.00")
    # Reserved: the ordinary credit the desk could apply to other charges leaves it out.
    assert ledger.unapplied_credits(session, clinic.patient.id) == []
    [balance] = packages.patient_packages(session, BILLING, clinic.patient.id)
    assert (balance.used, balance.remaining, balance.value_left) == (0, 6, money("2550.00"))


def test_selling_refuses_what_cannot_be_sold(session: Session) -> None:
    clinic = scheduling_clinic(session)
    template = _custom(session)
    with pytest.raises(NotFound, match="no patient"):
        packages.sell_package(
            session,
            DESK,
            patient_id=999_999,
            template_id=template.id,
            method=PaymentMethod.CASH,
            on=SOLD_ON,
            location_id=clinic.location.id,
        )
    with pytest.raises(PermissionDenied):
        packages.sell_package(
            session,
            NURSE,
            patient_id=clinic.patient.id,
            template_id=template.id,
            method=PaymentMethod.CASH,
            on=SOLD_ON,
            location_id=clinic.location.id,
        )
    template.price = Decimal("0.00")  # as a damaged or hand-edited row might be
    with pytest.raises(Conflict, match="no price"):
        _sell(session, clinic, template)
    template.price = money("1000.00")
    packages.set_template_active(session, BILLING, template.id, False)
    with pytest.raises(Conflict, match="no longer sold"):
        _sell(session, clinic, template)
    assert session.scalars(select(PackagePurchase)).all() == []
    assert ledger.balance(session, clinic.patient.id) == Decimal("0.00")


# -- using ---------------------------------------------------------------------------------


def test_each_session_uses_one_until_used_up(session: Session) -> None:
    clinic = scheduling_clinic(session)
    purchase = _sell(session, clinic, _template(session))
    days = [SOLD_ON + timedelta(days=2 * n) for n in range(7)]
    all_entries: list[LedgerEntry] = []
    uses = []
    for day in days[:6]:
        ts = _session_on(session, clinic, day)
        entries = _post(session, ts)
        all_entries += entries
        use = packages.cover_session(session, BILLING, ts.id, entries)
        assert use is not None
        uses.append(use)
        assert _open_on(session, entries) == Decimal("0.00")  # nothing left to pay

    assert [u.number for u in uses] == [1, 2, 3, 4, 5, 6]
    assert all(u.value == money("425.00") for u in uses)
    assert purchase.status is PackageStatus.USED_UP
    # Each use: $425 from the prepayment and a $25 package adjustment for the list prices.
    adjustment = session.get(LedgerEntry, uses[1].adjustment_entry_id)
    assert adjustment is not None
    assert adjustment.kind is EntryKind.ADJUSTMENT
    assert adjustment.reason is AdjustmentReason.PACKAGE
    assert adjustment.amount == money("-25.00")
    assert adjustment.description == f"{INDUCTION}: session 2 of 6"
    assert ledger.balance(session, clinic.patient.id) == Decimal("0.00")
    [balance] = packages.patient_packages(session, BILLING, clinic.patient.id)
    assert (balance.used, balance.remaining, balance.value_left) == (6, 0, Decimal("0.00"))

    # A seventh session finds no package and stays owed at list price.
    ts = _session_on(session, clinic, days[6])
    entries = _post(session, ts)
    assert packages.cover_session(session, BILLING, ts.id, entries) is None
    assert _open_on(session, entries) == money("450.00")


def test_uses_add_up_to_the_price_to_the_cent(session: Session) -> None:
    clinic = scheduling_clinic(session)
    purchase = _sell(session, clinic, _custom(session))  # $1,000.00 for 3
    values = []
    for n in range(3):
        ts = _session_on(session, clinic, SOLD_ON + timedelta(days=2 * n))
        use = packages.cover_session(session, BILLING, ts.id, _post(session, ts))
        assert use is not None
        values.append(use.value)
    assert values == [money("333.33"), money("333.33"), money("333.34")]
    assert sum(values) == purchase.price
    prepayment = packages.prepayment_of(session, purchase)
    assert prepayment is not None and ledger.unapplied(session, prepayment) == Decimal("0.00")


def test_use_value_rounds_down_and_the_last_takes_the_rest() -> None:
    assert packages.use_value(money("0.05"), 6, 1) == Decimal("0.00")
    assert packages.use_value(money("0.05"), 6, 6) == money("0.05")
    assert packages.use_value(money("2000.00"), 3, 3) == money("666.68")
    with pytest.raises(ValueError):
        packages.use_value(money("10.00"), 3, 4)


def test_package_rate_above_the_fees_keeps_the_rest_reserved_exactly(session: Session) -> None:
    clinic = scheduling_clinic(session)
    purchase = _sell(session, clinic, _custom(session))  # $333.33 a session
    ts = _session_on(session, clinic, SOLD_ON)
    entries = _post(session, ts, [("96365", "300.00")])
    use = packages.cover_session(session, BILLING, ts.id, entries)
    assert use is not None and use.adjustment_entry_id is None
    assert _open_on(session, entries) == Decimal("0.00")
    forfeit = session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == EntryKind.FORFEIT)
    ).one()
    assert forfeit.amount == money("33.33")
    assert forfeit.package_purchase_id == purchase.id
    assert packages.package_balance(session, BILLING, purchase.id).value_left == money("666.67")


def test_only_a_session_billing_the_package_service_is_covered(session: Session) -> None:
    clinic = scheduling_clinic(session)
    _sell(session, clinic, _template(session, "IM induction — 6 injections"))
    ts = _session_on(session, clinic, SOLD_ON)
    entries = _post(session, ts)  # 96365: an IV infusion, not an IM injection
    assert packages.cover_session(session, BILLING, ts.id, entries) is None
    assert packages.cover_session(session, BILLING, ts.id, []) is None
    assert _open_on(session, entries) == money("450.00")


def test_a_session_is_covered_once(session: Session) -> None:
    clinic = scheduling_clinic(session)
    purchase = _sell(session, clinic, _template(session))
    ts = _session_on(session, clinic, SOLD_ON)
    assert packages.cover_session(session, BILLING, ts.id, _post(session, ts)) is not None
    later = _post(session, ts, [("96366", "100.00")])  # added after posting
    assert packages.cover_session(session, BILLING, ts.id, later) is None
    assert len(purchase.uses) == 1


def test_charges_posted_again_after_a_reversal_are_covered_again(session: Session) -> None:
    clinic = scheduling_clinic(session)
    purchase = _sell(session, clinic, _custom(session))  # $333.33 a session
    ts = _session_on(session, clinic, SOLD_ON)
    first = _post(session, ts)
    assert packages.cover_session(session, BILLING, ts.id, first) is not None
    for entry in first:  # an invoice voided: its charges reversed
        ledger.reverse(session, BILLING, entry, "wrong provider", SOLD_ON)
    assert packages.package_balance(session, BILLING, purchase.id).value_left == money("1000.00")

    again = _post(session, ts)  # billed again, correctly
    assert packages.cover_session(session, BILLING, ts.id, again) is None  # no second use
    assert _open_on(session, again) == Decimal("0.00")
    balance = packages.package_balance(session, BILLING, purchase.id)
    assert (balance.used, balance.value_left) == (1, money("666.67"))
    assert ledger.balance(session, clinic.patient.id) == money("-666.67")


def test_the_package_expiring_soonest_is_used_first_and_never_after_expiry(
    session: Session,
) -> None:
    clinic = scheduling_clinic(session)
    booster = _sell(session, clinic, _template(session, "IV booster — 3 infusions"))  # 120 days
    induction = _sell(session, clinic, _template(session))  # 60 days: expires first
    ts = _session_on(session, clinic, SOLD_ON + timedelta(days=1))
    use = packages.cover_session(session, BILLING, ts.id, _post(session, ts))
    assert use is not None and use.purchase_id == induction.id

    after_induction = induction.expires_on + timedelta(days=3)
    ts = _session_on(session, clinic, after_induction)
    use = packages.cover_session(session, BILLING, ts.id, _post(session, ts))
    assert use is not None and use.purchase_id == booster.id

    too_late = booster.expires_on + timedelta(days=1)
    ts = _session_on(session, clinic, too_late)
    assert packages.cover_session(session, BILLING, ts.id, _post(session, ts)) is None


def test_a_reversed_sale_covers_nothing(session: Session) -> None:
    clinic = scheduling_clinic(session)
    purchase = _sell(session, clinic, _custom(session))
    prepayment = packages.prepayment_of(session, purchase)
    assert prepayment is not None
    ledger.reverse(session, BILLING, prepayment, "card declined", SOLD_ON)
    ts = _session_on(session, clinic, SOLD_ON)
    assert packages.cover_session(session, BILLING, ts.id, _post(session, ts)) is None


def test_cover_session_needs_charge_review(session: Session) -> None:
    clinic = scheduling_clinic(session)
    _sell(session, clinic, _custom(session))
    ts = _session_on(session, clinic, SOLD_ON)
    with pytest.raises(PermissionDenied):
        packages.cover_session(session, DESK, ts.id, _post(session, ts))


def test_posting_a_sessions_charges_uses_the_package(session: Session) -> None:
    """The real path: capture, then review.post_charges calls cover_session."""
    from billing.billing_helpers import billing_clinic, posted_charges

    clinic = billing_clinic(session)
    purchase = _sell(session, clinic, _template(session))
    ts = completed_iv_session(session, clinic, "2026-12-02 09:00", minutes=45)
    entries = posted_charges(session, BILLING, ts)
    assert len(purchase.uses) == 1
    assert purchase.uses[0].session_id == ts.id
    assert _open_on(session, entries) == Decimal("0.00")
    lines = ledger.lines(session, clinic.patient.id)
    assert lines[0].description == f"Package prepayment: {INDUCTION}"
    assert any(line.description == f"{INDUCTION}: session 1 of 6" for line in lines)


# -- expiry and refunds --------------------------------------------------------------------


def test_expiry_under_refund_prorated_leaves_a_refundable_prepayment(session: Session) -> None:
    clinic = scheduling_clinic(session)
    purchase = _sell(session, clinic, _template(session))
    for n in range(2):
        ts = _session_on(session, clinic, SOLD_ON + timedelta(days=2 * n))
        packages.cover_session(session, BILLING, ts.id, _post(session, ts))

    assert packages.expire_packages(session, BILLING, on=purchase.expires_on) == []
    expired = packages.expire_packages(session, BILLING, on=purchase.expires_on + timedelta(days=1))
    assert expired == [purchase]
    balance = packages.package_balance(session, BILLING, purchase.id)
    assert balance.status is PackageStatus.EXPIRED
    assert balance.value_left == money("1700.00")  # 4 × $425
    assert balance.remaining == 0
    assert ledger.balance(session, clinic.patient.id) == money("-1700.00")

    refund = packages.refund_unused(
        session,
        BILLING,
        purchase.id,
        method=PaymentMethod.CARD,
        on=purchase.expires_on + timedelta(days=5),
        reason="patient moved away",
    )
    assert refund.kind is EntryKind.REFUND and refund.amount == money("1700.00")
    assert refund.description.endswith("(4 of 6 unused)")
    assert refund.note == "patient moved away"
    assert purchase.status is PackageStatus.REFUNDED
    assert ledger.balance(session, clinic.patient.id) == Decimal("0.00")
    assert packages.package_balance(session, BILLING, purchase.id).value_left == Decimal("0.00")
    with pytest.raises(Conflict, match="refunded"):
        packages.refund_unused(
            session, BILLING, purchase.id, method=PaymentMethod.CARD, on=SOLD_ON, reason="again"
        )


def test_expiry_under_forfeit_posts_the_value_left_as_forfeit(session: Session) -> None:
    clinic = scheduling_clinic(session)
    purchase = _sell(session, clinic, _custom(session, unused_policy="forfeit"))
    ts = _session_on(session, clinic, SOLD_ON)
    packages.cover_session(session, BILLING, ts.id, _post(session, ts))

    day = purchase.expires_on + timedelta(days=1)
    assert packages.expire_packages(session, BILLING, on=day) == [purchase]
    forfeit = session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == EntryKind.FORFEIT)
    ).one()
    assert forfeit.amount == money("666.67")
    assert forfeit.posted_on == day
    assert "2 of 3 sessions unused" in forfeit.description
    assert ledger.balance(session, clinic.patient.id) == Decimal("0.00")
    assert ledger.open_debits(session, clinic.patient.id) == []
    assert packages.package_balance(session, BILLING, purchase.id).value_left == Decimal("0.00")
    assert packages.expire_packages(session, BILLING, on=day) == []
    with pytest.raises(Conflict, match="lapse"):
        packages.refund_unused(
            session, BILLING, purchase.id, method=PaymentMethod.CASH, on=day, reason="asked"
        )


def test_refund_of_an_active_package_closes_it(session: Session) -> None:
    clinic = scheduling_clinic(session)
    purchase = _sell(session, clinic, _custom(session))
    ts = _session_on(session, clinic, SOLD_ON)
    packages.cover_session(session, BILLING, ts.id, _post(session, ts))
    refund = packages.refund_unused(
        session,
        BILLING,
        purchase.id,
        method=PaymentMethod.CHECK,
        on=SOLD_ON + timedelta(days=3),
        reason="stopped treatment",
        reference="check 1001",
    )
    assert refund.amount == money("666.67") and refund.reference == "check 1001"
    later = _session_on(session, clinic, SOLD_ON + timedelta(days=5))
    assert packages.cover_session(session, BILLING, later.id, _post(session, later)) is None


def test_refund_refusals(session: Session) -> None:
    clinic = scheduling_clinic(session)
    purchase = _sell(session, clinic, _custom(session))
    with pytest.raises(PermissionDenied):
        packages.refund_unused(
            session, DESK, purchase.id, method=PaymentMethod.CASH, on=SOLD_ON, reason="asked"
        )
    with pytest.raises(ValueError, match="say why"):
        packages.refund_unused(
            session, BILLING, purchase.id, method=PaymentMethod.CASH, on=SOLD_ON, reason="  "
        )
    with pytest.raises(NotFound):
        packages.refund_unused(
            session, BILLING, 999_999, method=PaymentMethod.CASH, on=SOLD_ON, reason="asked"
        )
    prepayment = packages.prepayment_of(session, purchase)
    assert prepayment is not None
    ledger.reverse(session, BILLING, prepayment, "card declined", SOLD_ON)
    with pytest.raises(Conflict, match="nothing is left"):
        packages.refund_unused(
            session, BILLING, purchase.id, method=PaymentMethod.CASH, on=SOLD_ON, reason="asked"
        )
    assert purchase.status is PackageStatus.ACTIVE


def test_patient_packages_lists_newest_first(session: Session) -> None:
    clinic = scheduling_clinic(session)
    first = _sell(session, clinic, _custom(session), on=SOLD_ON)
    second = _sell(session, clinic, _template(session), on=SOLD_ON + timedelta(days=1))
    rows = packages.patient_packages(session, BILLING, clinic.patient.id)
    assert [r.purchase_id for r in rows] == [second.id, first.id]
    assert rows[1].price == money("1000.00") and rows[1].service_code == "96365"
    with pytest.raises(NotFound):
        packages.package_balance(session, BILLING, 999_999)
