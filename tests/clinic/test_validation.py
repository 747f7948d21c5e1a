"""The validation catalogue: good values normalize, bad ones say what is wrong and expected."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import partial

import pytest
from clinic.validation_helpers import expect_rejected
from hypothesis import given
from hypothesis import strategies as st

from ketadesk.clinic import validation as v
from ketadesk.clinic.codes import icd10cm
from ketadesk.errors import FieldProblem, InvalidValue, ValidationError


def _luhn_valid(number: str) -> bool:
    """Independent Luhn test over a whole number (check digit included)."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit // 10 + digit % 10
    return total % 10 == 0


def _with_check_digit(first_nine: str) -> str:
    return next(first_nine + d for d in "0123456789" if _luhn_valid("80840" + first_nine + d))


# --- NPI --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234567893", "1234567893"),  # the CMS example
        ("1245319599", "1245319599"),  # computed: individual
        ("2345678900", "2345678900"),  # computed: organization
        (" 1234567893 ", "1234567893"),
        ("1234-567-893", "1234567893"),
        ("123 456 7893", "1234567893"),
    ],
)
def test_npi_accepts(raw: str, expected: str) -> None:
    assert v.npi(raw) == expected


def test_the_computed_npis_really_pass_luhn() -> None:
    assert _with_check_digit("124531959") == "1245319599"
    assert _with_check_digit("234567890") == "2345678900"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("1234567890", "1234567890 fails the NPI check digit"),
        ("1234567894", "check digit"),  # last digit off by one
        ("1234567839", "check digit"),  # last two digits swapped
        ("1245319590", "check digit"),
        ("123456789", "has 9 digits; an NPI has exactly 10"),
        ("12345678931", "has 11 digits"),
        ("3234567893", "starts with 3; an NPI starts with 1 (individual) or 2"),
        ("0234567893", "starts with 0"),
        ("123456789X", "expected 10 digits"),
        ("１２３４５６７８９３", "expected 10 digits"),  # full-width digits are not digits here
        ("", "a blank value is not an NPI"),
    ],
)
def test_npi_rejects(raw: str, fragment: str) -> None:
    expect_rejected(v.npi, raw, fragment)


@given(st.sampled_from("12"), st.text("0123456789", min_size=8, max_size=8))
def test_npi_accepts_any_number_with_the_right_check_digit(first: str, rest: str) -> None:
    number = _with_check_digit(first + rest)
    assert v.npi(number) == number


@given(
    st.sampled_from("12"),
    st.text("0123456789", min_size=8, max_size=8),
    st.integers(0, 9),
    st.integers(1, 9),
)
def test_npi_rejects_any_single_digit_change(
    first: str, rest: str, position: int, shift: int
) -> None:
    number = _with_check_digit(first + rest)
    changed = str((int(number[position]) + shift) % 10)
    typo = number[:position] + changed + number[position + 1 :]
    with pytest.raises(InvalidValue):
        v.npi(typo)


# --- TIN --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12-3456789", "123456789"),
        ("123-45-6789", "123456789"),
        ("123456789", "123456789"),
        (" 98-7654321 ", "987654321"),
    ],
)
def test_tin_accepts(raw: str, expected: str) -> None:
    assert v.tin(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("12345678", "expected 9 digits written as 12-3456789 (EIN), 123-45-6789 (SSN)"),
        ("1234567890", "1234567890 is not a TIN"),
        ("12-34-56789", "is not a TIN"),
        ("12 3456789", '"12 3456789" is not a TIN'),
        ("abcdefghi", "expected 9 digits"),
        ("000000000", "000000000 repeats one digit"),
        ("11-1111111", "not all the same"),
        ("999-99-9999", "repeats one digit"),
        ("", "a blank value is not a TIN"),
    ],
)
def test_tin_rejects(raw: str, fragment: str) -> None:
    expect_rejected(v.tin, raw, fragment)


# --- phone, ZIP, state, email -----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "(212) 555-0142",
        "212.555.0142",
        "+1 212 555 0142",
        "1-212-555-0142",
        "2125550142",
        "12125550142",
        "(212)555-0142",
        " 212 555 0142 ",
    ],
)
def test_us_phone_accepts_usual_forms(raw: str) -> None:
    assert v.us_phone(raw) == "2125550142"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("555-0142", "has 7 digits; expected a 3-digit area code and a 7-digit number"),
        ("212555014", "has 9 digits"),
        ("22125550142", "has 11 digits"),
        ("+44 20 7946 0958", "is not a US number; expected +1 and 10 digits"),
        ("012 555 0142", "has area code 012; a US area code starts with a digit from 2 to 9"),
        ("112 555 0142", "area code 112"),
        ("212 055 0142", "has exchange 055; a US exchange starts with a digit from 2 to 9"),
        ("212 155 0142", "exchange 155"),
        ("911 555 0142", "area code 911; codes ending in 11"),
        ("212 411 0142", "exchange 411"),
        ("212-555-CALL", "212-555-CALL is not a phone number; expected 10 digits"),
        ("212 555 0142 x12", "is not a phone number"),
        ("", "a blank value is not a phone number"),
    ],
)
def test_us_phone_rejects(raw: str, fragment: str) -> None:
    expect_rejected(v.us_phone, raw, fragment)


@pytest.mark.parametrize("raw", ["2125550142", "+1 (212) 555-0142", "212.555.0142"])
def test_format_phone(raw: str) -> None:
    assert v.format_phone(raw) == "(212) 555-0142"


def test_format_phone_refuses_what_is_not_a_phone_number() -> None:
    expect_rejected(v.format_phone, "12345", "has 5 digits")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("10001", "10001"), ("10001-0142", "10001-0142"), ("100010142", "10001-0142"),
     (" 02134 ", "02134")],
)  # fmt: skip
def test_zip_code_accepts(raw: str, expected: str) -> None:
    assert v.zip_code(raw) == expected


@pytest.mark.parametrize(
    "raw", ["1000", "100011", "10001-014", "10001 0142", "ABCDE", "10001-", ""]
)
def test_zip_code_rejects(raw: str) -> None:
    expect_rejected(v.zip_code, raw, "is not a ZIP code", "5 digits (12345) or ZIP+4 (12345-6789)")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("NY", "NY"),
        ("ny", "NY"),
        (" ca ", "CA"),
        ("new york", "NY"),
        ("New  York", "NY"),
        ("DISTRICT OF COLUMBIA", "DC"),
        ("Washington, D.C.", "DC"),
        ("d.c.", "DC"),
        ("Washington", "WA"),
        ("PR", "PR"),
        ("gu", "GU"),
        ("Puerto Rico", "PR"),
        ("Virgin Islands", "VI"),
        ("U.S. Virgin Islands", "VI"),
        ("American Samoa", "AS"),
        ("northern mariana islands", "MP"),
    ],
)
def test_us_state_accepts_codes_and_names(raw: str, expected: str) -> None:
    assert v.us_state(raw) == expected


def test_us_states_lists_fifty_states_dc_and_five_territories() -> None:
    assert len(v.US_STATES) == 56
    assert {"DC", "PR", "GU", "VI", "AS", "MP"} <= v.US_STATES.keys()
    for code, name in v.US_STATES.items():
        assert v.us_state(code.lower()) == code
        assert v.us_state(name.upper()) == code


@pytest.mark.parametrize("raw", ["ZZ", "Ontario", "NYC", "New Yorkshire", "AE", ""])
def test_us_state_rejects(raw: str) -> None:
    expect_rejected(
        v.us_state, raw, "is not a US state or territory", "two-letter USPS code such as NY"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ann.Lee@Example.COM", "Ann.Lee@example.com"),
        (" zoe+clinic@Sub.Example.org ", "zoe+clinic@sub.example.org"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("josé@Exämple.com", "josé@exämple.com"),
    ],
)
def test_email_accepts_and_lower_cases_the_domain(raw: str, expected: str) -> None:
    assert v.email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("ann", "ann has 0 @ signs"),
        ("ann@@example.com", "has 2 @ signs"),
        ("ann@", "does not end in a domain such as example.com"),
        ("ann@example", "does not end in a domain"),
        ("ann@example..com", "does not end in a domain"),
        ("ann@-example.com", "does not end in a domain"),
        ("ann@example.c", "does not end in a domain"),
        ("ann@exa_mple.com", "does not end in a domain"),
        ("@example.com", "has no valid name before the @"),
        ("<ann>@example.com", "has no valid name before the @"),
        ("ann lee@example.com", '"ann lee@example.com" is not an email address'),
        ("", "a blank value is not an email address"),
    ],
)
def test_email_rejects(raw: str, fragment: str) -> None:
    expect_rejected(v.email, raw, fragment, "expected an address like ann.lee@example.com")


def test_email_rejects_absurd_length() -> None:
    expect_rejected(
        v.email, "a" * 60 + "@" + "b" * 200 + ".com", "an email address has at most 254"
    )


# --- dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1985-03-07", date(1985, 3, 7)),
        ("03/07/1985", date(1985, 3, 7)),
        ("3/7/1985", date(1985, 3, 7)),
        (" 12/31/1999 ", date(1999, 12, 31)),
        ("2024-02-29", date(2024, 2, 29)),
    ],
)
def test_parse_date_accepts_iso_and_us(raw: str, expected: date) -> None:
    assert v.parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("March 7, 1985", '"March 7, 1985" is not a date; expected YYYY-MM-DD'),
        ("1985/03/07", "MM/DD/YYYY (e.g. 03/07/1985)"),
        ("07.03.1985", "is not a date"),
        ("1985-3-7", "is not a date"),
        ("3/7/85", "3/7/85 has a two-digit year; write the year in full"),
        ("13/05/1985", "has month 13; dates are written month first (MM/DD/YYYY), e.g. 05/13/1985"),
        ("02/30/2020", "02/30/2020 is not a real calendar date"),
        ("2023-02-29", "is not a real calendar date"),
        ("0000-01-01", "is not a real calendar date"),
        ("", "a blank value is not a date"),
    ],
)
def test_parse_date_rejects(raw: str, fragment: str) -> None:
    expect_rejected(v.parse_date, raw, fragment)


TODAY = date(2025, 6, 15)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1985-03-07", date(1985, 3, 7)),
        ("03/07/1985", date(1985, 3, 7)),
        (date(1985, 3, 7), date(1985, 3, 7)),
        (datetime(1985, 3, 7, 14, 30), date(1985, 3, 7)),
        (TODAY, TODAY),  # a newborn
        (date(1905, 6, 15), date(1905, 6, 15)),  # exactly 120 years
    ],
)
def test_date_of_birth_accepts(raw: date | str, expected: date) -> None:
    result = v.date_of_birth(raw, today=TODAY)
    assert result == expected
    assert type(result) is date


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (date(2025, 6, 16), "2025-06-16 is in the future; a date of birth is today or earlier"),
        ("2030-01-01", "in the future"),
        (date(1905, 6, 14), "1905-06-14 is more than 120 years ago"),
        ("01/01/1850", "check the year"),
        ("yesterday", "is not a date"),
    ],
)
def test_date_of_birth_rejects(raw: date | str, fragment: str) -> None:
    expect_rejected(partial(v.date_of_birth, today=TODAY), raw, fragment)


def test_date_of_birth_limit_on_a_leap_day() -> None:
    leap_day = date(2020, 2, 29)  # 1900 had no 29 February
    assert v.date_of_birth(date(1900, 2, 28), today=leap_day) == date(1900, 2, 28)
    expect_rejected(
        partial(v.date_of_birth, today=leap_day), date(1900, 2, 27), "more than 120 years"
    )


def test_date_of_birth_defaults_to_the_local_date() -> None:
    assert v.date_of_birth("1985-03-07") == date(1985, 3, 7)
    expect_rejected(v.date_of_birth, "2999-01-01", "in the future")
    expect_rejected(v.date_of_birth, "1800-01-01", "more than 120 years ago")


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Zoë Łukasiewicz", "Zoë Łukasiewicz"),
        ("阮文英", "阮文英"),
        ("O'Brien-Smith", "O'Brien-Smith"),
        ("José María", "José María"),
        ("  José \t María\n ", "José María"),
        ("Zoe\u0308", "Zo\u00eb"),  # decomposed input comes back composed (NFC)
        ("علی\u200cرضا", "علی\u200cرضا"),  # Persian: the zero-width non-joiner belongs there
        ("Henry VIII", "Henry VIII"),
        ("X Æ A-12", "X Æ A-12"),
    ],
)
def test_person_name_accepts_any_script(raw: str, expected: str) -> None:
    assert v.person_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("123", "123 has no letters; a name needs at least one letter"),
        ("-- .", "has no letters"),
        ("", "a blank value is not a name"),
        ("   ", "a blank value is not a name"),
        ("Ann\x00", "control character U+0000"),
        ("Ann\x07Lee", "U+0007"),
        ("Ann\u202eeeL", "U+202E"),  # right-to-left override, a spoofing trick
        ("\ufeffAnn", "U+FEFF"),  # byte-order mark from a careless CSV export
        ("A" * 101, "is 101 characters long; at most 100 are allowed"),
    ],
)
def test_person_name_rejects(raw: str, fragment: str) -> None:
    expect_rejected(v.person_name, raw, fragment)


def test_person_name_max_length_counts_after_collapsing() -> None:
    assert v.person_name("Ann   Lee", max_length=7) == "Ann Lee"
    expect_rejected(partial(v.person_name, max_length=6), "Ann Lee", "at most 6 are allowed")


# --- numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), (" 42 ", 42), ("+7", 7), ("007", 7), (5, 5), ("500", 500)],
)
def test_positive_int_accepts(raw: str | int, expected: int) -> None:
    assert v.positive_int(raw, maximum=500) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("0", "0 is not positive; expected a whole number of at least 1"),
        ("-3", "-3 is not positive"),
        (0, "0 is not positive"),
        (-1, "-1 is not positive"),
        ("1.5", "1.5 is not a whole number; expected digits only"),
        ("six", "six is not a whole number"),
        ("1,000", "is not a whole number"),
        ("", "a blank value is not a whole number"),
        ("9" * 5000, "is far too large"),  # int() itself would refuse over 4300 digits
    ],
)
def test_positive_int_rejects(raw: str | int, fragment: str) -> None:
    expect_rejected(v.positive_int, raw, fragment)


def test_positive_int_maximum() -> None:
    assert v.positive_int("501") == 501
    expect_rejected(
        partial(v.positive_int, maximum=500), "501", "501 is more than the maximum", "500"
    )


@pytest.mark.parametrize("raw", [True, 1.0, None, Decimal(3)])
def test_positive_int_refuses_other_types(raw: object) -> None:
    with pytest.raises(TypeError):
        v.positive_int(raw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("70", "70.0"),
        ("72.5", "72.5"),
        (" 72.50 ", "72.5"),
        ("20", "20.0"),
        ("400", "400.0"),
        (Decimal("99.9"), "99.9"),
        (Decimal(150), "150.0"),
        ("70 kg", "70.0"),
        ("72.5kg", "72.5"),
        ("154 lb", "69.9"),  # 154 × 0.45359237 = 69.853…
        ("165 lbs", "74.8"),
        ("154.5 pounds", "70.1"),
        ("44.1 lb", "20.0"),
    ],
)
def test_weight_kg_accepts_to_a_tenth(raw: str | Decimal, expected: str) -> None:
    result = v.weight_kg(raw)
    assert isinstance(result, Decimal)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("19.9", "19.9 kg is outside 20-400 kg"),
        ("400.1", "400.1 kg is outside"),
        (Decimal("-70"), "is outside"),
        ("72.55", "72.55 kg has more than one decimal place; expected the nearest 0.1 kg"),
        ("165 st", '"165 st" is not a weight; expected a number such as 72.5 (kilograms) or 154'),
        ("72,5", "is not a weight"),
        ("-70", "is not a weight"),
        ("1e2", "is not a weight"),
        ("NaN", "is not a weight"),
        ("500", "500 kg is outside 20-400 kg; check the number, and for pounds write lb after it"),
        ("900 lb", "900 lb (408.2 kg) is outside 44-882 lb"),
        ("154.25 lb", "154.25 lb has more than one decimal place; expected the nearest 0.1 lb"),
        (Decimal("NaN"), "NaN is not a weight"),
        (Decimal("Infinity"), "Infinity is not a weight"),
        ("", "a blank value is not a weight"),
    ],
)
def test_weight_kg_rejects(raw: str | Decimal, fragment: str) -> None:
    expect_rejected(v.weight_kg, raw, fragment)


@pytest.mark.parametrize(
    ("raw", "unit", "expected"),
    [
        ("154", "lb", "69.9"),
        ("70", "kg", "70.0"),
        ("154 lb", "lb", "69.9"),
        (Decimal(154), "lb", "69.9"),
    ],
)
def test_weight_kg_reads_a_bare_number_in_the_chosen_unit(
    raw: str | Decimal, unit: str, expected: str
) -> None:
    assert str(v.weight_kg(raw, unit)) == expected


def test_weight_kg_refuses_a_unit_typed_against_the_one_chosen() -> None:
    expect_rejected(
        lambda raw: v.weight_kg(raw, "kg"),
        "154 lb",
        '"154 lb" says lb but kg is chosen; type the number only',
    )


@pytest.mark.parametrize("raw", [72.5, 70, True])
def test_weight_kg_refuses_floats_and_other_types(raw: object) -> None:
    with pytest.raises(TypeError):
        v.weight_kg(raw)  # type: ignore[arg-type]


# --- identifiers of the practice ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("America/New_York", "America/New_York"),
        ("america/new_york", "America/New_York"),
        (" America/Los_Angeles ", "America/Los_Angeles"),
        ("Pacific/Honolulu", "Pacific/Honolulu"),
        ("America/Puerto_Rico", "America/Puerto_Rico"),
        ("UTC", "UTC"),
    ],
)
def test_time_zone_accepts_iana_names(raw: str, expected: str) -> None:
    assert v.time_zone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["Eastern", "America/Springfield", "America", "../etc/passwd", "localtime", "", "GMT-5"]
)
def test_time_zone_rejects(raw: str) -> None:
    expect_rejected(
        v.time_zone, raw, "is not an IANA time zone", "Area/City such as America/New_York"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("W123456789", "W123456789"), ("abc 123-45", "ABC123-45"), (" xyz 9 ", "XYZ9"),
     ("A" * 30, "A" * 30)],
)  # fmt: skip
def test_member_id_accepts(raw: str, expected: str) -> None:
    assert v.member_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("A" * 31, "has 31 characters; a member ID has at most 30"),
        ("AB#12", "AB#12 is not a member ID; expected letters, digits and dashes only"),
        ("É123", "is not a member ID"),
        ("---", "is not a member ID"),
        ("", "a blank value is not a member ID"),
    ],
)
def test_member_id_rejects(raw: str, fragment: str) -> None:
    expect_rejected(v.member_id, raw, fragment)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("md12345", "MD12345"), (" A-1 ", "A-1"), ("0101234567", "0101234567")],
)
def test_licence_number_accepts(raw: str, expected: str) -> None:
    assert v.licence_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("MD 12345", '"MD 12345" is not a licence number; expected letters, digits and dashes'),
        ("AB/12", "AB/12 is not a licence number"),
        ("9" * 31, "a licence number has at most 30"),
        ("", "a blank value is not a licence number"),
    ],
)
def test_licence_number_rejects(raw: str, fragment: str) -> None:
    expect_rejected(v.licence_number, raw, fragment)


# --- messages in general ----------------------------------------------------------------


def test_long_junk_is_shortened_in_messages() -> None:
    message = expect_rejected(v.zip_code, "9" * 500, "is not a ZIP code")
    assert len(message) < 150
    assert "…" in message


# --- Checker ----------------------------------------------------------------------------


def test_checker_returns_clean_values_and_has_no_problems() -> None:
    checker = v.Checker()
    assert checker.check("npi", v.npi, "1234-567-893") == "1234567893"
    assert checker.check("dob", v.date_of_birth, "03/07/1985") == date(1985, 3, 7)
    assert checker.check("weight", v.weight_kg, Decimal("70")) == Decimal("70.0")
    assert checker.problems == []
    checker.raise_if_problems()  # nothing to raise


def test_checker_collects_every_problem_then_raises_them_together() -> None:
    checker = v.Checker()
    assert checker.check("npi", v.npi, "1234567890") is None
    assert checker.check("phone", v.us_phone, "555-0142", required=False) is None
    assert checker.check("family_name", v.person_name, "   ") is None
    assert checker.check("given_name", v.person_name, None) is None
    assert checker.check("diagnosis", icd10cm, "F32") is None
    assert checker.check("state", v.us_state, "NY") == "NY"
    checker.add("policy_end", "the policy ends before it starts")

    fields = ["npi", "phone", "family_name", "given_name", "diagnosis", "policy_end"]
    assert [p.field for p in checker.problems] == fields
    with pytest.raises(ValidationError) as info:
        checker.raise_if_problems()
    error = info.value
    assert [p.field for p in error.problems] == fields
    assert error.for_field("family_name") == ["is required"]
    assert error.for_field("given_name") == ["is required"]
    assert error.for_field("npi") == [
        "1234567890 fails the NPI check digit (Luhn over the 80840 prefix); check for a typo"
    ]
    assert "F32 is a category" in error.for_field("diagnosis")[0]
    assert "phone: 555-0142 has 7 digits" in str(error)


def test_checker_optional_blank_is_no_problem() -> None:
    checker = v.Checker()
    assert checker.check("email", v.email, "", required=False) is None
    assert checker.check("email", v.email, "  \t", required=False) is None
    assert checker.check("weight", v.weight_kg, None, required=False) is None
    assert checker.problems == []


def test_checker_problems_is_a_copy() -> None:
    checker = v.Checker()
    checker.add("a", "is wrong")
    checker.problems.clear()
    assert checker.problems == [FieldProblem("a", "is wrong")]


def test_checker_lets_programming_errors_through() -> None:
    checker = v.Checker()
    with pytest.raises(TypeError):
        checker.check("weight", v.weight_kg, 70.5)  # type: ignore[arg-type]
    assert checker.problems == []


def test_checker_works_with_partial_validators() -> None:
    checker = v.Checker()
    sessions = checker.check("sessions", partial(v.positive_int, maximum=12), "13")
    assert sessions is None
    assert checker.problems == [
        FieldProblem("sessions", "13 is more than the maximum; expected at most 12")
    ]


def test_locations_patients_and_payers_share_one_postal_address() -> None:
    from ketadesk.clinic.locations import LOCATION_FIELDS
    from ketadesk.clinic.patients import PATIENT_FIELDS
    from ketadesk.clinic.payers import PAYER_FIELDS

    def address(specs: tuple[v.FieldSpec, ...]) -> list[tuple[str, str, bool]]:
        keys = {"address_line1", "address_line2", "city", "state", "zip_code"}
        return [(s.name, s.label, s.required) for s in specs if s.name in keys]

    street = ["address_line1", "address_line2", "city", "state", "zip_code"]
    assert address(LOCATION_FIELDS) == [
        (name, label, name != "address_line2")
        for name, label in zip(street, ["Address", "Address line 2", "City", "State",
                                        "ZIP code"], strict=True)
    ]
    assert [(n, lbl) for n, lbl, _ in address(PATIENT_FIELDS)] == [
        (n, lbl) for n, lbl, _ in address(LOCATION_FIELDS)]
    assert not any(required for _, _, required in address(PATIENT_FIELDS))
    assert address(PAYER_FIELDS) == [("address_line1", "Claims address", False),
                                     ("city", "City", False), ("state", "State", False),
                                     ("zip_code", "ZIP code", False)]
    assert v.address_fields(required=True)[3].validator("tx") == "TX"
