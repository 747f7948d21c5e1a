"""The one home of formats for documents and the command line (documents/format.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ketadesk.documents.format import (
    date_text,
    long_date,
    money_text,
    period_text,
    phone_text,
    tin_text,
    weekday_date,
)


def test_money_prints_exactly_with_a_dollar_sign_and_thousands() -> None:
    assert money_text(Decimal("1234.56")) == "$1,234.56"
    assert money_text(Decimal("0.00")) == "$0.00"
    assert money_text(Decimal("-12.00")) == "-$12.00"
    assert money_text(Decimal("99999999.99")) == "$99,999,999.99"
    with pytest.raises(TypeError):
        money_text(12.5)  # type: ignore[arg-type]


def test_phone_tin_and_dates_print_as_americans_read_them() -> None:
    assert phone_text("2125550142") == "(212) 555-0142"
    assert phone_text("") == ""
    assert phone_text("+44 20 7946 0000") == "+44 20 7946 0000"
    assert tin_text("123456789") == "12-3456789"
    assert tin_text("12-3456789") == "12-3456789"
    assert date_text(date(2026, 3, 9)) == "03/09/2026"
    assert date_text(None) == ""
    assert long_date(date(2026, 12, 7)) == "December 7, 2026"
    assert period_text(date(2026, 12, 1), date(2026, 12, 31)) == "12/01/2026 – 12/31/2026"
    assert period_text(date(2026, 12, 7), date(2026, 12, 7)) == "12/07/2026"


def test_a_day_sheet_heading_does_not_depend_on_the_locale() -> None:
    assert weekday_date(date(2027, 3, 14)) == "Sunday, March 14, 2027"
