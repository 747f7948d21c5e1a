"""The appeal letter read back with pypdf, block by block, on views built by hand."""

from __future__ import annotations

from decimal import Decimal

from documents.appeal_builders import appeal, denied_line
from documents.view_builders import ZOE, assert_in_order, pages, words

from ketadesk.billing.claims.appeal_view import DenialReason
from ketadesk.documents.appeal import render_appeal_letter


def test_the_letterhead_recipient_and_references() -> None:
    (text,) = pages(render_appeal_letter(appeal(), stable=True))
    assert_in_order(
        text,
        [
            "Brightwater Ketamine Clinic",
            "NPI 1245319599",
            "Request for",
            "reconsideration",
            "Date January 15, 2027",
            "Our claim NYC-2026-00042",
            "TO",
            "Aetna Better Health",
            "Appeals Department",
            "PO Box 981106",
            "El Paso, TX 79998",
        ],
    )
    flat = words(text)
    for reference in (
        f"Patient {ZOE}",
        "Date of birth 03/14/1985",
        "Member ID W123456789",
        "Group number GRP-0042",
        "NYC-2026-00042",
        "EOB-77120934",
        "12/07/2026, 12/09/2026",  # sorted
        "Adaeze Okafor, MD (NPI 1679576722)",
        "01/05/2027",
    ):
        assert reference in flat


def test_the_denied_lines_show_reason_codes_in_words_and_the_total() -> None:
    flat = words(pages(render_appeal_letter(appeal(), stable=True))[0])
    assert_in_order(
        flat,
        [
            "Services denied",
            "Date Code Service Billed Reason for denial",
            "12/07/2026 J0013",
            "$1,512.00",
            "CO-50 Not deemed a medical necessity by the payer",
            "N115 Decision based on a local coverage determination",
            "99415",
            "$120.50",
            "CO-197 Precertification absent",
            "Total denied $1,632.50",
        ],
    )


def test_body_deadline_enclosures_and_signature_in_order() -> None:
    flat = words(pages(render_appeal_letter(appeal(), stable=True))[0])
    assert_in_order(
        flat,
        [
            "Dear Appeals Reviewer,",
            "We ask you to reconsider the denial",
            "The enclosed notes show the two-hour observation",
            "your appeal period, which ends on July 4, 2027.",
            "Enclosures (2):",
            "Explanation of benefits of January 5, 2027",
            "Treatment notes",
            "Sincerely,",
            "Maria Chen",
            "Billing Manager",
            "Brightwater Ketamine Clinic",
            "(212) 555-0100",
        ],
    )


def test_a_line_without_a_reason_and_no_deadline_or_enclosures() -> None:
    view = appeal(
        denied_lines=(denied_line(reasons=()),),
        appeal_deadline=None,
        enclosures=(),
        payer_claim_number="",
    )
    flat = words(pages(render_appeal_letter(view, stable=True))[0])
    assert "No reason given" in flat
    assert "appeal period" not in flat and "Enclosures" not in flat
    assert "not yet assigned" in flat


def test_a_long_letter_runs_onto_a_second_page_with_its_footer() -> None:
    many = tuple(
        denied_line(reasons=(DenialReason("96", "Non-covered charge(s)", group="CO"),))
        for _ in range(14)
    )
    body = "\n\n".join(["The treatment met every criterion of your policy. " * 6] * 6)
    texts = pages(render_appeal_letter(appeal(denied_lines=many, body=body), stable=True))
    assert len(texts) == 2
    assert "Page 1 of 2" in texts[0] and "Page 2 of 2" in texts[1]
    assert "Maria Chen" in texts[1]
    assert f"claim NYC-2026-00042 · {ZOE}" in texts[1]


def test_the_same_view_gives_the_same_bytes() -> None:
    view = appeal()
    assert render_appeal_letter(view, stable=True) == render_appeal_letter(view, stable=True)
    assert view.billed_total == Decimal("1632.50")
