"""Does the record show treatment-resistant depression, as esketamine needs it?

The Spravato label is for adults with treatment-resistant depression: an inadequate
response to at least two oral antidepressants in the current depressive episode. Payers
read "adequate" as an adequate dose for long enough (the shipped table,
:mod:`ketadesk.clinic.history.adequacy`). :func:`judge_trial` says of one recorded
treatment whether it counts and why in words; :func:`trd_verdict` judges the patient's live
entries and says whether at least :data:`TRIALS_NEEDED` count. A trial counts when it is:

* an oral antidepressant trial (augmentation, psychotherapy, ECT and TMS are history worth
  recording but are not antidepressant trials);
* in the current episode;
* of a drug in the table, at or above its minimum adequate dose in mg;
* at that dose for at least the table's weeks;
* with an inadequate response (none or partial). Remission means it worked; "not
  tolerated" is an intolerance, not an inadequate response (some payers accept it: the
  reason says so); "unknown" cannot be shown.

:func:`trd_warnings` turns a verdict into the booking warning ``history:trd_unproven`` for
esketamine; the chart, ``ketadesk history`` and the letter of medical necessity show the
same verdict with every reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ketadesk.clinic.history.adequacy import AdequacyTable, AdequateDose, adequacy_table
from ketadesk.clinic.history.entries import live_entries
from ketadesk.clinic.history.models import PriorTreatment, Response, TreatmentKind
from ketadesk.clinic.history.words import amount_text
from ketadesk.clinic.models import Modality

TRIALS_NEEDED = 2
WARNING_CODE = "history:trd_unproven"
INADEQUATE = (Response.NONE, Response.PARTIAL)


@dataclass(frozen=True)
class TrialJudgement:
    entry_id: int
    treatment: str
    counts: bool
    reason: str  # why it counts, or why not, in words


@dataclass(frozen=True)
class TrdVerdict:
    """Whether the record shows at least two adequate failed antidepressant trials."""

    met: bool
    counted: tuple[TrialJudgement, ...]
    not_counted: tuple[TrialJudgement, ...]
    source: str  # where "adequate" comes from, in words

    @property
    def summary(self) -> str:
        found = len(self.counted)
        if self.met:
            return (f"Treatment-resistant depression shown: {found} adequate antidepressant "
                    f"trials with an inadequate response in this episode.")
        return (f"Treatment-resistant depression not shown: {found} of the "
                f"{TRIALS_NEEDED} adequate antidepressant trials needed in this episode.")


def judge_trial(entry: PriorTreatment, table: AdequacyTable) -> TrialJudgement:
    """Whether ``entry`` counts as an adequate antidepressant trial that failed, and why."""
    found = _why_not(entry, table)
    if isinstance(found, str):
        return TrialJudgement(entry.id, entry.treatment, False, found)
    dose = amount_text(entry.dose_amount) if entry.dose_amount is not None else ""
    reason = (f"counts: {found.drug} {dose} mg (minimum {amount_text(found.minimum_mg)} mg) "
              f"for {entry.weeks} weeks, {entry.response.label.lower()}")
    return TrialJudgement(entry.id, entry.treatment, True, reason)


def _why_not(entry: PriorTreatment, table: AdequacyTable) -> str | AdequateDose:
    """The first reason ``entry`` does not count, or its adequate dose when it does."""
    if entry.kind is not TreatmentKind.ANTIDEPRESSANT:
        return f"{entry.kind.label.lower()} is not an oral antidepressant trial"
    if not entry.current_episode:
        return "from an earlier episode; the rule counts trials in this episode"
    dose = table.drug(entry.treatment)
    if dose is None:
        return (f"{entry.treatment} has no minimum adequate dose in the table; check it "
                "against the payer's list")
    if entry.dose_amount is None or entry.dose_unit != "mg":
        return "no dose in mg recorded"
    if entry.dose_amount < dose.minimum_mg:
        return (f"dose {amount_text(entry.dose_amount)} mg is below the minimum adequate "
                f"{amount_text(dose.minimum_mg)} mg")
    if entry.weeks is None:
        return "the weeks taken are not recorded"
    if entry.weeks < table.minimum_weeks:
        return f"{entry.weeks} weeks is under the {table.minimum_weeks} weeks needed"
    return _response_reason(entry.response) or dose


def _response_reason(response: Response) -> str:
    if response in INADEQUATE:
        return ""
    if response is Response.REMISSION:
        return "it brought remission, so it is not a failed trial"
    if response is Response.NOT_TOLERATED:
        return ("stopped for intolerance, not an inadequate response (some payers accept "
                "intolerance; check the policy)")
    return "the response is not recorded"


def verdict_of(entries: Sequence[PriorTreatment], table: AdequacyTable) -> TrdVerdict:
    judged = [judge_trial(entry, table) for entry in entries]
    counted = tuple(j for j in judged if j.counts)
    return TrdVerdict(
        met=len(counted) >= TRIALS_NEEDED,
        counted=counted,
        not_counted=tuple(j for j in judged if not j.counts),
        source=table.source,
    )


def trd_verdict(session: Session, patient_id: int) -> TrdVerdict:
    """The verdict on the patient's live entries (no audit: callers that show it to a
    person audit their own read)."""
    return verdict_of(live_entries(session, patient_id), adequacy_table())


def trd_warnings(session: Session, patient_id: int, modality: Modality) -> list[tuple[str, str]]:
    """``[(code, sentence)]``: the booking warning when an esketamine series is planned
    for a patient whose record does not show two adequate failed trials."""
    if modality is not Modality.ESKETAMINE:
        return []
    verdict = trd_verdict(session, patient_id)
    if verdict.met:
        return []
    return [(WARNING_CODE, f"History: {verdict.summary} Esketamine is for treatment-resistant "
             "depression; record the trials on the History tab, or confirm with the provider.")]
