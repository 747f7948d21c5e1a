"""The pure money decisions billing and the demo share, tested over plain values.

:func:`ledger.allocation_plan` (which credit pays which debit, oldest first),
:func:`packages.package_share` (a use's value, the last taking the remainder) and
:func:`packages.settle_use` (adjustment or forfeit after a package use) are checked with
tables of worked cases and with hypothesis over any amounts.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketadesk.billing.ledger import Step, allocation_plan
from ketadesk.billing.packages import UseSettlement, package_share, settle_use, use_value
from ketadesk.errors import InvalidValue
from ketadesk.money import CENT, from_cents, to_cents

amounts = st.lists(st.integers(min_value=0, max_value=500_000), max_size=8)


@pytest.mark.parametrize(
    ("credits", "debits", "plan"),
    [
        ([], [100], []),
        ([100], [], []),
        ([100], [100], [Step(0, 0, 100)]),
        ([100], [30, 50, 40], [Step(0, 0, 30), Step(0, 1, 50), Step(0, 2, 20)]),
        ([30, 50], [100], [Step(0, 0, 30), Step(1, 0, 50)]),
        ([60, 60], [50, 50], [Step(0, 0, 50), Step(0, 1, 10), Step(1, 1, 40)]),
        ([0, 70], [0, 50], [Step(1, 1, 50)]),
    ],
)
def test_allocation_plan_pays_oldest_first(
    credits: list[int], debits: list[int], plan: list[Step]
) -> None:
    assert allocation_plan(credits, debits) == plan


@given(amounts, amounts)
def test_allocation_plan_moves_all_it_can_and_never_overdraws(
    credits: list[int], debits: list[int]
) -> None:
    plan = allocation_plan(credits, debits)
    given_by = [0] * len(credits)
    taken_by = [0] * len(debits)
    for step in plan:
        assert step.cents > 0
        given_by[step.credit] += step.cents
        taken_by[step.debit] += step.cents
    assert all(g <= c for g, c in zip(given_by, credits, strict=True))
    assert all(t <= d for t, d in zip(taken_by, debits, strict=True))
    assert sum(s.cents for s in plan) == min(sum(credits), sum(debits))
    # Oldest first: the steps never go back to an earlier credit or debit.
    order = [(s.credit, s.debit) for s in plan]
    assert order == sorted(order)


@pytest.mark.parametrize(
    ("price", "sessions", "shares"),
    [
        (100_000, 3, [33_333, 33_333, 33_334]),
        (5, 6, [0, 0, 0, 0, 0, 5]),
        (200_000, 3, [66_666, 66_666, 66_668]),
        (0, 2, [0, 0]),
        (42_000, 1, [42_000]),
    ],
)
def test_package_share_rounds_down_and_the_last_takes_the_rest(
    price: int, sessions: int, shares: list[int]
) -> None:
    assert [package_share(price, sessions, n) for n in range(1, sessions + 1)] == shares


def test_package_share_refuses_a_use_outside_the_package_or_a_negative_price() -> None:
    with pytest.raises(InvalidValue, match="outside a package of 3"):
        package_share(1000, 3, 4)
    with pytest.raises(InvalidValue, match="outside a package"):
        package_share(1000, 3, 0)
    with pytest.raises(InvalidValue, match="below zero"):
        package_share(-1, 3, 1)


@given(st.integers(min_value=0, max_value=10_000_000), st.integers(min_value=1, max_value=40))
def test_package_share_adds_up_and_matches_the_dollar_rule(price: int, sessions: int) -> None:
    shares = [package_share(price, sessions, n) for n in range(1, sessions + 1)]
    assert sum(shares) == price
    assert shares[-1] == max(shares)
    dollars = from_cents(price)
    first = (dollars / sessions).quantize(CENT, rounding=ROUND_DOWN)
    assert from_cents(shares[0]) == first
    assert use_value(dollars, sessions, sessions) == from_cents(shares[-1])
    assert to_cents(use_value(dollars, sessions, 1)) == shares[0]
    assert isinstance(use_value(dollars, sessions, 1), Decimal)


@pytest.mark.parametrize(
    ("owed", "value", "paid", "settled"),
    [
        (50_000, 40_000, 40_000, UseSettlement(10_000, 0)),
        (30_000, 40_000, 30_000, UseSettlement(0, 10_000)),
        (40_000, 40_000, 40_000, UseSettlement(0, 0)),
        (0, 40_000, 0, UseSettlement(0, 40_000)),
    ],
)
def test_settle_use_adjusts_fees_above_the_value_and_forfeits_the_rest(
    owed: int, value: int, paid: int, settled: UseSettlement
) -> None:
    assert settle_use(owed, value, paid) == settled


@given(st.integers(min_value=0, max_value=1_000_000), st.integers(min_value=0, max_value=1_000_000))
def test_settle_use_closes_the_charges_and_spends_the_value_exactly(owed: int, value: int) -> None:
    paid = min(owed, value)  # what the prepayment's plan pays of the charges
    settled = settle_use(owed, value, paid)
    assert settled.adjustment_cents >= 0 and settled.forfeit_cents >= 0
    assert not (settled.adjustment_cents and settled.forfeit_cents)
    assert paid + settled.adjustment_cents == owed
    assert paid + settled.forfeit_cents == value
