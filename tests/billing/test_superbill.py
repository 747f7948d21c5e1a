"""The superbill's data: posted coded charges grouped into visits, what was paid on them, and
the refusal that lists every missing item an insurer requires.

Charges are posted here the way ``review.post_charges`` leaves them (a posted ``charge``
row pointing at its ledger entry), so these tests need nothing from charge capture.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, replace
from datetime import date
from decimal import Decimal

import pytest
from billing.billing_helpers import (
    BillingClinic,
    billing_actor,
    billing_clinic,
    completed_iv_session,
    posted_charges,
)
from builders import VALID_NPIS, add_location, add_payer, add_provider, insure, patient_raw
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.models import (
    AdjustmentReason,
    Charge,
    ChargeSource,
    ChargeStatus,
    EntryKind,
    LedgerEntry,
    PackagePurchase,
    PackageTemplate,
    PaymentMethod,
    UnusedPolicy,
)
from ketadesk.billing.superbill import pointers, superbill_patients, superbill_view
from ketadesk.billing.views import DrugInfo
from ketadesk.clinic.models import (
    InsurancePolicy,
    Location,
    Patient,
    PolicyRank,
    Provider,
    Relationship,
)
from ketadesk.clinic.patients import create_patient
from ketadesk.errors import Incomplete, InvalidValue, NotFound
from ketadesk.money import money
from ketadesk.scheduling.models import TreatmentSession

DEC = date(2026, 12, 1), date(2026, 12, 31)
ISSUED = date(2027, 1, 2)
READER = Actor(username="test-billing", role=Role.BILLING)


@dataclass
class Books:
    location: Location
    provider: Provider
    patient: Patient
    actor: Actor


@pytest.fixture
def books(session: Session, admin: Actor) -> Books:
    location = add_location(session, "NYC", phone="2125550100", address_line2="Suite 400")
    provider = add_provider(session)
    patient = create_patient(session, admin, patient_raw())
    return Books(location, provider, patient, admin)


def post(
    session: Session,
    books: Books,
    day: str,
    code: str = "96365",
    amount: str = "450.00",
    *,
    units: int = 1,
    modifiers: str = "",
    points: str = "1,2",
    provider: Provider | None = None,
    location: Location | None = None,
    patient: Patient | None = None,
    status: ChargeStatus = ChargeStatus.POSTED,
    description: str = "IV infusion, first hour",
) -> Charge:
    """A charge as posting leaves it: the row and (unless pending) its ledger entry."""
    who = patient or books.patient
    where = location or books.location
    entry = None
    if status is ChargeStatus.POSTED:
        entry = ledger.post(
            session,
            books.actor,
            patient_id=who.id,
            location_id=where.id,
            kind=EntryKind.CHARGE,
            amount=money(amount),
            posted_on=date.fromisoformat(day),
            description=f"{code} {description}".strip(),
        )
    charge = Charge(
        patient_id=who.id,
        location_id=where.id,
        provider_id=(provider or books.provider).id,
        source=ChargeSource.SESSION if code else ChargeSource.NO_SHOW_FEE,
        service_date=date.fromisoformat(day),
        code=code,
        modifiers=modifiers,
        description=description,
        units=units,
        unit_price=money(amount),
        amount=money(amount),
        diagnosis_pointers=points,
        status=status,
        entry_id=entry.id if entry else None,
    )
    session.add(charge)
    session.flush()
    return charge


def entry_of(session: Session, charge: Charge) -> LedgerEntry:
    assert charge.entry_id is not None
    return ledger.get_entry(session, charge.entry_id)


def credit(
    session: Session,
    books: Books,
    amount: str,
    kind: EntryKind = EntryKind.PAYMENT,
    *,
    package: PackagePurchase | None = None,
) -> LedgerEntry:
    return ledger.post(
        session,
        books.actor,
        patient_id=books.patient.id,
        location_id=books.location.id,
        kind=kind,
        amount=-money(amount),
        posted_on=date(2026, 12, 20),
        description="Payment" if kind is EntryKind.PAYMENT else "Discount",
        method=PaymentMethod.CARD if kind is EntryKind.PAYMENT else None,
        reason=AdjustmentReason.DISCOUNT if kind is EntryKind.ADJUSTMENT else None,
        package_purchase_id=package.id if package else None,
    )


def package(session: Session, books: Books) -> PackagePurchase:
    template = PackageTemplate(
        name="Six infusions", service_code="96365", sessions=6, price=money("2400.00")
    )
    session.add(template)
    session.flush()
    purchase = PackagePurchase(
        template_id=template.id,
        patient_id=books.patient.id,
        location_id=books.location.id,
        name=template.name,
        service_code="96365",
        sessions_total=6,
        price=template.price,
        unused_policy=UnusedPolicy.REFUND_PRORATED,
        purchased_on=date(2026, 11, 30),
        expires_on=date(2027, 2, 28),
    )
    session.add(purchase)
    session.flush()
    return purchase


def test_visits_carry_every_item_an_insurer_reads(session: Session, books: Books) -> None:
    first = post(session, books, "2026-12-07", "96365", "450.00")
    post(session, books, "2026-12-07", "96366", "150.00", points="1")
    post(session, books, "2026-12-09", "J3490", "35.00", modifiers="JZ", points="2", units=1)
    payment = credit(session, books, "500.00")
    ledger.allocate(session, books.actor, payment, entry_of(session, first), money("450.00"))

    view = superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)

    assert view.number == f"SB-{books.patient.mrn}-20261201-20261231"
    assert (view.period_from, view.period_to, view.issued_on) == (*DEC, ISSUED)
    assert view.practice.npi == VALID_NPIS[1] and view.practice.tin == "123456789"
    assert view.practice.phone == "2125550100"
    assert view.practice.address_lines == ("1 Main St, Suite 400", "New York, NY 10001")
    assert view.patient.name == "Zoë Łukasiewicz"
    assert view.patient.date_of_birth == date(1984, 3, 9)
    assert [(d.pointer, d.code) for d in view.diagnoses] == [("A", "F33.2"), ("B", "F43.10")]
    assert view.diagnoses[0].description.startswith("Major depressive disorder, recurrent severe")
    assert [v.service_date for v in view.visits] == [date(2026, 12, 7), date(2026, 12, 9)]
    assert {v.pos_code for v in view.visits} == {"11"}
    assert view.visits[0].provider.name == "Ama Osei"
    assert view.visits[0].provider.credentials == "MD"
    assert view.visits[0].provider.npi == VALID_NPIS[0]
    lines = [
        (ln.code, ln.modifiers, ln.units, ln.diagnosis_pointers, ln.charge, ln.paid)
        for v in view.visits
        for ln in v.lines
    ]
    assert lines == [
        ("96365", "", 1, "A,B", money("450.00"), money("450.00")),
        ("96366", "", 1, "A", money("150.00"), money("0.00")),
        ("J3490", "JZ", 1, "B", money("35.00"), money("0.00")),
    ]
    assert view.total_charges == money("635.00")
    assert view.total_paid == money("450.00")
    assert view.balance == money("185.00")
    assert all(isinstance(x, Decimal) for x in (view.total_charges, view.total_paid))


def test_paid_counts_payments_and_package_money_but_not_discounts(
    session: Session, books: Books
) -> None:
    infusion = entry_of(session, post(session, books, "2026-12-07", "96365", "450.00"))
    prepaid = credit(session, books, "2400.00", package=package(session, books))
    ledger.allocate(session, books.actor, prepaid, infusion, money("400.00"))
    discount = credit(session, books, "50.00", EntryKind.ADJUSTMENT)
    ledger.allocate(session, books.actor, discount, infusion, money("50.00"))

    view = superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)

    assert view.total_paid == money("400.00")
    assert view.visits[0].lines[0].paid == money("400.00")
    assert view.balance == money("0.00")


def test_a_reversed_payment_no_longer_counts_as_paid(session: Session, books: Books) -> None:
    infusion = entry_of(session, post(session, books, "2026-12-07"))
    payment = credit(session, books, "450.00")
    ledger.allocate(session, books.actor, payment, infusion, money("450.00"))
    ledger.reverse(session, books.actor, payment, "card declined", date(2026, 12, 21))

    view = superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)

    assert view.total_paid == money("0.00")
    assert view.balance == money("450.00")


def test_only_posted_coded_unreversed_charges_in_the_range_are_billed(
    session: Session, books: Books
) -> None:
    kept = post(session, books, "2026-12-07", "96365")
    post(session, books, "2026-12-08", "", "75.00", description="No-show fee")  # clinic fee
    post(session, books, "2026-12-09", "96365", status=ChargeStatus.PENDING)
    post(session, books, "2026-11-30", "96365")  # before the range
    post(session, books, "2027-01-01", "96365")  # after it
    wrong = post(session, books, "2026-12-10", "99214", "225.00")
    ledger.reverse(session, books.actor, entry_of(session, wrong), "wrong code", date(2026, 12, 11))

    view = superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)

    assert [(v.service_date, [ln.code for ln in v.lines]) for v in view.visits] == [
        (kept.service_date, ["96365"])
    ]
    assert view.total_charges == money("450.00")


def test_a_day_with_two_providers_is_two_visits(session: Session, books: Books) -> None:
    other = add_provider(
        session, VALID_NPIS[2], given_name="Lena", family_name="Park", credentials="NP"
    )
    post(session, books, "2026-12-07", "96365")
    post(session, books, "2026-12-07", "99214", "225.00", provider=other)

    view = superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)

    assert [
        (v.provider.name, v.provider.credentials, [ln.code for ln in v.lines]) for v in view.visits
    ] == [
        ("Ama Osei", "MD", ["96365"]),
        ("Lena Park", "NP", ["99214"]),
    ]  # in provider order within the day
    assert {v.service_date for v in view.visits} == {date(2026, 12, 7)}


def test_the_practice_is_where_most_visits_were_and_other_places_are_named(
    session: Session, books: Books
) -> None:
    boston = add_location(
        session,
        "BOS",
        name="KetaDesk Boston",
        city="Boston",
        state="MA",
        zip_code="02110",
        npi=VALID_NPIS[3],
        phone="6175550100",
        pos_code="22",
    )
    post(session, books, "2026-12-07", location=boston)
    post(session, books, "2026-12-09", location=boston)
    post(session, books, "2026-12-11")

    view = superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)

    assert view.practice.location_code == "BOS"
    assert [(v.pos_code, v.facility) for v in view.visits] == [
        ("22", ""),
        ("22", ""),
        ("11", "KetaDesk NYC, 1 Main St, Suite 400, New York, NY 10001"),
    ]


def test_a_provider_without_an_npi_is_refused_naming_that_npi(
    session: Session, books: Books
) -> None:
    books.provider.npi = ""
    post(session, books, "2026-12-07")

    with pytest.raises(Incomplete) as refused:
        superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)

    assert refused.value.missing == ("the NPI of rendering provider Ama Osei",)
    assert str(refused.value) == (
        "The superbill for Zoë Łukasiewicz cannot be produced; "
        "missing: the NPI of rendering provider Ama Osei"
    )


def test_every_missing_item_is_listed_at_once(session: Session, admin: Actor) -> None:
    bare = add_location(session, "BARE", npi="", tin="", phone="", pos_code="", address_line1="")
    provider = add_provider(session, "", credentials="")
    patient = create_patient(session, admin, patient_raw(diagnoses=""))
    books = Books(bare, provider, patient, admin)
    post(session, books, "2026-12-07")

    with pytest.raises(Incomplete) as refused:
        superbill_view(session, READER, patient.id, *DEC, issued_on=ISSUED)

    place = "KetaDesk BARE (BARE)"
    assert refused.value.missing == (
        "a diagnosis (ICD-10-CM code) on Zoë Łukasiewicz's chart",
        f"the organisation NPI of {place}",
        f"the TIN (tax identification number) of {place}",
        f"the full street address of {place}",
        f"the phone number of {place}",
        f"the place-of-service code of {place}",
        "the NPI of rendering provider Ama Osei",
        "the credentials of rendering provider Ama Osei (MD, DO, NP …)",
    )


def test_a_line_without_a_rendering_provider_is_refused(session: Session, books: Books) -> None:
    charge = post(session, books, "2026-12-07")
    charge.provider_id = None
    session.flush()
    session.expire(charge)

    with pytest.raises(Incomplete, match="the rendering provider of 96365 on 12/07/2026"):
        superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)


def test_nothing_to_bill_is_refused_in_words(session: Session, books: Books) -> None:
    with pytest.raises(NotFound) as refused:
        superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)
    assert str(refused.value) == (
        "Zoë Łukasiewicz has no posted services from 12/01/2026 to 12/31/2026 to put on a superbill"
    )
    post(session, books, "2026-12-07", status=ChargeStatus.PENDING)
    post(session, books, "2026-12-08", status=ChargeStatus.PENDING)
    with pytest.raises(NotFound, match=r"; 2 charges are still in the review queue$"):
        superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)
    with pytest.raises(NotFound, match="no patient"):
        superbill_view(session, READER, 999_999, *DEC, issued_on=ISSUED)
    with pytest.raises(InvalidValue, match="ends"):
        superbill_view(session, READER, books.patient.id, DEC[1], DEC[0], issued_on=ISSUED)


def test_the_member_id_in_force_is_printed_when_known(session: Session, books: Books) -> None:
    payer = add_payer(session)
    session.add(
        InsurancePolicy(
            patient_id=books.patient.id,
            payer_id=payer.id,
            rank=PolicyRank.PRIMARY,
            member_id="W123456789",
            effective_from=date(2026, 1, 1),
        )
    )
    session.flush()
    session.expire(books.patient)
    post(session, books, "2026-12-07")

    view = superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)

    assert (view.patient.member_id, view.patient.payer_name) == ("W123456789", "Aetna")


def test_pointers_become_letters_of_diagnoses_the_patient_has() -> None:
    assert pointers("1,2", 2) == "A,B"
    assert pointers("2,1", 3) == "B,A"
    assert pointers("3", 2) == "A"  # points past the chart: the primary diagnosis
    assert pointers("", 2) == "A"
    assert pointers(" 1 , x", 1) == "A"
    assert pointers("1", 0) == ""


def test_the_month_batch_is_self_pay_patients_with_coded_charges(
    session: Session, books: Books
) -> None:
    admin = books.actor

    def someone(family: str) -> Patient:
        return create_patient(session, admin, patient_raw(family_name=family))

    insured, lapsed, fee_only, pending_only = (
        someone(n) for n in ("Insured", "Lapsed", "Feeonly", "Pendingonly")
    )
    payer = add_payer(session)
    for who, ends in ((insured, None), (lapsed, date(2026, 11, 30))):
        session.add(
            InsurancePolicy(
                patient_id=who.id,
                payer_id=payer.id,
                rank=PolicyRank.PRIMARY,
                member_id="M1",
                effective_from=date(2025, 1, 1),
                effective_to=ends,
            )
        )
    session.flush()
    boston = add_location(session, "BOS", npi=VALID_NPIS[3])
    post(session, books, "2026-12-07")
    post(session, books, "2026-12-07", patient=insured)
    post(session, books, "2026-12-08", patient=lapsed, location=boston)
    post(session, books, "2026-12-08", "", "75.00", patient=fee_only)
    post(session, books, "2026-12-08", patient=pending_only, status=ChargeStatus.PENDING)

    assert superbill_patients(session, READER, *DEC) == sorted([books.patient.id, lapsed.id])
    assert superbill_patients(session, READER, *DEC, location_id=boston.id) == [lapsed.id]
    assert superbill_patients(session, READER, date(2027, 1, 1), date(2027, 1, 31)) == []


def test_one_provider_at_two_places_on_one_day_is_two_visits(
    session: Session, books: Books
) -> None:
    boston = add_location(session, "BOS", npi=VALID_NPIS[3], phone="6175550100", pos_code="22")
    post(session, books, "2026-12-07", "96365")
    post(session, books, "2026-12-07", "99214", "225.00", location=boston)

    view = superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)

    assert [(v.pos_code, [ln.code for ln in v.lines]) for v in view.visits] == [
        ("11", ["96365"]),
        ("22", ["99214"]),
    ]
    assert view.practice.location_code == "NYC"  # a tie: the location created first
    assert view.visits[1].facility.startswith("KetaDesk BOS, 1 Main St")


# --- a dependant's policy: the subscriber block ---------------------------------------------


def test_a_dependants_superbill_names_the_subscriber_relationship_and_group(
    session: Session, books: Books
) -> None:
    insure(
        session,
        books.patient.id,
        relationship_to_subscriber=Relationship.CHILD,
        subscriber_name="Piotr Łukasiewicz",
        subscriber_dob=date(1958, 5, 5),
    )
    post(session, books, "2026-12-07")

    view = superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)

    assert view.subscriber is not None
    assert astuple(view.subscriber) == (
        "Piotr Łukasiewicz", date(1958, 5, 5), "child", "Aetna", "W123456789", "G-4410",
    )  # fmt: skip
    assert view.group_number == ""  # printed in the subscriber's block instead


def test_the_patients_own_policy_prints_no_subscriber_but_its_group(
    session: Session, books: Books
) -> None:
    insure(session, books.patient.id)
    post(session, books, "2026-12-07")

    view = superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)

    assert (view.subscriber, view.group_number) == (None, "G-4410")


def test_a_policy_ended_before_the_period_names_no_subscriber(
    session: Session, books: Books
) -> None:
    insure(
        session,
        books.patient.id,
        relationship_to_subscriber=Relationship.SPOUSE,
        subscriber_name="Ana Ng",
        effective_to=date(2026, 11, 30),
    )
    post(session, books, "2026-12-07")

    view = superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)

    assert (view.subscriber, view.group_number, view.patient.member_id) == (None, "", "")


def test_a_dependants_policy_without_the_subscribers_name_is_refused(
    session: Session, books: Books
) -> None:
    insure(session, books.patient.id, relationship_to_subscriber=Relationship.CHILD)
    post(session, books, "2026-12-07")

    with pytest.raises(Incomplete) as refused:
        superbill_view(session, READER, books.patient.id, *DEC, issued_on=ISSUED)

    assert refused.value.missing == (
        "the subscriber's name on Zoë Łukasiewicz's Aetna policy "
        "(Zoë Łukasiewicz is the subscriber's child)",
    )


# --- drug lines: NDC, name and dose ---------------------------------------------------------


@pytest.fixture
def infused(session: Session) -> tuple[BillingClinic, TreatmentSession]:
    """A completed 35 mg IV ketamine session, its charges (96365, J3490) posted."""
    clinic = billing_clinic(session)
    clinic.location.phone = "2125550100"  # a superbill needs it
    ts = completed_iv_session(session, clinic, minutes=55)
    posted_charges(session, billing_actor(), ts)
    return clinic, ts


def drug_lines(session: Session, ts: TreatmentSession) -> list[tuple[str, DrugInfo | None]]:
    view = superbill_view(session, READER, ts.patient_id, *DEC, issued_on=ISSUED)
    return [(line.code, line.drug) for visit in view.visits for line in visit.lines]


def test_a_drug_line_carries_the_fee_schedules_ndc_name_and_the_dose(
    session: Session, infused: tuple[BillingClinic, TreatmentSession]
) -> None:
    clinic, ts = infused
    [ketamine] = [fee for fee in clinic.fees if fee.code == "J3490"]
    ketamine.ndc, ketamine.drug_name = "", ""  # the shipped product taken off
    session.flush()
    assert drug_lines(session, ts) == [("96365", None), ("J3490", None)]  # no NDC anywhere
    ketamine.ndc, ketamine.drug_name = "42023011410", "Ketamine HCl 50 mg/mL"
    session.flush()

    drug = DrugInfo("42023011410", "Ketamine HCl 50 mg/mL", Decimal("35.0"), "ME", "35.0 mg IV")
    assert drug_lines(session, ts) == [("96365", None), ("J3490", drug)]


def test_the_ndc_recorded_at_the_dose_wins_over_the_fee_schedules(
    session: Session, infused: tuple[BillingClinic, TreatmentSession]
) -> None:
    clinic, ts = infused
    [ketamine] = [fee for fee in clinic.fees if fee.code == "J3490"]
    ketamine.ndc, ketamine.drug_name = "", ""  # the shipped product taken off
    ts.ndc = "00409427701"
    session.flush()
    drug = DrugInfo("00409427701", "Ketamine (unlisted drug), per session", Decimal("35.0"), "ME",
                    "35.0 mg IV")  # fmt: skip
    assert drug_lines(session, ts) == [("96365", None), ("J3490", drug)]
    ketamine.ndc, ketamine.drug_name = "42023011410", "Ketamine HCl 50 mg/mL"
    session.flush()
    assert drug_lines(session, ts)[1][1] == replace(
        drug, name="Ketamine HCl 50 mg/mL", ndc="00409427701"
    )
