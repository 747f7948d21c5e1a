"""Run a real ``ketadesk`` command, kill -9 it at a chosen moment, and check what it left.

:func:`run_and_kill` starts the command in its own session (so its process group is its
own, and everything it starts -- a fork server, workers, a resource tracker, ``pg_dump`` --
stays in that group unless it leaves it on purpose) with a pseudo-terminal for its output,
so the progress bars the commands draw only on a terminal become marks to kill at. It
SIGKILLs the command's own process only -- never the group, which would hide an orphan --
once its output shows ``mark`` (if any), ``delay_ms`` later.

After the kill, the checks return problems as sentences, so a failing test says every one:
:func:`survivors` (any process of the command's group still running after a grace period),
:func:`database_problems` (integrity, open transactions, the books, the audit chain) and
:func:`file_problems` (every PDF parses; no temporary file left where it should not be).
"""

from __future__ import annotations

import os
import pty
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]
GRACE = 10.0  # seconds a killed command's processes get to notice and end
STARTS_WITHIN = 120.0  # seconds for a command to reach its mark on a busy machine
POLL = 0.02


@dataclass(frozen=True)
class KillPoint:
    """When to kill: ``delay_ms`` after the output first matches ``mark`` (or after start)."""

    name: str
    delay_ms: int
    mark: str | None = None

    def __str__(self) -> str:
        return self.name


@dataclass
class Killed:
    """What a killed run left: its process group, its output, and how it ended."""

    pgid: int
    returncode: int
    output: str
    survivors: list[str] = field(default_factory=list)
    lingered: float = 0.0  # seconds until the last process of its group was gone

    @property
    def was_killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


def ketadesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "ketadesk", *args]


def command_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KETADESK_DB"}
    env.update({"KETADESK_BACKUP_DAILY": "off", "COLUMNS": "100", **(extra or {})})
    return env


class _Output:
    """Everything the command writes to its terminal, collected by a thread."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.text = ""
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                return
            if not chunk:
                return
            with self.lock:
                self.text += chunk.decode("utf-8", "replace")

    def seen(self, pattern: str) -> bool:
        with self.lock:
            return re.search(pattern, self.text) is not None

    def close(self) -> str:
        self.thread.join(timeout=2)
        os.close(self.master)
        with self.lock:
            return self.text


def run_and_kill(
    argv: Sequence[str], point: KillPoint, *, env: Mapping[str, str] | None = None,
    before_kill: Callable[[], bool] | None = None,
) -> Killed:
    """Run ``argv``; SIGKILL it at ``point`` (``before_kill``, when given, is a further
    condition polled after the mark); return what it left once its group is gone or the
    grace period is over."""
    master, slave = pty.openpty()
    command = subprocess.Popen(
        list(argv), cwd=ROOT, env=dict(env or command_env()), stdin=subprocess.DEVNULL,
        stdout=slave, stderr=slave, start_new_session=True,
    )
    os.close(slave)
    output = _Output(master)
    try:
        _wait_for(command, output, point, before_kill)
        if command.poll() is None:
            os.kill(command.pid, signal.SIGKILL)
        returncode = command.wait(timeout=STARTS_WITHIN)
        killed_at = time.monotonic()
        left = _wait_gone(command.pid)
        lingered = time.monotonic() - killed_at
    finally:
        for pid in _group(command.pid):
            os.kill(pid, signal.SIGKILL)  # the test's own clean-up, after the finding
    return Killed(command.pid, returncode, output.close(), left, lingered)


def _wait_for(
    command: subprocess.Popen[bytes], output: _Output, point: KillPoint,
    before_kill: Callable[[], bool] | None,
) -> None:
    deadline = time.monotonic() + STARTS_WITHIN
    if point.mark is not None:
        while command.poll() is None and not output.seen(point.mark):
            if time.monotonic() > deadline:
                raise AssertionError(f"{point}: no {point.mark!r} in the output in time")
            time.sleep(POLL)
    if before_kill is not None:
        while command.poll() is None and not before_kill():
            if time.monotonic() > deadline:
                raise AssertionError(f"{point}: the condition to kill at never held")
            time.sleep(POLL)
    end = time.monotonic() + point.delay_ms / 1000
    while command.poll() is None and time.monotonic() < end:
        time.sleep(POLL / 4)


def _stat(pid: int) -> tuple[str, int, str] | None:
    """(state, process group, command line) of ``pid``, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[2]), cmdline.strip()


def _group(pgid: int) -> dict[int, str]:
    """Running processes of process group ``pgid`` (zombies have ended), with their command."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pgid and stat[0] != "Z":
                found[int(entry.name)] = stat[2]
    return found


def _wait_gone(pgid: int) -> list[str]:
    deadline = time.monotonic() + GRACE
    while time.monotonic() < deadline:
        if not _group(pgid):
            return []
        time.sleep(POLL * 5)
    return [f"process {pid} ({cmd[:80]}) outlived the command by {GRACE:.0f} s"
            for pid, cmd in _group(pgid).items()]


# --------------------------------------------------------------------------------------
# The database
# --------------------------------------------------------------------------------------


def database_problems(url: str) -> list[str]:
    """Everything wrong with the database at ``url`` after a kill, as sentences."""
    problems = _sqlite_problems(url) if url.startswith("sqlite") else _postgres_problems(url)
    if problems:
        return problems
    from ketadesk.access.audit_chain import verify_chain
    from ketadesk.db import Database

    db = Database(url)
    try:
        with db.transaction() as session:  # the ledger's own reads lock each account
            if not _has_tables(session):
                return []  # killed before the schema was made: nothing to balance
            problems += books_problems(session)
            report = verify_chain(session)
            if not report.ok and report.broken is not None:
                problems.append(f"the audit chain is broken: {report.broken}")
    finally:
        db.dispose()
    return problems


def _has_tables(session: Any) -> bool:
    return bool(sa.inspect(session.connection()).has_table("ledger_entry"))


def _sqlite_problems(url: str) -> list[str]:
    path = sa.make_url(url).database or ""
    if not Path(path).exists():
        return []
    connection = sqlite3.connect(path)
    try:
        checked = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        keys = connection.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        connection.close()
    problems = [] if checked == ["ok"] else [f"integrity_check: {'; '.join(checked)}"]
    if keys:
        problems.append(f"{len(keys)} rows break a foreign key, e.g. {keys[0]}")
    return problems


def _postgres_problems(url: str) -> list[str]:
    """The database opens, and no connection of the killed command is left holding a
    transaction open (the server ends a dead client's backend once it notices)."""
    name = sa.make_url(url).database
    engine = sa.create_engine(url)
    query = sa.text(
        "SELECT pid, state, xact_start IS NOT NULL AS in_transaction FROM pg_stat_activity "
        "WHERE datname = :name AND pid <> pg_backend_pid()"
    )
    try:
        deadline = time.monotonic() + GRACE
        while True:
            with engine.connect() as connection:
                open_ = connection.execute(query, {"name": name}).all()
            if not open_ or time.monotonic() > deadline:
                break
            time.sleep(POLL * 5)
    finally:
        engine.dispose()
    return [f"backend {row.pid} is still {row.state} after the kill" for row in open_
            if row.in_transaction]


def books_problems(session: Any, *, sample: int = 25) -> list[str]:
    """The ledger's invariants (tests/billing/test_ledger_properties.py's, over every
    account at once): no entry is paid or spent beyond its size, nor below nothing; no
    allocation releases more than was applied between the same two entries; on every
    side of every account (the patient's own, each insurer's) what is open less the credit
    unapplied equals the sum of the entries -- money applied never crosses accounts; and
    the ledger's own balance (:func:`ketadesk.billing.ledger.balance`) is that sum for the
    first ``sample`` patients."""
    from ketadesk.billing import ledger
    from ketadesk.billing.models import Allocation, LedgerEntry

    problems = []
    pairs = sa.select(Allocation.debit_id, Allocation.credit_id).group_by(
        Allocation.debit_id, Allocation.credit_id).having(ledger.cents_sum(Allocation.amount) < 0)
    released = session.execute(pairs).all()
    if released:  # a negative row only releases what was applied before it
        problems.append(f"{len(released)} credit/debit pairs have more released than applied")
    paid = dict(session.execute(
        sa.select(Allocation.debit_id, ledger.cents_sum(Allocation.amount))
        .group_by(Allocation.debit_id)).all())
    spent = dict(session.execute(
        sa.select(Allocation.credit_id, ledger.cents_sum(Allocation.amount))
        .group_by(Allocation.credit_id)).all())
    sums: dict[tuple[int, int | None], Decimal] = {}
    open_less_credit: dict[tuple[int, int | None], Decimal] = {}
    columns = (LedgerEntry.id, LedgerEntry.patient_id, LedgerEntry.payer_id, LedgerEntry.amount)
    for entry_id, patient_id, payer_id, amount in session.execute(sa.select(*columns)):
        side = (patient_id, payer_id)
        used = ledger.decimal_of(paid.get(entry_id, 0) if amount > 0 else spent.get(entry_id, 0))
        if not Decimal(0) <= used <= abs(amount):
            problems.append(f"entry {entry_id} ({amount}) has {used} allocated")
        sums[side] = sums.get(side, Decimal(0)) + amount
        left = amount - used if amount > 0 else amount + used  # owed (+) or credit (-)
        open_less_credit[side] = open_less_credit.get(side, Decimal(0)) + left
    for side, total in sums.items():
        if open_less_credit[side] != total:
            problems.append(f"patient {side[0]} (payer {side[1]}): entries sum to {total}, "
                            f"open less credit is {open_less_credit[side]}")
    own = sorted(patient for patient, payer in sums if payer is None)[:sample]
    for patient_id in own:
        if ledger.balance(session, patient_id) != sums[(patient_id, None)]:
            problems.append(f"patient {patient_id}: the ledger's balance is not its entries")
    return problems


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------


def file_problems(folder: Path, *, parts_allowed: bool = False) -> list[str]:
    """Every PDF in ``folder`` parses whole; no temporary ``.part`` file is left (unless
    ``parts_allowed``: a writer killed outright leaves its own, which the next run removes)."""
    problems = []
    if not folder.exists():
        return problems
    for pdf in sorted(folder.glob("*.pdf")):
        try:
            if not PdfReader(pdf).pages:
                problems.append(f"{pdf.name} has no pages")
        except Exception as error:  # whatever pypdf raises on a cut-short file
            problems.append(f"{pdf.name} is not a whole PDF ({type(error).__name__})")
    parts = sorted(p.name for p in folder.glob(".*.part"))
    if parts and not parts_allowed:
        problems.append(f"temporary files left: {', '.join(parts)}")
    return problems


def parts_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*.part")) if folder.exists() else []
