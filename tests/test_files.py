"""Files holding PHI are written whole or not at all: owner-only, through a temporary name
beside the target, renamed only when every byte is on the disk; a full disk or an
interruption leaves neither a truncated file under the real name nor a temporary file."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ketadesk import files
from ketadesk.errors import FileNotWritten
from ketadesk.files import (
    private_file,
    remove_stale_parts,
    scratch_folder,
    temporary_name,
    write_private,
)

PDF = b"%PDF-1.4\n" + b"x" * 20_000 + b"\n%%EOF\n"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


class _FillsUp:
    """A file object whose disk fills after ``room`` bytes, as a real full disk does:
    the first writes land, then ENOSPC."""

    def __init__(self, real: Any, room: int) -> None:
        self.real = real
        self.room = room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.real.write(data[: self.room])
            self.real.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return int(self.real.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> _FillsUp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Make the next files written through :mod:`ketadesk.files` hit a full disk."""

    def fill(room: int) -> None:
        real_fdopen = os.fdopen
        monkeypatch.setattr(
            files.os, "fdopen", lambda fd, mode: _FillsUp(real_fdopen(fd, mode), room)
        )

    return fill


def test_a_file_is_written_whole_and_owner_only(tmp_path: Path) -> None:
    path = write_private(tmp_path / "inv.pdf", PDF)
    assert path.read_bytes() == PDF
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _leftovers(tmp_path) == []


def test_text_is_written_as_utf8_with_its_line_endings(tmp_path: Path) -> None:
    write_private(tmp_path / "rows.csv", "Zoë,1\r\nŁukasz,2\r\n")
    assert (tmp_path / "rows.csv").read_bytes() == "Zoë,1\r\nŁukasz,2\r\n".encode()


def test_a_full_disk_leaves_nothing_under_the_name_and_says_so(
    tmp_path: Path, full_disk: Callable[[int], None]
) -> None:
    full_disk(4096)
    target = tmp_path / "inv.pdf"
    with pytest.raises(FileNotWritten) as raised:
        write_private(target, PDF)
    assert raised.value.disk_full
    assert str(raised.value) == f"the disk is full; nothing was written to {target}"
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_a_full_disk_keeps_the_file_that_was_there(
    tmp_path: Path, full_disk: Callable[[int], None]
) -> None:
    target = write_private(tmp_path / "inv.pdf", b"the earlier invoice")
    full_disk(10)
    with pytest.raises(FileNotWritten):
        write_private(target, PDF)
    assert target.read_bytes() == b"the earlier invoice"
    assert _leftovers(tmp_path) == []


def test_an_interrupted_stream_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "backup.kdbk"
    with pytest.raises(KeyboardInterrupt), private_file(target) as out:
        out.write(b"half of it")
        assert temporary_name(target).exists()
        raise KeyboardInterrupt
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_a_missing_folder_is_said_in_words(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "inv.pdf"
    with pytest.raises(FileNotWritten) as raised:
        write_private(target, PDF)
    assert not raised.value.disk_full
    assert str(raised.value) == (
        f"cannot write {target}: No such file or directory; nothing was written"
    )


def _dead_pid() -> int:
    """The process id of a process that has ended."""
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    return int(finished.stdout)


def test_a_killed_writers_temporary_file_is_removed_by_the_next_writer(tmp_path: Path) -> None:
    target = tmp_path / "inv.pdf"
    stale = temporary_name(target, _dead_pid())
    stale.write_bytes(b"half a PDF from a killed command")
    write_private(target, PDF)
    assert _leftovers(tmp_path) == []
    assert target.read_bytes() == PDF


def test_only_the_leftovers_of_writers_that_are_gone_are_removed(tmp_path: Path) -> None:
    dead = temporary_name(tmp_path / "a.pdf", _dead_pid())
    running = temporary_name(tmp_path / "b.pdf", os.getppid())  # a live process writing
    ours = temporary_name(tmp_path / "c.pdf")  # another thread of this process, maybe
    unknown = tmp_path / ".notes.part"  # not named as ours: not ours to remove
    for path in (dead, running, ours, unknown):
        path.write_bytes(b"x")
    assert remove_stale_parts(tmp_path) == [dead]
    assert _leftovers(tmp_path) == sorted(p.name for p in (running, ours, unknown))


def test_a_killed_commands_scratch_folder_is_removed_by_the_next(tmp_path: Path) -> None:
    stale = tmp_path / f".ketadesk-{_dead_pid()}-abc123"  # a killed backup's snapshot
    stale.mkdir()
    (stale / "payload").write_bytes(b"a whole copy of the database")
    running = tmp_path / f".ketadesk-{os.getppid()}-def456"
    running.mkdir()
    with scratch_folder(tmp_path) as scratch:
        assert stat.S_IMODE(scratch.stat().st_mode) == 0o700
        assert scratch.name.startswith(f".ketadesk-{os.getpid()}-")
        (scratch / "payload").write_bytes(b"work in progress")
    assert sorted(p.name for p in tmp_path.iterdir()) == [running.name]
