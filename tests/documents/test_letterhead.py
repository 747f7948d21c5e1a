"""What every billing PDF shares: the logo (the clinic's own or the mark), file
names, the footer, and the guard that keeps table columns within the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from documents.view_builders import (
    CJK,
    estimate,
    images,
    invoice,
    pages,
    receipt,
    runs,
    statement,
    superbill,
    words,
)
from PIL import Image as PILImage

from ketadesk.config import data_dir
from ketadesk.documents import letterhead
from ketadesk.documents.invoice import render_invoice
from ketadesk.documents.letterhead import (
    Column,
    document_filename,
    fit,
    grid,
    look,
)


def test_document_file_names_are_safe_on_any_disk() -> None:
    assert document_filename("invoice", invoice()) == "invoice-NYC-2026-00042.pdf"
    assert document_filename("receipt", receipt()) == "receipt-R-100.pdf"
    assert document_filename("estimate", estimate()) == "estimate-GFE-2026-00017.pdf"
    assert document_filename("statement", statement()) == "statement-NYC000123-2026-12-31.pdf"
    odd = invoice(number="NYC/2026 00042:é")
    assert document_filename("invoice", odd) == "invoice-NYC-2026-00042.pdf"
    assert document_filename("superbill", superbill(number="///")) == "superbill-document.pdf"


def write_png(path: Path, size: tuple[int, int] = (300, 100)) -> None:
    PILImage.new("RGB", size, (31, 95, 102)).save(path)


def test_without_a_clinic_logo_the_vector_mark_is_drawn() -> None:
    assert not (data_dir() / "logo.png").exists()
    pdf = render_invoice(invoice(), deterministic=True)
    assert images(pdf) == 0  # the mark is vector paths, not a picture


def test_a_clinic_logo_in_the_data_directory_is_used_instead() -> None:
    write_png(data_dir() / "logo.png")
    pdf = render_invoice(invoice(), deterministic=True)
    assert images(pdf) == 1
    assert render_invoice(invoice(), deterministic=True) == pdf
    assert "Brightwater Ketamine Clinic" in words(pages(pdf)[0])


def test_a_replaced_logo_file_is_read_again() -> None:
    logo = data_dir() / "logo.png"
    write_png(logo, (300, 100))
    first = render_invoice(invoice(), deterministic=True)
    write_png(logo, (100, 100))
    assert render_invoice(invoice(), deterministic=True) != first


def test_an_unreadable_logo_falls_back_to_the_mark() -> None:
    (data_dir() / "logo.png").write_bytes(b"not a picture")
    pdf = render_invoice(invoice(), deterministic=True)
    assert images(pdf) == 0
    assert pages(pdf)[0].startswith("Brightwater Ketamine Clinic")


def test_the_footer_prints_cjk_in_the_fallback_font_on_one_line() -> None:
    pdf = render_invoice(invoice(name=CJK), deterministic=True)
    (text,) = pages(pdf)
    assert text.rstrip().splitlines()[-1] == f"Invoice NYC-2026-00042 · {CJK} Page 1 of 1"
    footer = [r for r in runs(pdf) if r.y < letterhead.MARGIN]
    assert {r.font for r in footer if CJK in r.text} == {"DroidSansFallback"}


def test_fit_shortens_text_to_the_room_with_an_ellipsis() -> None:
    assert fit("Short", 7.5, 200) == "Short"
    cut = fit("A very long footer " * 10, 7.5, 100)
    assert cut.endswith("…") and len(cut) < 40
    assert fit(CJK * 50, 7.5, 60).endswith("…")


def test_a_grid_refuses_columns_that_do_not_fill_the_page() -> None:
    with pytest.raises(ValueError, match="points wide"):
        grid([Column("Date", 100)], [["12/07/2026"]], look())
