"""``ketadesk claims`` end to end: build, list, show, scrub and follow up.

Each test runs :func:`ketadesk.cli.main.main` in-process against a real SQLite file holding
an insured esketamine patient (:func:`billing.claims.claims_helpers.insured_clinic`: Aetna,
EDI payer id 60054, a prior authorisation for 8 sessions) with two visits posted on the
insurer's side, on 2026-12-01 and 2026-12-04. The commands run on a clock stated as
2026-12-07. One test runs the whole cycle on PostgreSQL too (the ``database`` fixture).
"""

from __future__ import annotations

import io
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from billing.billing_helpers import ADMIN
from billing.claims.claims_helpers import TODAY, esketamine_visit, insured_clinic
from billing.claims.test_remittance import PAID_ON, answer
from cli.cli_helpers import Result, clock_on, runner
from pypdf import PdfReader
from sqlalchemy import func, select

from ketadesk.billing.claims import remittance
from ketadesk.billing.claims.actions import mark_submitted
from ketadesk.billing.claims.models import Claim, ClaimEvent, ClaimStatus, Remit
from ketadesk.billing.edi import validate
from ketadesk.billing.edi.model import Address
from ketadesk.billing.edi.x835 import BankAccount, write_835
from ketadesk.clinic.models import InsurancePolicy
from ketadesk.db import Database

FIRST_VISIT, SECOND_VISIT = "2026-12-01 09:00", "2026-12-04 09:00"
NO_MEMBER_ID = "member id: the policy has no member id; copy it from the card"


@dataclass
class Clinic:
    db: Database
    url: str
    mrn: str
    patient: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    return runner(capsys, clock=clock_on(TODAY))


def set_up(db: Database) -> None:
    """The insured patient with two esketamine visits posted on Aetna's side."""
    with db.transaction() as session:
        insured = insured_clinic(session, ADMIN)
        esketamine_visit(session, ADMIN, insured, FIRST_VISIT)
        esketamine_visit(session, ADMIN, insured, SECOND_VISIT)


def clinic_of(db: Database) -> Clinic:
    with db.reading() as session:
        policy = session.scalars(select(InsurancePolicy)).one()
        return Clinic(db, db.url, policy.patient.mrn, policy.patient.display_name)


@pytest.fixture(scope="module")
def insured_file(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two visits' database, built once per module; each test gets its own copy."""
    path = tmp_path_factory.mktemp("insured") / "insured.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    set_up(db)
    db.dispose()
    return path


@pytest.fixture
def clinic(insured_file: Path, tmp_path: Path) -> Iterator[Clinic]:
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(insured_file, path)
    db = Database(f"sqlite:///{path}")
    yield clinic_of(db)
    db.dispose()


def expect_one_error_line(result: Result, expected: str) -> None:
    assert result.code == 2, result.out + result.err
    assert result.err == f"ketadesk: error: {expected}\n"
    assert result.out == ""


def claims(db: Database) -> list[Claim]:
    with db.reading() as session:
        found = session.scalars(select(Claim).order_by(Claim.service_from)).all()
        for claim in found:
            session.expunge(claim)
        return list(found)


def history_rows(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(ClaimEvent)) or 0


def set_member_id(db: Database, member_id: str) -> None:
    with db.transaction() as session:
        session.scalars(select(InsurancePolicy)).one().member_id = member_id


def submit_first(db: Database) -> Claim:
    with db.transaction() as session:
        claim = session.scalars(select(Claim).order_by(Claim.service_from)).first()
        assert claim is not None
        mark_submitted(session, ADMIN, [claim.id], on=TODAY, how="837P batch 1")
        session.flush()
        session.expunge(claim)
        return claim


# --- the parser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["build"],
        ["list"],
        ["show"],
        ["scrub"],
        ["export"],
        ["import-835"],
        ["cms1500"],
        ["followup"],
    ],
    ids=" ".join,
)
def test_help_works_for_every_claims_command(cli: Any, command: list[str]) -> None:
    result = cli("claims", *command, "--help")
    assert result.code == 0
    assert result.out.startswith(f"usage: ketadesk claims {' '.join(command)}")
    assert "examples:" in result.out and "--db URL" in result.out


def test_claims_is_listed_in_the_top_level_help(cli: Any) -> None:
    assert "\n    claims " in cli("--help").out


def test_an_unknown_status_is_a_usage_error(cli: Any, clinic: Clinic) -> None:
    result = cli("claims", "list", "--status", "lost", "--db", clinic.url)
    assert result.code == 2
    assert "argument --status: invalid choice: 'lost'" in result.err


# --- build ----------------------------------------------------------------------------------


def test_build_makes_a_claim_per_visit_and_says_so(cli: Any, clinic: Clinic) -> None:
    result = cli("claims", "build", "--db", clinic.url)

    assert result.code == 0, result.err
    built = claims(clinic.db)
    assert [c.service_from.isoformat() for c in built] == ["2026-12-01", "2026-12-04"]
    lines = result.out.splitlines()
    assert lines[0] == "Built 2 claims: 2 ready to send, 0 with problems to fix."
    assert lines[2].split() == [
        "Claim", "Date", "Patient", "MRN", "Payer", "Status", "Billed", "Problems",
    ]  # fmt: skip
    for claim, line in zip(built, lines[4:6], strict=True):
        assert line.startswith(f"{claim.number}  {claim.service_from.isoformat()}  ")
        assert line.split()[-3:] == ["ready", f"${claim.billed:,.2f}", "0"]
        assert f"  {clinic.patient}  {clinic.mrn}  Aetna  " in line
    assert len(lines) == 6  # no claim has problems to list
    again = cli("claims", "build", "--db", clinic.url)
    assert again.out == "No claims to build: every charge billed to an insurer is on a claim.\n"


def test_build_through_a_date_leaves_later_visits_for_later(cli: Any, clinic: Clinic) -> None:
    data = cli("claims", "build", "--through", "12/02/2026", "--db", clinic.url, "--json").json()

    assert (data["built"], data["ready"], data["with_problems"]) == (1, 1, 0)
    [claim] = data["claims"]
    assert claim["service_date"] == "2026-12-01" and claim["status"] == "ready"
    assert claim["payer"] == "Aetna" and claim["mrn"] == clinic.mrn
    assert claim["problems"] == [] and isinstance(claim["billed"], str)
    assert claim["number"] == claims(clinic.db)[0].number
    rest = cli("claims", "build", "--db", clinic.url, "--json").json()
    assert [c["service_date"] for c in rest["claims"]] == ["2026-12-04"]


def test_build_lists_each_claims_problems_with_their_field(cli: Any, clinic: Clinic) -> None:
    set_member_id(clinic.db, "")

    result = cli("claims", "build", "--db", clinic.url)

    assert result.code == 0, result.err
    first, second = claims(clinic.db)
    assert result.out.startswith("Built 2 claims: 0 ready to send, 2 with problems to fix.\n")
    for claim in (first, second):
        block = (
            f"\n{claim.number}  {clinic.patient} (MRN {clinic.mrn})  Aetna  "
            f"{claim.service_from.isoformat()}  draft\n  {NO_MEMBER_ID}\n"
        )
        assert block in result.out
    assert result.out.endswith("Fix these, then check again with 'ketadesk claims scrub'.\n")


def test_build_with_json_gives_each_problem_as_field_and_message(cli: Any, clinic: Clinic) -> None:
    set_member_id(clinic.db, "")
    data = cli("claims", "build", "--db", clinic.url, "--json").json()
    assert (data["ready"], data["with_problems"]) == (0, 2)
    field, message = NO_MEMBER_ID.split(": ", 1)
    assert all({"field": field, "message": message} in c["problems"] for c in data["claims"])


def test_build_refuses_a_date_it_cannot_read_and_builds_nothing(cli: Any, clinic: Clinic) -> None:
    result = cli("claims", "build", "--through", "2026-13-01", "--db", clinic.url)
    assert result.code == 2 and result.err.startswith("ketadesk: error: --through: ")
    assert result.err.count("\n") == 1
    assert claims(clinic.db) == []


# --- list -----------------------------------------------------------------------------------


def test_list_as_text_and_json(cli: Any, clinic: Clinic) -> None:
    cli("claims", "build", "--db", clinic.url)
    first, second = claims(clinic.db)

    rows = cli("claims", "list", "--db", clinic.url, "--json").json()
    assert [r["number"] for r in rows] == [second.number, first.number]  # newest first
    assert rows[1] == {
        "id": first.id,
        "number": first.number,
        "patient": clinic.patient,
        "mrn": clinic.mrn,
        "payer": "Aetna",
        "rank": "primary",
        "service_date": "2026-12-01",
        "status": "ready",
        "billed": f"{first.billed:.2f}",
        "open": f"{first.billed:.2f}",
        "filing_deadline": first.filing_deadline.isoformat(),
        "problems": 0,
    }

    text = cli("claims", "list", "--db", clinic.url).out.splitlines()
    assert text[0].split() == [
        "Claim", "Date", "Patient", "MRN", "Payer", "Status", "Billed", "Open", "File", "by",
        "Problems",
    ]  # fmt: skip
    assert text[1].startswith("-----")
    assert text[3].startswith(f"{first.number}  2026-12-01  {clinic.patient}  {clinic.mrn}  ")
    columns = [line.index("$") for line in text[2:4]]
    assert columns[0] == columns[1]  # the amounts line up
    total = first.billed + second.billed
    assert text[-1] == f"2 claims (2 ready): ${total:,.2f} billed, ${total:,.2f} open."


def test_list_by_status_and_payer_name_or_edi_id(cli: Any, clinic: Clinic) -> None:
    cli("claims", "build", "--db", clinic.url)
    submitted = submit_first(clinic.db)

    def numbers(*options: str) -> list[str]:
        result = cli("claims", "list", "--db", clinic.url, "--json", *options)
        assert result.code == 0, result.err
        return [row["number"] for row in result.json()]

    assert numbers("--status", "submitted") == [submitted.number]
    assert len(numbers("--status", "ready")) == 1
    assert numbers("--status", "denied") == []
    assert len(numbers("--payer", "aetna")) == 2
    assert len(numbers("--payer", " AETNA ")) == 2
    assert numbers("--payer", "60054", "--status", "submitted") == [submitted.number]
    assert cli("claims", "list", "--status", "paid", "--db", clinic.url).out == "No claims.\n"


def test_list_refuses_an_unknown_payer(cli: Any, clinic: Clinic) -> None:
    expect_one_error_line(
        cli("claims", "list", "--payer", "Cigna", "--db", clinic.url),
        "--payer: there is no payer named or with EDI payer id 'Cigna'",
    )


# --- show -----------------------------------------------------------------------------------


def test_show_by_number_or_id(cli: Any, clinic: Clinic) -> None:
    cli("claims", "build", "--db", clinic.url)
    first = claims(clinic.db)[0]

    text = cli("claims", "show", first.number.lower(), "--db", clinic.url).out
    assert text.startswith(f"Claim {first.number}: ready\n\nPatient     {clinic.patient} ")
    assert "Payer       Aetna (primary), member id W123456789\n" in text
    assert "Service     2026-12-01\n" in text and "Prior auth  PA-77812\n" in text
    assert "Diagnoses   F33.2, F43.10\n" in text
    assert f"File by     {first.filing_deadline.isoformat()}\n" in text
    assert "Problems" not in text  # a clean claim has none to list
    assert f"Billed ${first.billed:,.2f}, paid $0.00, adjusted $0.00" in text
    assert f"open ${first.billed:,.2f}." in text
    assert "\nHistory\n" in text and "draft → ready: Checked: no problems" in text

    data = cli("claims", "show", str(first.id), "--db", clinic.url, "--json").json()
    assert data["number"] == first.number and data["status"] == "ready"
    assert data["money"]["open"] == f"{first.billed:.2f}"
    assert [line["position"] for line in data["lines"]] == list(range(1, len(data["lines"]) + 1))
    assert sum(Decimal(line["billed"]) for line in data["lines"]) == first.billed
    assert [e["to"] for e in data["history"]] == ["draft", "ready"]
    assert data["problems"] == [] and data["remits"] == []
    for line in data["lines"]:
        assert f"  {line['code']}" in text and f"${Decimal(line['billed']):,.2f}" in text


def test_show_lists_problems_one_per_line(cli: Any, clinic: Clinic) -> None:
    set_member_id(clinic.db, "")
    cli("claims", "build", "--db", clinic.url)
    number = claims(clinic.db)[0].number
    text = cli("claims", "show", number, "--db", clinic.url).out
    assert f"\nProblems (1)\n  {NO_MEMBER_ID}\n" in text
    data = cli("claims", "show", number, "--db", clinic.url, "--json").json()
    field, message = NO_MEMBER_ID.split(": ", 1)
    assert data["problems"] == [{"field": field, "message": message}]


@pytest.mark.parametrize("ref", ["CL-2026-99999", "999", "yesterday's"])
def test_show_refuses_an_unknown_claim(cli: Any, clinic: Clinic, ref: str) -> None:
    expect_one_error_line(
        cli("claims", "show", ref, "--db", clinic.url),
        f"ID: there is no claim {ref!r}; give a number like CL-2026-00042 or an id",
    )


def test_show_and_followup_after_the_payer_answered(cli: Any, clinic: Clinic) -> None:
    """The payer paid the visit's first line (less $50.00 deductible) and denied the second."""
    cli("claims", "build", "--db", clinic.url)
    first = submit_first(clinic.db)
    with clinic.db.transaction() as session:
        claim = session.get(Claim, first.id)
        assert claim is not None
        denied = claim.lines[-1]
        remit = answer(claim, share=Decimal("50.00"), denied_code=denied.code)
        remittance.post(session, ADMIN, remittance.plan(session, ADMIN, remit, sha256=None))
        denied_code, denied_billed = denied.code, denied.billed
        paid = remit.total_paid

    data = cli("claims", "show", first.number, "--db", clinic.url, "--json").json()
    assert data["status"] == "partly_paid" and data["payer_claim_number"] == "ICN-2026-77"
    assert Decimal(data["money"]["paid"]) == paid
    assert Decimal(data["money"]["to_patient"]) == Decimal("50.00")
    assert Decimal(data["money"]["open"]) == denied_billed
    [remit_data] = data["remits"]
    assert remit_data["trace_number"] == "EFT-9001" and Decimal(remit_data["paid"]) == paid

    text = cli("claims", "show", first.number, "--db", clinic.url).out
    assert f"Claim {first.number}: partly paid\n" in text
    answers = text[text.index("\nThe payer's answers\n") :]
    assert f"  {PAID_ON.isoformat()}  " in answers and f"EFT-9001: paid ${paid:,.2f}, " in answers
    assert "patient's share $50.00 (payer's claim ICN-2026-77)" in answers
    assert f"    {denied_code}: billed ${denied_billed:,.2f}, paid $0.00\n      CO-50 " in answers
    assert "      N180: " in answers

    items = cli("claims", "followup", "--db", clinic.url, "--json").json()
    denial = next(i for i in items if i["number"] == first.number)
    assert denial["kind"] == "denied" and "CO-50" in denial["words"]
    text = cli("claims", "followup", "--db", clinic.url).out
    assert f"  denied  {first.number}  " in text and f"    {denial['words']}\n" in text


# --- scrub ----------------------------------------------------------------------------------


def test_scrub_sends_a_claim_back_to_draft_and_forward_once_fixed(cli: Any, clinic: Clinic) -> None:
    cli("claims", "build", "--db", clinic.url)
    first, second = claims(clinic.db)
    set_member_id(clinic.db, "")

    result = cli("claims", "scrub", "--db", clinic.url)
    assert result.code == 0, result.err
    assert result.out.startswith("Checked 2 claims: 0 ready to send, 2 with problems to fix.\n")
    assert (
        f"\n{first.number}  {clinic.patient} (MRN {clinic.mrn})  Aetna  2026-12-01  draft\n"
        f"  {NO_MEMBER_ID}\n" in result.out
    )
    assert [c.status for c in claims(clinic.db)] == [ClaimStatus.DRAFT, ClaimStatus.DRAFT]

    set_member_id(clinic.db, "W123456789")
    data = cli("claims", "scrub", second.number, "--db", clinic.url, "--json").json()
    assert (data["checked"], data["ready"]) == (1, 1)
    assert data["claims"][0]["number"] == second.number
    assert data["claims"][0]["status"] == "ready" and data["claims"][0]["problems"] == []
    assert [c.status for c in claims(clinic.db)] == [ClaimStatus.DRAFT, ClaimStatus.READY]


def test_scrub_with_nothing_to_check(cli: Any, clinic: Clinic) -> None:
    assert cli("claims", "scrub", "--db", clinic.url).out == "No drafts or ready claims to check.\n"


def test_scrub_refuses_a_sent_claim_and_changes_nothing(cli: Any, clinic: Clinic) -> None:
    cli("claims", "build", "--db", clinic.url)
    submitted = submit_first(clinic.db)
    second = claims(clinic.db)[1]
    set_member_id(clinic.db, "")
    events = history_rows(clinic.db)

    expect_one_error_line(
        cli("claims", "scrub", second.number, submitted.number, "--db", clinic.url),
        f"ID: {submitted.number} is submitted: only drafts and ready claims are checked "
        "(a sent claim is corrected with a replacement claim)",
    )
    expect_one_error_line(
        cli("claims", "scrub", second.number, "CL-2026-99999", "--db", clinic.url),
        "ID: there is no claim 'CL-2026-99999'; give a number like CL-2026-00042 or an id",
    )
    assert history_rows(clinic.db) == events
    assert claims(clinic.db)[1].status is ClaimStatus.READY  # the good one was not checked


# --- followup -------------------------------------------------------------------------------


def test_followup_counts_unsent_claims_down_to_timely_filing(cli: Any, clinic: Clinic) -> None:
    assert cli("claims", "followup", "--db", clinic.url).out == "Nothing to follow up.\n"
    cli("claims", "build", "--db", clinic.url)
    first, second = claims(clinic.db)

    items = cli("claims", "followup", "--db", clinic.url, "--json").json()
    assert [i["number"] for i in items] == [first.number, second.number]
    assert items[0] == {
        "kind": "unsent",
        "claim_id": first.id,
        "number": first.number,
        "patient": items[0]["patient"],
        "payer": "Aetna",
        "amount": f"{first.billed:.2f}",
        "due": first.filing_deadline.isoformat(),
        "days_left": (first.filing_deadline - TODAY).days,
        "words": "Ready: send it.",
    }

    text = cli("claims", "followup", "--db", clinic.url).out.splitlines()
    assert text[0].split() == ["Due", "Left", "Kind", "Claim", "Patient", "Payer", "Amount"]
    left = (first.filing_deadline - TODAY).days
    assert text[2].startswith(f"{first.filing_deadline.isoformat()}  {left} days  unsent  ")
    assert text[3] == "    Ready: send it."
    total = first.billed + second.billed
    assert text[-1] == f"2 items to follow up, ${total:,.2f} in all."


def test_followup_says_how_long_past_a_deadline_is(
    cli: Any, clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    cli("claims", "build", "--db", clinic.url)
    first = claims(clinic.db)[0]
    late = runner(capsys, clock=clock_on(first.filing_deadline + timedelta(days=3)))
    text = late("claims", "followup", "--db", clinic.url).out
    assert f"{first.filing_deadline.isoformat()}  3 days past  unsent  " in text


# --- export and import-835 --------------------------------------------------------------------

ADDRESS = Address("PO BOX 981106", "EL PASO", "TX", "79998")
BANK = BankAccount("021000021", "123456789")


def count(db: Database, model: type[Any]) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def statuses(db: Database) -> list[ClaimStatus]:
    return [c.status for c in claims(db)]


def era_file(db: Database, path: Path, *, share: str = "35.00") -> tuple[Path, Decimal]:
    """The payer's 835 paying the first claim (60%, 30% contractual, ``share`` deductible),
    written to ``path``; and what it pays."""
    with db.reading() as session:
        claim = session.scalars(select(Claim).order_by(Claim.service_from)).first()
        assert claim is not None
        remit = answer(claim, share=Decimal(share))
    text = write_835(
        remit, payer_address=ADDRESS, payee_address=ADDRESS, payer_tin="1234567890",
        payer_phone="8005550100", payer_bank=BANK, payee_bank=BANK,
    )  # fmt: skip
    path.write_text(text)
    return path, remit.total_paid


def test_export_sends_the_ready_claims_as_one_valid_private_837p(
    cli: Any, clinic: Clinic, tmp_path: Path
) -> None:
    cli("claims", "build", "--db", clinic.url)
    first, second = claims(clinic.db)
    out = tmp_path / "aetna.837"

    result = cli("claims", "export", "--payer", "aetna", "--out", str(out), "--db", clinic.url)

    assert result.code == 0, result.err
    total = first.billed + second.billed
    batch = result.out.split("837P batch ")[1].split(",")[0]
    assert batch.isdigit()
    assert result.out == (
        f"Sent 2 claims (${total:,.2f}) to Aetna in 837P batch {batch}, saved as aetna.837.\n"
    )
    text = out.read_text()
    assert validate.problems(text) == []
    assert first.number in text and second.number in text
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert statuses(clinic.db) == [ClaimStatus.SUBMITTED] * 2
    expect_one_error_line(
        cli("claims", "export", "--payer", "60054", "--out", str(out), "--db", clinic.url),
        "No claim for Aetna is ready to send; check the drafts first.",
    )
    assert out.read_text() == text  # the file of the batch sent is left as it was


def test_export_with_json_names_the_batch_and_what_was_held_back(
    cli: Any, clinic: Clinic, tmp_path: Path
) -> None:
    cli("claims", "build", "--db", clinic.url)
    first, second = claims(clinic.db)
    with clinic.db.transaction() as session:  # edited to a category, which is not billable
        session.scalars(select(Claim).where(Claim.id == first.id)).one().diagnoses = "F32"
    out = tmp_path / "aetna.837"

    data = cli(
        "claims", "export", "--payer", "60054", "--out", str(out), "--db", clinic.url, "--json"
    ).json()

    assert data["payer"] == "Aetna" and data["claims"] == [second.number]
    assert data["held_back"] == [first.number] and data["total"] == f"{second.billed:.2f}"
    assert data["file"] == str(out) and isinstance(data["batch_id"], int)
    assert statuses(clinic.db) == [ClaimStatus.DRAFT, ClaimStatus.SUBMITTED]
    text = cli("claims", "export", "--payer", "aetna", "--out", str(out), "--db", clinic.url)
    assert text.code == 2  # nothing ready is left


def test_export_refuses_an_unknown_payer_or_an_unwritable_file_and_sends_nothing(
    cli: Any, clinic: Clinic, tmp_path: Path
) -> None:
    cli("claims", "build", "--db", clinic.url)
    expect_one_error_line(
        cli(
            "claims",
            "export",
            "--payer",
            "Cigna",
            "--out",
            str(tmp_path / "x.837"),
            "--db",
            clinic.url,
        ),
        "--payer: there is no payer named or with EDI payer id 'Cigna'",
    )
    missing = tmp_path / "no" / "such" / "aetna.837"
    result = cli("claims", "export", "--payer", "Aetna", "--out", str(missing), "--db", clinic.url)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith(f"ketadesk: error: the 837P file could not be saved to {missing}")
    assert result.err.count("\n") == 1
    assert statuses(clinic.db) == [ClaimStatus.READY] * 2  # nothing was marked sent


def test_import_835_previews_posts_once_and_says_so(
    cli: Any, clinic: Clinic, tmp_path: Path
) -> None:
    cli("claims", "build", "--db", clinic.url)
    cli(
        "claims",
        "export",
        "--payer",
        "Aetna",
        "--out",
        str(tmp_path / "aetna.837"),
        "--db",
        clinic.url,
    )
    first = claims(clinic.db)[0]
    era, paid = era_file(clinic.db, tmp_path / "era.835")

    dry = cli("claims", "import-835", str(era), "--dry-run", "--db", clinic.url)

    assert dry.code == 0, dry.err
    lines = dry.out.splitlines()
    assert lines[0] == f"AETNA paid ${paid:,.2f} on 2026-12-20 (ACH EFT-9001) for 1 claim."
    assert lines[2].split() == [
        "Claim", "Patient", "Billed", "Payer", "pays", "Adjusted", "Patient's", "share", "Held",
        "Becomes",
    ]  # fmt: skip
    row = lines[4].split()
    assert row[0] == first.number and row[-1] == "paid"
    assert f"${paid:,.2f}" in row and "$35.00" in row
    assert lines[5] == "    Patient owes deductible $35.00"
    assert "Posts $" in dry.out and "for 1 claim payment; 0 payments wait for a person." in dry.out
    assert lines[-1] == "Dry run: nothing from era.835 was posted."
    assert count(clinic.db, Remit) == 0 and statuses(clinic.db)[0] is ClaimStatus.SUBMITTED

    posted = cli("claims", "import-835", str(era), "--db", clinic.url)
    assert posted.code == 0, posted.err
    assert posted.out.endswith(
        f"Posted 1 claim payment (${paid:,.2f} from the payer, $35.00 moved to patients); "
        "0 wait in the follow-up worklist.\n"
    )
    assert count(clinic.db, Remit) == 1 and statuses(clinic.db)[0] is ClaimStatus.PAID

    again = cli("claims", "import-835", str(era), "--db", clinic.url, "--json").json()
    [remit] = again["remittances"]
    assert remit["already_imported"] and remit["result"]["already_imported"]
    assert remit["result"]["sentence"] == (
        "This remittance was imported before; nothing was posted again."
    )
    assert count(clinic.db, Remit) == 1
    text = cli("claims", "import-835", str(era), "--db", clinic.url).out
    assert text.endswith(
        "for 1 claim.\n\nThis remittance was imported before; nothing was posted again.\n"
    )
    dry = cli("claims", "import-835", str(era), "--dry-run", "--db", clinic.url).out
    assert "This remittance was imported before; it would post nothing again.\n" in dry


def test_import_835_with_json_gives_each_claim_payments_plan(
    cli: Any, clinic: Clinic, tmp_path: Path
) -> None:
    cli("claims", "build", "--db", clinic.url)
    cli(
        "claims",
        "export",
        "--payer",
        "Aetna",
        "--out",
        str(tmp_path / "aetna.837"),
        "--db",
        clinic.url,
    )
    first = claims(clinic.db)[0]
    era, paid = era_file(clinic.db, tmp_path / "era.835", share="0.00")

    data = cli("claims", "import-835", str(era), "--dry-run", "--db", clinic.url, "--json").json()

    assert data["file"] == "era.835" and data["dry_run"] is True
    [remit] = data["remittances"]
    assert remit["trace_number"] == "EFT-9001" and remit["total_paid"] == f"{paid:.2f}"
    assert remit["posts"] == f"{paid:.2f}" and remit["result"] is None
    [claim] = remit["claims"]
    assert claim["claim_number"] == first.number and claim["claim_id"] == first.id
    assert claim["postable"] is True and claim["outcome"] == "paid"
    assert Decimal(claim["paid"]) + Decimal(claim["adjusted"]) == first.billed
    assert count(clinic.db, Remit) == 0


def test_import_835_refuses_a_file_it_cannot_read_or_that_is_not_an_835(
    cli: Any, clinic: Clinic, tmp_path: Path
) -> None:
    letter = tmp_path / "letter.txt"
    letter.write_text("Dear billing office,\n")
    result = cli("claims", "import-835", str(letter), "--db", clinic.url)
    assert result.code == 2 and result.out == "" and result.err.count("\n") == 1
    assert result.err.startswith("ketadesk: error: ") and "835" in result.err
    missing = cli("claims", "import-835", str(tmp_path / "gone.835"), "--db", clinic.url)
    assert missing.code == 2 and missing.out == "" and missing.err.count("\n") == 1
    assert missing.err.startswith("ketadesk: error: gone.835 could not be read: ")
    assert count(clinic.db, Remit) == 0


# --- cms1500 -------------------------------------------------------------------------------


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages)


@pytest.mark.parametrize("mode", ["full", "print"])
def test_cms1500_writes_the_claim_on_the_form(
    cli: Any, clinic: Clinic, tmp_path: Path, mode: str
) -> None:
    cli("claims", "build", "--db", clinic.url)
    first = claims(clinic.db)[0]
    out = tmp_path / "claim.pdf"

    options = () if mode == "full" else ("--mode", "print")
    result = cli("claims", "cms1500", first.number, "-o", str(out), "--db", clinic.url, *options)

    assert result.code == 0, result.err
    shown = cli("claims", "show", first.number, "--db", clinic.url, "--json").json()["lines"]
    lines = len(shown)
    assert 1 < lines <= 6  # one page
    assert result.out == (
        f"CMS-1500 of claim {first.number} ({lines} lines, 1 page, {mode} form) written to {out}\n"
    )
    text = pdf_text(out)
    assert first.number in text and "LUKASIEWICZ" in text
    assert all(line["code"] in text for line in shown)
    assert ("HEALTH INSURANCE CLAIM FORM" in text.upper()) is (mode == "full")
    assert f"{int(first.billed)} 00" in text  # box 28: dollars and cents in their columns


def test_cms1500_refuses_an_unknown_claim_or_a_file_it_cannot_write(
    cli: Any, clinic: Clinic, tmp_path: Path
) -> None:
    cli("claims", "build", "--db", clinic.url)
    number = claims(clinic.db)[0].number
    expect_one_error_line(
        cli(
            "claims", "cms1500", "CL-2026-99999", "-o", str(tmp_path / "x.pdf"), "--db", clinic.url
        ),
        "ID: there is no claim 'CL-2026-99999'; give a number like CL-2026-00042 or an id",
    )
    missing = tmp_path / "no" / "such" / "claim.pdf"
    expect_one_error_line(
        cli("claims", "cms1500", number, "-o", str(missing), "--db", clinic.url),
        f"--output: cannot write {missing}: No such file or directory; nothing was written",
    )
    assert not list(tmp_path.glob("*.pdf"))


# --- the whole cycle on each back end ----------------------------------------------------------


def test_the_claim_cycle_on_each_backend(cli: Any, database: Database, tmp_path: Path) -> None:
    """build → list → show → scrub → export → import-835 (dry run, real, again)."""
    set_up(database)
    c = clinic_of(database)

    built = cli("claims", "build", "--db", c.url, "--json")
    assert built.code == 0, built.err
    assert (built.json()["built"], built.json()["ready"]) == (2, 2)
    rows = cli("claims", "list", "--db", c.url, "--payer", "60054", "--json").json()
    assert [r["service_date"] for r in rows] == ["2026-12-04", "2026-12-01"]
    text = cli("claims", "list", "--db", c.url).out
    assert text.splitlines()[-1].startswith("2 claims (2 ready): $")
    shown = cli("claims", "show", rows[0]["number"], "--db", c.url, "--json").json()
    assert shown["id"] == rows[0]["id"] and shown["mrn"] == c.mrn
    set_member_id(database, "")
    scrubbed = cli("claims", "scrub", "--db", c.url, "--json").json()
    assert (scrubbed["checked"], scrubbed["ready"]) == (2, 0)
    assert statuses(database) == [ClaimStatus.DRAFT] * 2
    expect_one_error_line(
        cli("claims", "show", "CL-2026-99999", "--db", c.url),
        "ID: there is no claim 'CL-2026-99999'; give a number like CL-2026-00042 or an id",
    )
    set_member_id(database, "W123456789")
    assert cli("claims", "scrub", "--db", c.url, "--json").json()["ready"] == 2

    out = tmp_path / "aetna.837"
    sent = cli("claims", "export", "--payer", "Aetna", "--out", str(out), "--db", c.url, "--json")
    assert sent.code == 0, sent.err
    assert len(sent.json()["claims"]) == 2 and validate.problems(out.read_text()) == []
    era, paid = era_file(database, tmp_path / "era.835")
    dry = cli("claims", "import-835", str(era), "--dry-run", "--db", c.url, "--json").json()
    assert dry["remittances"][0]["posts"] == f"{paid:.2f}" and count(database, Remit) == 0
    done = cli("claims", "import-835", str(era), "--db", c.url, "--json").json()
    assert done["remittances"][0]["result"]["posted_claims"] == 1
    assert statuses(database) == [ClaimStatus.PAID, ClaimStatus.SUBMITTED]
    again = cli("claims", "import-835", str(era), "--db", c.url).out
    assert again.endswith("This remittance was imported before; nothing was posted again.\n")
    assert count(database, Remit) == 1


def test_a_printers_offsets_move_the_data_on_the_red_form(
    cli: Any, clinic: Clinic, tmp_path: Path
) -> None:
    cli("claims", "build", "--db", clinic.url)
    number = claims(clinic.db)[0].number
    plain, moved = tmp_path / "plain.pdf", tmp_path / "moved.pdf"
    for out, offsets in ((plain, ()), (moved, ("--offset-x", "2,5", "--offset-y", "-1"))):
        result = cli(
            "claims", "cms1500", number, "-o", str(out), "--mode", "print", "--db", clinic.url,
            *offsets,
        )  # fmt: skip
        assert result.code == 0, result.err
    assert plain.read_bytes() != moved.read_bytes()
    assert PdfReader(moved).pages[0].extract_text() == PdfReader(plain).pages[0].extract_text()


def test_the_alignment_page_is_written_with_its_offsets_and_bad_ones_are_refused(
    cli: Any, tmp_path: Path
) -> None:
    out = tmp_path / "align.pdf"
    result = cli("claims", "alignment", "-o", str(out), "--offset-x", "1,5", "--offset-y", "-2")
    assert result.code == 0, result.err
    assert result.out == (
        f"CMS-1500 alignment page (offsets +1.5 mm right, -2 mm down) written to {out}\n"
    )
    assert "1.5" in PdfReader(out).pages[0].extract_text()
    expect_one_error_line(
        cli("claims", "alignment", "-o", str(out), "--offset-x", "left a bit"),
        "--offset-x: 'left a bit' is not a distance in millimetres; write it like 1.5 or -2",
    )
    expect_one_error_line(
        cli("claims", "alignment", "-o", str(out), "--offset-y", "30"),
        "--offset-y: a printer offset is at most 25 mm either way",
    )
