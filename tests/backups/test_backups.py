"""Backups as a clinic needs them: taken while others write, restored after a wreck, whole.

Real SQLite files and a real PostgreSQL server (``database`` runs each test on both where the
back end matters); another process writes payments through the billing services while the
backup is taken. Clocks are passed in; nothing sleeps for time to pass.
"""

from __future__ import annotations

import json
import sqlite3
import stat
import struct
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from builders import add_location, patient_raw

from ketadesk.access.permissions import Actor, Role
from ketadesk.backups import postgres
from ketadesk.backups.archive import (
    MAGIC,
    BackupError,
    Manifest,
    WrongPassphrase,
    extract_payload,
    read_manifest,
    write_archive,
)
from ketadesk.backups.backup import restore_backup, take_backup, verify_backup
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database
from ketadesk.migrations import HEAD

WRITER = Path(__file__).with_name("writer.py")
NOW = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
ACTOR = Actor(username="tester", role=Role.ADMIN)


def figures(db: Database) -> tuple[dict[str, int], int]:
    """Rows per table and the ledger's SUM(amount) in cents, read with plain SQL."""
    with db.engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
        counts = {
            n: connection.execute(sa.text(f'SELECT count(*) FROM "{n}"')).scalar_one()
            for n in names
        }
        total = connection.execute(
            sa.text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entry")
        ).scalar_one()
    return counts, int(total)


def writer_payments(db: Database) -> list[int]:
    """The writer's payments found in ``db``, as their numbers, and their amounts checked."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT reference, amount FROM ledger_entry WHERE reference LIKE 'writer-%'")
        ).all()
    numbers = sorted(int(ref.split("-")[1]) for ref, _ in rows)
    for ref, cents in rows:
        number = int(ref.split("-")[1])
        assert -int(cents) == number * 101  # i dollars and i cents, as a credit
    return numbers


def clinic(db: Database) -> tuple[int, int]:
    with db.transaction() as session:
        location = add_location(session)
        patient = create_patient(session, ACTOR, patient_raw())
        return patient.id, location.id


def logged(log: Path) -> int:
    return len(log.read_text().split()) if log.exists() else 0


def wreck(db: Database) -> None:
    """Overwrite a SQLite file with rubbish; drop every table of a PostgreSQL database."""
    db.dispose()
    if db.is_sqlite:
        path = Path(str(db.engine.url.database))
        path.write_bytes(b"this is not a database any more\n" * 512)
        return
    with db.engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    db.dispose()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the clinic's story: back up while another process writes, wreck, restore --------------


def test_backup_while_another_process_writes_then_restore_after_a_wreck(
    database: Database, tmp_path: Path
) -> None:
    patient, location = clinic(database)
    log = tmp_path / "written.log"
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), database.url, str(patient), str(location), "120", str(log)]
    )
    try:
        while logged(log) < 15 and writer.poll() is None:
            time.sleep(0.01)  # waiting for the writer to be under way, not timing anything
        committed_before = logged(log)
        taken = take_backup(database.url, now=NOW, out=tmp_path / "clinic.kdbackup")
        committed_after = logged(log)
    finally:
        assert writer.wait(timeout=120) == 0
    assert committed_before >= 15
    assert logged(log) == 120
    # the writer was still writing: a later backup would hold more than this one
    assert committed_after < 120 or committed_before < 120

    wreck(database)
    restored = restore_backup(taken.path, database.url, now=NOW + timedelta(minutes=1))
    assert restored.kept is not None

    counts, total = figures(database)
    manifest = read_manifest(taken.path)
    assert counts == dict(manifest.tables)
    assert total == manifest.ledger_cents
    numbers = writer_payments(database)
    # one consistent moment: payments 1..k, none missing, k within what was committed
    assert numbers == list(range(1, len(numbers) + 1))
    assert committed_before <= len(numbers) <= committed_after
    assert total == -sum(n * 101 for n in numbers)
    assert manifest.schema == HEAD and manifest.source == database.engine.dialect.name


def test_verify_restores_into_a_scratch_database_and_compares(
    database: Database, tmp_path: Path
) -> None:
    clinic(database)
    taken = take_backup(database.url, now=NOW, out=tmp_path / "clinic.kdbackup")
    verified = verify_backup(taken.path, url=database.url)
    assert verified.matches
    by_name = {f.name: f for f in verified.figures}
    assert by_name["patient"].expected == by_name["patient"].found == 1
    assert by_name["alembic_version"].found == 1


# --- SQLite: the file itself ---------------------------------------------------------------


def test_verify_finds_a_manifest_that_does_not_match_its_contents(
    sqlite_db: Database, tmp_path: Path
) -> None:
    clinic(sqlite_db)
    taken = take_backup(sqlite_db.url, now=NOW, out=tmp_path / "clinic.kdbackup")
    forged = tmp_path / "forged.kdbackup"
    payload = tmp_path / "payload"
    manifest = extract_payload(taken.path, payload)
    tables = {**manifest.tables, "patient": 2}
    write_archive(forged, Manifest(**{**manifest.__dict__, "tables": tables}), payload)
    verified = verify_backup(forged, url=sqlite_db.url)
    assert not verified.matches
    assert [f.name for f in verified.figures if not f.matches] == ["patient"]


def test_a_truncated_sqlite_file_is_restored_and_kept(sqlite_db: Database, tmp_path: Path) -> None:
    clinic(sqlite_db)
    taken = take_backup(sqlite_db.url, now=NOW)
    sqlite_db.dispose()
    path = Path(str(sqlite_db.engine.url.database))
    with path.open("r+b") as handle:
        handle.truncate(4096)
    restored = restore_backup(taken.path, sqlite_db.url, now=NOW)
    assert restored.kept == tmp_path / "clinic-replaced-20261207T210000Z.sqlite3"
    assert mode(restored.kept) == 0o600
    counts, _ = figures(sqlite_db)
    assert counts["patient"] == 1 and counts == dict(taken.manifest.tables)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_backup_files_are_owner_only_and_named_in_the_backups_folder(
    sqlite_db: Database, tmp_path: Path
) -> None:
    taken = take_backup(sqlite_db.url, now=NOW)
    assert taken.path == tmp_path / "backups" / "clinic-20261207T210000Z-manual.kdbackup"
    assert mode(taken.path) == 0o600
    assert mode(taken.path.parent) == 0o700
    assert taken.path.read_bytes().startswith(MAGIC)
    assert [p.name for p in taken.path.parent.iterdir()] == [taken.path.name]  # no scratch left
    second = take_backup(sqlite_db.url, now=NOW)
    assert second.path.name == "clinic-20261207T210000Z-2-manual.kdbackup"


def test_an_encrypted_backup_round_trips_and_hides_the_data(
    sqlite_db: Database, tmp_path: Path
) -> None:
    clinic(sqlite_db)
    taken = take_backup(
        sqlite_db.url,
        now=NOW,
        out=tmp_path / "sealed.kdbackup",
        passphrase="correct horse battery staple",
    )
    raw = taken.path.read_bytes()
    assert b"SQLite format 3" not in raw and "Łukasiewicz".encode() not in raw
    assert read_manifest(taken.path).encrypted
    assert json.loads(raw[20 : 20 + struct.unpack(">I", raw[16:20])[0]])["encryption"]["kdf"] == (
        "scrypt"
    )
    wreck(sqlite_db)
    restore_backup(taken.path, sqlite_db.url, now=NOW, passphrase="correct horse battery staple")
    counts, _ = figures(sqlite_db)
    assert counts["patient"] == 1


def test_a_wrong_or_missing_passphrase_is_refused_in_words(
    sqlite_db: Database, tmp_path: Path
) -> None:
    taken = take_backup(
        sqlite_db.url,
        now=NOW,
        out=tmp_path / "sealed.kdbackup",
        passphrase="correct horse battery staple",
    )
    before = Path(str(sqlite_db.engine.url.database)).read_bytes()
    with pytest.raises(WrongPassphrase, match="passphrase does not open this backup"):
        restore_backup(taken.path, sqlite_db.url, now=NOW, passphrase="Correct horse")
    with pytest.raises(WrongPassphrase, match="this backup is encrypted"):
        verify_backup(taken.path)
    assert Path(str(sqlite_db.engine.url.database)).read_bytes() == before


def test_a_sealed_chunk_altered_is_caught(sqlite_db: Database, tmp_path: Path) -> None:
    taken = take_backup(
        sqlite_db.url, now=NOW, out=tmp_path / "sealed.kdbackup", passphrase="pass phrase"
    )
    data = bytearray(taken.path.read_bytes())
    data[-100] ^= 0x01
    taken.path.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="altered or is damaged"):
        verify_backup(taken.path, passphrase="pass phrase")
    taken.path.write_bytes(bytes(data[:-2000]))  # cut short: the last chunk is gone
    with pytest.raises(BackupError, match=r"altered or is damaged|cut short"):
        verify_backup(taken.path, passphrase="pass phrase")


def test_a_tampered_payload_fails_its_checksum(sqlite_db: Database, tmp_path: Path) -> None:
    taken = take_backup(sqlite_db.url, now=NOW, out=tmp_path / "plain.kdbackup")
    data = bytearray(taken.path.read_bytes())
    data[-10] ^= 0xFF
    taken.path.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="do not match the checksum"):
        verify_backup(taken.path)
    with pytest.raises(BackupError, match="do not match the checksum"):
        restore_backup(taken.path, sqlite_db.url, now=NOW)


@pytest.mark.parametrize("content", [b"", b"SQLite format 3\x00" + bytes(4000), b"%PDF-1.7\n"])
def test_a_file_that_is_not_a_backup_is_refused(
    sqlite_db: Database, tmp_path: Path, content: bytes
) -> None:
    impostor = tmp_path / "impostor.kdbackup"
    impostor.write_bytes(content)
    before = Path(str(sqlite_db.engine.url.database)).read_bytes()
    with pytest.raises(BackupError, match="is not a KetaDesk backup"):
        restore_backup(impostor, sqlite_db.url, now=NOW)
    assert Path(str(sqlite_db.engine.url.database)).read_bytes() == before
    assert not list(tmp_path.glob("clinic-replaced-*"))


def test_a_backup_from_a_newer_schema_is_refused_before_anything_is_touched(
    sqlite_db: Database, tmp_path: Path
) -> None:
    taken = take_backup(sqlite_db.url, now=NOW, out=tmp_path / "now.kdbackup")
    payload = tmp_path / "payload"
    manifest = extract_payload(taken.path, payload)
    newer = str(int(HEAD) + 1).zfill(4)
    future = write_archive(
        tmp_path / "future.kdbackup", Manifest(**{**manifest.__dict__, "schema": newer}), payload
    )
    assert future.schema == newer
    before = Path(str(sqlite_db.engine.url.database)).read_bytes()
    with pytest.raises(
        BackupError, match=f"newer KetaDesk \\(schema {newer}; this one knows up to {HEAD}\\)"
    ):
        restore_backup(tmp_path / "future.kdbackup", sqlite_db.url, now=NOW)
    assert Path(str(sqlite_db.engine.url.database)).read_bytes() == before


def test_a_backup_of_one_kind_is_not_restored_into_the_other(
    sqlite_db: Database, tmp_path: Path
) -> None:
    taken = take_backup(sqlite_db.url, now=NOW, out=tmp_path / "lite.kdbackup")
    with pytest.raises(
        BackupError, match="backup of a sqlite database and cannot be restored into postgresql"
    ):
        restore_backup(taken.path, "postgresql+psycopg://nobody@127.0.0.1:1/none", now=NOW)


def test_missing_postgresql_tools_are_named_with_how_to_install_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        BackupError, match=r"pg_dump is not installed.*apt install postgresql-client"
    ):
        postgres.tool("pg_dump")


def test_the_migration_copy_is_owner_only(tmp_path: Path) -> None:
    from ketadesk import migrations

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE legacy_note (id INTEGER PRIMARY KEY)")
    raw.close()
    db = Database(f"sqlite:///{path}")
    result = migrations.upgrade(db)
    db.dispose()
    assert result.backup is not None and mode(result.backup) == 0o600


def test_older_backups_restore_at_their_schema(sqlite_db: Database, tmp_path: Path) -> None:
    taken = take_backup(sqlite_db.url, now=NOW, out=tmp_path / "now.kdbackup")
    assert date.fromisoformat(taken.manifest.created_at[:10]) == NOW.date()
    assert taken.manifest.ledger_cents == 0 and Decimal(taken.manifest.ledger_cents) == 0
    assert taken.path.stat().st_size > taken.manifest.payload_bytes


def test_restoring_over_a_healthy_database_goes_back_to_the_backup(
    sqlite_db: Database, tmp_path: Path
) -> None:
    clinic(sqlite_db)
    taken = take_backup(sqlite_db.url, now=NOW)
    with sqlite_db.transaction() as session:  # the day goes on after the backup
        create_patient(session, ACTOR, patient_raw(family_name="Later"))
    restored = restore_backup(taken.path, sqlite_db.url, now=NOW + timedelta(hours=1))
    counts, _ = figures(sqlite_db)
    assert counts["patient"] == 1 and counts == dict(taken.manifest.tables)
    assert restored.kept is not None and mode(restored.kept) == 0o600
    with sqlite3.connect(restored.kept) as raw:
        assert raw.execute("SELECT count(*) FROM patient").fetchone() == (2,)
    raw.close()
    with sqlite_db.transaction() as session:  # and it goes on working
        create_patient(session, ACTOR, patient_raw(family_name="Afterwards"))
    assert figures(sqlite_db)[0]["patient"] == 2
    with sqlite3.connect(Path(str(sqlite_db.engine.url.database))) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    raw.close()
