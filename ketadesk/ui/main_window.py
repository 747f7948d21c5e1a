"""The main window: navigation on the left, one area at a time on the right.

Areas are built the first time they are shown, and their modules are imported only then,
so start-up pays for the Patients area alone. An area that is not built yet shows an
honest placeholder page (:mod:`ketadesk.ui.placeholder`). The status bar says who is logged
in, with which role, and which database is open — a file name or host/database, never a
password. An administrator whose log-in finds the audit log's chain broken sees a red banner
above every area (:func:`ketadesk.ui.audit.chain_banner`). File → Change password… opens
the :class:`~ketadesk.ui.login.ChangePasswordDialog` for whoever is logged in (under the
name the account has now, should an administrator have renamed it since the log-in); the
status bar says when it is done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import make_url

import ketadesk
from ketadesk.access.permissions import Actor
from ketadesk.ui.context import AppContext
from ketadesk.ui.placeholder import placeholder_for

# key -> label, in the order of the navigation list
AREAS: dict[str, str] = {
    "today": "Today",
    "schedule": "Schedule",
    "patients": "Patients",
    "billing": "Billing",
    "reports": "Reports",
    "settings": "Settings",
}
# A view that is a tab of an area (``ketadesk --view claims``): name -> (area, tab title)
TAB_VIEWS: dict[str, tuple[str, str]] = {"claims": ("billing", "Claims")}
# Areas whose pages are named after a colon (``ketadesk --view reports:aging``).
PAGED_AREAS = ("reports",)


def known_view(name: str) -> bool:
    """Whether ``--view name`` names an area, a tab view or ``area:page`` of a paged area
    (the page itself is checked when the area is built)."""
    area, _colon, page = name.partition(":")
    return name in AREAS or name in TAB_VIEWS or (area in PAGED_AREAS and bool(page))


def describe_database(url: str) -> str:
    """``sqlite:////data/clinic.sqlite3`` -> ``clinic.sqlite3``; PostgreSQL -> ``host/dbname``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        name = parsed.database or ""
        return Path(name).name if name and name != ":memory:" else "in-memory database"
    host = parsed.host or "localhost"
    if parsed.port:
        host = f"{host}:{parsed.port}"
    return f"{host}/{parsed.database or ''}"


def _patients(context: AppContext) -> QWidget:
    from ketadesk.ui.patients.view import PatientsView

    return PatientsView(context)


def _today(context: AppContext) -> QWidget:
    from ketadesk.ui.today import TodayView

    return TodayView(context)


def _schedule(context: AppContext) -> QWidget:
    from ketadesk.ui.schedule import ScheduleView

    return ScheduleView(context)


def _billing(context: AppContext) -> QWidget:
    from ketadesk.ui.billing.view import BillingView

    return BillingView(context)


def _reports(context: AppContext) -> QWidget:
    from ketadesk.ui.reports import ReportsView

    return ReportsView(context)


def _settings(context: AppContext) -> QWidget:
    try:
        from ketadesk.ui.settings import SettingsView
    except ModuleNotFoundError as error:  # the Settings area is not in this build yet
        if not (error.name or "").startswith("ketadesk.ui.settings"):
            raise
        return placeholder_for("settings")
    except ImportError as error:  # the package exists but does not export the view yet
        if "SettingsView" not in str(error):
            raise
        return placeholder_for("settings")
    view: QWidget = SettingsView(context)
    return view


def _placeholder(key: str) -> Callable[[AppContext], QWidget]:
    def build(_context: AppContext) -> QWidget:
        return placeholder_for(key)
    return build


def _factories() -> dict[str, Callable[[AppContext], QWidget]]:
    built: dict[str, Callable[[AppContext], QWidget]] = {
        "today": _today,
        "schedule": _schedule,
        "patients": _patients,
        "billing": _billing,
        "reports": _reports,
        "settings": _settings,
    }
    for key in AREAS:
        built.setdefault(key, _placeholder(key))
    return built


class MainWindow(QMainWindow):
    """Navigation, the current area, the menus and the status bar."""

    def __init__(self, context: AppContext, *, initial: str = "patients",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._factories = _factories()
        self._areas: dict[str, QWidget] = {}
        self.setWindowTitle("KetaDesk")
        self.stack = QStackedWidget()
        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self._sidebar())
        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        self.audit_banner = self._audit_banner()
        if self.audit_banner is not None:
            right.addWidget(self.audit_banner)
        right.addWidget(self.stack, 1)
        row.addLayout(right, 1)
        self.setCentralWidget(body)
        self._menus()
        self._status_bar()
        self.show_view(initial)

    def _audit_banner(self) -> QWidget | None:
        """A broken audit chain, shown to an administrator above every area."""
        from ketadesk.ui.audit import chain_banner

        return chain_banner(self.context)

    def _sidebar(self) -> QFrame:
        frame = QFrame()
        frame.setObjectName("sidebar")
        frame.setFixedWidth(180)
        column = QVBoxLayout(frame)
        column.setContentsMargins(0, 0, 0, 12)
        brand = QLabel("KetaDesk")
        brand.setObjectName("brand")
        column.addWidget(brand)
        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.addItems(list(AREAS.values()))
        self.navigation.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.navigation.currentRowChanged.connect(self._navigated)
        column.addWidget(self.navigation, 1)
        return frame

    def _menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.change_password_action = QAction("Change &password…", self)
        self.change_password_action.triggered.connect(self.change_password)
        if self.context.actor.user_id is None:  # the command line's OS user has no password
            self.change_password_action.setEnabled(False)
            self.change_password_action.setStatusTip(
                "You are working without a KetaDesk account, so there is no password to change."
            )
        file_menu.addAction(self.change_password_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        go_menu = self.menuBar().addMenu("&Go")
        for number, (key, label) in enumerate(AREAS.items(), start=1):
            action = QAction(label, self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _checked=False, key=key: self.show_area(key))
            go_menu.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About KetaDesk", self)
        about.triggered.connect(self.about)
        help_menu.addAction(about)

    def _status_bar(self) -> None:
        actor = self.context.actor
        self.user_label = QLabel(f"{actor.username} · {actor.role.label}")
        self.user_label.setObjectName("statusUser")
        self.database_label = QLabel(f"Database: {describe_database(self.context.db.url)}")
        self.database_label.setObjectName("statusDatabase")
        self.statusBar().addWidget(self.user_label)
        self.statusBar().addPermanentWidget(self.database_label)

    def _navigated(self, row: int) -> None:
        if 0 <= row < len(AREAS):
            self.show_area(list(AREAS)[row])

    def show_area(self, key: str) -> QWidget:
        """Show area ``key`` (building it the first time); raises KeyError for unknown keys."""
        if key not in AREAS:
            raise KeyError(key)
        widget = self._areas.get(key)
        if widget is None:
            widget = self._factories[key](self.context)
            self._areas[key] = widget
            self._connect(widget)
            self.stack.addWidget(widget)
        self.stack.setCurrentWidget(widget)
        row = list(AREAS).index(key)
        if self.navigation.currentRow() != row:
            self.navigation.setCurrentRow(row)
        self.setWindowTitle(f"{AREAS[key]} — KetaDesk")
        return widget

    def _connect(self, widget: QWidget) -> None:
        """An area that asks for a patient's ledger or a claim (Reports' drill-down) gets
        them opened here, where the areas meet."""
        for name, slot in (("open_ledger", self.open_ledger), ("open_claim", self.open_claim)):
            signal = getattr(widget, name, None)
            if signal is not None and hasattr(signal, "connect"):
                signal.connect(slot)

    def open_ledger(self, patient_id: int) -> QWidget | None:
        """Open ``patient_id``'s chart on its Ledger tab in Patients."""
        patients = self.show_area("patients")
        opened = getattr(patients, "open_patient", None)
        if not callable(opened) or opened(patient_id) is None:
            return None
        detail = getattr(patients, "detail", None)
        show_ledger = getattr(detail, "show_ledger", None)
        if callable(show_ledger):
            show_ledger()
        return patients

    def open_claim(self, claim_id: int) -> QWidget | None:
        """Select claim ``claim_id`` in Billing → Claims."""
        tab = self.show_view("claims")
        opened = getattr(tab, "open_claim", None)
        if callable(opened):
            opened(claim_id)
        return tab

    def show_view(self, name: str) -> QWidget:
        """Show an area, the tab of an area that :data:`TAB_VIEWS` names, or the page of a
        paged area (``reports:aging``)."""
        area, colon, page = name.partition(":")
        if colon and area in PAGED_AREAS:
            widget = self.show_area(area)
            show_page = getattr(widget, "show_tab", None)
            try:
                shown: QWidget = show_page(page) if callable(show_page) else widget
            except KeyError:  # no such page, or the role sees none: the area says why
                return widget
            return shown
        area, title = TAB_VIEWS.get(name, (name, ""))
        widget = self.show_area(area)
        show_tab = getattr(widget, "show_tab", None)
        if title and callable(show_tab):
            try:
                tab: QWidget = show_tab(title)
            except KeyError:  # the role sees no tabs here: the area says why
                return widget
            return tab
        return widget

    def area(self, key: str) -> QWidget | None:
        """The widget of area ``key`` if it has been built."""
        return self._areas.get(key)

    def current_area(self) -> str:
        return list(AREAS)[self.navigation.currentRow()]

    def change_password(self) -> QWidget | None:
        """Open the change-password dialog for the logged-in user; None without an account."""
        from ketadesk.ui.login import ChangePasswordDialog

        actor = self._current_actor()
        if actor is None:
            self.statusBar().showMessage("Your account is no longer in this database.")
            return None
        dialog = ChangePasswordDialog(self.context.db, actor, parent=self)
        dialog.accepted.connect(lambda: self.statusBar().showMessage("Your password was changed."))
        self._password_dialog = dialog  # kept alive while it is open
        dialog.open()
        return dialog

    def _current_actor(self) -> Actor | None:
        """The logged-in actor under the user name the account has now."""
        from ketadesk.access.models import User

        actor = self.context.actor
        if actor.user_id is None:
            return None
        with self.context.db.reading() as session:
            user = session.get(User, actor.user_id)
            return None if user is None else replace(actor, username=user.username)

    def about(self) -> None:
        QMessageBox.about(
            self, "About KetaDesk",
            f"<b>KetaDesk {ketadesk.__version__}</b><p>Practice management for ketamine and "
            "esketamine clinics: scheduling, the treatment floor, billing and claims.</p>",
        )
