"""What the command line prints reaches a terminal with no control characters of the data's.

A payment reference or a patient's note may have been stored before the database refused
control characters (:mod:`ketadesk.safe_text`), or come from a file; printed raw, ``ESC``
sequences would recolour, clear or retitle the terminal of whoever lists the ledger.
:func:`scrubbed_output` wraps standard output and standard error for the length of one
command so every line, whichever module prints it, shows such characters as visible
escapes (``\\x1b``). Tabs, line breaks and the progress bar's carriage return pass.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO, cast

from ketadesk.safe_text import scrub


class _Scrubbing:
    """A text stream that scrubs what is written and hands everything else to ``stream``."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(scrub(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def scrubbed_output() -> Iterator[None]:
    """Standard output and error scrubbed until the block ends (then restored as they were)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, _Scrubbing(out))
    sys.stderr = cast(TextIO, _Scrubbing(err))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
