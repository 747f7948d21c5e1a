"""A small demo clinic for window tests that want the whole app filled: the demo generator's
three locations (with their long chain names), sixty patients and a year of history ending on
:data:`DEMO_DAY`. Built once per test module (:func:`demo_clinic`), then only read."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from ketadesk.access.os_accounts import os_user_name
from ketadesk.access.permissions import Role, seeding_actor
from ketadesk.access.users import create_user
from ketadesk.db import Database
from ketadesk.demo.generator import FIXED_DAY_NOW, Accounts, DemoSpec, generate
from ketadesk.migrations import open_database

DEMO_DAY = date(2026, 12, 7)
# The floor as it stands mid-day. Without it, on DEMO_DAY itself the generator takes the
# real time of day, and late in the afternoon the floor was empty (tests failed after 19:45
# UTC on 2026-12-07 only).
DEMO_NOW = datetime.combine(DEMO_DAY, FIXED_DAY_NOW, UTC)


def demo_clinic(folder: Path) -> Database:
    """Create and fill ``folder/demo.sqlite3``; the caller disposes of the database."""
    db = open_database(f"sqlite:///{folder / 'demo.sqlite3'}")
    generate(db, DemoSpec(patients=60, years=1, locations=3, seed=7, today=DEMO_DAY,
                          accounts=Accounts.NONE, now=DEMO_NOW))
    with db.transaction() as session:  # someone to log in as (the window refuses otherwise)
        admin = create_user(session, seeding_actor(), username="fit-admin",
                            full_name="Fit Admin", role=Role.ADMIN, password=uuid.uuid4().hex)
        admin.os_account = os_user_name()  # a screenshot acts as the linked account

    return db
