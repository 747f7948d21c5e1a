"""A demo file made before the password strength rule still opens with --demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ketadesk.access.models import User
from ketadesk.access.passwords import hash_password
from ketadesk.access.permissions import Role, seeding_actor
from ketadesk.access.users import authenticate, create_user
from ketadesk.db import Database
from ketadesk.demo import DEMO_PASSWORD, DEMO_USER, renew_published_password
from ketadesk.errors import AuthenticationFailed
from ketadesk.migrations import open_database


def _demo_users(tmp_path: Path, former: str) -> Database:
    db = open_database(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    with db.transaction() as session:
        for name in (DEMO_USER, "admin"):
            create_user(session, seeding_actor(), username=name, full_name=name.title(),
                        role=Role.MANAGER, password="a-Strong-passphrase-42")
        for user in session.scalars(select(User)):
            user.password_hash = hash_password(former)
    return db


def test_users_on_the_former_password_move_to_todays(tmp_path: Path) -> None:
    db = _demo_users(tmp_path, "demo-password")
    with pytest.raises(AuthenticationFailed), db.transaction() as session:
        authenticate(session, DEMO_USER, DEMO_PASSWORD)
    assert renew_published_password(db) is True
    with db.transaction() as session:
        assert authenticate(session, DEMO_USER, DEMO_PASSWORD).username == DEMO_USER
        assert authenticate(session, "admin", DEMO_PASSWORD).username == "admin"
    db.dispose()


def test_a_password_someone_chose_is_left_alone(tmp_path: Path) -> None:
    db = _demo_users(tmp_path, "Someone's-own-choice-77")
    assert renew_published_password(db) is False
    with pytest.raises(AuthenticationFailed), db.transaction() as session:
        authenticate(session, DEMO_USER, DEMO_PASSWORD)
    db.dispose()
