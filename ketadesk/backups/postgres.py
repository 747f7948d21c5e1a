"""PostgreSQL: ``pg_dump --format=custom`` for a backup, ``pg_restore`` and ``psql`` back.

:func:`snapshot` opens a repeatable-read transaction, exports its snapshot, counts rows in
it and has ``pg_dump`` dump that very snapshot (``--snapshot``), so the manifest's figures
are exactly what the archive holds while others keep working. :func:`listed` asks
``pg_restore --list`` whether the archive is whole. :func:`into_scratch` restores an archive
into a new database beside the clinic's, reads its figures and drops it (``--verify`` and the
check before a restore). :func:`replace` swaps the clinic's schema for the archive's in one
``psql`` transaction: the old tables are dropped and the archive's created and filled, or
nothing happens. The client tools are looked up on PATH; when missing, the error says what
to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL, Connection, create_engine, make_url, text

from ketadesk.backups.archive import BackupError
from ketadesk.backups.sqlite import Figures, private_file

INSTALL_HINT = (
    "install the PostgreSQL client tools, the same major version as the server or "
    "newer (Debian/Ubuntu: apt install postgresql-client; Fedora: dnf install "
    "postgresql; macOS: brew install libpq; Windows: the PostgreSQL installer's "
    "command line tools), and make sure they are on PATH"
)


def tool(name: str) -> str:
    """The path of a PostgreSQL client tool, or a refusal saying how to get it."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed, so a PostgreSQL database cannot be backed "
            f"up or restored here: {INSTALL_HINT}"
        )
    return found


def _connection_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq options and environment for ``url``; the password travels in the environment,
    never on a command line others can read."""
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    environ = dict(os.environ)
    if url.password:
        environ["PGPASSWORD"] = str(url.password)
    return args, environ


def _run(command: list[str], environ: dict[str, str], what: str) -> str:
    result = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        reason = lines[0] if lines else f"exit status {result.returncode}"
        raise BackupError(f"{what} failed: {reason}")
    return result.stdout


def figures(connection: Connection) -> Figures:
    names = list(
        connection.execute(
            text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                "AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
        ).scalars()
    )
    tables = {
        name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
        for name in names
    }
    schema = None
    if "alembic_version" in tables:
        schema = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    ledger = 0
    if "ledger_entry" in tables:
        ledger = int(
            connection.execute(
                text("SELECT COALESCE(SUM(amount), 0) FROM ledger_entry")
            ).scalar_one()
        )
    return Figures(None if schema is None else str(schema), tables, ledger)


def snapshot(url: str, target: Path) -> Figures:
    """Dump the database at ``url`` to ``target`` (0600) and the figures of that very moment."""
    pg_dump = tool("pg_dump")
    parsed = make_url(url)
    args, environ = _connection_args(parsed)
    private_file(target)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            name = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counted = figures(connection)
            _run(
                [
                    pg_dump,
                    *args,
                    "--format=custom",
                    f"--snapshot={name}",
                    "--no-owner",
                    "--file",
                    str(target),
                    "--dbname",
                    str(parsed.database),
                ],
                environ,
                "pg_dump",
            )
            connection.rollback()
    finally:
        engine.dispose()
    return counted


def listed(payload: Path) -> None:
    """Refuse an archive ``pg_restore --list`` cannot read through."""
    _run(
        [tool("pg_restore"), "--list", str(payload)],
        dict(os.environ),
        "pg_restore --list (the archive's table of contents)",
    )


@contextmanager
def _admin(url: URL) -> Iterator[Connection]:
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def into_scratch(url: str, payload: Path) -> Figures:
    """Restore ``payload`` into a new scratch database on the server of ``url``; its figures."""
    pg_restore = tool("pg_restore")
    parsed = make_url(url)
    scratch = f"{parsed.database}_verify_{uuid.uuid4().hex[:8]}"
    args, environ = _connection_args(parsed)
    with _admin(parsed) as admin:
        admin.execute(text(f'CREATE DATABASE "{scratch}"'))
        try:
            _run(
                [
                    pg_restore,
                    *args,
                    "--no-owner",
                    "--no-acl",
                    "--exit-on-error",
                    "--dbname",
                    scratch,
                    str(payload),
                ],
                environ,
                "pg_restore into a scratch database",
            )
            engine = create_engine(parsed.set(database=scratch))
            try:
                with engine.connect() as connection:
                    return figures(connection)
            finally:
                engine.dispose()
        finally:
            admin.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))


def replace(url: str, payload: Path) -> None:
    """Replace the public schema of ``url`` by the archive's, all or nothing (one psql run)."""
    pg_restore, psql = tool("pg_restore"), tool("psql")
    parsed = make_url(url)
    args, environ = _connection_args(parsed)
    script = subprocess.Popen(
        [pg_restore, "--no-owner", "--no-acl", "--file", "-", str(payload)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environ,
    )
    restore = subprocess.Popen(
        [
            psql,
            *args,
            "--no-psqlrc",
            "--quiet",
            "--set",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "--dbname",
            str(parsed.database),
            "--file",
            "-",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=environ,
    )
    with script, restore:  # closes every pipe, waits for both
        script_errors, restore_errors = _pipe(script, restore)
    if script.returncode != 0 or restore.returncode != 0:
        message = (restore_errors or script_errors).decode("utf-8", "replace").strip()
        first = message.splitlines()[0] if message else "no message"
        raise BackupError(f"restoring into {parsed.database} failed and was rolled back: {first}")


def _pipe(script: subprocess.Popen[bytes], restore: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """Feed the schema's replacement and then ``script``'s SQL into ``restore``; both
    processes' error output."""
    if restore.stdin is None or script.stdout is None:  # cannot happen: both are pipes
        raise BackupError("could not talk to psql and pg_restore")
    try:
        restore.stdin.write(b"DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n")
        shutil.copyfileobj(script.stdout, restore.stdin)
        restore.stdin.close()
    except BrokenPipeError:
        pass  # psql stopped at an error and rolled back; its message is read below
    script.stdout.close()  # pg_restore, if still writing, stops instead of blocking
    script_errors = script.stderr.read() if script.stderr else b""
    restore_errors = restore.stderr.read() if restore.stderr else b""
    script.wait()
    restore.wait()
    return script_errors, restore_errors
