"""The demo generator on SQLite and PostgreSQL: sizes, determinism, valid values, log-in, search.

Generated values are never validated while generating (that is what makes it fast), so
these tests hold every one of them to the same validators a person's input meets.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ketadesk.access.models import AuditEntry, User
from ketadesk.access.permissions import Actor, Role
from ketadesk.access.users import authenticate
from ketadesk.clinic import validation as v
from ketadesk.clinic.codes import icd10cm, pos_code
from ketadesk.clinic.consent.models import ConsentKey, ConsentWithdrawal
from ketadesk.clinic.models import (
    Chair,
    Diagnosis,
    InsurancePolicy,
    Location,
    Modality,
    OpeningHours,
    Patient,
    Payer,
    PolicyRank,
    Provider,
)
from ketadesk.clinic.patients import clean_patient, format_mrn, patient_values, search_patients
from ketadesk.clinic.policies import clean_policy, policy_values
from ketadesk.clinic.text import fold
from ketadesk.config import demo_database_url
from ketadesk.db import Base, Database
from ketadesk.demo import DEMO_PASSWORD, DEMO_USER, DEMO_USERS, ensure_demo_clinic, names
from ketadesk.demo.generator import (
    Accounts,
    DemoSpec,
    DemoSummary,
    generate,
    npi_check_digit,
)
from ketadesk.errors import AuthenticationFailed, Conflict, ValidationError
from ketadesk.migrations import open_database

# Fixed, and in the past on any machine that runs this suite: the validators compare
# dates of birth and REMS enrolment with the real today.
TODAY = date(2025, 6, 30)
SPEC = DemoSpec(patients=250, years=4, locations=4, seed=11, today=TODAY)
# Without the demo users: hashing their passwords with argon2 is most of a small run's time.
NO_USERS = dataclasses.replace(SPEC, accounts=Accounts.NONE)


Calls = list[tuple[str, int, int]]


def _generate(db: Database, spec: DemoSpec = SPEC) -> tuple[DemoSummary, Calls]:
    calls: Calls = []
    summary = generate(db, spec, lambda stage, done, total: calls.append((stage, done, total)))
    return summary, calls


def _setup_rows(summary: DemoSummary) -> int:
    """Audit rows of what the services set up: protocols, fee items, package templates, the
    shipped consent texts and each location's fee policy."""
    texts = len(ConsentKey)
    return (summary.protocols + summary.fee_items + summary.package_templates + texts
            + summary.locations)


def _count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_counts_match_the_spec_and_one_audit_row_tells_the_story(database: Database) -> None:
    summary, calls = _generate(database)
    assert (summary.patients, summary.locations, summary.years, summary.seed) == (250, 4, 4, 11)
    with database.reading() as s:
        assert _count(s, Patient) == summary.patients
        assert _count(s, Location) == summary.locations
        assert _count(s, Chair) == summary.chairs
        assert _count(s, OpeningHours) == summary.opening_hours
        assert _count(s, Provider) == summary.providers
        assert _count(s, Payer) == summary.payers >= 10
        assert _count(s, Diagnosis) == summary.diagnoses
        assert _count(s, InsurancePolicy) == summary.policies
        assert _count(s, User) == summary.users == len(DEMO_USERS)
        mrns = s.scalars(select(Patient.mrn).order_by(Patient.id)).all()
        assert mrns == [format_mrn(n) for n in range(1, 251)]
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity == "demo")).one()
        assert audit.action == "generate"
        assert audit.after == {**summary.as_dict(), "today": TODAY.isoformat(),
                               "now": SPEC.moment().isoformat()}
        # One audit row for the whole generation, not one per patient or session (and
        # one per shipped protocol, fee item and package template and per location's fee
        # policy, as when a clinic sets them up).
        # The consents withdrawn today go through the withdrawal service, audited one each.
        withdrawn = _count(s, ConsentWithdrawal)
        assert _count(s, AuditEntry) == len(DEMO_USERS) + _setup_rows(summary) + withdrawn + 1
        created = s.scalars(select(Patient.created_at)).all()
        assert min(created) >= datetime(2021, 6, 29, tzinfo=UTC)
        assert max(created).date() < TODAY
        chairs = [(c.location_id, c.modalities) for c in s.scalars(select(Chair))]
    stages = [stage for stage, _, _ in calls]
    assert (stages.index("clinic") < stages.index("users") < stages.index("patients")
            < stages.index("sessions"))
    assert ("patients", 250, 250) in calls and ("sessions", 250, 250) in calls
    assert calls[-1][0] == "money" and calls[-1][1] == calls[-1][2]
    per_location = Counter(location_id for location_id, _ in chairs)
    assert all(4 <= n <= 8 for n in per_location.values())
    for modality in (Modality.IV, Modality.ESKETAMINE, Modality.KAP):
        assert {loc for loc, modalities in chairs if modality in modalities} == set(per_location)


def test_insurance_mix_is_about_45_45_10(database: Database) -> None:
    summary, _ = _generate(database, NO_USERS)
    with database.reading() as s:
        per_patient = Counter(s.scalars(select(InsurancePolicy.patient_id)).all())
        ranks = Counter(s.scalars(select(InsurancePolicy.rank)).all())
        authorised = [
            (p.sessions_authorized, p.auth_from, p.auth_to) for p in s.scalars(
                select(InsurancePolicy).where(InsurancePolicy.prior_auth_number != ""))
        ]
    shares = Counter(per_patient.values())
    self_pay = summary.patients - len(per_patient)
    assert self_pay == summary.self_pay_patients
    assert abs(self_pay / summary.patients - 0.45) < 0.08
    assert abs(shares[1] / summary.patients - 0.45) < 0.08
    assert abs(shares[2] / summary.patients - 0.10) < 0.05
    assert set(shares) <= {1, 2}
    assert ranks[PolicyRank.PRIMARY] == len(per_patient)
    assert ranks[PolicyRank.SECONDARY] == shares[2]
    assert len(authorised) == summary.prior_authorizations > 0
    assert all(sessions and start and end and start < end for sessions, start, end in authorised)


def test_every_generated_value_passes_the_validators(database: Database) -> None:
    _generate(database, NO_USERS)
    with database.reading() as s:
        locations = s.scalars(select(Location).options(selectinload(Location.hours))).all()
        providers = s.scalars(select(Provider).options(selectinload(Provider.locations))).all()
        payers = s.scalars(select(Payer)).all()
        patients = s.scalars(select(Patient).options(
            selectinload(Patient.diagnoses), selectinload(Patient.home_location))).all()
        policies = s.scalars(select(InsurancePolicy)).all()
        for patient in patients:  # the registration form's own check, field by field
            clean = clean_patient(patient_values(patient))
            assert clean["family_name"] == patient.family_name
            assert clean["diagnoses"] == [d.code for d in patient.diagnoses]
        for policy in policies:
            clean_policy(s, policy_values(policy))
            assert v.member_id(policy.member_id) == policy.member_id
        npis = [loc.npi for loc in locations] + [p.npi for p in providers]
        assert [v.npi(n) for n in npis] == npis and len(set(npis)) == len(npis)
        for location in locations:
            assert v.tin(location.tin) == location.tin
            assert v.time_zone(location.time_zone) == location.time_zone
            assert pos_code(location.pos_code) == "11"
            assert v.zip_code(location.zip_code) == location.zip_code
            assert v.us_phone(location.phone) == location.phone
            assert {h.weekday for h in location.hours} >= {1, 2, 3, 4}
            assert all(h.opens < h.closes for h in location.hours)
        assert len({loc.time_zone for loc in locations}) >= 3
        assert len({loc.state for loc in locations}) == len(locations)
        for provider in providers:
            assert provider.credentials in {"MD", "DO", "NP", "CRNA"}
            assert v.licence_number(provider.licence_number) == provider.licence_number
            assert 3 <= provider.max_concurrent_chairs <= 4
            assert provider.locations
        assert sum(p.rems_enrolled for p in providers) > len(providers) / 2
        assert {p.edi_payer_id for p in payers} >= {"60054", "62308", "87726"}
        codes = {d.code for p in patients for d in p.diagnoses}
        assert {icd10cm(code) for code in codes} == codes
        phones = [number for p in patients for number in
                  (p.phone, p.emergency_contact_phone, p.driver_phone) if number]
        assert [v.us_phone(number) for number in phones] == phones
        assert all(p.email.endswith((".com", ".net", ".org")) for p in patients if p.email)
        ages = [(TODAY - p.date_of_birth).days / 365.25 for p in patients]
        assert min(ages) >= 18 and max(ages) <= 86
        assert 0.2 < sum(p.rems_enrolled_on is not None for p in patients) / len(patients) < 0.4
        assert any(not p.family_name.isascii() for p in patients)
        assert all(p.search_family == fold(p.family_name) for p in patients)
        assert all(p.home_location_id is not None and p.version == 1 for p in patients)


def test_same_seed_gives_the_same_data(tmp_path: Path) -> None:
    def tables(path: Path, spec: DemoSpec) -> dict[str, Sequence[Any]]:
        db = open_database(f"sqlite:///{path}")
        try:
            generate(db, spec)
            with db.reading() as s:
                return {
                    name: s.execute(select(table).order_by(*table.primary_key.columns)).all()
                    for name, table in Base.metadata.tables.items()
                    if name not in ("app_user", "audit_entry")  # they carry creation times
                }
        finally:
            db.dispose()

    spec = DemoSpec(patients=120, locations=3, seed=5, today=TODAY, accounts=Accounts.NONE)
    first, second = tables(tmp_path / "a.sqlite3", spec), tables(tmp_path / "b.sqlite3", spec)
    assert first["patient"] and first["insurance_policy"] and first["provider_location"]
    assert first == second
    other = tables(tmp_path / "c.sqlite3", dataclasses.replace(spec, seed=6))
    assert other["patient"] != first["patient"]


def test_demo_users_log_in_and_search_finds_generated_patients(
    database: Database, front_desk: Actor,
) -> None:
    summary, _ = _generate(database)
    # Outside the demo clinic's own file every demo user has a random password, handed
    # back once: the published one logs nobody in.
    passwords = {account.username: account.password for account in summary.accounts}
    assert set(passwords) == {name for name, _, _ in DEMO_USERS}
    assert DEMO_PASSWORD not in passwords.values()
    assert len(set(passwords.values())) == len(passwords)
    with database.transaction() as s:
        # A few log-ins (argon2 is slow on purpose); every user was made the same way.
        assert authenticate(s, DEMO_USER, passwords[DEMO_USER]).role is Role.MANAGER
        assert authenticate(s, "frontdesk", passwords["frontdesk"]).role is Role.FRONT_DESK
        with pytest.raises(AuthenticationFailed):
            authenticate(s, DEMO_USER, DEMO_PASSWORD)
        roles = dict(s.execute(select(User.username, User.role)).all())
        story = s.scalars(select(AuditEntry.after).where(AuditEntry.entity == "demo")).one()
    assert not set(passwords.values()) & {str(value) for value in story.values()}
    assert roles == {name: role for name, _, role in DEMO_USERS}
    assert set(roles.values()) == set(Role)
    with database.reading() as s:
        patient = s.scalars(
            select(Patient)
            .where(Patient.active.is_(True), ~Patient.family_name.contains(" "),
                   ~Patient.given_name.contains(" "), Patient.family_name != Patient.search_family)
            .order_by(Patient.id)
        ).first()
        assert patient is not None  # someone with an accent or capital in the family name
        for query in (
            f"{patient.family_name} {patient.given_name}",
            f"{fold(patient.family_name)[:3]} {fold(patient.given_name)[:2]}",
            patient.mrn,
            patient.date_of_birth.isoformat(),
        ):
            found = search_patients(s, front_desk, query, limit=100)
            assert patient.id in [row.id for row in found], query


def test_a_second_run_is_refused_and_writes_nothing(database: Database) -> None:
    small = DemoSpec(patients=10, locations=1, seed=2, today=TODAY, accounts=Accounts.NONE)
    summary, calls = _generate(database, small)
    assert summary.users == 0 and "users" not in {stage for stage, _, _ in calls}
    with pytest.raises(Conflict, match="already holds clinic records"):
        _generate(database, small)
    with database.reading() as s:
        assert _count(s, Patient) == 10
        assert _count(s, User) == 0
        assert _count(s, AuditEntry) == 1 + _setup_rows(summary)


def test_a_bad_spec_names_every_problem() -> None:
    with pytest.raises(ValidationError) as caught:
        DemoSpec(patients=-1, years=0, locations=99, today=TODAY)
    assert {p.field for p in caught.value.problems} == {"patients", "years", "locations"}


def test_npi_check_digit_matches_the_published_example() -> None:
    assert npi_check_digit("123456789") == "3"  # CMS's example NPI is 1234567893


def test_ensure_demo_clinic_creates_the_demo_once() -> None:
    db = ensure_demo_clinic()
    try:
        assert db.url == demo_database_url()
        with db.reading() as s:
            assert _count(s, Patient) == 600
            generated_at = s.scalars(select(AuditEntry.at).where(AuditEntry.entity == "demo")).one()
        assert datetime.now(UTC) - generated_at < timedelta(minutes=5)
    finally:
        db.dispose()
    again = ensure_demo_clinic()
    try:
        with again.reading() as s:
            assert _count(s, Patient) == 600
            assert _count(s, Location) == 3
            assert len(s.scalars(select(AuditEntry).where(AuditEntry.entity == "demo")).all()) == 1
            assert authenticate(s, DEMO_USER, DEMO_PASSWORD).role is Role.MANAGER
    finally:
        again.dispose()


def test_every_name_in_the_pools_is_a_valid_stored_name() -> None:
    pooled = [
        name
        for heritage in names.HERITAGES
        for group in (heritage.family, heritage.female, heritage.male, heritage.middle_female,
                      heritage.middle_male, heritage.adopted_female, heritage.adopted_male)
        for name in group
    ]
    pooled += [short for heritage in names.HERITAGES for _, short in heritage.nicknames]
    pooled += [part for entry in names.LONG_NAMES for part in entry if part]
    assert [v.person_name(name) for name in pooled] == pooled  # NFC, trimmed, at most 100
    assert max(len(name) for name in pooled) > 40
