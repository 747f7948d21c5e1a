"""``ketadesk patient``: register, find, show and import patients.

The options of ``patient add`` are declared once in :data:`PATIENT_OPTIONS`, which maps
each option to its patient field; the same table turns a field named in a validation
problem back into the option the user typed (``--dob: 2999-01-01 is in the future``).
``patient show`` opens the record through :func:`ketadesk.clinic.patients.open_by_mrn`,
so the opening is audited as it is in the window.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ketadesk.cli import common

if TYPE_CHECKING:
    from ketadesk.clinic.models import InsurancePolicy, Patient
    from ketadesk.clinic.patient_import import ImportReport

# option, patient field, help
PATIENT_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("--family", "family_name", "family (last) name"),
    ("--given", "given_name", "given (first) name"),
    ("--middle", "middle_name", "middle name"),
    ("--preferred", "preferred_name", "the name the patient likes to be called"),
    ("--dob", "date_of_birth", "date of birth: YYYY-MM-DD or MM/DD/YYYY"),
    ("--sex", "sex", "F, M, X (non-binary) or U (unknown)"),
    ("--phone", "phone", "US phone number, any punctuation"),
    ("--email", "email", "email address"),
    ("--address", "address_line1", "street address"),
    ("--address2", "address_line2", "second address line (apartment, suite)"),
    ("--city", "city", "city"),
    ("--state", "state", "state: two-letter code or name"),
    ("--zip", "zip_code", "ZIP code"),
    ("--diagnoses", "diagnoses", "ICD-10-CM codes separated by commas, primary first"),
    ("--flags", "screening_flags", "screening flags separated by commas, e.g. "
                                   "psychosis_history,pregnancy"),
    ("--driver", "driver_name", "the usual driver home after treatment"),
    ("--driver-phone", "driver_phone", "the driver's phone"),
    ("--emergency-name", "emergency_contact_name", "emergency contact"),
    ("--emergency-phone", "emergency_contact_phone", "emergency contact's phone"),
    ("--emergency-relationship", "emergency_contact_relationship",
     "emergency contact's relationship to the patient"),
    ("--rems-enrolled", "rems_enrolled_on", "date of Spravato REMS enrolment"),
    ("--weight", "weight_kg", "weight, e.g. 72.5 (kilograms) or 160 lb; kept in kg"),
    ("--location", "home_location", "home location code"),
    ("--notes", "notes", "free-text notes"),
)
REQUIRED_FIELDS = frozenset({"family_name", "given_name", "date_of_birth", "sex"})
ADD_OPTIONS = {field: option for option, field, _ in PATIENT_OPTIONS}
IMPORT_EXIT_STOPPED = 2
IMPORT_DESCRIPTION = """\
Register patients from a CSV file: UTF-8 (a byte-order mark and Windows line endings are
fine), one patient per row, the first line naming the columns.

Patient columns: family_name, given_name, date_of_birth and sex are required; optional
are middle_name, preferred_name, phone, email, address_line1, address_line2, city, state,
zip_code, emergency_contact_name, emergency_contact_phone, emergency_contact_relationship,
driver_name, driver_phone, diagnoses (F33.2;F43.10), screening_flags, rems_enrolled_on,
weight_kg, home_location (a location code) and notes.

Insurance columns, all optional: primary_payer (a payer's name), primary_member_id,
primary_group_number, primary_effective_from, primary_effective_to,
primary_prior_auth_number, primary_sessions_authorized, primary_auth_from,
primary_auth_to, primary_subscriber_name, primary_subscriber_dob, primary_relationship;
and the same with secondary_.

Every row is checked first, including rows that repeat another row of the file or a
patient already in the database (same names and date of birth). Nothing is written
unless every row is good, or --skip-invalid is given. Exits 2 when problems stopped the
import. ketadesk/resources/samples/patients.csv shows the layout."""
GROUP_EPILOG = """\
examples:
  ketadesk patient add --family Ng --given Ana --dob 1990-03-07 --sex F
  ketadesk patient find ng 1990-03-07
  ketadesk patient show 100001
  ketadesk patient import patients.csv --dry-run

'ketadesk patient ACTION --help' describes each action."""


def register(commands: Any) -> None:
    group = commands.add_parser(
        "patient", help="register, find, show and import patients",
        description="Work with patient records from the command line. Every action is done "
                    "as your\noperating-system user, and the audit log names it.",
        epilog=GROUP_EPILOG,
        formatter_class=common.HelpFormatter,
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)
    _register_add(actions)
    _register_find(actions)
    _register_show(actions)
    _register_import(actions)


def _register_add(actions: Any) -> None:
    parser = common.command_parser(
        actions, "add", summary="register a patient and print the new MRN",
        description="Register a patient. Every option is checked at once, and each problem\n"
                    "names its option. Prints the new medical record number (MRN).",
        examples="""\
  ketadesk patient add --family Łukasiewicz --given Zoë --dob 1984-03-09 --sex F \\
      --phone "(212) 555-0142" --diagnoses F33.2,F43.10 --driver "Ana Ng"
  ketadesk patient add --family Ng --given Ana --dob 03/07/1990 --sex F --json""",
        json_output=True,
    )
    for option, field, text in PATIENT_OPTIONS:
        parser.add_argument(option, dest=field, required=field in REQUIRED_FIELDS, help=text,
                            metavar=option.lstrip("-").upper().replace("-", "_"))
    parser.set_defaults(func=add, options=ADD_OPTIONS)


def _register_find(actions: Any) -> None:
    parser = common.command_parser(
        actions, "find", summary="search patients by name, date of birth, MRN or phone",
        description="List patients matching every word: the start of a family, given or "
                    "preferred name (case and accents ignored), a date of birth, the start "
                    "of an MRN, or digits of a phone number. No words lists everyone.",
        examples="""\
  ketadesk patient find lukas
  ketadesk patient find ng 1990-03-07
  ketadesk patient find 1000 --limit 20 --json""",
        json_output=True,
    )
    parser.add_argument("text", nargs="*", metavar="TEXT", help="words to match")
    parser.add_argument("--limit", type=_positive, default=50, help="at most this many rows")
    parser.add_argument("--inactive", action="store_true", help="include inactive patients")
    parser.set_defaults(func=find)


def _register_show(actions: Any) -> None:
    parser = common.command_parser(
        actions, "show", summary="show a patient's whole record (the opening is audited)",
        description="Show every field of a patient's record, the diagnoses and the "
                    "insurance policies. Opening the record is written to the audit log.",
        examples="  ketadesk patient show 100001\n  ketadesk patient show 100001 --json",
        json_output=True,
    )
    parser.add_argument("mrn", metavar="MRN", help="the medical record number")
    parser.set_defaults(func=show)


def _register_import(actions: Any) -> None:
    parser = common.command_parser(
        actions, "import", summary="register patients from a CSV file",
        description=IMPORT_DESCRIPTION,
        examples="""\
  ketadesk patient import patients.csv --dry-run
  ketadesk patient import patients.csv
  ketadesk patient import patients.csv --skip-invalid --json""",
        json_output=True,
    )
    parser.add_argument("file", metavar="FILE.csv", help="the CSV file to import")
    parser.add_argument("--skip-invalid", action="store_true",
                        help="import the good rows and report the others")
    parser.add_argument("--dry-run", action="store_true",
                        help="check every row and report, but write nothing")
    parser.set_defaults(func=import_csv)


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is not at least 1")
    return number


# --------------------------------------------------------------------------------------
# add, find
# --------------------------------------------------------------------------------------


def add(args: argparse.Namespace) -> int:
    from ketadesk.clinic import patients

    raw = {field: value for _, field, _ in PATIENT_OPTIONS
           if (value := getattr(args, field)) is not None}
    with common.opened(args) as db, db.transaction() as session:
        patient = patients.create_patient(session, common.actor(args), raw)
        data = {"mrn": patient.mrn, "id": patient.id, "name": patient.display_name}
    common.emit(args, data, lambda: f"Registered {data['name']}: MRN {data['mrn']}")
    return 0


def find(args: argparse.Namespace) -> int:
    from ketadesk.clinic import patients

    text = " ".join(args.text)
    with common.opened(args) as db, db.reading() as session:
        page = patients.patient_page(session, common.actor(args), text, limit=args.limit,
                                     include_inactive=args.inactive)
    rows, total = page.rows, page.total
    data = [{"mrn": r.mrn, "name": r.display_name, "family_name": r.family_name,
             "given_name": r.given_name, "preferred_name": r.preferred_name,
             "date_of_birth": r.date_of_birth, "phone": r.phone, "active": r.active}
            for r in rows]
    common.emit(args, data, lambda: _find_text(data, text, total))
    return 0


def _find_text(rows: list[dict[str, Any]], text: str, total: int) -> str:
    if not rows:
        return f"No patients match {text!r}." if text else "No patients yet."
    body = common.table(
        ["MRN", "Name", "Born", "Phone", "Status"],
        [[r["mrn"], r["name"], r["date_of_birth"].isoformat(), _phone(r["phone"]),
          "" if r["active"] else "inactive"] for r in rows],
    )
    if len(rows) < total:
        body += (f"\n(the first {len(rows)} of {total:,} that match; add words or raise "
                 "--limit to see more)")
    return body


def _phone(digits: str) -> str:
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if len(digits) == 10 else digits


# --------------------------------------------------------------------------------------
# show
# --------------------------------------------------------------------------------------


def show(args: argparse.Namespace) -> int:
    from ketadesk.clinic import patients

    with common.opened(args) as db, db.transaction() as session:
        patient = patients.open_by_mrn(session, common.actor(args), args.mrn)
        data = _record(patient)
    common.emit(args, data, lambda: _record_text(data))
    return 0


def _record(patient: Patient) -> dict[str, Any]:
    from ketadesk.clinic import patients
    from ketadesk.clinic.codes import diagnosis_description

    values = patients.patient_values(patient)
    return {
        "mrn": patient.mrn, "name": patient.display_name, "active": patient.active,
        **values,
        "screening_flags": sorted(flag.value for flag in values["screening_flags"]),
        "diagnosis_descriptions": [diagnosis_description(code) for code in values["diagnoses"]],
        "policies": [_policy(p) for p in patient.policies],
        "created_at": patient.created_at, "updated_at": patient.updated_at,
    }


def _policy(policy: InsurancePolicy) -> dict[str, Any]:
    from ketadesk.clinic import policies

    return {"payer": policy.payer.name, "active": policy.active,
            **policies.policy_values(policy)}


def _record_text(data: dict[str, Any]) -> str:
    from ketadesk.clinic.patients import FIELD_LABELS

    status = "" if data["active"] else "  [inactive]"
    lines = [f"{data['name']}  MRN {data['mrn']}{status}"]
    for field, label in FIELD_LABELS.items():
        if field != "diagnoses":
            lines.append(f"  {label + ':':<26} {_shown(field, data[field])}")
    lines.append("Diagnoses:")
    described = zip(data["diagnoses"], data["diagnosis_descriptions"], strict=True)
    lines += [f"  {n}. {code:<8} {words}".rstrip()
              for n, (code, words) in enumerate(described, start=1)] or ["  none"]
    lines.append("Insurance:")
    lines += [_policy_text(p) for p in data["policies"]] or ["  none (self-pay)"]
    return "\n".join(lines)


def _shown(field: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "-"
    if field.endswith("phone"):
        return _phone(value)
    if field == "sex":
        return str(value.label)
    if field == "screening_flags":
        return ", ".join(flag.replace("_", " ") for flag in value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _policy_text(p: dict[str, Any]) -> str:
    state = "" if p["active"] else " (ended)"
    text = (f"  {p['rank'].value:<9} {p['payer']}, member {p['member_id']}"
            f"{', group ' + p['group_number'] if p['group_number'] else ''}, "
            f"from {p['effective_from'].isoformat()}"
            f"{' to ' + p['effective_to'].isoformat() if p['effective_to'] else ''}{state}")
    if p["prior_auth_number"]:
        window = " ".join(d.isoformat() for d in (p["auth_from"], p["auth_to"]) if d)
        text += (f"\n            prior auth {p['prior_auth_number']}: "
                 f"{p['sessions_authorized']} sessions {window}").rstrip()
    if p["subscriber_name"]:
        text += (f"\n            subscriber {p['subscriber_name']} "
                 f"({p['relationship_to_subscriber'].value})")
    return text


# --------------------------------------------------------------------------------------
# import
# --------------------------------------------------------------------------------------


def import_csv(args: argparse.Namespace) -> int:
    from ketadesk.clinic import patient_import

    progress = common.Progress()
    with common.opened(args) as db:  # checked first; written in one short transaction
        report = patient_import.import_file(
            db, common.actor(args), args.file, skip_invalid=args.skip_invalid,
            dry_run=args.dry_run, progress=progress,
        )
    if progress.live:
        progress.finish(f"Read {report.read} rows")
    common.emit(args, _report_data(report), lambda: _report_text(report))
    if report.stopped:
        common.print_error(_stopped_line(report))
        return IMPORT_EXIT_STOPPED
    return 0


def _report_data(report: ImportReport) -> dict[str, Any]:
    return {
        "read": report.read, "imported": report.imported, "skipped": report.skipped,
        "dry_run": report.dry_run, "stopped": report.stopped, "mrns": list(report.mrns),
        "problems": [{"line": p.line, "field": p.field, "message": p.message}
                     for p in report.problems],
    }


def _report_text(report: ImportReport) -> str:
    lines = [str(problem) for problem in report.problems]
    if report.stopped and not report.read:
        lines.append("Nothing was imported.")
    elif report.stopped:
        lines.append(f"{report.read} rows read; {report.rows_with_problems} with problems; "
                     "nothing was imported.")
    elif report.dry_run:
        lines.append(f"Dry run: {report.read} rows read; {report.imported} would be imported, "
                     f"{report.skipped} skipped; nothing was written.")
    else:
        lines.append(f"{report.read} rows read; {report.imported} patients imported"
                     f"{_mrn_range(report.mrns)}, {report.skipped} skipped.")
    return "\n".join(lines)


def _mrn_range(mrns: tuple[str, ...]) -> str:
    if not mrns:
        return ""
    return f" (MRN {mrns[0]})" if len(mrns) == 1 else f" (MRN {mrns[0]} to {mrns[-1]})"


def _stopped_line(report: ImportReport) -> str:
    if not report.read:
        return "the file cannot be imported; nothing was written"
    good = report.read - report.rows_with_problems
    hint = f"; --skip-invalid imports the {good} good rows" if good else ""
    return (f"{report.rows_with_problems} of {report.read} rows have problems; "
            f"nothing was imported{hint}")
