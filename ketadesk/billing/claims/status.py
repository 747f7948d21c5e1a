"""A claim's status and its history: every change is a :class:`ClaimEvent` with who, when
and why, and an audit row, in the caller's transaction.

The allowed moves are :data:`~ketadesk.billing.claims.models.NEXT_STATUSES`; anything else
is refused with the reason, so a claim cannot, say, be paid before it was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.claims.models import NEXT_STATUSES, Claim, ClaimEvent, ClaimStatus
from ketadesk.errors import Conflict, NotFound


def get_claim(session: Session, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(f"There is no claim {claim_id}.")
    return claim


def load_claims(session: Session, ids: Sequence[int]) -> list[Claim]:
    """Claims with what checking and sending read, in two round trips."""
    return list(
        session.scalars(
            select(Claim)
            .where(Claim.id.in_(list(ids)))
            .options(selectinload(Claim.lines))
            .order_by(Claim.id)
        )
    )


def record_event(
    session: Session, actor: Actor, claim: Claim, to: ClaimStatus, reason: str, *, was: str
) -> None:
    """Write the history row (and audit it) for ``claim`` having moved from ``was``."""
    record_events(session, actor, [(claim, to, reason, was)])


def record_events(
    session: Session, actor: Actor, events: Sequence[tuple[Claim, ClaimStatus, str, str]]
) -> None:
    """History rows ``(claim, to, reason, was)`` and their audit rows, in two bulk inserts
    (building or posting a thousand claims writes a thousand of each)."""
    if not events:
        return
    session.flush()  # the claims exist before their history does
    now = datetime.now(UTC)
    rows = [
        {
            "claim_id": claim.id,
            "from_status": was,
            "to_status": to,
            "at": now,
            "actor": actor.username,
            "reason": reason[:300],
        }
        for claim, to, reason, was in events
    ]
    session.execute(insert(ClaimEvent), rows)
    audit.record_many(
        session,
        actor,
        "status",
        "claim",
        (
            (claim.id, {"status": to.value, "reason": reason[:300], "was": was})
            for claim, to, reason, was in events
        ),
    )
    for claim, *_ in events:
        session.expire(claim, ["events"])  # read again with the new rows when asked


def move(session: Session, actor: Actor, claim: Claim, to: ClaimStatus, reason: str) -> Claim:
    """Move ``claim`` to ``to`` with ``reason`` (a sentence for the history)."""
    move_many(session, actor, [(claim, to, reason)])
    return claim


def move_many(
    session: Session, actor: Actor, moves: Sequence[tuple[Claim, ClaimStatus, str]]
) -> None:
    """:func:`move` for many claims: every move checked before any is made."""
    actor.require(Permission.CLAIM_WORK)
    for claim, to, _ in moves:
        if to is not claim.status and to not in NEXT_STATUSES[claim.status]:
            raise Conflict(
                f"Claim {claim.number} is {claim.status.label.lower()}; it cannot become "
                f"{to.label.lower()}. {_hint(claim.status)}"
            )
    events = []
    for claim, to, reason in moves:
        if to is claim.status:
            continue
        events.append((claim, to, reason, claim.status.value))
        claim.status = to
    record_events(session, actor, events)


def _hint(status: ClaimStatus) -> str:
    allowed = sorted(s.label.lower() for s in NEXT_STATUSES[status])
    if not allowed:
        return "A closed claim stays closed; build a corrected claim instead."
    return "From here it may become " + ", ".join(allowed) + "."
