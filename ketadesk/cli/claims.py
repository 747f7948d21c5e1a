"""``ketadesk claims``: insurance claims from the command line, for billing staff and scripts.

The cycle, one command a step, each calling the services of :mod:`ketadesk.billing.claims`
that the window's Billing → Claims calls too:

1. ``claims build`` groups the charges posted on an insurer's side that no claim carries yet
   into claims, one per patient, payer and date of service
   (:func:`~ketadesk.billing.claims.building.build_claims`); each is checked at once, so it
   is *ready* or a *draft* with its problems;
2. ``claims list``, ``claims show`` and ``claims followup`` read
   (:mod:`~ketadesk.billing.claims.views`, :mod:`~ketadesk.billing.claims.followup`);
3. ``claims scrub`` checks drafts and ready claims again after the chart or the payer was
   fixed (:func:`~ketadesk.billing.claims.scrubber.scrub`);
4. ``claims export`` sends a payer's ready claims as one validated 837P file
   (:func:`~ketadesk.billing.claims.export.export_batch`), or ``claims cms1500`` prints one
   on the paper form (:func:`~ketadesk.billing.claims.forms.claim_form`, then
   :func:`~ketadesk.documents.cms1500.render_cms1500`);
5. ``claims import-835`` reads the payer's answer before the database is opened
   (:func:`~ketadesk.billing.claims.remittance.read_file`: a file that cannot be read or is
   not an 835 changes nothing), prints the preview of every claim payment, and unless
   ``--dry-run`` posts them all in one transaction
   (:func:`~ketadesk.billing.claims.remittance.import_835`); a file imported before posts
   nothing again.

A claim is named by its number (``CL-2026-00042``, any case) or its numeric id; a payer by
its name (any case) or its EDI payer id. Each command is one transaction: one that refuses
(an unknown claim or payer, a claim that is no longer a draft) changes nothing and prints
one ``ketadesk: error:`` line naming the option. ``--json`` gives scripts the same rows.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketadesk.cli import billing_common as bc
from ketadesk.cli import common
from ketadesk.errors import InvalidValue, NotFound, ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ketadesk.billing.claims.followup import FollowUp
    from ketadesk.billing.claims.models import Claim
    from ketadesk.billing.claims.remittance import ClaimPlan, ImportOutcome, PostResult, RemitPlan
    from ketadesk.billing.claims.views import ClaimDetail, ClaimRow, EventView, RemitView
    from ketadesk.clinic.models import Payer

OPTIONS = {
    "offset_x": "--offset-x",
    "offset_y": "--offset-y",
    "claim": "ID",
    "claim_id": "ID",
    "ids": "ID",
    "payer": "--payer",
    "payer_id": "--payer",
    "status": "--status",
    "through": "--through",
    "output": "--output",
    "mode": "--mode",
    "out": "--out",
    "file": "FILE",
}
STATUSES = (
    "draft",
    "ready",
    "submitted",
    "accepted",
    "rejected",
    "paid",
    "partly_paid",
    "denied",
    "appealed",
    "closed",
)
FORM_MODES = ("full", "print")
CHECKABLE = ("draft", "ready")  # the scrubber checks claims not yet sent
GROUP_EXAMPLES = """\
  ketadesk claims build --through 2026-12-31
  ketadesk claims list --status ready --payer aetna
  ketadesk claims show CL-2026-00042
  ketadesk claims scrub
  ketadesk claims followup --json
"""


def register(commands: Any) -> None:
    actions = common.command_group(
        commands,
        "claims",
        summary="build, check, list and follow insurance claims",
        description="Insurance claims: build them from the charges billed to insurers, "
        "check them for\nwhat a payer would reject, list and show them, and follow up "
        "what is unsent,\nunanswered or denied.",
        examples=GROUP_EXAMPLES,
    )
    _register_build(actions)
    _register_list(actions)
    _register_show(actions)
    _register_scrub(actions)
    _register_export(actions)
    _register_import(actions)
    _register_cms1500(actions)
    _register_alignment(actions)
    _register_followup(actions)


def _register_build(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "build",
        summary="build claims from the charges billed to insurers",
        description="Build one claim per patient, payer and date of service from the "
        "charges posted on\nan insurer's side that no claim carries yet. Each claim is "
        "checked at once: with\nno problems it is ready to send, otherwise a draft with "
        "its problems listed.",
        examples="""\
  ketadesk claims build
  ketadesk claims build --through 2026-12-31 --json""",
        json_output=True,
    )
    parser.add_argument("--through", metavar="DATE", help="only services up to this day")
    parser.set_defaults(func=build_command, options=OPTIONS)


def _register_list(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "list",
        summary="list claims, newest service first",
        description="List claims with their payer, status, what was billed and what is "
        "still open,\nthe timely-filing date and how many problems each has.",
        examples="""\
  ketadesk claims list
  ketadesk claims list --status denied --payer Aetna
  ketadesk claims list --payer 60054 --json""",
        json_output=True,
    )
    parser.add_argument(
        "--status",
        choices=STATUSES,
        metavar="S",
        help=f"only claims in this status ({', '.join(STATUSES)})",
    )
    parser.add_argument(
        "--payer", metavar="P", help="only this payer's claims: its name or EDI payer id"
    )
    parser.set_defaults(func=list_command, options=OPTIONS)


def _register_show(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "show",
        summary="one claim: lines, problems, history, the payer's answers, money",
        description="Show one claim: who and what it bills, its lines, its problems (one "
        "per line with\nthe field), its history, the payer's answers and where its money "
        "went.",
        examples="""\
  ketadesk claims show CL-2026-00042
  ketadesk claims show 42 --json""",
        json_output=True,
    )
    parser.add_argument("claim", metavar="ID", help="the claim number (CL-2026-00042) or id")
    parser.set_defaults(func=show_command, options=OPTIONS)


def _register_scrub(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "scrub",
        summary="check claims not yet sent for what a payer would reject",
        description="Check claims again (after the chart, the policy or the payer was "
        "fixed): a draft\nwith no problems left becomes ready, a ready claim with a new "
        "problem goes back\nto draft. Without ID, every draft and ready claim is checked.",
        examples="""\
  ketadesk claims scrub
  ketadesk claims scrub CL-2026-00042 CL-2026-00043 --json""",
        json_output=True,
    )
    parser.add_argument(
        "ids", metavar="ID", nargs="*", help="the claims to check (number or id); default: all"
    )
    parser.set_defaults(func=scrub_command, options=OPTIONS)


def _register_followup(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "followup",
        summary="the follow-up worklist, most urgent first",
        description="What billing must chase, by deadline: claims unsent or rejected "
        "(counting down to\ntimely filing), sent with no answer for a month, denied (with "
        "the reason in words\nand the appeal deadline), appealed, and payer payments "
        "that could not be posted.",
        examples="""\
  ketadesk claims followup
  ketadesk claims followup --json""",
        json_output=True,
    )
    parser.set_defaults(func=followup_command, options=OPTIONS)


def _register_export(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "export",
        summary="send every ready claim for a payer as one 837P file",
        description="Check the payer's ready claims again, write them as one X12 837P "
        "file (a numbered\nbatch), validate it against the implementation guide and mark "
        "the claims\nsubmitted. A claim that gained a problem is held back; a file the "
        "guide refuses is\nnot written and nothing is marked sent. The file is readable "
        "by you only.",
        examples="""\
  ketadesk claims export --payer Aetna --out aetna-2026-12-07.837
  ketadesk claims export --payer 60054 --out aetna.837 --json""",
        json_output=True,
    )
    parser.add_argument(
        "--payer", metavar="P", required=True, help="the payer: its name or EDI payer id"
    )
    parser.add_argument("--out", metavar="FILE", required=True, help="the 837P file to write")
    parser.set_defaults(func=export_command, options=OPTIONS)


def _register_import(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "import-835",
        summary="post a payer's 835 remittance, after showing what it will do",
        description="Read an X12 835 remittance and show, per claim payment, what it will "
        "post (the\npayer's payment, contractual write-downs, the patient's share, "
        "denials) and what\nwaits for a person; then post it all in one transaction. "
        "With --dry-run nothing\nis posted. A file imported before posts nothing again.",
        examples="""\
  ketadesk claims import-835 era-2026-12-20.835 --dry-run
  ketadesk claims import-835 era-2026-12-20.835 --json""",
        json_output=True,
    )
    parser.add_argument("file", metavar="FILE", help="the 835 file")
    parser.add_argument("--dry-run", action="store_true", help="show what would post; post nothing")
    parser.set_defaults(func=import_command, options=OPTIONS)


def _register_cms1500(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "cms1500",
        summary="print a claim on the CMS-1500 (02/12) paper form, to a PDF file",
        description="Write a claim as a CMS-1500 (02/12) PDF, six service lines a page. "
        "'full' (the\ndefault) draws the form itself; 'print' puts only the data on the "
        "page, to feed\nthe red pre-printed form through a printer.",
        examples="""\
  ketadesk claims cms1500 CL-2026-00042 -o claim.pdf
  ketadesk claims cms1500 42 -o claim.pdf --mode print""",
    )
    parser.add_argument("claim", metavar="ID", help="the claim number (CL-2026-00042) or id")
    parser.add_argument(
        "-o", "--output", metavar="FILE", required=True, help="the PDF file to write"
    )
    parser.add_argument(
        "--mode",
        choices=FORM_MODES,
        default="full",
        help="full: the form drawn with the data; print: the data alone, for the red form",
    )
    _offset_options(parser)
    parser.set_defaults(func=cms1500_command, options=OPTIONS)


def _offset_options(parser: argparse.ArgumentParser) -> None:
    """``--offset-x/-y MM``: where this printer puts the data on the red form."""
    for axis, way in (("x", "right (negative: left)"), ("y", "down (negative: up)")):
        parser.add_argument(
            f"--offset-{axis}",
            metavar="MM",
            default="0",
            help=f"move the data {way} by this many millimetres, up to 25, for this printer",
        )


def _register_alignment(actions: Any) -> None:
    parser = common.command_parser(
        actions,
        "alignment",
        summary="the CMS-1500 alignment test page, to set a printer's offsets",
        description="Write the alignment test page: print it on a red CMS-1500 form, see where "
        "the marks\nland, and give the printer's offsets to 'claims cms1500 --mode print'.",
        examples="""\
  ketadesk claims alignment -o align.pdf
  ketadesk claims alignment -o align.pdf --offset-x 1.5 --offset-y -2""",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", required=True, help="the PDF file to write"
    )
    _offset_options(parser)
    parser.set_defaults(func=alignment_command, options=OPTIONS)


def _offsets(args: argparse.Namespace) -> tuple[float, float]:
    """The printer offsets as typed (``1,5`` too), refused in words when not a distance."""
    from ketadesk.documents.cms1500 import millimetres

    found = []
    for field, text in (("offset_x", args.offset_x), ("offset_y", args.offset_y)):
        try:
            found.append(millimetres(text))
        except InvalidValue as error:
            raise ValidationError.single(field, str(error)) from None
    return found[0], found[1]


def alignment_command(args: argparse.Namespace) -> int:
    from ketadesk.documents.cms1500 import alignment_page

    x, y = _offsets(args)
    path = bc.write_pdf(alignment_page(x, y), Path(args.output))
    print(f"CMS-1500 alignment page (offsets {x:+g} mm right, {y:+g} mm down) written to {path}")
    return 0


# --------------------------------------------------------------------------------------
# Look-ups: a claim by number or id, a payer by name or EDI id
# --------------------------------------------------------------------------------------


def claim_by_ref(session: Session, text: str, field: str = "claim") -> Claim:
    """The claim numbered ``text`` (any case) or with id ``text``; else an error on ``field``."""
    from sqlalchemy import select

    from ketadesk.billing.claims.models import Claim

    ref = text.strip()
    if ref.isdigit():
        claim = session.get(Claim, int(ref))
    else:
        claim = session.scalar(select(Claim).where(Claim.number == ref.upper()))
    if claim is None:
        raise ValidationError.single(
            field, f"there is no claim {ref!r}; give a number like CL-2026-00042 or an id"
        )
    return claim


def payer_by_ref(session: Session, text: str, field: str = "payer") -> Payer:
    """The payer named ``text`` (ignoring case), else the one with that EDI payer id."""
    from sqlalchemy import func, select

    from ketadesk.clinic.models import Payer
    from ketadesk.clinic.payers import get_payer_by_name

    try:
        return get_payer_by_name(session, text)
    except NotFound:
        pass
    ref = text.strip()
    found = session.scalars(
        select(Payer).where(func.upper(Payer.edi_payer_id) == ref.upper()).order_by(Payer.name)
    ).all()
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(p.name for p in found)
        raise ValidationError.single(
            field, f"EDI payer id {ref} is shared by {names}; name the payer instead"
        )
    raise ValidationError.single(field, f"there is no payer named or with EDI payer id {ref!r}")


# --------------------------------------------------------------------------------------
# The commands
# --------------------------------------------------------------------------------------


def build_command(args: argparse.Namespace) -> int:
    from ketadesk.billing.claims.building import build_claims
    from ketadesk.billing.claims.status import load_claims

    clock = common.clock_of(args)
    through = bc.parse_date(args.through, "through", clock) if args.through else None
    progress = common.Progress()
    with common.opened(args) as db, db.transaction(job=True) as session:
        actor = common.actor(args)
        result = build_claims(
            session, actor, today=clock.today(), through=through, progress=progress
        )
        built = [claim_data(c) for c in load_claims(session, result.claim_ids)]
    if progress.live:
        progress.finish(f"Built {counted(len(built), 'claim')}")
    data = {
        "built": len(built),
        "ready": result.ready,
        "with_problems": result.with_problems,
        "claims": built,
    }
    common.emit(args, data, lambda: built_text(result.sentence, built))
    return 0


def list_command(args: argparse.Namespace) -> int:
    from ketadesk.billing.claims.models import ClaimStatus
    from ketadesk.billing.claims.views import list_claims

    with common.opened(args) as db, db.reading() as session:
        actor = common.actor(args)
        payer = payer_by_ref(session, args.payer) if args.payer else None
        rows = list_claims(
            session,
            actor,
            status=ClaimStatus(args.status) if args.status else None,
            payer_id=payer.id if payer else None,
        )
    common.emit(args, [row_data(r) for r in rows], lambda: list_text(rows))
    return 0


def show_command(args: argparse.Namespace) -> int:
    from ketadesk.billing.claims.views import claim_detail

    with common.opened(args) as db, db.reading() as session:
        actor = common.actor(args)
        detail = claim_detail(session, actor, claim_by_ref(session, args.claim).id)
    common.emit(args, detail_data(detail), lambda: detail_text(detail))
    return 0


def scrub_command(args: argparse.Namespace) -> int:
    from ketadesk.billing.claims.scrubber import scrub

    today = common.clock_of(args).today()
    with common.opened(args) as db, db.transaction() as session:
        actor = common.actor(args)
        claims, ready = scrub(
            session, actor, today=today, claim_ids=_claims_to_check(session, args.ids)
        )
        checked = [claim_data(c) for c in claims]
    data = {"checked": len(checked), "ready": ready, "claims": checked}
    common.emit(args, data, lambda: scrubbed_text(checked, ready))
    return 0


def _claims_to_check(session: Session, refs: Sequence[str]) -> list[int] | None:
    """The ids of the claims named (each must still be a draft or ready); ``None``: all."""
    if not refs:
        return None
    named = [claim_by_ref(session, ref, "ids") for ref in refs]
    sent = [c for c in named if c.status.value not in CHECKABLE]
    if sent:
        raise ValidationError.single(
            "ids",
            "; ".join(f"{c.number} is {c.status.label.lower()}" for c in sent)
            + ": only drafts and ready claims are checked (a sent claim is corrected with a "
            "replacement claim)",
        )
    return list(dict.fromkeys(c.id for c in named))


def followup_command(args: argparse.Namespace) -> int:
    from ketadesk.billing.claims.followup import worklist

    today = common.clock_of(args).today()
    with common.opened(args) as db, db.reading() as session:
        actor = common.actor(args)
        items = worklist(session, actor, today=today)
    common.emit(args, [followup_data(i) for i in items], lambda: followup_text(items))
    return 0


def export_command(args: argparse.Namespace) -> int:
    from ketadesk.billing.claims.export import export_batch

    clock = common.clock_of(args)
    out = Path(args.out)
    progress = common.Progress()
    with common.opened(args) as db, db.transaction(job=True) as session:
        actor = common.actor(args)
        payer = payer_by_ref(session, args.payer)
        result = export_batch(
            session,
            actor,
            payer.id,
            today=clock.today(),
            now=clock.now(),
            out=out,
            progress=progress,
        )
        numbers = _claim_numbers(session, result.claim_ids)
    if progress.live:
        progress.finish(f"Exported {counted(len(numbers), 'claim')}")
    data = {
        "batch_id": result.batch_id,
        "payer": result.payer_name,
        "claims": numbers,
        "total": result.total,
        "file": str(out),
        "held_back": result.held_back,
    }
    common.emit(args, data, lambda: exported_text(result.sentence, result.held_back))
    return 0


def _claim_numbers(session: Session, ids: Sequence[int]) -> list[str]:
    from sqlalchemy import select

    from ketadesk.billing.claims.models import Claim

    return list(session.scalars(select(Claim.number).where(Claim.id.in_(ids)).order_by(Claim.id)))


def import_command(args: argparse.Namespace) -> int:
    from ketadesk.billing.claims.remittance import import_835, read_file

    remit_file = read_file(Path(args.file))  # before the database: a bad file changes nothing
    with common.opened(args) as db:
        actor = common.actor(args)
        if args.dry_run:
            with db.reading() as session:
                outcome = import_835(session, actor, remit_file, dry_run=True)
        else:
            with db.transaction(job=True) as session:
                outcome = import_835(session, actor, remit_file)
    data = imported_data(remit_file.name, args.dry_run, outcome)
    common.emit(args, data, lambda: imported_text(remit_file.name, args.dry_run, outcome))
    return 0


def cms1500_command(args: argparse.Namespace) -> int:
    from ketadesk.billing.claims.forms import printed_claim
    from ketadesk.documents.cms1500 import LINES_PER_PAGE, render_cms1500

    x, y = _offsets(args)
    with common.opened(args) as db, db.transaction() as session:  # the read is audited
        claim_id = claim_by_ref(session, args.claim).id
        form = printed_claim(session, common.actor(args), claim_id)
    pdf = render_cms1500([form], mode=args.mode, offset_x_mm=x, offset_y_mm=y)
    path = bc.write_pdf(pdf, Path(args.output))
    pages = -(-len(form.lines) // LINES_PER_PAGE)
    print(
        f"CMS-1500 of claim {form.claim_number} ({counted(len(form.lines), 'line')}, "
        f"{counted(pages, 'page')}, {args.mode} form) written to {path}"
    )
    return 0


# --------------------------------------------------------------------------------------
# Output: data for --json
# --------------------------------------------------------------------------------------


def problem_data(sentence: str) -> dict[str, str]:
    """A stored problem (``"field: message"``) as its field and its message."""
    field, _, message = sentence.partition(": ")
    return {"field": field, "message": message} if message else {"field": "", "message": field}


def claim_problems(claim: Claim) -> list[str]:
    return [p for p in claim.problems.splitlines() if p.strip()]


def claim_data(claim: Claim) -> dict[str, Any]:
    """A claim just built or checked: who, what, its status and its problems."""
    return {
        "id": claim.id,
        "number": claim.number,
        "patient": claim.patient.display_name,
        "mrn": claim.patient.mrn,
        "payer": claim.payer.name,
        "service_date": claim.service_from,
        "status": claim.status,
        "billed": claim.billed,
        "problems": [problem_data(p) for p in claim_problems(claim)],
    }


def row_data(row: ClaimRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number,
        "patient": row.patient_name,
        "mrn": row.mrn,
        "payer": row.payer_name,
        "rank": row.rank,
        "service_date": row.service_from,
        "status": row.status,
        "billed": row.billed,
        "open": row.open,
        "filing_deadline": row.filing_deadline,
        "problems": row.problem_count,
    }


def detail_data(d: ClaimDetail) -> dict[str, Any]:
    return {
        "id": d.id,
        "number": d.number,
        "status": d.status,
        "frequency": d.frequency,
        "replaces": d.replaces,
        "patient": d.patient_name,
        "mrn": d.mrn,
        "payer": d.payer_name,
        "rank": d.rank,
        "member_id": d.member_id,
        "service_from": d.service_from,
        "service_to": d.service_to,
        "diagnoses": d.diagnoses,
        "prior_auth_number": d.prior_auth_number,
        "note": d.note,
        "payer_claim_number": d.payer_claim_number,
        "filing_deadline": d.filing_deadline,
        "appeal_deadline": d.appeal_deadline,
        "submitted_on": d.submitted_on,
        "money": {
            "billed": d.money.billed,
            "paid": d.money.paid,
            "adjusted": d.money.adjusted,
            "to_patient": d.money.to_patient,
            "to_other_payer": d.money.to_other_payer,
            "open": d.money.open,
        },
        "lines": [
            {
                "position": line.position,
                "service_date": line.service_date,
                "code": line.code,
                "modifiers": line.modifiers,
                "units": line.units,
                "billed": line.billed,
                "pointers": line.pointers,
                "ndc": line.ndc,
                "note": line.note,
                "description": line.description,
            }
            for line in d.lines
        ],
        "problems": [problem_data(p) for p in d.problems],
        "history": [
            {
                "at": e.at,
                "actor": e.actor,
                "from": e.from_status,
                "to": e.to_status,
                "reason": e.reason,
            }
            for e in d.history
        ],
        "remits": [_remit_data(r) for r in d.remits],
    }


def _remit_data(r: RemitView) -> dict[str, Any]:
    return {
        "paid_on": r.paid_on,
        "source": r.source,
        "trace_number": r.trace_number,
        "status_code": r.status_code,
        "paid": r.paid,
        "patient_share": r.patient_share,
        "payer_claim_number": r.payer_claim_number,
        "adjustments": r.adjustments,
        "lines": [
            {
                "code": line.code,
                "billed": line.billed,
                "paid": line.paid,
                "adjustments": line.adjustments,
                "remarks": line.remarks,
            }
            for line in r.lines
        ],
    }


def followup_data(item: FollowUp) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "claim_id": item.claim_id,
        "number": item.number,
        "patient": item.patient_name,
        "payer": item.payer_name,
        "amount": item.amount,
        "due": item.due,
        "days_left": item.days_left,
        "words": item.words,
    }


def plan_data(p: ClaimPlan) -> dict[str, Any]:
    """One claim payment of an 835 and what posting it does."""
    return {
        "claim_number": p.claim_number,
        "claim_id": p.claim_id,
        "patient": p.patient_name or p.payment.patient_name,
        "billed": p.payment.billed,
        "paid": p.payment.paid,
        "adjusted": p.total("adjusted"),
        "patient_share": p.total("patient_share"),
        "held": p.total("held"),
        "outcome": p.outcome,
        "postable": p.postable,
        "problems": p.problems,
        "denials": p.denial_reasons,
    }


def imported_data(name: str, dry_run: bool, outcome: ImportOutcome) -> dict[str, Any]:
    results: list[PostResult | None] = [*outcome.results]
    results += [None] * (len(outcome.plans) - len(results))
    return {
        "file": name,
        "dry_run": dry_run,
        "remittances": [
            {
                "payer": plan.remittance.payer_name,
                "trace_number": plan.remittance.trace_number,
                "paid_on": plan.remittance.paid_on,
                "total_paid": plan.remittance.total_paid,
                "already_imported": plan.already_imported,
                "problems": plan.problems,
                "posts": plan.posts,
                "claims": [plan_data(c) for c in plan.claims],
                "result": None if result is None else _result_data(result),
            }
            for plan, result in zip(outcome.plans, results, strict=True)
        ],
    }


def _result_data(result: PostResult) -> dict[str, Any]:
    return {
        "posted_claims": result.posted_claims,
        "waiting_claims": result.waiting_claims,
        "paid": result.paid,
        "patient_share": result.patient_share,
        "already_imported": result.already_imported,
        "sentence": result.sentence,
    }


# --------------------------------------------------------------------------------------
# Output: text for people
# --------------------------------------------------------------------------------------


def counted(count: int, word: str, many: str | None = None) -> str:
    """``counted(1200, "claim")`` → ``1,200 claims``."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def _status_words(status: object) -> str:
    return str(getattr(status, "label", status)).lower()


def claims_with_problems_text(claims: Sequence[dict[str, Any]]) -> list[str]:
    """Each claim that has problems, then its problems one per line with their field."""
    lines: list[str] = []
    for c in claims:
        if not c["problems"]:
            continue
        lines += [
            "",
            f"{c['number']}  {c['patient']} (MRN {c['mrn']})  {c['payer']}  "
            f"{c['service_date']:%Y-%m-%d}  {_status_words(c['status'])}",
        ]
        lines += [f"  {_problem_line(p)}" for p in c["problems"]]
    return lines


def _problem_line(problem: dict[str, str]) -> str:
    return f"{problem['field']}: {problem['message']}" if problem["field"] else problem["message"]


def _claims_table(claims: Sequence[dict[str, Any]]) -> str:
    return common.table(
        ["Claim", "Date", "Patient", "MRN", "Payer", "Status", "Billed", "Problems"],
        [
            [
                c["number"],
                f"{c['service_date']:%Y-%m-%d}",
                c["patient"],
                c["mrn"],
                c["payer"],
                _status_words(c["status"]),
                bc.dollars(c["billed"]),
                f"{len(c['problems']):,}",
            ]
            for c in claims
        ],
    )


def built_text(sentence: str, built: Sequence[dict[str, Any]]) -> str:
    if not built:
        return sentence
    lines = [sentence, "", _claims_table(built), *claims_with_problems_text(built)]
    if any(c["problems"] for c in built):
        lines += ["", "Fix these, then check again with 'ketadesk claims scrub'."]
    return "\n".join(lines)


def scrubbed_text(checked: Sequence[dict[str, Any]], ready: int) -> str:
    if not checked:
        return "No drafts or ready claims to check."
    with_problems = len(checked) - ready
    head = (
        f"Checked {counted(len(checked), 'claim')}: {ready:,} ready to send, "
        f"{with_problems:,} with problems to fix."
    )
    return "\n".join([head, *claims_with_problems_text(checked)])


def exported_text(sentence: str, held_back: Sequence[str]) -> str:
    if not held_back:
        return sentence
    return (
        f"{sentence}\nHeld back, with problems to fix first: {', '.join(held_back)} "
        "(see 'ketadesk claims show')."
    )


def imported_text(name: str, dry_run: bool, outcome: ImportOutcome) -> str:
    """The preview of each payment in the file, then what was posted (or that nothing was)."""
    blocks = [_plan_text(plan, dry_run) for plan in outcome.plans]
    if dry_run:
        blocks.append(f"Dry run: nothing from {name} was posted.")
    else:
        blocks += [result.sentence for result in outcome.results]
    return "\n\n".join(blocks)


def _plan_text(plan: RemitPlan, dry_run: bool) -> str:
    r = plan.remittance
    head = (
        f"{r.payer_name} paid {bc.dollars(r.total_paid)} on {r.paid_on.isoformat()} "
        f"({r.method} {r.trace_number}) for {counted(len(plan.claims), 'claim')}."
    )
    if plan.already_imported:  # a real run says so in the result's sentence
        return (
            f"{head}\nThis remittance was imported before; it would post nothing again."
            if dry_run
            else head
        )
    if plan.problems:
        return f"{head}\nIt cannot be posted: " + "; ".join(plan.problems) + "."
    table = common.table(
        [
            "Claim",
            "Patient",
            "Billed",
            "Payer pays",
            "Adjusted",
            "Patient's share",
            "Held",
            "Becomes",
        ],
        [
            [
                c.claim_number,
                c.patient_name or c.payment.patient_name,
                bc.dollars(c.payment.billed),
                bc.dollars(c.payment.paid),
                bc.dollars(c.total("adjusted")),
                bc.dollars(c.total("patient_share")),
                bc.dollars(c.total("held")),
                c.outcome.label.lower() if c.outcome is not None else "waits",
            ]
            for c in plan.claims
        ],
    )
    lines = table.splitlines()
    out = [head, "", *lines[:2]]
    for line, claim in zip(lines[2:], plan.claims, strict=True):
        out += [line, *(f"    {words}" for words in claim.what_happens)]
    posted = [c for c in plan.claims if c.postable]
    out += [
        "",
        f"Posts {bc.dollars(plan.posts)} for {counted(len(posted), 'claim payment')}; "
        f"{counted(len(plan.waiting), 'payment waits', 'payments wait')} for a person.",
    ]
    return "\n".join(out)


def list_text(rows: Sequence[ClaimRow]) -> str:
    if not rows:
        return "No claims."
    table = common.table(
        [
            "Claim",
            "Date",
            "Patient",
            "MRN",
            "Payer",
            "Status",
            "Billed",
            "Open",
            "File by",
            "Problems",
        ],
        [
            [
                r.number,
                r.service_from.isoformat(),
                r.patient_name,
                r.mrn,
                r.payer_name if r.rank == "primary" else f"{r.payer_name} ({r.rank})",
                r.status.label.lower(),
                bc.dollars(r.billed),
                bc.dollars(r.open),
                r.filing_deadline.isoformat(),
                f"{r.problem_count:,}" if r.problem_count else "",
            ]
            for r in rows
        ],
    )
    by_status = Counter(r.status for r in rows)
    statuses = ", ".join(
        f"{count:,} {status.label.lower()}"
        for status, count in sorted(
            by_status.items(), key=lambda item: STATUSES.index(item[0].value)
        )
    )
    billed = sum((r.billed for r in rows), Decimal("0.00"))
    still_open = sum((r.open for r in rows), Decimal("0.00"))
    return (
        f"{table}\n\n{counted(len(rows), 'claim')} ({statuses}): {bc.dollars(billed)} billed, "
        f"{bc.dollars(still_open)} open."
    )


def _fields(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """``Label   value`` lines, the values aligned; pairs without a value left out."""
    shown = [(label, value) for label, value in pairs if value]
    width = max(len(label) for label, _ in shown)
    return [f"{label.ljust(width)}  {value}" for label, value in shown]


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def detail_text(d: ClaimDetail) -> str:
    kind = {"7": ", corrects", "8": ", voids"}.get(d.frequency, "")
    head = f"Claim {d.number}: {d.status.label.lower()}"
    if kind and d.replaces:
        head += f"{kind} {d.replaces}"
    service = d.service_from.isoformat()
    if d.service_to != d.service_from:
        service += f" to {d.service_to.isoformat()}"
    lines = [head, ""]
    lines += _fields(
        [
            ("Patient", f"{d.patient_name} (MRN {d.mrn})"),
            ("Payer", f"{d.payer_name} ({d.rank}), member id {d.member_id}"),
            ("Service", service),
            ("Diagnoses", ", ".join(d.diagnoses)),
            ("Prior auth", d.prior_auth_number),
            ("Note", d.note),
            ("Submitted", _day(d.submitted_on)),
            ("Payer's no.", d.payer_claim_number),
            ("File by", d.filing_deadline.isoformat()),
            ("Appeal by", _day(d.appeal_deadline)),
        ]
    )
    lines += ["", _lines_table(d), "", _money_line(d)]
    lines += _section(f"Problems ({len(d.problems):,})", d.problems)
    lines += _section("History", [_event_line(e) for e in d.history])
    lines += _section("The payer's answers", [x for r in d.remits for x in _remit_lines(r)])
    return "\n".join(lines)


def _section(title: str, entries: Sequence[str]) -> list[str]:
    return ["", title, *(f"  {entry}" for entry in entries)] if entries else []


def _lines_table(d: ClaimDetail) -> str:
    return common.table(
        ["#", "Date", "Code", "Units", "Billed", "Dx", "NDC", "Description"],
        [
            [
                str(line.position),
                line.service_date.isoformat(),
                " ".join(part for part in (line.code, line.modifiers) if part),
                f"{line.units:,}",
                bc.dollars(line.billed),
                line.pointers,
                line.ndc,
                line.description,
            ]
            for line in d.lines
        ],
    )


def _money_line(d: ClaimDetail) -> str:
    m = d.money
    parts = [
        f"Billed {bc.dollars(m.billed)}",
        f"paid {bc.dollars(m.paid)}",
        f"adjusted {bc.dollars(m.adjusted)}",
        f"to the patient {bc.dollars(m.to_patient)}",
    ]
    if m.to_other_payer:
        parts.append(f"to the next payer {bc.dollars(m.to_other_payer)}")
    return ", ".join(parts) + f"; open {bc.dollars(m.open)}."


def _event_line(e: EventView) -> str:
    was = f"{e.from_status.replace('_', ' ')} → " if e.from_status else ""
    when = e.at.astimezone().strftime("%Y-%m-%d %H:%M")  # the workstation's time
    return f"{when}  {e.actor}  {was}{e.to_status.label.lower()}: {e.reason}".rstrip(": ")


def _remit_lines(r: RemitView) -> list[str]:
    head = (
        f"{r.paid_on.isoformat()}  {r.source} {r.trace_number}: paid {bc.dollars(r.paid)}, "
        f"patient's share {bc.dollars(r.patient_share)}"
    )
    if r.payer_claim_number:
        head += f" (payer's claim {r.payer_claim_number})"
    out = [head, *(f"  {a}" for a in r.adjustments)]
    for line in r.lines:
        out.append(f"  {line.code}: billed {bc.dollars(line.billed)}, paid {bc.dollars(line.paid)}")
        out += [f"    {words}" for words in (*line.adjustments, *line.remarks)]
    return out


def followup_text(items: Sequence[FollowUp]) -> str:
    if not items:
        return "Nothing to follow up."
    table = common.table(
        ["Due", "Left", "Kind", "Claim", "Patient", "Payer", "Amount"],
        [
            [
                _day(i.due),
                _days_left(i.days_left),
                i.kind,
                i.number,
                i.patient_name,
                i.payer_name,
                bc.dollars(i.amount),
            ]
            for i in items
        ],
    )
    lines = table.splitlines()
    out = lines[:2]
    for line, item in zip(lines[2:], items, strict=True):
        out += [line, f"    {item.words}"]
    total = sum((i.amount for i in items), Decimal("0.00"))
    out += ["", f"{counted(len(items), 'item')} to follow up, {bc.dollars(total)} in all."]
    return "\n".join(out)


def _days_left(days: int | None) -> str:
    if days is None:
        return ""
    if days < 0:
        return f"{-days:,} days past"
    return "today" if days == 0 else counted(days, "day")
