"""The month's superbill batch: worker processes, one PDF per patient, refusals collected.

The batch runs on a real database (a SQLite file, and PostgreSQL for the two-process run),
because each worker process opens its own connection from the URL. The month is
:func:`documents.superbill_batch_helpers.self_pay_month`: three printable self-pay visits
and one whose provider has no NPI.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from documents.superbill_batch_helpers import (
    NO_NPI_PROVIDER,
    PRINTABLE,
    REFUSED_NAME,
    self_pay_month,
)
from pypdf import PdfReader

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.superbill import superbill_patients, superbill_view
from ketadesk.clinic.models import Patient
from ketadesk.db import Database
from ketadesk.documents import superbill_batch
from ketadesk.documents.letterhead import document_filename
from ketadesk.documents.superbill import render_superbill
from ketadesk.documents.superbill_batch import BatchResult, write_superbills
from ketadesk.errors import InvalidValue

DECEMBER = (date(2026, 12, 1), date(2026, 12, 31))
ISSUED = date(2027, 1, 4)
READER = Actor(username="test-billing", role=Role.BILLING)


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes())).pages)


def test_two_workers_write_one_pdf_per_patient_and_list_the_refused(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(superbill_batch, "POOL_MIN_PATIENTS", 2)  # a pool even for four
    month = self_pay_month(database)
    out = tmp_path / "superbills" / "2026-12"
    reports: list[tuple[int, int, str]] = []

    result = write_superbills(
        database.url,
        *DECEMBER,
        out,
        actor=READER,
        issued_on=ISSUED,
        workers=2,
        progress=lambda done, total, text: reports.append((done, total, text)),
        deterministic=True,
    )

    assert (result.total, result.cancelled, result.processes) == (4, False, 2)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in result.written)
    assert len(result.written) == 3
    with database.reading() as session:
        ids = {
            session.get_one(Patient, pid).mrn: pid
            for pid in superbill_patients(session, READER, *DECEMBER)
        }
        for name, mrn in month.mrns.items():
            view = superbill_view(session, READER, ids[mrn], *DECEMBER, issued_on=ISSUED)
            path = out / document_filename("superbill", view)
            assert path in result.written
            # The worker's file is exactly what this process renders for the same view.
            assert path.read_bytes() == render_superbill(view, deterministic=True)
            text = pdf_text(path)
            assert name in text and mrn in text and "96365" in text
    ((mrn, reason),) = result.refused
    assert mrn == month.refused_mrn
    assert f"the NPI of rendering provider {NO_NPI_PROVIDER}" in reason
    assert REFUSED_NAME in reason
    assert reports[0][:2] == (0, 4)
    assert [done for done, _total, _text in reports[1:]] == [1, 2, 3, 4]
    assert all(total == 4 for _done, total, _text in reports)
    assert sum("Refused" in text and month.refused_mrn in text for *_n, text in reports) == 1


def test_one_worker_does_the_same_in_this_process(sqlite_db: Database, tmp_path: Path) -> None:
    month = self_pay_month(sqlite_db)
    out = tmp_path / "out"
    result = write_superbills(
        sqlite_db.url, *DECEMBER, out, actor=READER, issued_on=ISSUED, workers=1
    )
    assert result.processes == 1
    assert len(result.written) == len(PRINTABLE) and all(p.exists() for p in result.written)
    assert [mrn for mrn, _reason in result.refused] == [month.refused_mrn]
    assert sorted(out.iterdir()) == sorted(result.written)  # and no partial files


def test_a_small_batch_is_not_worth_starting_processes_for(
    sqlite_db: Database, tmp_path: Path
) -> None:
    self_pay_month(sqlite_db)
    result = write_superbills(
        sqlite_db.url, *DECEMBER, tmp_path / "out", actor=READER, issued_on=ISSUED
    )
    assert (result.total, result.processes, len(result.written)) == (4, 1, 3)


def test_cancelling_stops_between_chunks(sqlite_db: Database, tmp_path: Path) -> None:
    self_pay_month(sqlite_db)
    done: list[int] = []
    result = write_superbills(
        sqlite_db.url,
        *DECEMBER,
        tmp_path / "out",
        actor=READER,
        issued_on=ISSUED,
        workers=1,
        progress=lambda n, _total, _text: done.append(n),
        cancelled=lambda: len(done) > 1,  # after the first patient is finished
    )
    assert result.cancelled
    assert result.total == 4
    assert len(result.written) + len(result.refused) == 1
    assert sorted((tmp_path / "out").iterdir()) == sorted(result.written)


def test_a_pool_cancelled_before_it_starts_writes_nothing(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(superbill_batch, "POOL_MIN_PATIENTS", 2)
    self_pay_month(sqlite_db)
    out = tmp_path / "out"
    result = write_superbills(
        sqlite_db.url,
        *DECEMBER,
        out,
        actor=READER,
        issued_on=ISSUED,
        workers=2,
        cancelled=lambda: True,
    )
    assert (result.cancelled, result.total, result.written, result.refused) == (True, 4, (), ())
    assert not list(out.iterdir())


def test_a_month_without_self_pay_visits_writes_nothing(
    sqlite_db: Database, tmp_path: Path
) -> None:
    self_pay_month(sqlite_db)
    out = tmp_path / "empty"
    result = write_superbills(
        sqlite_db.url, date(2026, 11, 1), date(2026, 11, 30), out, actor=READER, issued_on=ISSUED
    )
    assert result == BatchResult(written=(), refused=(), total=0, cancelled=False, processes=1)
    assert out.is_dir() and not list(out.iterdir())


def test_a_folder_or_range_that_cannot_be_used_is_refused_in_words(
    sqlite_db: Database, tmp_path: Path
) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    with pytest.raises(InvalidValue, match="cannot create the folder"):
        write_superbills(
            sqlite_db.url, *DECEMBER, blocker / "out", actor=READER, issued_on=ISSUED
        )
    with pytest.raises(InvalidValue, match=r"the range ends \(2026-12-01\) before it starts"):
        write_superbills(
            sqlite_db.url, *reversed(DECEMBER), tmp_path, actor=READER, issued_on=ISSUED
        )


def test_chunks_cover_every_patient_once_in_order() -> None:
    ids = list(range(1, 1001))
    for workers in (1, 2, 8):
        chunks = list(superbill_batch._chunks(ids, workers))
        assert [i for chunk in chunks for i in chunk] == ids
        assert max(len(c) for c in chunks) <= superbill_batch.CHUNK_MAX
        assert len(chunks) >= workers * superbill_batch.CHUNKS_PER_WORKER
    assert list(superbill_batch._chunks([7], 2)) == [[7]]
    assert list(superbill_batch._chunks([], 2)) == []


def test_a_relative_sqlite_path_is_made_absolute_for_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = superbill_batch._absolute_url("sqlite:///clinic.sqlite3")
    assert url == f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    postgres = "postgresql+psycopg://clinic:secret@db/ketadesk"
    assert superbill_batch._absolute_url(postgres) == postgres


def test_a_batch_removes_what_a_killed_batch_left_and_writes_owner_only(
    sqlite_db: Database, tmp_path: Path
) -> None:
    import stat
    import subprocess
    import sys

    self_pay_month(sqlite_db)
    out = tmp_path / "out"
    out.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    # A patient not in this batch: only the batch-wide clean-up can remove it.
    killed = out / f".superbill-SB-100099-20261201-20261231.pdf.{int(gone.stdout)}.part"
    killed.write_bytes(b"%PDF-1.4 half of a superbill")
    another = out / ".notes.part"  # not named as the batch names: not its to remove
    another.write_bytes(b"x")
    result = write_superbills(
        sqlite_db.url, *DECEMBER, out, actor=READER, issued_on=ISSUED, workers=1
    )
    assert sorted(out.iterdir()) == sorted([*result.written, another])
    assert {stat.S_IMODE(p.stat().st_mode) for p in result.written} == {0o600}
