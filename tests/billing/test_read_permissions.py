"""Every public service that reads money or a patient's account checks the acting user's
permission itself, and a read of one patient's account leaves an audit row.

The walk below calls each read service as a user of every role and compares allowed and
refused with the permission table (:data:`ROLE_PERMISSIONS`), so a face that forgot to hide
a button still cannot show what the role may not see. A second test keeps the list honest:
a public function of these modules that takes a session but no actor must be one of the
named building blocks that other services call after their own check.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from types import ModuleType
from typing import Any

import pytest
from billing.billing_helpers import (
    ADMIN,
    BillingClinic,
    billing_clinic,
    completed_iv_session,
    posted_charges,
)
from scheduling.booking_helpers import iv_induction
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import ROLE_PERMISSIONS, Actor, Permission, Role
from ketadesk.billing import account, estimates, invoices, packages, payments, review, superbill
from ketadesk.billing.models import PaymentMethod
from ketadesk.clinic import chairs, patients, providers
from ketadesk.errors import PermissionDenied

TODAY = date(2026, 12, 10)
BOOKED_ON = date(2026, 11, 20)  # the tests' booking clock
DEC = (date(2026, 12, 1), date(2026, 12, 31))


@dataclass(frozen=True)
class Books:
    """A patient with a posted session, an issued invoice paid in part, and a package."""

    clinic: BillingClinic
    invoice_id: int
    payment_id: int
    purchase_id: int
    estimate_id: int


@pytest.fixture
def books(session: Session) -> Books:
    clinic = billing_clinic(session)
    clinic.location.phone = "2125550100"  # a superbill prints the practice's phone
    series = iv_induction(session, clinic, ADMIN)
    estimate = estimates.draft_for_series(session, ADMIN, series.id, today=BOOKED_ON)
    assert estimate is not None
    posted_charges(session, ADMIN, completed_iv_session(session, clinic))
    invoice = invoices.create_invoice(
        session, ADMIN, patient_id=clinic.patient.id, today=TODAY
    )
    invoices.issue_invoice(session, ADMIN, invoice.id, on=TODAY)
    paid = payments.take_payment(
        session,
        ADMIN,
        patient_id=clinic.patient.id,
        amount="50.00",
        method=PaymentMethod.CARD,
        on=TODAY,
        invoice_id=invoice.id,
    )
    template = packages.ensure_default_templates(session, ADMIN)[0]
    purchase = packages.sell_package(
        session,
        ADMIN,
        patient_id=clinic.patient.id,
        template_id=template.id,
        method=PaymentMethod.CARD,
        on=TODAY,
        location_id=clinic.location.id,
    )
    return Books(clinic, invoice.id, paid.entry_id, purchase.id, estimate.id)


@dataclass(frozen=True)
class Read:
    """One read service: how to call it, what it needs, and the audit row it leaves."""

    name: str
    call: Callable[[Session, Actor, Books], Any]
    permission: Permission
    audited: str | None  # the entity of its "view" row; None for lists and look-ups


READS = (
    Read(
        "invoice_view",
        lambda s, a, b: invoices.invoice_view(s, a, b.invoice_id),
        Permission.BILLING_VIEW,
        "invoice",
    ),
    Read(
        "list_invoices",
        lambda s, a, b: invoices.list_invoices(s, a),
        Permission.BILLING_VIEW,
        None,
    ),
    Read(
        "search_invoices",
        lambda s, a, b: invoices.search_invoices(s, a, b.clinic.patient.mrn),
        Permission.BILLING_VIEW,
        None,
    ),
    Read(
        "account_summary",
        lambda s, a, b: account.account_summary(s, a, b.clinic.patient.id, year=2026),
        Permission.BILLING_VIEW,
        "account",
    ),
    Read(
        "statement_view",
        lambda s, a, b: account.statement_view(s, a, b.clinic.patient.id, on=TODAY),
        Permission.BILLING_VIEW,
        "statement",
    ),
    Read(
        "payment_receipt",
        lambda s, a, b: account.payment_receipt(s, a, b.payment_id),
        Permission.BILLING_VIEW,
        "receipt",
    ),
    Read(
        "year_receipt",
        lambda s, a, b: account.year_receipt(s, a, b.clinic.patient.id, 2026),
        Permission.BILLING_VIEW,
        "year_receipt",
    ),
    Read(
        "liabilities",
        lambda s, a, b: account.liabilities(s, a),
        Permission.BILLING_VIEW,
        None,
    ),
    Read(
        "superbill_view",
        lambda s, a, b: superbill.superbill_view(
            s, a, b.clinic.patient.id, *DEC, issued_on=TODAY
        ),
        Permission.BILLING_VIEW,
        "superbill",
    ),
    Read(
        "superbill_patients",
        lambda s, a, b: superbill.superbill_patients(s, a, *DEC),
        Permission.BILLING_VIEW,
        None,
    ),
    Read(
        "review_queue",
        lambda s, a, b: review.review_queue(s, a),
        Permission.BILLING_VIEW,
        None,
    ),
    Read(
        "patient_packages",
        lambda s, a, b: packages.patient_packages(s, a, b.clinic.patient.id),
        Permission.BILLING_VIEW,
        "packages",
    ),
    Read(
        "package_balance",
        lambda s, a, b: packages.package_balance(s, a, b.purchase_id),
        Permission.BILLING_VIEW,
        None,
    ),
    Read(
        "estimate_view",
        lambda s, a, b: estimates.estimate_view(s, a, b.estimate_id),
        Permission.BILLING_VIEW,
        "estimate",
    ),
    Read(
        "list_estimates",
        lambda s, a, b: estimates.list_estimates(s, a, today=TODAY),
        Permission.BILLING_VIEW,
        None,
    ),
    Read(
        "variance",
        lambda s, a, b: estimates.variance(s, a, b.estimate_id),
        Permission.BILLING_VIEW,
        None,
    ),
    Read(
        "variances",
        lambda s, a, b: estimates.variances(s, a),
        Permission.BILLING_VIEW,
        None,
    ),
    Read(
        "patient_by_mrn",
        lambda s, a, b: patients.patient_by_mrn(s, a, b.clinic.patient.mrn),
        Permission.PATIENT_VIEW,
        None,
    ),
    Read(
        "chair_by_name",
        lambda s, a, b: chairs.chair_by_name(s, a, b.clinic.iv_chairs[0].name),
        Permission.CLINIC_VIEW,
        None,
    ),
    Read(
        "provider_by_npi",
        lambda s, a, b: providers.provider_by_npi(s, a, b.clinic.provider.npi),
        Permission.CLINIC_VIEW,
        None,
    ),
)


def view_rows(session: Session) -> list[tuple[str, str, str]]:
    rows = session.execute(
        select(AuditEntry.actor, AuditEntry.entity, AuditEntry.entity_id).where(
            AuditEntry.action == "view"
        )
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_every_read_service_allows_and_refuses_as_the_permission_table_says(
    session: Session, books: Books, role: Role
) -> None:
    actor = Actor(username=f"walker-{role.value}", role=role)
    verdicts = {}
    for read in READS:
        try:
            read.call(session, actor, books)
            verdicts[read.name] = True
        except PermissionDenied as refused:
            assert role.label in str(refused) and read.permission.label in str(refused)
            verdicts[read.name] = False
    expected = {r.name: r.permission in ROLE_PERMISSIONS[role] for r in READS}
    assert verdicts == expected
    # A refused read leaves no trace of having read; an allowed one its "view" rows.
    entities = sorted(e for who, e, _ in view_rows(session) if who == actor.username)
    assert entities == sorted(r.audited for r in READS if r.audited and expected[r.name])


def test_the_clinical_role_sees_no_money_but_finds_patients(
    session: Session, books: Books
) -> None:
    nurse = Actor(username="nurse", role=Role.CLINICAL)
    with pytest.raises(PermissionDenied, match="may not view patient accounts and billing"):
        invoices.invoice_view(session, nurse, books.invoice_id)
    assert patients.patient_by_mrn(session, nurse, books.clinic.patient.mrn).id == (
        books.clinic.patient.id
    )


def test_a_read_of_an_account_names_who_read_what_and_whose(
    session: Session, books: Books
) -> None:
    reader = Actor(username="billing-ann", role=Role.BILLING)
    mrn = books.clinic.patient.mrn

    account.statement_view(session, reader, books.clinic.patient.id, on=TODAY)
    invoices.invoice_view(session, reader, books.invoice_id)
    superbill.superbill_view(session, reader, books.clinic.patient.id, *DEC, issued_on=TODAY)

    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.actor == "billing-ann").order_by(AuditEntry.id)
    ).all()
    assert [(r.action, r.entity) for r in rows] == [
        ("view", "statement"),
        ("view", "invoice"),
        ("view", "superbill"),
    ]
    assert rows[0].entity_id == mrn and rows[2].entity_id == mrn
    assert rows[1].entity_id == str(books.invoice_id) and rows[1].after == {"mrn": mrn}
    # Lists and look-ups are not openings of one account: they leave no row.
    invoices.list_invoices(session, reader)
    patients.patient_by_mrn(session, reader, mrn)
    assert len(view_rows(session)) == 3


# Public functions of these modules that take a session and no actor: building blocks that
# services call after their own check (and that the faces do not call to show money).
BUILDING_BLOCKS = {
    invoices: {
        "get_patient",
        "patient_location",
        "get_invoice",
        "find_invoice",
        "invoice_state",
        "charge_lines",
        "payments_to",
        "line_entries",
    },
    account: set(),
    # What a drug line prints (superbills and claims call it), and the fee items naming a
    # product it picks from (no patient's data; the demo generator reads them too).
    superbill: {"drug_info", "drug_products"},
    review: set(),
    packages: {"prepayment_of", "list_templates", "get_template"},
    estimates: {"is_self_pay", "current_estimate"},
}


@pytest.mark.parametrize("module", list(BUILDING_BLOCKS), ids=lambda m: m.__name__)
def test_a_read_without_an_actor_is_a_named_building_block(module: ModuleType) -> None:
    unchecked = set()
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if name.startswith("_") or function.__module__ != module.__name__:
            continue
        parameters = list(inspect.signature(function).parameters)
        if parameters[:1] == ["session"] and "actor" not in parameters:
            unchecked.add(name)
    assert unchecked == BUILDING_BLOCKS[module]
