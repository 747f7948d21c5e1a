"""Which buttons a chair card offers for a session, and to whom.

Each :class:`Step` names one floor action (its key, its button text, the permission it
needs). :func:`steps_for` picks, from a session's status and what the board already knows
about it (checklist passed, IV or not), the steps that make sense now and that the logged-in
role may take. This only decides what to *show*: the floor services check the order of steps
and the permission again, and their refusals are shown in words.

A discharged session is no longer on the board, so checking out is offered apart:
:func:`checkout_steps` gives the card's "Take payment…" for the patient who just left the
chair, to roles that take payments (the front desk at check-out).
"""

from __future__ import annotations

from dataclasses import dataclass

from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.models import Modality
from ketadesk.scheduling.board import BoardSession
from ketadesk.scheduling.models import SessionStatus

S = SessionStatus


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    permission: Permission
    statuses: frozenset[SessionStatus]
    primary: bool = False  # moves the session on; drawn as the card's main button


def _clinical(key: str, label: str, *statuses: SessionStatus, primary: bool = False) -> Step:
    """A step only clinical staff take (dosing, vital signs, scores)."""
    return Step(key, label, Permission.FLOOR_CLINICAL, frozenset(statuses), primary)


CONFIRM = Step("confirm", "Confirm", Permission.SESSION_ARRIVAL, frozenset({S.SCHEDULED}))
CHECK_IN = Step(
    "check_in",
    "Check in",
    Permission.SESSION_ARRIVAL,
    frozenset({S.SCHEDULED, S.CONFIRMED}),
    primary=True,
)
CHECKLIST = _clinical("checklist", "Pre-dose checklist…", S.CHECKED_IN, primary=True)
DOSE = _clinical("dose", "Start dose…", S.CHECKED_IN, primary=True)
STOP_INFUSION = _clinical("stop_infusion", "Stop infusion", S.DOSING, primary=True)
START_MONITORING = _clinical("start_monitoring", "Start monitoring", S.DOSING, primary=True)
DISCHARGE = _clinical("discharge", "Discharge", S.MONITORING, primary=True)
VITALS = _clinical("vitals", "Record BP…", S.DOSING, S.MONITORING)
OBSERVATION = _clinical("observation", "Sedation / dissociation…", S.DOSING, S.MONITORING)
SCORE = _clinical("score", "Score…", S.CHECKED_IN, S.DOSING, S.MONITORING)
SIDE_EFFECT = Step(
    "side_effect", "Side effect…", Permission.CLINICAL_RECORD, frozenset({S.DOSING, S.MONITORING})
)

# After discharge the session leaves the board; the chair's card keeps a "checked out" line
# for the front desk, with this step, until the next patient sits down.
TAKE_PAYMENT = Step(
    "take_payment", "Take payment…", Permission.PAYMENT_TAKE, frozenset({S.COMPLETED})
)

ALL_STEPS = (
    CONFIRM,
    CHECK_IN,
    CHECKLIST,
    DOSE,
    STOP_INFUSION,
    START_MONITORING,
    DISCHARGE,
    VITALS,
    OBSERVATION,
    SCORE,
    SIDE_EFFECT,
)


def _fits(step: Step, shown: BoardSession) -> bool:
    if shown.status not in step.statuses:
        return False
    if step is CHECKLIST:
        return not shown.checklist_passed
    if step is DOSE:
        return shown.checklist_passed
    if step is STOP_INFUSION:
        return shown.modality is Modality.IV and not shown.infusion_stopped
    if step is START_MONITORING:
        return shown.modality is not Modality.IV
    return True


def steps_for(shown: BoardSession, actor: Actor) -> list[Step]:
    """The steps to offer for ``shown`` to ``actor``, main step first."""
    offered = [s for s in ALL_STEPS if _fits(s, shown) and actor.can(s.permission)]
    return sorted(offered, key=lambda s: not s.primary)


def checkout_steps(actor: Actor) -> list[Step]:
    """What the chair card offers for a patient just discharged from it: taking payment."""
    return [TAKE_PAYMENT] if actor.can(TAKE_PAYMENT.permission) else []
