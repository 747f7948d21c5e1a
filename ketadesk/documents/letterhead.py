"""What every billing PDF shares: the clinic's letterhead, tables and page footer.

The five billing documents (invoice, receipt, statement, Good Faith Estimate, superbill)
are built the same way, so a patient sees one clinic on every page:

1. :func:`letterhead` puts the logo, the clinic's name, address and phone on the left and
   the document's title, number and dates on the right. The logo is the clinic's own
   ``logo.png`` when one sits in the data directory (:func:`ketadesk.config.data_dir`),
   else KetaDesk's vector mark (:func:`vector_logo`);
2. :func:`party_block`, :func:`grid` and :func:`totals` lay out who the document is for,
   its lines (a table whose heading row repeats on every page it runs onto, every text
   cell a wrapping paragraph) and the sums beneath them;
3. :func:`build_pdf` builds the story on US Letter with a footer on every page: the
   document and patient on the left, "Page n of N" on the right. With
   ``deterministic=True`` reportlab's invariant mode makes the same story give the same
   bytes, which the tests rely on.

Money, dates, phones and tax ids are written by :mod:`ketadesk.documents.format`, the one
home of formats for documents and the command line. :func:`document_filename` names a
saved PDF.

Every piece of user text goes through :func:`ketadesk.documents.fonts.paragraph_markup`
(names like Zoë Łukasiewicz or 阮文英); the footer, drawn straight on the canvas, switches
to the fallback font for the characters DejaVu lacks in the same way.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from pathlib import Path
from typing import Any, Literal, TypeAlias

from reportlab.graphics.shapes import Circle, Drawing
from reportlab.graphics.shapes import Path as ShapePath
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ketadesk.billing.views import (
    EstimateView,
    InvoiceView,
    PatientInfo,
    PracticeInfo,
    ReceiptView,
    StatementView,
    SuperbillView,
)
from ketadesk.config import data_dir
from ketadesk.documents.fonts import (
    BOLD,
    FALLBACK,
    REGULAR,
    Styles,
    covered,
    has_right_to_left,
    paragraph_markup,
    styles,
    visual_order,
)
from ketadesk.documents.format import date_text, phone_text, tin_text

MARGIN = 0.5 * inch
FRAME_PADDING = 6  # platypus frames keep 6 points clear inside the margins
WIDTH = LETTER[0] - 2 * (MARGIN + FRAME_PADDING)  # 528 points of text across the page
LOGO_SIZE = 44
CELL_SIZE, CELL_LEADING, CELL_PADDING = 8.5, 10.5, 3  # as fonts.styles().cell
LOGO_FILE = "logo.png"  # a clinic's own logo, dropped into the data directory

INK = colors.HexColor("#1f5f66")  # the clinic's deep teal: logo, titles, rules
MIST = colors.HexColor("#8cc5c9")
SHADE = colors.HexColor("#e8f1f2")
RULE = colors.HexColor("#9a9a9a")
FADED = colors.HexColor("#666666")
DARK = colors.HexColor("#333333")

DocumentKind = Literal["invoice", "receipt", "statement", "estimate", "superbill"]
AnyView = InvoiceView | ReceiptView | StatementView | EstimateView | SuperbillView


# ---------------------------------------------------------------------------------------
# File names
# ---------------------------------------------------------------------------------------


def document_filename(kind: DocumentKind, view: AnyView) -> str:
    """The file name a saved PDF gets: ``invoice-NYC-2026-00042.pdf``.

    Statements have no number, so theirs is the MRN and the statement date. Anything but
    letters, digits, dots and hyphens becomes a hyphen, so the name is safe on any disk.
    """
    if isinstance(view, StatementView):
        stem = f"{view.patient.mrn}-{view.statement_date.isoformat()}"
    else:
        stem = view.number
    safe = re.sub(r"[^A-Za-z0-9.]+", "-", stem).strip("-.") or "document"
    return f"{kind}-{safe}.pdf"


# ---------------------------------------------------------------------------------------
# The logo
# ---------------------------------------------------------------------------------------


def vector_logo(size: float = LOGO_SIZE) -> Drawing:
    """KetaDesk's mark: a white drop in a deep-teal disc, with a quiet ring around it.

    Drawn with reportlab graphics, so it prints sharp at any size and costs a few bytes.
    """
    drawing = Drawing(size, size)
    scale = size / 40  # drawn on a 40-point grid
    drawing.add(Circle(20, 20, 19.5, fillColor=INK, strokeColor=None))
    drawing.add(Circle(20, 20, 16.5, fillColor=None, strokeColor=MIST, strokeWidth=0.8))
    drop = ShapePath(fillColor=colors.white, strokeColor=None)
    drop.moveTo(20, 32)
    drop.curveTo(20, 32, 11.5, 22.5, 11.5, 16.5)
    drop.curveTo(11.5, 11.5, 15.3, 8, 20, 8)
    drop.curveTo(24.7, 8, 28.5, 11.5, 28.5, 16.5)
    drop.curveTo(28.5, 22.5, 20, 32, 20, 32)
    drop.closePath()
    drawing.add(drop)
    shine = ShapePath(fillColor=None, strokeColor=MIST, strokeWidth=1.4, strokeLineCap=1)
    shine.moveTo(15.2, 15.5)
    shine.curveTo(15.2, 13, 16.8, 11.4, 19, 11.2)
    drawing.add(shine)
    drawing.scale(scale, scale)
    return drawing


_logo_lock = threading.Lock()
_logo_cache: dict[tuple[str, int, int], tuple[bytes, float, float]] = {}


def clinic_logo_path() -> Path:
    """Where a clinic puts its own logo: ``logo.png`` in the data directory."""
    return data_dir() / LOGO_FILE


def logo(size: float = LOGO_SIZE) -> Flowable:
    """The clinic's own ``logo.png`` scaled to fit ``size`` points high, else the mark.

    A logo file that cannot be read falls back to the mark: a bad picture must never stop
    a bill from printing.
    """
    path = clinic_logo_path()
    try:
        stat = path.stat()
    except OSError:
        return vector_logo(size)
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _logo_lock:
        cached = _logo_cache.get(key)
    if cached is None:
        try:
            data = path.read_bytes()
            width, height = ImageReader(io.BytesIO(data)).getSize()
        except Exception:  # any unreadable picture; see the docstring
            return vector_logo(size)
        cached = (data, float(width), float(height))
        with _logo_lock:
            _logo_cache.clear()
            _logo_cache[key] = cached
    data, width, height = cached
    scale = min(size / height, 3 * size / width)  # at most three logos wide
    return Image(io.BytesIO(data), width=width * scale, height=height * scale)


# ---------------------------------------------------------------------------------------
# Building blocks of the story
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """The base styles plus the few a billing document adds."""

    base: Styles
    clinic: ParagraphStyle
    doc_title: ParagraphStyle
    fact: ParagraphStyle
    label: ParagraphStyle
    fine: ParagraphStyle
    total_label: ParagraphStyle
    total_value: ParagraphStyle


def look() -> Look:
    base = styles()
    return Look(
        base=base,
        clinic=ParagraphStyle(
            "clinic", parent=base.title, fontSize=14, leading=17, textColor=INK, spaceAfter=1
        ),
        doc_title=ParagraphStyle(
            "doc_title", parent=base.title, alignment=TA_RIGHT, textColor=INK, spaceAfter=2
        ),
        fact=ParagraphStyle("fact", parent=base.cell, alignment=TA_RIGHT, leading=11),
        label=ParagraphStyle(
            "label", parent=base.small, fontName=BOLD, textColor=INK, spaceAfter=1
        ),
        fine=ParagraphStyle(
            "fine", parent=base.body, fontSize=8, leading=10, spaceAfter=4, textColor=DARK
        ),
        total_label=ParagraphStyle("total_label", parent=base.cell, alignment=TA_RIGHT),
        total_value=ParagraphStyle(
            "total_value", parent=base.cell, alignment=TA_RIGHT, fontName=BOLD
        ),
    )


def text(value: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of user text, escaped and set in fonts that have every character."""
    return Paragraph(paragraph_markup(value), style)


def practice_lines(practice: PracticeInfo, *, identifiers: bool = False) -> list[str]:
    """The practice's address and phone, and with ``identifiers`` its NPI and TIN."""
    lines = [line for line in practice.address_lines if line.strip()]
    if practice.phone:
        lines.append(f"Phone {phone_text(practice.phone)}")
    if identifiers:
        lines.append(f"NPI {practice.npi} · TIN {tin_text(practice.tin)}")
    return lines


def letterhead(
    practice: PracticeInfo,
    title: str,
    facts: Sequence[tuple[str, str]],
    style: Look,
    *,
    identifiers: bool = False,
) -> list[Flowable]:
    """Logo and clinic on the left; the title and its facts ("Invoice no." …) on the right."""
    clinic = [text(practice.name, style.clinic)]
    address = practice_lines(practice, identifiers=identifiers)
    clinic += [text(line, style.base.cell) for line in address]
    right: list[Flowable] = [text(title, style.doc_title)]
    right += [
        Paragraph(f"{paragraph_markup(label)} <b>{paragraph_markup(value)}</b>", style.fact)
        for label, value in facts
        if value
    ]
    mark = logo()
    mark_width = max(float(mark.wrap(WIDTH, LOGO_SIZE)[0]), LOGO_SIZE) + 8
    table = Table(
        [[mark, clinic, right]],
        colWidths=[mark_width, (WIDTH - mark_width) * 0.5, (WIDTH - mark_width) * 0.5],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (1, 0), (1, 0), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, INK),
            ]
        )
    )
    return [table, Spacer(1, 8)]


def patient_lines(patient: PatientInfo, *, member: bool = False) -> list[str]:
    """Name is printed apart (in bold); these are the lines beneath it."""
    lines = list(patient.address_lines)
    lines.append(f"Date of birth {date_text(patient.date_of_birth)} · MRN {patient.mrn}")
    if member and patient.member_id:
        insurer = f" ({patient.payer_name})" if patient.payer_name else ""
        lines.append(f"Member ID {patient.member_id}{insurer}")
    return lines


def party_block(heading: str, name: str, lines: Sequence[str], style: Look) -> list[Flowable]:
    """A labelled block: "BILL TO", the name in bold, then its lines."""
    block: list[Flowable] = [
        Paragraph(paragraph_markup(heading.upper()), style.label),
        text(name, style.base.cell_bold),
    ]
    block += [text(line, style.base.cell) for line in lines]
    return block


def side_by_side(left: list[Flowable], right: list[Flowable], split: float = 0.5) -> Table:
    """Two blocks in columns (patient on the left, provider or summary on the right)."""
    table = Table([[left, right]], colWidths=[WIDTH * split, WIDTH * (1 - split)], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, 0), 10),
                ("RIGHTPADDING", (1, 0), (1, 0), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def heading(value: str, style: Look) -> Paragraph:
    return text(value, style.base.heading)


Cell: TypeAlias = "str | Flowable"


@dataclass(frozen=True)
class Column:
    """A column of a :func:`grid`: its heading, width in points, and alignment."""

    heading: str
    width: float
    right: bool = False


def grid(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    style: Look,
    *,
    banners: Sequence[int] = (),
    strong: Sequence[int] = (),
) -> Table:
    """A table of lines: shaded headings that repeat on each page, wrapping text cells.

    ``rows`` hold plain strings (made into paragraphs here, right-aligned where the column
    says so) or ready flowables. Row numbers in ``banners`` (counted from the first row
    under the headings) are one cell spanning the table, such as a visit's provider;
    rows in ``strong`` are printed in bold (a total).
    """
    total = sum(c.width for c in columns)
    if abs(total - WIDTH) > 0.5:
        raise ValueError(f"the columns are {total} points wide, not {WIDTH}")
    plain = [_aligned(style.base.cell, c.right) for c in columns]
    bold = [_aligned(style.base.cell_bold, c.right) for c in columns]
    head: list[Cell] = [
        c.heading if _fits_plain(c.heading, BOLD, c.width) else text(c.heading, bold[n])
        for n, c in enumerate(columns)
    ]
    body: list[list[Cell]] = []
    banner_rows = set(banners)
    strong_rows = set(strong)
    for number, row in enumerate(rows):
        if number in banner_rows:
            body.append([_cell(row[0], style.base.cell_bold)] + [""] * (len(columns) - 1))
            continue
        strong_row = number in strong_rows
        looks = bold if strong_row else plain
        font = BOLD if strong_row else REGULAR
        body.append(
            [
                value if _fits_plain(value, font, columns[n].width) else _cell(value, looks[n])
                for n, value in enumerate(row)
            ]
        )
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), REGULAR, CELL_SIZE, CELL_LEADING),
        ("FONT", (0, 0), (-1, 0), BOLD, CELL_SIZE, CELL_LEADING),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("BOTTOMPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
    ]
    commands += [("ALIGN", (n, 0), (n, -1), "RIGHT") for n, c in enumerate(columns) if c.right]
    commands += [
        ("FONT", (0, n + 1), (-1, n + 1), BOLD, CELL_SIZE, CELL_LEADING) for n in strong_rows
    ]
    for number in banner_rows:
        commands += [
            ("SPAN", (0, number + 1), (-1, number + 1)),
            ("BACKGROUND", (0, number + 1), (-1, number + 1), colors.HexColor("#f5f8f8")),
        ]
    table = Table([head, *body], colWidths=[c.width for c in columns], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(commands))
    return table


def _aligned(style: ParagraphStyle, right: bool) -> ParagraphStyle:
    if not right:
        return style
    clone = style.clone(f"{style.name}_right")
    clone.alignment = TA_RIGHT
    return clone


def _fits_plain(value: Cell, font: str, width: float) -> bool:
    """Whether a cell can be a plain string: one line that fits, every character in DejaVu.

    Plain strings cost a fraction of a paragraph to lay out, which is what keeps a
    superbill of many lines fast; anything longer or richer wraps as a paragraph.
    """
    if not isinstance(value, str) or "\n" in value or len(value) > 40:
        return False
    if has_right_to_left(value):  # it must be put in display order first
        return False
    have = covered()
    if not all(ord(ch) in have for ch in value):
        return False
    return bool(stringWidth(value, font, CELL_SIZE) <= width - 2 * CELL_PADDING)


def _cell(value: Cell, style: ParagraphStyle) -> Flowable:
    return text(value, style) if isinstance(value, str) else value


def totals(rows: Sequence[tuple[str, str]], style: Look, *, width: float = 230) -> Table:
    """Label and amount pairs set flush right under a table; the last row in bold."""
    cells = [
        [
            text(label, style.total_value if n == len(rows) - 1 else style.total_label),
            text(value, style.total_value if n == len(rows) - 1 else style.total_label),
        ]
        for n, (label, value) in enumerate(rows)
    ]
    table = Table(cells, colWidths=[width - 80, 80], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, INK),
            ]
        )
    )
    return table


def notice_box(
    flowables: list[Flowable], *, width: float = WIDTH, tint: colors.Color = SHADE
) -> Table:
    """Text in a tinted box, for what the reader must not miss (amount due, rights)."""
    table = Table([[flowables]], colWidths=[width], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), tint),
                ("BOX", (0, 0), (-1, -1), 0.6, INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


# ---------------------------------------------------------------------------------------
# The document and its numbered footer
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentMeta:
    """What the PDF says about itself: its title and the footer's left-hand text."""

    title: str  # "Invoice NYC-2026-00042"
    subject: str
    author: str  # the clinic
    footer: str  # "Invoice NYC-2026-00042 · Zoë Łukasiewicz"


def build_pdf(story: list[Flowable], meta: DocumentMeta, *, deterministic: bool = False) -> bytes:
    """Build ``story`` on US Letter with the numbered footer; return the PDF bytes."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 14,
        title=meta.title,
        author=meta.author,
        creator="KetaDesk",
        subject=meta.subject,
        invariant=1 if deterministic else 0,
        initialFontName=REGULAR,
    )
    document.build(story, canvasmaker=partial(NumberedCanvas, footer=meta.footer))
    return buffer.getvalue()


def draw_runs(canvas: Canvas, x: float, y: float, value: str, size: float) -> None:
    """Draw ``value`` at (x, y) in DejaVu, switching to the fallback font for characters
    DejaVu lacks (a CJK name in a footer), and in display order when it holds
    right-to-left letters. One text object holds every run, so a PDF reader extracts the
    line whole."""
    have = covered()
    line = canvas.beginText(x, y)
    shown = visual_order(value)
    for missing, run in groupby(shown, key=lambda ch: not ch.isspace() and ord(ch) not in have):
        line.setFont(FALLBACK if missing else REGULAR, size)
        line.textOut("".join(run))
    canvas.drawText(line)


def runs_width(value: str, size: float) -> float:
    have = covered()
    return sum(
        float(stringWidth("".join(run), FALLBACK if missing else REGULAR, size))
        for missing, run in groupby(value, key=lambda ch: not ch.isspace() and ord(ch) not in have)
    )


def fit(value: str, size: float, room: float) -> str:
    """``value`` cut with "…" so that it fits ``room`` points (a long name in a footer)."""
    if runs_width(value, size) <= room:
        return value
    low, high = 0, len(value)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if runs_width(value[:middle] + "…", size) <= room:
            low = middle
        else:
            high = middle - 1
    return value[:low].rstrip() + "…"


class NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no types
    """A canvas that holds its pages until the end, to print "Page n of N" on each."""

    FOOTER_SIZE = 7.5

    def __init__(self, *args: Any, footer: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        width, _height = self._pagesize
        size = self.FOOTER_SIZE
        left, right = MARGIN + FRAME_PADDING, width - MARGIN - FRAME_PADDING
        page = f"Page {number} of {total}"
        room = right - left - stringWidth(page, REGULAR, size) - 18
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.4)
        self.line(left, MARGIN + 6, right, MARGIN + 6)
        self.setFillColor(FADED)
        draw_runs(self, left, MARGIN - 4, fit(self._footer, size, room), size)
        self.setFont(REGULAR, size)
        self.drawRightString(right, MARGIN - 4, page)
        self.restoreState()
