"""Reports run off the window's thread, and only the newest answer is shown.

:class:`LatestRun` starts each request as a :class:`~ketadesk.ui.workers.Worker` (its own
read-only session in a pool thread) and numbers it. When the person changes a filter while a
report is still running, a new run starts at once; the older one finishes in the background
and its answer is dropped, because it answers a question nobody is asking any more. While a
run is out, :attr:`LatestRun.busy` is true and the view shows a thin progress bar instead of
freezing; a refusal comes back as words through ``on_failed``. A page closed while its work
runs is simply not told (the worker's signals outlive it). A request still waiting for a
thread when a newer one comes is taken back from the pool instead of being run for nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThreadPool, Signal

from ketadesk.db import Database
from ketadesk.ui.workers import Job, Worker


class LatestRun(QObject):
    """Runs jobs one request after another; hands on only the newest one's result."""

    busy_changed = Signal(bool)

    def __init__(self, db: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.generation = 0
        self.running = 0
        self.dropped = 0  # requests overtaken by a newer one: never shown
        self.latest: Worker[Any] | None = None

    @property
    def busy(self) -> bool:
        return self.running > 0

    def start(
        self,
        job: Job[Any],
        on_done: Callable[[Any], None],
        on_failed: Callable[[object], None],
    ) -> Worker[Any]:
        """Run ``job``; call ``on_done(result)`` or ``on_failed(error)`` in the window's thread
        unless a newer request was started meanwhile."""
        self._withdraw_waiting()
        self.generation += 1
        mine = self.generation
        worker: Worker[Any] = Worker(self.db, job)
        worker.signals.succeeded.connect(lambda result: self._answer(mine, on_done, result))
        worker.signals.failed.connect(lambda error: self._answer(mine, on_failed, error))
        worker.signals.finished.connect(self._finished)
        self.running += 1
        if self.running == 1:
            self.busy_changed.emit(True)
        worker.start()
        self.latest = worker
        return worker

    def _withdraw_waiting(self) -> None:
        """Take the previous request back if it has not started (both of the pool's threads
        busy): nobody will read its answer, so it should not hold a thread up."""
        previous, self.latest = self.latest, None
        if previous is None or not QThreadPool.globalInstance().tryTake(previous):
            return
        Worker._running.discard(previous)  # it will never run, so never says it finished
        self.dropped += 1
        self._finished()

    def _answer(self, mine: int, deliver: Callable[[Any], None], answer: object) -> None:
        if not shiboken6.isValid(self):  # the page was closed while the work ran
            return
        if mine != self.generation:
            self.dropped += 1
            return
        deliver(answer)

    def _finished(self) -> None:
        if not shiboken6.isValid(self):
            return
        self.running -= 1
        if self.running == 0:
            self.busy_changed.emit(False)
