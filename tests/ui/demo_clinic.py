"""A small demo clinic for window tests that want the whole app filled: the demo generator's
three locations (with their long chain names), sixty patients and a year of history ending on
:data:`DEMO_DAY`. Built once per test module (:func:`demo_clinic`), then only read."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from ketadesk.access.permissions import Role, command_line_actor
from ketadesk.access.users import create_user
from ketadesk.db import Database
from ketadesk.demo.generator import Accounts, DemoSpec, generate
from ketadesk.migrations import open_database

DEMO_DAY = date(2026, 12, 7)


def demo_clinic(folder: Path) -> Database:
    """Create and fill ``folder/demo.sqlite3``; the caller disposes of the database."""
    db = open_database(f"sqlite:///{folder / 'demo.sqlite3'}")
    generate(db, DemoSpec(patients=60, years=1, locations=3, seed=7, today=DEMO_DAY,
                          accounts=Accounts.NONE))
    with db.transaction() as session:  # someone to log in as (the window refuses otherwise)
        create_user(session, command_line_actor(), username="fit-admin",
                    full_name="Fit Admin", role=Role.ADMIN, password=uuid.uuid4().hex)
    return db
