"""The fonts every KetaDesk PDF uses, and text made safe to print in them.

reportlab embeds TrueType-outline fonts only and never falls back to another font on its
own: a character the chosen font lacks prints as an empty box. KetaDesk ships two fonts in
``ketadesk/resources/fonts`` (package data, each beside its licence):

* **DejaVu Sans** (regular and bold) for Latin, Greek, Cyrillic and Vietnamese — the
  names a US clinic meets every day, such as Zoë Łukasiewicz or Nguyễn;
* **Droid Sans Fallback** for the CJK characters DejaVu lacks, such as 阮文英.

How a document uses this module:

1. :func:`register_fonts` once before building (idempotent and thread-safe);
2. :func:`styles` for the base paragraph styles, already set in those fonts;
3. every piece of user text goes into a ``Paragraph`` through :func:`paragraph_markup`,
   which escapes it for reportlab's markup and wraps each run of characters DejaVu cannot
   draw in ``<font name="DroidSansFallback">``, so a mixed name prints whole.

Right-to-left text (Arabic, Hebrew) has one home here too: :func:`visual_order`. reportlab
draws characters left to right in the order it is given them, so a Hebrew name printed
as stored reads backwards, and Arabic letters print in their isolated forms instead of
joined. :func:`visual_order` joins Arabic letters into their contextual forms
(``arabic-reshaper``) and puts each line in display order with the Unicode bidi algorithm
(``python-bidi``); DejaVu Sans has the Hebrew letters and the Arabic presentation forms.
:func:`paragraph_markup` applies it, and so must anything that draws user text straight
onto the canvas (the letterhead's footer does). Text without right-to-left characters is
returned as it is. A right-to-left line too long for its cell wraps in display order, so
its continuation reads first; names and addresses fit their cells.

Text drawn straight onto the canvas (page numbers, footers) should keep to characters
DejaVu has; :func:`covered` says which those are.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import as_file
from itertools import groupby
from xml.sax.saxutils import escape

from arabic_reshaper import reshape
from bidi.algorithm import get_display  # the implementation that mirrors brackets
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.fonts import addMapping
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from ketadesk.config import RESOURCES

FONT_DIR = RESOURCES / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
FALLBACK = "DroidSansFallback"
FONT_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    FALLBACK: "DroidSansFallbackFull.ttf",
}
LICENCE_FILES = ("LICENSE-DejaVu.txt", "LICENSE-DroidSansFallback.txt")

_lock = threading.Lock()
_KEPT_CONTROLS = frozenset("\n\t")
# Scripts written right to left: Hebrew, Arabic, Syriac, Thaana, N'Ko, Samaritan, Mandaic
# and their presentation forms, and the right-to-left blocks beyond the BMP.
_RIGHT_TO_LEFT = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\U00010800-\U00010fff\U0001e800-\U0001efff]"
)


def register_fonts() -> None:
    """Register the shipped fonts with reportlab; calling it again does nothing.

    ``<b>`` in a paragraph switches DejaVu Sans to its bold face; the fallback has one
    weight, so bold CJK text prints in the regular weight rather than as boxes.
    """
    with _lock:
        known = set(pdfmetrics.getRegisteredFontNames())
        for name, file_name in FONT_FILES.items():
            if name not in known:
                # reportlab wants a file name; as_file gives the installed file itself, or
                # a temporary copy when the package is imported from a zip.
                with as_file(FONT_DIR / file_name) as path:
                    pdfmetrics.registerFont(TTFont(name, str(path)))
        for bold in (0, 1):
            for italic in (0, 1):
                addMapping(REGULAR, bold, italic, BOLD if bold else REGULAR)
                addMapping(FALLBACK, bold, italic, FALLBACK)


@cache
def covered() -> frozenset[int]:
    """Code points both DejaVu faces can draw (the rest go to the fallback font)."""
    register_fonts()
    regular = pdfmetrics.getFont(REGULAR).face.charToGlyph
    bold = pdfmetrics.getFont(BOLD).face.charToGlyph
    return frozenset(regular.keys() & bold.keys())


def _needs_fallback(character: str) -> bool:
    return not character.isspace() and ord(character) not in covered()


def has_right_to_left(text: str) -> bool:
    """Whether ``text`` holds letters of a script written right to left."""
    return _RIGHT_TO_LEFT.search(text) is not None


def visual_order(text: str) -> str:
    """``text`` in the order its characters are drawn left to right, Arabic letters joined.

    Each line is reordered on its own, its direction taken from its first strong letter
    (a Hebrew name is a right-to-left line; "Haddad, إلياس" is a left-to-right line with an
    Arabic word in it). Text with no right-to-left letter comes back unchanged.
    """
    if not has_right_to_left(text):
        return text
    return "\n".join(get_display(reshape(line)) for line in text.split("\n"))


def paragraph_markup(text: str) -> str:
    """``text`` as reportlab paragraph markup that prints every character.

    The text is put in Unicode NFC form (so "e" plus combining accents prints as one
    "ễ"), stripped of control characters, put in display order when it holds
    right-to-left letters (:func:`visual_order`), and XML-escaped; line breaks become
    ``<br/>``; runs of characters missing from DejaVu Sans are wrapped in the fallback font.
    """
    normal = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    printable = visual_order(
        "".join(ch for ch in normal if ch in _KEPT_CONTROLS or unicodedata.category(ch) != "Cc")
    )
    parts: list[str] = []
    for missing, run in groupby(printable, key=_needs_fallback):
        chunk = escape("".join(run))
        parts.append(f'<font name="{FALLBACK}">{chunk}</font>' if missing else chunk)
    return "".join(parts).replace("\n", "<br/>")


@dataclass(frozen=True)
class Styles:
    """The base paragraph styles of KetaDesk's documents, in the shipped fonts.

    ``cell`` and its variants are for table cells; every style wraps long words rather
    than letting them run into the next column.
    """

    title: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    cell_right: ParagraphStyle
    cell_center: ParagraphStyle


def styles() -> Styles:
    """Fresh base styles (a caller may adjust its copies without touching anyone else's)."""
    register_fonts()
    body = ParagraphStyle(
        "body", fontName=REGULAR, fontSize=9.5, leading=12, splitLongWords=1, spaceAfter=2
    )
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5, spaceAfter=0)
    return Styles(
        title=ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=16, leading=20),
        heading=ParagraphStyle(
            "heading",
            parent=body,
            fontName=BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=8,
            spaceAfter=3,
        ),
        body=body,
        small=ParagraphStyle(
            "small", parent=body, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#555555")
        ),
        cell=cell,
        cell_bold=ParagraphStyle("cell_bold", parent=cell, fontName=BOLD),
        cell_right=ParagraphStyle("cell_right", parent=cell, alignment=TA_RIGHT),
        cell_center=ParagraphStyle("cell_center", parent=cell, alignment=TA_CENTER),
    )
