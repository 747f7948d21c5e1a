"""The code sets: ICD-10-CM, CPT, HCPCS, modifiers, places of service, descriptions, NDCs."""

from __future__ import annotations

import sys
from decimal import Decimal

import pytest
from clinic.validation_helpers import expect_rejected

from ketadesk.clinic import codes

# --- ICD-10-CM --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("F32.2", "F32.2"),  # MDD, single episode, severe without psychotic features
        ("F33.1", "F33.1"),  # MDD, recurrent, moderate
        ("F33.2", "F33.2"),
        ("F33.9", "F33.9"),
        ("F43.10", "F43.10"),  # PTSD, unspecified
        ("F43.12", "F43.12"),
        ("F41.1", "F41.1"),  # generalized anxiety disorder
        ("G89.29", "G89.29"),  # other chronic pain
        ("F31.81", "F31.81"),  # bipolar II
        ("F32.A", "F32.A"),  # depression, unspecified
        ("F32.89", "F32.89"),
        ("R45.851", "R45.851"),  # suicidal ideations
        ("Z79.899", "Z79.899"),
        ("T40.1X1A", "T40.1X1A"),  # seven characters with placeholder X
        ("F99", "F99"),  # a category that is billable on its own
        ("I10", "I10"),
        ("f32.1", "F32.1"),
        ("F321", "F32.1"),
        (" F32.1 ", "F32.1"),
        ("f32a", "F32.A"),
        ("f4310", "F43.10"),
    ],
)
def test_icd10cm_accepts_billable_codes(raw: str, expected: str) -> None:
    assert codes.icd10cm(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ("F32", ("F32 is a category, not a billable code", "such as F32.0, F32.1 or F32.2")),
        ("f33", ("F33 is a category", "F33.0")),
        ("F43.1", ("F43.1 is a subcategory, not a billable code", "F43.10")),
        ("F431", ("F43.1 is a subcategory",)),
        ("G89.2", ("G89.2 is a subcategory", "G89.21")),
        ("F31.8", ("F31.8 is a subcategory", "F31.81")),
        # X99.9 exists, but only with a seventh character (encounter).
        ("X99.9", ("X99.9 is a subcategory", "X99.9XXA")),
    ],
)
def test_icd10cm_rejects_non_billable_codes_and_suggests_specific_ones(
    raw: str, fragments: tuple[str, ...]
) -> None:
    expect_rejected(codes.icd10cm, raw, *fragments)


@pytest.mark.parametrize("raw", ["Z99.99", "F32.7", "U99.9", "F43.19"])
def test_icd10cm_rejects_codes_that_do_not_exist(raw: str) -> None:
    expect_rejected(codes.icd10cm, raw, f"{raw} is not an ICD-10-CM code; check for a typo")


@pytest.mark.parametrize(
    "raw", ["", "   ", "32.1", "F3", "F32.12345", "FF32", "F3.21", "F32-1", "F32..1", "F 32.1"]
)
def test_icd10cm_rejects_junk_with_the_expected_shape(raw: str) -> None:
    message = expect_rejected(
        codes.icd10cm, raw, "is not shaped like an ICD-10-CM code", "e.g. F32.1"
    )
    assert message.startswith(raw.strip() or "a blank value") or message.startswith('"')


def test_icd10cm_reads_the_packaged_code_list_without_importing_the_package() -> None:
    code_list = codes._codes_from_package_data()
    assert code_list is not None, "simple_icd_10_cm's data layout changed: the slow path is in use"
    assert len(code_list) > 70_000
    assert {"F32A", "F4310", "T401X1A", "F32"} <= set(code_list)
    assert not any(c.isdigit() or "-" in c for c in code_list)  # no chapters or blocks


@pytest.mark.slow
def test_icd10cm_index_agrees_with_the_package_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast index must say exactly what simple_icd_10_cm's own API says; ~3 s."""
    fast = codes._icd10cm_index()
    monkeypatch.setattr(codes, "_codes_from_package_data", lambda: None)
    codes._icd10cm_index.cache_clear()
    try:
        assert codes.icd10cm("f43.10") == "F43.10"  # through the package API (fallback path)
        expect_rejected(codes.icd10cm, "F32", "F32 is a category")
        assert codes._icd10cm_index() == fast
        import simple_icd_10_cm as icd

        for code in icd.get_all_codes(with_dots=True):
            if code.isdigit() or "-" in code:
                continue
            assert (code.replace(".", "") in fast.billable_set) == icd.is_leaf(code), code
    finally:
        codes._icd10cm_index.cache_clear()
    assert "simple_icd_10_cm" in sys.modules


# --- CPT, HCPCS, procedure codes, modifiers ---------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("99214", "99214"), ("90837", "90837"), ("0591T", "0591T"), ("1036f", "1036F"),
     (" 96130 ", "96130")],
)  # fmt: skip
def test_cpt_accepts(raw: str, expected: str) -> None:
    assert codes.cpt(raw) == expected


@pytest.mark.parametrize("raw", ["9921", "992145", "0591X", "F1036", "ABCDE", "G2082", ""])
def test_cpt_rejects(raw: str) -> None:
    expect_rejected(codes.cpt, raw, "is not a CPT code", "5 digits", "4 digits then F or T")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("G2082", "G2082"), ("g2083", "G2083"), ("S0013", "S0013"), ("J3490", "J3490"),
     ("A4206", "A4206"), ("V2020", "V2020")],
)  # fmt: skip
def test_hcpcs_accepts(raw: str, expected: str) -> None:
    assert codes.hcpcs(raw) == expected


@pytest.mark.parametrize(
    "raw", ["D1234", "I1234", "O1234", "N1234", "F1234", "W1234", "G208", "G20822", "99214", ""]
)
def test_hcpcs_rejects(raw: str) -> None:
    expect_rejected(codes.hcpcs, raw, "is not a HCPCS Level II code", "then 4 digits")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("99214", "99214"), ("0591t", "0591T"), ("g2082", "G2082"), (" J3490 ", "J3490")],
)
def test_procedure_code_accepts_cpt_or_hcpcs(raw: str, expected: str) -> None:
    assert codes.procedure_code(raw) == expected


@pytest.mark.parametrize("raw", ["9921", "D1234", "G-2082", "ketamine", ""])
def test_procedure_code_rejects_and_explains_both_forms(raw: str) -> None:
    expect_rejected(
        codes.procedure_code, raw, "is neither a CPT code", "4 digits then F or T", "HCPCS Level II"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("25", "25"), ("59", "59"), ("gt", "GT"), ("XU", "XU"), (" 95 ", "95"), ("Kx", "KX")],
)
def test_modifier_accepts(raw: str, expected: str) -> None:
    assert codes.modifier(raw) == expected


@pytest.mark.parametrize("raw", ["2", "259", "G-", "G T", "", "ü5"])
def test_modifier_rejects(raw: str) -> None:
    expect_rejected(codes.modifier, raw, "is not a modifier", "exactly 2 letters or digits")


# --- places of service ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("11", "11"), (" 02 ", "02"), ("10", "10"), ("12", "12"), ("49", "49"), ("53", "53"),
     ("72", "72")],
)  # fmt: skip
def test_pos_code_accepts(raw: str, expected: str) -> None:
    assert codes.pos_code(raw) == expected


def test_place_of_service_holds_the_codes_a_clinic_uses() -> None:
    assert {"02", "10", "11", "12", "19", "22", "49", "53", "72"} <= codes.PLACE_OF_SERVICE.keys()
    assert codes.PLACE_OF_SERVICE["11"] == "Office"
    assert all(len(code) == 2 and code.isdigit() for code in codes.PLACE_OF_SERVICE)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("1", "1 is not a place-of-service code; expected 2 digits such as 11 (office)"),
        ("011", "expected 2 digits"),
        ("ab", "expected 2 digits"),
        ("1 1", "expected 2 digits"),
        ("", "a blank value is not a place-of-service code"),
        ("99", "99 is not a place of service KetaDesk bills; expected one of 02, 10, 11"),
        ("21", "21 is not a place of service KetaDesk bills"),
    ],
)
def test_pos_code_rejects(raw: str, fragment: str) -> None:
    expect_rejected(codes.pos_code, raw, fragment)


# --- descriptions ---------------------------------------------------------------------------


def test_a_diagnosis_reads_in_the_code_sets_words() -> None:
    described = codes._descriptions_from_package_data()
    assert described["F33.2"] == (
        "Major depressive disorder, recurrent severe without psychotic features"
    )
    assert codes.diagnosis_description("F33.2") == described["F33.2"]
    assert codes.diagnosis_description("F43.10") == "Post-traumatic stress disorder, unspecified"


@pytest.mark.slow
def test_a_code_the_tabular_file_builds_is_asked_of_the_package() -> None:
    """Seventh-character codes are not written out in the XML; the package answers."""
    assert "T40.1X1A" not in codes._descriptions_from_package_data()
    assert codes.diagnosis_description("T40.1X1A").startswith("Poisoning by heroin")
    assert codes.diagnosis_description("Z99.99") == ""


# --- National Drug Codes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234-5678-90", "01234567890"),  # 4-4-2: the labeler gets the zero
        ("12345-678-90", "12345067890"),  # 5-3-2: the product
        ("12345-6789-0", "12345678900"),  # 5-4-1: the package
        ("12345-6789-01", "12345678901"),  # already 5-4-2
        ("12345678901", "12345678901"),
        (" 0409 4277 01 ", "00409427701"),
    ],
)
def test_ndc_becomes_the_11_digit_5_4_2_form(raw: str, expected: str) -> None:
    assert codes.ndc(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("1234567890", "1234567890: add the dashes, e.g. 1234-5678-90"),
        ("123-4567-890", "123-4567-890: no NDC has 3-4-3 digits, e.g. 1234-5678-90"),
        ("12345-67890-1", "no NDC has 5-5-1 digits"),
        ("1234-5678", "1234-5678 is not an NDC, e.g. 1234-5678-90"),
        ("ketamine", "is not an NDC"),
        ("١٢٣٤-٥٦٧٨-٩٠", "is not an NDC"),  # Arabic-Indic digits
        ("", "a blank value is not an NDC"),
    ],
)
def test_ndc_refuses_other_shapes_in_words(raw: str, fragment: str) -> None:
    expect_rejected(codes.ndc, raw, fragment)


def test_an_ndc_reads_5_4_2_and_goes_on_a_claim_with_its_unit() -> None:
    assert codes.ndc_text("01234567890") == "01234-5678-90"
    assert codes.ndc_claim_text("01234567890", Decimal("35.0")) == "N401234567890 ME35"
    assert codes.ndc_claim_text("01234567890", Decimal("37.50")) == "N401234567890 ME37.5"
    assert codes.ndc_claim_text("01234567890", Decimal(2), "UN") == "N401234567890 UN2"


@pytest.mark.parametrize(
    ("code", "drug"), [("J3490", True), ("J0013", True), ("S0013", True), ("96365", False)]
)
def test_drug_codes_are_the_j_codes_and_esketamine_per_mg(code: str, drug: bool) -> None:
    assert codes.is_drug_code(code) is drug
