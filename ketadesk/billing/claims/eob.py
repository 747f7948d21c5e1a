"""Posting a paper EOB by hand: what billing staff read off a payer's explanation of benefits
for one claim, checked, then posted by the same rules as an 835.

A payer that does not send 835s mails an EOB (or shows one on its portal). Billing staff
type what it says for one claim; this module turns that into the frozen
:class:`~ketadesk.billing.edi.model.Remittance` an 835 would have given, with
:attr:`~.models.RemitSource.PAPER_EOB` as its source, so that
:func:`ketadesk.billing.claims.remittance.plan` and :func:`~.remittance.post` post it: one home
for the posting rules, whichever way the answer came.

The flow:

1. :func:`eob_sheet` reads what the form shows: the claim, its payer and its lines with what
   each billed.
2. A person fills an :class:`EobForm`: the day paid, the check number (or ``EFT`` and its
   trace number), the payer's claim number, and per claim line an :class:`EobLine` with the
   amounts as typed: paid, contractual write-down (CO-45 unless another reason is given),
   deductible (PR-1), coinsurance (PR-2), copay (PR-3), and a denied amount with its reason
   code (CARC) and optional remark codes (RARC). Blank amounts are $0.00.
3. :func:`eob_remittance` checks the whole form and raises one
   :class:`~ketadesk.errors.ValidationError` listing every problem with its field
   (``"line 2 paid"``, ``"paid on"``): an amount that is not money or is below zero, a line
   whose parts do not add up to what it billed (and by how much), a denial without a reason
   code KetaDesk knows, a day in the future or before the claim was sent. Otherwise it
   returns the Remittance.
4. :func:`eob_plan` plans it with :func:`~.remittance.plan` (``sha256=None``: a typed EOB has
   no file to fingerprint) for the preview; the face posts that plan with
   :func:`~.remittance.post` in the same transaction.

:func:`left_to_account` is the running figure the form shows beside each line while it is
being typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import ledger
from ketadesk.billing.claims import remit_codes, remittance
from ketadesk.billing.claims.models import Claim, ClaimLine, ClaimStatus, RemitSource
from ketadesk.billing.claims.remit_codes import RemitKind
from ketadesk.billing.claims.remittance import RemitPlan
from ketadesk.billing.claims.status import get_claim
from ketadesk.billing.edi.model import Adjustment, ClaimPayment, Remittance, ServicePayment
from ketadesk.billing.models import LedgerEntry
from ketadesk.clinic.validation import parse_date
from ketadesk.errors import FieldProblem, InvalidValue, ValidationError
from ketadesk.money import ZERO, money

__all__ = [
    "AMOUNTS",
    "WAITING_FOR_EOB",
    "EobForm",
    "EobLine",
    "EobSheet",
    "SheetLine",
    "eob_plan",
    "eob_remittance",
    "eob_sheet",
    "left_to_account",
    "line_field",
]

# The claims a payer's answer can be typed for: sent and not yet answered, or appealed.
WAITING_FOR_EOB = frozenset({ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED, ClaimStatus.APPEALED})
# The amounts of one line, as EobLine attributes and as the words of their fields.
AMOUNTS = ("paid", "contractual", "deductible", "coinsurance", "copay", "denied")
SHARES = {"deductible": "1", "coinsurance": "2", "copay": "3"}  # PR-1, PR-2, PR-3
CONTRACTUAL_CARC = "45"  # charges exceed the fee schedule: the usual write-down
RANK_STATUS = {"primary": "1", "secondary": "2", "tertiary": "3"}  # CLP02
DENIED_IN_FULL = "4"
_REASON = re.compile(r"(?:(?P<group>[A-Z]{2})\s*-?\s*)?(?P<code>[A-Z0-9]{1,5})")
_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class EobLine:
    """What the EOB says about one claim line, as typed (blank amounts are $0.00).

    ``contractual_reason`` is blank for CO-45, or another reason code (``253``, ``CO-59``);
    ``denial_reason`` is the CARC of a denied amount (``50``, ``CO-197``); ``remarks`` the
    RARC codes printed beside it (``N130``, or ``M51, N56``).
    """

    position: int  # the claim line's number, 1 for the first
    paid: str = ""
    contractual: str = ""
    deductible: str = ""
    coinsurance: str = ""
    copay: str = ""
    denied: str = ""
    contractual_reason: str = ""
    denial_reason: str = ""
    remarks: str = ""


@dataclass(frozen=True)
class EobForm:
    """The EOB's header for one claim and its lines, as typed."""

    paid_on: date | str
    check_number: str  # "104577", or "EFT 8812345" for an electronic transfer
    lines: tuple[EobLine, ...]
    payer_claim_number: str = ""


@dataclass(frozen=True)
class SheetLine:
    position: int
    code: str
    billed: Decimal


@dataclass(frozen=True)
class EobSheet:
    """What the EOB form shows before anything is typed."""

    claim_id: int
    number: str
    status: ClaimStatus
    patient_name: str
    payer_name: str
    submitted_on: date | None
    payer_claim_number: str
    lines: tuple[SheetLine, ...]

    @property
    def billed(self) -> Decimal:
        return sum((line.billed for line in self.lines), ZERO)


def line_field(position: int, part: str = "") -> str:
    """The field a problem of line ``position`` belongs to: ``"line 2 paid"``, ``"line 2"``."""
    return f"line {position} {part}".strip()


# ---------------------------------------------------------------------------------------
# Reading the claim for the form
# ---------------------------------------------------------------------------------------


def eob_sheet(session: Session, actor: Actor, claim_id: int) -> EobSheet:
    """The claim as the EOB form shows it; raises NotFound for no such claim."""
    actor.require(Permission.CLAIM_WORK)
    claim = get_claim(session, claim_id)
    return EobSheet(
        claim_id=claim.id,
        number=claim.number,
        status=claim.status,
        patient_name=claim.patient.display_name,
        payer_name=claim.payer.name,
        submitted_on=claim.submitted_on,
        payer_claim_number=claim.payer_claim_number,
        lines=tuple(SheetLine(line.position, line.code, line.billed) for line in claim.lines),
    )


def left_to_account(billed: Decimal, line: EobLine) -> Decimal | None:
    """What of ``billed`` the typed amounts do not yet account for (negative: too much);
    None while an amount is not money yet."""
    try:
        parts = [_lenient(getattr(line, name)) for name in AMOUNTS]
    except InvalidValue:
        return None
    return billed - sum(parts, ZERO)


def _lenient(text: str) -> Decimal:
    return money(text) if text.strip() else ZERO


# ---------------------------------------------------------------------------------------
# Checking the form and building the remittance
# ---------------------------------------------------------------------------------------


def eob_remittance(
    session: Session, actor: Actor, claim_id: int, form: EobForm, *, today: date
) -> Remittance:
    """The EOB ``form`` for claim ``claim_id`` as a Remittance, after checking every field.

    Raises :class:`ValidationError` listing every problem with its field, NotFound for no
    such claim, PermissionDenied without CLAIM_WORK.
    """
    actor.require(Permission.CLAIM_WORK)
    claim = get_claim(session, claim_id)
    problems: list[FieldProblem] = []
    if claim.status not in WAITING_FOR_EOB:
        problems.append(
            FieldProblem(
                "claim",
                f"claim {claim.number} is {claim.status.label.lower()}; an EOB is posted to a "
                "claim that was sent (submitted, accepted or appealed) and not yet answered",
            )
        )
    paid_on = _paid_on(form.paid_on, claim, today, problems)
    services = _services(session, claim, form.lines, problems)
    paid = sum((s.paid for s in services), ZERO)
    method, trace = _check(form.check_number, paid, problems)
    payer_claim_number = _payer_claim_number(form.payer_claim_number, problems)
    if problems:
        raise ValidationError(problems)
    return _remittance(claim, services, paid_on, method, trace, payer_claim_number)


def eob_plan(
    session: Session, actor: Actor, claim_id: int, form: EobForm, *, today: date
) -> RemitPlan:
    """What posting the EOB ``form`` would do (writes nothing); post it with
    :func:`ketadesk.billing.claims.remittance.post` in the same transaction.

    Raises :class:`ValidationError` for the form's problems, and for anything that would
    leave the EOB unposted in the worklist: a typed EOB posts whole or not at all.
    """
    remit = eob_remittance(session, actor, claim_id, form, today=today)
    plan = remittance.plan(session, actor, remit, sha256=None, source=RemitSource.PAPER_EOB)
    waiting = [problem for claim_plan in plan.claims for problem in claim_plan.problems]
    if plan.problems or waiting:
        raise ValidationError(FieldProblem("claim", p) for p in (*plan.problems, *waiting))
    return plan


def _paid_on(value: date | str, claim: Claim, today: date, problems: list[FieldProblem]) -> date:
    """The day on the EOB; ``today`` stands in (with a problem noted) when it cannot be read."""
    field = "paid on"
    if isinstance(value, str):
        if not value.strip():
            problems.append(FieldProblem(field, "say the day the payer paid (or denied)"))
            return today
        try:
            value = parse_date(value)
        except InvalidValue as error:
            problems.append(FieldProblem(field, str(error)))
            return today
    if value > today:
        problems.append(
            FieldProblem(field, f"{value:%m/%d/%Y} is in the future; today is {today:%m/%d/%Y}")
        )
    sent = claim.submitted_on
    if sent is not None and value < sent:
        problems.append(
            FieldProblem(
                field,
                f"{value:%m/%d/%Y} is before the claim was sent ({sent:%m/%d/%Y}); "
                "check the EOB's date",
            )
        )
    return value


def _check(text: str, paid: Decimal, problems: list[FieldProblem]) -> tuple[str, str]:
    """The payment method (BPR04) and trace number: ``EFT …`` is a transfer, else a check."""
    trace = " ".join(text.split())
    if not trace:
        if paid > ZERO:
            problems.append(
                FieldProblem(
                    "check number",
                    "say the check number, or EFT and the transfer's trace number",
                )
            )
        return ("NON", "")
    if len(trace) > 50:
        problems.append(FieldProblem("check number", "is longer than 50 characters"))
    if trace.upper().startswith(("EFT", "ACH")):
        return ("ACH", trace)
    return ("CHK", trace)


def _payer_claim_number(text: str, problems: list[FieldProblem]) -> str:
    number = text.strip()
    if len(number) > 50:
        problems.append(FieldProblem("payer claim number", "is longer than 50 characters"))
    return number


def _services(
    session: Session, claim: Claim, typed: Sequence[EobLine], problems: list[FieldProblem]
) -> list[ServicePayment]:
    """One service payment per claim line (a line left out of the form pays nothing)."""
    by_position = {line.position: line for line in typed}
    known = {line.position for line in claim.lines}
    for position in sorted(set(by_position) - known):
        problems.append(
            FieldProblem(line_field(position), f"claim {claim.number} has no line {position}")
        )
    return [
        _service(
            line,
            by_position.get(line.position, EobLine(line.position)),
            _open_on(session, line),
            problems,
        )
        for line in claim.lines
    ]


def _open_on(session: Session, line: ClaimLine) -> Decimal:
    """What of the line's charge no earlier answer settled (a denial settles nothing)."""
    charge = session.get(LedgerEntry, line.entry_id)
    return ledger.open_amount(session, charge) if charge is not None else line.billed


def _service(
    line: ClaimLine, typed: EobLine, open_on_line: Decimal, problems: list[FieldProblem]
) -> ServicePayment:
    n = line.position
    read = {name: _amount(getattr(typed, name), line_field(n, name), problems) for name in AMOUNTS}
    amounts = {name: amount or ZERO for name, amount in read.items()}
    adjustments = [
        *_contractual(n, amounts["contractual"], typed.contractual_reason, problems),
        *(Adjustment("PR", code, amounts[name]) for name, code in SHARES.items() if amounts[name]),
        *_denial(n, amounts["denied"], typed.denial_reason, problems),
    ]
    remarks = _remarks(n, typed.remarks, problems)
    if None not in read.values():  # the sum is worth saying only when every part was read
        _adds_up(line, sum(amounts.values(), ZERO), problems)
        _still_open(line, open_on_line, sum(amounts.values(), ZERO) - amounts["denied"], problems)
    return ServicePayment(
        code=line.code,
        billed=line.billed,
        paid=amounts["paid"],
        units=Decimal(line.units),
        adjustments=tuple(adjustments),
        remarks=remarks,
        modifiers=tuple(m for m in line.modifiers.split(",") if m),
        service_date=line.service_date,
        line_id=str(line.id),
    )


def _amount(text: str, field: str, problems: list[FieldProblem]) -> Decimal | None:
    """An amount as typed (blank: $0.00); None, with a problem, when it is not money ≥ 0."""
    if not text.strip():
        return ZERO
    try:
        amount = money(text)
    except InvalidValue as error:
        problems.append(FieldProblem(field, str(error)))
        return None
    if amount < ZERO:
        problems.append(
            FieldProblem(
                field,
                f"{text.strip()} is below zero; type the amounts as the EOB shows "
                "them (a takeback is posted by hand)",
            )
        )
        return None
    return amount


def _adds_up(line: ClaimLine, total: Decimal, problems: list[FieldProblem]) -> None:
    if total == line.billed:
        return
    gap = total - line.billed
    how = "more" if gap > ZERO else "less"
    problems.append(
        FieldProblem(
            line_field(line.position),
            f"{line.code}: the parts add up to ${total:,.2f}, ${abs(gap):,.2f} {how} than the "
            f"${line.billed:,.2f} billed; every dollar billed is paid, written down, the "
            "patient's or denied",
        )
    )


def _still_open(
    line: ClaimLine, open_on_line: Decimal, settles: Decimal, problems: list[FieldProblem]
) -> None:
    """An appealed claim's second answer may settle only what the first left open."""
    if settles <= open_on_line or open_on_line == line.billed:
        return
    problems.append(
        FieldProblem(
            line_field(line.position),
            f"{line.code}: an earlier answer already settled "
            f"${line.billed - open_on_line:,.2f} of it; an EOB posts to lines nothing has "
            "settled yet (a denied line, for one): post what changed by hand",
        )
    )


def _reason(text: str) -> tuple[str, str] | None:
    """``"CO-50"``, ``"co 50"`` or ``"50"`` as (group, CARC); None when it is not a code."""
    match = _REASON.fullmatch(text.strip().upper())
    if match is None:
        return None
    return (match["group"] or "CO", match["code"])


def _contractual(
    n: int, amount: Decimal, text: str, problems: list[FieldProblem]
) -> Iterable[Adjustment]:
    field = line_field(n, "contractual reason")
    if not text.strip():
        return [Adjustment("CO", CONTRACTUAL_CARC, amount)] if amount else []
    found = _known_reason(text, field, problems)
    if found is None:
        return []
    group, code = found
    if remit_codes.carc(code).kind is RemitKind.PATIENT:
        problems.append(
            FieldProblem(
                field,
                f"{group}-{code} is the patient's share: type it under "
                "deductible, coinsurance or copay",
            )
        )
    elif remit_codes.is_denial(group, code):
        problems.append(
            FieldProblem(
                field, f"{group}-{code} is a denial: type the amount under denied with this reason"
            )
        )
    elif amount:
        return [Adjustment(group, code, amount)]
    return []


def _denial(
    n: int, amount: Decimal, text: str, problems: list[FieldProblem]
) -> Iterable[Adjustment]:
    field = line_field(n, "denial reason")
    if not text.strip():
        if amount:
            problems.append(
                FieldProblem(
                    field,
                    "say the reason code (CARC) the EOB gives for the denial, like 50 or CO-197",
                )
            )
        return []
    found = _known_reason(text, field, problems)
    if found is None:
        return []
    group, code = found
    if not remit_codes.is_denial(group, code):
        words = remit_codes.carc(code).kind.value
        problems.append(
            FieldProblem(
                field,
                f"{group}-{code} is not a denial but {_kind_words(words)}; "
                "type the amount where it belongs",
            )
        )
        return []
    if not amount:
        problems.append(
            FieldProblem(
                line_field(n, "denied"), f"{group}-{code} is given but no amount is denied"
            )
        )
        return []
    return [Adjustment(group, code, amount)]


def _kind_words(kind: str) -> str:
    return {
        RemitKind.CONTRACTUAL.value: "a contractual write-down",
        RemitKind.PATIENT.value: "the patient's share",
        RemitKind.INFO.value: "information only",
    }.get(kind, kind)


def _known_reason(text: str, field: str, problems: list[FieldProblem]) -> tuple[str, str] | None:
    found = _reason(text)
    if found is None:
        problems.append(
            FieldProblem(field, f"{text.strip()!r} is not a reason code; write it like 50 or CO-50")
        )
        return None
    group, code = found
    if group == "PR":
        problems.append(
            FieldProblem(
                field,
                f"{group}-{code} is the patient's share: type it under "
                "deductible, coinsurance or copay",
            )
        )
        return None
    if group not in remit_codes.group_codes() or group == "CR":
        problems.append(
            FieldProblem(field, f"{group} is not a group code for this; use CO, OA or PI")
        )
        return None
    if not remit_codes.carc(code).known:
        problems.append(
            FieldProblem(
                field,
                f"{code} is not a reason code (CARC) KetaDesk knows; check the "
                f"EOB, or look it up at {remit_codes.CARC_LOOKUP}",
            )
        )
        return None
    return (group, remit_codes.carc(code).code)


def _remarks(n: int, text: str, problems: list[FieldProblem]) -> tuple[str, ...]:
    codes = [c.upper() for c in _SEPARATORS.split(text.strip()) if c]
    unknown = [c for c in codes if not remit_codes.rarc(c).known]
    if unknown:
        problems.append(
            FieldProblem(
                line_field(n, "remarks"),
                f"{', '.join(unknown)}: not a remark code (RARC) KetaDesk knows; check the EOB, "
                f"or look it up at {remit_codes.RARC_LOOKUP}",
            )
        )
    return tuple(remit_codes.rarc(c).code for c in codes if remit_codes.rarc(c).known)


def _remittance(
    claim: Claim,
    services: Sequence[ServicePayment],
    paid_on: date,
    method: str,
    trace: str,
    payer_claim_number: str,
) -> Remittance:
    paid = sum((s.paid for s in services), ZERO)
    share = sum((a.amount for s in services for a in s.adjustments if a.group == "PR"), ZERO)
    denied_in_full = (
        paid == ZERO
        and share == ZERO
        and all(remit_codes.is_denial(a.group, a.reason) for s in services for a in s.adjustments)
    )
    payment = ClaimPayment(
        claim_number=claim.number,
        status=DENIED_IN_FULL if denied_in_full else RANK_STATUS.get(claim.rank.value, "1"),
        billed=claim.billed,
        paid=paid,
        patient_responsibility=share,
        payer_claim_number=payer_claim_number,
        services=tuple(services),
        patient_name=claim.patient.display_name,
        member_id=claim.policy.member_id,
    )
    return Remittance(
        payer_name=claim.payer.name,
        payer_id=claim.payer.edi_payer_id,
        payee_name=claim.location.name,
        payee_npi=claim.location.npi,
        total_paid=paid,
        method=method,
        paid_on=paid_on,
        trace_number=trace,
        claims=(payment,),
    )
