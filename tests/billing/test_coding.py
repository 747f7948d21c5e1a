"""Payer coding, rule by rule: Medicare's G-codes, a commercial payer's visit with prolonged
staff time and the drug, IV and IM with the unlisted drug's NDC and note, a payer's own swaps,
and reading a payer's choices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from billing.test_capture import BOOK

from ketadesk.billing.capture import ChargeDraft, SessionFacts, charge_drafts
from ketadesk.billing.claims.coding import (
    COMMERCIAL,
    MEDICARE,
    PayerCoding,
    code_swaps_text,
    coded_drafts,
    coding_for,
    drug_line_note,
    parse_code_swaps,
    prolonged_staff_units,
    rems_note,
)
from ketadesk.clinic.models import Modality, Payer
from ketadesk.errors import InvalidValue
from ketadesk.scheduling.models import Route, SessionStatus

DAY = date(2026, 12, 1)
SPRAVATO_NDC = "50458002802"


def esketamine(
    dose: Decimal | None = Decimal(84),
    *,
    codes: str = "G2083,99213",
    monitoring: int | None = 120,
    day: date = DAY,
    established: bool = True,
    ndc: str = SPRAVATO_NDC,
) -> SessionFacts:
    return SessionFacts(
        session_id=1,
        modality=Modality.ESKETAMINE,
        service_codes=tuple(codes.split(",")),
        service_date=day,
        status=SessionStatus.COMPLETED,
        infusion_minutes=None,
        dose_mg=dose,
        monitoring_minutes=monitoring,
        route=Route.INTRANASAL,
        ndc=ndc,
        established=established,
    )


def ketamine(
    modality: Modality = Modality.IV,
    *,
    minutes: int | None = 100,
    dose: Decimal | None = Decimal("35.0"),
    ndc: str = "",
) -> SessionFacts:
    codes = "96365,96366,J3490" if modality is Modality.IV else "96372,J3490"
    return SessionFacts(
        session_id=1,
        modality=modality,
        service_codes=tuple(codes.split(",")),
        service_date=DAY,
        status=SessionStatus.COMPLETED,
        infusion_minutes=minutes if modality is Modality.IV else None,
        dose_mg=dose,
        monitoring_minutes=30,
        route=Route.IV if modality is Modality.IV else Route.IM,
        ndc=ndc,
    )


def lines(drafts: list[ChargeDraft]) -> list[tuple[str, str, int]]:
    return [(d.code, d.modifiers, d.units) for d in drafts]


def visit_payer(*, bills_drug: bool = True, swaps: dict[str, str] | None = None) -> PayerCoding:
    return PayerCoding(
        medicare=False, esketamine_billing="visit", bills_drug=bills_drug, swaps=swaps or {}
    )


# -- esketamine, Medicare's way ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("dose", "code", "price"),
    [
        (Decimal("28"), "G2082", Decimal("750.00")),
        (Decimal("56"), "G2082", Decimal("750.00")),
        (Decimal("56.1"), "G2083", Decimal("1050.00")),
        (Decimal("84"), "G2083", Decimal("1050.00")),
    ],
)
def test_medicare_bills_the_g_code_of_the_dose_alone(
    dose: Decimal, code: str, price: Decimal
) -> None:
    [line] = coded_drafts(esketamine(dose), BOOK, MEDICARE)
    assert (line.code, line.modifiers, line.units, line.amount) == (code, "", 1, price)
    assert line.ndc == "" and line.line_note == ""


def test_medicare_leaves_the_protocols_visit_out_with_a_note_and_bills_no_drug() -> None:
    drafts = coded_drafts(esketamine(codes="G2083,99213,J0013"), BOOK, MEDICARE)
    assert [d.code for d in drafts] == ["G2083"]
    assert "99213 left out" in drafts[0].review_note
    assert "modifier 25" in drafts[0].review_note
    # Without a visit listed there is nothing to explain.
    [alone] = coded_drafts(esketamine(codes="G2083"), BOOK, MEDICARE)
    assert alone.review_note == ""


@pytest.mark.parametrize(("rems_kx", "modifiers"), [(True, "KX"), (False, "")])
def test_kx_attests_the_rems_setting_when_the_payer_asks(rems_kx: bool, modifiers: str) -> None:
    coding = PayerCoding(medicare=True, esketamine_billing="g_code", rems_kx=rems_kx)
    assert lines(coded_drafts(esketamine(codes="G2083"), BOOK, coding)) == [("G2083", modifiers, 1)]


def test_a_first_esketamine_session_on_a_g_code_is_flagged_for_a_person() -> None:
    [line] = coded_drafts(esketamine(established=False, codes="G2083"), BOOK, MEDICARE)
    assert line.amount == Decimal("1050.00")  # kept, priced, but looked at
    assert "for established patients" in line.review_note
    assert "first completed session" in line.review_note


def test_no_dose_leaves_the_g_code_to_a_person() -> None:
    [line] = coded_drafts(esketamine(None, codes="G2083"), BOOK, MEDICARE)
    assert (line.code, line.amount) == ("G2083", Decimal("0.00"))
    assert "no esketamine dose is recorded" in line.review_note


def test_the_rems_note_names_the_setting_in_80_characters() -> None:
    assert rems_note("Midtown Ketamine Center") == (
        "SPRAVATO REMS CERTIFIED SETTING MIDTOWN KETAMINE CENTER"
    )
    assert len(rems_note("A" * 200)) == 80


# -- esketamine as a visit (commercial) ------------------------------------------------------


@pytest.mark.parametrize(
    ("visit", "minutes", "units"),
    [
        ("99213", 56, (0, 0)),
        ("99213", 57, (1, 0)),
        ("99213", 101, (1, 0)),
        ("99213", 102, (1, 1)),
        ("99213", 131, (1, 1)),
        ("99213", 132, (1, 2)),
        ("99214", 69, (0, 0)),
        ("99214", 70, (1, 0)),
        ("99214", 114, (1, 0)),
        ("99214", 115, (1, 1)),
        ("99212", 54, (1, 0)),
        ("99215", 120, (1, 1)),
        ("99211", 240, (0, 0)),  # 99211 takes no prolonged staff time
    ],
)
def test_prolonged_staff_time_counts_beyond_the_visits_typical_time(
    visit: str, minutes: int, units: tuple[int, int]
) -> None:
    assert prolonged_staff_units(visit, minutes) == units


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (56, [("99213", "", 1), ("J0013", "", 84)]),
        (57, [("99213", "", 1), ("99415", "", 1), ("J0013", "", 84)]),
        (102, [("99213", "", 1), ("99415", "", 1), ("99416", "", 1), ("J0013", "", 84)]),
        (132, [("99213", "", 1), ("99415", "", 1), ("99416", "", 2), ("J0013", "", 84)]),
    ],
)
def test_a_commercial_payer_gets_the_visit_staff_time_and_the_drug(
    minutes: int, expected: list[tuple[str, str, int]]
) -> None:
    drafts = coded_drafts(esketamine(monitoring=minutes), BOOK, COMMERCIAL)
    assert lines(drafts) == expected
    assert not any(d.code in ("G2082", "G2083") for d in drafts)
    assert all(d.review_note == "" for d in drafts)
    assert drafts[-1].ndc == SPRAVATO_NDC


def test_staff_time_is_left_to_a_person_without_monitoring_times() -> None:
    drafts = coded_drafts(esketamine(monitoring=None), BOOK, COMMERCIAL)
    assert [(d.code, d.amount) for d in drafts][:2] == [
        ("99213", Decimal("150.00")),
        ("99415", Decimal("0.00")),
    ]
    assert "monitoring start or discharge time is not recorded" in drafts[1].review_note


@pytest.mark.parametrize(
    ("day", "code"), [(date(2025, 12, 31), "S0013"), (date(2026, 1, 1), "J0013")]
)
def test_the_drug_is_j0013_from_2026_and_s0013_before_one_unit_a_mg(day: date, code: str) -> None:
    drug = coded_drafts(esketamine(day=day), BOOK, COMMERCIAL)[-1]
    assert (drug.code, drug.units, drug.amount) == (code, 84, Decimal("1470.00"))
    assert drug.ndc == SPRAVATO_NDC


@pytest.mark.parametrize(
    ("dose", "kit"), [(Decimal(56), "50458002802"), (Decimal(84), "50458002803")]
)
def test_without_a_recorded_ndc_the_drug_names_the_dose_kit(dose: Decimal, kit: str) -> None:
    drug = coded_drafts(esketamine(dose, ndc=""), BOOK, COMMERCIAL)[-1]
    assert (drug.code, drug.ndc, drug.review_note) == ("J0013", kit, "")


def test_a_drug_without_an_ndc_anywhere_is_flagged() -> None:
    drug = coded_drafts(esketamine(Decimal(28), ndc=""), BOOK, COMMERCIAL)[-1]
    assert drug.code == "J0013" and drug.ndc == ""
    assert "no NDC is recorded" in drug.review_note


def test_no_drug_line_when_a_pharmacy_bills_the_drug() -> None:
    drafts = coded_drafts(esketamine(), BOOK, visit_payer(bills_drug=False))
    assert [d.code for d in drafts] == ["99213", "99415", "99416"]


def test_a_protocol_without_a_visit_asks_for_the_level() -> None:
    drafts = coded_drafts(esketamine(codes="G2083"), BOOK, COMMERCIAL)
    assert [(d.code, d.amount) for d in drafts] == [
        ("99213", Decimal("0.00")),
        ("J0013", Decimal("1470.00")),
    ]
    assert "lists no office visit" in drafts[0].review_note


# -- IV and IM ketamine ----------------------------------------------------------------------


@pytest.mark.parametrize("coding", [MEDICARE, COMMERCIAL])
def test_iv_bills_its_hours_and_j3490_with_ndc_and_note(coding: PayerCoding) -> None:
    drafts = coded_drafts(ketamine(minutes=100), BOOK, coding)
    assert lines(drafts) == [("96365", "", 1), ("96366", "", 1), ("J3490", "", 1)]
    drug = drafts[-1]
    assert drug.ndc == "42023011410"  # the fee schedule's product
    assert drug.line_note == "KETAMINE HCL 50 MG/ML, 35 MG IV"
    assert drug.review_note == ""


def test_iv_bills_96366_from_the_times_even_when_the_protocol_leaves_it_out() -> None:
    facts = ketamine(minutes=151)
    facts = SessionFacts(**{**vars(facts), "service_codes": ("96365", "J3490")})
    assert lines(coded_drafts(facts, BOOK, COMMERCIAL))[:2] == [("96365", "", 1), ("96366", "", 2)]


def test_the_ndc_recorded_at_the_dose_wins() -> None:
    drug = coded_drafts(ketamine(ndc="00409427701"), BOOK, COMMERCIAL)[-1]
    assert drug.ndc == "00409427701"


def test_an_unlisted_drug_without_a_dose_is_flagged() -> None:
    drug = coded_drafts(ketamine(dose=None), BOOK, COMMERCIAL)[-1]
    assert drug.line_note == ""
    assert "no dose is recorded" in drug.review_note


def test_im_bills_the_injection_and_the_drug() -> None:
    drafts = coded_drafts(ketamine(Modality.IM, dose=Decimal("70.5")), BOOK, COMMERCIAL)
    assert lines(drafts) == [("96372", "", 1), ("J3490", "", 1)]
    assert drafts[-1].line_note == "KETAMINE HCL 50 MG/ML, 70.5 MG IM"


def test_the_drug_note_fits_a_claim_line() -> None:
    assert drug_line_note("Ketamine", Decimal("100.0"), None) == "KETAMINE, 100 MG"
    assert len(drug_line_note("K" * 100, Decimal(1), Route.IV)) == 80


# -- a payer's own codes ---------------------------------------------------------------------


def test_a_payer_still_on_s0013_gets_it_after_2026_at_the_same_price() -> None:
    drafts = coded_drafts(esketamine(), BOOK, visit_payer(swaps={"J0013": "S0013"}))
    drug = drafts[-1]
    assert (drug.code, drug.units, drug.amount, drug.ndc) == (
        "S0013",
        84,
        Decimal("1470.00"),
        SPRAVATO_NDC,
    )


def test_a_swap_to_a_priced_code_takes_its_price() -> None:
    drafts = coded_drafts(esketamine(), BOOK, visit_payer(swaps={"99213": "99214"}))
    assert (drafts[0].code, drafts[0].amount, drafts[0].billed_charge) == (
        "99214",
        Decimal("200.00"),
        Decimal("300.00"),
    )
    assert drafts[1].code == "99415"  # still counted beyond the visit the protocol lists


def test_self_pay_is_the_capture_rules_unchanged() -> None:
    for facts in (esketamine(), ketamine(), ketamine(Modality.IM)):
        assert coded_drafts(facts, BOOK, None) == charge_drafts(facts, BOOK)


# -- reading a payer --------------------------------------------------------------------------


def payer(**columns: object) -> Payer:
    values: dict[str, object] = {
        "name": "Medicare Part B",
        "edi_payer_id": "12202",
        "is_medicare": True,
        "esketamine_billing": "",
        "bills_drug": False,
        "rems_kx": True,
        "code_swaps": "",
    }
    return Payer(**{**values, **columns})


def test_a_payers_choices_become_its_coding() -> None:
    assert coding_for(payer()) == PayerCoding(
        medicare=True, esketamine_billing="g_code", bills_drug=False, rems_kx=True
    )
    commercial = coding_for(payer(is_medicare=False, code_swaps="j0013 > s0013"))
    assert commercial.esketamine_billing == "visit"
    assert dict(commercial.swaps) == {"J0013": "S0013"}
    # The payer's own choice wins over the default.
    assert coding_for(payer(esketamine_billing="visit")).esketamine_billing == "visit"


def test_a_payer_with_an_unknown_billing_choice_is_refused_in_words() -> None:
    with pytest.raises(InvalidValue, match="bills esketamine as 'weekly'"):
        coding_for(payer(esketamine_billing="weekly"))


def test_swaps_are_read_and_every_bad_one_named() -> None:
    assert parse_code_swaps("J0013>S0013, 99213 > 99214") == {"J0013": "S0013", "99213": "99214"}
    assert code_swaps_text(" j0013>s0013 ;99213>99214") == "J0013>S0013,99213>99214"
    assert parse_code_swaps("") == {}
    with pytest.raises(InvalidValue) as error:
        parse_code_swaps("J0013, 99213>99213, 1234>99214, J0013>S0013, J0013>G2083")
    message = str(error.value)
    assert "'J0013' is not a swap" in message
    assert "swaps 99213 for itself" in message
    assert "'1234>99214'" in message
    assert "J0013 is swapped twice (S0013 and G2083)" in message
