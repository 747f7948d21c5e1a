"""``ketadesk history`` and ``ketadesk necessity``: prior treatments and the letter for a payer.

* ``history --patient MRN [--json]`` lists the patient's live treatment history and the
  verdict on the esketamine rule (two adequate antidepressant trials in this episode), with
  the reason each entry counts or not (:func:`ketadesk.clinic.history.record.patient_history`).
* ``history add --patient MRN --kind KIND --treatment NAME [--dose "150 mg"] [--weeks N]
  [--response R] [--stopped WORDS] [--started 2026-03] [--earlier-episode]`` records one
  (:func:`ketadesk.clinic.history.entries.add_treatment`); every bad value is named at once,
  on one line, exit 2, and nothing is written.
* ``history remove --patient MRN --entry ID --reason TEXT`` takes an entry off with the
  reason (it stays in the table and the audit log).
* ``necessity pdf --patient MRN -o FILE`` writes the letter of medical necessity
  (:mod:`ketadesk.documents.necessity`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketadesk.cli import billing_common as bc
from ketadesk.cli import common

if TYPE_CHECKING:
    from ketadesk.clinic.history.record import HistoryLine, PatientHistory

OPTIONS = {
    "patient": "--patient", "kind": "--kind", "treatment": "--treatment", "dose": "--dose",
    "weeks": "--weeks", "response": "--response", "stopped": "--stopped",
    "started": "--started", "entry": "--entry", "reason": "--reason", "output": "--output",
}
EXAMPLES = """\
  ketadesk history --patient 100001
  ketadesk history --patient 100001 --json
  ketadesk history add --patient 100001 --kind antidepressant --treatment sertraline \\
      --dose "150 mg" --weeks 8 --response none --stopped "no response" --started 2026-03
  ketadesk history add --patient 100001 --kind psychotherapy --treatment CBT --weeks 16
  ketadesk history remove --patient 100001 --entry 12 --reason "entered twice\""""
NECESSITY_EXAMPLES = """\
  ketadesk necessity pdf --patient 100001 -o necessity.pdf"""


def register(commands: Any) -> None:
    parser = common.command_parser(
        commands, "history",
        summary="a patient's prior treatments and whether they show treatment-resistant "
                "depression",
        description="Show a patient's treatment history (antidepressant trials, augmentation, "
        "psychotherapy,\nECT, TMS) and whether it shows at least two adequate antidepressant "
        "trials in this\nepisode, as esketamine needs; add or remove entries.",
        examples=EXAMPLES, json_output=True,
    )
    parser.add_argument("--patient", metavar="MRN", help="the patient's MRN (show)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions")
    _add_parser(actions)
    _remove_parser(actions)
    parser.set_defaults(func=run, options=OPTIONS)
    _necessity_parser(commands)


def _add_parser(actions: Any) -> None:
    add = common.command_parser(
        actions, "add", summary="record a treatment tried before",
        description="Record a treatment the patient tried before. A dose is a number and a "
        "unit (150 mg);\na start month is 2026-03; --earlier-episode for a treatment of an "
        "earlier episode.",
        examples=EXAMPLES, json_output=True,
    )
    add.add_argument("--patient", metavar="MRN", required=True, help="the patient's MRN")
    add.add_argument("--kind", required=True, metavar="KIND",
                     help="antidepressant, augmentation, psychotherapy, ect, tms or other")
    add.add_argument("--treatment", required=True, metavar="NAME", help="the drug or therapy")
    add.add_argument("--dose", default="", metavar="DOSE", help='daily dose, e.g. "150 mg"')
    add.add_argument("--weeks", default="", metavar="N", help="weeks taken at that dose")
    add.add_argument("--response", default="unknown", metavar="R",
                     help="none, partial, remission, not tolerated or unknown")
    add.add_argument("--stopped", default="", metavar="WORDS", help="why it was stopped")
    add.add_argument("--started", default="", metavar="YYYY-MM", help="the month it started")
    add.add_argument("--earlier-episode", action="store_true",
                     help="it belongs to an earlier episode, not the current one")
    add.set_defaults(func=add_entry, options=OPTIONS)


def _remove_parser(actions: Any) -> None:
    remove = common.command_parser(
        actions, "remove", summary="take an entry off the history, with the reason",
        description="Take an entry off the history. It stays in the record with who removed "
        "it, when and why.", examples=EXAMPLES, json_output=True,
    )
    remove.add_argument("--patient", metavar="MRN", required=True, help="the patient's MRN")
    remove.add_argument("--entry", required=True, metavar="ID", help="the entry's number")
    remove.add_argument("--reason", required=True, metavar="TEXT", help="why it is removed")
    remove.set_defaults(func=remove_entry, options=OPTIONS)


def _necessity_parser(commands: Any) -> None:
    group = common.command_group(
        commands, "necessity", summary="the letter of medical necessity for a prior "
        "authorisation", description="Print the letter of medical necessity for a payer's "
        "prior authorisation, from\nwhat is recorded: diagnosis, failed trials, baseline "
        "scores and the plan.", examples=NECESSITY_EXAMPLES,
    )
    pdf = common.command_parser(group, "pdf", summary="write the letter as a PDF",
                                description="Write the letter of medical necessity as a PDF.",
                                examples=NECESSITY_EXAMPLES, json_output=True)
    pdf.add_argument("--patient", metavar="MRN", required=True, help="the patient's MRN")
    pdf.add_argument("-o", "--output", metavar="FILE", required=True, help="the PDF to write")
    pdf.set_defaults(func=necessity_pdf, options=OPTIONS)


def run(args: argparse.Namespace) -> int:
    from ketadesk.clinic.history.record import patient_history
    from ketadesk.errors import ValidationError

    if not args.patient:
        raise ValidationError.single("patient", "say whose history: --patient MRN")
    with common.opened(args) as db, db.transaction() as session:  # the read is audited
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        history = patient_history(session, actor, patient.id)
        name = patient.display_name
    common.emit(args, history_data(history, name), lambda: history_text(history, name))
    return 0


def add_entry(args: argparse.Namespace) -> int:
    from ketadesk.clinic.history.entries import add_treatment, clean_treatment

    draft = clean_treatment(vars(args), common.clock_of(args).today())
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        entry = add_treatment(session, actor, patient.id, draft)
        entry_id = entry.id
    data = {"entry": entry_id, "mrn": args.patient.strip(), "kind": draft.kind,
            "treatment": draft.treatment}
    common.emit(args, data, lambda: f"Recorded entry {entry_id}: {draft.kind.label.lower()}, "
                                    f"{draft.treatment}.")
    return 0


def remove_entry(args: argparse.Namespace) -> int:
    from ketadesk.clinic.history.entries import remove_treatment
    from ketadesk.errors import ValidationError

    word = args.entry.strip()
    if not (word.isascii() and word.isdigit()):
        raise ValidationError.single("entry", f"{args.entry!r} is not an entry number")
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        entry = remove_treatment(session, actor, patient.id, int(word), args.reason)
        data = {"entry": entry.id, "removed_reason": entry.removed_reason}
    common.emit(args, data, lambda: f"Removed entry {data['entry']}: {data['removed_reason']}.")
    return 0


def necessity_pdf(args: argparse.Namespace) -> int:
    from ketadesk.documents.necessity import render_necessity
    from ketadesk.documents.necessity_view import necessity_view

    with common.opened(args) as db, db.transaction() as session:  # the read is audited
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        view = necessity_view(session, actor, patient.id, common.clock_of(args).today())
    path = bc.write_pdf(render_necessity(view), Path(args.output))
    data = {"mrn": view.patient.mrn, "file": str(path), "trd_met": view.history.verdict.met}
    common.emit(args, data, lambda: f"Letter of medical necessity for {view.patient.name} "
                                    f"(MRN {view.patient.mrn}) written to {path}")
    return 0


def line_data(line: HistoryLine) -> dict[str, Any]:
    return {
        "entry": line.id, "kind": line.kind, "treatment": line.treatment,
        "dose": line.dose, "weeks": line.weeks, "response": line.response,
        "stopped": line.stopped_because, "started": line.started_on,
        "current_episode": line.current_episode, "recorded_by": line.recorded_by,
        "recorded_at": line.recorded_at, "counts": line.counts, "reason": line.reason,
    }


def history_data(history: PatientHistory, name: str) -> dict[str, Any]:
    verdict = history.verdict
    return {
        "patient": {"mrn": history.mrn, "name": name},
        "entries": [line_data(line) for line in history.lines],
        "trd": {"met": verdict.met, "summary": verdict.summary,
                "counted": [j.entry_id for j in verdict.counted], "source": verdict.source},
    }


def history_text(history: PatientHistory, name: str) -> str:
    head = f"Treatment history of {name} (MRN {history.mrn})"
    if not history.lines:
        return f"{head}: nothing recorded.\n{history.verdict.summary}"
    rows = [
        (line.id, line.kind.label, line.treatment, line.dose, line.weeks or "",
         line.response.label, line.started, "" if line.current_episode else "earlier",
         line.stopped_because)
        for line in history.lines
    ]
    table = common.table(("Entry", "Kind", "Treatment", "Dose", "Weeks", "Response",
                          "Started", "Episode", "Why stopped"), rows)
    reasons = "\n".join(f"  {line.id} {line.treatment}: {line.reason}" for line in history.lines)
    return f"{head}\n{table}\n\n{history.verdict.summary}\n{reasons}"
