"""Patient records: register, edit, open (audited) and search as you type.

Input arrives as raw values (text from a form, a CSV cell, a command-line option) keyed by
the field names in :data:`PATIENT_FIELDS`. :func:`clean_patient` validates all of them at
once and returns every problem together, so the form can mark each wrong field.
Each write and each opening of a record adds an audit row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Executable,
    and_,
    bindparam,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic import validation as v
from ketadesk.clinic.codes import icd10cm
from ketadesk.clinic.models import (
    Diagnosis,
    Location,
    Patient,
    PatientSearchWord,
    ScreeningFlag,
    Sex,
)
from ketadesk.clinic.text import fold, name_words, phone_tail, successor, word_key
from ketadesk.db import Reader, connection_of, reserve
from ketadesk.errors import InvalidValue, NotFound, StaleEdit, ValidationError

MAX_DIAGNOSES = 12  # a CMS-1500 claim carries at most twelve diagnosis pointers
MRN_BASE = 100000


def parse_sex(value: str | Sex) -> Sex:
    if isinstance(value, Sex):
        return value
    text = str(value).strip().lower()
    for sex in Sex:
        if text in (sex.value.lower(), sex.label.lower(), sex.label.split()[0].lower()):
            return sex
    raise InvalidValue(f"{value!r} is not one of F, M, X or U")


def parse_diagnoses(value: object) -> list[str]:
    """ICD-10-CM codes in order, duplicates dropped; the first is the primary diagnosis."""
    codes: list[str] = []
    for raw in v.split_list(value):
        code = icd10cm(raw)
        if code not in codes:
            codes.append(code)
    if len(codes) > MAX_DIAGNOSES:
        raise InvalidValue(f"has {len(codes)} codes; a claim carries at most {MAX_DIAGNOSES}")
    return codes


def parse_flags(value: object) -> frozenset[ScreeningFlag]:
    flags = set()
    for raw in v.split_list(value):
        key = raw.lower().replace(" ", "_").replace("-", "_")
        try:
            flags.add(ScreeningFlag(key))
        except ValueError:
            choices = ", ".join(f.value for f in ScreeningFlag)
            raise InvalidValue(f"{raw!r} is not a screening flag; use {choices}") from None
    return frozenset(flags)


def _rems_date(value: date | str) -> date:
    day = value if isinstance(value, date) else v.parse_date(value)
    if day > date.today():
        raise InvalidValue(f"{day.isoformat()} is in the future")
    return day


PATIENT_FIELDS: tuple[v.FieldSpec, ...] = (
    v.FieldSpec("family_name", "Family name", True, v.person_name),
    v.FieldSpec("given_name", "Given name", True, v.person_name),
    v.FieldSpec("middle_name", "Middle name", False, v.person_name),
    v.FieldSpec("preferred_name", "Preferred name", False, v.person_name),
    v.FieldSpec("date_of_birth", "Date of birth", True, v.date_of_birth),
    v.FieldSpec("sex", "Sex", True, parse_sex),
    v.FieldSpec("phone", "Phone", False, v.us_phone),
    v.FieldSpec("email", "Email", False, v.email),
    *v.address_fields(required=False),
    v.FieldSpec("emergency_contact_name", "Emergency contact", False, v.person_name),
    v.FieldSpec("emergency_contact_phone", "Emergency contact phone", False, v.us_phone),
    v.FieldSpec("emergency_contact_relationship", "Relationship", False, v.plain_text(40)),
    v.FieldSpec("driver_name", "Usual driver", False, v.person_name),
    v.FieldSpec("driver_phone", "Driver phone", False, v.us_phone),
    v.FieldSpec("diagnoses", "Diagnoses (ICD-10-CM)", False, parse_diagnoses),
    v.FieldSpec("screening_flags", "Screening flags", False, parse_flags),
    v.FieldSpec("rems_enrolled_on", "REMS enrolment date", False, _rems_date),
    v.FieldSpec("weight_kg", "Weight (kg)", False, v.weight_kg),
    v.FieldSpec("home_location", "Home location", False, v.plain_text(12)),
    v.FieldSpec("notes", "Notes", False, v.plain_text(4000)),
)
FIELD_LABELS = {spec.name: spec.label for spec in PATIENT_FIELDS}
_EMPTY: dict[str, Any] = {
    "middle_name": "",
    "preferred_name": "",
    "phone": "",
    "email": "",
    "address_line1": "",
    "address_line2": "",
    "city": "",
    "state": "",
    "zip_code": "",
    "emergency_contact_name": "",
    "emergency_contact_phone": "",
    "emergency_contact_relationship": "",
    "driver_name": "",
    "driver_phone": "",
    "diagnoses": [],
    "screening_flags": frozenset(),
    "rems_enrolled_on": None,
    "weight_kg": None,
    "home_location": "",
    "notes": "",
}


def clean_patient(raw: Mapping[str, object]) -> dict[str, Any]:
    """Validate every field of ``raw``; return clean values or raise every problem at once.

    Unknown keys are refused (a typo in a CSV header must not drop data silently).
    """
    checker = v.Checker()
    for key in raw:
        if key not in FIELD_LABELS:
            checker.add(key, "is not a patient field")
    clean: dict[str, Any] = {}
    for spec in PATIENT_FIELDS:
        value = checker.check(spec.name, spec.validator, raw.get(spec.name), required=spec.required)
        clean[spec.name] = _EMPTY.get(spec.name) if value is None else value
    checker.raise_if_problems()
    return clean


def _location_id(session: Session, code: str) -> int | None:
    if not code:
        return None
    found = session.scalar(select(Location.id).where(Location.code == code.upper()))
    if found is None:
        raise ValidationError.single("home_location", f"there is no location with code {code}")
    return found


def _apply(session: Session, patient: Patient, clean: Mapping[str, Any]) -> None:
    for key, value in clean.items():
        if key == "diagnoses":
            _set_diagnoses(patient, value)
        elif key == "home_location":
            patient.home_location_id = _location_id(session, value)
        else:
            setattr(patient, key, value)
    for key, value in search_columns(
        patient.family_name, patient.given_name, patient.phone
    ).items():
        setattr(patient, key, value)
    _set_words(patient)


def search_columns(family_name: str, given_name: str, phone: str) -> dict[str, str]:
    """The derived search keys stored on the patient row (also used by bulk loaders)."""
    return {
        "search_family": fold(family_name),
        "search_given": fold(given_name),
        "phone_tail": phone_tail(phone),
    }


def patient_words(patient: Patient) -> set[str]:
    return name_words(
        patient.family_name, patient.given_name, patient.middle_name, patient.preferred_name
    )


def _set_words(patient: Patient) -> None:
    wanted = patient_words(patient)
    kept = [w for w in patient.search_words if w.word in wanted]
    have = {w.word for w in kept}
    patient.search_words = kept + [PatientSearchWord(word=w) for w in sorted(wanted - have)]


def _set_diagnoses(patient: Patient, codes: Sequence[str]) -> None:
    by_code = {d.code: d for d in patient.diagnoses}
    patient.diagnoses = [by_code.get(code) or Diagnosis(code=code) for code in codes]
    for position, diagnosis in enumerate(patient.diagnoses, start=1):
        diagnosis.position = position


# Derived or bookkeeping columns: the audit row's own time stamp says when it changed.
NOT_AUDITED = ("search_family", "search_given", "phone_tail", "updated_at", "version")


def _snapshot(patient: Patient) -> dict[str, Any]:
    data = audit.snapshot(patient, exclude=NOT_AUDITED)
    data["diagnoses"] = [d.code for d in patient.diagnoses]
    return data


def format_mrn(number: int) -> str:
    return str(MRN_BASE + number)


def create_patient(session: Session, actor: Actor, raw: Mapping[str, object]) -> Patient:
    """Register a patient with a newly issued MRN."""
    actor.require(Permission.PATIENT_EDIT)
    return register_patients(session, actor, [clean_patient(raw)])[0]


def register_patients(
    session: Session, actor: Actor, cleans: Sequence[Mapping[str, Any]]
) -> list[Patient]:
    """Register patients already validated by :func:`clean_patient`, in one flush.

    MRNs are drawn in one block; each patient gets its own audit row. This is the path
    of :func:`create_patient` and of the CSV import, so both apply the same rules.
    """
    actor.require(Permission.PATIENT_EDIT)
    if not cleans:
        return []
    first = reserve(session, "mrn", len(cleans))
    made: list[Patient] = []
    with session.no_autoflush:
        for offset, clean in enumerate(cleans):
            patient = Patient(mrn=format_mrn(first + offset), diagnoses=[], search_words=[])
            _apply(session, patient, clean)
            session.add(patient)
            made.append(patient)
    session.flush()
    for patient in made:
        audit.record(session, actor, "create", "patient", patient.mrn, after=_snapshot(patient))
    return made


def update_patient(
    session: Session,
    actor: Actor,
    patient_id: int,
    raw: Mapping[str, object],
    *,
    expected_version: int,
) -> Patient:
    """Save an edit made on a copy of version ``expected_version``.

    Raises :class:`StaleEdit` when someone else saved the record in between.
    """
    actor.require(Permission.PATIENT_EDIT)
    clean = clean_patient(raw)
    patient = _load(session, patient_id)
    if patient.version != expected_version:
        raise _stale(patient)
    before = _snapshot(patient)
    _apply(session, patient, clean)
    try:
        session.flush()
    except StaleDataError:
        raise _stale(patient) from None
    audit.record_update(session, actor, "patient", patient.mrn, before, _snapshot(patient))
    return patient


def _stale(patient: Patient) -> StaleEdit:
    return StaleEdit(
        f"{patient.display_name} (MRN {patient.mrn}) was changed by someone else after you "
        "opened it; reopen the record and make your change again"
    )


def _load(session: Session, patient_id: int) -> Patient:
    patient = session.get(
        Patient,
        patient_id,
        options=[selectinload(Patient.diagnoses), selectinload(Patient.policies)],
    )
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    return patient


def open_patient(session: Session, actor: Actor, patient_id: int) -> Patient:
    """Load a whole patient record for reading or editing; the opening is audited."""
    actor.require(Permission.PATIENT_VIEW)
    patient = _load(session, patient_id)
    audit.record(session, actor, "view", "patient", patient.mrn)
    return patient


def patient_by_mrn(session: Session, actor: Actor, mrn: str) -> Patient:
    """The patient with this MRN, for a look-up (booking, billing): not an audited opening
    of the record, which is :func:`open_by_mrn`. Raises :class:`NotFound` in words."""
    actor.require(Permission.PATIENT_VIEW)
    wanted = mrn.strip()
    patient = session.scalar(select(Patient).where(Patient.mrn == wanted))
    if patient is None:
        raise NotFound(f"no patient with MRN {wanted}")
    return patient


def open_by_mrn(session: Session, actor: Actor, mrn: str) -> Patient:
    """The whole record of the patient with this MRN; the opening is audited."""
    return open_patient(session, actor, patient_by_mrn(session, actor, mrn).id)


class PatientRow(NamedTuple):
    """One line of a patient list: enough to recognise a person, nothing clinical.

    Immutable like the frozen dataclasses of other results, but a named tuple: a page of
    these is built on every keystroke, and a tuple is made in a fifth of the time (a frozen
    dataclass sets each of its eight fields through ``object.__setattr__``).
    """

    id: int
    mrn: str
    family_name: str
    given_name: str
    preferred_name: str
    date_of_birth: date
    phone: str
    active: bool

    @property
    def display_name(self) -> str:
        preferred = f' "{self.preferred_name}"' if self.preferred_name else ""
        return f"{self.family_name}, {self.given_name}{preferred}"


# The search names the tables' columns, not the mapped attributes: the SQL is the same,
# but a statement of table columns compiles without configuring the mappers and without
# the ORM's compile step, which made the window's first page -- the first search of a
# start -- cost four times as much CPU (docs/PERFORMANCE.md).
_PATIENTS = Patient.__table__
_PATIENT = _PATIENTS.c
_SEARCH_WORD = PatientSearchWord.__table__.c
_ROW_COLUMNS = (
    _PATIENT.id,
    _PATIENT.mrn,
    _PATIENT.family_name,
    _PATIENT.given_name,
    _PATIENT.preferred_name,
    _PATIENT.date_of_birth,
    _PATIENT.phone,
    _PATIENT.active,
)


# Search runs on every keystroke, so its statements are built once per *shape* and kept:
# building a select and computing its cache key cost SQLAlchemy more than SQLite spent on
# the query (docs/PERFORMANCE.md). A shape is the kind of each typed word; the words
# themselves travel as bound parameters, named after their position (t0_lo, t1_day, ...).
_DATE, _NUMBER, _PHONE, _WORD = "date", "number", "phone", "word"


def _token(token: str) -> tuple[str, dict[str, Any]] | None:
    """What one typed word may match, as (kind, values): a date of birth, an MRN or phone,
    or a name word. ``None`` for a word that matches everyone (punctuation only)."""
    digits = "".join(c for c in token if c.isdigit())
    if digits:  # without one, a name word: no date to try (a failed one costs an exception)
        try:
            return _DATE, {"day": v.parse_date(token)}
        except InvalidValue:
            pass
    if digits and not token.strip("()+").replace("-", "").replace(".", "").strip("0123456789"):
        if len(digits) < 3:
            return _NUMBER, {"lo": digits, "hi": successor(digits)}
        # an area code from the front, or the last digits from the back
        tail = digits[::-1]
        return _PHONE, {"lo": digits, "hi": successor(digits),
                        "tail_lo": tail, "tail_hi": successor(tail)}
    key = word_key(token)
    if not key:
        return None
    return _WORD, {"lo": key, "hi": successor(key)}


# A search uses at most the first SEARCH_WORDS distinct words of its first SEARCH_LENGTH
# characters: a person types two or three; a pasted page of text made one condition per word,
# and 2,000 words failed with "Expression tree is too large" while 30,000 took 14 s and
# 368 MB (issue 13). Eight words already narrow a chain's patients to one.
SEARCH_WORDS = 8
SEARCH_LENGTH = 200


def search_words(text: str) -> list[str]:
    """The words of ``text`` a search uses: the first :data:`SEARCH_WORDS` distinct ones
    (ignoring case) within its first :data:`SEARCH_LENGTH` characters."""
    words: dict[str, str] = {}
    for token in text[:SEARCH_LENGTH].replace(",", " ").split():
        words.setdefault(token.casefold(), token)
        if len(words) == SEARCH_WORDS:
            break
    return list(words.values())


def _parse(text: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The shape of ``text`` and the bound values its statement takes (for the words
    :func:`search_words` keeps)."""
    kinds: list[str] = []
    values: dict[str, Any] = {}
    for token in search_words(text):
        found = _token(token)
        if found is not None:
            values.update({f"t{len(kinds)}_{name}": value for name, value in found[1].items()})
            kinds.append(found[0])
    return tuple(kinds), values


# How a condition names a typed word's value: a bare bindparam for the cached statements,
# or one carrying its value for a clause that must stand on its own in another statement.
Bind = Callable[[str], BindParameter[Any]]


def _between(column: Any, prefix: str, bind: Bind) -> ColumnElement[bool]:
    return and_(column >= bind(f"{prefix}lo"), column < bind(f"{prefix}hi"))


def _condition(kind: str, number: int, bind: Bind) -> ColumnElement[bool]:
    prefix = f"t{number}_"
    if kind == _DATE:
        return _PATIENT.date_of_birth == bind(f"{prefix}day")
    if kind == _WORD:
        words = select(_SEARCH_WORD.patient_id).where(
            _between(_SEARCH_WORD.word, prefix, bind))
        return _PATIENT.id.in_(words)
    mrn = _between(_PATIENT.mrn, prefix, bind)
    if kind == _NUMBER:
        return mrn
    tail = and_(_PATIENT.phone_tail >= bind(f"{prefix}tail_lo"),
                _PATIENT.phone_tail < bind(f"{prefix}tail_hi"))
    return or_(mrn, _between(_PATIENT.phone, prefix, bind), tail)


def _conditions(
    kinds: tuple[str, ...], include_inactive: bool, bind: Bind = bindparam
) -> list[ColumnElement[bool]]:
    conditions = [_condition(kind, number, bind) for number, kind in enumerate(kinds)]
    if not include_inactive:
        conditions.append(_PATIENT.active.is_(True))
    return conditions


@lru_cache(maxsize=256)
def _page_statement(kinds: tuple[str, ...], include_inactive: bool) -> Executable:
    return (
        select(*_ROW_COLUMNS)
        .where(*_conditions(kinds, include_inactive))
        .order_by(_PATIENT.search_family, _PATIENT.search_given, _PATIENT.id)
        .limit(bindparam("page_limit"))
        .offset(bindparam("page_offset"))
    )


@lru_cache(maxsize=256)
def _count_statement(kinds: tuple[str, ...], include_inactive: bool) -> Executable:
    return select(func.count()).select_from(_PATIENTS).where(*_conditions(kinds, include_inactive))


def patient_matches(text: str) -> ColumnElement[bool]:
    """SQL: the patient (active or not) matches every word of ``text`` as
    :func:`search_patients` reads them, for searches of other records by their patient.
    The words are bound into the clause, so it stands on its own in any statement."""
    kinds, values = _parse(text)

    def bound(name: str) -> BindParameter[Any]:
        return bindparam(name, values[name], unique=True)

    return and_(true(), *_conditions(kinds, include_inactive=True, bind=bound))


def search_patients(
    reader: Reader,
    actor: Actor,
    text: str,
    *,
    limit: int = 100,
    offset: int = 0,
    include_inactive: bool = False,
) -> list[PatientRow]:
    """Patients matching every word of ``text``, ordered by name; a page of ``limit`` rows.

    A word matches the start of any word of the family, given, middle or preferred name
    (ignoring case, accents and punctuation), a date of birth (2026-01-31 or 01/31/2026),
    the start of an MRN, or the first or last digits of the phone number. Empty text lists
    everyone, a page at a time. Only the first eight distinct words of the first 200
    characters count (:func:`search_words`); the rest of a pasted text is ignored.

    ``reader`` is a session or, for a search as you type, a bare connection
    (:meth:`~ketadesk.db.Database.rows`, :class:`~ketadesk.db.HeldRows`). Either way the
    statement runs as plain rows on a connection, without the ORM's per-execution set-up
    (a third of the cost of an indexed look-up); a session is flushed first, so patients
    added in it are found.
    """
    actor.require(Permission.PATIENT_VIEW)
    kinds, values = _parse(text)
    values |= {"page_limit": limit, "page_offset": offset}
    result = connection_of(reader).execute(_page_statement(kinds, include_inactive), values)
    # all() fetches the page in one call to the driver; iterating fetched row by row
    return list(map(PatientRow._make, result.all()))


def count_matching(
    reader: Reader, actor: Actor, text: str, *, include_inactive: bool = False
) -> int:
    """How many patients :func:`search_patients` would list for ``text``, over all pages
    (read as it reads them, pending rows of a session included)."""
    actor.require(Permission.PATIENT_VIEW)
    kinds, values = _parse(text)
    statement = _count_statement(kinds, include_inactive)
    return connection_of(reader).execute(statement, values).scalar() or 0


@dataclass(frozen=True)
class PatientPage:
    """A page of :func:`search_patients` and how many patients match in all."""

    rows: tuple[PatientRow, ...]
    total: int

    @property
    def more(self) -> int:
        """How many match beyond this page's rows (when the page started at the first)."""
        return self.total - len(self.rows)


def patient_page(
    reader: Reader,
    actor: Actor,
    text: str,
    *,
    limit: int,
    include_inactive: bool = False,
) -> PatientPage:
    """The first ``limit`` patients matching ``text`` and the true count, so a picker or a
    command can say how many it did not show; counted only when the page is full."""
    rows = search_patients(reader, actor, text, limit=limit, include_inactive=include_inactive)
    total = len(rows)
    if total >= limit:
        total = count_matching(reader, actor, text, include_inactive=include_inactive)
    return PatientPage(tuple(rows), total)


def count_patients(session: Session, *, include_inactive: bool = False) -> int:
    query = select(func.count()).select_from(Patient)
    if not include_inactive:
        query = query.where(Patient.active.is_(True))
    return session.scalar(query) or 0


def patient_values(patient: Patient) -> dict[str, Any]:
    """The editable fields of ``patient``, as :func:`clean_patient` returns them (for forms)."""
    values = {spec.name: getattr(patient, spec.name, None) for spec in PATIENT_FIELDS}
    values["diagnoses"] = [d.code for d in patient.diagnoses]
    values["home_location"] = patient.home_location.code if patient.home_location else ""
    return values
