"""The 835: what write_835 writes passes pyx12 and reads back the same, a payer's file
reads in whatever line breaks it comes with, and a file that is not an 835 is refused in
words."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from billing.edi.edi_builders import CLINIC, UHC, money, segments
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketadesk.billing.edi.model import (
    Adjustment,
    ClaimPayment,
    Remittance,
    ServicePayment,
)
from ketadesk.billing.edi.validate import problems
from ketadesk.billing.edi.x835 import BankAccount, read_835, read_835s, write_835
from ketadesk.errors import InvalidValue

BANKS = {
    "payer_bank": BankAccount("011000015", "1234567"),
    "payee_bank": BankAccount("021000021", "99887766"),
}


def written(remit: Remittance) -> str:
    assert UHC.address is not None
    return write_835(
        remit, payer_address=UHC.address, payee_address=CLINIC.address,
        payer_tin="41-1234567", payer_phone="800-555-0000", **BANKS,
    )  # fmt: skip


def paid_claim(number: str = "C1001") -> ClaimPayment:
    """99213 billed 150: allowed 110, CO-45 40, coinsurance PR-2 20, paid 90."""
    line = ServicePayment(
        code="99213", billed=money("150.00"), paid=money("90.00"), units=Decimal("1"),
        adjustments=(Adjustment("CO", "45", money("40.00")), Adjustment("PR", "2", money("20.00"))),
        remarks=("N130",), modifiers=("25",), service_date=date(2026, 11, 3), line_id="L1",
        allowed=money("110.00"),
    )  # fmt: skip
    return ClaimPayment(
        claim_number=number, status="1", billed=money("150.00"), paid=money("90.00"),
        patient_responsibility=money("20.00"), payer_claim_number="PCN" + number,
        services=(line,), patient_name="DOE, JANE", member_id="U123456789",
    )  # fmt: skip


def remittance(*claims: ClaimPayment, method: str = "ACH") -> Remittance:
    claims = claims or (paid_claim(),)
    return Remittance(
        payer_name="UNITEDHEALTHCARE", payer_id="87726", payee_name="LAKESIDE KETAMINE CLINIC",
        payee_npi="1234567893", total_paid=sum((c.paid for c in claims), Decimal("0.00")),
        method=method, paid_on=date(2026, 12, 5), trace_number="EFT0001", claims=claims,
        control_number=7, created_at=datetime(2026, 12, 5, 8, 0),
    )  # fmt: skip


def test_a_written_835_passes_pyx12_and_reads_back() -> None:
    remit = remittance(paid_claim(), paid_claim("C1002"))
    text = written(remit)
    assert problems(text) == []
    assert read_835(text) == remit
    assert segments(text)[3] == (
        "BPR*C*180*C*ACH*CCP*01*011000015*DA*1234567*1411234567**01*021000021*DA*99887766*20261205"
    )


def test_a_denial_and_a_check_payment_pass_pyx12() -> None:
    denied = replace(
        paid_claim("C2"), status="4", paid=money("0.00"), patient_responsibility=money("0.00"),
        adjustments=(Adjustment("CO", "50", money("150.00")),), remarks=("N115", "M127"),
        services=(),
    )  # fmt: skip
    remit = remittance(paid_claim(), denied, method="CHK")
    text = written(remit)
    assert "MOA***N115*M127" in segments(text)
    assert problems(text) == []
    assert read_835(text) == remit


def test_a_remittance_paying_nothing_is_a_notification() -> None:
    denied = replace(paid_claim(), paid=money("0.00"), services=(), status="4")
    text = written(remittance(denied, method="NON"))
    assert segments(text)[3] == "BPR*H*0*C*NON************20261205"
    assert problems(text) == []


def test_the_writer_refuses_a_total_that_is_not_the_sum_of_its_claims() -> None:
    with pytest.raises(InvalidValue, match=r"pays 100\.00 but its claims add up to 90\.00"):
        written(replace(remittance(), total_paid=money("100.00")))


def test_ach_needs_the_bank_accounts() -> None:
    assert UHC.address is not None
    with pytest.raises(InvalidValue, match="bank accounts"):
        write_835(
            remittance(), payer_address=UHC.address, payee_address=CLINIC.address,
            payer_tin="411234567", payer_phone="8005550000",
        )  # fmt: skip


# --- what a payer sends --------------------------------------------------------------

PAYER_FILE = (
    "ISA|00|          |00|          |ZZ|87726          |ZZ|LKC0001        |261205|0812|^|00501|"
    "000004711|0|P|>\r\n"
    "GS|HP|87726|LKC0001|20261205|081233|4711|X|005010X221A1\r\n"
    "ST|835|0001\r\nBPR|I|215.5|C|CHK||||||||||||20261206\r\nTRN|1|CHK100200|1411234567\r\n"
    "REF|EV|LKC0001\r\nDTM|405|20261205\r\n"
    "N1|PR|UNITED HEALTHCARE INSURANCE COMPANY\r\nN3|PO BOX 30555\r\n"
    "N4|SALT LAKE CITY|UT|84130\r\nREF|2U|87726\r\nPER|BL|EDI|TE|8005550000\r\n"
    "N1|PE|LAKESIDE KETAMINE CLINIC|XX|1234567893\r\nREF|TJ|123456789\r\nLX|1\r\n"
    "CLP|C1001|1|990|215.5|40|12|UHC77|11|1\r\nNM1|QC|1|DOE|TOM|||||\r\n"
    "NM1|IL|1|DOE|JANE|Q|||MI|U123456789\r\nDTM|232|20261103\r\n"
    "SVC|HC>99213>25|150|90||1\r\nDTM|472|20261103\r\nCAS|CO|45|40\r\nCAS|PR|3|20\r\n"
    "REF|6R|L1\r\nAMT|B6|110\r\n"
    "SVC|HC>J0013|840|125.5||84\r\nDTM|472|20261103\r\n"
    "CAS|CO|45|674.5||253|20|1\r\nCAS|PR|1|20\r\nREF|6R|L2\r\nLQ|HE|N130\r\nLQ|HE|M127\r\n"
    "PLB|1234567893|20261231|WO>X|0\r\nSE|33|0001\r\nGE|1|4711\r\nIEA|1|000004711\r\n"
)


def test_a_payers_file_reads_with_its_own_delimiters_and_line_breaks() -> None:
    remit = read_835(PAYER_FILE)
    assert (remit.payer_name, remit.payer_id, remit.payee_npi) == (
        "UNITED HEALTHCARE INSURANCE COMPANY", "87726", "1234567893",
    )  # fmt: skip
    assert (remit.total_paid, remit.method, remit.paid_on) == (
        money("215.50"), "CHK", date(2026, 12, 6),
    )  # fmt: skip
    assert (remit.trace_number, remit.control_number) == ("CHK100200", 4711)
    assert remit.created_at == datetime(2026, 12, 5, 8, 12)
    [claim] = remit.claims
    assert claim.patient_name == "DOE, TOM" and claim.member_id == "U123456789"
    assert claim.payer_claim_number == "UHC77" and claim.patient_responsibility == money("40")
    office, drug = claim.services
    assert office.modifiers == ("25",) and office.allowed == money("110.00")
    assert drug.units == Decimal("84") and drug.line_id == "L2"
    assert drug.adjustments == (
        Adjustment("CO", "45", money("674.50")),
        Adjustment("CO", "253", money("20.00"), Decimal("1")),
        Adjustment("PR", "1", money("20.00")),
    )
    assert drug.remarks == ("N130", "M127")
    adjusted = sum(a.amount for s in claim.services for a in s.adjustments)
    assert claim.billed == claim.paid + adjusted


def test_tilde_without_line_breaks_reads_the_same() -> None:
    text = written(remittance())
    assert read_835(text.replace("\n", "")) == read_835(text)
    assert read_835(text.replace("~\n", "~\r\n")) == read_835(text)


def test_two_remittances_in_one_file() -> None:
    text = written(remittance())
    found = segments(text)
    doubled = "~".join(found[:-2] + found[2:-2] + found[-2:]) + "~"
    assert len(read_835s(doubled)) == 2
    with pytest.raises(InvalidValue, match="holds 2 remittances"):
        read_835(doubled)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("Dear billing office, please find our payment enclosed." * 3, "not an X12 file"),
        ("ISA*00*short~", "not an X12 file"),
        ("837", "not an X12 file"),
    ],
)
def test_text_that_is_not_x12_is_refused_in_words(text: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        read_835(text)


def test_a_claim_file_is_not_a_remittance() -> None:
    from billing.edi.edi_builders import batch

    from ketadesk.billing.edi.x837 import write_837p

    with pytest.raises(InvalidValue, match="is a 837 transaction, not an 835 remittance"):
        read_835(write_837p(batch()))


def test_a_bad_amount_names_its_segment_and_element() -> None:
    text = written(remittance()).replace("CLP*C1001*1*150*", "CLP*C1001*1*1S0*")
    with pytest.raises(InvalidValue, match=r"segment 15 \(CLP\), element CLP03: '1S0' is not"):
        read_835(text)


def test_a_bad_date_names_its_segment() -> None:
    text = written(remittance()).replace("DTM*472*20261103", "DTM*472*20261131")
    with pytest.raises(InvalidValue, match=r"DTM02: '20261131' is not a date"):
        read_835(text)


def test_an_835_without_its_payment_is_refused() -> None:
    text = "~".join(s for s in segments(written(remittance())) if not s.startswith("BPR")) + "~"
    with pytest.raises(InvalidValue, match="no BPR payment"):
        read_835(text)


# --- property: any remittance reads back as written, and its claims balance ---------------

codes = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=8)
cents = st.integers(min_value=0, max_value=500_000).map(lambda c: Decimal(c) / 100)
# CAS carries one group code per segment, so adjustments read back grouped by their code.
adjustments = st.lists(
    st.builds(
        Adjustment,
        group=st.sampled_from(["CO", "PR", "OA", "PI"]),
        reason=st.sampled_from(["1", "2", "3", "45", "50", "96", "253"]),
        amount=cents,
        quantity=st.none() | st.integers(1, 9).map(Decimal),
    ),
    max_size=8,
).map(lambda found: sorted(found, key=lambda a: a.group))
remark_codes = st.lists(st.sampled_from(["N130", "M127", "N115", "MA01", "N4", "MA130"]))
ids = codes.filter(lambda c: len(c) > 1)  # identifiers (GS02, NM109) have two or more


@st.composite
def services(draw: st.DrawFn) -> ServicePayment:
    paid, adjusted = draw(cents), draw(adjustments)
    return ServicePayment(
        code=draw(st.text("ABCDEFGHJ0123456789", min_size=5, max_size=5)),
        billed=paid + sum((a.amount for a in adjusted), Decimal("0")),
        paid=paid,
        units=draw(st.sampled_from(["1", "2", "84", "0.5"]).map(Decimal)),
        adjustments=tuple(adjusted),
        remarks=tuple(draw(remark_codes.map(lambda r: r[:3]))),
        modifiers=tuple(draw(st.lists(st.sampled_from(["25", "KX", "59", "GT"]), max_size=4))),
        service_date=draw(st.none() | st.dates(date(2020, 1, 1), date(2030, 12, 31))),
        line_id=draw(st.just("") | codes),
        allowed=draw(st.none() | cents),
    )


@st.composite
def claims(draw: st.DrawFn) -> ClaimPayment:
    lines, at_claim = draw(st.lists(services(), max_size=4)), draw(adjustments)
    paid = sum((s.paid for s in lines), Decimal("0")) if lines else draw(cents)
    everything = at_claim + [a for s in lines for a in s.adjustments]
    family, given = draw(codes), draw(st.just("") | codes)
    return ClaimPayment(
        claim_number=draw(codes),
        status=draw(st.sampled_from(["1", "2", "3", "4", "19", "22"])),
        billed=paid + sum((a.amount for a in everything), Decimal("0")),
        paid=paid,
        patient_responsibility=sum((a.amount for a in everything if a.group == "PR"), Decimal(0)),
        payer_claim_number=draw(codes),
        adjustments=tuple(at_claim),
        remarks=tuple(draw(remark_codes.map(lambda r: r[:5]))),
        services=tuple(lines),
        patient_name=f"{family}, {given}" if given else family,
        member_id=draw(st.just("") | ids),
    )


@st.composite
def remittances(draw: st.DrawFn) -> Remittance:
    paid_claims = tuple(draw(st.lists(claims(), min_size=1, max_size=5)))
    total = sum((c.paid for c in paid_claims), Decimal("0.00"))
    return Remittance(
        payer_name=draw(codes), payer_id=draw(ids), payee_name=draw(codes),
        payee_npi=draw(st.text("0123456789", min_size=10, max_size=10)),
        total_paid=total,
        method="NON" if total == 0 else draw(st.sampled_from(["ACH", "CHK"])),
        paid_on=draw(st.dates(date(2020, 1, 1), date(2030, 12, 31))),
        trace_number=draw(codes), claims=paid_claims,
        control_number=draw(st.integers(1, 999_999_999)),
        created_at=draw(st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31))).replace(
            second=0, microsecond=0
        ),
    )  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(remittances())
def test_any_remittance_reads_back_as_written_and_its_claims_balance(remit: Remittance) -> None:
    read = read_835(written(remit))
    assert read == remit
    for claim in read.claims:
        lines = [a.amount for s in claim.services for a in s.adjustments]
        assert claim.billed == claim.paid + sum(a.amount for a in claim.adjustments) + sum(lines)
        for service in claim.services:
            assert service.billed == service.paid + sum(a.amount for a in service.adjustments)
    assert read.total_paid == sum(c.paid for c in read.claims)


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(remittances())
def test_any_written_remittance_passes_pyx12(remit: Remittance) -> None:
    assert problems(written(remit)) == []
