"""The dashboard from click to painted, on the 20,000-patient demo, beside its floors.

Run it from the project folder (offscreen, no screen needed)::

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_dashboard.py \\
        --db /tmp/bench20k.sqlite3 [--runs 5] [--pg URL]

One run is a click on *Refresh* in the Reports area's dashboard (last twelve months, all
locations) until the dashboard has painted its six tiles and four charts (its ``shown``
signal, then every pending paint event processed). Beside it:

* **data**: the dashboard service alone, as the window calls it
  (:func:`~ketadesk.reports.dashboard.dashboard_in_parallel`, two threads);
* **data, one thread**: :func:`~ketadesk.reports.dashboard.dashboard` in one session;
* **bare window**: a bare PySide6 window painting six labels with the same figures: the
  least any window spends showing them (the floor of the painting part).

Times are wall milliseconds, medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from floors import load_average  # noqa: E402
from PySide6.QtWidgets import QApplication, QGridLayout, QLabel, QWidget  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from ketadesk.access.permissions import Actor, Role  # noqa: E402
from ketadesk.billing.models import LedgerEntry  # noqa: E402
from ketadesk.db import Database  # noqa: E402
from ketadesk.reports.dashboard import dashboard, dashboard_in_parallel  # noqa: E402
from ketadesk.reports.model import ReportFilter  # noqa: E402
from ketadesk.ui.context import AppContext  # noqa: E402
from ketadesk.ui.reports.dashboard_view import DashboardView  # noqa: E402
from ketadesk.ui.reports.view import ReportsView  # noqa: E402

MANAGER = Actor(username="bench", role=Role.MANAGER)


def click_to_painted(app: QApplication, board: DashboardView) -> float:
    done: list[bool] = []
    board.shown.connect(lambda: done.append(True))
    start = time.perf_counter()
    board.refresh()
    while not done:
        app.processEvents()
        time.sleep(0.001)
    board.repaint()
    app.processEvents()
    elapsed = (time.perf_counter() - start) * 1000
    board.shown.disconnect()
    return elapsed


def bare_window(app: QApplication, texts: list[str]) -> float:
    start = time.perf_counter()
    window = QWidget()
    grid = QGridLayout(window)
    for index, text in enumerate(texts):
        grid.addWidget(QLabel(text), index // 3, index % 3)
    window.resize(1280, 800)
    window.show()
    window.repaint()
    app.processEvents()
    elapsed = (time.perf_counter() - start) * 1000
    window.close()
    return elapsed


def measure(app: QApplication, url: str, runs: int) -> dict[str, float]:
    database = Database(url)
    with database.reading() as session:
        last: date = session.execute(select(func.max(LedgerEntry.posted_on))).scalar_one()
    flt = ReportFilter(date(last.year, last.month, 1) - timedelta(days=334), last)
    view = ReportsView(AppContext(database, MANAGER), today=lambda: last)
    view.resize(1920, 1080)
    view.show()
    while "dashboard" not in view.pages:  # the page is built once the window is shown
        app.processEvents()
        time.sleep(0.001)
    board = view.pages["dashboard"]
    assert isinstance(board, DashboardView)
    while board.runs.busy:  # the first refresh the page makes by itself
        app.processEvents()
        time.sleep(0.001)
    times: dict[str, list[float]] = {"painted": [], "data": [], "data_one_thread": [], "bare": []}
    for _ in range(runs):
        times["painted"].append(click_to_painted(app, board))
        start = time.perf_counter()
        board_data = dashboard_in_parallel(database.reading, MANAGER, flt)
        times["data"].append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        with database.reading() as session:
            dashboard(session, MANAGER, flt)
        times["data_one_thread"].append((time.perf_counter() - start) * 1000)
        texts = [f"{f.label}: {f.value}" for f in board_data.figures]
        times["bare"].append(bare_window(app, texts))
    view.close()
    database.dispose()
    return {key: round(statistics.median(values), 1) for key, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--pg", default="")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    print(f"load average before {load_average()}")
    for label, url in (("sqlite", f"sqlite:///{args.db}"), ("postgresql", args.pg)):
        if not url:
            continue
        found = measure(app, url, args.runs)
        print(
            f"{label:<10} click to painted {found['painted']:7.1f} ms | data (2 threads) "
            f"{found['data']:7.1f} ms | data (1 thread) {found['data_one_thread']:7.1f} ms | "
            f"bare window {found['bare']:5.1f} ms | painting beyond the data "
            f"{found['painted'] - found['data']:6.1f} ms",
            flush=True,
        )
    print(f"load average after {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
