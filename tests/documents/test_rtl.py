"""Right-to-left names (Hebrew, Arabic) print the right way round, Arabic letters joined.

reportlab draws characters left to right in the order it gets them, so
:func:`ketadesk.documents.fonts.visual_order` hands it each line in display order. The PDFs
are read back with pypdf, which reads a right-to-left run back into logical order the way
a reader's copy and paste does: a correctly printed "שרה כהן" extracts as "שרה כהן", a
name printed as stored extracts reversed. Arabic must come out in its joined presentation
forms (which NFKC folds back to the letters), every glyph drawn in DejaVu Sans, which has
them — nothing in the fallback font, nothing as an empty box.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import pytest
from documents.test_day_sheet import CHAIRS, entry, render, window
from documents.test_day_sheet import pages as day_pages
from documents.view_builders import charge_line, invoice, pages, runs

from ketadesk.documents.fonts import covered, has_right_to_left, paragraph_markup, visual_order
from ketadesk.documents.invoice import render_invoice

HEBREW = "שרה כהן"
ARABIC = "إلياس حداد"
MIXED = "Haddad, إلياس"
RTL_NAMES = [HEBREW, ARABIC, MIXED]


def folded(text: str) -> str:
    """What a person reads: presentation forms folded back to letters."""
    return unicodedata.normalize("NFKC", text)


def test_left_to_right_text_is_left_alone() -> None:
    for text in ("Zoë Łukasiewicz", "阮文英", "Nguyễn Thị Minh Khai", ""):
        assert visual_order(text) is text
        assert not has_right_to_left(text)


def test_hebrew_is_put_in_display_order() -> None:
    assert visual_order(HEBREW) == "ןהכ הרש"
    assert visual_order(f"{HEBREW}\nZoë") == "ןהכ הרש\nZoë"  # each line on its own


def test_arabic_letters_are_joined_and_ordered_for_display() -> None:
    shown = visual_order(ARABIC)
    assert shown != ARABIC[::-1]  # joined forms, not the isolated letters reversed
    assert all(0xFE70 <= ord(ch) <= 0xFEFF for ch in shown if not ch.isspace())
    assert folded(shown)[::-1] == ARABIC


def test_a_left_to_right_line_keeps_its_latin_first() -> None:
    shown = visual_order(MIXED)
    assert shown.startswith("Haddad, ")
    assert folded(shown[len("Haddad, ") :])[::-1] == "إلياس"


def test_brackets_face_their_words_and_the_markup_escapes_after_reordering() -> None:
    assert visual_order("כהן (שרה)") == "(הרש) ןהכ"
    assert paragraph_markup("<כהן>") == "&lt;ןהכ&gt;"


def rtl_runs(pdf: bytes) -> list[str]:
    return [r.font for r in runs(pdf) if has_right_to_left(r.text)]


@pytest.mark.parametrize("name", RTL_NAMES)
def test_an_invoice_prints_the_name_readably_in_the_party_block_and_the_footer(
    name: str,
) -> None:
    pdf = render_invoice(invoice(name=name), deterministic=True)
    (text,) = pages(pdf)
    assert folded(text).count(name) == 2  # "Bill to" and the footer on the canvas
    fonts = rtl_runs(pdf)
    assert fonts and set(fonts) <= {"DejaVuSans", "DejaVuSans-Bold"}
    drawn = "".join(ch for ch in text if has_right_to_left(ch))
    assert all(ord(ch) in covered() for ch in drawn)  # a glyph for each, no empty boxes


def test_a_short_description_in_a_table_cell_is_reordered_too() -> None:
    """Short cells skip paragraph layout for speed; right-to-left text may not."""
    view = invoice(lines=1)
    line = replace(charge_line(description="טיפול עירוי"), paid=view.lines[0].paid)
    (text,) = pages(render_invoice(replace(view, lines=(line,)), deterministic=True))
    assert "טיפול עירוי" in text


def test_the_day_sheet_prints_right_to_left_patients_and_drivers_readably() -> None:
    w = window(
        entry(1, CHAIRS[0], "09:00", HEBREW, driver_name=ARABIC),
        entry(2, CHAIRS[1], "09:00", MIXED),
    )
    (text,) = day_pages(render(w))
    assert folded(text).count(HEBREW) == 1
    assert folded(text).count(ARABIC) == 1
    assert folded(text).count(MIXED) == 1
