"""Floors: what the same work costs with nothing of KetaDesk's in the way.

A figure alone says little on a shared machine (issue 14): 8 ms for a keystroke is fine at
a load of 1 and alarming at a load of 10. So each benchmark also measures a *floor* — the
least any program must spend on the same work — and prints the ratio of the two, measured
in the same run with the two interleaved, so that both see the same load:

* a query's floor is the very SQL SQLAlchemy sent (captured with a ``before_cursor_execute``
  listener, parameters included), replayed through the standard ``sqlite3`` module on a
  connection opened the way KetaDesk opens it, in a transaction, fetching every row;
* the window's floor is ``bench/floor_window.py``, a bare PySide6 window showing the same
  first page of patients;
* a PDF's floor is the same text laid out with bare reportlab platypus in the same font
  (in ``bench_billing.py``).

:func:`paired` runs the two sides of each item back to back, alternating which goes first,
and :func:`compared` reports both medians and their ratio, in CPU time (the figure of
record: other processes do not inflate it) and in wall time.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Statement = tuple[str, Any]


@contextmanager
def recording(engine: Any) -> Iterator[list[Statement]]:
    """Every statement ``engine`` sends to the driver inside the block, with its parameters."""
    from sqlalchemy import event

    sent: list[Statement] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                 executemany: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", remember)


def raw_connection(path: Path) -> sqlite3.Connection:
    """A ``sqlite3`` connection set up as :mod:`ketadesk.db` sets up its own."""
    connection = sqlite3.connect(str(path), check_same_thread=False)
    connection.isolation_level = None  # KetaDesk sends BEGIN itself; it is in the replay
    for pragma in ("foreign_keys = ON", "busy_timeout = 15000", "synchronous = NORMAL"):
        connection.execute(f"PRAGMA {pragma}")
    return connection


def replay(connection: sqlite3.Connection, statements: Sequence[Statement]) -> int:
    """Run ``statements`` as captured, fetch every row, end the transaction; rows read.

    A read's ``BEGIN`` goes from KetaDesk's SQLite dialect straight to the driver, past the
    listener that captures statements, so it is sent here when the capture starts without
    one: the floor reads in a transaction, as KetaDesk does.
    """
    rows = 0
    if statements and not statements[0][0].startswith("BEGIN"):
        connection.execute("BEGIN")
    for sql, parameters in statements:
        rows += len(connection.execute(sql, parameters or ()).fetchall())
    if connection.in_transaction:
        connection.rollback()  # what the session's close does with a read transaction
    return rows


def paired(items: Sequence[Any], ours: Callable[[Any], object],
           floor: Callable[[Any], object]) -> dict[str, tuple[list[float], list[float]]]:
    """Time ``ours(item)`` and ``floor(item)`` back to back for every item, in ms.

    Returns ``{"cpu": (ours, floor), "wall": (ours, floor)}``. CPU time is this thread's
    (``time.thread_time``; SQLite runs in the calling thread), which other processes on a
    busy machine do not inflate; wall time is what a person waits. The order alternates
    item by item, so neither side always runs on a warmer cache.
    """
    times: dict[str, tuple[list[float], list[float]]] = {"cpu": ([], []), "wall": ([], [])}
    for number, item in enumerate(items):
        sides = ((ours, 0), (floor, 1))
        for work, side in (sides if number % 2 == 0 else sides[::-1]):
            wall, cpu = time.perf_counter(), time.thread_time()
            work(item)
            times["cpu"][side].append((time.thread_time() - cpu) * 1000)
            times["wall"][side].append((time.perf_counter() - wall) * 1000)
    return times


def summary(mine: Sequence[float], bare: Sequence[float]) -> dict[str, float]:
    """Both medians and the ratio of the medians (and of the sums, less swayed by the tail)."""
    ours, floor = statistics.median(mine), statistics.median(bare)
    return {"median_ms": round(ours, 3), "floor_median_ms": round(floor, 3),
            "ratio": round(ours / floor, 2) if floor else float("nan"),
            "ratio_of_sums": round(sum(mine) / sum(bare), 2) if sum(bare) else float("nan")}


def compared(times: dict[str, tuple[list[float], list[float]]]) -> dict[str, Any]:
    """:func:`summary` of CPU and of wall time; the CPU figures are the ones of record."""
    return {"cpu": summary(*times["cpu"]), "wall": summary(*times["wall"])}


def load_average() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def ratio_row(label: str, part: dict[str, Any], goal: float) -> tuple[str, str, str]:
    """A table row: ours against the floor in CPU time (and the wall-time ratio)."""
    cpu, wall = part["cpu"], part["wall"]
    return (label,
            f"CPU {cpu['median_ms']:.2f} vs {cpu['floor_median_ms']:.2f} ms = "
            f"{cpu['ratio']:.2f}x (wall {wall['ratio']:.2f}x)",
            f"<= {goal}x")
