"""When the window first painted, counted from the start of its process.

The window (:mod:`ketadesk.ui.app`) and the benchmark's bare PySide6 floor
(``bench/floor_window.py``) both use this module, so their figures are measured the same way
and their ratio means something. It needs nothing but the standard library and QtCore, so the
floor does not pay for KetaDesk's own imports.

With ``KETADESK_TIMING=1`` a program prints ``first-paint-ms: N`` and
``first-paint-cpu-ms: C`` to stderr (:func:`report_first_paint`). N is in milliseconds from
**process start** to the first paint of the widget watched by :class:`FirstPaint`; C is the
CPU time the process has used by then, which a busy machine does not inflate. On Linux the
process start is read from the kernel: ``/proc/self/stat`` field 22 (start time, in clock
ticks after boot) compared with the boot-time clock now (``CLOCK_BOOTTIME``, which
``/proc/uptime`` also counts), so the interpreter's own start-up and every import are
included; resolution is one clock tick (10 ms). Elsewhere the figure counts from when this
module was imported, which leaves out the interpreter's start-up and the command-line
parsing, and says so on stderr.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

ENV_TIMING = "KETADESK_TIMING"
PAINT_TIMEOUT_MS = 20_000
_IMPORTED_AT = time.monotonic()


def process_age() -> float | None:
    """Seconds since this process started, from the kernel (Linux); ``None`` elsewhere."""
    try:
        stat = Path("/proc/self/stat").read_text()
        now = (time.clock_gettime(time.CLOCK_BOOTTIME) if hasattr(time, "CLOCK_BOOTTIME")
               else float(Path("/proc/uptime").read_text().split()[0]))
        # Fields after the command name, which is in parentheses and may hold spaces:
        # the first is field 3 (state), so field 22 (start time) is at index 19.
        start_ticks = int(stat[stat.rindex(")") + 2:].split()[19])
        age = now - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    return age if 0 <= age < 24 * 3600 else None


def report_first_paint() -> None:
    """Print ``first-paint-ms: N`` (N from process start) to stderr."""
    age = process_age()
    if age is None:
        age = time.monotonic() - _IMPORTED_AT
        print("first-paint-ms counted from ketadesk.ui.timing's import (no /proc here)",
              file=sys.stderr)
    print(f"first-paint-ms: {round(age * 1000)}", file=sys.stderr)
    # CPU time the process has used (all threads): what the start costs, whatever else
    # the machine is doing; the benchmark compares this with its floor.
    print(f"first-paint-cpu-ms: {round(time.process_time() * 1000)}", file=sys.stderr,
          flush=True)


class FirstPaint(QObject):
    """Emits :attr:`painted` once, just after ``widget`` has finished its first paint."""

    painted = Signal()

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.seen = False
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self.seen:
            self.seen = True
            watched.removeEventFilter(self)
            # A zero timer fires after this paint (and its children's) has completed.
            QTimer.singleShot(0, self.painted.emit)
        return False


def wait_for_first_paint(widget: QWidget, window: QWidget) -> bool:
    """Show ``window`` and wait until ``widget`` has painted; False after the time-out."""
    watcher = FirstPaint(widget)
    loop = QEventLoop()
    limit = QTimer()
    limit.setSingleShot(True)
    limit.timeout.connect(loop.quit)
    watcher.painted.connect(loop.quit)
    limit.start(PAINT_TIMEOUT_MS)
    window.show()
    loop.exec()  # the paint, and the zero timer after it, need the event loop
    limit.stop()
    return watcher.seen
