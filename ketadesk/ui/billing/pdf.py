"""A finished PDF, opened in the system's viewer, previewed, printed or saved.

The documents layer hands the window a PDF as bytes. :func:`show_pdf` writes them to a
private temporary folder (one per PDF, readable by this user only, since a bill names a
patient) and asks the desktop to open the file with :class:`QDesktopServices`. When no
viewer takes it, the person is offered "Save as…" instead. :func:`save_pdf` asks for a file
name with the platform's save dialog and writes there.

Both the opener and the question for a file name are parameters, so tests (and the
offscreen platform, where there is no desktop to open anything) pass their own and nothing
is launched. Printing and the print preview live in :mod:`ketadesk.ui.printing`;
:func:`deliver` is the one switch from a :class:`~ketadesk.ui.printing.Delivery` (open,
preview, print, save) to the function that does it, so every document action behaves alike.

:class:`PdfButton` is the "PDF" button with its choices "Open in PDF viewer", "Print
preview…", "Print…" and "Save as…"; its :meth:`PdfButton.print_button` is the "Print…"
button placed beside it. Both ask their owner for the bytes only when one is chosen.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QPushButton, QToolButton, QWidget

from ketadesk.errors import FileNotWritten, KetaDeskError
from ketadesk.files import write_private
from ketadesk.ui.forms import show_error
from ketadesk.ui.printing import DEFAULT_HOOKS, Delivery, PrintHooks, preview_pdf, print_pdf
from ketadesk.ui.style import ACCENT, INK, LINE, SURFACE

# The window's style sheet dresses push buttons only; this gives the tool button their look.
BUTTON_STYLE = f"""
QToolButton {{
    background: {SURFACE}; color: {INK}; border: 1px solid {LINE}; border-radius: 5px;
    padding: 6px 26px 6px 14px;
}}
QToolButton:hover {{ border-color: {ACCENT}; }}
QToolButton:disabled {{ color: #a0aab4; border-color: #e3e7ec; }}
QToolButton::menu-button {{ border: none; border-left: 1px solid {LINE}; width: 18px; }}
QToolButton::menu-arrow {{
    image: url(:/qt-project.org/styles/commonstyle/images/arrow-down-16.png);
    width: 9px; height: 9px;
}}
"""

Opener = Callable[[QUrl], bool]
ChoosePath = Callable[[QWidget | None, str], str]  # parent, suggested name -> path or ""
Build = Callable[[], tuple[bytes, str]]  # -> (the PDF, the suggested file name)


def system_opener(url: QUrl) -> bool:
    """Open ``url`` in the desktop's viewer; on the offscreen platform, open nothing."""
    if QGuiApplication.platformName() == "offscreen":
        return True  # nobody is looking; the file is written and that is all
    return QDesktopServices.openUrl(url)


def ask_save_path(parent: QWidget | None, suggested_name: str) -> str:
    """The platform's "Save as" dialog, starting in the home folder; "" when cancelled."""
    start = str(Path.home() / suggested_name)
    path, _filter = QFileDialog.getSaveFileName(parent, "Save PDF as", start, "PDF (*.pdf)")
    return path


def safe_name(suggested_name: str) -> str:
    """A file name with no folder parts or characters a file system refuses."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "-", suggested_name).strip(" .-") or "document"
    return name if name.lower().endswith(".pdf") else f"{name}.pdf"


def write_temporary(data: bytes, suggested_name: str) -> Path:
    """Write ``data`` to a new private folder under the system's temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="ketadesk-pdf-"))
    return write_private(folder / safe_name(suggested_name), data)


def show_pdf(
    parent: QWidget | None,
    data: bytes,
    suggested_name: str,
    *,
    opener: Opener | None = None,
    choose: ChoosePath | None = None,
) -> Path | None:
    """Open the PDF ``data`` in the system viewer; return the file written.

    When the viewer does not open it, offer to save it instead (and return where it was
    saved, or ``None`` when the person declined).
    """
    path = write_temporary(data, suggested_name)
    if (opener or system_opener)(QUrl.fromLocalFile(str(path))):
        return path
    answer = QMessageBox.question(
        parent,
        "No PDF viewer",
        f"No program opened {path.name}. Save it somewhere instead?",
    )
    if answer != QMessageBox.StandardButton.Yes:
        return None
    return save_pdf(parent, data, suggested_name, choose=choose)


def save_pdf(
    parent: QWidget | None, data: bytes, suggested_name: str, *, choose: ChoosePath | None = None
) -> Path | None:
    """Ask where to save the PDF and write it there; ``None`` when the person cancelled."""
    chosen = (choose or ask_save_path)(parent, safe_name(suggested_name))
    if not chosen:
        return None
    path = Path(chosen)
    if path.suffix.lower() != ".pdf":
        path = path.with_name(path.name + ".pdf")
    try:
        return write_private(path, data)
    except FileNotWritten as error:
        QMessageBox.warning(parent, "Not saved", f"The PDF was not saved: {error}.")
        return None


def deliver(
    parent: QWidget | None,
    how: Delivery,
    data: bytes,
    suggested_name: str,
    *,
    opener: Opener | None = None,
    choose: ChoosePath | None = None,
    hooks: PrintHooks = DEFAULT_HOOKS,
) -> Path | None:
    """Do ``how`` with the PDF ``data``: open, preview, print or save it.

    Returns the file written (open, save) or ``None`` (preview, print, or cancelled). A
    refusal to print (an unreadable PDF, a printer that did not start) is shown in words.
    """
    if how is Delivery.OPEN:
        return show_pdf(parent, data, suggested_name, opener=opener, choose=choose)
    if how is Delivery.SAVE:
        return save_pdf(parent, data, suggested_name, choose=choose)
    title = safe_name(suggested_name)
    try:
        if how is Delivery.PREVIEW:
            preview_pdf(parent, data, title, hooks=hooks)
        else:
            print_pdf(parent, data, title, hooks=hooks)
    except KetaDeskError as error:
        show_error(parent, error, "Not printed")
    return None


class PdfButton(QToolButton):
    """ "PDF" with a menu: Open (the default click), Print preview…, Print… or Save as….

    ``build`` makes the PDF when asked (it may raise a :class:`KetaDeskError`, shown in
    words). ``opener`` and ``choose`` are handed to :func:`show_pdf` / :func:`save_pdf`,
    ``hooks`` to the printing functions.
    """

    def __init__(
        self,
        build: Build,
        *,
        text: str = "PDF",
        opener: Opener | None = None,
        choose: ChoosePath | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._print_buttons: list[QPushButton] = []
        self.build = build
        self.opener = opener
        self.choose = choose
        self.hooks: PrintHooks = DEFAULT_HOOKS
        self.last_path: Path | None = None
        self.setText(text)
        self.setStyleSheet(BUTTON_STYLE)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        menu = QMenu(self)
        self.open_action = menu.addAction("Open in PDF viewer")
        self.preview_action = menu.addAction("Print preview…")
        self.print_action = menu.addAction("Print…")
        self.save_action = menu.addAction("Save as…")
        self.open_action.triggered.connect(self.open_pdf)
        self.preview_action.triggered.connect(self.preview)
        self.print_action.triggered.connect(self.print_pdf)
        self.save_action.triggered.connect(self.save_as)
        self.setMenu(menu)
        self.clicked.connect(self.open_pdf)

    def _made(self) -> tuple[bytes, str] | None:
        try:
            return self.build()
        except KetaDeskError as error:
            show_error(self, error, "No PDF")
            return None

    def print_button(self, text: str = "Print…") -> QPushButton:
        """A "Print…" push button for beside this one: prints the same document."""
        button = QPushButton(text)
        button.setObjectName(f"{self.objectName() or 'pdf'}Print")
        button.setToolTip("Print this document (with Qt's print dialog)")
        button.setEnabled(self.isEnabled())
        button.clicked.connect(self.print_pdf)
        self._print_buttons.append(button)
        return button

    def changeEvent(self, event: QEvent) -> None:
        """A "Print…" button beside this one is enabled exactly when this one is."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.EnabledChange:
            for button in self._print_buttons:
                button.setEnabled(self.isEnabled())

    def _deliver(self, how: Delivery) -> Path | None:
        made = self._made()
        if made is None:
            return None
        return deliver(self, how, made[0], made[1], opener=self.opener, choose=self.choose,
                       hooks=self.hooks)

    def open_pdf(self) -> Path | None:
        self.last_path = self._deliver(Delivery.OPEN)
        return self.last_path

    def save_as(self) -> Path | None:
        self.last_path = self._deliver(Delivery.SAVE)
        return self.last_path

    def preview(self) -> None:
        """Show the print preview (print from there, or close it)."""
        self._deliver(Delivery.PREVIEW)

    def print_pdf(self) -> None:
        """Ask for a printer and print the document."""
        self._deliver(Delivery.PRINT)
