"""Sending claims electronically: every ready claim for one payer as one 837P file.

:func:`export_batch` checks the payer's ready claims again (a chart may have changed since
they were built), draws the claims that are still clean (:mod:`.forms`), numbers the batch
(its :class:`~.models.ClaimBatch` id is the interchange control number, so numbers are
unique and increasing), writes the 837P, validates it against the implementation guide
with pyx12 (nothing is marked sent and no file is written when the guide refuses it),
writes the file readable by its owner only, and marks the claims submitted — all in the
caller's transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.claims.actions import mark_submitted
from ketadesk.billing.claims.forms import claim_forms
from ketadesk.billing.claims.models import Claim, ClaimBatch, ClaimStatus
from ketadesk.billing.claims.scrubber import check_and_mark
from ketadesk.billing.edi import validate
from ketadesk.billing.edi.model import Batch837, Party
from ketadesk.billing.edi.x837 import write_837p
from ketadesk.clinic.models import Location, Payer
from ketadesk.errors import Conflict, FileNotWritten, InvalidValue, NotFound
from ketadesk.files import write_private
from ketadesk.money import ZERO

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``, for a face's progress bar."""
EXPORT_STAGE = "exporting claims"


def _quiet(stage: str, done: int, total: int) -> None:
    """No one is listening to the progress."""


@dataclass(frozen=True)
class ExportResult:
    batch_id: int
    payer_name: str
    claim_ids: tuple[int, ...]
    total: Decimal
    text: str
    path: Path | None
    held_back: tuple[str, ...]  # numbers of ready claims that failed the new check

    @property
    def sentence(self) -> str:
        count = len(self.claim_ids)
        text = (
            f"Sent {count:,} claim{'s' if count != 1 else ''} (${self.total:,.2f}) to "
            f"{self.payer_name} in 837P batch {self.batch_id}"
        )
        if self.path is not None:
            text += f", saved as {self.path.name}"
        if self.held_back:
            text += f"; {len(self.held_back)} held back with new problems"
        return text + "."


def export_batch(
    session: Session,
    actor: Actor,
    payer_id: int,
    *,
    today: date,
    now: datetime,
    out: Path | None = None,
    check_guide: bool = True,
    progress: Progress | None = None,
) -> ExportResult:
    """The 837P of every ready claim for ``payer_id``; written to ``out`` when given.

    ``progress`` hears of each step done (checked, drawn, validated) out of three.
    """
    step = progress or _quiet
    actor.require(Permission.CLAIM_WORK)
    payer = session.get(Payer, payer_id)
    if payer is None:
        raise NotFound(f"There is no payer with id {payer_id}.")
    ready = _ready(session, payer_id)
    check_and_mark(session, actor, ready, today=today)
    step(EXPORT_STAGE, 1, 3)
    clean = [c for c in ready if c.status is ClaimStatus.READY]
    held = tuple(c.number for c in ready if c.status is not ClaimStatus.READY)
    if not clean:
        raise Conflict(f"No claim for {payer.name} is ready to send; check the drafts first.")
    batch = ClaimBatch(
        payer_id=payer_id,
        claim_count=len(clean),
        total=sum((c.billed for c in clean), ZERO),
        created_by=actor.username,
    )
    session.add(batch)
    session.flush()
    text = write_837p(_batch837(session, batch.id, now, payer, [c.id for c in clean]))
    step(EXPORT_STAGE, 2, 3)
    if check_guide:
        _check_guide(text)
    step(EXPORT_STAGE, 3, 3)
    batch.sha256 = hashlib.sha256(text.encode()).hexdigest()
    batch.file_name = out.name if out is not None else ""
    mark_submitted(session, actor, [c.id for c in clean], on=today, how=f"837P batch {batch.id}")
    for claim in clean:
        claim.batch_id = batch.id
    audit.record(session, actor, "export", "claim_batch", batch.id, after=audit.snapshot(batch))
    if out is not None:
        try:  # last, inside the transaction: no file, nothing marked sent
            write_private(out, text)
        except FileNotWritten as error:
            raise InvalidValue(
                f"the 837P file could not be saved to {out}: {error.reason}; nothing was sent"
            ) from error
    return ExportResult(
        batch.id, payer.name, tuple(c.id for c in clean), batch.total, text, out, held
    )


def _ready(session: Session, payer_id: int) -> list[Claim]:
    return list(
        session.scalars(
            select(Claim)
            .where(Claim.payer_id == payer_id, Claim.status == ClaimStatus.READY)
            .options(
                selectinload(Claim.lines), selectinload(Claim.payer), selectinload(Claim.policy)
            )
            .order_by(Claim.id)
        )
    )


def _batch837(
    session: Session, number: int, now: datetime, payer: Payer, claim_ids: list[int]
) -> Batch837:
    forms = claim_forms(session, claim_ids)
    sender = session.scalars(select(Location).order_by(Location.id).limit(1)).first()
    name = sender.name if sender is not None else "KETADESK CLINIC"
    identifier = sender.tin if sender is not None else "KETADESK"
    return Batch837(
        control_number=number,
        created_at=now,
        submitter=Party(
            name=name,
            identifier=identifier,
            contact_name="BILLING OFFICE",
            phone=sender.phone if sender is not None else "",
        ),
        receiver=Party(name=payer.name, identifier=payer.edi_payer_id),
        claims=tuple(forms),
    )


def _check_guide(text: str) -> None:
    found = validate.problems(text)
    if found:
        shown = "; ".join(found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
        raise Conflict(
            "The 837P file did not pass the implementation guide's checks, so nothing was "
            f"sent: {shown}"
        )
