"""The fee schedule and the location fee policy: seeding, lookups by day, editing and its
validation, and who may change them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from billing.billing_helpers import ADMIN, BILLING, billing_clinic
from builders import add_location
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import fees
from ketadesk.billing.fees import (
    Fee,
    FeeBook,
    billing_policy,
    default_fee_rows,
    ensure_default_fee_schedule,
    fee_for,
    fee_item_values,
    list_fee_items,
    save_billing_policy,
    save_fee_item,
    set_fee_item_active,
)
from ketadesk.billing.models import BillingPolicy, FeeItem, UnitBasis
from ketadesk.errors import NotFound, PermissionDenied, StaleEdit, ValidationError

MANAGER = Actor(username="test-manager", role=Role.MANAGER)
FRONT_DESK = Actor(username="test-front", role=Role.FRONT_DESK)
CLINICAL = Actor(username="test-nurse", role=Role.CLINICAL)

SHIPPED_CODES = {
    "96365",
    "96366",
    "J3490",
    "96372",
    "99212",
    "99213",
    "99214",
    "99215",
    "90833",
    "90836",
    "90838",
    "G2082",
    "G2083",
    "S0013",
    "J0013",
    "99417",
    "G2212",
    "99415",
    "99416",
}


def new_fee(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": "90785",
        "description": "Interactive complexity add-on",
        "self_pay_price": "40.00",
        "billed_charge": "60.00",
    }
    values.update(overrides)
    return values


def fee_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(FeeItem)) or 0


# -- the shipped schedule ------------------------------------------------------------------


def test_the_shipped_rows_cover_a_ketamine_clinics_codes() -> None:
    rows = {(row["code"], row["effective_from"]): row for row in default_fee_rows()}
    assert {code for code, _start in rows} == SHIPPED_CODES
    by_code = {row["code"]: row for row in default_fee_rows()}
    assert by_code["96365"]["basis"] is UnitBasis.INFUSION_FIRST_HOUR
    assert by_code["96366"]["basis"] is UnitBasis.INFUSION_ADDITIONAL_HOUR
    assert by_code["G2082"]["basis"] is UnitBasis.ESKETAMINE_UP_TO_56
    assert by_code["G2083"]["basis"] is UnitBasis.ESKETAMINE_OVER_56
    assert by_code["99417"]["basis"] is UnitBasis.MANUAL
    assert by_code["G2212"]["basis"] is UnitBasis.MANUAL
    # Insurer coding counts prolonged staff time; self-pay never bills it by itself.
    assert by_code["99415"]["basis"] is UnitBasis.MANUAL
    assert by_code["99416"]["basis"] is UnitBasis.MANUAL
    assert (by_code["J3490"]["ndc"], by_code["J3490"]["drug_name"]) == (
        "42023011410",
        "Ketamine HCl 50 mg/mL",
    )
    assert by_code["S0013"]["effective_to"] == date(2025, 12, 31)
    assert by_code["J0013"]["effective_from"] == date(2026, 1, 1)
    for row in default_fee_rows():
        assert isinstance(row["self_pay_price"], Decimal)
        assert row["billed_charge"] > row["self_pay_price"], row["code"]
    one_hour = by_code["96365"]["self_pay_price"] + by_code["J3490"]["self_pay_price"]
    assert Decimal(450) <= one_hour <= Decimal(550)


def test_seeding_adds_every_row_once_and_audits_it(session: Session) -> None:
    added = ensure_default_fee_schedule(session, ADMIN)
    assert len(added) == len(default_fee_rows()) == fee_count(session)
    assert ensure_default_fee_schedule(session, ADMIN) == []
    assert fee_count(session) == len(added)
    audited = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.entity == "fee_item", AuditEntry.action == "create")
    )
    assert audited == len(added)


def test_seeding_never_overwrites_an_edited_price_or_a_retired_row(session: Session) -> None:
    ensure_default_fee_schedule(session, ADMIN)
    infusion = fee_for(session, "96365", date(2026, 12, 1))
    assert infusion is not None
    values = {**fee_item_values(infusion), "self_pay_price": "325.00"}
    save_fee_item(session, BILLING, values, infusion.id)
    im = fee_for(session, "96372", date(2026, 12, 1))
    assert im is not None
    set_fee_item_active(session, BILLING, im.id, False)

    assert ensure_default_fee_schedule(session, ADMIN) == []
    session.expire_all()
    assert session.get(FeeItem, infusion.id).self_pay_price == Decimal("325.00")  # type: ignore[union-attr]
    assert session.get(FeeItem, im.id).active is False  # type: ignore[union-attr]
    assert fee_for(session, "96372", date(2026, 12, 1)) is None


def test_seeding_needs_the_fee_schedule_permission(session: Session) -> None:
    with pytest.raises(PermissionDenied, match="edit the fee schedule"):
        ensure_default_fee_schedule(session, CLINICAL)
    assert fee_count(session) == 0


# -- reading by day ---------------------------------------------------------------------------


def test_fee_for_picks_the_row_in_force_on_the_day(session: Session) -> None:
    ensure_default_fee_schedule(session, ADMIN)
    assert fee_for(session, "S0013", date(2025, 12, 31)) is not None
    assert fee_for(session, "S0013", date(2026, 1, 1)) is None
    assert fee_for(session, "J0013", date(2025, 12, 31)) is None
    j0013 = fee_for(session, "j0013 ", date(2026, 1, 1))
    assert j0013 is not None and j0013.code == "J0013"
    assert fee_for(session, "99213", date(2026, 12, 1), modifiers="95") is None


def test_a_price_change_from_a_date_keeps_the_old_price_before_it(session: Session) -> None:
    ensure_default_fee_schedule(session, ADMIN)
    old = fee_for(session, "99213", date(2026, 6, 1))
    assert old is not None
    save_fee_item(session, BILLING, {**fee_item_values(old), "effective_to": "2026-12-31"}, old.id)
    save_fee_item(
        session,
        BILLING,
        {
            **fee_item_values(old),
            "self_pay_price": "165.00",
            "effective_from": "2027-01-01",
            "effective_to": None,
        },
    )
    before = fee_for(session, "99213", date(2026, 12, 31))
    after = fee_for(session, "99213", date(2027, 1, 1))
    assert before is not None and before.self_pay_price == Decimal("150.00")
    assert after is not None and after.self_pay_price == Decimal("165.00")
    book = FeeBook.load(session)
    assert book.item("99213", date(2026, 12, 31)).self_pay_price == Decimal("150.00")  # type: ignore[union-attr]
    assert book.item("99213", date(2027, 1, 1)).self_pay_price == Decimal("165.00")  # type: ignore[union-attr]


def test_list_fee_items_is_ordered_by_code_and_hides_retired_rows(session: Session) -> None:
    ensure_default_fee_schedule(session, ADMIN)
    codes = [item.code for item in list_fee_items(session)]
    assert codes == sorted(codes)
    g2212 = fee_for(session, "G2212", date(2026, 12, 1))
    assert g2212 is not None
    set_fee_item_active(session, MANAGER, g2212.id, False)
    assert "G2212" not in {i.code for i in list_fee_items(session)}
    assert "G2212" in {i.code for i in list_fee_items(session, include_inactive=True)}


def test_the_fee_book_is_a_copy_that_needs_no_database(session: Session) -> None:
    ensure_default_fee_schedule(session, ADMIN)
    book = FeeBook.load(session)
    assert len(book) == len(default_fee_rows())
    item = fee_for(session, "96365", date(2026, 12, 1))
    assert item is not None
    item.self_pay_price = Decimal("999.00")
    session.flush()
    session.expunge_all()
    fee = book.item("96365", date(2026, 12, 1))
    assert isinstance(fee, Fee) and fee.self_pay_price == Decimal("300.00")
    per_mg = book.by_basis(UnitBasis.PER_MG, date(2026, 12, 1))
    assert [f.code for f in per_mg] == ["J0013"]
    assert [f.code for f in book.by_basis(UnitBasis.PER_MG, date(2025, 6, 1))] == ["S0013"]


def test_the_fee_book_prefers_the_row_without_modifiers() -> None:
    def fee(fee_id: int, mods: str, price: str) -> Fee:
        return Fee(
            fee_id,
            "99213",
            mods,
            "Visit",
            Decimal(price),
            Decimal(price),
            1,
            UnitBasis.VISIT,
            None,
            None,
        )

    book = FeeBook([fee(1, "95", "140.00"), fee(2, "", "150.00")])
    day = date(2026, 12, 1)
    assert book.item("99213", day).self_pay_price == Decimal("150.00")  # type: ignore[union-attr]
    assert book.item("99213", day, "95").self_pay_price == Decimal("140.00")  # type: ignore[union-attr]
    assert FeeBook([fee(1, "95", "140.00")]).item("99213", day).modifiers == "95"  # type: ignore[union-attr]
    assert book.item("99214", day) is None


# -- editing ----------------------------------------------------------------------------------


def test_billing_adds_a_fee_item_normalised_and_audited(session: Session) -> None:
    item = save_fee_item(session, BILLING, new_fee(code=" 90785 ", modifiers="gt, 59, GT"))
    assert (item.code, item.modifiers, item.units, item.basis) == (
        "90785",
        "GT,59",
        1,
        UnitBasis.VISIT,
    )
    assert item.self_pay_price == Decimal("40.00") and item.active is True
    row = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "fee_item", AuditEntry.action == "create")
    ).one()
    assert row.after is not None and row.after["self_pay_price"] == "40.00"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code", "9636", "neither a CPT code"),
        ("code", "", "is required"),
        ("modifiers", "GT,5", "5 is not a modifier"),
        ("modifiers", "25,59,GT,95,XU", "lists 5 modifiers; a service line takes at most 4"),
        ("description", "", "is required"),
        ("self_pay_price", "-5.00", "-5.00 is below zero"),
        ("self_pay_price", "12.345", "a fraction of a cent"),
        ("billed_charge", "lots", "is not an amount of money"),
        ("units", "0", "is not positive"),
        ("basis", "per hour", "is not a way of counting units"),
        ("effective_from", "12/31/25", "two-digit year"),
    ],
)
def test_fee_item_validation_names_the_field(
    session: Session, field: str, value: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        save_fee_item(session, BILLING, new_fee(**{field: value}))
    assert any(message in text for text in caught.value.for_field(field)), caught.value
    assert fee_count(session) == 0


def test_every_problem_is_reported_at_once(session: Session) -> None:
    raw = new_fee(code="X", self_pay_price="-1", units="none", colour="red")
    with pytest.raises(ValidationError) as caught:
        save_fee_item(session, BILLING, raw)
    assert {p.field for p in caught.value.problems} == {
        "code",
        "self_pay_price",
        "units",
        "colour",
    }
    assert caught.value.for_field("colour") == ["is not a fee item field"]


def test_a_float_price_is_a_programming_error(session: Session) -> None:
    with pytest.raises(TypeError, match="never floats"):
        save_fee_item(session, BILLING, new_fee(self_pay_price=40.0))


def test_the_end_date_cannot_come_before_the_start(session: Session) -> None:
    raw = new_fee(effective_from="2026-06-01", effective_to="2026-05-31")
    with pytest.raises(ValidationError) as caught:
        save_fee_item(session, BILLING, raw)
    assert caught.value.for_field("effective_to") == [
        "2026-05-31 is before the first day in force, 2026-06-01"
    ]


def test_one_code_modifiers_and_start_date_name_one_row(session: Session) -> None:
    save_fee_item(session, BILLING, new_fee())
    with pytest.raises(ValidationError) as caught:
        save_fee_item(session, BILLING, new_fee(self_pay_price="45.00"))
    assert caught.value.for_field("code") == [
        "90785 with no start date is already on the fee schedule; edit that row instead"
    ]
    # The same code with a modifier is another row.
    assert save_fee_item(session, BILLING, new_fee(modifiers="95")).modifiers == "95"


def test_two_active_rows_of_one_code_may_not_overlap_in_time(session: Session) -> None:
    save_fee_item(session, BILLING, new_fee(effective_to="2026-12-31"))
    with pytest.raises(ValidationError) as caught:
        save_fee_item(session, BILLING, new_fee(effective_from="2026-07-01"))
    assert caught.value.for_field("effective_from") == [
        "the dates overlap another active row of 90785 (in force until 2026-12-31); end that "
        "row first, or retire it"
    ]
    follow_on = save_fee_item(session, BILLING, new_fee(effective_from="2027-01-01"))
    assert follow_on.effective_from == date(2027, 1, 1)


def test_a_retired_row_cannot_come_back_over_its_replacement(session: Session) -> None:
    first = save_fee_item(session, BILLING, new_fee())
    set_fee_item_active(session, BILLING, first.id, False)
    save_fee_item(session, BILLING, new_fee(effective_from="2026-01-01", self_pay_price="45.00"))
    with pytest.raises(ValidationError, match="overlap"):
        set_fee_item_active(session, BILLING, first.id, True)
    assert session.get(FeeItem, first.id).active is False  # type: ignore[union-attr]


def test_an_edit_from_an_old_copy_is_refused(session: Session) -> None:
    item = save_fee_item(session, BILLING, new_fee())
    opened = item.version
    save_fee_item(session, MANAGER, new_fee(self_pay_price="42.00"), item.id)
    with pytest.raises(StaleEdit, match="changed by someone else"):
        save_fee_item(
            session, BILLING, new_fee(self_pay_price="50.00"), item.id, expected_version=opened
        )
    assert item.self_pay_price == Decimal("42.00")


def test_an_edit_is_audited_with_only_what_changed(session: Session) -> None:
    item = save_fee_item(session, BILLING, new_fee())
    save_fee_item(session, MANAGER, new_fee(billed_charge="65.00"), item.id)
    update = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "fee_item", AuditEntry.action == "update")
    ).one()
    assert update.actor == "test-manager"
    assert update.before == {"billed_charge": "60.00", "version": 1}
    assert update.after == {"billed_charge": "65.00", "version": 2}


@pytest.mark.parametrize("actor", [FRONT_DESK, CLINICAL])
def test_only_billing_and_managers_edit_the_fee_schedule(session: Session, actor: Actor) -> None:
    with pytest.raises(PermissionDenied):
        save_fee_item(session, actor, new_fee())
    item = save_fee_item(session, MANAGER, new_fee())
    with pytest.raises(PermissionDenied):
        set_fee_item_active(session, actor, item.id, False)
    assert item.active is True


def test_an_unknown_fee_item_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="no fee item with id 404"):
        set_fee_item_active(session, BILLING, 404, False)


# -- the location's fee policy ------------------------------------------------------------------


def test_a_location_without_a_policy_gets_the_default(session: Session) -> None:
    location = add_location(session, "BKN")
    policy = billing_policy(session, location.id)
    assert (policy.late_cancel_fee, policy.no_show_fee, policy.invoice_due_days) == (
        Decimal("0.00"),
        Decimal("0.00"),
        30,
    )
    assert session.get(BillingPolicy, location.id) is policy
    with pytest.raises(NotFound, match="no location with id 999"):
        billing_policy(session, 999)


def test_saving_the_policy_changes_only_the_fields_given(session: Session) -> None:
    clinic = billing_clinic(session)
    assert clinic.policy.late_cancel_fee == Decimal("75.00")
    assert clinic.policy.no_show_fee == Decimal("150.00")
    policy = save_billing_policy(session, BILLING, clinic.location.id, {"no_show_fee": "0"})
    assert (policy.late_cancel_fee, policy.no_show_fee, policy.invoice_due_days) == (
        Decimal("75.00"),
        Decimal("0.00"),
        30,
    )
    update = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "billing_policy", AuditEntry.action == "update")
        .order_by(AuditEntry.id.desc())
    ).first()
    assert update is not None and update.after == {"no_show_fee": "0.00", "version": 3}


def test_the_policy_is_validated_and_guarded(session: Session) -> None:
    location = add_location(session, "BKN")
    with pytest.raises(ValidationError) as caught:
        save_billing_policy(
            session,
            BILLING,
            location.id,
            {"late_cancel_fee": "-10", "invoice_due_days": "400", "grace": "1"},
        )
    assert {p.field for p in caught.value.problems} == {
        "late_cancel_fee",
        "invoice_due_days",
        "grace",
    }
    with pytest.raises(PermissionDenied):
        save_billing_policy(session, FRONT_DESK, location.id, {"no_show_fee": "50.00"})
    assert billing_policy(session, location.id).no_show_fee == Decimal("0.00")


def test_modifier_validator_directly() -> None:
    assert fees.modifiers("") == ""
    assert fees.modifiers(["xu", "95"]) == "XU,95"
