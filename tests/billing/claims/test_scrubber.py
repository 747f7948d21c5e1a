"""The scrubber, rule by rule: a clean claim has no problems, and each rule finds its own.

Every test starts from :func:`clean` (which :func:`check` passes) and breaks one thing, so
each fails if its rule is taken out of :data:`RULES`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from ketadesk.billing.claims.scrubber import RULES, ClaimFacts, LineFacts, Problem, check
from ketadesk.clinic.models import Relationship

DAY = date(2026, 12, 1)
NPI, ORG_NPI = "1679576722", "1245319599"
COMMERCIAL = frozenset({"99213", "99415", "99416", "J0013", "G2082", "G2083", "96365",
                        "96366", "J3490"})  # fmt: skip


def line(position: int, code: str, **changes: object) -> LineFacts:
    values: dict[str, object] = {
        "position": position, "service_date": DAY, "code": code, "modifiers": (), "units": 1,
        "billed": Decimal("100.00"), "pointers": (1,), "ndc": "", "note": "",
    }  # fmt: skip
    values.update(changes)
    return LineFacts(**values)  # type: ignore[arg-type]


def clean(**changes: object) -> ClaimFacts:
    """An esketamine visit billed to a commercial payer, with nothing wrong."""
    values: dict[str, object] = {
        "number": "CL-2026-00001",
        "service_date": DAY,
        "today": date(2026, 12, 7),
        "filing_deadline": date(2027, 3, 1),
        "diagnoses": ("F33.2", "F43.10"),
        "lines": (
            line(1, "99213"),
            line(2, "99415"),
            line(3, "J0013", units=84, ndc="50458002803", note="SPRAVATO 84 MG"),
        ),
        "payer_name": "Aetna",
        "medicare": False,
        "rems_kx": False,
        "covered": COMMERCIAL,
        "swaps": {},
        "member_id": "W123456789",
        "relationship": Relationship.SELF,
        "subscriber_name": "",
        "subscriber_dob": None,
        "prior_auth_number": "PA-1",
        "auth_from": date(2026, 1, 1),
        "auth_to": date(2026, 12, 31),
        "sessions_authorized": 8,
        "sessions_claimed": 3,
        "billing_npi": ORG_NPI,
        "tin": "123456789",
        "rendering_npi": NPI,
    }
    values.update(changes)
    return ClaimFacts(**values)  # type: ignore[arg-type]


def fields(problems: list[Problem]) -> list[str]:
    return [p.field for p in problems]


def only(facts: ClaimFacts) -> Problem:
    (problem,) = check(facts)
    return problem


def test_a_clean_claim_passes() -> None:
    assert check(clean()) == []


def test_every_rule_is_in_the_list_once() -> None:
    assert len(RULES) == len(set(RULES)) == 15


# --- who is billed, and by whom --------------------------------------------------------


def test_a_missing_member_id() -> None:
    assert only(clean(member_id=" ")).field == "member id"


def test_a_dependant_needs_the_subscribers_name_and_birth_date() -> None:
    found = check(clean(relationship=Relationship.CHILD))
    assert fields(found) == ["subscriber", "subscriber"]
    assert "child" in found[0].message
    filled = clean(relationship=Relationship.CHILD, subscriber_name="Łukasiewicz, Tomasz",
                   subscriber_dob=date(1983, 7, 2))  # fmt: skip
    assert check(filled) == []


def test_the_patients_address_and_the_locations_phone() -> None:
    assert only(clean(patient_address=False)).field == "patient address"
    assert only(clean(billing_phone="")).field == "billing phone"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"billing_npi": "1245319598"}, "billing NPI"),  # check digit off by one
        ({"tin": "12-34"}, "TIN"),
        ({"rendering_npi": "123"}, "rendering NPI"),
        ({"rendering_npi": None}, "rendering provider"),
    ],
)
def test_provider_numbers(change: dict[str, object], field: str) -> None:
    assert only(clean(**change)).field == field


# --- diagnoses and pointers ------------------------------------------------------------


def test_no_diagnosis() -> None:
    found = fields(check(clean(diagnoses=())))
    assert found[0] == "diagnoses" and "line 1 (99213) pointers" in found


def test_more_than_twelve_diagnoses() -> None:
    many = (
        tuple(f"F33.{n}" for n in (0, 1, 2, 3, 8, 9))
        + tuple(f"F41.{n}" for n in (0, 1, 3, 8, 9))
        + ("F43.10", "F43.12")
    )
    assert any("at most 12" in p.message for p in check(clean(diagnoses=many)))


def test_a_category_is_not_billable() -> None:
    problem = only(clean(diagnoses=("F32", "F43.10")))
    assert problem.field == "diagnoses" and "not a billable code" in problem.message


def test_pointers_point_at_one_to_four_existing_diagnoses() -> None:
    lines = (line(1, "99213", pointers=()),)
    assert only(clean(lines=lines)).field == "line 1 (99213) pointers"
    lines = (line(1, "99213", pointers=(1, 2, 1, 2, 1)),)
    assert "four diagnoses at most" in only(clean(lines=lines)).message
    lines = (line(1, "99213", pointers=(3,)),)
    assert "points at diagnosis 3, but the claim has 2" in only(clean(lines=lines)).message


# --- coding ----------------------------------------------------------------------------


def test_units_price_and_modifiers_of_a_line() -> None:
    assert "at least one unit" in only(clean(lines=(line(1, "99213", units=0),))).message
    assert "$0.00" in only(clean(lines=(line(1, "99213", billed=Decimal("0.00")),))).message
    five = ("25", "59", "GT", "95", "XU")
    assert "four modifiers" in only(clean(lines=(line(1, "99213", modifiers=five),))).message


def test_a_service_the_payer_does_not_cover() -> None:
    problem = only(clean(covered=COMMERCIAL - {"99415"}))
    assert problem.field == "line 2 (99415)" and "does not cover 99415" in problem.message


def test_medicare_bundles_the_drug_and_the_visit_into_the_g_code() -> None:
    lines = (
        line(1, "G2083"),
        line(2, "J0013", units=84, ndc="50458002803", note="SPRAVATO"),
        line(3, "99213"),
    )
    found = check(clean(medicare=True, lines=lines))
    assert fields(found) == ["line 2 (J0013)", "line 3 (99213)"]
    assert "remove the drug line" in found[0].message and "modifier 25" in found[1].message
    with_25 = (lines[0], line(3, "99213", modifiers=("25",)))
    assert check(clean(medicare=True, lines=with_25)) == []
    assert check(clean(medicare=False, lines=(lines[0], lines[2]))) == []  # a rule of Medicare


def test_kx_when_the_payer_asks_for_rems_attestation() -> None:
    plain = (line(1, "G2082"),)
    assert "modifier KX" in only(clean(rems_kx=True, lines=plain)).message
    assert check(clean(rems_kx=True, lines=(line(1, "G2082", modifiers=("KX",)),))) == []


def test_j0013_from_2026_s0013_before_unless_the_payer_swaps() -> None:
    drug = {"units": 84, "ndc": "50458002803", "note": "SPRAVATO"}
    old_day = date(2025, 12, 31)
    before = (line(1, "J0013", service_date=old_day, **drug),)
    covered = COMMERCIAL | {"S0013"}
    assert "as S0013, not J0013" in only(clean(lines=before, covered=covered)).message
    after = (line(1, "S0013", **drug),)
    assert "as J0013, not S0013" in only(clean(lines=after, covered=covered)).message
    swapped = clean(lines=after, covered=covered, swaps={"J0013": "S0013"})
    assert check(swapped) == []


def test_drug_lines_need_the_ndc_and_j3490_a_description() -> None:
    assert "11-digit NDC" in only(clean(lines=(line(1, "J0013", units=84, note="X"),))).message
    unlisted = (line(1, "96365"), line(2, "J3490", ndc="42023011410"))
    assert "unlisted code priced by hand" in only(clean(lines=unlisted)).message


@pytest.mark.parametrize(
    ("add_on", "needs"), [("96366", "96365"), ("99415", "an office visit"), ("99416", "99415")]
)
def test_an_add_on_code_needs_its_primary(add_on: str, needs: str) -> None:
    problem = only(clean(lines=(line(1, add_on),)))
    assert problem.message == f"{add_on} is an add-on code: bill it with {needs}"


# --- authorisation, deadlines, duplicates ----------------------------------------------


def test_esketamine_needs_a_prior_authorisation() -> None:
    assert only(clean(prior_auth_number="")).field == "prior authorisation"
    secondary = clean(prior_auth_number="", secondary=True)
    assert check(secondary) == []  # the primary's authorisation carried it


def test_an_authorisation_out_of_its_dates_or_used_up() -> None:
    assert "ended on 2026-11-30" in only(clean(auth_to=date(2026, 11, 30))).message
    assert "starts on 2026-12-02" in only(clean(auth_from=date(2026, 12, 2))).message
    assert "all 8 authorised sessions" in only(clean(sessions_claimed=8)).message
    assert check(clean(sessions_claimed=7)) == []


def test_timely_filing_already_past() -> None:
    late = clean(today=date(2027, 3, 2))
    assert only(late).field == "timely filing"
    assert check(clean(today=date(2027, 3, 1))) == []  # the last day still counts


def test_a_duplicate_of_a_claim_already_sent() -> None:
    problem = only(clean(duplicates=("CL-2026-00007",)))
    assert problem.field == "duplicate" and "CL-2026-00007" in problem.message


def test_every_problem_is_listed_at_once() -> None:
    broken = replace(clean(), member_id="", prior_auth_number="", today=date(2027, 6, 1))
    assert fields(check(broken)) == ["member id", "prior authorisation", "timely filing"]
