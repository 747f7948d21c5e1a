"""Sending ready claims as a validated 837P, and importing the 835 that answers them."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from billing.claims.claims_helpers import TODAY, esketamine_visit, insured_clinic
from billing.claims.test_remittance import answer
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.billing import ledger
from ketadesk.billing.claims import remittance
from ketadesk.billing.claims.building import build_claims
from ketadesk.billing.claims.export import export_batch
from ketadesk.billing.claims.models import Claim, ClaimStatus
from ketadesk.billing.edi import validate
from ketadesk.billing.edi.model import Address
from ketadesk.billing.edi.x835 import BankAccount, write_835
from ketadesk.errors import Conflict, InvalidValue

NOW = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
ADDRESS = Address("PO BOX 981106", "EL PASO", "TX", "79998")


def ready_claims(session: Session, admin: Actor, visits: int = 2) -> tuple[int, list[int]]:
    insured = insured_clinic(session, admin)
    for day in range(1, visits + 1):
        esketamine_visit(session, admin, insured, f"2026-12-0{day} 09:00")
    built = build_claims(session, admin, today=TODAY)
    assert built.ready == visits
    return insured.payer.id, list(built.claim_ids)


def test_ready_claims_leave_as_one_valid_private_837p(
    session: Session, admin: Actor, tmp_path: Path
) -> None:
    payer_id, ids = ready_claims(session, admin)
    out = tmp_path / "aetna.837"
    result = export_batch(session, admin, payer_id, today=TODAY, now=NOW, out=out)

    text = out.read_text()
    assert text == result.text and validate.problems(text) == []
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "ISA*00*" in text and f"*{result.batch_id:09d}*" in text
    assert sorted(result.claim_ids) == sorted(ids)
    for claim_id in ids:
        claim = session.get(Claim, claim_id)
        assert claim is not None and claim.status is ClaimStatus.SUBMITTED
        assert claim.batch_id == result.batch_id and claim.number in text
    with pytest.raises(Conflict, match=r"No claim for .* is ready"):
        export_batch(session, admin, payer_id, today=TODAY, now=NOW)


def test_batches_are_numbered_upwards(session: Session, admin: Actor) -> None:
    payer_id, ids = ready_claims(session, admin)
    claim = session.get(Claim, ids[1])
    assert claim is not None
    claim.status = ClaimStatus.DRAFT  # held back from the first batch
    first = export_batch(session, admin, payer_id, today=TODAY, now=NOW)
    claim.status = ClaimStatus.READY
    second = export_batch(session, admin, payer_id, today=TODAY, now=NOW)
    assert second.batch_id > first.batch_id
    assert f"*{second.batch_id:09d}*" in second.text


def test_the_835_answering_the_batch_imports_once(session: Session, admin: Actor) -> None:
    payer_id, ids = ready_claims(session, admin, visits=1)
    export_batch(session, admin, payer_id, today=TODAY, now=NOW)
    claim = session.get(Claim, ids[0])
    assert claim is not None
    remit = answer(claim, share=Decimal("35.00"))
    bank = BankAccount("021000021", "123456789")
    text = write_835(
        remit, payer_address=ADDRESS, payee_address=ADDRESS, payer_tin="1234567890",
        payer_phone="8005550100", payer_bank=bank, payee_bank=bank,
    )  # fmt: skip
    assert validate.problems(text) == []
    remit_file = remittance.read_text(text, name="era.835")

    dry = remittance.import_835(session, admin, remit_file, dry_run=True)
    assert dry.results == () and claim.status is ClaimStatus.SUBMITTED
    assert dry.plans[0].posts == remit.total_paid

    done = remittance.import_835(session, admin, remit_file)
    assert done.results[0].posted_claims == 1 and claim.status is ClaimStatus.PAID
    assert ledger.balance(session, claim.patient_id) == Decimal("35.00")
    again = remittance.import_835(session, admin, remit_file)
    assert again.results[0].already_imported
    assert ledger.balance(session, claim.patient_id) == Decimal("35.00")


def test_a_file_that_is_not_an_835_is_refused_in_words(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Dear billing office,\n")
    with pytest.raises(InvalidValue):
        remittance.read_file(path)
    with pytest.raises(InvalidValue, match="could not be read"):
        remittance.read_file(tmp_path / "missing.835")


def test_a_ready_claim_that_gained_a_problem_is_held_back(session: Session, admin: Actor) -> None:
    payer_id, ids = ready_claims(session, admin)
    claim = session.get(Claim, ids[0])
    assert claim is not None
    claim.diagnoses = "F32"  # edited to a category, which is not billable
    result = export_batch(session, admin, payer_id, today=TODAY, now=NOW)
    assert result.held_back == (claim.number,) and claim.status is ClaimStatus.DRAFT
    assert len(result.claim_ids) == 1


def test_an_export_reports_its_steps(session: Session, admin: Actor) -> None:
    payer_id, _ = ready_claims(session, admin, visits=1)
    heard: list[tuple[str, int, int]] = []
    export_batch(
        session, admin, payer_id, today=TODAY, now=NOW, progress=lambda *s: heard.append(s)
    )
    assert heard == [("exporting claims", n, 3) for n in (1, 2, 3)]
