"""The letter of medical necessity PDF, for a payer's prior authorisation of esketamine.

:func:`render_necessity` lays out a :class:`~ketadesk.documents.necessity_view.NecessityView`
as a business letter on the clinic's letterhead (the one the bills use):

* the letterhead titled "Letter of medical necessity", with the date, the payer, member id
  and prior-authorisation number when a policy exists;
* the patient (name, date of birth, MRN, address) beside the payer;
* the diagnoses with their ICD-10-CM codes and words;
* the antidepressant trials in this episode (drug, dose, weeks, response, why stopped) and,
  apart, the other treatments tried (augmentation, psychotherapy, ECT, TMS, earlier
  episodes);
* whether the record meets the criterion for treatment-resistant depression, in words, with
  the reason each trial does or does not count and where "adequate" comes from;
* the baseline scores, the plan (protocol, sessions, modality) and the provider's
  signature line with the NPI.

Only what is recorded is printed: a missing part says so instead of inventing it.
"""

from __future__ import annotations

from reportlab.platypus import Flowable, KeepTogether, Spacer

from ketadesk.clinic.history.models import TreatmentKind
from ketadesk.clinic.history.record import HistoryLine
from ketadesk.documents.format import date_text, long_date
from ketadesk.documents.letterhead import (
    Column,
    DocumentMeta,
    Look,
    build_pdf,
    grid,
    heading,
    letterhead,
    look,
    notice_box,
    party_block,
    patient_lines,
    side_by_side,
    text,
)
from ketadesk.documents.necessity_view import NecessityView

TITLE = "Letter of medical necessity"
TRIAL_COLUMNS = (
    Column("Drug", 96), Column("Started", 52), Column("Dose", 56), Column("Weeks", 38, right=True),
    Column("Response", 78), Column("Why stopped", 208),
)
OTHER_COLUMNS = (
    Column("Kind", 92), Column("Treatment", 110), Column("Started", 52),
    Column("Weeks", 38, right=True), Column("Response", 78), Column("Why stopped", 158),
)
DIAGNOSIS_COLUMNS = (Column("ICD-10-CM", 70), Column("Description", 458))


def render_necessity(view: NecessityView, *, deterministic: bool = False) -> bytes:
    """The letter as PDF bytes; ``deterministic`` gives the same bytes for the same view."""
    style = look()
    story: list[Flowable] = [
        *letterhead(view.practice, TITLE, _facts(view), style, identifiers=True),
        side_by_side(_patient(view, style), _payer(view, style)),
        Spacer(1, 8),
        text(_opening(view), style.base.body),
        heading("Diagnosis", style),
        _diagnoses(view, style),
        *_trials(view, style),
        *_criterion(view, style),
        *_baseline(view, style),
        *_plan(view, style),
        Spacer(1, 6),
        KeepTogether(_signature(view, style)),
    ]
    meta = DocumentMeta(
        title=f"{TITLE}, {view.patient.name}",
        subject="Prior authorisation: treatment history and plan",
        author=view.practice.name,
        footer=f"{TITLE} · {view.patient.name} · MRN {view.patient.mrn}",
    )
    return build_pdf(story, meta, deterministic=deterministic)


def _facts(view: NecessityView) -> list[tuple[str, str]]:
    return [
        ("Date", date_text(view.letter_date)),
        ("Member ID", view.member_id),
        ("Prior authorisation", view.prior_auth_number),
    ]


def _patient(view: NecessityView, style: Look) -> list[Flowable]:
    return party_block("Patient", view.patient.name, patient_lines(view.patient), style)


def _payer(view: NecessityView, style: Look) -> list[Flowable]:
    if not view.payer_name:
        return party_block("Payer", "No insurance policy on file", [], style)
    lines = [f"Member ID {view.member_id}"]
    if view.group_number:
        lines.append(f"Group {view.group_number}")
    return party_block("Payer", view.payer_name, lines, style)


def _opening(view: NecessityView) -> str:
    payer = view.payer_name or "To whom it may concern"
    return (f"{payer}: we ask for authorisation of the treatment planned below for "
            f"{view.patient.name} (born {long_date(view.patient.date_of_birth)}). This letter "
            f"sets out, from the clinic's record as of {long_date(view.letter_date)}, the "
            "diagnosis, the treatments tried before, the baseline measures and the plan.")


def _diagnoses(view: NecessityView, style: Look) -> Flowable:
    if not view.diagnoses:
        return text("No diagnosis is recorded on the patient's chart.", style.base.body)
    rows = [(d.code, d.description) for d in view.diagnoses]
    return grid(DIAGNOSIS_COLUMNS, rows, style)


def _is_trial(line: HistoryLine) -> bool:
    return line.kind is TreatmentKind.ANTIDEPRESSANT and line.current_episode


def _trials(view: NecessityView, style: Look) -> list[Flowable]:
    lines = view.history.lines
    trials = [line for line in lines if _is_trial(line)]
    others = [line for line in lines if not _is_trial(line)]
    story: list[Flowable] = [heading("Antidepressant trials in this episode", style)]
    if trials:
        story.append(grid(TRIAL_COLUMNS, [_trial_row(line) for line in trials], style))
    else:
        story.append(text("No antidepressant trial in this episode is recorded.",
                          style.base.body))
    if others:
        story += [heading("Other treatments tried", style),
                  grid(OTHER_COLUMNS, [_other_row(line) for line in others], style)]
    return story


def _trial_row(line: HistoryLine) -> list[str]:
    weeks = str(line.weeks) if line.weeks is not None else ""
    return [line.treatment, line.started, line.dose, weeks, line.response.label,
            line.stopped_because]


def _other_row(line: HistoryLine) -> list[str]:
    kind = line.kind.label + ("" if line.current_episode else " (earlier episode)")
    weeks = str(line.weeks) if line.weeks is not None else ""
    treatment = f"{line.treatment} {line.dose}".strip()
    return [kind, treatment, line.started, weeks, line.response.label, line.stopped_because]


def _criterion(view: NecessityView, style: Look) -> list[Flowable]:
    verdict = view.history.verdict
    said = [text(verdict.summary, style.base.cell_bold)]
    for judged in (*verdict.counted, *verdict.not_counted):
        said.append(text(f"• {judged.treatment}: {judged.reason}", style.base.cell))
    said.append(text(verdict.source, style.fine))
    return [heading("Treatment-resistant depression criterion", style), notice_box(said)]


def _baseline(view: NecessityView, style: Look) -> list[Flowable]:
    story: list[Flowable] = [heading("Baseline measures", style)]
    if not view.baseline:
        return [*story, text("No PHQ-9 or GAD-7 score is recorded yet.", style.base.body)]
    words = "; ".join(f"{b.kind} {b.score} of {b.maximum} on {long_date(b.taken_on)}"
                      for b in view.baseline)
    return [*story, text(f"The earliest scores recorded: {words}.", style.base.body)]


def _plan(view: NecessityView, style: Look) -> list[Flowable]:
    story: list[Flowable] = [heading("Treatment plan", style)]
    plan = view.plan
    if plan is None:
        return [*story, text("No series is planned yet.", style.base.body)]
    count = f"{plan.sessions} sessions" if plan.sessions else "open-ended sessions"
    first = f", from {long_date(plan.first_day)}" if plan.first_day else ""
    return [*story, text(
        f"{plan.protocol} ({plan.modality}): {count}, {plan.booked} booked{first}; the series "
        f"is {plan.status.lower()}.", style.base.body)]


def _signature(view: NecessityView, style: Look) -> list[Flowable]:
    provider = view.provider
    name = f"{provider.name}, {provider.credentials}" if provider else ""
    npi = provider.npi if provider else ""
    return [
        text("I certify that the information above is taken from the patient's record and "
             "that the treatment planned is medically necessary.", style.base.body),
        Spacer(1, 18),
        text("_" * 44 + "      Date " + "_" * 16, style.base.body),
        text(f"{name or 'Provider'} · NPI {npi or '__________'}", style.base.cell_bold),
    ]
