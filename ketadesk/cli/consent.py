"""``ketadesk consent``: where a patient's consents stand, record or withdraw one, print the
form, and read or edit the clinic's consent texts.

* ``consent --patient MRN [--json]`` — each treatment: valid until a day, expired, needs
  re-signing for version N, withdrawn or missing, on today at the patient's location;
* ``consent record --patient MRN --treatment KEY --signed DATE --signer NAME
  [--guardian RELATIONSHIP] --witness NAME``;
* ``consent withdraw --patient MRN --treatment KEY [--on DATE] [--reason TEXT]``;
* ``consent pdf --patient MRN [--treatment KEY] -o FILE`` — the form to sign (the current
  series' treatment when no treatment is named);
* ``consent texts [--json]`` and ``consent texts edit KEY --file F [--material]
  [--valid-months N] [--effective DATE]`` — a new version of a text, never an edit.

Every action goes through the services of :mod:`ketadesk.clinic.consent` as the
command-line actor; bad input is one line and exit 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketadesk.cli import common

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ketadesk.access.permissions import Actor
    from ketadesk.clinic.consent.models import ConsentText, SignedConsent
    from ketadesk.clinic.consent.validity import ConsentState
    from ketadesk.clinic.models import Location, Patient

OPTIONS = {
    "patient": "--patient", "treatment": "--treatment", "signed": "--signed",
    "signed_on": "--signed", "signer": "--signer", "guardian": "--guardian",
    "witness": "--witness", "output": "-o", "location": "--location", "on": "--on",
    "reason": "--reason", "file": "--file", "valid_months": "--valid-months",
    "effective": "--effective", "text": "--file",
}
EXAMPLES = """\
  ketadesk consent --patient 100001
  ketadesk consent record --patient 100001 --treatment iv_ketamine --signed today \\
      --signer "Zoë Łukasiewicz" --witness "Kim Park, RN"
  ketadesk consent withdraw --patient 100001 --treatment iv_ketamine
  ketadesk consent pdf --patient 100001 -o consent.pdf
  ketadesk consent texts --json
  ketadesk consent texts edit kap --file kap.txt --material"""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "consent",
        help="a patient's consents; record, withdraw, print the form; the consent texts",
        description="Where a patient's consents stand for each treatment, and the actions "
        "around them.\nTreatments: iv_ketamine, im_ketamine, esketamine, kap, "
        "rems_enrolment.",
        epilog="examples:\n" + EXAMPLES,
        formatter_class=common.HelpFormatter,
    )
    common.add_db_option(parser)
    common.add_json_option(parser)
    parser.add_argument("--patient", metavar="MRN", help="the patient whose consents to show")
    parser.add_argument("--location", metavar="CODE", help="whose today (default: the "
                        "patient's home location)")
    parser.set_defaults(func=show, options=OPTIONS)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions")
    _register_record(actions)
    _register_withdraw(actions)
    _register_pdf(actions)
    _register_texts(actions)


def _patient_options(parser: argparse.ArgumentParser, *, treatment: bool = True) -> None:
    parser.add_argument("--patient", metavar="MRN", required=True, help="the patient")
    if treatment:
        parser.add_argument("--treatment", metavar="KEY", required=True, help="the treatment")
    parser.add_argument("--location", metavar="CODE", help="whose today (default: the "
                        "patient's home location)")


def _register_record(actions: Any) -> None:
    record = common.command_parser(
        actions, "record", summary="record a signed consent form",
        description="Record the form for a treatment as signed on a day, by the patient or "
        "(with --guardian)\nby a guardian, before a witness. The version signed is the one "
        "in effect that day.",
        examples='  ketadesk consent record --patient 100001 --treatment kap --signed '
        '2026-12-07 --signer "Ana Ruiz" --guardian mother --witness "Kim Park"',
        json_output=True,
    )
    _patient_options(record)
    record.add_argument("--signed", metavar="DATE", required=True, help="the day signed")
    record.add_argument("--signer", metavar="NAME", required=True, help="who signed")
    record.add_argument("--guardian", metavar="RELATIONSHIP", default="",
                        help="the signer is the patient's guardian: their relationship")
    record.add_argument("--witness", metavar="NAME", required=True, help="the witness")
    record.set_defaults(func=record_signed, options=OPTIONS)


def _register_withdraw(actions: Any) -> None:
    parser = common.command_parser(
        actions, "withdraw", summary="withdraw a treatment's consent",
        description="The patient withdraws consent (or a consent was recorded in error): "
        "from the day\ngiven (default today) it no longer holds, and check-in is refused.",
        examples="  ketadesk consent withdraw --patient 100001 --treatment esketamine",
        json_output=True,
    )
    _patient_options(parser)
    parser.add_argument("--on", metavar="DATE", default="today", help="from this day")
    parser.add_argument("--reason", metavar="TEXT", default="", help="why, in a few words")
    parser.set_defaults(func=withdraw, options=OPTIONS)


def _register_pdf(actions: Any) -> None:
    pdf = common.command_parser(
        actions, "pdf", summary="print the consent form to sign",
        description="The consent form to sign, with the clinic's letterhead and the text "
        "in effect today;\nwithout --treatment, the form for the patient's current series.",
        examples="  ketadesk consent pdf --patient 100001 -o consent.pdf\n"
        "  ketadesk consent pdf --patient 100001 --treatment rems_enrolment -o rems.pdf",
        json_output=True,
    )
    pdf.add_argument("--patient", metavar="MRN", required=True, help="the patient")
    pdf.add_argument("--treatment", metavar="KEY", help="the form (default: current series)")
    pdf.add_argument("--location", metavar="CODE", help="the letterhead (default: home)")
    pdf.add_argument("-o", "--output", dest="output", metavar="FILE", required=True,
                     help="the PDF file to write")
    pdf.set_defaults(func=print_form, options=OPTIONS)


def _register_texts(actions: Any) -> None:
    texts = common.command_parser(
        actions, "texts", summary="the clinic's consent texts and their versions",
        description="Every treatment's consent text: its versions, which changed it "
        "materially, and how\nlong a signature stays valid. 'texts edit' adds a version.",
        examples="  ketadesk consent texts\n  ketadesk consent texts edit iv_ketamine "
        "--file iv.txt --material --valid-months 12",
        json_output=True,
    )
    texts.set_defaults(func=list_texts, options=OPTIONS)
    edits = texts.add_subparsers(dest="texts_action", metavar="ACTION", title="actions")
    edit = common.command_parser(
        edits, "edit", summary="add a new version of a treatment's text from a file",
        description="Write the next version of a text from a UTF-8 file. --material says "
        "it changes the\nconsent materially: consents signed on older versions then need "
        "signing again\nfrom its effective day.",
        examples="  ketadesk consent texts edit kap --file kap.txt --material",
        json_output=True,
    )
    edit.add_argument("key", metavar="KEY", help="the treatment")
    edit.add_argument("--file", metavar="FILE", required=True, help="the new text")
    edit.add_argument("--title", metavar="TEXT", help="a new title (default: the current)")
    edit.add_argument("--material", action="store_true", help="a material change")
    edit.add_argument("--valid-months", dest="valid_months", metavar="N",
                      help="months a signature stays valid, or 'none' (default: as now)")
    edit.add_argument("--effective", metavar="DATE", default="today",
                      help="the day it takes effect")
    edit.set_defaults(func=edit_text, options=OPTIONS)


# --------------------------------------------------------------------------------------
# Showing
# --------------------------------------------------------------------------------------


def show(args: argparse.Namespace) -> int:
    from ketadesk.clinic.consent.records import consent_states
    from ketadesk.errors import ValidationError

    if not args.patient:
        raise ValidationError.single("patient", "say whose consents: --patient MRN")
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient, location = _patient_and_place(session, actor, args)
        today = common.clock_of(args).today_in(location.time_zone)
        states = consent_states(session, patient.id, today)
    data = {"mrn": patient.mrn, "patient": patient.display_name, "on": today,
            "consents": [state.as_dict() for state in states]}
    common.emit(args, data, lambda: _states_text(patient.display_name, patient.mrn, states))
    return 0


def _states_text(name: str, mrn: str, states: list[ConsentState]) -> str:
    rows = [(s.key.value, s.key.label, state_words(s)) for s in states]
    return f"Consents of {name} (MRN {mrn}):\n" + common.table(
        ["Key", "Treatment", "State"], rows
    )


def state_words(state: ConsentState) -> str:
    """"valid until 07 Dec 2027", "expired on …", "needs re-signing for version 3"…"""
    from ketadesk.clinic.consent.validity import ConsentStatus

    if state.status is ConsentStatus.VALID:
        return f"valid until {state.expires_on:%d %b %Y}" if state.expires_on else (
            "valid until withdrawn")
    if state.status is ConsentStatus.EXPIRED:
        return f"expired on {state.expires_on:%d %b %Y}"
    if state.status is ConsentStatus.NEW_VERSION:
        return f"needs re-signing for version {state.needs_version}"
    if state.status is ConsentStatus.WITHDRAWN:
        return "withdrawn"
    return "missing"


# --------------------------------------------------------------------------------------
# Recording and withdrawing
# --------------------------------------------------------------------------------------


def record_signed(args: argparse.Namespace) -> int:
    from ketadesk.clinic.consent import records, texts

    key = texts.parse_key(args.treatment)
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient, location = _patient_and_place(session, actor, args)
        clock = common.clock_of(args)
        signed_on = common.parse_day(args.signed, location.time_zone, clock, "signed")
        consent = records.record_consent(
            session, actor, patient.id, key, signed_on=signed_on, signer_name=args.signer,
            witness_name=args.witness, guardian_relationship=args.guardian,
            today=clock.today_in(location.time_zone),
        )
        data = _signed_data(consent, patient.mrn)
    common.emit(args, data, lambda: (
        f"Recorded the {key.label} consent of MRN {data['mrn']}, signed on "
        f"{signed_on:%d %b %Y} (version {data['version']})."))
    return 0


def _signed_data(consent: SignedConsent, mrn: str) -> dict[str, Any]:
    return {
        "id": consent.id, "mrn": mrn, "treatment": consent.key.value,
        "version": consent.text.version, "signed_on": consent.signed_on,
        "signer": consent.signer_name, "guardian": consent.guardian_relationship or None,
        "witness": consent.witness_name, "taken_by": consent.taken_by,
    }


def withdraw(args: argparse.Namespace) -> int:
    from ketadesk.clinic.consent import records, texts

    key = texts.parse_key(args.treatment)
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient, location = _patient_and_place(session, actor, args)
        day = common.parse_day(args.on, location.time_zone, common.clock_of(args), "on")
        made = records.withdraw_consent(
            session, actor, patient.id, key, withdrawn_on=day, reason=args.reason
        )
        data = {"mrn": patient.mrn, "treatment": key.value, "withdrawn_on": day,
                "consents": [row.consent_id for row in made]}
    common.emit(args, data, lambda: (
        f"Withdrew the {key.label} consent of MRN {data['mrn']} from {day:%d %b %Y}; "
        "check-in for that treatment is refused until a new form is signed."))
    return 0


# --------------------------------------------------------------------------------------
# The form
# --------------------------------------------------------------------------------------


def print_form(args: argparse.Namespace) -> int:
    from ketadesk.cli.billing_common import write_pdf
    from ketadesk.clinic.consent import texts
    from ketadesk.documents.consent import consent_form, render_consent_form
    from ketadesk.errors import NotFound, ValidationError

    key = texts.parse_key(args.treatment) if args.treatment else None
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        patient, location = _patient_and_place(session, actor, args)
        today = common.clock_of(args).today_in(location.time_zone)
        try:
            view = consent_form(session, actor, patient, location, key, today=today)
        except NotFound as error:
            raise ValidationError.single("treatment", str(error)) from None
    path = write_pdf(render_consent_form(view), Path(args.output))
    data = {"mrn": view.patient.mrn, "treatment": view.key.value, "version": view.version,
            "file": str(path)}
    common.emit(args, data, lambda: (
        f"Wrote the {view.key.label} consent form (version {view.version}) for "
        f"{view.patient.name} to {path}."))
    return 0


# --------------------------------------------------------------------------------------
# The texts
# --------------------------------------------------------------------------------------


def list_texts(args: argparse.Namespace) -> int:
    from ketadesk.clinic.consent.texts import all_versions

    with common.opened(args) as db, db.reading() as session:
        versions = all_versions(session)
        data = [_text_data(v) for v in versions]
    common.emit(args, data, lambda: _texts_text(data))
    return 0


def _text_data(text: ConsentText) -> dict[str, Any]:
    from ketadesk.clinic.consent import texts

    return {
        "treatment": text.key.value, "label": text.key.label, "version": text.version,
        "title": text.title, "material": text.material, "valid_months": text.valid_months,
        "effective_on": text.effective_on, "shipped": texts.chosen_effective_on(text) is None,
        "edited_by": text.edited_by,
        "edited_at": text.created_at, "characters": len(text.body),
    }


def _texts_text(data: list[dict[str, Any]]) -> str:
    if not data:
        return "No consent texts yet; 'ketadesk init' writes the shipped ones."
    rows = [
        (d["treatment"], d["version"], "material" if d["material"] else "minor",
         "the start" if d["shipped"] else f"{d['effective_on']:%d %b %Y}",
         f"{d['valid_months']} months" if d["valid_months"] else "until withdrawn",
         d["edited_by"], d["title"])
        for d in data
    ]
    return common.table(
        ["Key", "Version", "Change", "From", "Signature valid", "By", "Title"], rows
    )


def edit_text(args: argparse.Namespace) -> int:
    from ketadesk.clinic.consent import texts

    key = texts.parse_key(args.key)
    body = _read_text(Path(args.file))
    clock = common.clock_of(args)
    effective = common.parse_date(args.effective, "effective", clock=clock)
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        current = texts.latest_versions(session).get(key)
        months = _months(args.valid_months, current.valid_months if current else 12)
        row = texts.add_version(
            session, actor, key, body, material=args.material, effective_on=effective,
            valid_months=months, title=args.title,
        )
        data = _text_data(row)
    common.emit(args, data, lambda: (
        f"Wrote version {data['version']} of the {key.label} consent text "
        f"({'a material change' if data['material'] else 'not a material change'}), "
        f"in effect from {effective:%d %b %Y}."))
    return 0


def _read_text(path: Path) -> str:
    from ketadesk.errors import ValidationError

    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or common.one_line(error)
        raise ValidationError.single("file", f"cannot read {path}: {reason}") from None


def _months(raw: str | None, current: int | None) -> int | None:
    from ketadesk.errors import ValidationError

    if raw is None:
        return current
    cleaned = raw.strip().lower()
    if cleaned in ("none", "0", "never"):
        return None
    if not cleaned.isdigit():
        raise ValidationError.single("valid_months", f"{raw!r} is not a number of months")
    return int(cleaned)


# --------------------------------------------------------------------------------------
# Shared
# --------------------------------------------------------------------------------------


def _patient_and_place(
    session: Session, actor: Actor, args: argparse.Namespace
) -> tuple[Patient, Location]:
    """The patient, and the location whose today and letterhead apply (``--location``,
    else the home location, else the clinic's only one)."""
    patient = common.patient_by_mrn(session, actor, args.patient)
    code = getattr(args, "location", None)
    if code or patient.home_location is not None:
        return patient, common.home_or_chosen_location(session, patient, code)
    return patient, common.only_or_chosen_location(session, actor, None)
