"""A claim's status and its history: every change is a :class:`ClaimEvent` with who, when
and why, and an audit row, in the caller's transaction.

The allowed moves are :data:`~ketadesk.billing.claims.models.NEXT_STATUSES`; anything else
is refused with the reason, so a claim cannot, say, be paid before it was sent.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.claims.models import NEXT_STATUSES, Claim, ClaimEvent, ClaimStatus
from ketadesk.errors import Conflict, NotFound


def get_claim(session: Session, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound(f"There is no claim {claim_id}.")
    return claim


def record_event(
    session: Session, actor: Actor, claim: Claim, to: ClaimStatus, reason: str, *, was: str
) -> ClaimEvent:
    """Write the history row (and audit it) for ``claim`` having moved from ``was``."""
    event = ClaimEvent(
        claim_id=claim.id,
        from_status=was,
        to_status=to,
        at=datetime.now(UTC),
        actor=actor.username,
        reason=reason[:300],
    )
    session.add(event)  # written with the caller's next flush
    audit.record(
        session,
        actor,
        "status",
        "claim",
        claim.id,
        before={"status": was} if was else None,
        after={"status": to.value, "reason": reason[:300]},
    )
    return event


def move(session: Session, actor: Actor, claim: Claim, to: ClaimStatus, reason: str) -> Claim:
    """Move ``claim`` to ``to`` with ``reason`` (a sentence for the history)."""
    actor.require(Permission.CLAIM_WORK)
    if to is claim.status:
        return claim
    if to not in NEXT_STATUSES[claim.status]:
        raise Conflict(
            f"Claim {claim.number} is {claim.status.label.lower()}; it cannot become "
            f"{to.label.lower()}. {_hint(claim.status)}"
        )
    was = claim.status.value
    claim.status = to
    record_event(session, actor, claim, to, reason, was=was)
    return claim


def _hint(status: ClaimStatus) -> str:
    allowed = sorted(s.label.lower() for s in NEXT_STATUSES[status])
    if not allowed:
        return "A closed claim stays closed; build a corrected claim instead."
    return "From here it may become " + ", ".join(allowed) + "."
