"""Files that hold PHI: written readable by their owner only, under a temporary name that is
renamed when the file is whole, so nobody ever reads half a claim file or a copy others
can open (DESIGN.md, "Storage")."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8, line endings kept) to ``path`` with mode 0600."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    temporary = path.with_name(f".{path.name}.part")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
