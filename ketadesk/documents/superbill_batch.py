"""The month's superbills in one go: one PDF per self-pay patient, on every CPU core.

:func:`write_superbills` is what ``ketadesk superbill --month`` and the window's batch run.
The flow:

1. in this process, one read transaction asks
   :func:`ketadesk.billing.superbill.superbill_patients` who had self-pay visits in the
   range, and reads their MRNs and names (for the progress text and the refusals);
2. the patient ids are cut into small chunks and handed to a pool of ``workers`` processes
   (``forkserver`` where the platform has it, else ``spawn``: forking a process that holds
   Qt or open database connections is unsafe). Each worker opens its *own*
   :class:`~ketadesk.db.Database` once, when it starts, and warms what every superbill
   needs (the fonts, the ICD-10-CM descriptions), so the cost per patient is only the
   view and the layout;
3. for each patient a worker builds the view with
   :func:`~ketadesk.billing.superbill.superbill_view` in a read transaction, renders it with
   :func:`~ketadesk.documents.superbill.render_superbill` and writes it into ``out_dir``
   with :func:`ketadesk.files.write_private` (owner-only, through a temporary
   ``.NAME.PID.part`` renamed when whole, removed on any failure: a half-written file never
   looks finished; a full disk comes back as a refusal that says so). A refusal
   (:class:`~ketadesk.errors.Incomplete` listing the missing NPI, any other
   :class:`~ketadesk.errors.KetaDeskError`) is sent back as a sentence, never as a failure
   of the batch;
4. back here, every finished patient advances ``progress(done, total, text)``; between
   chunks ``cancelled()`` is asked, and once it says yes no further chunk starts. Chunks
   already running finish (so do they on Ctrl-C), so no file is left half-written.

Only a few chunks are in flight at a time, which keeps cancelling prompt and the progress
smooth. ``workers=1``, or a batch too small to repay starting processes
(:data:`POOL_MIN_PATIENTS`), does the same work in this process, without a pool.

Workers never outlive the process that started them. A killed command cannot stop its
pool, so each worker watches for it itself (:func:`_die_with_parent`): a thread waits on
:func:`multiprocessing.parent_process`'s sentinel (a pipe that closes, or on Windows a
process handle that signals, the moment the starting process is gone, however it died) and
then ends the worker at once, removing the superbill it was half-way through writing; on
Linux the kernel is asked as well (``prctl(PR_SET_PDEATHSIG)``) to send it SIGTERM, which
ends it the same way, when its parent dies. A command asked to stop (Ctrl-C, or SIGTERM,
which ``ketadesk superbill`` turns into the same) stops its pool as described in 4.

SIGTERM rather than SIGKILL, and a watch thread besides: a SIGKILL could not remove the
temporary file the worker was writing, and the kernel's signal follows the process that
*forked* the worker -- the fork server, not the command -- while the sentinel follows the
command itself. A temporary file that still escapes (the worker killed outright, or killed
between naming it and creating it) carries the dead worker's process id, so the next batch
into the same folder removes it before it starts (:func:`ketadesk.files.remove_stale_parts`).
"""

from __future__ import annotations

import ctypes
import math
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ketadesk.access.permissions import Actor
from ketadesk.errors import FileNotWritten, InvalidValue, KetaDeskError
from ketadesk.files import remove_stale_parts, temporary_name, write_private

ProgressCallback = Callable[[int, int, str], None]
"""``progress(done, total, text)``: ``done`` of ``total`` patients finished, and which."""
CancelledCheck = Callable[[], bool]

CHUNK_MAX = 10  # patients per chunk at most: small enough for prompt cancelling
CHUNKS_PER_WORKER = 4  # aim for at least this many chunks per worker, to balance the load
IN_FLIGHT_PER_WORKER = 2  # chunks queued per worker, so none waits between chunks
# Starting worker processes costs two or three seconds (imports, fonts, the ICD-10-CM code
# set); a superbill costs 20-30 ms. Below this many patients one process finishes sooner.
POOL_MIN_PATIENTS = 60
LOOKUP_BATCH = 500  # patient ids per IN (...) when reading names: well under SQLite's limit
PR_SET_PDEATHSIG = 1  # Linux prctl(2): the signal a process gets when its parent dies
ORPHANED_EXIT = 75  # a worker's exit status when it ends because its parent is gone
# Imported once by the fork server (imports only: no connection, no Qt), so every worker it
# forks starts with SQLAlchemy, reportlab and the billing code already loaded.
_PRELOAD = (
    "ketadesk.billing.superbill",
    "ketadesk.documents.superbill",
    "ketadesk.documents.letterhead",
)


@dataclass(frozen=True)
class BatchResult:
    """What a batch did: the PDFs written, and the patients refused with the reason."""

    written: tuple[Path, ...]
    refused: tuple[tuple[str, str], ...]  # (MRN, the reason in words)
    total: int = 0  # patients with self-pay visits in the range
    cancelled: bool = False  # stopped early; ``written`` holds what was finished
    processes: int = 1  # worker processes used (1: the work ran in the calling process)


@dataclass(frozen=True)
class _Job:
    """What every worker needs to know besides the patient ids."""

    db_url: str
    actor: Actor  # who prints: each superbill is an audited read of an account
    date_from: date
    date_to: date
    out_dir: str
    issued_on: date
    deterministic: bool


@dataclass(frozen=True)
class _Done:
    """One patient's outcome, as a worker sends it back: a file name or a refusal."""

    patient_id: int
    file_name: str | None
    refusal: str | None


def write_superbills(
    db_url: str,
    date_from: date,
    date_to: date,
    out_dir: Path,
    *,
    actor: Actor,
    issued_on: date,
    workers: int = 2,
    location_id: int | None = None,
    progress: ProgressCallback | None = None,
    cancelled: CancelledCheck | None = None,
    deterministic: bool = False,
) -> BatchResult:
    """Write one superbill PDF per self-pay patient with visits from ``date_from`` to ``date_to``.

    ``db_url`` is opened anew by each worker (and once here, to find the patients); the
    database must already be migrated. ``out_dir`` is created if missing. ``progress`` and
    ``cancelled`` are called in this thread. Refused patients are listed in the result,
    never raised; :class:`~ketadesk.errors.InvalidValue` means the range or the folder
    cannot be used; a bug in a worker is raised here.
    """
    if date_to < date_from:
        raise InvalidValue(
            f"the range ends ({date_to.isoformat()}) before it starts ({date_from.isoformat()})"
        )
    db_url = _absolute_url(db_url)
    patients = _patients(db_url, actor, date_from, date_to, location_id)
    folder = Path(out_dir).resolve()  # workers may not share this process's directory
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidValue(f"cannot create the folder {folder}: {error.strerror}") from None
    remove_stale_parts(folder)  # what a killed batch was half-way through writing
    job = _Job(db_url, actor, date_from, date_to, str(folder), issued_on, deterministic)
    tally = _Tally(patients, folder, progress)
    ids = list(patients)
    chunks = list(_chunks(ids, workers))
    stop = cancelled or (lambda: False)
    processes = 1 if len(ids) < POOL_MIN_PATIENTS else min(workers, len(chunks))
    if processes <= 1:
        stopped = _run_here(job, chunks, tally, stop)
    else:
        stopped = _run_pool(job, chunks, processes, tally, stop)
    return tally.result(cancelled=stopped and tally.done < len(ids), processes=max(processes, 1))


# --------------------------------------------------------------------------------------
# The parent's side
# --------------------------------------------------------------------------------------


def _patients(
    db_url: str, actor: Actor, date_from: date, date_to: date, location_id: int | None
) -> dict[int, tuple[str, str]]:
    """Patient id → (MRN, name as listed), for every patient the batch covers, in order."""
    from sqlalchemy import select

    from ketadesk.billing.superbill import superbill_patients
    from ketadesk.clinic.models import Patient
    from ketadesk.db import Database

    db = Database(db_url)
    try:
        with db.reading() as session:
            ids = superbill_patients(session, actor, date_from, date_to, location_id=location_id)
            found: dict[int, tuple[str, str]] = {}
            columns = (Patient.id, Patient.mrn, Patient.family_name, Patient.given_name)
            for start in range(0, len(ids), LOOKUP_BATCH):
                wanted = ids[start : start + LOOKUP_BATCH]
                for row in session.execute(select(*columns).where(Patient.id.in_(wanted))):
                    found[row.id] = (row.mrn, f"{row.family_name}, {row.given_name}")
    finally:
        db.dispose()
    return {pid: found[pid] for pid in ids if pid in found}


def _absolute_url(db_url: str) -> str:
    """``db_url`` with a relative SQLite path made absolute, for workers started elsewhere."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return db_url
    if url.database.startswith("file:") or Path(url.database).is_absolute():
        return db_url
    return url.set(database=str(Path(url.database).resolve())).render_as_string(hide_password=False)


def _chunks(ids: Sequence[int], workers: int) -> Iterator[list[int]]:
    """``ids`` cut into chunks: several per worker, none larger than :data:`CHUNK_MAX`."""
    if not ids:
        return
    size = max(1, min(CHUNK_MAX, math.ceil(len(ids) / (max(workers, 1) * CHUNKS_PER_WORKER))))
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


class _Tally:
    """Collects outcomes as chunks finish and reports each finished patient."""

    def __init__(
        self,
        patients: dict[int, tuple[str, str]],
        folder: Path,
        progress: ProgressCallback | None,
    ) -> None:
        self.patients = patients
        self.folder = folder
        self.progress = progress
        self.written: list[Path] = []
        self.refused: list[tuple[str, str]] = []
        self.done = 0
        if progress is not None:
            progress(0, len(patients), f"{len(patients)} self-pay patients with visits")

    def add(self, outcomes: Sequence[_Done]) -> None:
        for outcome in outcomes:
            mrn, name = self.patients[outcome.patient_id]
            if outcome.file_name is not None:
                self.written.append(self.folder / outcome.file_name)
                text = f"Superbill for {name} (MRN {mrn})"
            else:
                self.refused.append((mrn, outcome.refusal or "refused"))
                text = f"Refused: {name} (MRN {mrn})"
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, len(self.patients), text)

    def result(self, *, cancelled: bool, processes: int) -> BatchResult:
        return BatchResult(
            written=tuple(self.written),
            refused=tuple(self.refused),
            total=len(self.patients),
            cancelled=cancelled,
            processes=processes,
        )


def _run_here(job: _Job, chunks: Sequence[list[int]], tally: _Tally, stop: CancelledCheck) -> bool:
    """The batch in this process, chunk by chunk; True if it was cancelled."""
    if not chunks:
        return False
    worker = _Worker(job)
    try:
        for chunk in chunks:
            if stop():
                return True
            tally.add([worker.write(patient_id) for patient_id in chunk])
    finally:
        worker.close()
    return False


def _run_pool(
    job: _Job, chunks: Sequence[list[int]], workers: int, tally: _Tally, stop: CancelledCheck
) -> bool:
    """The batch on ``workers`` processes; True if it was asked to stop.

    On a stop (or Ctrl-C, or a failure here) chunks not yet started are dropped and the
    ones running are let finish, so no file is left half-written.
    """
    waiting = list(reversed(chunks))
    running: set[Future[list[_Done]]] = set()
    stopped = False
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_context(),
        initializer=_start_pool_worker,
        initargs=(job,),
    )
    try:
        while waiting or running:
            if not stopped and stop():
                stopped = True
                waiting.clear()
                for future in running:
                    future.cancel()  # only those not started yet
            while waiting and len(running) < workers * IN_FLIGHT_PER_WORKER:
                running.add(pool.submit(_write_chunk, waiting.pop()))
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                if not future.cancelled():
                    tally.add(future.result())  # a bug in a worker is raised here
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return stopped


def _context() -> multiprocessing.context.BaseContext:
    """``forkserver`` where there is one (workers start fast, from a clean server), else
    ``spawn``; never plain ``fork`` of a process that may hold Qt or database connections."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # The server imports the superbill code once; each worker it forks starts warm.
        context.set_forkserver_preload([__name__, *_PRELOAD])
        return context
    return multiprocessing.get_context("spawn")


# --------------------------------------------------------------------------------------
# The worker's side: one Database per process, opened once
# --------------------------------------------------------------------------------------


class _Worker:
    """What writes superbills: its own database, and the fonts and ICD-10-CM descriptions
    warmed once, so each superbill costs only its view and its layout."""

    def __init__(self, job: _Job) -> None:
        from ketadesk.clinic.codes import diagnosis_description
        from ketadesk.db import Database
        from ketadesk.documents.fonts import covered, register_fonts

        self.job = job
        self.folder = Path(job.out_dir)
        self.writing: Path | None = None  # the temporary file being written, if any
        self.db = Database(job.db_url)
        register_fonts()
        covered()
        diagnosis_description("F33.2")  # loads the code set once

    def close(self) -> None:
        self.db.dispose()

    def write(self, patient_id: int) -> _Done:
        """Write one patient's superbill; a refusal comes back as a sentence."""
        from ketadesk.billing.superbill import superbill_view
        from ketadesk.documents.letterhead import document_filename
        from ketadesk.documents.superbill import render_superbill

        job = self.job
        try:
            with self.db.transaction() as session:  # the read leaves its audit row
                view = superbill_view(
                    session,
                    job.actor,
                    patient_id,
                    job.date_from,
                    job.date_to,
                    issued_on=job.issued_on,
                )
        except KetaDeskError as error:
            # Exceptions with constructors of their own do not cross processes; words do.
            return _Done(patient_id, None, " ".join(str(error).split()))
        content = render_superbill(view, deterministic=job.deterministic)
        name = _pdf_name(document_filename("superbill", view))
        target = self.folder / name
        self.writing = temporary_name(target)
        try:
            write_private(target, content)  # a half-written file never carries the real name
        except FileNotWritten as error:
            return _Done(patient_id, None, str(error))
        finally:
            self.writing = None
        return _Done(patient_id, name, None)

    def abandon(self) -> None:
        """Remove the superbill being written, if any: the batch it was for is gone."""
        writing = self.writing
        if writing is not None:
            writing.unlink(missing_ok=True)


_worker: _Worker | None = None  # in a pool process: its one worker


def _start_pool_worker(job: _Job) -> None:
    """A pool process's initializer. Ctrl-C is left to the parent, which stops the pool;
    if the parent dies instead, the worker ends too (:func:`_die_with_parent`). The
    process's connections close when it exits."""
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    _worker = _Worker(job)


def _die_with_parent() -> None:
    """End this worker process as soon as the process that started it is gone.

    Two guards, so a killed ``superbill --month`` leaves no worker writing on: everywhere a
    daemon thread waits on the parent's sentinel and then ends the worker
    (:func:`_watch_parent`); on Linux the kernel also sends SIGTERM when the parent dies
    (``PR_SET_PDEATHSIG``), which ends it the same way (:func:`_end_orphan`). If the parent
    died before the watch began, the sentinel is already signalled and the worker ends at
    once.
    """
    signal.signal(signal.SIGTERM, _end_orphan)
    if sys.platform == "linux":
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl here: the thread below still watches
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    threading.Thread(
        target=_watch_parent, args=(parent,), name="superbill-parent-watch", daemon=True
    ).start()


def _watch_parent(parent: multiprocessing.process.BaseProcess) -> None:
    """In a watch thread: wait until ``parent`` is gone, then end this process."""
    parent.join()
    _end_orphan()


def _end_orphan(*_signal: object) -> None:
    """End this worker process at once (no exception handlers, no waiting for its chunk),
    removing the superbill it was half-way through writing."""
    worker = _worker
    if worker is not None:
        worker.abandon()
    os._exit(ORPHANED_EXIT)


def _write_chunk(patient_ids: Sequence[int]) -> list[_Done]:
    """In a pool process: write each patient's superbill."""
    if _worker is None:
        raise RuntimeError("the superbill worker process was not started")
    return [_worker.write(patient_id) for patient_id in patient_ids]


def _pdf_name(name: str) -> str:
    return name if name.lower().endswith(".pdf") else f"{name}.pdf"
