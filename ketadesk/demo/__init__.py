"""The demo clinic and the chain-scale data generator.

``ketadesk --demo`` opens :func:`ensure_demo_clinic`'s database, a SQLite file of its own
beside (never inside) the clinic's real data, created and filled on first use and logged
into as :data:`DEMO_USER` with the published :data:`DEMO_PASSWORD` — the only database
where that password exists. ``ketadesk demo-data`` asks :func:`demo_target` where it may
write (the demo file by default, never the clinic's database) and the benchmarks call
:func:`~ketadesk.demo.generator.generate` directly, at any size.
"""

from __future__ import annotations

from contextlib import suppress

from ketadesk.access.os_accounts import os_user_name
from ketadesk.clinic.patients import count_patients
from ketadesk.config import demo_database_url
from ketadesk.db import Database
from ketadesk.demo.generator import (
    DEMO_PASSWORD,
    DEMO_USER,
    DEMO_USERS,
    Accounts,
    DemoAccount,
    DemoSpec,
    DemoSummary,
    clinic_records,
    describe_records,
    generate,
)
from ketadesk.demo.target import DemoTarget, demo_target
from ketadesk.errors import Conflict
from ketadesk.migrations import open_database

__all__ = [
    "DEMO_PASSWORD", "DEMO_USER", "DEMO_USERS", "Accounts", "DemoAccount", "DemoSpec",
    "DemoSummary", "DemoTarget", "clinic_records", "demo_target", "describe_records",
    "ensure_demo_clinic", "first_use_spec", "generate", "renew_published_password",
]


def first_use_spec() -> DemoSpec:
    """The demo created on first use: small enough to build in well under three seconds.

    Its users log in with the published :data:`DEMO_PASSWORD`: it is the demo's own file.
    """
    return DemoSpec(patients=600, locations=3, seed=7, accounts=Accounts.PUBLIC)


def ensure_demo_clinic() -> Database:
    """Open (migrating) the demo clinic's own file (:func:`ketadesk.config.demo_database_url`),
    filling it with the demo clinic if it has no patients.

    It takes no URL: the published password must never land in any other database. The
    caller owns the returned :class:`Database` and disposes of it.
    """
    db = open_database(demo_database_url())
    with db.reading() as session:
        empty = count_patients(session, include_inactive=True) == 0
    if empty:
        # A Conflict means it holds clinic records after all: another window filled it
        # between our look and our write transaction, or someone set a clinic up by hand.
        with suppress(Conflict):
            generate(db, first_use_spec(), os_account=os_user_name())
    return db


# Published before the password strength rule refused it (issue 13); a demo file made then
# still holds it, and its users are moved to today's published password on first open.
_FORMER_DEMO_PASSWORD = "demo-password"


def renew_published_password(db: Database) -> bool:
    """Move demo users still on the former published password to :data:`DEMO_PASSWORD`;
    whether any was. Called only when the published password is refused (argon2 is slow)."""
    from sqlalchemy import select

    from ketadesk.access.models import User
    from ketadesk.access.passwords import hash_password, verify

    names = [name for name, _full, _role in DEMO_USERS]
    renewed = False
    with db.transaction() as session:
        for user in session.scalars(select(User).where(User.username.in_(names))):
            if verify(user.password_hash, _FORMER_DEMO_PASSWORD):
                user.password_hash = hash_password(DEMO_PASSWORD)
                renewed = True
    return renewed
