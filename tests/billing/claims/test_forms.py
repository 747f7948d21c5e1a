"""A stored claim as the values it is sent and printed as; the CMS-1500 and appeal letter
drawn from real claims."""

from __future__ import annotations

import io

from billing.claims.test_remittance import answer, sent_claim
from pypdf import PdfReader
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.billing.claims import remittance
from ketadesk.billing.claims.forms import appeal_view, claim_form
from ketadesk.documents.appeal import render_appeal_letter
from ketadesk.documents.cms1500 import render_cms1500
from ketadesk.money import ZERO


def test_the_claim_form_carries_the_claims_lines_codes_and_numbers(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)
    form = claim_form(session, claim)
    assert form.claim_number == claim.number
    assert form.total_charge == claim.billed
    assert [line.code for line in form.lines] == [line.code for line in claim.lines]
    assert [line.line_id for line in form.lines] == [str(line.id) for line in claim.lines]
    assert form.diagnoses == ("F33.2", "F43.10")
    assert form.prior_authorization == "PA-77812"
    assert form.subscriber.member_id == claim.policy.member_id
    assert form.billing.npi == claim.location.npi


def test_a_real_claim_prints_on_the_cms1500(session: Session, admin: Actor) -> None:
    claim = sent_claim(session, admin)
    pdf = render_cms1500([claim_form(session, claim)], mode="full", stable=True)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert claim.number in text and "F332" in text and "PA-77812" in text
    for line in claim.lines:
        assert line.code in text


def test_the_appeal_letter_names_the_denied_line_and_its_reason_in_words(
    session: Session, admin: Actor
) -> None:
    claim = sent_claim(session, admin)
    denied = claim.lines[-1]
    remit = answer(claim, share=ZERO, denied_code=denied.code)
    remittance.post(session, admin, remittance.plan(session, admin, remit, sha256=None))
    view = appeal_view(
        session,
        admin,
        claim.id,
        body="The treatment was medically necessary.",
        signer_name="Dana Biller",
        signer_title="Billing manager",
        on=claim.appeal_deadline or claim.service_from,
    )
    assert [line.code for line in view.denied_lines] == [denied.code]
    assert view.denied_lines[0].reasons[0].label == "CO-50"
    text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(render_appeal_letter(view))).pages
    )
    assert claim.number in text and "CO-50" in text and "ICN-2026-77" in text
