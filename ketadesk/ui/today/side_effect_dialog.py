"""The chair card's "Side effect…" dialog: what happened, how bad, serious or not, what was done.

A :class:`~ketadesk.ui.today.dialogs.FloorDialog` like the floor's others: OK reads the form
and calls :func:`~ketadesk.scheduling.side_effects.recording.record_side_effect` in one write
transaction; a refusal shows beside its field. Onset is minutes after the dose, blank for now.
The "Serious adverse event" tick says in its tooltip what it does: it flags the patient for a
provider's review before the next dose.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ketadesk.scheduling.side_effects.models import SideEffectKind, SideEffectSeverity
from ketadesk.scheduling.side_effects.recording import SideEffectInput, record_side_effect
from ketadesk.ui.forms import FieldForm
from ketadesk.ui.today.dialogs import FloorDialog, Typed

SERIOUS_HINT = (
    "A serious adverse event: the patient's later sessions need a provider's review "
    "before the next dose."
)


class SideEffectDialog(FloorDialog):
    ok_text = "Record"

    def build(self, form: FieldForm) -> None:
        form.add_choice(
            "kind", "What happened", [(k.value, k.label) for k in SideEffectKind], required=True
        )
        form.add_text("detail", "In words", placeholder="needed for Other, e.g. rash")
        form.add_choice(
            "severity",
            "Severity",
            [(s.value, s.label) for s in SideEffectSeverity],
            required=True,
        )
        serious = form.add_check("serious", "Serious adverse event")
        serious.setToolTip(SERIOUS_HINT)
        form.add_text("onset", "Began (minutes after dose)", placeholder="blank: now")
        form.add_text("action", "What was done", placeholder="e.g. ondansetron 4 mg IV")

    def act(self, session: Session, typed: Typed) -> object:
        values = self.form.values()
        onset = typed.maybe_whole("onset", "minutes after the dose")
        typed.check()
        given = SideEffectInput(
            kind=str(values["kind"]),
            severity=str(values["severity"]),
            serious=bool(values["serious"]),
            onset_minutes=onset,
            action=str(values["action"] or ""),
            detail=str(values["detail"] or ""),
        )
        return record_side_effect(
            session, self.context.actor, self.shown.session_id, given, now=self.clock()
        )
