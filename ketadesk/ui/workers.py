"""Long work off the window's thread, with a progress dialog, so the window never freezes.

A *job* is a plain function ``job(session, progress) -> result``: the same service calls the
command line makes. :class:`Worker` runs it on Qt's thread pool. The worker opens **its own**
SQLAlchemy session in the worker thread (``db.transaction()`` for writes, ``db.reading()``
for reads), so no session ever crosses threads; the result goes back to the window's thread
through Qt signals (queued connections), where it is safe to touch widgets.

The job reports with :meth:`Progress.report` and checks :meth:`Progress.check` between steps;
pressing Cancel makes ``check`` raise :class:`Cancelled`, which rolls the transaction back.

:func:`run_with_progress` wires a worker to a :class:`QProgressDialog`, shows refusals
(:class:`~ketadesk.errors.KetaDeskError`) in words and unexpected errors without a
traceback, and calls ``on_done(result)`` in the window's thread when the job succeeds.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget
from sqlalchemy.orm import Session

from ketadesk.db import Database
from ketadesk.errors import KetaDeskError
from ketadesk.ui.forms import show_error

T = TypeVar("T")


class Cancelled(Exception):
    """The person pressed Cancel; the job stops and its transaction rolls back."""


class WorkerSignals(QObject):
    """What a worker tells the window; created in the window's thread, emitted from the worker."""

    progressed = Signal(int, int, str)  # done, total (0 = unknown), what is happening
    succeeded = Signal(object)
    failed = Signal(object)  # the exception
    cancelled = Signal()
    finished = Signal()  # always last, whatever happened


class Progress:
    """Handed to a job: report how far it is, and find out whether to stop."""

    def __init__(self, signals: WorkerSignals) -> None:
        self._signals = signals
        self._stop = threading.Event()

    def report(self, done: int, total: int = 0, text: str = "") -> None:
        """Say that ``done`` of ``total`` steps are finished (``total`` 0 when unknown)."""
        self._signals.progressed.emit(done, total, text)

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the person asked to stop."""
        if self._stop.is_set():
            raise Cancelled()


Job = Callable[[Session, Progress], T]


class Worker(QRunnable, Generic[T]):
    """Runs one job in a pool thread, inside one session opened in that thread."""

    # Workers still running, kept alive here: Qt does not hold a reference to the Python
    # object, and a collected QRunnable would take its signals with it.
    _running: ClassVar[set[Worker[Any]]] = set()

    def __init__(self, db: Database, job: Job[T], *, write: bool = False) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.db = db
        self.job = job
        self.write = write
        self.signals = WorkerSignals()
        self.progress = Progress(self.signals)
        self.signals.finished.connect(lambda: Worker._running.discard(self))

    def start(self, pool: QThreadPool | None = None) -> None:
        Worker._running.add(self)
        (pool or QThreadPool.globalInstance()).start(self)

    def run(self) -> None:  # in the pool thread
        try:
            result = self._run_job()
        except Cancelled:
            self.signals.cancelled.emit()
        except KetaDeskError as error:
            self.signals.failed.emit(error)
        except Exception as error:  # a bug: keep the traceback for whoever reads stderr
            traceback.print_exc(file=sys.stderr)
            self.signals.failed.emit(error)
        else:
            self.signals.succeeded.emit(result)
        finally:
            self.signals.finished.emit()

    def _run_job(self) -> T:
        # Work long enough for a worker (building claims, drafting estimates) is a job: it
        # runs without the time limits of a person's save (Database.transaction).
        opened = self.db.transaction(job=True) if self.write else self.db.reading()
        with opened as session:
            return self.job(session, self.progress)


def _progress_dialog(parent: QWidget | None, title: str, worker: Worker[Any]) -> QProgressDialog:
    dialog = QProgressDialog(title, "Cancel", 0, 0, parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(400)  # quick jobs finish without a dialog flashing up
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.canceled.connect(worker.progress.cancel)

    def progressed(done: int, total: int, text: str) -> None:
        dialog.setMaximum(max(total, 0))
        dialog.setValue(min(done, total) if total else 0)
        if text:
            dialog.setLabelText(text)

    worker.signals.progressed.connect(progressed)
    worker.signals.finished.connect(dialog.close)
    worker.signals.finished.connect(dialog.deleteLater)
    return dialog


def _report_failure(parent: QWidget | None, error: object) -> None:
    if isinstance(error, KetaDeskError):
        show_error(parent, error)
    else:
        QMessageBox.critical(parent, "Something went wrong", f"The work stopped: {error}")


def run_with_progress(
    parent: QWidget | None,
    db: Database,
    title: str,
    job: Job[T],
    *,
    write: bool = False,
    on_done: Callable[[T], None] | None = None,
    on_failed: Callable[[object], None] | None = None,
) -> Worker[T]:
    """Start ``job`` in a worker with a progress dialog; return the worker (already started).

    ``on_done`` receives the result in the window's thread. Failures are shown to the person
    unless ``on_failed`` is given; a cancelled job simply closes the dialog.
    """
    worker: Worker[T] = Worker(db, job, write=write)
    _progress_dialog(parent, title, worker)
    if on_done is not None:
        worker.signals.succeeded.connect(on_done)
    worker.signals.failed.connect(on_failed or (lambda error: _report_failure(parent, error)))
    worker.start()
    return worker
