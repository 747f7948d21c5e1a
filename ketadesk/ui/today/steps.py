"""Which buttons a chair card offers for a session, and to whom.

Each :class:`Step` names one floor action (its key, its button text, the permission it
needs). :func:`steps_for` picks, from a session's status and what the board already knows
about it (checklist passed, IV or not), the steps that make sense now and that the logged-in
role may take. This only decides what to *show*: the floor services check the order of steps
and the permission again, and their refusals are shown in words.
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


CONFIRM = Step("confirm", "Confirm", Permission.SESSION_ARRIVAL, frozenset({S.SCHEDULED}))
CHECK_IN = Step(
    "check_in",
    "Check in",
    Permission.SESSION_ARRIVAL,
    frozenset({S.SCHEDULED, S.CONFIRMED}),
    primary=True,
)
CHECKLIST = Step(
    "checklist",
    "Pre-dose checklist…",
    Permission.FLOOR_CLINICAL,
    frozenset({S.CHECKED_IN}),
    primary=True,
)
DOSE = Step(
    "dose", "Start dose…", Permission.FLOOR_CLINICAL, frozenset({S.CHECKED_IN}), primary=True
)
STOP_INFUSION = Step(
    "stop_infusion",
    "Stop infusion",
    Permission.FLOOR_CLINICAL,
    frozenset({S.DOSING}),
    primary=True,
)
START_MONITORING = Step(
    "start_monitoring",
    "Start monitoring",
    Permission.FLOOR_CLINICAL,
    frozenset({S.DOSING}),
    primary=True,
)
DISCHARGE = Step(
    "discharge", "Discharge", Permission.FLOOR_CLINICAL, frozenset({S.MONITORING}), primary=True
)
VITALS = Step(
    "vitals", "Record BP…", Permission.FLOOR_CLINICAL, frozenset({S.DOSING, S.MONITORING})
)
OBSERVATION = Step(
    "observation",
    "Sedation / dissociation…",
    Permission.FLOOR_CLINICAL,
    frozenset({S.DOSING, S.MONITORING}),
)
SCORE = Step(
    "score",
    "Score…",
    Permission.FLOOR_CLINICAL,
    frozenset({S.CHECKED_IN, S.DOSING, S.MONITORING}),
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
