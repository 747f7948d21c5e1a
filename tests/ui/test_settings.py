"""The Settings area driven as people use it: typing, clicking, and reading what is shown.

Each test builds a :class:`SettingsView` for one actor over a real database, types into
the fields and clicks the buttons, then checks both the screen and the database. The two
location tests run on SQLite and PostgreSQL (the ``database`` fixture); the rest use a
private SQLite copy, which is quicker and exercises the same widgets.
"""

from __future__ import annotations

from datetime import date

import pytest
from builders import VALID_NPIS, add_location
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLineEdit,
    QMessageBox,
    QStyle,
    QStyleOptionButton,
    QTableWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketadesk.access.models import User
from ketadesk.access.permissions import Actor, Role
from ketadesk.access.users import create_user
from ketadesk.clinic.models import (
    Chair,
    Closure,
    HolidayWorked,
    Location,
    Modality,
    Payer,
    Provider,
)
from ketadesk.db import Database
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import CheckList, FieldForm
from ketadesk.ui.settings import SettingsView
from ketadesk.ui.settings.locations import LocationsTab
from ketadesk.ui.settings.table import RecordTab

pytestmark = pytest.mark.gui

MANAGER = Actor(username="maria", role=Role.MANAGER)
ADMIN = Actor(username="root", role=Role.ADMIN)
FRONT_DESK = Actor(username="tom", role=Role.FRONT_DESK)
LEFT = Qt.MouseButton.LeftButton
THIS_YEAR = date.today().year


# -- fixtures and the moves a person makes ----------------------------------------------------


@pytest.fixture(autouse=True)
def warnings_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Message boxes are recorded instead of blocking the test; each test checks them."""
    shown: list[str] = []

    def warn(_parent: QWidget | None, _title: str, text: str, *_args: object) -> None:
        shown.append(text)

    monkeypatch.setattr(QMessageBox, "warning", warn)
    return shown


def open_settings(qtbot: QtBot, db: Database, actor: Actor) -> SettingsView:
    view = SettingsView(AppContext(db, actor))
    qtbot.add_widget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    return view


def go_to(qtbot: QtBot, view: SettingsView, title: str) -> RecordTab:
    """Click the tab called ``title``."""
    bar = view.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())
    assert view.tabs.currentIndex() == index
    return view.pages[title]


def open_locations(qtbot: QtBot, view: SettingsView, name: str | None = None) -> LocationsTab:
    """Click the Locations tab, and then the location called ``name`` in its list."""
    tab = go_to(qtbot, view, "Locations")
    assert isinstance(tab, LocationsTab)
    if name is not None:
        click_row(qtbot, tab.table, name)
    return tab


def click_page(qtbot: QtBot, tab: LocationsTab, title: str) -> None:
    """Click one of a location's pages (Details, Opening hours, …)."""
    pages = tab.pages
    bar = pages.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())
    assert pages.currentIndex() == index


def click(qtbot: QtBot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, LEFT)


def click_box(qtbot: QtBot, box: QWidget) -> None:
    """Click a check box on its square (a form's box spans the row, with no text of its own)."""
    assert isinstance(box, QCheckBox)
    option = QStyleOptionButton()
    box.initStyleOption(option)
    square = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
    qtbot.mouseClick(box, LEFT, pos=square.center())


def type_in(qtbot: QtBot, form: FieldForm, name: str, text: str) -> None:
    """Click into field ``name``, select what is there, and type ``text`` over it."""
    editor = form.editors[name]
    assert isinstance(editor, QLineEdit)
    qtbot.mouseClick(editor, LEFT)
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor, text)


def fill(qtbot: QtBot, form: FieldForm, values: dict[str, str]) -> None:
    for name, text in values.items():
        type_in(qtbot, form, name, text)


def choose(qtbot: QtBot, form: FieldForm, name: str, label_start: str) -> None:
    """Pick the drop-down entry whose text starts with ``label_start``, by keyboard."""
    combo = form.editors[name]
    assert isinstance(combo, QComboBox)
    index = next(i for i in range(combo.count()) if combo.itemText(i).startswith(label_start))
    combo.setFocus()
    while combo.currentIndex() != index:
        key = Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up
        qtbot.keyClick(combo, key)


def tick(qtbot: QtBot, form: FieldForm, name: str, label: str) -> None:
    """Move to the choice called ``label`` in a check list and press Space to tick it."""
    checks = form.editors[name]
    assert isinstance(checks, CheckList)
    row = next(i for i in range(checks.count()) if checks.item(i).text() == label)
    checks.setFocus()
    checks.setCurrentRow(row)
    qtbot.keyClick(checks.viewport(), Qt.Key.Key_Space)
    assert checks.item(row).checkState() == Qt.CheckState.Checked


def click_row(qtbot: QtBot, table: QTableWidget, text: str) -> None:
    """Click the first row with a cell reading ``text``."""
    items = table.findItems(text, Qt.MatchFlag.MatchExactly)
    assert items, f"no row shows {text!r}"
    table.scrollToItem(items[0])
    qtbot.mouseClick(table.viewport(), LEFT, pos=table.visualItemRect(items[0]).center())


def shown_rows(table: QTableWidget) -> list[list[str]]:
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def seed_location(db: Database, code: str = "NYC", **overrides: str) -> int:
    with db.transaction() as s:
        return add_location(s, code, **overrides).id


LOCATION_TYPED = {
    "code": "nyc",
    "name": "Harbor Ketamine Center",
    "address_line1": "350 Fifth Avenue",
    "address_line2": "Suite 4100",
    "city": "New York",
    "state": "New York",
    "zip_code": "10118",
    "phone": "(212) 555-0142",
    "npi": "1245319599",
    "tin": "12-3456789",
}


# -- locations --------------------------------------------------------------------------------


def test_manager_adds_a_location_and_it_appears_in_the_list(
    qtbot: QtBot,
    database: Database,
    warnings_shown: list[str],
) -> None:
    view = open_settings(qtbot, database, MANAGER)
    tab = go_to(qtbot, view, "Locations")
    assert tab.heading.text() == "New location"
    fill(qtbot, tab.form, LOCATION_TYPED)
    choose(qtbot, tab.form, "pos_code", "49")
    choose(qtbot, tab.form, "time_zone", "Central")
    click(qtbot, tab.save_button)

    assert shown_rows(tab.table) == [["Harbor Ketamine Center", "NYC", "New York, NY", "Active"]]
    assert tab.heading.text() == "Harbor Ketamine Center (NYC)"
    assert tab.saved.text() == "Saved."
    with database.reading() as s:
        stored = s.scalars(select(Location)).one()
        assert (
            stored.code,
            stored.state,
            stored.phone,
            stored.pos_code,
            stored.tin,
            stored.time_zone,
        ) == ("NYC", "NY", "2125550142", "49", "123456789", "America/Chicago")
    assert warnings_shown == []


def test_bad_npi_is_shown_beside_the_npi_field_and_nothing_is_saved(
    qtbot: QtBot,
    database: Database,
    warnings_shown: list[str],
) -> None:
    view = open_settings(qtbot, database, MANAGER)
    tab = go_to(qtbot, view, "Locations")
    fill(qtbot, tab.form, {**LOCATION_TYPED, "npi": "1245319598"})
    click(qtbot, tab.save_button)

    assert "check digit" in tab.form.error_text("npi")
    assert [name for name in tab.form.errors if tab.form.error_text(name)] == ["npi"]
    assert tab.table.rowCount() == 0
    assert tab.saved.text() == ""
    with database.reading() as s:
        assert s.scalars(select(Location)).all() == []

    type_in(qtbot, tab.form, "npi", "1245319599")
    click(qtbot, tab.save_button)
    assert tab.form.error_text("npi") == ""
    assert tab.table.rowCount() == 1
    assert warnings_shown == []


def test_deactivating_a_location_keeps_it_in_view_greyed_with_reactivate(
    qtbot: QtBot,
    sqlite_db: Database,
) -> None:
    seed_location(sqlite_db, "NYC", name="Harbor Midtown")
    view = open_settings(qtbot, sqlite_db, MANAGER)
    tab = open_locations(qtbot, view, "Harbor Midtown")
    click(qtbot, tab.deactivate_button)

    assert shown_rows(tab.table)[0][-1] == "Inactive"
    assert tab.show_inactive.isChecked()
    assert tab.deactivate_button.text() == "Reactivate"
    with sqlite_db.reading() as s:
        assert s.scalars(select(Location.active)).one() is False


def test_manager_sets_opening_hours_checked_as_typed(
    qtbot: QtBot,
    sqlite_db: Database,
    warnings_shown: list[str],
) -> None:
    seed_location(sqlite_db, "NYC", name="Harbor Midtown")
    view = open_settings(qtbot, sqlite_db, MANAGER)
    tab = open_locations(qtbot, view, "Harbor Midtown")
    click_page(qtbot, tab, "Opening hours")
    hours = tab.hours

    type_in(qtbot, hours.form, "mon", "8am-12pm, 1pm-6pm")
    click(qtbot, hours.copy_button)
    type_in(qtbot, hours.form, "sat", "09:00-13:00")
    type_in(qtbot, hours.form, "sun", "10:00-09:00")
    assert "closing time must be later" in hours.form.error_text("sun")
    assert hours.summary.text() == "Fix the days marked in red."
    click(qtbot, hours.save_button)
    with sqlite_db.reading() as s:
        assert s.get(Location, 1) is not None and s.get(Location, 1).hours == []  # type: ignore[union-attr]

    type_in(qtbot, hours.form, "sun", "")
    assert hours.form.error_text("sun") == ""
    assert hours.summary.text() == "Week: Mon-Fri 08:00-12:00, 13:00-18:00; Sat 09:00-13:00"
    click(qtbot, hours.save_button)
    assert hours.status.text() == "Opening hours saved."
    with sqlite_db.reading() as s:
        location = s.scalars(select(Location)).one()
        assert len(location.hours) == 11
        assert {h.weekday for h in location.hours} == {0, 1, 2, 3, 4, 5}
    assert warnings_shown == []


def test_manager_adds_a_closure_and_removes_it(
    qtbot: QtBot,
    sqlite_db: Database,
    warnings_shown: list[str],
) -> None:
    seed_location(sqlite_db, "NYC", name="Harbor Midtown")
    view = open_settings(qtbot, sqlite_db, MANAGER)
    tab = open_locations(qtbot, view, "Harbor Midtown")
    click_page(qtbot, tab, "Closures")
    closures = tab.closures

    fill(
        qtbot,
        closures.form,
        {"first_day": "08/11/2026", "last_day": "08/10/2026", "reason": "Staff training"},
    )
    click(qtbot, closures.add_button)
    assert "before the first day" in closures.form.error_text("last_day")
    assert closures.table.rowCount() == 0

    type_in(qtbot, closures.form, "last_day", "08/12/2026")
    click(qtbot, closures.add_button)
    assert shown_rows(closures.table) == [["Staff training", "Tue 08/11/2026", "Wed 08/12/2026"]]
    assert closures.status.text() == "Closure added."
    with sqlite_db.reading() as s:
        stored = s.scalars(select(Closure)).one()
        assert (stored.first_day, stored.last_day) == (date(2026, 8, 11), date(2026, 8, 12))

    click_row(qtbot, closures.table, "Staff training")
    click(qtbot, closures.remove_button)
    assert closures.table.rowCount() == 0
    with sqlite_db.reading() as s:
        assert s.scalars(select(Closure)).all() == []
    assert warnings_shown == []


def test_manager_switches_off_a_public_holiday(
    qtbot: QtBot,
    sqlite_db: Database,
    warnings_shown: list[str],
) -> None:
    seed_location(sqlite_db, "NYC", name="Harbor Midtown", state="NY")
    view = open_settings(qtbot, sqlite_db, MANAGER)
    tab = open_locations(qtbot, view, "Harbor Midtown")
    click_page(qtbot, tab, "Public holidays")
    holidays = tab.holidays
    assert holidays.year.value() == THIS_YEAR

    names = [holidays.table.item(r, 1).text() for r in range(holidays.table.rowCount())]
    assert "Thanksgiving Day" in names
    box = holidays.table.findChild(QCheckBox, "closed:Independence Day")
    assert box is not None and box.isChecked() and box.isEnabled()
    click_box(qtbot, box)

    assert not box.isChecked()
    for holiday, other in holidays.checks:  # its "(observed)" weekday follows, if any
        if holiday.name.startswith("Independence Day"):
            assert not other.isChecked()
    assert holidays.status.text() == "Independence Day: open."
    with sqlite_db.reading() as s:
        assert s.scalars(select(HolidayWorked.holiday_name)).all() == ["Independence Day"]
    assert warnings_shown == []


# -- chairs, providers, payers ----------------------------------------------------------------


def test_manager_adds_a_chair_with_modalities_then_deactivates_it(
    qtbot: QtBot,
    sqlite_db: Database,
    warnings_shown: list[str],
) -> None:
    seed_location(sqlite_db, "NYC", name="Harbor Midtown")
    seed_location(sqlite_db, "BKN", name="Harbor Brooklyn")
    view = open_settings(qtbot, sqlite_db, MANAGER)
    tab = go_to(qtbot, view, "Chairs")
    choose(qtbot, tab.form, "location", "Harbor Midtown")
    type_in(qtbot, tab.form, "name", "Quiet room")
    tick(qtbot, tab.form, "modalities", "IV infusion")
    tick(qtbot, tab.form, "modalities", "Esketamine nasal")
    click(qtbot, tab.save_button)

    assert shown_rows(tab.table) == [
        ["Quiet room", "NYC", "IV infusion, Esketamine nasal", "Active"]
    ]
    with sqlite_db.reading() as s:
        chair = s.scalars(select(Chair)).one()
        assert chair.modalities == {Modality.IV, Modality.ESKETAMINE}

    click(qtbot, tab.deactivate_button)
    assert shown_rows(tab.table)[0][-1] == "Inactive"
    click(qtbot, tab.save_button)  # saving an inactive chair keeps it inactive
    with sqlite_db.reading() as s:
        assert s.scalars(select(Chair.active)).one() is False
    assert warnings_shown == []


def test_a_chair_needs_a_treatment(qtbot: QtBot, sqlite_db: Database) -> None:
    seed_location(sqlite_db, "NYC")
    view = open_settings(qtbot, sqlite_db, MANAGER)
    tab = go_to(qtbot, view, "Chairs")
    type_in(qtbot, tab.form, "name", "Chair 1")
    click(qtbot, tab.save_button)
    assert "a chair hosts at least one" in tab.form.error_text("modalities")
    assert tab.table.rowCount() == 0


def test_manager_adds_a_provider_working_at_two_locations(
    qtbot: QtBot,
    sqlite_db: Database,
    warnings_shown: list[str],
) -> None:
    seed_location(sqlite_db, "NYC", name="Harbor Midtown")
    seed_location(sqlite_db, "BKN", name="Harbor Brooklyn")
    seed_location(sqlite_db, "DEN", name="Front Range")
    view = open_settings(qtbot, sqlite_db, MANAGER)
    tab = go_to(qtbot, view, "Providers")
    fill(
        qtbot,
        tab.form,
        {
            "family_name": "Osei",
            "given_name": "Ama",
            "credentials": "MD",
            "npi": VALID_NPIS[0],
            "licence_number": "md-123456",
            "licence_state": "NY",
            "max_concurrent_chairs": "3",
        },
    )
    click_box(qtbot, tab.form.editors["rems_enrolled"])
    tick(qtbot, tab.form, "locations", "Harbor Midtown (NYC)")
    tick(qtbot, tab.form, "locations", "Harbor Brooklyn (BKN)")
    click(qtbot, tab.save_button)

    assert shown_rows(tab.table) == [["Ama Osei, MD", VALID_NPIS[0], "BKN, NYC", "Active"]]
    with sqlite_db.reading() as s:
        provider = s.scalars(select(Provider)).one()
        assert sorted(loc.code for loc in provider.locations) == ["BKN", "NYC"]
        assert (
            provider.rems_enrolled,
            provider.max_concurrent_chairs,
            provider.licence_number,
        ) == (True, 3, "MD-123456")
    assert warnings_shown == []


def test_manager_adds_a_payer(
    qtbot: QtBot,
    sqlite_db: Database,
    warnings_shown: list[str],
) -> None:
    view = open_settings(qtbot, sqlite_db, MANAGER)
    tab = go_to(qtbot, view, "Payers")
    assert tab.form.values()["timely_filing_days"] == "90"
    fill(
        qtbot,
        tab.form,
        {
            "name": "Aetna",
            "edi_payer_id": "60054",
            "address_line1": "PO Box 981106",
            "city": "El Paso",
            "state": "TX",
            "zip_code": "79998",
            "phone": "800-624-0756",
            "timely_filing_days": "120",
        },
    )
    click(qtbot, tab.save_button)

    assert shown_rows(tab.table) == [
        ["Aetna", "60054", "120 days", "In", "Visit + drug", "Active"]
    ]
    assert tab.form.values()["phone"] == "(800) 624-0756"
    with sqlite_db.reading() as s:
        payer = s.scalars(select(Payer)).one()
        assert (payer.phone, payer.timely_filing_days) == ("8006240756", 120)
        # a new payer covers the esketamine services and codes them as a commercial plan
        assert "G2083" in payer.covered and payer.esketamine_billing == "visit"
    assert warnings_shown == []


def test_a_location_added_in_one_tab_is_offered_in_the_others(
    qtbot: QtBot,
    sqlite_db: Database,
) -> None:
    view = open_settings(qtbot, sqlite_db, MANAGER)
    chairs = go_to(qtbot, view, "Chairs")
    type_in(qtbot, chairs.form, "name", "Chair 7")  # typed before, kept after
    locations = go_to(qtbot, view, "Locations")
    fill(qtbot, locations.form, LOCATION_TYPED)
    click(qtbot, locations.save_button)

    go_to(qtbot, view, "Chairs")
    combo = chairs.form.editors["location"]
    assert isinstance(combo, QComboBox)
    assert [combo.itemText(i) for i in range(combo.count())] == ["Harbor Ketamine Center (NYC)"]
    assert chairs.form.values()["name"] == "Chair 7"


# -- who may do what --------------------------------------------------------------------------


def test_front_desk_sees_read_only_settings_and_no_users_tab(
    qtbot: QtBot,
    sqlite_db: Database,
) -> None:
    location_id = seed_location(sqlite_db, "NYC", name="Harbor Midtown")
    view = open_settings(qtbot, sqlite_db, FRONT_DESK)
    titles = [view.tabs.tabText(i) for i in range(view.tabs.count())]
    assert titles == ["Locations", "Chairs", "Providers", "Payers", "Protocols"]

    for title in titles:
        tab = go_to(qtbot, view, title)
        note = tab.findChild(QWidget, "read_only_note")
        assert note is not None and note.isVisible()
        assert "Only managers and administrators" in note.text()  # type: ignore[attr-defined]
        buttons = (tab.save_button, tab.new_button, tab.deactivate_button)
        assert not any(button.isVisible() for button in buttons)
        assert all(e.isReadOnly() for e in tab.form.editors.values() if isinstance(e, QLineEdit))

    tab = open_locations(qtbot, view)
    assert tab.current == location_id  # a reader is shown the first record at once
    assert tab.form.values()["name"] == "Harbor Midtown"
    click_page(qtbot, tab, "Opening hours")
    assert not tab.hours.save_button.isVisible()
    click_page(qtbot, tab, "Public holidays")
    boxes = tab.holidays.table.findChildren(QCheckBox)
    assert boxes and not any(box.isEnabled() for box in boxes)
    click_page(qtbot, tab, "Closures")
    assert not tab.closures.add_button.isVisible()


def test_admin_adds_a_user_and_disables_another(
    qtbot: QtBot,
    sqlite_db: Database,
    warnings_shown: list[str],
) -> None:
    with sqlite_db.transaction() as s:
        create_user(
            s,
            ADMIN,
            username="tkim",
            full_name="Tom Kim",
            role=Role.FRONT_DESK,
            password="a-long-password",
        )
    view = open_settings(qtbot, sqlite_db, ADMIN)
    tab = go_to(qtbot, view, "Users")
    assert tab.form.values()["username"] == "tkim"  # opens on the first user, not a blank form
    click(qtbot, tab.new_button)
    fill(
        qtbot,
        tab.form,
        {
            "username": "mreyes",
            "full_name": "Maria Reyes",
            "password": "correct horse",
            "password_again": "correct hose",
        },
    )
    choose(qtbot, tab.form, "role", "Manager")
    click(qtbot, tab.save_button)
    assert "does not match" in tab.form.error_text("password_again")
    with sqlite_db.reading() as s:
        assert s.scalars(select(User.username)).all() == ["tkim"]

    fill(qtbot, tab.form, {"password": "correct horse", "password_again": "correct horse"})
    click(qtbot, tab.save_button)
    assert shown_rows(tab.table) == [
        ["mreyes", "Maria Reyes", "Manager", "", "Active"],
        ["tkim", "Tom Kim", "Front desk", "", "Active"],
    ]
    assert not tab.form.editors["password"].isVisible()  # an account's password stays put

    click_row(qtbot, tab.table, "tkim")
    assert tab.deactivate_button.text() == "Disable"
    click(qtbot, tab.deactivate_button)
    assert shown_rows(tab.table)[1] == ["tkim", "Tom Kim", "Front desk", "", "Disabled"]
    assert tab.deactivate_button.text() == "Enable"
    with sqlite_db.reading() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        assert users["tkim"].active is False
        assert users["mreyes"].role is Role.MANAGER
    assert warnings_shown == []


def test_admin_changes_a_role(qtbot: QtBot, sqlite_db: Database) -> None:
    with sqlite_db.transaction() as s:
        tkim = create_user(
            s,
            ADMIN,
            username="tkim",
            full_name="Tom Kim",
            role=Role.FRONT_DESK,
            password="a-long-password",
        )
        tkim.os_account = "tomk"  # ketadesk user link tkim --os-account tomk
    view = open_settings(qtbot, sqlite_db, ADMIN)
    tab = go_to(qtbot, view, "Users")
    click_row(qtbot, tab.table, "tkim")
    editor = tab.form.editors["username"]
    assert isinstance(editor, QLineEdit) and editor.isReadOnly()
    choose(qtbot, tab.form, "role", "Billing")
    click(qtbot, tab.save_button)
    with sqlite_db.reading() as s:
        assert s.scalars(select(User.role)).one() is Role.BILLING
    assert shown_rows(tab.table) == [["tkim", "Tom Kim", "Billing", "tomk", "Active"]]


def test_a_tab_without_its_hooks_is_refused_when_defined() -> None:
    from ketadesk.ui.settings.locations import LocationPage
    from ketadesk.ui.settings.table import RecordTab

    with pytest.raises(
        TypeError, match="HalfTab must define load_rows, load_values, create_record, update_record"
    ):

        class HalfTab(RecordTab):
            def build_form(self, form: object) -> None:
                del form

    with pytest.raises(TypeError, match="PageWithoutRefresh must define refresh"):

        class PageWithoutRefresh(LocationPage):
            pass
