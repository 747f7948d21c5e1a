"""How long a killed ``ketadesk superbill --month`` leaves processes behind, and what files.

Run it from the project folder on a clinic with a pool's worth of self-pay patients in a
month (``ketadesk demo-data --db c.sqlite3 --patients 600 --years 1`` has ~70 in most)::

    .venv/bin/python bench/bench_orphans.py --db c.sqlite3 --month 2025-05 [--code DIR]

It starts the real command in its own process group, waits until it has written
``--after`` PDFs, SIGKILLs the command's own process (not the group), then watches the
group every 50 ms for ``--watch`` seconds: how many processes (fork server, workers,
resource tracker) were left, how long the last one lived, whether any still held the
database open, and the PDFs and ``.part`` files in the folder afterwards. ``--code DIR``
runs another checkout of the program (for a before/after figure: ``git archive REV | tar
-x -C DIR``). Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POLL = 0.05


def group(pgid: int) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found[int(entry.name)] = cmd
    return found


def written(out: Path) -> int:
    return len(list(out.glob("*.pdf"))) if out.exists() else 0


def holding(pids: set[int], db: Path) -> int:
    """How many of ``pids`` have ``db`` open."""
    count = 0
    for pid in pids:
        try:
            links = [str(fd.readlink()) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        count += any(link.startswith(str(db)) for link in links)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--month", required=True)
    parser.add_argument("--after", type=int, default=2, help="PDFs written before the kill")
    parser.add_argument("--watch", type=float, default=120.0)
    parser.add_argument("--code", type=Path, help="run this checkout instead")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-orphans-"))
    db = work / "clinic.sqlite3"
    shutil.copyfile(args.db, db)
    out = work / "superbills"
    env = {k: v for k, v in os.environ.items() if k != "KETADESK_DB"}
    env["KETADESK_BACKUP_DAILY"] = "off"
    if args.code:
        env["PYTHONPATH"] = str(args.code.resolve())
    command = subprocess.Popen(
        [sys.executable, "-m", "ketadesk", "superbill", "--db", str(db), "--month", args.month,
         "--out", str(out), "--workers", "2"],
        cwd=work, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    while command.poll() is None and written(out) < args.after:
        time.sleep(POLL / 5)
    before = group(command.pid)
    if command.poll() is not None:
        raise SystemExit(f"the command ended (status {command.returncode}) before the kill")
    os.kill(command.pid, signal.SIGKILL)
    command.wait()
    killed = time.monotonic()
    left = group(command.pid)
    most, holders, lived = len(left), holding(set(left), db), 0.0
    while left and time.monotonic() - killed < args.watch:
        time.sleep(POLL)
        left = group(command.pid)
        lived = time.monotonic() - killed
    pdfs = sorted(out.glob("*.pdf"))
    parts = sorted(out.glob(".*.part"))
    print(f"processes in the command's group at the kill: {len(before)}")
    print(f"left after the command died: {most} ({holders} holding the database open)")
    if left:
        print(f"still running after {args.watch:.0f} s: {len(left)}")
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    else:
        print(f"the last was gone {lived:.2f} s after the kill")
    print(f"PDFs in the folder: {len(pdfs)}; .part files: {len(parts)}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
