"""The 837P writer: one claim checked segment by segment against the 005010X222A1 guide,
and every kind of claim the clinic sends (secondary, corrected, void, unlisted drug,
dependent patient) passing pyx12."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from billing.edi.edi_builders import (
    CLINIC,
    JANE,
    UHC,
    batch,
    claim,
    loop_of,
    money,
    segments,
    subscriber,
    visit,
)

from ketadesk.billing.edi.model import (
    Address,
    Adjustment,
    Facility,
    LinePayment,
    OtherPayer,
    PayerParty,
    Person,
)
from ketadesk.billing.edi.validate import problems
from ketadesk.billing.edi.x837 import write_837p
from ketadesk.errors import InvalidValue, ValidationError

MEDICAID = PayerParty(
    "Illinois Medicaid", "IL121", Address("PO Box 19105", "Springfield", "IL", "62794")
)


def hand_checked_claim() -> str:
    """An esketamine visit for a commercial payer: the E/M with modifier 25 and the drug."""
    form = claim(
        "KD-2026-000123",
        diagnoses=("F32.2", "F33.1"),
        prior_authorization="PA778899",
        note="REMS certified setting",
        facility=Facility(
            "Lakeside North", "1902809994", Address("5 Lake Rd", "Springfield", "IL", "627021111")
        ),
        lines=(
            visit("L1", "99213", "150.00", modifiers=("25",), pointers=(1, 2)),
            visit(
                "L2", "J0013", "840.00", units=Decimal("84"), ndc="50458-0028-02",
                ndc_quantity=Decimal("1"), ndc_unit="UN",
            ),
        ),
    )  # fmt: skip
    return write_837p(batch(form, control_number=42))


def test_one_claim_matches_the_implementation_guide_segment_by_segment() -> None:
    expected = [
        # ISA: authorization/security "00" with 10 spaces, sender/receiver "ZZ" padded to 15,
        # YYMMDD HHMM, repetition "^", version 00501, ISA13 nine digits, no TA1, production,
        # component separator ":"
        "ISA*00*          *00*          *ZZ*LKC0001        *ZZ*330897513      "
        "*261201*0930*^*00501*000000042*0*P*:",
        # GS: HC health care claim, sender, receiver, CCYYMMDD, HHMM, GS06 group control
        # number, X (accredited standards committee X12), GS08 the guide's version
        "GS*HC*LKC0001*330897513*20261201*0930*42*X*005010X222A1",
        # ST: 837, ST02 control number (at least 4 characters), ST03 the guide's version
        "ST*837*0042*005010X222A1",
        # BHT: 0019 hierarchical structure, 00 original, reference, date, time, CH chargeable
        "BHT*0019*00*42*20261201*0930*CH",
        # 1000A submitter: NM1*41, 2 non-person, name, 46 ETIN
        "NM1*41*2*LAKESIDE KETAMINE CLINIC*****46*LKC0001",
        # 1000A PER: IC information contact, name, TE telephone, digits only
        "PER*IC*BILLING OFFICE*TE*2175550100",
        # 1000B receiver: NM1*40, 46 ETIN
        "NM1*40*2*OPTUM CLEARINGHOUSE*****46*330897513",
        # 2000A billing provider HL: id 1, no parent, 20 information source, 1 has children
        "HL*1**20*1",
        # 2000A PRV: BI billing, PXC taxonomy code
        "PRV*BI*PXC*261QM0801X",
        # 2010AA NM1*85: 2 organisation, XX NPI
        "NM1*85*2*LAKESIDE KETAMINE CLINIC*****XX*1234567893",
        # 2010AA N3 address lines; N4 city, state, nine-digit ZIP (the guide asks for nine)
        "N3*100 MAIN STREET*SUITE 2",
        "N4*SPRINGFIELD*IL*627011234",
        # 2010AA REF*EI: the billing provider's EIN, digits only
        "REF*EI*123456789",
        # 2000B subscriber HL: id 2, parent 1, 22 subscriber, 0 no patient loop below
        "HL*2*1*22*0",
        # 2000B SBR: P primary, 18 self, group number, SBR09 CI commercial insurance
        "SBR*P*18*GRP9******CI",
        # 2010BA NM1*IL: 1 person, last, first, middle, MI member id
        "NM1*IL*1*DOE*JANE*Q***MI*U123456789",
        # 2010BA N3/N4 and DMG (D8 birth date, sex): sent because the patient is the subscriber
        "N3*12 ELM ST",
        "N4*SPRINGFIELD*IL*62704",
        "DMG*D8*19800402*F",
        # 2010BB payer: NM1*PR, 2 organisation, PI payer id; N3/N4 its address
        "NM1*PR*2*UNITEDHEALTHCARE*****PI*87726",
        "N3*PO BOX 30555",
        "N4*SALT LAKE CITY*UT*84130",
        # 2300 CLM: patient control number, total charge, CLM05 place 11 : B professional :
        # frequency 1, provider signature Y, A assigned, benefits assigned Y, release Y
        "CLM*KD-2026-000123*990***11:B:1*Y*A*Y*Y",
        # 2300 REF*G1: prior authorisation
        "REF*G1*PA778899",
        # 2300 NTE*ADD: claim note (box 19)
        "NTE*ADD*REMS CERTIFIED SETTING",
        # 2300 HI: ABK principal diagnosis, ABF other diagnoses, without the dot
        "HI*ABK:F322*ABF:F331",
        # 2310B rendering provider: NM1*82, 1 person, last, first, XX NPI
        "NM1*82*1*OKAFOR*ADAEZE****XX*1245319599",
        # 2310C service facility: NM1*77, 2 organisation, XX NPI; N3/N4
        "NM1*77*2*LAKESIDE NORTH*****XX*1902809994",
        "N3*5 LAKE RD",
        "N4*SPRINGFIELD*IL*627021111",
        # 2400 LX line 1; SV1: HC:code:modifier, charge, UN units, count, (POS same as the
        # claim: left out), SV107 diagnosis pointers 1:2
        "LX*1",
        "SV1*HC:99213:25*150*UN*1***1:2",
        # 2400 DTP*472: service date, D8
        "DTP*472*D8*20261103",
        # 2400 REF*6R: our line id, which the 835 echoes back
        "REF*6R*L1",
        # 2400 line 2: the drug, 84 units of J0013 (1 mg each)
        "LX*2",
        "SV1*HC:J0013*840*UN*84***1",
        "DTP*472*D8*20261103",
        "REF*6R*L2",
        # 2410 LIN: LIN01 not used, N4 qualifier, 11-digit NDC without dashes
        "LIN**N4*50458002802",
        # 2410 CTP: CTP04 quantity, CTP05 unit of measure
        "CTP****1*UN",
        # SE: 39 segments from ST to SE inclusive, ST02 repeated
        "SE*39*0042",
        # GE: one transaction set, GS06 repeated
        "GE*1*42",
        # IEA: one group, ISA13 repeated
        "IEA*1*000000042",
    ]
    text = hand_checked_claim()
    assert segments(text) == expected
    assert problems(text) == []


def secondary_claim() -> tuple[Person, str]:
    """A claim to Medicaid after UnitedHealthcare paid 90 of 150 (CO-45 40, PR-2 20)."""
    earlier = (Adjustment("CO", "45", money("40.00")), Adjustment("PR", "2", money("20.00")))
    line = visit(
        earlier_payments=(
            LinePayment("87726", "99213", money("90.00"), 1, earlier, date(2026, 11, 20)),
        )
    )
    form = claim(
        "C2001",
        payer=MEDICAID,
        subscriber=subscriber(rank="secondary", member_id="MCD445566", group_number=""),
        lines=(line,),
        other_payers=(
            OtherPayer(
                UHC, subscriber(), money("90.00"), date(2026, 11, 20), payer_claim_number="PCN1"
            ),
        ),
    )
    return JANE, write_837p(batch(form))


def test_secondary_claim_carries_what_the_primary_paid_and_adjusted() -> None:
    _patient, text = secondary_claim()
    assert "SBR*S*18*******CI" in segments(text)
    assert loop_of(text, "SBR*P*18", 5) == [
        "SBR*P*18*GRP9******CI",  # 2320: the other payer was primary; patient is subscriber
        "AMT*D*90",  # 2320 AMT*D: what the other payer paid on the claim
        "OI***Y***Y",  # 2320 OI: benefits assigned, release of information
        "NM1*IL*1*DOE*JANE*Q***MI*U123456789",  # 2330A other subscriber
        "NM1*PR*2*UNITEDHEALTHCARE*****PI*87726",  # 2330B other payer
    ]
    # 2330B: no DTP*573 at claim level, because 2430 carries the dates; REF*F8 its claim no.
    assert "REF*F8*PCN1" in segments(text)
    assert loop_of(text, "SVD", 4) == [
        "SVD*87726*90*HC:99213**1",  # 2430: payer id as in 2330B, paid, procedure, units
        "CAS*CO*45*40",
        "CAS*PR*2*20",
        "DTP*573*D8*20261120",  # the date the other payer adjudicated the line
    ]
    assert problems(text) == []


def test_claim_level_adjudication_dates_the_other_payer() -> None:
    other = OtherPayer(
        UHC, subscriber(), money("100.00"), date(2026, 11, 21),
        adjustments=(Adjustment("CO", "45", money("50.00")),),
    )  # fmt: skip
    text = write_837p(batch(claim(subscriber=subscriber(rank="secondary"), other_payers=(other,))))
    assert loop_of(text, "CAS", 2) == ["CAS*CO*45*50", "AMT*D*100"]
    assert "DTP*573*D8*20261121" in segments(text)
    assert problems(text) == []


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_corrected_and_void_claims_name_the_claim_they_replace(frequency: str) -> None:
    form = claim(frequency=frequency, original_reference="UHC-998877", prior_authorization="PA1")
    text = write_837p(batch(form))
    assert loop_of(text, "CLM", 3) == [
        f"CLM*C1001*150***11:B:{frequency}*Y*A*Y*Y",
        "REF*G1*PA1",  # the guide orders REF*G1 before REF*F8
        "REF*F8*UHC-998877",
    ]
    assert problems(text) == []


def test_original_claim_sends_no_original_reference() -> None:
    text = write_837p(batch(claim(original_reference="UHC-998877")))
    assert not any(s.startswith("REF*F8") for s in segments(text))


def test_unlisted_ketamine_line_carries_ndc_description_and_note() -> None:
    line = visit(
        "L9", "J3490", "95.00",
        description="Ketamine HCl 500 mg/10 mL injection",
        note="Ketamine 35 mg IV over 40 min; NDC 42023-0113-10; 3.5 mL",
        ndc="42023011310", ndc_quantity=Decimal("3.5"), ndc_unit="ML",
    )  # fmt: skip
    text = write_837p(batch(claim(lines=(visit(), line))))
    assert loop_of(text, "LX*2", 7) == [
        "LX*2",
        # SV101-7: the description after four empty modifier slots
        "SV1*HC:J3490:::::KETAMINE HCL 500 MG/10 ML INJECTION*95*UN*1***1",
        "DTP*472*D8*20261103",
        "REF*6R*L9",
        # the ';' is in the basic character set and stays
        "NTE*ADD*KETAMINE 35 MG IV OVER 40 MIN; NDC 42023-0113-10; 3.5 ML",
        "LIN**N4*42023011310",
        "CTP****3.5*ML",
    ]
    assert problems(text) == []


def test_patient_who_is_not_the_subscriber_gets_the_patient_loop() -> None:
    child = Person("Doe", "Tom", date(2012, 6, 30), "M", address=JANE.address)
    text = write_837p(batch(claim(patient=child, subscriber=subscriber(relationship="child"))))
    assert loop_of(text, "HL*2", 10) == [
        "HL*2*1*22*1",  # 2000B has a child loop
        "SBR*P**GRP9******CI",  # SBR02 left out: the subscriber is not the patient
        "NM1*IL*1*DOE*JANE*Q***MI*U123456789",  # no N3/N4/DMG for the subscriber
        "NM1*PR*2*UNITEDHEALTHCARE*****PI*87726",
        "N3*PO BOX 30555",
        "N4*SALT LAKE CITY*UT*84130",
        "HL*3*2*23*0",  # 2000C patient, parent is the subscriber
        "PAT*19",  # child
        "NM1*QC*1*DOE*TOM",  # 2010CA: no id in 5010
        "N3*12 ELM ST",
    ]
    assert "DMG*D8*20120630*M" in segments(text)
    assert problems(text) == []


def test_each_billing_provider_gets_its_own_2000a_loop() -> None:
    other = replace(CLINIC, name="Lakeside East", npi="1679576722")
    claims = (claim("A1"), claim("B1", billing=other), claim("A2"))
    text = write_837p(batch(*claims))
    hls = [s for s in segments(text) if s.startswith("HL*")]
    assert hls == ["HL*1**20*1", "HL*2*1*22*0", "HL*3*1*22*0", "HL*4**20*1", "HL*5*4*22*0"]
    clms = [s.split("*")[1] for s in segments(text) if s.startswith("CLM")]
    assert clms == ["A1", "A2", "B1"]
    assert problems(text) == []


def test_a_line_elsewhere_than_the_claim_names_its_place() -> None:
    text = write_837p(batch(claim(lines=(visit(), visit("L2", place_of_service="02")))))
    sv1 = [s for s in segments(text) if s.startswith("SV1")]
    assert sv1 == ["SV1*HC:99213*150*UN*1***1", "SV1*HC:99213*150*UN*1*02**1"]
    assert problems(text) == []


def test_medicare_subscriber_is_filed_as_part_b() -> None:
    text = write_837p(batch(claim(subscriber=subscriber(medicare=True, group_number=""))))
    assert "SBR*P*18*******MB" in segments(text)
    assert problems(text) == []


def test_names_are_cleaned_to_the_basic_character_set_and_trimmed() -> None:
    patient = replace(JANE, family_name="Łukasiewicz-O'Brien*~^:", given_name="Zoë " + "X" * 40)
    text = write_837p(batch(claim(patient=patient, subscriber=subscriber(person=patient))))
    nm1 = next(s for s in segments(text) if s.startswith("NM1*IL"))
    assert nm1 == f"NM1*IL*1*LUKASIEWICZ-O'BRIEN*ZOE {'X' * 31}*Q***MI*U123456789"
    assert problems(text) == []


def test_control_numbers_agree_across_the_envelopes() -> None:
    text = write_837p(batch(claim(), claim("C2"), control_number=123456789))
    found = segments(text)
    isa = found[0].split("*")
    assert len(found[0]) + 1 == 106  # the ISA is fixed-width (106 with its terminator)
    assert isa[13] == "123456789" and found[-1] == "IEA*1*123456789"
    assert found[1].split("*")[6] == "123456789" and found[-2] == "GE*1*123456789"
    st, se = found[2].split("*"), found[-3].split("*")
    assert st[2] == se[2] == "123456789"
    assert int(se[1]) == len(found) - 4  # ST to SE inclusive
    assert write_837p(batch(control_number=7)).startswith(segments(text)[0][:90])
    assert "*000000007*" in write_837p(batch(control_number=7))


@pytest.mark.parametrize("number", [0, 1_000_000_000])
def test_control_number_outside_nine_digits_is_refused(number: int) -> None:
    with pytest.raises(InvalidValue, match="ISA13 has nine digits"):
        write_837p(batch(control_number=number))


def test_a_test_file_is_marked_t() -> None:
    text = write_837p(replace(batch(), production=False))
    assert segments(text)[0].split("*")[15] == "T"
    assert problems(text) == []


def test_what_cannot_be_written_is_listed_at_once() -> None:
    bad = claim(
        "C9",
        frequency="8",
        lines=(visit(pointers=(1, 3)), visit("L2", ndc="12345678901")),
    )
    with pytest.raises(ValidationError) as raised:
        write_837p(replace(batch(bad), submitter=replace(batch().submitter, phone="")))
    assert raised.value.for_field("claim C9") == [
        "replaces or voids a claim, so it needs the payer's original claim number",
        "line L1 points past the claim's 2 diagnoses",
        "line L2 gives an NDC without its quantity and unit",
    ]
    assert raised.value.for_field("submitter") == [
        "the submitter needs a contact phone number (1000A PER)"
    ]


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least one claim"):
        write_837p(replace(batch(), claims=()))


@pytest.mark.slow
def test_a_thousand_claims_make_one_valid_file() -> None:
    claims = tuple(
        claim(f"C{n}", lines=tuple(visit(f"L{n}-{i}") for i in range(2 + n % 3)))
        for n in range(1000)
    )
    text = write_837p(batch(*claims, control_number=5))
    assert sum(s.startswith("CLM") for s in segments(text)) == 1000
    assert problems(text) == []


def test_the_created_time_is_the_clinics_wall_clock() -> None:
    text = write_837p(replace(batch(), created_at=datetime(2026, 3, 8, 2, 45)))
    assert "BHT*0019*00*1*20260308*0245*CH" in segments(text)
