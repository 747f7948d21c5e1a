"""One CMS-1500 PDF against its floor: the issue's goal is under 40 ms.

Run it from the project folder::

    .venv/bin/python bench/bench_cms1500.py [--runs 200]

It times :func:`~ketadesk.documents.cms1500.render_cms1500` in full mode for a claim of six
service lines (the form drawn, the data typed on it, one page), and beside it the floor:
bare reportlab writing the same strings (the data lines and the form's captions, from the
same claim) on a canvas with no rules, boxes, checks or layout. Both are warm (one untimed
run first loads fonts and code) and run interleaved; it prints the median CPU time of each
and their ratio.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from documents.claim_builders import claim

from ketadesk.documents import cms1500_form
from ketadesk.documents.cms1500 import form_pages, render_cms1500
from ketadesk.documents.fonts import REGULAR, register_fonts


def ours() -> bytes:
    return render_cms1500([CLAIM], mode="full")


def floor() -> bytes:
    """The same strings on a bare canvas: the least any renderer of this page must do."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER)
    canvas.setFont(REGULAR, 5)
    for line, col, words in CAPTIONS:
        canvas.drawString(cms1500_form.grid_x(col), cms1500_form.grid_y(line), words)
    canvas.setFont("Courier", 12)
    for number, line_text in enumerate(LINES, start=1):
        if line_text:
            canvas.drawString(cms1500_form.LEFT, cms1500_form.grid_y(number + 1), line_text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def timed(work: object) -> float:
    start = time.process_time()
    work()  # type: ignore[operator]
    return time.process_time() - start


CLAIM = claim(lines=6)
LINES = form_pages(CLAIM)[0].lines
CAPTIONS = cms1500_form._CAPTIONS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    register_fonts()
    ours(), floor()  # warm
    mine, bare = [], []
    for _ in range(runs):
        mine.append(timed(ours))
        bare.append(timed(floor))
    ours_ms, floor_ms = statistics.median(mine) * 1000, statistics.median(bare) * 1000
    print(f"CMS-1500, full mode, 6 lines: {ours_ms:7.2f} ms (median CPU of {runs})")
    print(f"bare reportlab, same strings: {floor_ms:7.2f} ms")
    print(f"ratio: {ours_ms / floor_ms:.2f}x   goal: under 40 ms")


if __name__ == "__main__":
    main()
