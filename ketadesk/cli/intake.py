"""``ketadesk intake``: a patient's intake assessment, recording one, overrides, the rules.

* ``ketadesk intake --patient MRN [--json]`` shows the current assessment: its state (valid
  until, due, expired, missing), the findings with their rule and any override, the
  medications with the interactions found, the baseline vitals and weight, earlier intakes.
* ``ketadesk intake record --patient MRN --provider NPI --on DATE [--finding KEY[:details]]...
  [--medication "NAME DOSE"]... --bp 128/82 --heart-rate 72 --weight 80.5`` records a new
  intake that supersedes the current one (conditions not named are recorded absent).
* ``ketadesk intake override --patient MRN --finding KEY --provider NPI --reason TEXT``.
* ``ketadesk intake rules [--json]``; ``intake rules set KEY absolute|relative|ignore``;
  ``intake rules period MONTHS`` (how long an intake stays valid).

The services live in :mod:`ketadesk.clinic.intake`; this module reads options and prints.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ketadesk.cli import common
from ketadesk.errors import NotFound, ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ketadesk.access.permissions import Actor
    from ketadesk.clinic.intake.assessments import IntakeView
    from ketadesk.clinic.intake.rules import RuleRow
    from ketadesk.clinic.models import Provider

OPTIONS = {
    "patient": "--patient",
    "provider": "--provider",
    "assessed_on": "--on",
    "findings": "--finding",
    "medications": "--medication",
    "systolic": "--bp",
    "diastolic": "--bp",
    "bp": "--bp",
    "heart_rate": "--heart-rate",
    "weight": "--weight",
    "reason": "--reason",
    "key": "KEY",
    "rule": "RULE",
    "valid_months": "MONTHS",
}
EXAMPLES = """\
  ketadesk intake --patient 100001
  ketadesk intake --patient 100001 --json
  ketadesk intake record --patient 100001 --provider 1234567893 --on today \\
      --finding liver_disease:"ALT twice normal" --medication "Lorazepam 1 mg" \\
      --bp 128/82 --heart-rate 72 --weight 80.5
  ketadesk intake override --patient 100001 --finding pregnancy --provider 1234567893 \\
      --reason "negative test on the day"
  ketadesk intake rules
  ketadesk intake rules set liver_disease absolute
  ketadesk intake rules period 6"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "intake",
        help="a patient's intake assessment; record one, override a finding, the rules",
        description="Show a patient's intake assessment (--patient MRN), or record one, "
        "override an\nabsolute finding, or show and change the screening rules.",
        epilog="examples:\n" + EXAMPLES + "\n\n'ketadesk intake ACTION --help' describes each "
        "action.",
        formatter_class=common.HelpFormatter,
    )
    common.add_db_option(parser)
    common.add_json_option(parser)
    parser.add_argument("--patient", metavar="MRN", help="the patient's MRN (show the intake)")
    parser.set_defaults(func=run_show, options=OPTIONS)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions")
    _register_record(actions)
    _register_override(actions)
    _register_rules(actions)


def _register_record(actions: Any) -> None:
    parser = common.command_parser(
        actions, "record", summary="record a new intake (it supersedes the current one)",
        description="Record a signed intake: the conditions found (others are absent), the "
        "current\nmedications, the baseline blood pressure, heart rate and weight.",
        examples=EXAMPLES.splitlines()[2] + "\n" + "\n".join(EXAMPLES.splitlines()[3:5]),
        json_output=True,
    )
    parser.add_argument("--patient", metavar="MRN", required=True, help="the patient's MRN")
    parser.add_argument("--provider", metavar="NPI", required=True,
                        help="the NPI of the provider who assessed the patient")
    parser.add_argument("--on", metavar="DATE", required=True,
                        help="the day of the assessment (YYYY-MM-DD, MM/DD/YYYY or today)")
    parser.add_argument("--finding", metavar="KEY[:details]", action="append", default=[],
                        help="a condition present, with optional details (repeat); "
                        "see 'ketadesk intake rules' for the keys")
    parser.add_argument("--medication", metavar="NAME DOSE", action="append", default=[],
                        help='a current medication, e.g. "Lorazepam 1 mg" (repeat)')
    parser.add_argument("--bp", metavar="SYS/DIA", required=True, help="e.g. 128/82")
    parser.add_argument("--heart-rate", metavar="BPM", required=True)
    parser.add_argument("--weight", metavar="KG", required=True, help="kg, or '176 lb'")
    parser.set_defaults(func=run_record, options=OPTIONS)


def _register_override(actions: Any) -> None:
    parser = common.command_parser(
        actions, "override", summary="a provider's written override of an absolute finding",
        description="Record that a provider decided an absolute finding of the current "
        "intake does not\nstop dosing, and why.",
        examples="\n".join(EXAMPLES.splitlines()[5:7]),
        json_output=True,
    )
    parser.add_argument("--patient", metavar="MRN", required=True, help="the patient's MRN")
    parser.add_argument("--finding", metavar="KEY", required=True, help="the finding's key")
    parser.add_argument("--provider", metavar="NPI", required=True, help="the deciding provider")
    parser.add_argument("--reason", metavar="TEXT", required=True, help="why dosing may go ahead")
    parser.set_defaults(func=run_override, options=OPTIONS)


def _register_rules(actions: Any) -> None:
    parser = common.command_parser(
        actions, "rules", summary="the screening rules: show, set one, the validity period",
        description="Show every finding's rule (absolute, relative or ignore) and its source, "
        "and how\nmany months an intake stays valid.",
        examples="\n".join(EXAMPLES.splitlines()[7:]),
        json_output=True,
    )
    parser.set_defaults(func=run_rules, options=OPTIONS)
    changes = parser.add_subparsers(dest="change", metavar="CHANGE", title="changes")
    setter = changes.add_parser("set", help="set a finding's rule",
                                formatter_class=common.HelpFormatter)
    common.add_db_option(setter)
    setter.add_argument("key", metavar="KEY", help="the finding, e.g. liver_disease")
    setter.add_argument("rule", metavar="RULE", help="absolute, relative or ignore")
    setter.set_defaults(func=run_rule_set, options=OPTIONS)
    period = changes.add_parser("period", help="how many months an intake stays valid",
                                formatter_class=common.HelpFormatter)
    common.add_db_option(period)
    period.add_argument("months", metavar="MONTHS", help="1 to 60")
    period.set_defaults(func=run_period, options=OPTIONS)


# --- Running ------------------------------------------------------------------------------


def run_show(args: argparse.Namespace) -> int:
    from ketadesk.clinic.intake.assessments import intake_view

    if not args.patient:
        raise ValidationError.single(
            "patient", "say whose intake to show (--patient MRN), or give an action: "
            "record, override, rules"
        )
    today = common.clock_of(args).today()
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        view = intake_view(session, actor, patient.id, today)
    common.emit(args, view_data(view), lambda: view_text(view))
    return 0


def run_record(args: argparse.Namespace) -> int:
    from ketadesk.clinic.intake.assessments import (
        IntakeInput,
        intake_view,
        record_intake,
        split_medication,
    )

    clock = common.clock_of(args)
    today = clock.today()
    day = common.parse_date(args.on, "assessed_on", clock=clock)
    systolic, diastolic = parse_bp(args.bp)
    findings = parse_findings(args.finding)
    medications = [split_medication(text) for text in args.medication]
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        provider = _provider(session, actor, args.provider)
        data = IntakeInput(
            provider.id, day, findings, medications, systolic, diastolic, args.heart_rate,
            args.weight,
        )
        record_intake(session, actor, patient.id, data, today=today)
        view = intake_view(session, actor, patient.id, today)
    common.emit(args, view_data(view), lambda: "Recorded.\n\n" + view_text(view))
    return 0


def run_override(args: argparse.Namespace) -> int:
    from ketadesk.clinic.intake.assessments import intake_view, override_finding
    from ketadesk.clinic.intake.rules import parse_rule_key

    key = parse_rule_key(args.finding, "findings")
    today = common.clock_of(args).today()
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient = common.patient_by_mrn(session, actor, args.patient)
        provider = _provider(session, actor, args.provider)
        override_finding(session, actor, patient.id, key, provider.id, args.reason)
        view = intake_view(session, actor, patient.id, today)
    common.emit(args, view_data(view), lambda: "Overridden.\n\n" + view_text(view))
    return 0


def run_rules(args: argparse.Namespace) -> int:
    from ketadesk.clinic.intake.rules import screening_rules, valid_months

    with common.opened(args) as db, db.transaction() as session:
        rows = screening_rules(session)
        months = valid_months(session)
    data = {"valid_months": months, "rules": [rule_data(r) for r in rows]}
    common.emit(args, data, lambda: rules_text(rows, months))
    return 0


def run_rule_set(args: argparse.Namespace) -> int:
    from ketadesk.clinic.intake.rules import set_rule

    with common.opened(args) as db, db.transaction() as session:
        row = set_rule(session, common.actor(args), args.key, args.rule)
    print(f"{row.label}: {row.rule.value}" + ("" if row.changed else " (the default)"))
    return 0


def run_period(args: argparse.Namespace) -> int:
    from ketadesk.clinic.intake.rules import set_valid_months

    with common.opened(args) as db, db.transaction() as session:
        months = set_valid_months(session, common.actor(args), args.months)
    print(f"An intake now stays valid for {months} month{'s' if months != 1 else ''}.")
    return 0


# --- Reading options ----------------------------------------------------------------------


def parse_bp(text: str) -> tuple[int | str, int | str]:
    """``"128/82"`` -> ``(128, 82)``; the service checks the range."""
    high, slash, low = text.strip().partition("/")
    if not slash or not high.strip().isdigit() or not low.strip().isdigit():
        raise ValidationError.single("bp", f"{text.strip()!r} is not a blood pressure; write "
                                     "it like 128/82")
    return int(high), int(low)


def parse_findings(texts: list[str]) -> dict[str, str]:
    """``["liver_disease:ALT high", "seizures"]`` -> ``{key: details}``; keys checked."""
    from ketadesk.clinic.intake.conditions import condition_keys
    from ketadesk.clinic.intake.rules import parse_rule_key

    found: dict[str, str] = {}
    for text in texts:
        word, _colon, details = text.partition(":")
        key = parse_rule_key(word, "findings")
        if key not in condition_keys():
            raise ValidationError.single(
                "findings", f"{word.strip()!r} is not a condition the intake asks about; "
                f"expected one of {', '.join(condition_keys())}"
            )
        found[key] = details.strip()
    return found


def _provider(session: Session, actor: Actor, npi: str) -> Provider:
    from ketadesk.clinic.providers import provider_by_npi

    try:
        return provider_by_npi(session, actor, npi)
    except NotFound as error:
        raise ValidationError.single("provider", str(error)) from None


# --- Output -------------------------------------------------------------------------------


def view_data(view: IntakeView) -> dict[str, Any]:
    state = view.state
    current = view.current
    data: dict[str, Any] = {
        "patient": {"mrn": view.mrn, "name": view.patient_name},
        "state": {
            "status": state.status,
            "text": state.text,
            "assessed_on": state.assessed_on,
            "valid_until": state.valid_until,
            "expires_on": state.expires_on,
            "days_left": state.days_left,
        },
        "current": None,
        "history": [{"id": i, "assessed_on": d, "provider": p} for i, d, p in view.history],
    }
    if current is not None:
        data["current"] = {
            "id": current.id,
            "assessed_on": current.assessed_on,
            "provider": current.provider,
            "provider_npi": current.provider_npi,
            "recorded_by": current.recorded_by,
            "vitals": {
                "systolic": current.systolic,
                "diastolic": current.diastolic,
                "heart_rate": current.heart_rate,
                "weight_kg": current.weight_kg,
            },
            "answers": [
                {"key": k, "label": label, "present": present, "details": details}
                for k, label, present, details in current.answers
            ],
            "findings": [
                {
                    "key": f.key,
                    "label": f.label,
                    "kind": f.kind,
                    "rule": f.rule,
                    "details": f.details,
                    "blocks_dosing": f.blocks,
                    "override": None if f.override is None else {
                        "provider": f.override.provider,
                        "reason": f.override.reason,
                        "recorded_by": f.override.recorded_by,
                        "recorded_at": f.override.recorded_at,
                    },
                }
                for f in current.findings
            ],
            "medications": [
                {"name": m.name, "dose": m.dose, "interactions": list(m.interactions)}
                for m in current.medications
            ],
        }
    return data


def view_text(view: IntakeView) -> str:
    head = f"Intake of {view.patient_name} (MRN {view.mrn})"
    current = view.current
    if current is None:
        return f"{head}\n\n{view.state.text}."
    lines = [
        head,
        f"{view.state.text} — assessed {current.assessed_on:%d %b %Y} by {current.provider} "
        f"(recorded by {current.recorded_by})",
        "",
        f"Vitals: BP {current.systolic}/{current.diastolic}, heart rate {current.heart_rate}, "
        f"weight {current.weight_kg} kg",
        "",
    ]
    if current.findings:
        lines.append(common.table(
            ["Finding", "Rule", "Details", "Override"],
            [[f.label, f.rule.value, f.details, _override_words(f)] for f in current.findings],
        ))
    else:
        lines.append("No findings.")
    if current.medications:
        lines += ["", common.table(
            ["Medication", "Dose", "Interactions"],
            [[m.name, m.dose, ", ".join(m.interactions)] for m in current.medications],
        )]
    if len(view.history) > 1:
        earlier = ", ".join(f"{d:%d %b %Y} ({p})" for _i, d, p in view.history[1:])
        lines += ["", f"Earlier intakes: {earlier}"]
    return "\n".join(lines)


def _override_words(finding: Any) -> str:
    if finding.override is not None:
        return f"{finding.override.provider}: {finding.override.reason}"
    return "needed before dosing" if finding.blocks else ""


def rule_data(row: RuleRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "label": row.label,
        "kind": row.kind,
        "rule": row.rule,
        "default": row.default,
        "source": row.source,
    }


def rules_text(rows: list[RuleRow], months: int) -> str:
    table = common.table(
        ["Key", "Finding", "Rule", "Source"],
        [[r.key, r.label, r.rule.value + ("*" if r.changed else ""), r.source] for r in rows],
    )
    return (
        f"An intake stays valid for {months} month{'s' if months != 1 else ''}.\n\n{table}\n\n"
        "* changed from the shipped default"
    )
