"""Patient search builds its SQL once per shape of the typed text (issue 14).

Search runs on every keystroke; building the select and its cache key cost more than
SQLite's own work, so the statement for a shape (the kind of each word) is built once and
the words travel as bound parameters. These tests hold that line and check that reusing a
statement never carries one search's words into another.
"""

from __future__ import annotations

from builders import patient_raw
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.clinic import patients


def test_words_of_the_same_kinds_reuse_one_statement(session: Session, front_desk: Actor) -> None:
    patients._page_statement.cache_clear()
    patients._count_statement.cache_clear()
    for text in ("garcia ma", "nguyen th", "smith jo"):
        patients.search_patients(session, front_desk, text)
        patients.count_matching(session, front_desk, text)
    assert patients._page_statement.cache_info().misses == 1
    assert patients._count_statement.cache_info().misses == 1
    patients.search_patients(session, front_desk, "garcia 1984-03-09")
    assert patients._page_statement.cache_info().misses == 2


def test_a_reused_statement_takes_each_searchs_own_words(
    session: Session, front_desk: Actor
) -> None:
    for family, phone in (("Okafor", "2125550101"), ("Łukasiewicz", "6175550199")):
        patients.create_patient(session, front_desk,
                                patient_raw(family_name=family, phone=phone))
    for text, family in (("okafor", "Okafor"), ("lukas", "Łukasiewicz"),
                         ("0199", "Łukasiewicz"), ("212", "Okafor")):
        found = patients.search_patients(session, front_desk, text)
        assert [row.family_name for row in found] == [family], text
        assert patients.count_matching(session, front_desk, text) == 1
    pages = [patients.search_patients(session, front_desk, "", limit=1, offset=offset)
             for offset in (0, 1)]
    assert [row.family_name for page in pages for row in page] == ["Łukasiewicz", "Okafor"]
