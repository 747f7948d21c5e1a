"""An insurer's X12 835 remittance (005010X221A1): read into a :class:`.Remittance`, and written.

The loops of an 835, and what :func:`read_835` keeps from each::

    ISA GS ST                       control number (ISA13), created (GS04/05)
    BPR TRN                         total paid, method, payment date; trace number
      1000A N1*PR N3 N4 REF*2U PER  payer: name and payer id
      1000B N1*PE N3 N4             payee: name and NPI
      2000 LX                       a header number grouping the claims
        2100 CLP CAS NM1*QC MOA     each claim: our claim number, status, billed, paid,
                                    patient's share, payer's claim number, claim-level
                                    adjustments, patient name and member id, remark codes
          2110 SVC DTM*472 CAS      each line: code and modifiers, billed, paid, units,
               REF*6R AMT*B6 LQ*HE  date, adjustments, our line id, allowed, remark codes
    SE GE IEA

The reader is a short hand-written pass over the segments rather than pyx12's
``X12ContextReader``: it needs a dozen segment kinds and nothing of the guide's map, so it
reads a 1,000-claim file in milliseconds, tolerates ``~`` with or without line breaks (and
whatever delimiters the ISA declares), and says in words what is wrong with a file that is
not an 835. Checking a file against the guide is a separate step, :mod:`.validate`.

:func:`write_835` writes the same values back as a valid 835, for tests and for the demo's
sample remittances; it uses the same bricks as the 837P writer (:mod:`.segments`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from ketadesk.billing.edi.model import (
    Address,
    Adjustment,
    ClaimPayment,
    Remittance,
    ServicePayment,
)
from ketadesk.billing.edi.segments import (
    Envelope,
    amount,
    cas,
    d8,
    digits,
    interchange,
    procedure,
    quantity,
    segment,
    text,
)
from ketadesk.errors import InvalidValue

VERSION = "005010X221A1"
_CENT = Decimal("0.01")


# =========================================================================================
# Reading
# =========================================================================================


@dataclass(frozen=True)
class _Segment:
    position: int  # 1-based, counting from ISA
    elements: tuple[str, ...]  # elements[0] is the segment id

    @property
    def id(self) -> str:
        return self.elements[0]

    def get(self, index: int) -> str:
        """Element ``index`` (``CLP03`` is 3), or empty when the segment is shorter."""
        return self.elements[index] if index < len(self.elements) else ""

    def where(self, index: int) -> str:
        return f"segment {self.position} ({self.id}), element {self.id}{index:02d}"


def read_835(text: str) -> Remittance:
    """The remittance in ``text``, an X12 835 file holding one payment.

    Raises:
        InvalidValue: ``text`` is not an X12 file, is another transaction than an 835,
            holds more or less than one remittance, or has an amount or date that cannot be
            read; the message says which and where.
    """
    remittances = read_835s(text)
    if len(remittances) != 1:
        raise InvalidValue(
            f"this 835 file holds {len(remittances)} remittances; read it with read_835s"
        )
    return remittances[0]


def read_835s(text: str) -> tuple[Remittance, ...]:
    """Every remittance (ST…SE transaction) in ``text``, in file order. Raises as read_835."""
    segments, component = _split(text)
    readings: list[_Reading] = []
    envelope: dict[str, str] = {}
    for seg in segments:
        if seg.id in ("ISA", "GS"):
            envelope[seg.id] = seg.get(13) if seg.id == "ISA" else f"{seg.get(4)}{seg.get(5)}"
        elif seg.id == "ST":
            _require_835(seg)
            readings.append(_Reading(component, envelope.copy()))
        elif readings and seg.id != "SE":
            readings[-1].take(seg)
    if not readings:
        raise InvalidValue("this X12 file holds no transaction (no ST segment), so no 835")
    return tuple(reading.remittance() for reading in readings)


def _split(text: str) -> tuple[list[_Segment], str]:
    """The file's segments, cut at the terminator its ISA declares; and its component
    separator."""
    body = text.lstrip("\ufeff \t\r\n")
    if not body:
        raise InvalidValue("the file is empty: an 835 remittance begins with an ISA segment")
    if not body.startswith("ISA") or len(body) < 106:
        raise InvalidValue(
            "this is not an X12 file: an 835 remittance begins with a 106-character ISA segment"
        )
    element, component, terminator = body[3], body[104], body[105]
    pieces = (piece.strip("\r\n\t ") for piece in body.split(terminator))
    segments = [
        _Segment(number, tuple(piece.split(element)))
        for number, piece in enumerate((p for p in pieces if p), start=1)
    ]
    return segments, component


def _require_835(st: _Segment) -> None:
    if st.get(1) != "835":
        raise InvalidValue(
            f"this X12 file is a {st.get(1) or 'nameless'} transaction, not an 835 remittance"
        )


@dataclass
class _ServiceDraft:
    code: str
    modifiers: tuple[str, ...]
    billed: Decimal
    paid: Decimal
    units: Decimal
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    service_date: date | None = None
    line_id: str = ""
    allowed: Decimal | None = None

    def freeze(self) -> ServicePayment:
        return ServicePayment(
            code=self.code,
            billed=self.billed,
            paid=self.paid,
            units=self.units,
            adjustments=tuple(self.adjustments),
            remarks=tuple(self.remarks),
            modifiers=self.modifiers,
            service_date=self.service_date,
            line_id=self.line_id,
            allowed=self.allowed,
        )


@dataclass
class _ClaimDraft:
    claim_number: str
    status: str
    billed: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: tuple[str, ...] = ()
    services: list[_ServiceDraft] = field(default_factory=list)
    patient_name: str = ""
    member_id: str = ""

    def freeze(self) -> ClaimPayment:
        return ClaimPayment(
            claim_number=self.claim_number,
            status=self.status,
            billed=self.billed,
            paid=self.paid,
            patient_responsibility=self.patient_responsibility,
            payer_claim_number=self.payer_claim_number,
            adjustments=tuple(self.adjustments),
            remarks=self.remarks,
            services=tuple(s.freeze() for s in self.services),
            patient_name=self.patient_name,
            member_id=self.member_id,
        )


class _Reading:
    """One ST…SE transaction being read: the header values and the claims so far."""

    def __init__(self, component: str, envelope: dict[str, str]) -> None:
        self.component = component
        self.envelope = envelope
        self.header: dict[str, str] = {}
        self.bpr: _Segment | None = None
        self.party = ""  # the N1 loop we are in: "PR", "PE" or ""
        self.claims: list[_ClaimDraft] = []

    @property
    def claim(self) -> _ClaimDraft | None:
        return self.claims[-1] if self.claims else None

    @property
    def service(self) -> _ServiceDraft | None:
        claim = self.claim
        return claim.services[-1] if claim and claim.services else None

    def take(self, seg: _Segment) -> None:
        handler = _HANDLERS.get(seg.id)
        if handler is not None:
            handler(self, seg)

    def remittance(self) -> Remittance:
        if self.bpr is None or "trace" not in self.header:
            raise InvalidValue("this 835 has no BPR payment or no TRN trace number")
        bpr, header = self.bpr, self.header
        payer_id = header.get("2U") or header.get("XV") or header.get("TRN03", "")
        return Remittance(
            payer_name=header.get("PR", ""),
            payer_id=payer_id,
            payee_name=header.get("PE", ""),
            payee_npi=header.get("PE-XX", ""),
            total_paid=_amount(bpr, 2),
            method=bpr.get(4),
            paid_on=_date(bpr, 16),
            trace_number=header["trace"],
            claims=tuple(c.freeze() for c in self.claims),
            control_number=_control_number(self.envelope.get("ISA", "")),
            created_at=_created_at(self.envelope.get("GS", "")),
        )


def _on_bpr(reading: _Reading, seg: _Segment) -> None:
    reading.bpr = seg


def _on_trn(reading: _Reading, seg: _Segment) -> None:
    reading.header["trace"] = seg.get(2)
    reading.header["TRN03"] = seg.get(3)


def _on_n1(reading: _Reading, seg: _Segment) -> None:
    reading.party = seg.get(1)
    reading.header[reading.party] = seg.get(2)
    if seg.get(3) in ("XV", "XX"):
        key = "XV" if reading.party == "PR" else f"{reading.party}-{seg.get(3)}"
        reading.header[key] = seg.get(4)


def _on_ref(reading: _Reading, seg: _Segment) -> None:
    service = reading.service
    if service is not None and seg.get(1) == "6R":
        service.line_id = seg.get(2)
    elif reading.claim is None and reading.party == "PR" and seg.get(1) == "2U":
        reading.header["2U"] = seg.get(2)


def _on_clp(reading: _Reading, seg: _Segment) -> None:
    reading.party = ""
    reading.claims.append(
        _ClaimDraft(
            claim_number=seg.get(1),
            status=seg.get(2),
            billed=_amount(seg, 3),
            paid=_amount(seg, 4),
            patient_responsibility=_amount(seg, 5) if seg.get(5) else Decimal("0.00"),
            payer_claim_number=seg.get(7),
        )
    )


def _on_cas(reading: _Reading, seg: _Segment) -> None:
    target = reading.service or reading.claim
    if target is None:
        raise InvalidValue(f"segment {seg.position} (CAS) adjusts before any CLP claim")
    for first in range(2, 20, 3):
        if seg.get(first):
            target.adjustments.append(_adjustment(seg, first))


def _adjustment(seg: _Segment, first: int) -> Adjustment:
    count = seg.get(first + 2)
    return Adjustment(
        group=seg.get(1),
        reason=seg.get(first),
        amount=_amount(seg, first + 1),
        quantity=_number(seg, first + 2) if count else None,
    )


def _on_nm1(reading: _Reading, seg: _Segment) -> None:
    claim = reading.claim
    if claim is None or reading.service is not None:
        return
    if seg.get(1) == "QC":
        family, given = seg.get(3), " ".join(p for p in (seg.get(4), seg.get(5)) if p)
        claim.patient_name = f"{family}, {given}" if given else family
        claim.member_id = claim.member_id or seg.get(9)
    elif seg.get(1) == "IL" and seg.get(9):
        claim.member_id = seg.get(9)


def _on_moa(reading: _Reading, seg: _Segment) -> None:
    if reading.claim is not None:
        reading.claim.remarks = tuple(seg.get(i) for i in range(3, 8) if seg.get(i))


def _on_svc(reading: _Reading, seg: _Segment) -> None:
    claim = reading.claim
    if claim is None:
        raise InvalidValue(f"segment {seg.position} (SVC) pays a line before any CLP claim")
    parts = seg.get(1).split(reading.component)
    claim.services.append(
        _ServiceDraft(
            code=parts[1] if len(parts) > 1 else "",
            modifiers=tuple(m for m in parts[2:6] if m),
            billed=_amount(seg, 2),
            paid=_amount(seg, 3),
            units=_number(seg, 5) if seg.get(5) else Decimal("1"),
        )
    )


def _on_dtm(reading: _Reading, seg: _Segment) -> None:
    if reading.service is not None and seg.get(1) == "472":
        reading.service.service_date = _date(seg, 2)


def _on_amt(reading: _Reading, seg: _Segment) -> None:
    if reading.service is not None and seg.get(1) == "B6":
        reading.service.allowed = _amount(seg, 2)


def _on_lq(reading: _Reading, seg: _Segment) -> None:
    if reading.service is not None and seg.get(1) == "HE":
        reading.service.remarks.append(seg.get(2))


_HANDLERS: dict[str, Callable[[_Reading, _Segment], None]] = {
    "BPR": _on_bpr,
    "TRN": _on_trn,
    "N1": _on_n1,
    "REF": _on_ref,
    "CLP": _on_clp,
    "CAS": _on_cas,
    "NM1": _on_nm1,
    "MOA": _on_moa,
    "SVC": _on_svc,
    "DTM": _on_dtm,
    "AMT": _on_amt,
    "LQ": _on_lq,
}


def _number(seg: _Segment, index: int) -> Decimal:
    raw = seg.get(index)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise InvalidValue(f"{seg.where(index)}: {raw!r} is not a number")
    return value


def _amount(seg: _Segment, index: int) -> Decimal:
    return _number(seg, index).quantize(_CENT)


def _date(seg: _Segment, index: int) -> date:
    raw = seg.get(index)
    day = _ccyymmdd(raw)
    if day is None:
        raise InvalidValue(f"{seg.where(index)}: {raw!r} is not a date (CCYYMMDD)")
    return day


def _ccyymmdd(raw: str) -> date | None:
    if len(raw) != 8 or not raw.isdigit():
        return None
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return None


def _control_number(raw: str) -> int:
    return int(raw) if raw.strip().isdigit() else 0


def _created_at(raw: str) -> datetime | None:
    """GS04 and GS05 (CCYYMMDD and HHMM, perhaps with seconds) as one naive local time."""
    day, clock = _ccyymmdd(raw[:8]), raw[8:12]
    if day is None or len(clock) != 4 or not clock.isdigit():
        return None
    hour, minute = int(clock[:2]), int(clock[2:])
    if hour > 23 or minute > 59:
        return None
    return datetime.combine(day, time(hour, minute))


# =========================================================================================
# Writing
# =========================================================================================


@dataclass(frozen=True)
class BankAccount:
    """A bank account in an ACH payment's BPR: nine-digit routing number and account."""

    routing: str
    account: str


def write_835(
    remit: Remittance,
    *,
    payer_address: Address,
    payee_address: Address,
    payer_tin: str,
    payer_phone: str,
    payer_bank: BankAccount | None = None,
    payee_bank: BankAccount | None = None,
    filing_indicator: str = "12",
    production: bool = True,
) -> str:
    """``remit`` as an 835 file (one interchange, one transaction, all claims under LX*1).

    ``payer_tin`` makes TRN03 and BPR10 (``1`` and the EIN); ``payer_phone`` the technical
    contact the guide requires; the bank accounts are needed when ``remit.method`` is ACH;
    ``filing_indicator`` is CLP06 (``12`` PPO, ``MB`` Medicare part B, …); ``production``
    False marks a test file (ISA15 ``T``), as the demo's samples are.

    Raises:
        InvalidValue: the total paid is not the sum of the claims' payments, a payment
            method needs bank accounts that were not given, or a claim lacks the payer's
            claim number (CLP07).
    """
    _check_remittance(remit, payer_bank, payee_bank)
    envelope = Envelope(
        sender_id=remit.payer_id,
        receiver_id=remit.payee_npi,
        control_number=remit.control_number,
        created_at=remit.created_at or datetime.combine(remit.paid_on, time()),
        functional_code="HP",
        version=VERSION,
        transaction="835",
        production=production,
        version_in_st=False,
    )
    company = "1" + digits(payer_tin)[:9]
    body = [
        _bpr(remit, company, payer_bank, payee_bank),
        segment("TRN", "1", text(remit.trace_number, 50), company),
        *_payer_loop(remit, payer_address, payer_phone),
        *_payee_loop(remit, payee_address),
        segment("LX", "1"),
    ]
    for claim in remit.claims:
        body += _claim_payment(claim, filing_indicator)
    return interchange(envelope, body)


def _check_remittance(
    remit: Remittance, payer_bank: BankAccount | None, payee_bank: BankAccount | None
) -> None:
    paid = sum((c.paid for c in remit.claims), Decimal("0.00"))
    if paid != remit.total_paid:
        raise InvalidValue(
            f"the remittance pays {remit.total_paid} but its claims add up to {paid}"
        )
    if remit.method == "ACH" and (payer_bank is None or payee_bank is None):
        raise InvalidValue("an ACH remittance needs the payer's and the payee's bank accounts")
    if remit.method != "NON" and remit.total_paid == 0:
        raise InvalidValue("a remittance paying nothing has the payment method NON")
    for claim in remit.claims:
        if not claim.payer_claim_number:
            raise InvalidValue(f"claim {claim.claim_number} has no payer claim number (CLP07)")


def _bpr(
    remit: Remittance, company: str, payer: BankAccount | None, payee: BankAccount | None
) -> str:
    handling = "H" if remit.method == "NON" else "C"
    head = [handling, amount(remit.total_paid), "C", remit.method]
    if remit.method == "ACH" and payer is not None and payee is not None:
        bank = ["CCP", "01", digits(payer.routing), "DA", text(payer.account, 35), company, "",
                "01", digits(payee.routing), "DA", text(payee.account, 35)]  # fmt: skip
    else:
        bank = [""] * 11
    return segment("BPR", *head, *bank, d8(remit.paid_on))


def _payer_loop(remit: Remittance, address: Address, phone: str) -> list[str]:
    return [
        segment("N1", "PR", text(remit.payer_name, 60)),
        *_address(address),
        segment("REF", "2U", text(remit.payer_id, 50)),
        segment("PER", "BL", "", "TE", digits(phone)),
    ]


def _payee_loop(remit: Remittance, address: Address) -> list[str]:
    return [
        segment("N1", "PE", text(remit.payee_name, 60), "XX", text(remit.payee_npi, 80)),
        *_address(address),
    ]


def _address(address: Address) -> list[str]:
    return [
        segment("N3", text(address.line1, 55), text(address.line2, 55)),
        segment("N4", text(address.city, 30), text(address.state, 2), digits(address.zip_code)),
    ]


def _claim_payment(claim: ClaimPayment, filing_indicator: str) -> list[str]:
    segments = [
        segment("CLP", text(claim.claim_number, 38), claim.status, amount(claim.billed),
                amount(claim.paid), amount(claim.patient_responsibility), filing_indicator,
                text(claim.payer_claim_number, 50)),
        *cas(claim.adjustments),
        _patient_name(claim),
    ]  # fmt: skip
    if claim.remarks:
        segments.append(segment("MOA", "", "", *(text(r, 50) for r in claim.remarks[:5])))
    for service in claim.services:
        segments += _service_payment(service)
    return segments


def _patient_name(claim: ClaimPayment) -> str:
    """NM1*QC from ``patient_name`` written ``FAMILY, GIVEN`` (as :func:`read_835` makes it)."""
    family, _, given = claim.patient_name.partition(",")
    member = ("MI", text(claim.member_id, 80)) if claim.member_id else ("", "")
    return segment("NM1", "QC", "1", text(family, 60), text(given, 35), "", "", "", *member)


def _service_payment(service: ServicePayment) -> list[str]:
    segments = [
        segment("SVC", procedure(service.code, service.modifiers), amount(service.billed),
                amount(service.paid), "", quantity(service.units)),
    ]  # fmt: skip
    if service.service_date is not None:
        segments.append(segment("DTM", "472", d8(service.service_date)))
    segments += cas(service.adjustments)
    if service.line_id:
        segments.append(segment("REF", "6R", text(service.line_id, 50)))
    if service.allowed is not None:
        segments.append(segment("AMT", "B6", amount(service.allowed)))
    segments += [segment("LQ", "HE", text(code, 30)) for code in service.remarks]
    return segments
