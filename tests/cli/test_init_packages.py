"""``ketadesk init`` writes the shipped package templates, as it writes protocols and fees.

Run on real SQLite files through :func:`ketadesk.cli.main.main`; what init wrote is read
back through the package services. A second init adds nothing and keeps a clinic's edits.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cli.cli_helpers import runner
from sqlalchemy import select

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import packages
from ketadesk.db import Database

MANAGER = Actor(username="maria", role=Role.MANAGER)
SHIPPED = sorted(packages.default_templates())


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    return runner(capsys)


def test_init_writes_the_shipped_package_templates_once(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite3"
    first = cli("init", "--db", str(path), "--json")
    assert first.code == 0, first.err
    assert sorted(first.json()["package_templates_added"]) == SHIPPED
    db = Database(f"sqlite:///{path}")
    try:
        with db.reading() as session:
            on_sale = packages.list_templates(session)
            assert sorted(t.name for t in on_sale) == SHIPPED
            shipped = packages.default_templates()
            for template in on_sale:
                assert template.price == Decimal(str(shipped[template.name]["price"]))
            created = session.scalars(
                select(AuditEntry.action).where(AuditEntry.entity == "package_template")).all()
            assert created == ["create"] * len(SHIPPED)
    finally:
        db.dispose()
    again = cli("init", "--db", str(path), "--json")
    assert again.json()["package_templates_added"] == []


def test_init_keeps_a_clinics_edits_of_the_package_templates(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite3"
    assert cli("init", "--db", str(path)).code == 0
    db = Database(f"sqlite:///{path}")
    try:
        with db.transaction() as session:
            first, second = packages.list_templates(session)[:2]
            values = {name: getattr(first, name) for name in packages.TEMPLATE_FIELDS}
            packages.save_template(session, MANAGER, {**values, "price": "999.00"}, first.id)
            packages.set_template_active(session, MANAGER, second.id, False)
            edited, retired = first.id, second.id
        assert cli("init", "--db", str(path), "--json").json()["package_templates_added"] == []
        with db.reading() as session:
            assert packages.get_template(session, edited).price == Decimal("999.00")
            assert packages.get_template(session, retired).active is False
            assert len(packages.list_templates(session, include_inactive=True)) == len(SHIPPED)
    finally:
        db.dispose()
