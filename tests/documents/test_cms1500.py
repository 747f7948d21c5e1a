"""The CMS-1500 read back: the grid a claim is typed on, then the PDF through pypdf."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from documents.claim_builders import claim, secondary, service_line
from pypdf import PdfReader
from reportlab.lib.units import mm

from ketadesk.billing.edi.model import CORRECTED, Facility
from ketadesk.documents.cms1500 import (
    alignment_page,
    form_pages,
    form_text,
    render_cms1500,
)
from ketadesk.documents.cms1500_form import PITCH, grid_x
from ketadesk.errors import ValidationError


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def placed(pdf: bytes, wanted: str) -> tuple[float, float]:
    """Where ``wanted`` starts on page 1, in points: a grid line is drawn as one run of
    monospaced text, so the run's start plus a column's width per character before it."""
    found: list[tuple[float, float]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if wanted in text and not found:
            before = text.index(wanted) * PITCH
            found.append((cm[4] + tm[4] * cm[0] + before, cm[5] + tm[5] * cm[3]))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    assert found, f"{wanted!r} not drawn"
    return found[0]


# ---------------------------------------------------------------------------------------
# The grid
# ---------------------------------------------------------------------------------------


def test_the_header_boxes_land_on_their_columns() -> None:
    (page,) = form_pages(claim())
    assert page.at(2, 41, 19) == "AETNA BETTER HEALTH"
    assert page.at(4, 41, 16) == "EL PASO TX 79998"
    assert page.at(8, 31, 1) == "X"  # box 1: a group health plan
    assert page.at(8, 1, 1) == " "
    assert page.at(8, 50, 10) == "W123456789"  # 1a
    assert page.at(10, 1, 19) == "LUKASIEWICZ, ZOE, A"  # 2: capitals, no accents
    assert page.at(10, 31, 10) == "03 14 1985"  # 3
    assert page.at(10, 47, 1) == "X" and page.at(10, 42, 1) == " "  # female
    assert page.at(12, 1, 20) == "22 ORCHARD ST APT 5B"  # 5: no period, no #
    assert page.at(12, 33, 1) == "X"  # 6: self
    assert page.at(16, 15, 11) == "212 5550142"
    assert page.at(18, 50, 8) == "GRP-0042"  # 11
    assert page.at(24, 50, 19) == "AETNA CHOICE POS II"  # 11c
    assert page.at(26, 57, 1) == "X"  # 11d: no other plan
    assert [page.at(line, 41, 1) for line in (20, 22, 24)] == ["X", "X", "X"]  # 10a-c NO
    assert page.at(29, 7, 17) == page.at(29, 55, 17) == "SIGNATURE ON FILE"
    assert page.at(34, 1, 40).strip() == ""  # 17 blank
    assert page.at(36, 1, 33) == "REMS CERTIFIED HEALTHCARE SETTING"


def test_box_21_has_the_icd_indicator_and_codes_without_their_dot() -> None:
    many = claim(diagnoses=tuple(f"F{n}.{n % 10}" for n in range(10, 22)))
    (page,) = form_pages(many)
    assert page.at(37, 42, 1) == "0"
    assert [page.at(38, col, 4) for col in (3, 16, 29, 42)] == ["F100", "F111", "F122", "F133"]
    assert [page.at(40, col, 4) for col in (3, 42)] == ["F188", "F211"]
    assert "." not in "".join(page.lines[36:40])


def test_service_lines_dates_codes_pointers_amounts_units_and_npi() -> None:
    (page,) = form_pages(claim())
    visit, staff, drug = page.lines[43], page.lines[45], page.lines[47]
    assert visit[:17] == "12 07 26 12 07 26"
    assert visit[18:20] == "11"
    assert visit[24:29] == "99213" and visit[32:34] == "25"
    assert visit[44:46] == "AB"
    assert visit[49:57] == "  185 00"  # dollars and cents in their columns, no $ or point
    assert visit[58:59] == "1"
    assert visit[67:77] == "1679576722"
    assert staff[44:46] == "A "
    assert drug[24:29] == "J0013" and drug[44:47] == "ABC" and drug[49:57] == " 1512 00"
    assert drug[58:60] == "84"


def test_the_ndc_sits_in_the_shaded_strip_above_its_line() -> None:
    (page,) = form_pages(claim())
    assert page.lines[42] == ""  # no drug on line 1
    assert page.lines[46] == "N450458002802 UN3"


def test_an_unlisted_drug_carries_its_words_after_the_ndc() -> None:
    iv = service_line(
        3, code="J3490", description="Ketamine HCl 50 mg/mL, 35 mg IV", ndc="42023011310"
    )
    (page,) = form_pages(replace(claim(), lines=(iv,)))
    assert page.lines[42] == "N442023011310 UN3   ZZKETAMINE HCL 50 MG/ML, 35 MG IV"


def test_totals_tax_id_account_and_providers() -> None:
    (page,) = form_pages(claim())
    assert page.at(56, 1, 9) == "123456789" and page.at(56, 19, 1) == "X"  # 25, EIN
    assert page.at(56, 23, 14) == "NYC-2026-00042"  # 26
    assert page.at(56, 38, 1) == "X"  # 27 yes
    assert page.at(56, 52, 8) == " 1817 50"  # 28
    assert page.at(56, 62, 8).strip() == ""  # 29: nobody paid before
    assert page.at(57, 66, 11) == "212 5550100"  # 33's phone
    assert page.at(60, 1, 16) == "ADAEZE OKAFOR MD"  # 31
    assert page.at(61, 14, 8) == "12 10 26"
    assert page.at(58, 23, 20) == "BRIGHTWATER KETAMINE"  # 32 cut at a word
    assert page.at(61, 24, 10) == "1245319599"  # 32a: the billing address stands in
    assert page.at(58, 50, 27) == "BRIGHTWATER KETAMINE CLINIC"  # 33
    assert page.at(59, 50, 19) == "1 MAIN ST SUITE 400"
    assert page.at(61, 51, 10) == "1245319599"  # 33a


def test_a_facility_of_its_own_fills_box_32() -> None:
    where = Facility("Brightwater Midtown", "1912345678", claim().patient.address)  # type: ignore[arg-type]
    (page,) = form_pages(claim(facility=where))
    assert page.at(58, 23, 19) == "BRIGHTWATER MIDTOWN"
    assert page.at(61, 24, 10) == "1912345678"


def test_a_secondary_claim_names_the_other_insured_and_what_they_paid() -> None:
    (page,) = form_pages(secondary(claim()))
    assert page.at(8, 50, 8) == "XQ998877"
    assert page.at(10, 50, 20) == "LUKASIEWICZ, TOMASZ"
    assert page.at(12, 38, 1) == "X"  # spouse
    assert page.at(18, 1, 19) == "LUKASIEWICZ, ZOE, A"  # 9
    assert page.at(20, 1, 10) == "W123456789"  # 9a
    assert page.at(26, 1, 19) == "AETNA CHOICE POS II"  # 9d
    assert page.at(26, 52, 1) == "X"  # 11d yes
    assert page.at(56, 62, 8) == " 1210 40"  # 29


def test_medicare_marks_box_1_and_none_in_box_11() -> None:
    first = claim()
    medicare = replace(first.subscriber, medicare=True, group_number="")
    (page,) = form_pages(replace(first, subscriber=medicare))
    assert page.at(8, 1, 1) == "X" and page.at(8, 31, 1) == " "
    assert page.at(18, 50, 4) == "NONE"


def test_a_corrected_claim_fills_box_22() -> None:
    (page,) = form_pages(claim(frequency=CORRECTED, original_reference="EOB-77120934"))
    assert page.at(38, 50, 1) == "7"
    assert page.at(38, 62, 12) == "EOB-77120934"
    assert page.at(40, 50, 11) == "PA2026-7781"  # 23


def test_a_nine_line_claim_takes_two_pages_with_the_total_on_the_last() -> None:
    first, second = form_pages(claim(lines=9))
    assert (first.number, first.of, second.number) == (1, 2, 2)
    assert first.at(56, 51, 9) == "CONTINUED"
    assert second.at(56, 52, 8) == " 5452 50"  # all nine lines
    assert second.lines[43].startswith("12 09 26")  # lines 7-9 continue on page 2
    assert second.lines[49] == ""  # no line 4 on page 2
    assert second.at(10, 1, 19) == first.at(10, 1, 19)  # each page names the patient


def test_form_text_is_capitals_a_to_z() -> None:
    assert form_text("Zoë Łukasiewicz-Ørsted, Jr.") == "ZOE LUKASIEWICZ-ORSTED, JR"
    assert form_text("12 Main St. #4") == "12 MAIN ST 4"
    assert form_text("阮文英") == ""


def test_every_problem_is_listed_at_once() -> None:
    bad_line = service_line(1, pointers=(1, 9), modifiers=("25", "KX", "GT", "59", "XU"))
    bad = replace(
        claim(), diagnoses=(), claim_number="NYC-2026-0000000042", note="x" * 60, lines=(bad_line,)
    )
    with pytest.raises(ValidationError) as caught:
        form_pages(bad)
    fields = {problem.field for problem in caught.value.problems}
    assert {"diagnoses", "claim_number", "note", "lines[1].pointers", "lines[1].modifiers"} <= (
        fields
    )


def test_a_name_with_no_printable_letters_is_refused() -> None:
    nameless = replace(claim().patient, family_name="阮", given_name="文英")
    with pytest.raises(ValidationError, match="no letters A-Z"):
        form_pages(claim(patient=nameless))


def test_bad_mode_offsets_and_empty_batches_are_refused() -> None:
    with pytest.raises(ValidationError, match="'print' or 'full'"):
        render_cms1500([claim()], mode="draft")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="offset"):
        render_cms1500([claim()], mode="print", offset_x_mm=40)
    with pytest.raises(ValidationError, match="no claim"):
        render_cms1500([], mode="print")
    with pytest.raises(ValidationError, match="offset"):
        alignment_page(0, float("nan"))


# ---------------------------------------------------------------------------------------
# The PDF
# ---------------------------------------------------------------------------------------


def test_print_mode_has_only_the_data_in_capitals_without_dollar_signs() -> None:
    (text,) = page_texts(render_cms1500([claim()], mode="print", stable=True))
    for expected in (
        "AETNA BETTER HEALTH",
        "W123456789",
        "LUKASIEWICZ, ZOE, A",
        "F332",
        "N450458002802 UN3",
        "J0013",
        "ABC",
        "1512 00",
        "1817 50",
        "NYC-2026-00042",
        "SIGNATURE ON FILE",
    ):
        assert expected in text
    assert "$" not in text and "PATIENT'S NAME" not in text
    assert text == text.upper()


def test_print_mode_sets_the_data_in_12_point_courier_on_the_grid() -> None:
    pdf = render_cms1500([claim()], mode="print", stable=True)
    fonts: set[tuple[str, float]] = set()

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip() and font is not None:
            fonts.add((str(font["/BaseFont"]), float(size)))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    assert fonts == {("/Courier", 12.0)}
    x, _y = placed(pdf, "W123456789")
    assert x == pytest.approx(grid_x(50), abs=0.01)


def test_full_mode_draws_the_form_around_the_same_data() -> None:
    (text,) = page_texts(render_cms1500([claim()], mode="full", stable=True))
    for caption in (
        "HEALTH INSURANCE CLAIM FORM",
        "1a. INSURED'S I.D. NUMBER",
        "21. DIAGNOSIS OR NATURE OF ILLNESS OR INJURY",
        "28. TOTAL CHARGE",
        "33. BILLING PROVIDER INFO & PH #",
        "APPROVED OMB-0938-1197 FORM 1500 (02-12)",
    ):
        assert caption in text
    assert "W123456789" in text and "1817 50" in text


def test_the_nine_line_claim_prints_two_pages_continued_then_totalled() -> None:
    first, second = page_texts(render_cms1500([claim(lines=9)], mode="full", stable=True))
    assert "CONTINUED" in first and "5452 50" not in first
    assert "5452 50" in second and "CONTINUED" not in second


def test_several_claims_print_one_after_another() -> None:
    pdf = render_cms1500([claim(lines=9), claim(claim_number="NYC-2026-00043")], mode="print")
    texts = page_texts(pdf)
    assert len(texts) == 3
    assert "NYC-2026-00043" in texts[2]


def test_offsets_move_the_data_by_millimetres() -> None:
    plain = placed(render_cms1500([claim()], mode="print"), "W123456789")
    moved = placed(
        render_cms1500([claim()], mode="print", offset_x_mm=3, offset_y_mm=-2), "W123456789"
    )
    assert moved[0] - plain[0] == pytest.approx(3 * mm, abs=0.01)
    assert moved[1] - plain[1] == pytest.approx(2 * mm, abs=0.01)  # up: the offset counts downwards


def test_stable_output_is_byte_for_byte_the_same() -> None:
    one = render_cms1500([claim()], mode="full", stable=True)
    assert one == render_cms1500([claim()], mode="full", stable=True)


def test_the_alignment_page_marks_the_boxes_and_says_its_offsets() -> None:
    pdf = alignment_page(2, -1.5)
    (text,) = page_texts(pdf)
    assert "ALIGNMENT TEST X +2.0 MM Y -1.5 MM" in text
    assert "X" * 28 in text  # the name boxes
    x, _y = placed(pdf, "XXXXXXXXXXXXXXXXX")  # box 1a, from column 50
    assert x == pytest.approx(grid_x(50) + 2 * mm, abs=0.01)


def test_charges_with_cents_keep_them() -> None:
    odd = service_line(1, charge=Decimal("99999.99"))
    (page,) = form_pages(replace(claim(), lines=(odd,)))
    assert page.lines[43][49:57] == "99999 99"
