"""Check an X12 file against its implementation guide with pyx12, offline and in-process.

pyx12's ``x12n_document`` walks the file segment by segment against the guide's map (it picks
the map from ISA12 and GS08: 005010X222A1 for an 837P, 005010X221A1 for an 835). Each problem
it finds goes to its error tree *and* to its ``pyx12`` logger as one line, ``Line:N ELE:code -
message (value)``, where N counts segments from the ISA. The tree is only offered to visitors
that skip the envelope segments' elements (a wrong ST03 would go unseen), so :func:`problems`
listens to the logger instead, for the duration of the call and for this thread only, and
turns each line into a sentence naming the segment and its position. The parameters are
pyx12's built-in defaults: no configuration file is read, nothing is written.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from types import TracebackType

import pyx12.errors  # type: ignore[import-untyped]  # pyx12 ships no type information
import pyx12.params  # type: ignore[import-untyped]
import pyx12.x12n_document  # type: ignore[import-untyped]

_LINE = re.compile(r"^(?:No current segment in error_handler\. )?Line:(\d+) (\w+):(\w+) - (.*)$")


def problems(text: str) -> list[str]:
    """Every way ``text`` breaks its implementation guide, as sentences; empty when valid."""
    body = text.lstrip("\ufeff \t\r\n")
    if not body.startswith("ISA") or len(body) < 106:
        return ["the file is not X12: it must begin with a 106-character ISA segment"]
    with _PyX12Errors() as logged:
        try:
            valid = pyx12.x12n_document.x12n_document(
                param=pyx12.params.ParamsBase(),
                src_file=io.StringIO(body),
                fd_997=None,
                fd_html=None,
            )
        except (pyx12.errors.X12Error, pyx12.errors.EngineError) as error:
            return [f"pyx12 could not read the file: {error}"]
    ids = _segment_ids(body)
    found = [_sentence(message, ids) for message in logged]
    if not valid and not found:
        found = ["pyx12 found the file invalid without naming a problem"]
    return found


def _segment_ids(body: str) -> list[str]:
    """The id of each segment in file order, cut with the delimiters the ISA declares."""
    element, terminator = body[3], body[105]
    pieces = (piece.strip() for piece in body.split(terminator))
    return [piece.split(element, 1)[0] for piece in pieces if piece]


def _sentence(message: str, ids: list[str]) -> str:
    match = _LINE.match(message)
    if match is None:
        return message
    number, level, code, what = int(match[1]), match[2], match[3], match[4]
    seg_id = ids[number - 1] if 0 < number <= len(ids) else "?"
    kind = {"ISA": "interchange", "GS": "functional group", "ST": "transaction"}.get(level)
    where = f"the {kind} starting at segment" if kind else "segment"
    return f"{where} {number} ({seg_id}): {what} [error {code}]"


class _PyX12Errors(logging.Handler):
    """While open, collects what pyx12 logs at ERROR from this thread, and keeps it from
    reaching the application's own log handlers (a problem is returned, not printed)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []
        self.thread = threading.get_ident()
        self.logger = logging.getLogger("pyx12")

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())

    def __enter__(self) -> list[str]:
        self.saved = (self.logger.level, self.logger.propagate)
        if self.logger.getEffectiveLevel() > logging.ERROR:
            self.logger.setLevel(logging.ERROR)
        self.logger.propagate = False
        self.logger.addHandler(self)
        return self.messages

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self.saved[0])
        self.logger.propagate = self.saved[1]
