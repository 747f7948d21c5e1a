"""The look of the window: one palette and one style sheet, applied once at start-up.

Colours are named here and nowhere else. Fonts come from the system (no family is set), so
the window reads like the rest of the desktop; only sizes and weights are chosen. Widgets
opt into the special looks by object name (``#sidebar``, ``#pageTitle``) or by the
``role`` property (``primary`` buttons, ``muted`` labels), so views carry no colours.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

INK = "#1d2733"
MUTED = "#5c6b7a"
CANVAS = "#f4f6f8"
SURFACE = "#ffffff"
LINE = "#d8dee6"
ACCENT = "#0f6e6e"
ACCENT_HOVER = "#0b5858"
ACCENT_SOFT = "#e3f1f0"
SIDEBAR = "#13283d"
SIDEBAR_TEXT = "#c9d6e3"
SIDEBAR_SELECTED = "#1f3c59"
WARNING_INK = "#8a4b00"
WARNING_SOFT = "#fff3df"
ERROR = "#b3261e"
GOOD = "#1b7f3b"  # a figure that moved the right way (Reports' dashboard)

STYLESHEET = f"""
QMainWindow, QDialog {{ background: {CANVAS}; }}
QWidget#page {{ background: {CANVAS}; }}

QFrame#sidebar {{ background: {SIDEBAR}; border: none; }}
QLabel#brand {{ color: #ffffff; font-size: 17px; font-weight: 600; padding: 18px 18px 14px 18px; }}
QListWidget#navigation {{
    background: {SIDEBAR}; color: {SIDEBAR_TEXT}; border: none; outline: none;
    font-size: 14px;
}}
QListWidget#navigation::item {{
    padding: 9px 16px; margin: 1px 8px; border-radius: 6px;
}}
QListWidget#navigation::item:hover {{ background: #1a3450; color: #ffffff; }}
QListWidget#navigation::item:selected {{
    background: {SIDEBAR_SELECTED}; color: #ffffff; border-left: 3px solid #3fb8a9;
}}

QLabel#pageTitle {{ font-size: 21px; font-weight: 600; color: {INK}; }}
QLabel#sectionTitle {{
    font-size: 12px; font-weight: 600; color: {MUTED}; letter-spacing: 0.5px;
    padding-top: 8px;
}}
QLabel[role="muted"] {{ color: {MUTED}; }}
QLabel[role="error"] {{ color: {ERROR}; }}
QLabel[role="warning"] {{
    color: {WARNING_INK}; background: {WARNING_SOFT}; border: 1px solid #f0d29c;
    border-radius: 4px; padding: 3px 8px;
}}
QLabel#detailName {{ font-size: 19px; font-weight: 600; color: {INK}; }}

QFrame#card {{ background: {SURFACE}; border: 1px solid {LINE}; border-radius: 8px; }}
QFrame#card QLabel {{ background: transparent; }}

QLineEdit, QComboBox, QPlainTextEdit {{
    background: {SURFACE}; border: 1px solid {LINE}; border-radius: 5px;
    padding: 5px 7px; color: {INK};
    selection-background-color: {ACCENT};
}}
QComboBox::drop-down {{ border: none; width: 22px; }}
QComboBox::down-arrow {{
    /* Qt's own arrow image, built into every Qt: a styled combo box draws no arrow itself */
    image: url(:/qt-project.org/styles/commonstyle/images/arrow-down-16.png);
    width: 10px; height: 10px;
}}
QLineEdit:focus, QComboBox:focus, QPlainTextEdit:focus {{ border: 1px solid {ACCENT}; }}
QLineEdit#patientSearch {{ font-size: 14px; padding: 8px 10px; }}

QPushButton {{
    background: {SURFACE}; color: {INK}; border: 1px solid {LINE}; border-radius: 5px;
    padding: 6px 14px;
}}
QPushButton:hover {{ border-color: {ACCENT}; }}
QPushButton:disabled {{ color: #a0aab4; border-color: #e3e7ec; }}
QPushButton[role="primary"] {{
    background: {ACCENT}; color: #ffffff; border: 1px solid {ACCENT}; font-weight: 600;
}}
QPushButton[role="primary"]:hover {{ background: {ACCENT_HOVER}; }}
QPushButton[role="primary"]:disabled {{ background: #9bbfbd; border-color: #9bbfbd; }}

QTableView, QTableWidget, QListWidget {{
    background: {SURFACE}; alternate-background-color: #f8fafb; border: 1px solid {LINE};
    border-radius: 6px; gridline-color: transparent;
    selection-background-color: {ACCENT_SOFT}; selection-color: {INK};
}}
CheckList::item {{ padding: 3px 2px; }}
QListWidget#policies::item {{ padding: 6px 8px; }}
QListWidget#reportList {{ background: {SURFACE}; border: 1px solid {LINE}; border-radius: 6px; }}
QListWidget#reportList::item:selected {{ background: {ACCENT_SOFT}; color: {INK}; }}
QLabel#tileValue {{ font-size: 20px; font-weight: 600; color: {INK}; }}
QHeaderView::section {{
    background: {SURFACE}; color: {MUTED}; border: none; border-bottom: 1px solid {LINE};
    padding: 6px 8px; font-weight: 600;
}}
QTableView::item, QTableWidget::item {{ padding: 4px 8px; }}

QTabWidget::pane {{
    border: 1px solid {LINE}; border-radius: 6px; background: {SURFACE}; top: -1px;
}}
QTabBar::tab {{
    background: transparent; color: {MUTED}; padding: 7px 14px; border: none;
    border-bottom: 2px solid transparent; margin-right: 2px;
}}
QTabBar::tab:selected {{ color: {INK}; border-bottom: 2px solid {ACCENT}; }}
QTabBar::tab:hover {{ color: {INK}; }}

QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 2px; }}
QScrollBar::handle {{ background: #c3ccd6; border-radius: 3px; min-height: 28px; min-width: 28px; }}
QScrollBar::handle:hover {{ background: #9eabb9; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}

QScrollArea {{ border: none; background: transparent; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
QSplitter::handle {{ background: {CANVAS}; }}
QStatusBar {{ background: {SURFACE}; color: {MUTED}; border-top: 1px solid {LINE}; }}
QStatusBar QLabel {{ padding: 0 8px; }}
"""


def apply(app: QApplication) -> None:
    """Give ``app`` KetaDesk's look: the Fusion style, a light palette and the style sheet."""
    app.setStyle("Fusion")
    palette = app.palette()
    for role, colour in (
        (QPalette.ColorRole.Window, CANVAS),
        (QPalette.ColorRole.Base, SURFACE),
        (QPalette.ColorRole.AlternateBase, "#f8fafb"),
        (QPalette.ColorRole.Text, INK),
        (QPalette.ColorRole.WindowText, INK),
        (QPalette.ColorRole.ButtonText, INK),
        (QPalette.ColorRole.Highlight, ACCENT),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.PlaceholderText, "#8c98a4"),
    ):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    app.setStyleSheet(STYLESHEET)


def set_role(widget: QWidget, role: str) -> None:
    """Mark ``widget`` with a style role (``primary``, ``muted``, ``warning`` …)."""
    widget.setProperty("role", role)
    widget.style().unpolish(widget)
    widget.style().polish(widget)
