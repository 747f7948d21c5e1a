"""The charge review queue: listing, editing (with version checks), dismissing, adding by hand
and posting to the ledger, with packages and credit applied after posting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from billing.billing_helpers import (
    ADMIN,
    BILLING,
    BillingClinic,
    billing_clinic,
    captured,
    completed_iv_session,
    ended_session,
    posted_charges,
)
from builders import add_location, patient_raw
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.models import (
    Allocation,
    Charge,
    ChargeSource,
    ChargeStatus,
    EntryKind,
    LedgerEntry,
    PackageUse,
    PaymentMethod,
)
from ketadesk.billing.review import (
    add_manual_charge,
    dismiss_charge,
    edit_charge,
    post_charges,
    review_queue,
)
from ketadesk.clinic.patients import create_patient
from ketadesk.errors import (
    Conflict,
    InvalidValue,
    NotFound,
    PermissionDenied,
    StaleEdit,
    ValidationError,
)
from ketadesk.scheduling.models import SessionStatus

FRONT_DESK = Actor(username="test-front", role=Role.FRONT_DESK)
DAY = date(2026, 12, 1)


def charges_of(session: Session, clinic: BillingClinic, minutes: int = 100) -> list[Charge]:
    return captured(session, BILLING, completed_iv_session(session, clinic, minutes=minutes))


def entry_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LedgerEntry)) or 0


# -- the queue --------------------------------------------------------------------------------


def test_the_queue_lists_pending_charges_with_who_and_where(session: Session) -> None:
    clinic = billing_clinic(session)
    charges = charges_of(session, clinic)
    rows = review_queue(session, ADMIN)
    assert [r.charge_id for r in rows] == [c.id for c in charges]
    first = rows[0]
    assert (first.mrn, first.patient_name, first.location_code) == (
        clinic.patient.mrn,
        "Łukasiewicz, Zoë",
        "NYC",
    )
    assert (first.provider_name, first.session_ref, first.source) == (
        "Ama Osei",
        f"S-{charges[0].session_id}",
        ChargeSource.SESSION,
    )
    assert (first.code, first.units, first.unit_price, first.amount) == (
        "96365",
        1,
        Decimal("300.00"),
        Decimal("300.00"),
    )
    assert (first.service_date, first.diagnosis_pointers, first.version) == (DAY, "1,2", 1)


def test_the_queue_filters_and_leaves_out_what_is_settled(session: Session) -> None:
    clinic = billing_clinic(session)
    charges = charges_of(session, clinic)
    other = create_patient(session, ADMIN, patient_raw(family_name="Ng"))
    elsewhere = add_location(session, "BKN")
    manual = add_manual_charge(
        session,
        BILLING,
        patient_id=other.id,
        location_id=elsewhere.id,
        service_date=DAY,
        code="99214",
    )
    assert len(review_queue(session, ADMIN)) == 4
    assert [r.charge_id for r in review_queue(session, ADMIN, patient_id=other.id)] == [manual.id]
    elsewhere_rows = review_queue(session, ADMIN, location_id=elsewhere.id)
    assert [r.charge_id for r in elsewhere_rows] == [manual.id]
    assert review_queue(session, ADMIN, patient_id=other.id)[0].provider_name == ""
    assert len(review_queue(session, ADMIN, limit=2)) == 2
    dismiss_charge(session, BILLING, charges[2].id, "drug billed on another line")
    post_charges(session, BILLING, [charges[0].id], on=DAY)
    assert [r.charge_id for r in review_queue(session, ADMIN)] == [charges[1].id, manual.id]


# -- editing ----------------------------------------------------------------------------------


def test_an_edit_recomputes_the_amount_and_is_audited(session: Session) -> None:
    clinic = billing_clinic(session)
    extra = charges_of(session, clinic)[1]  # 96366 × 1
    edited = edit_charge(
        session, BILLING, extra.id, {"units": "2", "diagnosis_pointers": "b, 1"}, version=1
    )
    assert (edited.units, edited.amount, edited.billed_charge) == (
        2,
        Decimal("200.00"),
        Decimal("300.00"),
    )
    assert edited.diagnosis_pointers == "2,1"
    assert edited.version == 2
    update = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "charge", AuditEntry.action == "update")
    ).one()
    assert update.before is not None and update.after is not None
    assert (update.before["units"], update.after["units"]) == (1, 2)
    assert (update.before["amount"], update.after["amount"]) == ("100.00", "200.00")


def test_a_new_code_takes_its_price_and_words_from_the_schedule(session: Session) -> None:
    clinic = billing_clinic(session)
    protocol_visit = add_manual_charge(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        location_id=clinic.location.id,
        service_date=DAY,
        code="99213",
    )
    edited = edit_charge(session, BILLING, protocol_visit.id, {"code": "99214"})
    assert (edited.code, edited.unit_price, edited.amount) == (
        "99214",
        Decimal("200.00"),
        Decimal("200.00"),
    )
    assert edited.description == "Office visit, established patient, moderate complexity"
    priced = edit_charge(
        session, BILLING, edited.id, {"code": "99215", "unit_price": "250", "modifiers": "25"}
    )
    assert (priced.code, priced.modifiers, priced.amount) == ("99215", "25", Decimal("250.00"))


def test_a_line_left_at_zero_is_priced_once_a_person_settles_it(session: Session) -> None:
    clinic = billing_clinic(session)
    infusion = charges_of(session, clinic, minutes=12)[0]
    assert (infusion.code, infusion.amount) == ("96365", Decimal("0.00"))
    assert infusion.review_note.startswith("the infusion ran 12 minutes")
    settled = edit_charge(session, BILLING, infusion.id, {"units": 1})
    assert (settled.unit_price, settled.amount) == (Decimal("300.00"), Decimal("300.00"))
    assert settled.review_note == ""


def test_an_edit_from_an_old_version_is_refused(session: Session) -> None:
    clinic = billing_clinic(session)
    charge = charges_of(session, clinic)[2]
    edit_charge(session, BILLING, charge.id, {"unit_price": "140.00"}, version=1)
    with pytest.raises(StaleEdit, match="changed by someone else"):
        edit_charge(session, ADMIN, charge.id, {"unit_price": "120.00"}, version=1)
    assert charge.amount == Decimal("140.00")


def test_edit_validation_names_every_bad_field(session: Session) -> None:
    clinic = billing_clinic(session)
    charge = charges_of(session, clinic)[0]
    values = {
        "code": "ABCDE",
        "units": "0",
        "unit_price": "-1",
        "diagnosis_pointers": "3",
        "status": "posted",
    }
    with pytest.raises(ValidationError) as caught:
        edit_charge(session, BILLING, charge.id, values)
    error = caught.value
    assert {p.field for p in error.problems} == set(values)
    assert error.for_field("diagnosis_pointers") == ["3 points past the patient's 2 diagnoses"]
    assert error.for_field("status") == ["cannot be changed in the review queue"]
    assert (charge.code, charge.units, charge.version) == ("96365", 1, 1)


def test_a_clinic_fee_keeps_no_code(session: Session) -> None:
    clinic = billing_clinic(session)
    (fee,) = captured(session, BILLING, ended_session(session, clinic, SessionStatus.NO_SHOW))
    with pytest.raises(ValidationError, match="no-show fee is a clinic fee and has no code"):
        edit_charge(session, BILLING, fee.id, {"code": "99211"})
    waived = edit_charge(session, BILLING, fee.id, {"unit_price": "50.00"})
    assert (waived.amount, waived.code) == (Decimal("50.00"), "")


def test_a_posted_charge_is_frozen(session: Session) -> None:
    clinic = billing_clinic(session)
    charge = charges_of(session, clinic)[0]
    post_charges(session, BILLING, [charge.id], on=DAY)
    with pytest.raises(Conflict, match=r"is posted and final.*reverse its ledger entry instead"):
        edit_charge(session, BILLING, charge.id, {"units": 2})
    with pytest.raises(Conflict, match="posted and final"):
        dismiss_charge(session, BILLING, charge.id, "changed my mind")
    assert (charge.units, charge.status) == (1, ChargeStatus.POSTED)


# -- dismissing -------------------------------------------------------------------------------


def test_dismissing_needs_a_reason_and_is_final(session: Session) -> None:
    clinic = billing_clinic(session)
    charge = charges_of(session, clinic)[2]
    with pytest.raises(ValidationError, match="reason: is required"):
        dismiss_charge(session, BILLING, charge.id, "   ")
    dismissed = dismiss_charge(session, BILLING, charge.id, "  drug  supplied by the patient ")
    assert (dismissed.status, dismissed.dismissed_reason) == (
        ChargeStatus.DISMISSED,
        "drug supplied by the patient",
    )
    with pytest.raises(Conflict, match="was dismissed \\(drug supplied by the patient\\)"):
        edit_charge(session, BILLING, charge.id, {"units": 2})
    with pytest.raises(Conflict, match="already dismissed"):
        post_charges(session, BILLING, [charge.id], on=DAY)
    assert entry_count(session) == 0


# -- adding by hand ---------------------------------------------------------------------------


def test_a_charge_added_by_hand_is_priced_from_the_schedule(session: Session) -> None:
    clinic = billing_clinic(session)
    ts = completed_iv_session(session, clinic)
    charge = add_manual_charge(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        location_id=clinic.location.id,
        service_date=DAY,
        code="99417",
        units=2,
        provider_id=clinic.provider.id,
        session_id=ts.id,
    )
    assert (charge.source, charge.status, charge.units, charge.amount) == (
        ChargeSource.MANUAL,
        ChargeStatus.PENDING,
        2,
        Decimal("150.00"),
    )
    assert charge.billed_charge == Decimal("220.00")
    assert charge.description == "Prolonged visit, each further 15 minutes"
    assert charge.diagnosis_pointers == "1,2"


def test_a_code_off_the_schedule_needs_a_price(session: Session) -> None:
    clinic = billing_clinic(session)
    where = {"patient_id": clinic.patient.id, "location_id": clinic.location.id}
    with pytest.raises(ValidationError) as caught:
        add_manual_charge(session, BILLING, **where, service_date=DAY, code="90785")
    assert caught.value.for_field("unit_price") == [
        "is required: 90785 has no fee on the schedule in force on 2026-12-01"
    ]
    charge = add_manual_charge(
        session, BILLING, **where, service_date=DAY, code="90785", unit_price="35.00"
    )
    assert (charge.amount, charge.billed_charge) == (Decimal("35.00"), Decimal("35.00"))
    assert charge.description == "90785 (added by hand)"
    with pytest.raises(ValidationError) as bad:
        add_manual_charge(
            session, BILLING, **where, service_date=DAY, code="12", units=0, modifiers="X"
        )
    assert {p.field for p in bad.value.problems} == {"code", "units", "modifiers"}


def test_a_charge_added_by_hand_must_name_real_records(session: Session) -> None:
    clinic = billing_clinic(session)
    other = create_patient(session, ADMIN, patient_raw(family_name="Ng"))
    ts = completed_iv_session(session, clinic)
    with pytest.raises(NotFound, match="no patient with id 999"):
        add_manual_charge(
            session,
            BILLING,
            patient_id=999,
            location_id=clinic.location.id,
            service_date=DAY,
            code="99213",
        )
    with pytest.raises(ValidationError, match="another patient's session"):
        add_manual_charge(
            session,
            BILLING,
            patient_id=other.id,
            location_id=clinic.location.id,
            service_date=DAY,
            code="99213",
            session_id=ts.id,
        )
    with pytest.raises(PermissionDenied):
        add_manual_charge(
            session,
            FRONT_DESK,
            patient_id=clinic.patient.id,
            location_id=clinic.location.id,
            service_date=DAY,
            code="99213",
        )
    assert session.scalar(select(func.count()).select_from(Charge)) == 0


# -- posting ----------------------------------------------------------------------------------


def test_posting_writes_ledger_entries_and_freezes_the_charges(session: Session) -> None:
    clinic = billing_clinic(session)
    charges = charges_of(session, clinic)
    entries = post_charges(session, BILLING, [c.id for c in charges], on=date(2026, 12, 2))
    assert [e.description for e in entries] == [
        "96365 IV infusion, first hour",
        "96366 IV infusion, each additional hour",
        "J3490 Ketamine (unlisted drug), per session",
    ]
    assert {(e.kind, e.posted_on, e.patient_id) for e in entries} == {
        (EntryKind.CHARGE, DAY, clinic.patient.id)
    }
    assert [e.amount for e in entries] == [c.amount for c in charges]
    for charge, entry in zip(charges, entries, strict=True):
        assert (charge.status, charge.entry_id, charge.posted_by) == (
            ChargeStatus.POSTED,
            entry.id,
            "test-billing",
        )
        assert charge.posted_at is not None
    assert ledger.balance(session, clinic.patient.id) == Decimal("550.00")


def test_a_fee_and_several_units_read_plainly_in_the_ledger(session: Session) -> None:
    clinic = billing_clinic(session)
    (fee,) = captured(session, BILLING, ended_session(session, clinic, SessionStatus.NO_SHOW))
    long = captured(
        session, BILLING, completed_iv_session(session, clinic, "2026-12-02 09:00", 151)
    )
    entries = post_charges(session, BILLING, [fee.id, long[1].id], on=date(2026, 12, 2))
    assert [e.description for e in entries] == [
        "No-show fee",
        "96366 IV infusion, each additional hour × 2",
    ]


def test_posting_is_all_or_nothing_and_says_every_reason(session: Session) -> None:
    clinic = billing_clinic(session)
    charges = charges_of(session, clinic, minutes=10)  # 96365 left at $0.00
    later = add_manual_charge(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        location_id=clinic.location.id,
        service_date=date(2026, 12, 9),
        code="99213",
    )
    ids = [c.id for c in charges] + [later.id, 404]
    with pytest.raises(Conflict) as caught:
        post_charges(session, BILLING, ids, on=date(2026, 12, 2))
    message = str(caught.value)
    assert message.startswith("Nothing was posted: ")
    assert f"charge {charges[0].id} (96365 on 2026-12-01) is still at $0.00" in message
    assert f"charge {later.id} (99213 on 2026-12-09) is for 2026-12-09, after 2026-12-02" in message
    assert "there is no charge 404" in message
    assert entry_count(session) == 0
    assert {c.status for c in charges} == {ChargeStatus.PENDING}
    with pytest.raises(InvalidValue, match="choose at least one charge"):
        post_charges(session, BILLING, [], on=DAY)


def test_the_front_desk_cannot_post(session: Session) -> None:
    clinic = billing_clinic(session)
    charges = charges_of(session, clinic)
    with pytest.raises(PermissionDenied, match="test-front \\(Front desk\\) may not review"):
        post_charges(session, FRONT_DESK, [c.id for c in charges], on=DAY)
    with pytest.raises(PermissionDenied):
        edit_charge(session, FRONT_DESK, charges[0].id, {"units": 2})
    with pytest.raises(PermissionDenied):
        dismiss_charge(session, FRONT_DESK, charges[0].id, "no")
    assert entry_count(session) == 0
    assert {c.status for c in charges} == {ChargeStatus.PENDING}


def test_posting_applies_credit_the_patient_already_has(session: Session) -> None:
    clinic = billing_clinic(session)
    payment = ledger.post(
        session,
        ADMIN,
        patient_id=clinic.patient.id,
        location_id=clinic.location.id,
        kind=EntryKind.PAYMENT,
        amount=Decimal("-400.00"),
        posted_on=date(2026, 11, 30),
        description="Card payment",
        method=PaymentMethod.CARD,
    )
    entries = posted_charges(session, BILLING, completed_iv_session(session, clinic))
    paid = {
        a.debit_id: a.amount
        for a in session.scalars(select(Allocation).where(Allocation.credit_id == payment.id))
    }
    assert paid == {entries[0].id: Decimal("300.00"), entries[1].id: Decimal("100.00")}
    assert ledger.unapplied(session, payment) == Decimal("0.00")
    assert ledger.balance(session, clinic.patient.id) == Decimal("150.00")


def test_posting_a_session_uses_the_patients_package(session: Session) -> None:
    from ketadesk.billing.packages import (
        ensure_default_templates,
        package_balance,
        sell_package,
    )

    clinic = billing_clinic(session)
    template = next(t for t in ensure_default_templates(session, ADMIN) if t.sessions == 6)
    assert template.service_code == "96365"
    purchase = sell_package(
        session,
        BILLING,
        patient_id=clinic.patient.id,
        template_id=template.id,
        method=PaymentMethod.CARD,
        on=date(2026, 11, 30),
        location_id=clinic.location.id,
    )
    ts = completed_iv_session(session, clinic, minutes=60)
    posted_charges(session, BILLING, ts)
    use = session.scalars(select(PackageUse).where(PackageUse.session_id == ts.id)).one()
    assert use.purchase_id == purchase.id and use.number == 1
    assert package_balance(session, ADMIN, purchase.id).used == 1
    # The session is paid for: by the prepayment and the package adjustment.
    assert ledger.open_debits(session, clinic.patient.id) == []
