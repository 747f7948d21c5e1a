"""The Settings area: the clinic's locations, chairs, providers, payers and treatment
protocols, its fees and packages, and its users.

:class:`SettingsView` holds one tab per kind of record, each a
:class:`~ketadesk.ui.settings.table.RecordTab`. Everyone who may view clinic setup sees
every tab but Users; only those who may change it (managers, administrators) get working
forms, and only administrators see Users. Managers and administrators also get the Audit
log (:class:`~ketadesk.ui.audit.AuditView`: who saw or changed what). Clinical staff
see the Screening rules (:class:`~ketadesk.ui.settings.screening_rules.ScreeningRulesTab`);
managers and administrators change them. Fees (the fee
schedule and each location's fee policy) and Packages (the prepaid bundles on sale) are for
the people who set prices (billing, managers, administrators); the desk sees packages and
prices where it uses them, in the Billing area.
When a tab saves something, the other tabs are marked stale and read their lists again the
next time they are shown (so a new location is at once a choice for chairs, providers and
fee policies) — without discarding what someone is typing in the tab they are on.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from ketadesk.access.permissions import Permission
from ketadesk.ui.context import AppContext
from ketadesk.ui.settings.chairs import ChairsTab
from ketadesk.ui.settings.locations import LocationsTab
from ketadesk.ui.settings.payers import PayersTab
from ketadesk.ui.settings.protocols import ProtocolsTab
from ketadesk.ui.settings.providers import ProvidersTab
from ketadesk.ui.settings.table import RecordTab
from ketadesk.ui.settings.users import UsersTab

__all__ = ["SettingsView"]


class SettingsView(QWidget):
    """Tabs: Locations, Chairs, Providers, Payers, Protocols, Fees and Packages (for people
    who set prices), for administrators, Users, and Consent texts (``CLINICAL_SETUP``)."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings_view")
        self.context = context
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.pages: dict[str, RecordTab] = {}
        self._stale: set[RecordTab] = set()
        kinds: list[tuple[str, type[RecordTab]]] = [
            ("Locations", LocationsTab), ("Chairs", ChairsTab),
            ("Providers", ProvidersTab), ("Payers", PayersTab), ("Protocols", ProtocolsTab),
        ]
        if context.actor.can(Permission.FEE_SCHEDULE_EDIT):
            from ketadesk.ui.settings.fees import FeesTab, PackageTemplatesTab

            kinds += [("Fees", FeesTab), ("Packages", PackageTemplatesTab)]
        if context.actor.can(Permission.USER_ADMIN):
            kinds.append(("Users", UsersTab))
        for title, kind in kinds:
            self._add(title, kind(context))
        if context.actor.can(Permission.CLINICAL_SETUP) or context.actor.can(
            Permission.CLINICAL_RECORD
        ):
            from ketadesk.ui.settings.screening_rules import ScreeningRulesTab

            self.screening_rules = ScreeningRulesTab(context)
            self.tabs.addTab(self.screening_rules, "Screening rules")
        if context.actor.can(Permission.CLINICAL_SETUP):
            from ketadesk.ui.settings.consent_texts import ConsentTextsTab

            self.consent_texts = ConsentTextsTab(context)
            self.tabs.addTab(self.consent_texts, "Consent texts")
        if context.actor.can(Permission.AUDIT_VIEW):
            from ketadesk.ui.audit import AuditView

            self.audit_view = AuditView(context)
            self.tabs.addTab(self.audit_view, "Audit log")
        self.tabs.currentChanged.connect(self._shown)
        box = QVBoxLayout(self)
        box.setContentsMargins(20, 18, 20, 14)
        box.setSpacing(12)
        heading = QLabel("Settings")
        heading.setObjectName("pageTitle")
        box.addWidget(heading)
        box.addWidget(self.tabs, 1)

    def _add(self, title: str, page: RecordTab) -> None:
        self.pages[title] = page
        self.tabs.addTab(page, title)
        page.changed.connect(lambda page=page: self._others_stale(page))

    def _others_stale(self, changed: RecordTab) -> None:
        self._stale.update(page for page in self.pages.values() if page is not changed)

    def _shown(self, index: int) -> None:
        page = self.tabs.widget(index)
        if isinstance(page, RecordTab) and page in self._stale:
            self._stale.discard(page)
            page.refresh_list()

    def show_tab(self, title: str) -> RecordTab:
        """Bring tab ``title`` ("Chairs") to the front and return it."""
        page = self.pages[title]
        self.tabs.setCurrentWidget(page)
        return page
