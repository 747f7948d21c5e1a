"""``ketadesk backup`` and ``ketadesk restore``: the whole database to a file and back.

``backup`` writes a KetaDesk backup (:mod:`ketadesk.backups`) of the chosen database as it
stands -- it neither migrates nor waits for other workstations -- to ``--out FILE`` or to a
new file in the backups folder (then rotated). ``--encrypt`` asks for a passphrase twice;
``--passphrase-file`` reads it from the first line of a file (for scripts). ``backup --verify
FILE`` opens a backup into a scratch database and prints every figure of its manifest beside
what the copy holds; a mismatch exits 1.

``restore FILE`` checks the file first (a KetaDesk backup, a schema this KetaDesk knows, the
passphrase, its checksum, integrity, row counts), asks before replacing unless ``--yes``,
keeps the database it replaces, then restores. Refusals are one ``ketadesk: error:`` line.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketadesk.cli import common

if TYPE_CHECKING:
    from ketadesk.backups.archive import Manifest
    from ketadesk.backups.backup import Verified

EXIT_MISMATCH = 1

BACKUP_DESCRIPTION = """\
Back up the whole database to one file while others keep working: a SQLite file through
SQLite's online backup API, PostgreSQL through pg_dump (the PostgreSQL client tools must be
installed). The file starts with a manifest (schema, when, rows per table, the ledger's
total) that restore and --verify check. Without --out it goes to the backups folder beside
the database (or $KETADESK_BACKUP_DIR), where older backups are rotated out: kept are the
newest of each of the last 7 days, 4 weeks and 12 months ($KETADESK_BACKUP_KEEP=7,4,12).
Backups hold patients' records: the file is readable by you only; --encrypt seals it with a
passphrase (scrypt and AES-256-GCM). Without the passphrase it cannot be restored.

--verify FILE restores a backup into a scratch database and compares every figure with its
manifest; it exits 1 when anything differs."""

BACKUP_EXAMPLES = """\
  ketadesk backup
  ketadesk backup --out /media/usb/clinic.kdbackup --encrypt
  ketadesk backup --db postgresql://db.clinic.lan/ketadesk --passphrase-file ~/.backup-pass
  ketadesk backup --verify /media/usb/clinic.kdbackup"""

RESTORE_DESCRIPTION = """\
Replace the database with a backup. Before anything is touched the file is checked: it must
be a KetaDesk backup of the same kind of database, from a schema this KetaDesk knows, whole
(checksum, SQLite's integrity check or pg_restore's table of contents) and holding the rows
its manifest lists. The database it replaces is kept: a SQLite file as
NAME-replaced-STAMP.sqlite3 beside it, a PostgreSQL database as a backup in its backups
folder. Close KetaDesk on every workstation first."""

RESTORE_EXAMPLES = """\
  ketadesk restore backups/clinic-20261207T020000Z-daily.kdbackup
  ketadesk restore /media/usb/clinic.kdbackup --db clinic.sqlite3 --yes --passphrase-file p"""


def register(commands: Any) -> None:
    backup = common.command_parser(
        commands,
        "backup",
        summary="back the database up to a file, or check a backup",
        description=BACKUP_DESCRIPTION,
        examples=BACKUP_EXAMPLES,
        json_output=True,
    )
    backup.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="write the backup here instead of the backups folder",
    )
    _passphrase_options(backup, encrypt=True)
    backup.add_argument(
        "--verify", metavar="FILE", type=Path, help="check this backup instead of taking one"
    )
    backup.set_defaults(func=run_backup)
    restore = common.command_parser(
        commands,
        "restore",
        summary="replace the database with a backup",
        description=RESTORE_DESCRIPTION,
        examples=RESTORE_EXAMPLES,
        json_output=True,
    )
    restore.add_argument("file", metavar="FILE", type=Path, help="the backup to restore")
    restore.add_argument(
        "--yes",
        action="store_true",
        help="replace without asking (the replaced database is still kept)",
    )
    _passphrase_options(restore, encrypt=False)
    restore.set_defaults(func=run_restore)


def _passphrase_options(parser: argparse.ArgumentParser, *, encrypt: bool) -> None:
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument(
        "--passphrase-file",
        metavar="FILE",
        type=Path,
        help="the passphrase is the first line of this file",
    )
    if encrypt:
        chosen.add_argument(
            "--encrypt",
            action="store_true",
            help="seal the backup with a passphrase typed twice at a prompt",
        )


def _require_admin(args: argparse.Namespace, *, unless_unusable: bool = False) -> None:
    """Backing up and restoring are administrators' work, done as a KetaDesk account.

    ``unless_unusable`` (restore): a database that is gone or can no longer be opened has no
    accounts to ask, and whoever can write its file can replace it anyway, so restoring over
    it needs none.
    """
    from ketadesk.access.permissions import Permission

    try:
        actor = common.account_of(args)
    except (common.DatabaseUnavailable, common.UsageError):
        if unless_unusable:
            return
        raise
    actor.require(Permission.USER_ADMIN)


def _from_file(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise common.UsageError(
            f"--passphrase-file: cannot read {path}: {error.strerror or error}"
        ) from None
    if not lines or not lines[0]:
        raise common.UsageError(f"--passphrase-file: {path} holds no passphrase on its first line")
    return lines[0]


def _new_passphrase(args: argparse.Namespace) -> str | None:
    if args.passphrase_file is not None:
        return _from_file(args.passphrase_file)
    if not getattr(args, "encrypt", False):
        return None
    if not sys.stdin.isatty():
        raise common.UsageError(
            "--encrypt asks for the passphrase at a terminal; in a script use --passphrase-file"
        )
    first = getpass.getpass("Passphrase for the backup: ")
    if getpass.getpass("Type it again: ") != first:
        raise common.UsageError("the two passphrases differ; no backup was taken")
    return first


def _passphrase_for(args: argparse.Namespace, manifest: Manifest) -> str | None:
    if not manifest.encrypted:
        return None
    if args.passphrase_file is not None:
        return _from_file(args.passphrase_file)
    if not sys.stdin.isatty():
        raise common.UsageError(
            "this backup is encrypted: give its passphrase with --passphrase-file"
        )
    return getpass.getpass("Passphrase of the backup: ")


def _summary(manifest: Manifest) -> str:
    from ketadesk.money import decimal_text, from_cents

    rows = sum(manifest.tables.values())
    sealed = "encrypted" if manifest.encrypted else "not encrypted"
    return (
        f"schema {manifest.schema}, taken {manifest.created_at}, {len(manifest.tables)} "
        f"tables, {rows:,} rows, ledger total {decimal_text(from_cents(manifest.ledger_cents))}"
        f", {sealed}"
    )


def run_backup(args: argparse.Namespace) -> int:
    if args.verify is not None:  # reads a file its holder has, into a scratch database
        return _verify(args)
    _require_admin(args)
    from ketadesk.backups.backup import take_backup

    passphrase = _new_passphrase(args)
    url = common.chosen_url(args)
    with common.database_errors(url, opening=True):
        taken = take_backup(
            url, now=common.clock_of(args).now(), out=args.out, passphrase=passphrase
        )
    data = {
        "file": str(taken.path),
        "manifest": _manifest_data(taken.manifest),
        "rotated_out": [str(p) for p in taken.rotated_out],
    }

    def text() -> str:
        lines = [
            f"Backed up {common.shown_url(url)} to {taken.path}",
            f"({_summary(taken.manifest)}).",
        ]
        if taken.rotated_out:
            lines.append(f"Rotation removed {len(taken.rotated_out)} older backup(s).")
        return "\n".join(lines)

    common.emit(args, data, text)
    return 0


def _manifest_data(manifest: Manifest) -> dict[str, Any]:
    return {
        "schema": manifest.schema,
        "created_at": manifest.created_at,
        "source": manifest.source,
        "database": manifest.database,
        "kind": manifest.kind,
        "encrypted": manifest.encrypted,
        "tables": dict(manifest.tables),
        "ledger_cents": manifest.ledger_cents,
    }


def _verify(args: argparse.Namespace) -> int:
    from ketadesk.backups.archive import read_manifest
    from ketadesk.backups.backup import verify_backup

    manifest = read_manifest(args.verify)
    passphrase = _passphrase_for(args, manifest)
    url = common.chosen_url(args) if manifest.source == "postgresql" else None
    verified = verify_backup(args.verify, url=url, passphrase=passphrase)
    data = {
        "file": str(args.verify),
        "matches": verified.matches,
        "figures": [
            {"name": f.name, "expected": f.expected, "found": f.found, "matches": f.matches}
            for f in verified.figures
        ],
    }
    common.emit(args, data, lambda: _verified_text(args.verify, verified))
    return 0 if verified.matches else EXIT_MISMATCH


def _verified_text(path: Path, verified: Verified) -> str:
    rows = [
        (
            f.name,
            f.expected,
            "missing" if f.found is None else f.found,
            "ok" if f.matches else "MISMATCH",
        )
        for f in verified.figures
    ]
    head = f"Backup {path} ({_summary(verified.manifest)})"
    wrong = [f for f in verified.figures if not f.matches]
    verdict = (
        f"All {len(verified.figures)} figures match: the backup restores whole."
        if not wrong
        else f"{len(wrong)} of {len(verified.figures)} figures differ: do not rely on this backup."
    )
    return "\n".join(
        [head, "", common.table(("figure", "manifest", "restored", ""), rows), "", verdict]
    )


def run_restore(args: argparse.Namespace) -> int:
    _require_admin(args, unless_unusable=True)
    from ketadesk.backups.archive import read_manifest
    from ketadesk.backups.backup import check_schema, restore_backup
    from ketadesk.migrations import HEAD

    manifest = read_manifest(args.file)
    check_schema(manifest, args.file)
    url = common.chosen_url(args)
    where = common.shown_url(url)
    passphrase = _passphrase_for(args, manifest)
    if not args.yes:
        _confirm(
            f"Replace the database at {where} with the backup {args.file} "
            f"({_summary(manifest)})? The current database is kept first. [y/N] "
        )
    with common.database_errors(url, opening=True):
        restored = restore_backup(
            args.file, url, now=common.clock_of(args).now(), passphrase=passphrase
        )
    data = {
        "file": str(args.file),
        "database": where,
        "kept": str(restored.kept or ""),
        "manifest": _manifest_data(restored.manifest),
    }

    def text() -> str:
        lines = [f"Restored {where} from {args.file} ({_summary(restored.manifest)})."]
        if restored.kept is not None:
            lines.append(f"The database it replaced is kept as {restored.kept}.")
        if restored.manifest.schema != HEAD:
            lines.append(
                f"It is at schema {restored.manifest.schema}; KetaDesk brings it to "
                f"{HEAD} when it next opens it."
            )
        return "\n".join(lines)

    common.emit(args, data, text)
    return 0


def _confirm(question: str) -> None:
    if not sys.stdin.isatty():
        raise common.UsageError(
            "restore replaces the database: confirm with --yes (the replaced database is kept)"
        )
    if input(question).strip().lower() not in ("y", "yes"):
        raise common.UsageError("nothing was restored")
