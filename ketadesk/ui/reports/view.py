"""The Reports area: the dashboard first, every report of the catalog beside it.

The list on the left holds "Dashboard" and one entry per name in
:data:`ketadesk.reports.catalog.NAMES`, in that order. A page is built the first time it is
chosen and then runs its report; a report whose module is not in this build says so instead
of failing. Without ``REPORT_VIEW`` the area is a sentence saying who may read reports.
Drill-down rows ask for a patient's ledger or a claim through :attr:`ReportsView.open_ledger`
and :attr:`ReportsView.open_claim`; the main window does the navigating.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access.permissions import Permission
from ketadesk.reports.catalog import NAMES, ReportSpec, spec
from ketadesk.reports.model import ReportFilter
from ketadesk.reports.names import Names, read_names
from ketadesk.ui.billing import not_allowed
from ketadesk.ui.context import AppContext
from ketadesk.ui.reports.dashboard_view import DashboardView
from ketadesk.ui.reports.report_view import ReportView
from ketadesk.ui.style import set_role

Clock = Callable[[], date]
DASHBOARD = "dashboard"
LIST_AIR = 36  # the report list's width beyond its longest title: frame, spacing, selection


def _spec_or_none(name: str) -> ReportSpec | None:
    try:
        return spec(name)
    except ModuleNotFoundError as error:  # a report not in this build yet
        if not (error.name or "").startswith("ketadesk.reports"):
            raise
        return None


class ReportsView(QWidget):
    """The list of reports and the page of the one chosen."""

    open_ledger = Signal(int)
    open_claim = Signal(int)

    def __init__(
        self, context: AppContext, *, today: Clock = date.today, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.today = today
        self.setObjectName("page")
        self.pages: dict[str, QWidget] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 16, 20, 12)
        self.refusal: QLabel | None = None
        self.list: QListWidget | None = None
        if not context.actor.can(Permission.REPORT_VIEW):
            self.refusal = QLabel(
                f"{not_allowed(context.actor, Permission.REPORT_VIEW)[:-1]}. Reports are for "
                "managers and administrators; ask one of them for the figures you need."
            )
            self.refusal.setObjectName("reportsRefused")
            self.refusal.setWordWrap(True)
            set_role(self.refusal, "muted")
            title = QLabel("Reports")
            title.setObjectName("pageTitle")
            outer.addWidget(title)
            outer.addWidget(self.refusal)
            outer.addStretch(1)
            return
        with context.db.reading() as session:
            self.names: Names = read_names(session)
        self.specs = {name: _spec_or_none(name) for name in NAMES}
        row = QHBoxLayout()
        outer.addLayout(row, 1)
        self.list = listing = QListWidget()
        listing.setObjectName("reportList")
        listing.setSpacing(3)
        listing.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        listing.addItem("Dashboard")
        for name in NAMES:
            found = self.specs[name]
            listing.addItem(found.title if found is not None else name.capitalize())
        widest = max(
            listing.fontMetrics().horizontalAdvance(listing.item(i).text())
            for i in range(listing.count())
        )
        listing.setFixedWidth(widest + LIST_AIR)
        self.stack = QStackedWidget()
        row.addWidget(listing)
        row.addWidget(self.stack, 1)
        listing.currentRowChanged.connect(self._chosen)
        # The dashboard opens unless a page is asked for first (``--view reports:aging``).
        QTimer.singleShot(0, self._open_first)

    def _open_first(self) -> None:
        if not self.pages:
            self.show_tab(DASHBOARD)

    def page_names(self) -> list[str]:
        return [DASHBOARD, *NAMES]

    def _chosen(self, row: int) -> None:
        if 0 <= row < len(self.page_names()):
            self.show_tab(self.page_names()[row])

    def show_tab(self, name: str) -> QWidget:
        """Show the dashboard or report ``name`` (KeyError when there is no such page)."""
        key = name.strip().lower()
        if key not in self.page_names() or self.list is None:
            raise KeyError(name)
        page = self.pages.get(key)
        if page is None:
            page = self._build(key)
            self.pages[key] = page
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        row = self.page_names().index(key)
        if self.list.currentRow() != row:
            self.list.setCurrentRow(row)
        return page

    def open_report_on(self, name: str, flt: ReportFilter) -> QWidget:
        """Open report ``name`` on the dashboard's period and location (a tile's double-click)."""
        page = self.show_tab(name)
        if isinstance(page, ReportView):
            page.run_now(flt, page.spec.default_by)
        return page

    def _build(self, key: str) -> QWidget:
        if key == DASHBOARD:
            board = DashboardView(self.context, self.names, self.today)
            board.open_report.connect(self.open_report_on)
            board.refresh()
            return board
        found = self.specs[key]
        if found is None:
            words = QLabel(f"The {key} report is not available in this version yet.")
            set_role(words, "muted")
            return words
        view = ReportView(self.context, found, self.names, self.today)
        view.open_ledger.connect(self.open_ledger)
        view.open_claim.connect(self.open_claim)
        view.refresh()
        return view
