"""What the money commands share: reading amounts, methods, dates and months, and printing
dollars.

The billing commands (``invoice``, ``payment``, ``ledger``, ``superbill``, ``gfe``,
``charges``) read their options through these functions, so "45.001", "bitcoin" or
"2026-13-01" is refused the same way everywhere: a
:class:`~ketadesk.errors.ValidationError` on the option's field, which the entry point
prints as one line naming the option (``--amount: 45.001 has a fraction of a cent``).
Money is read with :func:`ketadesk.money.amount_above_zero` only, so no float ever enters.
Amounts are printed by :func:`ketadesk.documents.format.money_text` (here ``dollars``),
the same text the PDFs print.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from ketadesk.cli import common
from ketadesk.documents.format import money_text
from ketadesk.errors import FileNotWritten, InvalidValue, NotFound, ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ketadesk.billing.models import Invoice, PaymentMethod

dollars = money_text  # what the money commands call it: one definition for CLI and PDFs

METHOD_WORDS = {
    "cash": "cash",
    "card": "card",
    "credit": "card",
    "debit": "card",
    "check": "check",
    "cheque": "check",
    "hsa_fsa": "hsa_fsa",
    "hsa": "hsa_fsa",
    "fsa": "hsa_fsa",
    "hsa/fsa": "hsa_fsa",
    "hsa-fsa": "hsa_fsa",
    "other": "other",
}
METHODS_HELP = "cash, card, check, hsa_fsa (or hsa, fsa), other"
_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")


# --------------------------------------------------------------------------------------
# Reading options
# --------------------------------------------------------------------------------------


def parse_amount(text: str, field: str = "amount") -> Decimal:
    """A positive amount to the cent (``450``, ``450.00``, ``$1,200.50``); never a float.

    Read by :func:`ketadesk.money.amount_above_zero`, the parser the window uses too.
    """
    from ketadesk.money import amount_above_zero

    try:
        return amount_above_zero(text)
    except InvalidValue as error:
        raise ValidationError.single(field, str(error)) from None


def parse_method(text: str, field: str = "method") -> PaymentMethod:
    """How the patient paid: a method's name, with ``hsa`` and ``fsa`` for ``hsa_fsa``."""
    from ketadesk.billing.models import PaymentMethod

    value = METHOD_WORDS.get(text.strip().casefold())
    if value is None:
        raise ValidationError.single(
            field, f"{text.strip()!r} is not a payment method; use {METHODS_HELP}"
        )
    return PaymentMethod(value)


def parse_date(text: str, field: str, clock: common.Clock) -> date:
    """A date as typed: :func:`ketadesk.cli.common.parse_date` (``YYYY-MM-DD``,
    ``MM/DD/YYYY``, ``today``, ``yesterday``), "today" being the command's ``clock``."""
    return common.parse_date(text, field, clock=clock)


def parse_month(text: str, field: str = "month") -> tuple[date, date]:
    """``2026-12`` → the first and the last day of that month."""
    match = _MONTH.fullmatch(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ValidationError.single(
            field, f"{text.strip()!r} is not a month; write it as YYYY-MM, e.g. 2026-12"
        )
    year, month = int(match.group(1)), int(match.group(2))
    first = date(max(year, 1), month, 1)
    last = date(max(year, 1), month, calendar.monthrange(max(year, 1), month)[1])
    if not common.EARLIEST_DATE <= first <= common.LATEST_DATE:
        raise ValidationError.single(
            field,
            f"{text.strip()} is outside {common.EARLIEST_DATE.year} to "
            f"{common.LATEST_DATE.year}, the years this takes",
        )
    return first, last


def date_range(
    start: str | None,
    end: str | None,
    clock: common.Clock,
    *,
    start_field: str = "from",
    end_field: str = "to",
) -> tuple[date | None, date | None]:
    """``--from`` and ``--to`` read together; an end before the start is refused."""
    first = parse_date(start, start_field, clock) if start else None
    last = parse_date(end, end_field, clock) if end else None
    if first and last and last < first:
        raise ValidationError.single(
            end_field, f"{last.isoformat()} is before --from ({first.isoformat()})"
        )
    return first, last


def invoice_by_number(session: Session, number: str, field: str = "invoice") -> Invoice:
    """The invoice numbered ``number`` (any case), or an error on the option."""
    from ketadesk.billing.invoices import find_invoice

    try:
        return find_invoice(session, number.strip().upper())
    except NotFound:
        raise ValidationError.single(field, f"there is no invoice {number.strip()}") from None


# --------------------------------------------------------------------------------------
# Writing and printing
# --------------------------------------------------------------------------------------


def write_pdf(content: bytes, path: Path, field: str = "output") -> Path:
    """Write a PDF whole to ``path`` (owner-only, through a temporary name); an unwritable
    path or a full disk is an error on the option, and nothing is left under the name."""
    from ketadesk.files import write_private

    try:
        return write_private(path, content)
    except FileNotWritten as error:
        raise ValidationError.single(field, str(error)) from None


def balance_words(balance: Decimal) -> str:
    """A patient's balance as people say it: owed, credit, or settled."""
    if balance > 0:
        return f"{dollars(balance)} owed"
    if balance < 0:
        return f"{dollars(-balance)} credit"
    return "$0.00 (settled)"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``plural(2, "charge")`` → ``2 charges``."""
    return f"{count} {word if count == 1 else many or word + 's'}"
