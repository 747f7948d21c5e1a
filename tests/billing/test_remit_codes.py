"""The remittance code lists (resources/remit_codes.toml) and the lookups over them."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from ketadesk.billing.claims import remit_codes as rc
from ketadesk.billing.claims.remit_codes import RemitKind

ROOT = Path(__file__).resolve().parents[2]
LONGEST = 160

# The codes a behavioural-health or infusion clinic meets most; the list must describe them.
EVERYDAY_CARCS = (
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "18",
    "19", "22", "23", "24", "26", "27", "29", "31", "32", "33", "34", "35", "39", "40", "42", "45",
    "49", "50", "51", "55", "56", "57", "58", "59", "66", "94", "96", "97", "100", "107", "109",
    "119", "129", "131", "133", "140", "142", "146", "150", "151", "163", "167", "170", "171",
    "177", "181", "182", "183", "184", "185", "186", "187", "189", "197", "198", "199", "204",
    "208", "226", "227", "234", "236", "242", "243", "246", "252", "253", "256", "273", "284",
    "A1", "B7", "B9", "B11", "B12", "B13", "B15", "B16", "B22",
)
EVERYDAY_RARCS = (
    "M15", "M20", "M51", "M76", "M77", "M79", "M80", "M119", "MA04", "MA18", "MA130", "N4", "N20",
    "N30", "N56", "N95", "N130", "N174", "N290", "N362", "N386", "N432", "N522", "N657", "N807",
)


def _raw() -> dict[str, dict[str, dict[str, str]]]:
    with rc.CODES_FILE.open("rb") as handle:
        return tomllib.load(handle)


def test_the_file_parses_into_groups_reasons_and_remarks() -> None:
    raw = _raw()
    assert set(raw) == {"groups", "carc", "rarc"}
    assert len(raw["carc"]) >= 150
    assert len(raw["rarc"]) >= 80


def test_every_carc_has_text_a_known_kind_and_no_stray_fields() -> None:
    for code, entry in _raw()["carc"].items():
        assert entry["text"].strip(), code
        assert entry["kind"] in {"contractual", "patient", "denial", "info"}, code
        assert set(entry) <= {"text", "kind", "action"}, code


def test_every_rarc_has_text_and_no_kind() -> None:
    for code, entry in _raw()["rarc"].items():
        assert entry["text"].strip(), code
        assert set(entry) <= {"text", "action"}, code


def test_every_denial_and_patient_share_says_what_to_do() -> None:
    for code in rc.carcs():
        if code.kind in (RemitKind.DENIAL, RemitKind.PATIENT):
            assert code.action.strip(), code.code


@pytest.mark.parametrize("code", [*rc.carcs(), *rc.rarcs()], ids=lambda code: code.code)
def test_descriptions_are_short_sentences(code: rc.RemitCode) -> None:
    assert 0 < len(code.text) <= LONGEST
    assert code.text[0].isupper() and code.text.endswith("."), code.text
    assert len(code.action) <= LONGEST
    assert not code.action.endswith("."), "actions are imperatives without a full stop"


def test_group_descriptions_are_short_sentences() -> None:
    for group in rc.group_codes():
        text = rc.group_text(group)
        assert 0 < len(text) <= LONGEST and text.endswith("."), group


def test_codes_are_written_as_lookups_find_them() -> None:
    for code in rc.carcs():
        assert rc.carc(code.code) is code
    for code in rc.rarcs():
        assert rc.rarc(code.code) is code


@pytest.mark.parametrize("code", EVERYDAY_CARCS)
def test_the_everyday_reason_codes_are_described(code: str) -> None:
    assert rc.carc(code).known, code


@pytest.mark.parametrize("code", EVERYDAY_RARCS)
def test_the_everyday_remark_codes_are_described(code: str) -> None:
    assert rc.rarc(code).known, code


def test_the_patient_share_codes() -> None:
    for code in ("1", "2", "3"):
        assert rc.carc(code).kind is RemitKind.PATIENT
        assert rc.carc(code).action == "Bill the patient"
    assert "Deductible" in rc.carc("1").text
    assert "Coinsurance" in rc.carc("2").text
    assert "Copay" in rc.carc("3").text


def test_the_contractual_codes() -> None:
    for code in ("45", "253", "59", "94", "131", "42"):
        assert rc.carc(code).kind is RemitKind.CONTRACTUAL, code
    assert "fee schedule" in rc.carc("45").text


def test_the_denials_say_what_to_do() -> None:
    assert rc.carc("197").kind is RemitKind.DENIAL
    assert rc.carc("197").action == "Get the prior authorisation and resubmit"
    assert rc.carc("50").action == "Appeal with medical necessity documentation"
    assert rc.carc("29").action.startswith("Write off: timely filing was missed")
    assert rc.carc("16").action == "Correct and resubmit"
    assert rc.carc("18").kind is RemitKind.DENIAL


def test_remarks_are_information_with_an_action_where_one_is_clear() -> None:
    assert rc.rarc("N130").kind is RemitKind.INFO
    assert "benefit" in rc.rarc("N130").text
    assert rc.rarc("MA130").action == "Submit a new, corrected claim"
    assert rc.rarc("MA18").action == ""


def test_lookups_forgive_case_spaces_and_leading_zeros() -> None:
    assert rc.carc(" 045 ") is rc.carc("45")
    assert rc.carc("a1") is rc.carc("A1")
    assert rc.rarc("n130 ") is rc.rarc("N130")
    assert rc.group_text(" co") == rc.group_text("CO")


def test_an_unknown_reason_code_is_described_not_raised_and_lands_on_the_worklist() -> None:
    unknown = rc.carc("999")
    assert not unknown.known
    assert unknown.code == "999"
    assert "999 is not in KetaDesk's list" in unknown.text
    assert rc.CARC_LOOKUP in unknown.text
    assert unknown.kind is RemitKind.DENIAL and unknown.action
    assert rc.is_denial("CO", "999")


def test_an_unknown_remark_code_points_to_the_remark_list() -> None:
    unknown = rc.rarc("N99999")
    assert not unknown.known
    assert unknown.kind is RemitKind.INFO
    assert "N99999 is not in KetaDesk's list" in unknown.text
    assert rc.RARC_LOOKUP in unknown.text


def test_a_missing_code_says_the_payer_sent_none() -> None:
    assert rc.carc("").text == "Adjustment reason code missing: the payer sent none."
    assert rc.rarc("  ").text == "Remark code missing: the payer sent none."


def test_the_five_group_codes() -> None:
    assert rc.group_codes() == ("CO", "PR", "OA", "PI", "CR")
    assert rc.group_text("PR") == "Patient responsibility: the patient owes this amount."
    assert "contract" in rc.group_text("CO")
    assert "reversal" in rc.group_text("CR")


def test_an_unknown_group_code_is_described_not_raised() -> None:
    assert rc.group_text("ZZ") == (
        f"Group code ZZ is not in KetaDesk's list; look it up at {rc.CARC_LOOKUP}."
    )


def test_describe_names_group_reason_and_remarks() -> None:
    assert rc.describe("co", "45") == f"CO-45: {rc.carc('45').text}"
    assert rc.describe("CO", "16", ["M51", "n290"]) == (
        f"CO-16: {rc.carc('16').text} M51: {rc.rarc('M51').text} N290: {rc.rarc('N290').text}"
    )
    assert "not in KetaDesk's list" in rc.describe("OA", "999")


@pytest.mark.parametrize(
    ("group", "reason", "contractual"),
    [
        ("CO", "45", True),
        ("CO", "253", True),
        ("co", "045", True),
        ("PR", "45", False),  # out of network: the patient owes the difference
        ("PI", "45", False),
        ("CO", "50", False),
        ("CO", "1", False),
        ("OA", "23", False),
        ("CO", "999", False),
    ],
)
def test_is_contractual(group: str, reason: str, contractual: bool) -> None:
    assert rc.is_contractual(group, reason) is contractual


@pytest.mark.parametrize(
    ("group", "reason", "denial"),
    [
        ("CO", "50", True),
        ("CO", "197", True),
        ("OA", "18", True),
        ("PI", "16", True),
        ("PR", "50", False),  # the patient owes it: billed, not worked as a denial
        ("CR", "50", False),
        ("CO", "45", False),
        ("PR", "1", False),
        ("OA", "23", False),
    ],
)
def test_is_denial(group: str, reason: str, denial: bool) -> None:
    assert rc.is_denial(group, reason) is denial


def test_next_step_follows_who_carries_the_amount() -> None:
    assert rc.next_step("PR", "1") == "Bill the patient"
    assert rc.next_step("PR", "204") == "Bill the patient"
    assert rc.next_step("CO", "197") == "Get the prior authorisation and resubmit"
    assert rc.next_step("CO", "45") == "Write off the difference as the contract requires"
    assert rc.next_step("CO", "2") == "Write off: the payer did not assign this to the patient"
    assert rc.next_step("CR", "45") == ""
    assert rc.next_step("OA", "23") == ""


def test_the_wheel_ships_the_file() -> None:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        package_data = tomllib.load(handle)["tool"]["setuptools"]["package-data"]["ketadesk"]
    shipped = "resources/remit_codes.toml"
    assert (ROOT / "ketadesk" / shipped).is_file()
    assert any(fnmatch(shipped, pattern) for pattern in package_data)
