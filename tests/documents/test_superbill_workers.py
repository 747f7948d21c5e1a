"""``ketadesk superbill --month``'s worker processes never outlive the command.

A real command runs in a subprocess on a generated clinic with enough self-pay patients
for a pool; once it is writing, it is killed (SIGKILL: it can do nothing about it) or asked
to stop (SIGTERM). Every process it started (the fork server, the workers, the resource
tracker) must then be gone within a bounded wait, polled; and no PDF appears afterwards.
Linux only: the processes are found through /proc.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from cli.cli_helpers import link_os_admin
from pypdf import PdfReader

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.superbill import superbill_patients
from ketadesk.db import Database
from ketadesk.demo.generator import Accounts, DemoSpec, generate
from ketadesk.documents.superbill_batch import POOL_MIN_PATIENTS
from ketadesk.migrations import open_database

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes in /proc"),
]

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2025, 6, 30)
MONTH = "2025-05"
STARTED_WITHIN = 240.0  # seconds for the command to write its first PDF (a busy machine)
GONE_WITHIN = 20.0  # seconds for every process it started to end after it is killed
POLL = 0.05
BILLING = Actor(username="test-billing", role=Role.BILLING)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clinic with well over a pool's worth of self-pay patients seen in May 2025."""
    path = tmp_path_factory.mktemp("superbill-workers") / "clinic.sqlite3"
    db = open_database(f"sqlite:///{path}")
    try:
        generate(db, DemoSpec(patients=1100, years=1, locations=1, seed=4, today=TODAY,
                              accounts=Accounts.NONE))
    finally:
        db.dispose()
    link_os_admin(path)  # the command runs as the clinic's linked administrator
    assert _patients_in_month(path) >= 2 * POOL_MIN_PATIENTS
    return path


def _patients_in_month(clinic: Path) -> int:
    db = Database(f"sqlite:///{clinic}")
    try:
        with db.reading() as session:
            return len(superbill_patients(session, BILLING, date(2025, 5, 1), date(2025, 5, 31)))
    finally:
        db.dispose()


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), fields[0]


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            found = _stat(int(entry.name))
            if found is not None:
                children.setdefault(found[0], []).append(int(entry.name))
    seen: set[int] = set()
    waiting = [root]
    while waiting:
        for child in children.get(waiting.pop(), []):
            if child not in seen:
                seen.add(child)
                waiting.append(child)
    return seen


def _alive(pids: set[int]) -> set[int]:
    """Those still running (a zombie has ended: it only waits to be reaped)."""
    alive = set()
    for pid in pids:
        found = _stat(pid)
        if found is not None and found[1] != "Z":
            alive.add(pid)
    return alive


def _poll(condition: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(POLL)
    return condition()


def _start(clinic: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ketadesk", "superbill", "--db", str(clinic), "--month", MONTH,
         "--out", str(out), "--workers", "2"],
        cwd=ROOT, env={k: v for k, v in os.environ.items() if k != "KETADESK_DB"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _pdfs(out: Path) -> set[str]:
    return {p.name for p in out.glob("*.pdf")} if out.exists() else set()


def _writing_workers(command: subprocess.Popen[bytes], out: Path) -> set[int]:
    """Wait until the command's pool is writing; return every process it started."""
    started = _poll(lambda: len(_pdfs(out)) >= 2, STARTED_WITHIN)
    assert started and command.poll() is None, "the batch did not start writing"
    processes = _descendants(command.pid)
    # The fork server and two workers at least (and the resource tracker).
    assert len(_alive(processes)) >= 3, processes
    return processes


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_the_workers_end_with_the_command(
    clinic: Path, tmp_path: Path, how: signal.Signals
) -> None:
    out = tmp_path / "superbills"
    command = _start(clinic, out)
    started: set[int] = set()
    try:
        started = _writing_workers(command, out)
        command.send_signal(how)
        status = command.wait(timeout=GONE_WITHIN)
        assert _poll(lambda: not _alive(started), GONE_WITHIN), _alive(started)
    finally:
        leftovers = _descendants(command.pid) | started  # orphans are no longer its children
        if command.poll() is None:
            command.kill()
            command.wait()
        for pid in _alive(leftovers):
            os.kill(pid, signal.SIGKILL)
    if how is signal.SIGTERM:
        assert status == 130  # stopped as Ctrl-C stops it: the pool shut down in order
    else:
        assert status == -signal.SIGKILL
    written = _pdfs(out)
    assert 2 <= len(written) < _patients_in_month(clinic)  # stopped part-way
    # Nothing writes once they are gone, and what was written is whole.
    assert _pdfs(out) == written
    assert not list(out.glob(".*.part"))
    for name in sorted(written):
        assert PdfReader(out / name).pages
