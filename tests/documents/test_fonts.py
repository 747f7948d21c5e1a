"""The shipped fonts: registered once, licensed, and every name printed in a font that has it.

The PDFs are read back with pypdf, which reports the font each run of text was drawn in,
so the tests see what a printer would: CJK characters in Droid Sans Fallback, everything
else in DejaVu Sans.
"""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Paragraph, SimpleDocTemplate

from ketadesk.documents import fonts
from ketadesk.documents.fonts import FALLBACK, paragraph_markup, styles

MIXED = ["Zoë Łukasiewicz", "阮文英", "Nguyễn Thị Minh Khai", "Σοφία Παπαδοπούλου", "Пётр Иванов"]


def test_register_fonts_is_idempotent_and_uses_the_shipped_files() -> None:
    fonts.register_fonts()
    fonts.register_fonts()
    registered = pdfmetrics.getRegisteredFontNames()
    for name, file_name in fonts.FONT_FILES.items():
        assert registered.count(name) == 1
        assert pdfmetrics.getFont(name).face.filename == str(fonts.FONT_DIR / file_name)


def test_every_font_ships_beside_its_licence() -> None:
    for file_name in fonts.FONT_FILES.values():
        assert (fonts.FONT_DIR / file_name).read_bytes()[:4] == b"\x00\x01\x00\x00"  # TrueType
    dejavu, droid = (fonts.FONT_DIR / name for name in fonts.LICENCE_FILES)
    assert "Bitstream Vera" in dejavu.read_text() and "DejaVu changes are in public domain" in (
        dejavu.read_text()
    )
    assert "Apache License" in droid.read_text() and "Google" in droid.read_text()


def test_dejavu_covers_western_names_but_not_cjk() -> None:
    covered = fonts.covered()
    assert all(ord(ch) in covered for ch in "Zoë Łukasiewicz Nguyễn Σοφία Пётр ✓–·")
    assert not any(ord(ch) in covered for ch in "阮文英")


def test_markup_leaves_names_dejavu_can_print_alone() -> None:
    assert paragraph_markup("Zoë Łukasiewicz") == "Zoë Łukasiewicz"
    assert paragraph_markup("Nguyễn Thị Minh Khai") == "Nguyễn Thị Minh Khai"


def test_markup_wraps_only_the_cjk_runs_in_the_fallback_font() -> None:
    assert paragraph_markup("阮文英") == f'<font name="{FALLBACK}">阮文英</font>'
    assert paragraph_markup("Trần 阮文英 (Anh)") == (
        f'Trần <font name="{FALLBACK}">阮文英</font> (Anh)'
    )
    assert paragraph_markup("李 小龙") == (
        f'<font name="{FALLBACK}">李</font> <font name="{FALLBACK}">小龙</font>'
    )


def test_markup_escapes_text_for_reportlab() -> None:
    assert paragraph_markup("Smith & Sons <b>") == "Smith &amp; Sons &lt;b&gt;"


def test_markup_composes_accents_and_keeps_line_breaks() -> None:
    decomposed = "Nguye\u0302\u0303n"  # e + circumflex + tilde, as some keyboards type it
    assert paragraph_markup(decomposed) == "Nguyễn"
    assert paragraph_markup("1 Main St\r\nApt 2\x07") == "1 Main St<br/>Apt 2"


def test_styles_are_in_the_shipped_fonts_and_fresh_each_time() -> None:
    first, second = styles(), styles()
    assert first.body.fontName == fonts.REGULAR and first.title.fontName == fonts.BOLD
    assert first.cell_bold.fontName == fonts.BOLD
    first.cell.fontSize = 30
    assert second.cell.fontSize == 8.5


def drawn_fonts(pdf: bytes) -> dict[str, set[str]]:
    """Each stripped run of text in ``pdf`` and the base fonts it was drawn in."""
    found: dict[str, set[str]] = {}

    def visit(text: str, _cm: Any, _tm: Any, font: Any, _size: Any) -> None:
        if text.strip() and font is not None:
            found.setdefault(text.strip(), set()).add(str(font["/BaseFont"]).split("+")[-1])

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return found


def render(texts: list[str], *, bold: bool = False) -> bytes:
    look = styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=LETTER, invariant=1)
    style = look.cell_bold if bold else look.body
    document.build([Paragraph(paragraph_markup(text), style) for text in texts])
    return buffer.getvalue()


def test_mixed_names_print_with_every_character_in_a_font_that_has_it() -> None:
    pdf = render([*MIXED, "Trần 阮文英"])
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for name in MIXED:
        assert name in text
    drawn = drawn_fonts(pdf)
    assert drawn["阮文英"] == {"DroidSansFallback"}
    for name in ("Zoë Łukasiewicz", "Nguyễn Thị Minh Khai", "Σοφία Παπαδοπούλου"):
        assert drawn[name] == {"DejaVuSans"}
    assert drawn["Trần"] == {"DejaVuSans"}


def test_bold_text_uses_dejavu_bold_and_keeps_cjk_in_the_fallback() -> None:
    drawn = drawn_fonts(render(["Zoë 阮文英"], bold=True))
    assert drawn["Zoë"] == {"DejaVuSans-Bold"}
    assert drawn["阮文英"] == {"DroidSansFallback"}
