"""A search uses at most eight distinct words of its first 200 characters (issue 13): a
pasted page of 2,000 words failed with "Expression tree is too large", 30,000 took 14 s."""

from __future__ import annotations

from builders import patient_raw
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.clinic import patients
from ketadesk.clinic.patients import SEARCH_LENGTH, SEARCH_WORDS, search_words


def test_the_first_eight_distinct_words_are_kept() -> None:
    text = "Okafor okafor CHINEDU, " + " ".join(f"w{n}" for n in range(30))
    assert search_words(text) == ["Okafor", "CHINEDU", "w0", "w1", "w2", "w3", "w4", "w5"]
    assert len(search_words(text)) == SEARCH_WORDS


def test_only_the_first_200_characters_are_read() -> None:
    text = "x" * (SEARCH_LENGTH - 3) + " okafor"
    assert search_words(text) == ["x" * (SEARCH_LENGTH - 3), "ok"]


def register(session: Session, actor: Actor) -> tuple[str, str]:
    okafor = patients.create_patient(session, actor, patient_raw(
        family_name="Okafor", given_name="Chinedu", date_of_birth="1979-07-22"))
    other = patients.create_patient(session, actor, patient_raw(family_name="Nguyen"))
    return okafor.mrn, other.mrn


def test_two_thousand_words_find_the_patient(session: Session, front_desk: Actor) -> None:
    okafor, _other = register(session, front_desk)
    text = "okafor chinedu " + " ".join(["okafor"] * 2000)
    assert [row.mrn for row in patients.search_patients(session, front_desk, text)] == [okafor]
    assert patients.count_matching(session, front_desk, text) == 1


def test_thirty_thousand_words_search_the_first_eight(
    session: Session, front_desk: Actor
) -> None:
    _okafor, other = register(session, front_desk)
    repeated = " ".join(["Nguyen", "NGUYEN", "zoë"] * 10_000)
    assert [row.mrn for row in patients.search_patients(
        session, front_desk, f"nguyen {repeated}")] == [other]
    pasted = " ".join(f"word{n}" for n in range(30_000))  # word0..word6 match no one
    assert patients.search_patients(session, front_desk, f"okafor {pasted}") == []
