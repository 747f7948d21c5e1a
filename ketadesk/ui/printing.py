"""Printing a finished PDF from the window, with a preview first: one module for every document.

The documents layer hands the window a PDF as bytes (an invoice, a receipt, a statement, a
superbill, an estimate, a day sheet). This module puts those bytes on paper:

1. :func:`load_pdf` reads the bytes into a :class:`QPdfDocument` (QtPdf, from the PySide6
   add-ons); a PDF QtPdf cannot read is refused with a :class:`PrintError` in words.
2. :func:`paint_pdf` draws the chosen pages on a :class:`QPrinter`: each page is rendered by
   :meth:`QPdfDocument.render` to an image at the printer's resolution (capped at
   :data:`MAX_DPI`, which is plenty for text and keeps a page under ~35 MB of memory) and
   scaled into the printable area without changing its proportions, one printer page per
   PDF page. The page range the person chose in the print dialog is honoured.
3. :func:`print_pdf` asks with Qt's print dialog (:class:`QPrintDialog`) and then paints;
   :func:`preview_pdf` opens :class:`QPrintPreviewDialog`, which draws its pages with the same
   :func:`paint_pdf` and prints from its own tool bar. Nothing is printed when the person
   cancels.

The two dialogs are shown through :class:`PrintHooks`, so tests and the offscreen platform
pass their own and no dialog waits for a person. The document buttons
(:mod:`ketadesk.ui.billing.pdf`) offer each way — open in the PDF viewer, preview, print,
save — through one switch, :class:`Delivery`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize
from PySide6.QtGui import QImage, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QDialog, QWidget

from ketadesk.errors import KetaDeskError

MAX_DPI = 300  # rendering finer than this only costs memory: the documents are text and lines

AskPrinter = Callable[[QPrinter, "QWidget | None"], bool]  # set up the printer; False: cancelled
ShowPreview = Callable[[QPrintPreviewDialog], None]  # run the preview dialog


class PrintError(KetaDeskError):
    """The PDF could not be read for printing, or the printer refused to start."""


class Delivery(Enum):
    """What the person asked to do with a document."""

    OPEN = "open"
    PREVIEW = "preview"
    PRINT = "print"
    SAVE = "save"


def ask_with_dialog(printer: QPrinter, parent: QWidget | None) -> bool:
    """Qt's print dialog for ``printer``; True when the person pressed Print."""
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Print")
    return dialog.exec() == QDialog.DialogCode.Accepted


def run_preview(dialog: QPrintPreviewDialog) -> None:
    """Show the preview until the person closes it (printing from its tool bar if asked)."""
    dialog.exec()
    dialog.deleteLater()


@dataclass(frozen=True)
class PrintHooks:
    """How the print dialog and the preview are shown; tests pass their own."""

    ask_printer: AskPrinter = ask_with_dialog
    show_preview: ShowPreview = run_preview


DEFAULT_HOOKS = PrintHooks()


class LoadedPdf:
    """A :class:`QPdfDocument` together with the buffer it reads from (which must outlive it)."""

    def __init__(self, data: bytes) -> None:
        self._bytes = QByteArray(data)
        self._buffer = QBuffer(self._bytes)
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument()
        self.document.load(self._buffer)
        if self.document.status() != QPdfDocument.Status.Ready or self.document.pageCount() < 1:
            raise PrintError(
                f"The document could not be read for printing ({self.document.error().name})."
            )

    @property
    def page_count(self) -> int:
        return self.document.pageCount()


def load_pdf(data: bytes) -> LoadedPdf:
    """Read PDF ``data`` for printing; raises :class:`PrintError` when QtPdf cannot read it."""
    return LoadedPdf(data)


def new_printer(title: str) -> QPrinter:
    """A high-resolution printer whose job carries the document's name."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(title)
    printer.setFullPage(False)
    return printer


def _pages(printer: QPrinter, count: int) -> range:
    """The 0-based pages to print: the range chosen in the print dialog, else all."""
    first, last = printer.fromPage(), printer.toPage()
    if first <= 0 and last <= 0:
        return range(count)
    first = max(first, 1)
    last = min(last if last > 0 else count, count)
    return range(first - 1, last)


def paint_pdf(pdf: LoadedPdf, printer: QPrinter) -> int:
    """Draw ``pdf``'s pages on ``printer``, one page each; return how many were drawn.

    Raises :class:`PrintError` when the printer cannot start (no such printer, a file it
    may not write).
    """
    pages = _pages(printer, pdf.page_count)
    painter = QPainter()
    if not painter.begin(printer):
        raise PrintError("The printer did not start; check that it is connected and on.")
    dpi = min(printer.resolution(), MAX_DPI)
    drawn = 0
    try:
        for number, page in enumerate(pages):
            if number:
                printer.newPage()
            points = pdf.document.pagePointSize(page)  # 1/72 inch
            size = QSize(max(1, round(points.width() * dpi / 72)),
                         max(1, round(points.height() * dpi / 72)))
            image: QImage = pdf.document.render(page, size)
            area = QRectF(painter.viewport())
            scale = min(area.width() / size.width(), area.height() / size.height())
            target = QRectF(area.x(), area.y(), size.width() * scale, size.height() * scale)
            painter.drawImage(target, image)
            drawn += 1
    finally:
        painter.end()
    return drawn


def print_pdf(
    parent: QWidget | None, data: bytes, title: str, *, hooks: PrintHooks = DEFAULT_HOOKS
) -> int:
    """Ask for a printer (Qt's print dialog) and print ``data``; return the pages printed.

    0 when the person cancelled. Raises :class:`PrintError` for an unreadable PDF or a
    printer that did not start.
    """
    pdf = load_pdf(data)
    printer = new_printer(title)
    printer.setFromTo(1, pdf.page_count)
    if not hooks.ask_printer(printer, parent):
        return 0
    return paint_pdf(pdf, printer)


def preview_dialog(parent: QWidget | None, data: bytes, title: str) -> QPrintPreviewDialog:
    """The print preview of ``data``: its pages drawn by :func:`paint_pdf`, ready to print."""
    pdf = load_pdf(data)
    printer = new_printer(title)
    dialog = QPrintPreviewDialog(printer, parent)
    dialog.setWindowTitle(f"Print preview — {title}")
    dialog.resize(900, 700)
    dialog.setProperty("pageCount", pdf.page_count)
    # The dialog keeps the document (and the printer) alive while it is open.
    dialog.loaded_pdf = pdf  # type: ignore[attr-defined]
    dialog.preview_printer = printer  # type: ignore[attr-defined]
    dialog.paintRequested.connect(lambda target: paint_pdf(pdf, target))
    return dialog


def preview_pdf(
    parent: QWidget | None, data: bytes, title: str, *, hooks: PrintHooks = DEFAULT_HOOKS
) -> QPrintPreviewDialog:
    """Show the print preview of ``data`` (printing from it when the person asks)."""
    dialog = preview_dialog(parent, data, title)
    hooks.show_preview(dialog)
    return dialog
