"""``ketadesk backup`` and ``ketadesk restore`` as an administrator types them."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cli.cli_helpers import runner

from ketadesk.backups.archive import Manifest, extract_payload, write_archive


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    return runner(capsys)


@pytest.fixture
def db_path(sqlite_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return path


def schema_rows(path: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one()
    engine.dispose()
    return int(count)


def test_backup_verify_and_restore_from_the_command_line(
    cli: Any, db_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "usb" / "clinic.kdbackup"
    made = cli("backup", "--db", str(db_path), "--out", str(out))
    assert made.code == 0, made.err
    assert made.out.startswith(f"Backed up {db_path} to {out}\n(schema ")
    assert "not encrypted" in made.out
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    checked = cli("backup", "--verify", str(out))
    assert checked.code == 0, checked.err
    assert "All " in checked.out and "figures match: the backup restores whole." in checked.out
    assert "alembic_version" in checked.out

    refused = cli("restore", str(out), "--db", str(db_path))  # no terminal to ask at
    assert refused.code == 2
    assert refused.err == (
        "ketadesk: error: restore replaces the database: confirm with --yes "
        "(the replaced database is kept)\n"
    )

    db_path.write_bytes(b"wrecked")
    done = cli("restore", str(out), "--db", str(db_path), "--yes", "--json")
    assert done.code == 0, done.err
    data = done.json()
    kept = Path(data["kept"])
    assert kept.read_bytes() == b"wrecked" and kept.parent == tmp_path
    assert schema_rows(db_path) == 1


def test_verify_exits_1_on_a_mismatch_and_names_it(cli: Any, db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "clinic.kdbackup"
    assert cli("backup", "--db", str(db_path), "--out", str(out)).code == 0
    payload = tmp_path / "payload"
    manifest = extract_payload(out, payload)
    forged = {**manifest.tables, "ledger_entry": 5}
    write_archive(out, Manifest(**{**manifest.__dict__, "tables": forged}), payload)
    result = cli("backup", "--verify", str(out))
    assert result.code == 1
    assert "ledger_entry" in result.out and "MISMATCH" in result.out
    assert "1 of " in result.out and "figures differ: do not rely on this backup." in result.out


def test_an_encrypted_backup_from_a_passphrase_file(
    cli: Any, db_path: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "pass"
    secret.write_text("a long passphrase nobody guesses\n")
    out = tmp_path / "sealed.kdbackup"
    made = cli("backup", "--db", str(db_path), "--out", str(out), "--passphrase-file", str(secret))
    assert made.code == 0 and ", encrypted)." in made.out
    without = cli("backup", "--verify", str(out))
    assert without.code == 2
    assert without.err == (
        "ketadesk: error: this backup is encrypted: give its passphrase with --passphrase-file\n"
    )
    wrong = tmp_path / "wrong"
    wrong.write_text("not it\n")
    refused = cli(
        "restore", str(out), "--db", str(db_path), "--yes", "--passphrase-file", str(wrong)
    )
    assert refused.err == (
        "ketadesk: error: the passphrase does not open this backup; nothing was changed\n"
    )
    assert cli("backup", "--verify", str(out), "--passphrase-file", str(secret)).code == 0


def test_restore_refuses_a_file_that_is_not_a_backup(
    cli: Any, db_path: Path, tmp_path: Path
) -> None:
    impostor = tmp_path / "notes.txt"
    impostor.write_text("shopping list\n")
    result = cli("restore", str(impostor), "--db", str(db_path), "--yes")
    assert result.code == 2
    assert result.err == (
        f"ketadesk: error: {impostor} is not a KetaDesk backup (it lacks the "
        "KetaDesk header); nothing was changed\n"
    )
    missing = cli("restore", str(tmp_path / "nope.kdbackup"), "--yes")
    assert missing.err == f"ketadesk: error: there is no file {tmp_path / 'nope.kdbackup'}\n"


def test_a_backup_without_out_goes_to_the_backups_folder(
    cli: Any, db_path: Path, tmp_path: Path
) -> None:
    result = cli("backup", "--db", str(db_path), "--json")
    assert result.code == 0
    made = Path(result.json()["file"])
    assert made.parent == tmp_path / "backups" and made.name.endswith("-manual.kdbackup")
    assert result.json()["manifest"]["tables"]["alembic_version"] == 1


def test_any_command_takes_the_daily_backup_when_due(
    cli: Any, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setenv("KETADESK_BACKUP_DAILY", "on")
    started: list[threading.Thread] = []
    real_start = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        started.append(thread)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    assert cli("user", "list", "--db", str(db_path)).code == 0
    for thread in started:
        thread.join()
    (daily,) = (tmp_path / "backups").iterdir()
    assert daily.name.endswith("-daily.kdbackup")
    assert cli("user", "list", "--db", str(db_path)).code == 0  # one a day is enough
    assert len(list((tmp_path / "backups").iterdir())) == 1
