"""pyx12 as a list of sentences: each names the segment, where it is, and what is wrong."""

from __future__ import annotations

import logging

import pytest
from billing.edi.edi_builders import batch, claim

from ketadesk.billing.edi.validate import problems
from ketadesk.billing.edi.x837 import write_837p


@pytest.fixture
def claim_file() -> str:
    return write_837p(batch())


def test_a_valid_file_has_no_problems(claim_file: str) -> None:
    assert problems(claim_file) == []


def test_a_wrong_segment_count_names_the_transaction(claim_file: str) -> None:
    assert problems(claim_file.replace("SE*28*0001", "SE*27*0001")) == [
        "the transaction starting at segment 3 (ST): "
        "SE count of 27 for SE02=0001 is wrong. I count 28 [error 4]"
    ]


def test_an_impossible_birth_date_names_the_element(claim_file: str) -> None:
    found = problems(claim_file.replace("DMG*D8*19800402", "DMG*D8*19801402"))
    assert found == [
        'segment 19 (DMG): Data element "Subscriber Birth Date" (DMG02) contains an invalid '
        "date (19801402) (19801402) [error 8]"
    ]


def test_a_missing_required_segment_is_named(claim_file: str) -> None:
    text = claim_file.replace("HI*ABK:F322*ABF:F411~\n", "")
    found = problems(text)
    assert any('Mandatory segment "Health Care Diagnosis Code" (HI) missing' in p for p in found)
    assert all(p.startswith(("segment ", "the transaction starting at segment")) for p in found)


def test_a_problem_in_the_envelope_is_seen(claim_file: str) -> None:
    text = claim_file.replace("*0*P*:", "*0*X*:")
    assert problems(text) == [
        "segment 1 (ISA): (X) is not a valid code for Usage Indicator (ISA15) (X) [error 7]"
    ]


def test_positions_are_segments_not_lines(claim_file: str) -> None:
    text = claim_file.replace("~\n", "~").replace("DMG*D8*19800402", "DMG*D8*19801402")
    assert problems(text)[0].startswith("segment 19 (DMG):")


def test_an_unknown_guide_is_named(claim_file: str) -> None:
    found = problems(claim_file.replace("005010X222A1", "005010X222A2"))
    assert found == [
        "pyx12 could not read the file: Map not found.  icvn=00501, fic=HC, vriic=005010X222A2"
    ]


@pytest.mark.parametrize("text", ["", "CLM*1*100", "hello " * 40])
def test_text_that_is_not_x12(text: str) -> None:
    assert problems(text) == ["the file is not X12: it must begin with a 106-character ISA segment"]


def test_problems_are_returned_not_logged(
    claim_file: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        assert problems(claim_file.replace("SE*28", "SE*27"))
    assert [r for r in caplog.records if r.name.startswith("pyx12")] == []
    assert logging.getLogger("pyx12").propagate


def test_a_big_file_is_one_list(claim_file: str) -> None:
    text = write_837p(batch(*(claim(f"C{n}") for n in range(30))))
    assert problems(text) == []
