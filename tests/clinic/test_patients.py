"""Patient services on SQLite and PostgreSQL: register, edit, open, search."""

from __future__ import annotations

from decimal import Decimal

import pytest
from builders import add_location, patient_raw
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic import patients
from ketadesk.clinic.models import Patient, ScreeningFlag, Sex
from ketadesk.db import Database
from ketadesk.errors import NotFound, PermissionDenied, StaleEdit, ValidationError


def test_register_issues_mrn_and_stores_clean_values(session: Session, front_desk: Actor) -> None:
    first = patients.create_patient(session, front_desk, patient_raw(weight_kg="81.4"))
    second = patients.create_patient(session, front_desk, patient_raw(given_name="Ana"))
    assert first.mrn == "100001"
    assert second.mrn == "100002"
    assert first.phone == "2125550142"
    assert first.sex is Sex.FEMALE
    assert first.weight_kg == Decimal("81.4")
    assert [d.code for d in first.diagnoses] == ["F33.2", "F43.10"]
    assert first.search_family == "lukasiewicz"


def test_every_bad_field_is_reported_and_nothing_is_written(
    session: Session, front_desk: Actor
) -> None:
    raw = patient_raw(family_name=" ", phone="123", date_of_birth="2999-01-01", diagnoses="F32")
    with pytest.raises(ValidationError) as caught:
        patients.create_patient(session, front_desk, raw)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"family_name", "phone", "date_of_birth", "diagnoses"}
    assert "category" in caught.value.for_field("diagnoses")[0]
    assert session.scalar(select(Patient.id)) is None


def test_unknown_field_is_refused(session: Session, front_desk: Actor) -> None:
    with pytest.raises(ValidationError, match="famly_name: is not a patient field"):
        patients.create_patient(session, front_desk, patient_raw(famly_name="Ng"))


def test_permission_is_checked_in_the_service(session: Session) -> None:
    nobody = Actor(username="visitor", role=Role.CLINICAL)
    patients.create_patient(session, nobody, patient_raw())  # clinical staff may register
    with pytest.raises(PermissionDenied, match="may not change clinic setup"):
        nobody.require(patients.Permission.CLINIC_SETUP)


def test_create_update_and_open_are_audited(session: Session, front_desk: Actor) -> None:
    patient = patients.create_patient(session, front_desk, patient_raw())
    patients.update_patient(
        session,
        front_desk,
        patient.id,
        patient_raw(phone="212-555-0199", screening_flags="pregnancy"),
        expected_version=patient.version,
    )
    patients.open_patient(session, front_desk, patient.id)
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "patient").order_by(AuditEntry.id)
    ).all()
    assert [r.action for r in rows] == ["create", "update", "view"]
    assert rows[1].before == {"phone": "2125550142", "screening_flags": []}
    assert rows[1].after == {"phone": "2125550199", "screening_flags": ["pregnancy"]}
    assert all(r.actor == "test-front" for r in rows)
    assert patient.screening_flags == frozenset({ScreeningFlag.PREGNANCY})


def test_stale_edit_is_refused(session: Session, front_desk: Actor) -> None:
    patient = patients.create_patient(session, front_desk, patient_raw())
    opened_at = patient.version
    patients.update_patient(
        session, front_desk, patient.id, patient_raw(city="Albany"), expected_version=opened_at
    )
    with pytest.raises(StaleEdit, match="changed by someone else"):
        patients.update_patient(
            session, front_desk, patient.id, patient_raw(city="Troy"), expected_version=opened_at
        )
    assert patient.city == "Albany"


def test_diagnosis_order_is_kept_and_duplicates_dropped(
    session: Session, front_desk: Actor
) -> None:
    patient = patients.create_patient(
        session, front_desk, patient_raw(diagnoses=["f43.10", "F33.2", "F4310"])
    )
    assert [(d.code, d.position) for d in patient.diagnoses] == [("F43.10", 1), ("F33.2", 2)]
    patients.update_patient(
        session,
        front_desk,
        patient.id,
        patient_raw(diagnoses="F33.2"),
        expected_version=patient.version,
    )
    assert [(d.code, d.position) for d in patient.diagnoses] == [("F33.2", 1)]


def test_home_location_by_code(session: Session, front_desk: Actor) -> None:
    location = add_location(session, "BOS")
    patient = patients.create_patient(session, front_desk, patient_raw(home_location="bos"))
    assert patient.home_location_id == location.id
    with pytest.raises(ValidationError, match="no location with code XYZ"):
        patients.create_patient(session, front_desk, patient_raw(home_location="XYZ"))


@pytest.fixture
def crowd(session: Session, front_desk: Actor) -> Session:
    people = [
        ("Łukasiewicz", "Zoë", "", "1984-03-09", "2125550142"),
        ("Lukas", "Ben", "Benny", "1990-07-01", "6175550111"),
        ("Nguyễn", "Văn An", "", "1975-12-24", "4155550123"),
        ("阮", "文英", "", "1968-02-29", "3125550188"),
        ("O'Brien", "Lucy", "Lu", "2001-10-10", "7185550177"),
    ]
    for family, given, preferred, dob, phone in people:
        patients.create_patient(
            session,
            front_desk,
            patient_raw(
                family_name=family,
                given_name=given,
                preferred_name=preferred,
                date_of_birth=dob,
                phone=phone,
            ),
        )
    return session


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("luk", ["Lukas", "Łukasiewicz"]),
        ("LUKASIE", ["Łukasiewicz"]),
        ("zoe", ["Łukasiewicz"]),
        ("lu", ["Lukas", "Łukasiewicz", "O'Brien"]),  # Lucy, and Lu as preferred name
        ("benny", ["Lukas"]),
        ("nguyen van", ["Nguyễn"]),
        ("阮", ["阮"]),
        ("1975-12-24", ["Nguyễn"]),
        ("02/29/1968", ["阮"]),
        ("0177", ["O'Brien"]),
        ("100002", ["Lukas"]),
        ("luk 617", ["Lukas"]),
        ("nobody", []),
    ],
)
def test_search_as_you_type(
    crowd: Session, front_desk: Actor, text: str, expected: list[str]
) -> None:
    rows = patients.search_patients(crowd, front_desk, text)
    assert [r.family_name for r in rows] == expected


def test_search_reads_the_same_on_a_rows_connection(
    database: Database, front_desk: Actor
) -> None:
    # The list model searches on Database.rows(), a session-less connection; a session
    # must find the same patients, and its own unsaved ones too (it is flushed first).
    with database.transaction() as session:
        for family in ("Okafor", "Okoye", "Osei"):
            patients.create_patient(session, front_desk, patient_raw(family_name=family))
    with database.rows() as connection:
        shown = patients.search_patients(connection, front_desk, "ok", limit=1)
        counted = patients.count_matching(connection, front_desk, "ok")
    assert ([r.family_name for r in shown], counted) == (["Okafor"], 2)
    with database.reading() as session:
        patients.create_patient(session, front_desk, patient_raw(family_name="Okonkwo"))
        found = patients.search_patients(session, front_desk, "ok")
        assert [r.family_name for r in found] == ["Okafor", "Okonkwo", "Okoye"]
        assert patients.count_matching(session, front_desk, "ok") == 3


def test_search_pages_through_everyone(crowd: Session, front_desk: Actor) -> None:
    first = patients.search_patients(crowd, front_desk, "", limit=3)
    rest = patients.search_patients(crowd, front_desk, "", limit=3, offset=3)
    assert len(first) == 3 and len(rest) == 2
    assert {r.id for r in first}.isdisjoint({r.id for r in rest})
    assert patients.count_patients(crowd) == 5


@pytest.mark.parametrize(
    ("family", "given", "typed"),
    [
        ("de la Cruz", "María José", "de la cruz"),
        ("de la Cruz", "María José", "cruz maria"),
        ("van der Berg", "Pieter", "berg"),
        ("O'Brien-Smith", "Lucy", "obrien"),
        ("O'Brien-Smith", "Lucy", "o'brien smith"),
        ("Wong", "Mei Ling", "mei ling"),
    ],
)
def test_every_word_of_a_name_can_be_typed(
    session: Session, front_desk: Actor, family: str, given: str, typed: str
) -> None:
    patients.create_patient(session, front_desk, patient_raw(family_name=family, given_name=given))
    rows = patients.search_patients(session, front_desk, typed)
    assert [r.family_name for r in rows] == [family]


def test_renaming_replaces_the_search_words(session: Session, front_desk: Actor) -> None:
    patient = patients.create_patient(session, front_desk, patient_raw(family_name="Kowalski"))
    patients.update_patient(
        session, front_desk, patient.id, patient_raw(family_name="Nowak"),
        expected_version=patient.version,
    )
    assert patients.search_patients(session, front_desk, "kowal") == []
    assert [r.id for r in patients.search_patients(session, front_desk, "nowak")] == [patient.id]


def test_phone_matches_from_the_front_or_the_back(session: Session, front_desk: Actor) -> None:
    patients.create_patient(session, front_desk, patient_raw(phone="(415) 555-0123"))
    for typed in ("415", "4155", "0123", "5550123", "(415) 555-0123"):
        assert len(patients.search_patients(session, front_desk, typed)) == 1, typed
    assert patients.search_patients(session, front_desk, "5550") == []  # the middle alone


def test_count_matching_counts_every_page(crowd: Session, front_desk: Actor) -> None:
    assert patients.count_matching(crowd, front_desk, "lu") == 3
    assert patients.count_matching(crowd, front_desk, "lu", include_inactive=True) == 3
    assert patients.count_matching(crowd, front_desk, "") == 5
    assert patients.count_matching(crowd, front_desk, "nobody") == 0


def test_a_patient_is_looked_up_by_mrn_without_opening_the_record(
    session: Session, admin: Actor
) -> None:
    made = patients.create_patient(session, admin, patient_raw())
    before = session.scalars(select(AuditEntry).where(AuditEntry.action == "view")).all()

    assert patients.patient_by_mrn(session, admin, f" {made.mrn} ") is made
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "view")).all() == before
    with pytest.raises(NotFound, match="no patient with MRN 999999"):
        patients.patient_by_mrn(session, admin, "999999")
    assert patients.open_by_mrn(session, admin, made.mrn) is made  # the opening is audited
    viewed = session.scalars(select(AuditEntry).where(AuditEntry.action == "view")).all()
    assert [(row.entity, row.entity_id) for row in viewed] == [("patient", made.mrn)]
