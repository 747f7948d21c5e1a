"""Importing patients from a CSV file, every row checked before anything is written.

The flow has three steps, each usable on its own:

1. :func:`read_rows` turns the file into :class:`ImportRow` values (one per non-blank
   record, with the line it starts on; the header is line 1). It refuses, as
   :class:`ImportRefused`, a file that cannot be a patient list at all: empty, not UTF-8
   text, unknown or duplicated column names, a required column missing.
2. :func:`check` validates every row with the same rules as the registration form
   (:func:`ketadesk.clinic.patients.clean_patient` and
   :func:`ketadesk.clinic.policies.clean_policy`) and finds rows that repeat another row
   of the file or a patient already in the database (same family name, given name and date
   of birth). Every problem is data: an :class:`ImportProblem` with its line and column.
3. :func:`import_patients` writes the good rows through the ordinary services
   (:func:`~ketadesk.clinic.patients.create_patient`,
   :func:`~ketadesk.clinic.policies.add_policy`), so each patient is audited as if typed
   in — but only when every row is good, or when the caller chose to skip bad rows.

Columns are the patient field names of :data:`ketadesk.clinic.patients.PATIENT_FIELDS`
(``family_name``, ``given_name``, ``date_of_birth``, ``sex``, ``phone``, ...; several
diagnoses or screening flags separated by ``;``), plus optional insurance columns named
``primary_<part>`` and ``secondary_<part>`` for the parts in :data:`POLICY_COLUMNS`
(``primary_payer`` names a payer from the clinic's list). The file may start with a
byte-order mark and use Windows line endings, as spreadsheets write them.

The service prints nothing; the command line and the window show the report.
"""

from __future__ import annotations

import collections
import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic import bulk_registration, patients, payers, policies
from ketadesk.clinic.models import Location, Patient, Payer, PolicyRank
from ketadesk.clinic.text import fold
from ketadesk.db import Database, reserve, utcnow
from ketadesk.errors import Busy, FieldProblem, KetaDeskError, NotFound, ValidationError
from ketadesk.staging import Staging

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``, called as rows are checked and written."""

PATIENT_COLUMNS: tuple[str, ...] = tuple(spec.name for spec in patients.PATIENT_FIELDS)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(
    spec.name for spec in patients.PATIENT_FIELDS if spec.required
)
POLICY_COLUMNS: dict[str, str] = {
    "payer": "payer_id",
    "member_id": "member_id",
    "group_number": "group_number",
    "effective_from": "effective_from",
    "effective_to": "effective_to",
    "prior_auth_number": "prior_auth_number",
    "sessions_authorized": "sessions_authorized",
    "auth_from": "auth_from",
    "auth_to": "auth_to",
    "subscriber_name": "subscriber_name",
    "subscriber_dob": "subscriber_dob",
    "relationship": "relationship_to_subscriber",
}
"""Insurance column part (after ``primary_`` / ``secondary_``) -> policy field name."""

POLICY_RANKS: tuple[PolicyRank, ...] = (PolicyRank.PRIMARY, PolicyRank.SECONDARY)
KNOWN_COLUMNS: tuple[str, ...] = PATIENT_COLUMNS + tuple(
    f"{rank.value}_{part}" for rank in POLICY_RANKS for part in POLICY_COLUMNS
)
HEADER_LINE = 1
WRITE_BATCH = 500  # patients per bulk insert when writing
WRITE_TRIES = 3  # times a staged import is staged again when its ids were taken meanwhile

# What one file may hold. The largest clinic list seen is a few thousand patients; the limits
# keep a wrong or hostile file from tying up the workstation, and say so in words.
MAX_BYTES = 32_000_000  # about 60,000 rows of full patient and insurance columns
MAX_ROWS = 50_000
MAX_COLUMNS = 200  # the known columns (56) and the blank ones spreadsheets add at the end
MAX_CELL = 5_000  # the longest field, notes, takes 4,000 characters


@dataclass(frozen=True)
class ImportProblem:
    """One problem of one line: ``line 7, date_of_birth: 2999-01-01 is in the future``.

    ``field`` is the column name, or ``""`` for a problem of the whole row or file.
    """

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, {self.field}" if self.field else f"line {self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ImportRow:
    """One record of the file: the line it starts on and its cells by column name."""

    line: int
    cells: Mapping[str, str]
    extra_cells: int = 0  # non-blank cells outside the named columns


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, in a dry run, would do).

    ``read == imported + skipped`` always. When problems stopped the import (``stopped``),
    nothing was written and every row counts as skipped. In a dry run ``imported`` is the
    number of rows a real run would write, and ``mrns`` is empty.
    """

    read: int
    imported: int
    skipped: int
    problems: tuple[ImportProblem, ...]
    mrns: tuple[str, ...] = ()
    dry_run: bool = False
    stopped: bool = False

    @property
    def rows_with_problems(self) -> int:
        return len({p.line for p in self.problems})


class ImportRefused(KetaDeskError):
    """The file cannot be read as a patient list at all; ``problems`` say why."""

    def __init__(self, problems: Iterable[ImportProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def read_rows(source: Path | str) -> list[ImportRow]:
    """The records of a CSV file (``Path``) or of CSV text (``str``).

    Raises :class:`ImportRefused` for a file that is empty, not UTF-8 text or not CSV, that
    holds more than the import takes (:data:`MAX_BYTES`, :data:`MAX_ROWS`,
    :data:`MAX_COLUMNS`, :data:`MAX_CELL`), or whose header names unknown columns, repeats
    one or lacks a required one; :class:`NotFound` or :class:`KetaDeskError` when the file
    cannot be opened. Reading takes time in proportion to the file's size, whatever its shape.
    """
    text = _read_text(source) if isinstance(source, Path) else source
    text = text.removeprefix("\ufeff")
    if len(text) > MAX_BYTES:
        raise _too_big(len(text))
    if not text.strip():
        raise _refused(
            "the file is empty; expected a header line naming the columns, "
            "such as family_name,given_name,date_of_birth,sex"
        )
    if "\x00" in text:
        raise _binary()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        columns = _columns(_header(reader))
        return _bounded(_records(reader, columns))
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise _cell_too_long(reader.line_num) from None
        raise _refused(f"this is not readable CSV: {error}", line=reader.line_num) from None


def _bounded(records: Iterator[ImportRow]) -> list[ImportRow]:
    rows: list[ImportRow] = []
    for row in records:
        if len(rows) == MAX_ROWS:
            raise _refused(
                f"the file has more than {MAX_ROWS:,} patients, more than one import takes; "
                "split it into several files and import each",
                line=row.line,
            )
        rows.append(row)
    return rows


def _too_big(size: int) -> ImportRefused:
    return _refused(
        f"the file is {size / 1e6:.1f} MB; an import takes at most {MAX_BYTES // 10**6} MB "
        f"(about {MAX_ROWS:,} patients); split it into several files and import each"
    )


def _cell_too_long(line: int) -> ImportRefused:
    return _refused(
        f"a value is longer than {MAX_CELL:,} characters, longer than any patient field "
        "takes (a missing closing quote?)",
        line=line,
    )


def _refused(message: str, *, line: int = HEADER_LINE) -> ImportRefused:
    return ImportRefused([ImportProblem(line, "", message)])


def _binary() -> ImportRefused:
    return _refused(
        "the file holds binary data, not CSV text (a spreadsheet?); save it "
        "from the spreadsheet as 'CSV UTF-8 (comma delimited)'"
    )


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _too_big(size)
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"there is no file {path}") from None
    except OSError as error:
        raise KetaDeskError(f"cannot read {path}: {error.strerror or error}") from None
    if b"\x00" in data:
        raise _binary()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _refused(
            f"the file is not UTF-8 text (byte 0x{data[error.start]:02X} cannot be read); "
            "save it from the spreadsheet as 'CSV UTF-8 (comma delimited)'",
            line=line,
        ) from None


def _header(reader: Iterator[list[str]]) -> list[str]:
    for cells in reader:
        if any(cell.strip() for cell in cells):
            if len(cells) > MAX_COLUMNS:
                raise _refused(
                    f"the header has {len(cells):,} columns; a patient list has at most "
                    f"{MAX_COLUMNS} (the patient and insurance columns); is this the right file?"
                )
            return cells
    raise _refused("the file has no header line")


def _column_name(cell: str) -> str:
    return "_".join(cell.strip().lower().replace("-", " ").split())


def _columns(header: Sequence[str]) -> list[str]:
    """Normalised column names; every header mistake is reported at once.

    A blank header cell (spreadsheets add empty columns at the end) names no column: its
    cells are kept out of the row, and a row with a value there is told so.
    """
    names = [_column_name(cell) for cell in header]
    problems = []
    unknown = [n for n in names if n and n not in KNOWN_COLUMNS]
    if unknown:
        problems.append(_unknown_columns(unknown, header))
    counts = collections.Counter(n for n in names if n)
    repeated = sorted(n for n, count in counts.items() if count > 1)
    if repeated:
        problems.append(ImportProblem(HEADER_LINE, "", f"repeated columns: {_some(repeated)}"))
    missing = [n for n in REQUIRED_COLUMNS if n not in counts]
    if missing:
        problems.append(
            ImportProblem(HEADER_LINE, "", f"required columns missing: {', '.join(missing)}")
        )
    if problems:
        raise ImportRefused(problems)
    return names


def _some(names: Sequence[str], shown: int = 10) -> str:
    """The first ``shown`` names, and how many more there are."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more:,} more" if more > 0 else "")


def _unknown_columns(unknown: list[str], header: Sequence[str]) -> ImportProblem:
    message = f"unknown columns: {_some(unknown)}"
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        message += "; the values seem separated by something other than commas"
    else:
        message += (
            "; columns are patient fields (family_name, given_name, date_of_birth, "
            "sex, phone, ...) and primary_/secondary_ insurance columns"
        )
    return ImportProblem(HEADER_LINE, "", message)


def _records(reader: Any, columns: list[str]) -> Iterator[ImportRow]:
    """Non-blank records, each with the line it starts on (a quoted cell may span lines)."""
    previous_end = reader.line_num
    width = len(columns)
    for cells in reader:
        line, previous_end = previous_end + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if max(map(len, cells)) > MAX_CELL:
            raise _cell_too_long(line)
        padded = [*cells, *[""] * (width - len(cells))]  # at least one cell per column
        named = {name: cell for name, cell in zip(columns, padded[:width], strict=True) if name}
        stray = [
            cell for i, cell in enumerate(padded) if cell.strip() and (i >= width or not columns[i])
        ]
        extra = len(stray)
        yield ImportRow(line, named, extra)


# --------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------

Key = tuple[str, str, date]


@dataclass
class _Lookups:
    """What every row is checked against, loaded once for the whole file."""

    session: Session
    locations: frozenset[str]
    existing: dict[Key, str]  # (family, given, born) -> MRN of a patient already stored
    payers: dict[str, Payer | str] = field(default_factory=dict)  # folded name -> payer | why not
    seen: dict[Key, int] = field(default_factory=dict)  # key -> line of its first row

    @classmethod
    def load(cls, session: Session) -> _Lookups:
        codes = frozenset(session.scalars(select(Location.code)))
        stored = session.execute(
            select(
                Patient.search_family, Patient.search_given, Patient.date_of_birth, Patient.mrn
            ).order_by(Patient.id)
        )
        existing: dict[Key, str] = {}
        for family, given, born, mrn in stored:
            existing.setdefault((family, given, born), mrn)
        return cls(session, codes, existing)

    def payer(self, name: str) -> Payer | str:
        """The payer called ``name``, or why there is none (asked once per name)."""
        key = fold(name)
        if key not in self.payers:
            self.payers[key] = _find_payer(self.session, name)
        return self.payers[key]


def _find_payer(session: Session, name: str) -> Payer | str:
    try:
        return payers.get_payer_by_name(session, name)
    except NotFound as error:
        reason = str(error).strip().rstrip(".")
        return f"{reason[:1].lower()}{reason[1:]}; add it to the clinic's payers first"


@dataclass(frozen=True)
class _GoodRow:
    """A row that passed every check: its clean patient and policy values."""

    line: int
    patient: dict[str, Any]
    policies: tuple[dict[str, Any], ...]


def check(
    session: Session, rows: Sequence[ImportRow], *, progress: Progress | None = None
) -> ImportReport:
    """Every problem of every row, and how many rows could be imported (writes nothing).

    The report is that of a dry run: ``imported`` counts the rows a real run would write.
    """
    problems, good = _examine(session, rows, progress)
    return _report(rows, problems, good, dry_run=True, skip_invalid=False)


def _examine(
    session: Session, rows: Sequence[ImportRow], progress: Progress | None
) -> tuple[list[ImportProblem], list[_GoodRow]]:
    lookups = _Lookups.load(session)
    problems: list[ImportProblem] = []
    good: list[_GoodRow] = []
    for done, row in enumerate(rows, start=1):
        found, clean = _check_row(lookups, row)
        problems.extend(found)
        if clean is not None:
            good.append(clean)
        if progress is not None:
            progress("checking rows", done, len(rows))
    return problems, good


def _check_row(lookups: _Lookups, row: ImportRow) -> tuple[list[ImportProblem], _GoodRow | None]:
    problems: list[ImportProblem] = []
    if row.extra_cells:
        problems.append(
            ImportProblem(
                row.line,
                "",
                (
                    f"has {row.extra_cells} value{'s' if row.extra_cells > 1 else ''} outside the "
                    "named columns; check for a stray comma"
                ),
            )
        )
    patient_raw = {c: row.cells[c] for c in PATIENT_COLUMNS if c in row.cells}
    clean = _clean_patient(lookups, row.line, patient_raw, problems)
    clean_policies = [
        policy
        for rank in POLICY_RANKS
        if (policy := _clean_policy(lookups, row, rank, problems)) is not None
    ]
    if clean is not None:
        _check_duplicate(lookups, row.line, clean, problems)
    if problems or clean is None:
        return problems, None
    return [], _GoodRow(row.line, clean, tuple(clean_policies))


def _clean_patient(
    lookups: _Lookups, line: int, raw: dict[str, str], problems: list[ImportProblem]
) -> dict[str, Any] | None:
    try:
        clean = patients.clean_patient(raw)
    except ValidationError as error:
        problems.extend(_located(line, error.problems))
        return None
    code = clean["home_location"]
    if code and code.upper() not in lookups.locations:
        problems.append(
            ImportProblem(line, "home_location", f"there is no location with code {code}")
        )
        return None
    return clean


def _located(
    line: int, found: Iterable[FieldProblem], names: Mapping[str, str] | None = None
) -> list[ImportProblem]:
    names = names or {}
    return [ImportProblem(line, names.get(p.field, p.field), p.message) for p in found]


def _clean_policy(
    lookups: _Lookups, row: ImportRow, rank: PolicyRank, problems: list[ImportProblem]
) -> dict[str, Any] | None:
    """The clean policy of ``rank`` (``clean_policy``'s values); None if blank or wrong."""
    prefix = f"{rank.value}_"
    cells = {part: row.cells.get(prefix + part, "").strip() for part in POLICY_COLUMNS}
    if not any(cells.values()):
        return None
    raw: dict[str, object] = {POLICY_COLUMNS[part]: value for part, value in cells.items()}
    raw["rank"] = rank.value
    if cells["payer"]:
        payer = lookups.payer(cells["payer"])
        if isinstance(payer, str):
            problems.append(ImportProblem(row.line, prefix + "payer", payer))
            return None
        raw["payer_id"] = payer.id
    try:
        return policies.clean_policy(lookups.session, raw)
    except ValidationError as error:
        names = {policy_field: prefix + part for part, policy_field in POLICY_COLUMNS.items()}
        problems.extend(_located(row.line, error.problems, names))
        return None


def _check_duplicate(
    lookups: _Lookups, line: int, clean: Mapping[str, Any], problems: list[ImportProblem]
) -> None:
    key, who = _key(clean), _who(clean)
    if key in lookups.existing:
        problems.append(
            ImportProblem(line, "", f"looks like MRN {lookups.existing[key]} already ({who})")
        )
    elif key in lookups.seen:
        problems.append(ImportProblem(line, "", f"repeats line {lookups.seen[key]} ({who})"))
    else:
        lookups.seen[key] = line


def _key(clean: Mapping[str, Any]) -> Key:
    return (fold(clean["family_name"]), fold(clean["given_name"]), clean["date_of_birth"])


def _who(clean: Mapping[str, Any]) -> str:
    return f"{clean['family_name']}, {clean['given_name']}, born {clean['date_of_birth']}"


def _report(
    rows: Sequence[ImportRow],
    problems: list[ImportProblem],
    good: list[_GoodRow],
    *,
    dry_run: bool,
    skip_invalid: bool,
    mrns: Sequence[str] = (),
) -> ImportReport:
    stopped = bool(problems) and not skip_invalid
    imported = 0 if stopped else (len(good) if dry_run else len(mrns))
    return ImportReport(
        read=len(rows),
        imported=imported,
        skipped=len(rows) - imported,
        problems=tuple(sorted(problems, key=lambda p: p.line)),
        mrns=tuple(mrns),
        dry_run=dry_run,
        stopped=stopped,
    )


# --------------------------------------------------------------------------------------
# Importing
# --------------------------------------------------------------------------------------


def import_patients(
    session: Session,
    actor: Actor,
    path: Path | str,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of the CSV file at ``path``, then register the patients, all in the
    caller's transaction (which holds the write lock throughout on SQLite: the window and
    the command line use :func:`import_file`, which checks first and locks only to write).

    Nothing is written when any row has a problem, unless ``skip_invalid`` is given (then
    the good rows are written and the rest reported), nor in a ``dry_run``. A file that is
    not a patient list at all comes back as a report of its problems, with nothing read.
    Raises :class:`PermissionDenied` and, for a file that cannot be opened, :class:`NotFound`.
    """
    checked = _prepare(session, actor, path, progress)
    if isinstance(checked, ImportReport):
        return replace(checked, dry_run=dry_run)
    if dry_run or (checked.problems and not skip_invalid):
        return checked.report(dry_run=dry_run, skip_invalid=skip_invalid)
    first = reserve(session, "mrn", len(checked.good)) if checked.good else 0
    mrns = _write(session, actor, checked, _prepared(actor, checked, first), None, progress)
    return checked.report(dry_run=False, skip_invalid=skip_invalid, mrns=mrns)


def import_file(
    db: Database,
    actor: Actor,
    path: Path | str,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """:func:`import_patients` in the way that never blocks the clinic (issue 13).

    1. The file is read and every row checked in a read-only session: no lock is taken,
       and other workstations save as usual however long the file takes.
    2. The block of MRNs is reserved in a transaction of its own, so the counter row,
       which every new patient needs, is locked for milliseconds, not for the import; so
       are the row ids (:func:`ketadesk.clinic.bulk_registration.reserve_ids`).
    3. Every row to store, search word, diagnosis and audit row is made ready and staged
       in temporary tables of the import's own connection (:mod:`ketadesk.staging`),
       still without a lock.
    4. One write transaction, all or nothing, checks again for patients registered
       elsewhere since step 1, then copies the staged rows in with one ``INSERT ...
       SELECT`` a table and chains the audit rows onto the log: a fraction of a second
       for 30,000 patients, the only time other workstations wait.

    If the reserved row ids were taken meanwhile (SQLite; another import), or a patient
    of the file was registered meanwhile and ``skip_invalid`` drops that row, the rows are
    staged again and the write tried again, up to :data:`WRITE_TRIES` times. If the import
    fails after step 2, the reserved MRNs are left unused (MRNs need not be consecutive;
    invoice numbers, which must be, are never drawn this way).
    """
    with db.reading() as session:
        checked = _prepare(session, actor, path, progress)
    if isinstance(checked, ImportReport):
        return replace(checked, dry_run=dry_run)
    if dry_run or (checked.problems and not skip_invalid):
        return checked.report(dry_run=dry_run, skip_invalid=skip_invalid)
    if not checked.good:
        with db.transaction(job=True) as session:
            return checked.report(dry_run=False, skip_invalid=skip_invalid,
                                  mrns=_write(session, actor, checked, [], None, None))
    with db.transaction(job=True) as session:
        first = reserve(session, "mrn", len(checked.good))
    with Staging(db) as staging:
        for _try in range(WRITE_TRIES):
            written = _stage_and_write(db, staging, actor, checked, first, progress)
            if isinstance(written, list):
                return checked.report(dry_run=False, skip_invalid=skip_invalid, mrns=written)
            if written.problems != checked.problems and not skip_invalid:
                return written.report(dry_run=False, skip_invalid=False)
            checked = written
            staging.clear()
    raise Busy(
        "other workstations kept registering patients while the import was being written; "
        "nothing was imported; try again in a quieter moment"
    )


def _stage_and_write(
    db: Database,
    staging: Staging,
    actor: Actor,
    checked: _Checked,
    first: int,
    progress: Progress | None,
) -> list[str] | _Checked:
    """Stage the good rows and write them: the MRNs issued, or, when the write could not
    be done as staged, the file checked again (with the rows found registered meanwhile
    as problems) for the caller to stage once more."""
    with db.reading() as session:
        ids = bulk_registration.reserve_ids(
            session, bulk_registration.PATIENTS, len(checked.good))
        policy_ids = bulk_registration.reserve_ids(
            session, bulk_registration.POLICIES, sum(len(row.policies) for row in checked.good))
    batches = _prepared(actor, checked, first)
    audit_rows = audit.StagedAudit(staging, utcnow())
    _stage(staging, audit_rows, actor, batches, ids, policy_ids, progress)
    with staging.writing() as session:
        rechecked = checked.recheck(session)
        free = all(bulk_registration.ids_still_free(session, table, taken) for table, taken in (
            (bulk_registration.PATIENTS, ids), (bulk_registration.POLICIES, policy_ids)))
        if len(rechecked.good) < len(checked.good) or not free:
            return rechecked
        bulk_registration.copy(session, staging)
        audit_rows.link(session)
        mrns = [mrn for batch in batches for mrn in batch.mrns]
        _audit_import(session, actor, checked, len(mrns))
    return mrns


def _stage(
    staging: Staging,
    audit_rows: audit.StagedAudit,
    actor: Actor,
    batches: Sequence[bulk_registration.Prepared],
    ids: Sequence[int],
    policy_ids: Sequence[int],
    progress: Progress | None,
) -> None:
    total = len(ids)
    done = policies_done = 0
    for batch in batches:
        count, policy_count = len(batch.patients), len(batch.policies)
        bulk_registration.stage(
            staging, audit_rows, actor, batch, ids[done : done + count],
            policy_ids[policies_done : policies_done + policy_count])
        done, policies_done = done + count, policies_done + policy_count
        if progress is not None:
            progress("importing patients", done, total)


@dataclass(frozen=True)
class _Checked:
    """A file read and checked: its rows, their problems, the good rows, and the last
    patient id the duplicate check saw (patients after it are checked again before writing)."""

    source: Path
    rows: Sequence[ImportRow]
    problems: list[ImportProblem]
    good: list[_GoodRow]
    seen_through: int
    location_ids: dict[str, int]

    def report(
        self, *, dry_run: bool, skip_invalid: bool, mrns: Sequence[str] = ()
    ) -> ImportReport:
        return _report(self.rows, self.problems, self.good, dry_run=dry_run,
                       skip_invalid=skip_invalid, mrns=mrns)

    def recheck(self, session: Session) -> _Checked:
        """The same, with good rows that match a patient registered since the check
        turned into problems."""
        late = _registered_since(session, self.seen_through)
        problems = list(self.problems)
        good = []
        for row in self.good:
            key = _key(row.patient)
            if key in late:
                problems.append(ImportProblem(
                    row.line, "", f"looks like MRN {late[key]} already ({_who(row.patient)}), "
                    "registered while the file was being checked"))
            else:
                good.append(row)
        return replace(self, problems=problems, good=good)


def _prepare(
    session: Session, actor: Actor, path: Path | str, progress: Progress | None
) -> _Checked | ImportReport:
    """The file read and checked, or the report of a file refused outright."""
    actor.require(Permission.PATIENT_EDIT)
    source = Path(path)
    try:
        rows = read_rows(source)
    except ImportRefused as refused:
        return ImportReport(0, 0, 0, refused.problems, stopped=True)
    seen_through = session.scalar(select(func.max(Patient.id))) or 0
    problems, good = _examine(session, rows, progress)
    if any(row.policies for row in good):
        actor.require(Permission.POLICY_EDIT)
    return _Checked(source, rows, problems, good, seen_through,
                    bulk_registration.locations(session))


def _registered_since(session: Session, patient_id: int) -> dict[Key, str]:
    stored = session.execute(
        select(Patient.search_family, Patient.search_given, Patient.date_of_birth, Patient.mrn)
        .where(Patient.id > patient_id)
    )
    return {(family, given, born): mrn for family, given, born, mrn in stored}


def _prepared(actor: Actor, checked: _Checked, first: int) -> list[bulk_registration.Prepared]:
    """The good rows made ready to store, a batch at a time, numbered from MRN counter value
    ``first`` on."""
    return [
        bulk_registration.prepare(
            actor,
            [row.patient for row in batch],
            [row.policies for row in batch],
            first + start,
            checked.location_ids,
        )
        for start in range(0, len(checked.good), WRITE_BATCH)
        if (batch := checked.good[start : start + WRITE_BATCH])
    ]


def _write(
    session: Session,
    actor: Actor,
    checked: _Checked,
    batches: Sequence[bulk_registration.Prepared],
    ids: Sequence[int] | None,
    progress: Progress | None,
) -> list[str]:
    """Store the prepared batches (with the patient ids reserved for them, if any) and audit
    the import; return the MRNs issued, in file order."""
    mrns: list[str] = []
    total = len(checked.good)
    for batch in batches:
        done = len(mrns)
        batch_ids = None if ids is None else ids[done : done + len(batch.patients)]
        bulk_registration.store(session, actor, batch, batch_ids)
        mrns += batch.mrns
        if progress is not None:
            progress("importing patients", len(mrns), total)
    _audit_import(session, actor, checked, len(mrns))
    return mrns


def _audit_import(session: Session, actor: Actor, checked: _Checked, imported: int) -> None:
    audit.record(
        session,
        actor,
        "import",
        "patient",
        checked.source.name[-40:],
        after={
            "file": str(checked.source),
            "rows": len(checked.rows),
            "imported": imported,
            "skipped": len(checked.rows) - imported,
        },
    )
