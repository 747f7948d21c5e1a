"""Files that hold PHI: written readable by their owner only, under a temporary name that is
renamed when the file is whole, so nobody ever reads half a claim file, half a superbill or
a copy others can open (DESIGN.md, "Storage").

Every document, export and claim file the program writes goes through here:
:func:`write_private` for bytes or text already in memory (every PDF is rendered into
memory first), :func:`private_file` for a file written piece by piece. The temporary file
sits beside the target as ``.NAME.PID.part`` (same folder, so the rename is atomic, and the
writer's process id, so two writers never share one and a later run can tell a leftover
of a killed writer from one still being written: :func:`remove_stale_parts`). On any
failure -- a full disk, an interruption -- the temporary file is removed and the target is
left as it was; the error says so in words (:class:`~ketadesk.errors.FileNotWritten`).
"""

from __future__ import annotations

import errno
import glob
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ketadesk.errors import FileNotWritten

PART_SUFFIX = ".part"
_PART_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.part$")
_SCRATCH_NAME = re.compile(r"^\.(?P<name>[a-z]+)-(?P<pid>\d+)-[^/]+$")
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
# Never through a link planted under the temporary name (where the platform can refuse one).
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)


def temporary_name(path: Path, pid: int | None = None) -> Path:
    """Where ``path`` is written before it is whole: ``.NAME.PID.part`` beside it."""
    return path.with_name(f".{path.name}.{os.getpid() if pid is None else pid}{PART_SUFFIX}")


@contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """A file object to write ``path`` through; it becomes ``path`` (mode 0600) only when the
    ``with`` block ends without an error, after its bytes have reached the disk.

    Raises :class:`~ketadesk.errors.FileNotWritten` when the file cannot be created or
    written (a full disk says so); any error, or an interruption, removes the temporary file
    and leaves whatever was at ``path`` untouched.
    """
    path = Path(path)
    remove_stale_parts(path.parent, only_for=path.name)
    temporary = temporary_name(path)
    try:
        handle = os.open(temporary, _CREATE, 0o600)
    except OSError as error:
        raise _not_written(path, error) from None
    try:
        if hasattr(os, "fchmod"):  # owner-only even over a leftover made otherwise
            os.fchmod(handle, 0o600)
        with os.fdopen(handle, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())  # whole on the disk before it takes the real name
        temporary.replace(path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise _not_written(path, error) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_private(path: Path, data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8, line endings kept) whole to ``path``, mode 0600.

    Raises :class:`~ketadesk.errors.FileNotWritten`; nothing is left half-written.
    """
    content = data.encode("utf-8") if isinstance(data, str) else data
    with private_file(path) as out:
        out.write(content)
    return Path(path)


def remove_stale_parts(folder: Path, *, only_for: str | None = None) -> list[Path]:
    """Remove temporary files in ``folder`` left by writers that no longer run (a killed
    command); ``only_for`` limits it to those of one target name. Returns what was removed.

    A ``.NAME.PID.part`` whose process still runs is being written and is left alone, as is
    anything not named the way :func:`temporary_name` names.
    """
    removed: list[Path] = []
    try:
        pattern = glob.escape(only_for) if only_for is not None else "*"
        entries = list(Path(folder).glob(f".{pattern}.*{PART_SUFFIX}"))
    except OSError:
        return removed
    for entry in entries:
        found = _PART_NAME.match(entry.name)
        if found is None or (only_for is not None and found["name"] != only_for):
            continue
        if _running(int(found["pid"])):
            continue
        try:
            entry.unlink()
        except OSError:
            continue  # gone already, or not ours to remove (another user's folder)
        removed.append(entry)
    return removed


@contextmanager
def scratch_folder(near: Path, name: str = "ketadesk") -> Iterator[Path]:
    """A private folder (0700) beside ``near``'s contents for work in progress (a backup's
    snapshot before it is sealed), removed with everything in it when the block ends.

    Named ``.NAME-PID-…`` so that one a killed command left behind -- it may hold a whole
    copy of the database -- is removed by the next one made beside it.
    """
    folder = Path(near)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for entry in folder.glob(f".{name}-*-*"):
        found = _SCRATCH_NAME.match(entry.name)
        if found and found["name"] == name and entry.is_dir() and not _running(int(found["pid"])):
            shutil.rmtree(entry, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f".{name}-{os.getpid()}-", dir=folder) as made:
        yield Path(made)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _not_written(path: Path, error: OSError) -> FileNotWritten:
    return FileNotWritten(
        path, error.strerror or str(error), disk_full=error.errno in _DISK_FULL
    )
