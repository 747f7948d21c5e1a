"""The Good Faith Estimate read back with pypdf: the No Surprises Act content and every item."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from documents.view_builders import (
    CJK,
    LONG_NAME,
    ZOE,
    assert_in_order,
    assert_inside_margins,
    estimate,
    estimate_line,
    pages,
    runs,
    words,
)

from ketadesk.billing.models import EstimateStatus
from ketadesk.billing.views import EstimateView
from ketadesk.documents.estimate import render_estimate
from ketadesk.money import money


def render(view: EstimateView) -> bytes:
    return render_estimate(view, deterministic=True)


def text_of(view: EstimateView) -> str:
    return "\n".join(pages(render(view)))


def test_the_header_gives_number_and_dates() -> None:
    text = text_of(estimate(supersedes="GFE-2026-00011"))
    assert_in_order(
        text,
        [
            "Brightwater Ketamine Clinic",
            "NPI 1245319599 · TIN 12-3456789",
            "Good Faith Estimate",
            "Estimate no. GFE-2026-00017",
            "Date of estimate 11/20/2026",
            "To be given by 11/25/2026",
            "Replaces GFE-2026-00011",
        ],
    )


def test_a_given_estimate_shows_when_it_was_given() -> None:
    text = text_of(estimate(status=EstimateStatus.GIVEN, given_on=date(2026, 11, 23)))
    assert_in_order(text, ["Date of estimate 11/20/2026", "Given 11/23/2026"])
    assert "To be given by" not in text


def test_it_states_the_patients_right_to_an_estimate() -> None:
    text = words(text_of(estimate()))
    assert_in_order(
        text,
        [
            "Your right to a Good Faith Estimate",
            "You have the right to receive a Good Faith Estimate",
            "who do not have insurance, or who are not using insurance",
            "at least $400 more than your Good Faith Estimate, you can dispute the bill",
        ],
    )


def test_patient_provider_and_facility_print_with_npi_and_tin() -> None:
    text = text_of(estimate())
    assert_in_order(text, ["PATIENT", ZOE, "Date of birth 03/09/1984 · MRN NYC000123"])
    assert_in_order(
        text,
        [
            "PROVIDER AND FACILITY",
            "Brightwater Ketamine Clinic",
            "1 Main St, Suite 400",
            "New York, NY 10001",
            "Phone (212) 555-0100",
            "NPI 1245319599 · TIN 12-3456789",
            "RENDERING PROVIDER",
            "Ama Osei, MD · NPI 1234567893",
        ],
    )


def test_expected_dates_of_service_and_diagnosis_codes() -> None:
    text = text_of(estimate())
    assert_in_order(
        text,
        [
            "Expected services",
            "Treatment: IV ketamine induction",
            "Expected dates of service: 12/07/2026 – 12/18/2026 (6 sessions)",
            "ICD-10-CM\nDescription",
            "F33.2\nMajor depressive disorder, recurrent severe without psychotic features",
            "F43.10\nPost-traumatic stress disorder, unspecified",
        ],
    )


def test_every_item_and_the_total_estimated_cost() -> None:
    text = text_of(estimate())
    assert_in_order(
        text,
        [
            "Estimated items and costs",
            "Code\nModifier\nDescription\nSessions\nUnits\nUnit price\nAmount",
            "96365\nIV infusion, first hour\n6\n6\n$450.00\n$2,700.00",
            "96366\nIV infusion, each additional hour\n6\n6\n$150.00\n$900.00",
            "J3490\nJZ\nKetamine HCl, unclassified drug\n6\n6\n$35.00\n$210.00",
            "99214\n25\nEstablished patient visit, moderate",
            "1\n1\n$225.00\n$225.00",
            "Total estimated cost\n$4,035.00",
        ],
    )


def test_it_says_it_is_not_a_contract_and_how_to_dispute_a_bill() -> None:
    text = words(text_of(estimate()))
    assert_in_order(
        text,
        [
            "Total estimated cost",
            "does not include unknown or unexpected costs",
            "Not a contract",
            "This Good Faith Estimate is not a contract",
            "If your bill is $400 or more above this estimate",
            "patient-provider dispute resolution process",
            "within 120 calendar days",
            "of the date on the original bill",
            "Where to learn more",
            "visit www.cms.gov/nosurprises or call 1-800-985-3059",
        ],
    )


def test_a_line_note_prints_under_its_description() -> None:
    line = estimate_line(
        "J3490", "", "Ketamine HCl", 6, 6, "35.00", "Dose set by weight: 0.5 mg/kg"
    )
    text = text_of(replace(estimate(), lines=(line,), total=money("210.00")))
    assert_in_order(text, ["J3490\nKetamine HCl\nDose set by weight: 0.5 mg/kg\n6\n6\n$35.00"])


@pytest.mark.parametrize("status", list(EstimateStatus))
def test_the_patients_copy_prints_no_workflow_status(status: EstimateStatus) -> None:
    """The copy handed to the patient never reads "Status Draft" (issue 9)."""
    text = words(text_of(estimate(status=status)))
    assert "Status" not in text
    assert "Draft" not in text and "draft" not in text.replace("was drafted", "")


def test_a_superseded_estimate_says_it_was_replaced() -> None:
    text = words(text_of(estimate(status=EstimateStatus.SUPERSEDED)))
    assert "Replaced. The planned series changed" in text


def test_without_a_provider_or_diagnoses_it_still_prints_what_it_has() -> None:
    text = text_of(estimate(provider=None, diagnoses=()))
    assert "RENDERING PROVIDER" not in text
    assert "Diagnosis codes: none recorded yet." in text


def test_a_hundred_items_flow_onto_numbered_pages() -> None:
    texts = pages(render(estimate(100)))
    assert len(texts) > 2
    for number, text in enumerate(texts, start=1):
        assert text.rstrip().endswith(f"Page {number} of {len(texts)}")
    everything = "\n".join(texts)
    assert everything.count("\nIV infusion, first hour\n") == 25
    assert "www.cms.gov/nosurprises" in texts[-1]


def test_unicode_and_long_names_print_whole() -> None:
    for name in (ZOE, CJK):
        assert f"PATIENT\n{name}\n" in text_of(estimate(name=name))
    assert any(r.font == "DroidSansFallback" for r in runs(render(estimate(name=CJK))))
    pdf = render(estimate(name=LONG_NAME))
    assert LONG_NAME in words(pages(pdf)[0])
    assert_inside_margins(pdf)


def test_deterministic_mode_gives_identical_bytes() -> None:
    assert render(estimate()) == render(estimate())
    assert render(estimate()) != render(estimate(number="GFE-2026-00018"))
