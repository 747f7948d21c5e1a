"""Sample 835 files: a few of the demo's remittances written back as the payers' X12.

The money stage posts each payer's weekly answer as stored remit rows
(:mod:`ketadesk.demo.money_claims`). This module turns stored remittances back into files:

1. :func:`remittance_of` reads one remit with its claims, lines and adjustments into the
   :class:`~ketadesk.billing.edi.model.Remittance` an 835 carries: the payee is the location
   whose claims it pays, each service line echoes its claim line's modifiers, date and id.
2. :func:`sample_835` writes it with :func:`~ketadesk.billing.edi.x835.write_835`, marked as
   a test file; the payer's tax id, phone and both bank accounts are fictional.
3. :func:`pick_samples` chooses a few that show what posting meets: a Medicare payment with
   the patient's deductible and coinsurance, a commercial one with denials beside payments,
   and one with a line denied while the rest of its claim is paid.
4. :func:`write_samples` writes them into a folder, :func:`make_samples` from a demo it
   generates with :data:`SAMPLES_SPEC`. The files shipped in ``ketadesk/resources/samples``
   were made so (``python -m ketadesk.demo.samples ketadesk/resources/samples``); every
   patient in them is the demo's invention.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.billing.claims.models import Claim, ClaimLine, Remit, RemitClaim, RemitLine
from ketadesk.billing.edi.model import (
    Address,
    Adjustment,
    ClaimPayment,
    Remittance,
    ServicePayment,
)
from ketadesk.billing.edi.x835 import BankAccount, write_835
from ketadesk.clinic.models import Location, Payer
from ketadesk.demo.generator import Accounts, DemoSpec, generate
from ketadesk.files import write_private
from ketadesk.migrations import open_database

# The demo the shipped samples come from: small, and answered up to a fixed day.
__all__ = [
    "MAX_CLAIMS",
    "SAMPLES",
    "SAMPLES_SPEC",
    "make_samples",
    "pick_samples",
    "remittance_of",
    "sample_835",
    "write_samples",
]

SAMPLES_SPEC = DemoSpec(
    patients=400,
    years=2,
    locations=3,
    seed=11,
    today=date(2026, 11, 18),
    now=datetime(2026, 11, 18, 18, 0, tzinfo=UTC),
    accounts=Accounts.NONE,
)
MAX_CLAIMS = 12  # a sample small enough to read by eye
# Fictional: no bank, tax id or phone line of any real payer or clinic.
PAYER_BANK = BankAccount("000000000", "1000000001")
PAYEE_BANK = BankAccount("000000000", "2000000002")
PAYER_TIN = "000000000"
PAYER_PHONE = "8005550100"  # 555-01xx: reserved for fiction


def remittance_of(session: Session, remit_id: int) -> Remittance:
    """The stored remittance ``remit_id`` as its 835 would carry it.

    Raises :class:`LookupError` when there is no such remit or it answers no claim of ours
    (an 835 names one payee: the location of the claims it pays).
    """
    return _remittance(session, _load(session, remit_id))


def _remittance(session: Session, remit: Remit) -> Remittance:
    payer, location = _parties(remit)
    claims = [c.claim for c in remit.claims if c.claim is not None]
    lines = {
        line.id: line
        for line in session.scalars(
            select(ClaimLine).where(ClaimLine.claim_id.in_([c.id for c in claims]))
        )
    }
    return Remittance(
        payer_name=remit.payer_name,
        payer_id=payer.edi_payer_id,
        payee_name=location.name,
        payee_npi=location.npi,
        total_paid=remit.total_paid,
        method=remit.method,
        paid_on=remit.paid_on,
        trace_number=remit.trace_number,
        claims=tuple(_claim_payment(c, lines) for c in remit.claims),
        control_number=remit.id,
    )


def _load(session: Session, remit_id: int) -> Remit:
    remit = session.scalars(
        select(Remit)
        .where(Remit.id == remit_id)
        .options(
            selectinload(Remit.claims).selectinload(RemitClaim.lines),
            selectinload(Remit.claims).selectinload(RemitClaim.adjustments),
            selectinload(Remit.claims).selectinload(RemitClaim.claim).selectinload(Claim.policy),
        )
    ).first()
    if remit is None:
        raise LookupError(f"there is no remit {remit_id}")
    return remit


def _parties(remit: Remit) -> tuple[Payer, Location]:
    """The payer of a stored remittance and its payee, the location of the claims it pays."""
    claim = next((c.claim for c in remit.claims if c.claim is not None), None)
    if claim is None:
        raise LookupError(f"remit {remit.id} answers no claim of the clinic's")
    return claim.payer, claim.location


def _claim_payment(stored: RemitClaim, lines: dict[int, ClaimLine]) -> ClaimPayment:
    claim = stored.claim
    return ClaimPayment(
        claim_number=stored.claim_number,
        status=stored.status_code,
        billed=stored.billed,
        paid=stored.paid,
        patient_responsibility=stored.patient_share,
        payer_claim_number=stored.payer_claim_number,
        adjustments=_adjustments(stored, None),
        remarks=_codes(stored.remarks),
        services=tuple(
            _service(line, stored, lines.get(line.claim_line_id or 0)) for line in stored.lines
        ),
        patient_name=stored.patient_name,
        member_id=claim.policy.member_id if claim is not None else "",
    )


def _service(line: RemitLine, stored: RemitClaim, claimed: ClaimLine | None) -> ServicePayment:
    return ServicePayment(
        code=line.code,
        billed=line.billed,
        paid=line.paid,
        units=line.units,
        adjustments=_adjustments(stored, line.id),
        remarks=_codes(line.remarks),
        modifiers=tuple(claimed.modifier_list) if claimed is not None else (),
        service_date=claimed.service_date if claimed is not None else None,
        line_id=str(line.claim_line_id) if line.claim_line_id is not None else "",
        allowed=line.allowed,
    )


def _adjustments(stored: RemitClaim, line_id: int | None) -> tuple[Adjustment, ...]:
    return tuple(
        Adjustment(a.group, a.reason, a.amount)
        for a in stored.adjustments
        if a.remit_line_id == line_id
    )


def _codes(joined: str) -> tuple[str, ...]:
    return tuple(code for code in joined.split(",") if code)


def sample_835(session: Session, remit_id: int) -> str:
    """The stored remittance ``remit_id`` as an 835 test file (ISA15 ``T``)."""
    stored = _load(session, remit_id)
    payer, location = _parties(stored)
    return write_835(
        _remittance(session, stored),
        payer_address=Address(payer.address_line1, payer.city, payer.state, payer.zip_code),
        payee_address=Address(
            location.address_line1,
            location.city,
            location.state,
            location.zip_code,
            location.address_line2,
        ),
        payer_tin=PAYER_TIN,
        payer_phone=payer.phone or PAYER_PHONE,
        payer_bank=PAYER_BANK,
        payee_bank=PAYEE_BANK,
        filing_indicator="MB" if payer.is_medicare else "12",
        production=False,
    )


# ---------------------------------------------------------------------------------------
# Which remittances make good samples
# ---------------------------------------------------------------------------------------

Wanted = Callable[[Remit, Payer], bool]


def _groups(remit: Remit) -> set[str]:
    """``"PR-1"``, ``"CO-97"`` …: every adjustment in ``remit``."""
    return {f"{a.group}-{a.reason}" for c in remit.claims for a in c.adjustments}


def _medicare_share(remit: Remit, payer: Payer) -> bool:
    return payer.is_medicare and len(remit.claims) > 1 and "PR-2" in _groups(remit)


def _denials_beside_payments(remit: Remit, payer: Payer) -> bool:
    statuses = {c.status_code for c in remit.claims}
    return not payer.is_medicare and {"1", "4"} <= statuses


def _line_denied(remit: Remit, payer: Payer) -> bool:
    return any(
        c.status_code == "1" and c.paid > 0 and any(a.reason == "97" for a in c.adjustments)
        for c in remit.claims
    )


SAMPLES: tuple[tuple[str, Wanted], ...] = (
    ("medicare-deductible-coinsurance", _medicare_share),
    ("denials-beside-payments", _denials_beside_payments),
    ("line-denied-bundled", _line_denied),
)


def pick_samples(session: Session) -> list[tuple[str, int]]:
    """``(name, remit id)`` of one remittance for each of :data:`SAMPLES` that the data
    holds, each a different one: the one with the most kinds of adjustment, then the most
    claims up to :data:`MAX_CLAIMS`, the latest of equals."""
    payers = {p.id: p for p in session.scalars(select(Payer))}
    remits = session.scalars(
        select(Remit)
        .where(Remit.payer_id.is_not(None))
        .options(selectinload(Remit.claims).selectinload(RemitClaim.adjustments))
        .order_by(Remit.paid_on.desc(), Remit.id.desc())
    ).all()
    picked: list[tuple[str, int]] = []
    for name, wanted in SAMPLES:
        fits = [
            r
            for r in remits
            if r.payer_id is not None
            and len(r.claims) <= MAX_CLAIMS
            and all(c.claim_id is not None for c in r.claims)
            and r.id not in {remit_id for _name, remit_id in picked}
            and wanted(r, payers[r.payer_id])
        ]
        if fits:
            best = max(fits, key=lambda r: (len(_groups(r)), len(r.claims), r.paid_on, r.id))
            picked.append((name, best.id))
    return picked


def write_samples(session: Session, folder: Path) -> list[Path]:
    """Write :func:`pick_samples`' remittances as ``NAME.835`` files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, remit_id in pick_samples(session):
        path = folder / f"{name}.835"
        write_private(path, sample_835(session, remit_id).encode("ascii"))
        written.append(path)
    return written


def make_samples(folder: Path, spec: DemoSpec = SAMPLES_SPEC) -> list[Path]:
    """Generate the demo of ``spec`` in a scratch SQLite file and write its samples."""
    with tempfile.TemporaryDirectory() as scratch:
        db = open_database(f"sqlite:///{Path(scratch) / 'samples.sqlite3'}")
        try:
            generate(db, spec)
            with db.reading() as session:
                return write_samples(session, folder)
        finally:
            db.dispose()


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m ketadesk.demo.samples FOLDER", file=sys.stderr)
        return 2
    for path in make_samples(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

