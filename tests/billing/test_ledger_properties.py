"""Property tests of the books: for any sequence of charges, payments (on the account, an
invoice or chosen charges), adjustments, refunds, reversals, package sales and invoice
actions, after every step

* the balance is the sum of the entries, and open debits − unapplied credits;
* each invoice's total is the sum of its lines, and paid + adjusted + due is the total;
* no debit is paid beyond its amount and no credit spent beyond its size;
* a package prepayment is never spent on anything but its package;
* the out-of-pocket summary adds up: charged − paid − adjusted + refunded;
* no float appears: every amount is a ``Decimal`` to the cent;
* an action that is refused changes nothing at all.

Hypothesis drives a state machine over one SQLite file per test; each run gets its own
transaction (rolled back at the end) and its own patient, so examples stay fast.
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from builders import add_location, patient_raw
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import account, invoices, ledger, payments
from ketadesk.billing.models import (
    AdjustmentReason,
    Allocation,
    EntryKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerEntry,
    PackageTemplate,
    PaymentMethod,
    UnusedPolicy,
)
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database
from ketadesk.errors import KetaDeskError
from ketadesk.money import ZERO, from_cents, money

ADMIN = Actor(username="prop-admin", role=Role.ADMIN)
START = date(2026, 1, 5)
CENT_EXPONENT = -2


def test_money_refuses_a_float() -> None:
    with pytest.raises(TypeError):
        money(0.1)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# "No float anywhere": walk any record and look at every value in it
# ---------------------------------------------------------------------------------------


def assert_exact(value: Any, where: str = "value") -> None:
    """Every Decimal in ``value`` (a dataclass, tuple, list or scalar) is to the cent, and
    nothing in it is a float."""
    assert not isinstance(value, float), f"{where} is a float"
    if isinstance(value, Decimal):
        assert value.as_tuple().exponent == CENT_EXPONENT, f"{where} = {value!r}"
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            assert_exact(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            assert_exact(item, f"{where}[{i}]")


# ---------------------------------------------------------------------------------------
# What a step may be given
# ---------------------------------------------------------------------------------------


def _text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


positive_cents = st.integers(min_value=1, max_value=80_000)


def amounts(most: int) -> st.SearchStrategy[tuple[str, Any]]:
    """An amount, usually a share (1% to ``most``%) of what the action works on — what is
    owed, the credit held — so that most actions go through and some ask for too much; now
    and then one typed as a person might mistype it, which must be refused cleanly."""
    share = st.integers(min_value=1, max_value=most).map(lambda pct: ("share", pct))
    return st.one_of(
        share,
        share,
        share,
        positive_cents.map(lambda cents: ("typed", _text(cents))),
        st.sampled_from(["0", "0.00", "-5.00", "12.345", "0.001", "ten"]).map(
            lambda text: ("typed", text)
        ),
    )


notes = st.sampled_from(["hardship", "hardship", "hardship", ""])
aims = st.sampled_from(["account", "invoice", "charges"])
picks = st.integers(min_value=0, max_value=10_000)


def _snapshot(session: Session) -> tuple[object, ...]:
    """The whole state of the books, to show a refused action changed nothing."""
    session.flush()  # anything a refused call left pending would show up now

    def one(query: Any) -> object:
        return session.execute(query).scalar_one()

    return (
        one(select(func.count(LedgerEntry.id))),
        one(select(ledger.cents_sum(LedgerEntry.amount))),
        one(select(func.count(Allocation.id))),
        one(select(ledger.cents_sum(Allocation.amount))),
        one(select(func.count(InvoiceLine.id))),
        tuple(session.execute(select(Invoice.id, Invoice.status).order_by(Invoice.id)).all()),
        one(select(func.count(AuditEntry.id))),
    )


class Books(RuleBasedStateMachine):
    """One patient's account under a random sequence of the billing office's actions."""

    database: ClassVar[Database]
    location_id: ClassVar[int]
    template_id: ClassVar[int]

    def __init__(self) -> None:
        super().__init__()
        self._stack = ExitStack()
        self.s = self._stack.enter_context(self.database.transaction())
        self.patient_id = create_patient(self.s, ADMIN, patient_raw()).id
        self.day = START

    def teardown(self) -> None:
        self.s.rollback()
        self._stack.close()

    # -- helpers ---------------------------------------------------------------------

    def _next_day(self) -> date:
        self.day += timedelta(days=1)
        return self.day

    def _entries(self, *kinds: EntryKind) -> list[LedgerEntry]:
        query = select(LedgerEntry).where(LedgerEntry.patient_id == self.patient_id)
        if kinds:
            query = query.where(LedgerEntry.kind.in_(kinds))
        return list(self.s.scalars(query.order_by(LedgerEntry.id)))

    def _invoices(self) -> list[Invoice]:
        return list(self.s.scalars(select(Invoice).order_by(Invoice.id)))

    def _target(self, target: str, pick: int) -> dict[str, Any]:
        """Keyword arguments aiming a payment or adjustment at an invoice or some charges."""
        if target == "invoice":
            found = self._invoices()
            return {"invoice_id": found[pick % len(found)].id} if found else {}
        if target == "charges":
            charges = self._entries(EntryKind.CHARGE)
            if charges:
                count = 1 + pick % min(3, len(charges))
                start = pick % len(charges)
                return {"entry_ids": [c.id for c in (charges[start:] + charges)[:count]]}
        return {}

    def _owed(self, aim: dict[str, Any]) -> Decimal:
        """What is still owed on the charges ``aim`` points at (all when it points nowhere)."""
        ids = aim.get("entry_ids")
        if "invoice_id" in aim:
            invoice = self.s.get(Invoice, aim["invoice_id"])
            ids = [n.entry_id for n in invoice.lines] if invoice else []
        return sum((o.left for o in ledger.open_debits(self.s, self.patient_id, ids)), ZERO)

    def _credit(self) -> Decimal:
        return sum((c.left for c in ledger.unapplied_credits(self.s, self.patient_id)), ZERO)

    @staticmethod
    def _amount(choice: tuple[str, Any], pool: Decimal) -> str:
        kind, value = choice
        if kind == "typed":
            return str(value)
        share = (pool * value / 100).quantize(Decimal("0.01"))
        return str(share if share > ZERO else Decimal("1.00"))

    def _attempt(self, what: str, action: Any) -> None:
        """Run ``action``; if the service refuses, the books must be exactly as before."""
        before = _snapshot(self.s)
        try:
            action()
        except KetaDeskError as refusal:
            event(f"{what}: refused ({type(refusal).__name__})")  # --hypothesis-show-statistics
            assert str(refusal), "a refusal must say why"
            assert _snapshot(self.s) == before, f"refused ({refusal}) but the books changed"
        else:
            event(f"{what}: done")

    # -- the actions -----------------------------------------------------------------

    @initialize(charges=st.lists(positive_cents, min_size=1, max_size=3))
    def first_charges(self, charges: list[int]) -> None:
        self.charge(charges)

    @rule(charges=st.lists(positive_cents, min_size=1, max_size=3))
    def charge(self, charges: list[int]) -> None:
        day = self._next_day()
        for cents in charges:
            ledger.post(
                self.s,
                ADMIN,
                patient_id=self.patient_id,
                location_id=self.location_id,
                kind=EntryKind.CHARGE,
                amount=from_cents(cents),
                posted_on=day,
                description="Infusion",
            )

    @rule(choice=amounts(200), towards=aims, pick=picks, method=st.sampled_from(PaymentMethod))
    def pay(self, choice: tuple[str, Any], towards: str, pick: int, method: PaymentMethod) -> None:
        aim = self._target(towards, pick)
        amount = self._amount(choice, self._owed(aim))
        self._attempt(
            "payment",
            lambda: payments.take_payment(
                self.s,
                ADMIN,
                patient_id=self.patient_id,
                amount=amount,
                method=method,
                on=self._next_day(),
                reference="ref",
                **aim,
            ),
        )

    @rule()
    def pay_with_a_float(self) -> None:
        before = _snapshot(self.s)
        with pytest.raises(TypeError):
            payments.take_payment(
                self.s,
                ADMIN,
                patient_id=self.patient_id,
                amount=0.1,  # type: ignore[arg-type]
                method=PaymentMethod.CASH,
                on=self.day,
            )
        assert _snapshot(self.s) == before

    @rule(
        choice=amounts(110),
        reason=st.sampled_from([r for r in AdjustmentReason if r is not AdjustmentReason.PACKAGE]),
        note=notes,
        towards=aims,
        pick=picks,
    )
    def adjust(
        self,
        choice: tuple[str, Any],
        reason: AdjustmentReason,
        note: str,
        towards: str,
        pick: int,
    ) -> None:
        aim = self._target(towards, pick)
        amount = self._amount(choice, self._owed(aim))
        self._attempt(
            "adjustment",
            lambda: payments.adjust(
                self.s,
                ADMIN,
                patient_id=self.patient_id,
                amount=amount,
                reason=reason,
                note=note,
                on=self._next_day(),
                **aim,
            ),
        )

    @rule(choice=amounts(110), note=notes)
    def refund(self, choice: tuple[str, Any], note: str) -> None:
        amount = self._amount(choice, self._credit())
        self._attempt(
            "refund",
            lambda: payments.refund(
                self.s,
                ADMIN,
                patient_id=self.patient_id,
                amount=amount,
                method=PaymentMethod.CARD,
                note=note,
                on=self._next_day(),
                location_id=self.location_id,
            ),
        )

    @rule(pick=picks)
    def reverse(self, pick: int) -> None:
        entries = self._entries()
        if entries:
            entry = entries[pick % len(entries)]
            self._attempt(
                f"reversal ({entry.kind.value})",
                lambda: payments.reverse_entry(
                    self.s, ADMIN, entry.id, "entered in error", on=self._next_day()
                ),
            )

    @rule()
    def apply_credit(self) -> None:
        payments.apply_credit(self.s, ADMIN, self.patient_id)

    @rule()
    def sell_package(self) -> None:
        from ketadesk.billing.packages import sell_package

        sell_package(
            self.s,
            ADMIN,
            patient_id=self.patient_id,
            template_id=self.template_id,
            method=PaymentMethod.CARD,
            on=self._next_day(),
            location_id=self.location_id,
        )

    @rule(pick=picks, every=st.sampled_from([True, True, False]))
    def create_invoice(self, pick: int, every: bool) -> None:
        chosen = None if every else self._target("charges", pick).get("entry_ids", [])
        self._attempt(
            "new invoice",
            lambda: invoices.create_invoice(
                self.s, ADMIN, patient_id=self.patient_id, today=self.day, entry_ids=chosen
            ),
        )

    @rule(pick=picks)
    def issue_invoice(self, pick: int) -> None:
        found = self._invoices()
        if found:
            chosen = found[pick % len(found)]
            self._attempt(
                "issue",
                lambda: invoices.issue_invoice(self.s, ADMIN, chosen.id, on=self._next_day()),
            )

    @rule(pick=picks)
    def void_invoice(self, pick: int) -> None:
        found = self._invoices()
        if found:
            chosen = found[pick % len(found)]
            self._attempt(
                "void",
                lambda: invoices.void_invoice(
                    self.s, ADMIN, chosen.id, "issued in error", on=self._next_day()
                ),
            )

    # -- what must always hold -------------------------------------------------------

    @invariant()
    def the_books_balance(self) -> None:
        """Balance = sum of entries = open debits − unapplied credits, and no entry is paid
        or spent beyond its size (allocations summed here, apart from the ledger's code)."""
        entries = self._entries()
        assert_exact([e.amount for e in entries], "entries")
        balance = ledger.balance(self.s, self.patient_id)
        assert_exact(balance, "balance")
        assert balance == sum((e.amount for e in entries), ZERO)

        def allocated(column: Any) -> dict[int, Decimal]:
            rows = self.s.execute(
                select(column, ledger.cents_sum(Allocation.amount))
                .where(Allocation.patient_id == self.patient_id)
                .group_by(column)
            )
            return {key: ledger.decimal_of(cents) for key, cents in rows}

        paid, spent = allocated(Allocation.debit_id), allocated(Allocation.credit_id)
        left = {}
        for e in entries:
            if e.amount > ZERO:
                left[e.id] = e.amount - paid.get(e.id, ZERO)
                assert ZERO <= left[e.id] <= e.amount, f"entry {e.id} owes {left[e.id]}"
            else:
                left[e.id] = -e.amount - spent.get(e.id, ZERO)
                assert ZERO <= left[e.id] <= -e.amount, f"entry {e.id} has {left[e.id]} left"
            if e.package_purchase_id is not None and e.kind is EntryKind.PAYMENT:
                # No session used a package here, so its prepayment must be untouched.
                assert left[e.id] == -e.amount, f"package prepayment {e.id} was spent"

        owed = ledger.open_debits(self.s, self.patient_id)
        held = ledger.unapplied_credits(self.s, self.patient_id, include_packages=True)
        assert {o.entry.id: o.left for o in owed + held} == {k: v for k, v in left.items() if v}
        assert sum((o.left for o in owed), ZERO) - sum((c.left for c in held), ZERO) == balance

    @invariant()
    def invoice_totals_are_their_lines(self) -> None:
        lines = dict(
            self.s.execute(
                select(InvoiceLine.invoice_id, ledger.cents_sum(LedgerEntry.amount))
                .join(LedgerEntry, LedgerEntry.id == InvoiceLine.entry_id)
                .group_by(InvoiceLine.invoice_id)
            ).all()
        )
        for row in invoices.list_invoices(self.s, ADMIN, patient_id=self.patient_id).rows:
            assert_exact(row, f"invoice {row.number}")
            assert row.total == ledger.decimal_of(lines[row.id])
            assert ZERO <= row.balance_due <= row.total

    @rule()  # the full view at random moments: too slow to read after every step
    def read_every_invoice(self) -> None:
        page = invoices.list_invoices(self.s, ADMIN, patient_id=self.patient_id)
        rows = {r.id: r for r in page.rows}
        for invoice in self._invoices():
            view = invoices.invoice_view(self.s, ADMIN, invoice.id)
            assert_exact(view, f"invoice {invoice.number}")
            assert view.total == sum((n.amount for n in view.lines), ZERO)
            row = rows[invoice.id]
            assert (row.total, row.balance_due, row.state) == (
                view.total,
                view.balance_due,
                view.state,
            )
            if invoice.status is InvoiceStatus.VOID:
                assert view.balance_due == ZERO
            else:
                assert view.paid + view.adjusted + view.balance_due == view.total
                assert sum((p.amount for p in view.payments), ZERO) == view.paid

    @rule()  # a rule, not an invariant: checked at random moments, to keep the test fast
    def the_summary_adds_up(self) -> None:
        summary = account.account_summary(self.s, ADMIN, self.patient_id, year=START.year)
        assert_exact(summary, "summary")
        assert (
            summary.balance
            == (summary.charged_total - summary.paid_total - summary.adjusted_total)
            + summary.refunded_total
        )
        assert summary.balance == summary.owed - summary.credit - summary.unapplied_prepayments


@pytest.fixture
def books_db(sqlite_db: Database) -> Database:
    """A SQLite clinic with one location and one package on sale, committed once; every
    hypothesis run works inside its own rolled-back transaction on top of it."""
    with sqlite_db.transaction() as s:
        location = add_location(s, "NYC")
        template = PackageTemplate(
            name="IV booster — 3 infusions",
            service_code="96365",
            sessions=3,
            price=money("1000.00"),
            valid_days=90,
            unused_policy=UnusedPolicy.REFUND_PRORATED,
        )
        s.add(template)
        s.flush()
        Books.location_id, Books.template_id = location.id, template.id
    Books.database = sqlite_db
    return sqlite_db


def test_the_books_stay_straight_whatever_is_done(books_db: Database) -> None:
    run_state_machine_as_test(
        Books,
        settings=settings(
            max_examples=50,
            stateful_step_count=20,
            deadline=None,
            # The database is built once per test on purpose; each run rolls back its work.
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
