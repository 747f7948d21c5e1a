"""Settings → Fees and Settings → Packages, driven as billing and the desk would use them.

Each test opens a real :class:`SettingsView` over a migrated SQLite file holding the shipped
fee schedule, clicks the tab and a row, types over fields and presses the buttons, then
checks what the screen says and what the database holds.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from builders import add_location
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox, QTableWidget, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.fees import billing_policy, ensure_default_fee_schedule
from ketadesk.billing.models import BillingPolicy, FeeItem
from ketadesk.billing.packages import ensure_default_templates, list_templates
from ketadesk.db import Database
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import FieldForm
from ketadesk.ui.settings import SettingsView
from ketadesk.ui.settings.fees import FeesTab, PackageTemplatesTab

pytestmark = pytest.mark.gui

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
BILLING = Actor(username="bill-ann", role=Role.BILLING)
DESK = Actor(username="desk-lee", role=Role.FRONT_DESK)
NURSE = Actor(username="nurse-kim", role=Role.CLINICAL)
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(autouse=True)
def warnings_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []

    def warn(_parent: QWidget | None, _title: str, text: str, *_args: object) -> None:
        shown.append(text)

    monkeypatch.setattr(QMessageBox, "warning", warn)
    return shown


@pytest.fixture
def fees_db(sqlite_db: Database) -> Database:
    with sqlite_db.transaction() as session:
        add_location(session, "NYC", name="Midtown")
        add_location(
            session,
            "BOS",
            name="Back Bay",
            city="Boston",
            state="MA",
            zip_code="02116",
            time_zone="America/New_York",
        )
        ensure_default_fee_schedule(session, ADMIN)
        ensure_default_templates(session, ADMIN)
    return sqlite_db


def open_tab(qtbot: QtBot, db: Database, actor: Actor, title: str) -> SettingsView:
    view = SettingsView(AppContext(db, actor))
    qtbot.add_widget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    bar = view.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())
    return view


def click_row(qtbot: QtBot, table: QTableWidget, text: str) -> None:
    items = table.findItems(text, Qt.MatchFlag.MatchExactly)
    assert items, f"no row shows {text!r}"
    table.scrollToItem(items[0])
    qtbot.mouseClick(table.viewport(), LEFT, pos=table.visualItemRect(items[0]).center())


def type_in(qtbot: QtBot, form: FieldForm, name: str, text: str) -> None:
    editor = form.editors[name]
    assert isinstance(editor, QLineEdit)
    qtbot.mouseClick(editor, LEFT)
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor, text)


def fees_tab(view: SettingsView) -> FeesTab:
    tab = view.pages["Fees"]
    assert isinstance(tab, FeesTab) and view.tabs.currentWidget() is tab
    return tab


def snapshot(db: Database) -> list[tuple[object, ...]]:
    with db.reading() as session:
        return [
            (f.id, f.code, f.modifiers, f.description, f.self_pay_price, f.version)
            for f in session.scalars(select(FeeItem).order_by(FeeItem.id))
        ]


def test_a_bad_code_is_shown_beside_the_field_and_nothing_is_saved(
    qtbot: QtBot, fees_db: Database, warnings_shown: list[str]
) -> None:
    before = snapshot(fees_db)
    tab = fees_tab(open_tab(qtbot, fees_db, BILLING, "Fees"))
    click_row(qtbot, tab.table, "96365")
    assert tab.heading.text() == "96365 · IV infusion, first hour"
    type_in(qtbot, tab.form, "code", "9636")
    type_in(qtbot, tab.form, "self_pay_price", "325.005")
    qtbot.mouseClick(tab.save_button, LEFT)

    assert "neither a CPT code" in tab.form.error_text("code")
    assert "fraction of a cent" in tab.form.error_text("self_pay_price")
    assert tab.saved.text() == ""
    assert warnings_shown == []
    assert snapshot(fees_db) == before


def test_billing_changes_a_price_and_the_list_shows_it(
    qtbot: QtBot, fees_db: Database, warnings_shown: list[str]
) -> None:
    tab = fees_tab(open_tab(qtbot, fees_db, BILLING, "Fees"))
    click_row(qtbot, tab.table, "96365")
    type_in(qtbot, tab.form, "self_pay_price", "325")
    qtbot.mouseClick(tab.save_button, LEFT)

    assert tab.saved.text() == "Saved."
    row = next(r for r in range(tab.table.rowCount()) if tab.table.item(r, 0).text() == "96365")
    assert tab.table.item(row, 2).text() == "$325.00"
    with fees_db.reading() as session:
        item = session.scalars(select(FeeItem).where(FeeItem.code == "96365")).one()
        assert (item.self_pay_price, item.version) == (Decimal("325.00"), 2)
    assert warnings_shown == []


def test_billing_names_the_drug_product_of_j3490_by_its_ndc(
    qtbot: QtBot, fees_db: Database, warnings_shown: list[str]
) -> None:
    tab = fees_tab(open_tab(qtbot, fees_db, BILLING, "Fees"))
    click_row(qtbot, tab.table, "J3490")
    type_in(qtbot, tab.form, "ndc", "4202301141")
    type_in(qtbot, tab.form, "drug_name", "Ketamine HCl 50 mg/mL")
    qtbot.mouseClick(tab.save_button, LEFT)
    assert tab.form.error_text("ndc") == "4202301141: add the dashes, e.g. 1234-5678-90"

    type_in(qtbot, tab.form, "ndc", "42023-114-10")
    qtbot.mouseClick(tab.save_button, LEFT)

    assert tab.saved.text() == "Saved."
    with fees_db.reading() as session:
        item = session.scalars(select(FeeItem).where(FeeItem.code == "J3490")).one()
        assert (item.ndc, item.drug_name) == ("42023011410", "Ketamine HCl 50 mg/mL")
    editor = tab.form.editors["ndc"]
    assert isinstance(editor, QLineEdit) and editor.text() == "42023-0114-10"
    assert warnings_shown == []


def test_a_fee_changed_elsewhere_meanwhile_is_not_overwritten(
    qtbot: QtBot, fees_db: Database, warnings_shown: list[str]
) -> None:
    tab = fees_tab(open_tab(qtbot, fees_db, BILLING, "Fees"))
    click_row(qtbot, tab.table, "96365")
    from ketadesk.billing.fees import fee_item_values, save_fee_item

    with fees_db.transaction() as session:
        item = session.scalars(select(FeeItem).where(FeeItem.code == "96365")).one()
        save_fee_item(session, ADMIN, {**fee_item_values(item), "self_pay_price": "310"}, item.id)
    type_in(qtbot, tab.form, "self_pay_price", "325")
    qtbot.mouseClick(tab.save_button, LEFT)
    assert len(warnings_shown) == 1 and "changed by someone else" in warnings_shown[0]
    with fees_db.reading() as session:
        item = session.scalars(select(FeeItem).where(FeeItem.code == "96365")).one()
        assert item.self_pay_price == Decimal("310.00")


def test_retiring_a_fee_greys_it_and_it_can_come_back(qtbot: QtBot, fees_db: Database) -> None:
    tab = fees_tab(open_tab(qtbot, fees_db, BILLING, "Fees"))
    click_row(qtbot, tab.table, "99215")
    assert tab.deactivate_button.text() == "Retire"
    qtbot.mouseClick(tab.deactivate_button, LEFT)
    assert tab.saved.text() == "Retired."
    assert tab.heading.text().endswith("(retired)")
    with fees_db.reading() as session:
        assert not session.scalars(select(FeeItem).where(FeeItem.code == "99215")).one().active
    qtbot.mouseClick(tab.deactivate_button, LEFT)
    with fees_db.reading() as session:
        assert session.scalars(select(FeeItem).where(FeeItem.code == "99215")).one().active


def test_each_location_has_its_own_fee_policy(
    qtbot: QtBot, fees_db: Database, warnings_shown: list[str]
) -> None:
    tab = fees_tab(open_tab(qtbot, fees_db, BILLING, "Fees"))
    tab.pages.setCurrentWidget(tab.policy)
    panel = tab.policy
    assert [panel.location.itemText(i) for i in range(panel.location.count())] == [
        "Back Bay (BOS)",
        "Midtown (NYC)",
    ]
    panel.location.setCurrentIndex(panel.location.findText("Midtown (NYC)"))
    type_in(qtbot, panel.form, "late_cancel_fee", "75")
    type_in(qtbot, panel.form, "no_show_fee", "-5")
    qtbot.mouseClick(panel.save_button, LEFT)
    assert panel.form.error_text("no_show_fee") != ""
    with fees_db.reading() as session:
        assert session.scalars(select(BillingPolicy)).all() == []  # nothing written

    type_in(qtbot, panel.form, "no_show_fee", "150.00")
    type_in(qtbot, panel.form, "invoice_due_days", "21")
    qtbot.mouseClick(panel.save_button, LEFT)
    assert panel.saved.text() == "Saved."
    assert warnings_shown == []
    with fees_db.reading() as session:
        nyc = panel.location.currentData()
        policy = billing_policy(session, nyc)
        assert (policy.late_cancel_fee, policy.no_show_fee, policy.invoice_due_days) == (
            Decimal("75.00"),
            Decimal("150.00"),
            21,
        )
    panel.location.setCurrentIndex(panel.location.findText("Back Bay (BOS)"))
    assert panel.form.values()["no_show_fee"] == "0.00"


def test_only_people_who_set_prices_see_the_fee_tabs(qtbot: QtBot, fees_db: Database) -> None:
    for actor in (DESK, NURSE):
        view = SettingsView(AppContext(fees_db, actor))
        qtbot.add_widget(view)
        assert "Fees" not in view.pages and "Packages" not in view.pages
    tab = FeesTab(AppContext(fees_db, DESK))  # were a reader given it: read-only, and says so
    qtbot.add_widget(tab)
    assert not tab.editable and not tab.policy.editable
    code = tab.form.editors["code"]
    assert isinstance(code, QLineEdit) and code.isReadOnly()
    assert tab.table.rowCount() > 10


def test_a_package_template_is_edited_in_settings(
    qtbot: QtBot, fees_db: Database, warnings_shown: list[str]
) -> None:
    view = open_tab(qtbot, fees_db, BILLING, "Packages")
    tab = view.pages["Packages"]
    assert isinstance(tab, PackageTemplatesTab)
    click_row(qtbot, tab.table, "IV booster — 3 infusions")
    type_in(qtbot, tab.form, "price", "1,299.00")
    type_in(qtbot, tab.form, "sessions", "0")
    qtbot.mouseClick(tab.save_button, LEFT)
    assert tab.form.error_text("sessions") != ""
    type_in(qtbot, tab.form, "sessions", "3")
    qtbot.mouseClick(tab.save_button, LEFT)
    assert tab.saved.text() == "Saved."
    assert warnings_shown == []
    with fees_db.reading() as session:
        booster = next(t for t in list_templates(session) if t.name.startswith("IV booster"))
        assert booster.price == Decimal("1299.00")
