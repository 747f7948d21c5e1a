"""Lockout after wrong passwords in a row, password changes, resets and renames.

Each attempt runs in its own committed transaction, as the log-in dialog runs it, so the
count of wrong passwords is what the database kept. The clock is passed in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ketadesk.access import users
from ketadesk.access.models import AuditEntry, User
from ketadesk.access.permissions import Actor, Role
from ketadesk.config import AccountPolicy, account_policy
from ketadesk.db import Database
from ketadesk.errors import AuthenticationFailed, Conflict, InvalidValue, ValidationError

PASSWORD = "correct horse battery"
NEW = "violet kettle harbour"
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def add(db: Database, admin: Actor, name: str = "maria") -> None:
    with db.transaction() as session:
        users.create_user(
            session,
            admin,
            username=name,
            full_name="Maria Gómez",
            role=Role.FRONT_DESK,
            password=PASSWORD,
        )


def attempt(
    db: Database,
    password: str,
    *,
    at: datetime,
    name: str = "maria",
    policy: AccountPolicy | None = None,
) -> users.LoginAttempt:
    with db.transaction() as session:
        return users.log_in(session, name, password, now=at, policy=policy)


def account(db: Database, name: str = "maria") -> User:
    with db.reading() as session:
        return users.get_user(session, name)


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(
    database: Database, admin: Actor
) -> None:
    add(database, admin)
    for n in range(1, 5):
        refused = attempt(database, "not the password", at=T0 + timedelta(minutes=n))
        assert refused.refusal == "wrong user name or password"
        assert account(database).failed_logins == n
    fifth = attempt(database, "not the password", at=T0 + timedelta(minutes=5))
    assert fifth.locked_until == T0 + timedelta(minutes=20)
    assert fifth.refusal == (
        "5 wrong passwords in a row; the account is locked until 09:20 UTC on 2026-12-07; "
        "try again then, or ask an administrator to reset the password"
    )

    right_but_locked = attempt(database, PASSWORD, at=T0 + timedelta(minutes=19))
    assert right_but_locked.actor is None
    assert "locked until 09:20 UTC" in (right_but_locked.refusal or "")
    with pytest.raises(AuthenticationFailed, match="locked until"):
        right_but_locked.accepted()

    opened = attempt(database, PASSWORD, at=T0 + timedelta(minutes=20))
    assert opened.accepted().username == "maria"
    after = account(database)
    assert (after.failed_logins, after.locked_until) == (0, None)


def test_a_right_password_resets_the_count(database: Database, admin: Actor) -> None:
    add(database, admin)
    for _ in range(4):
        attempt(database, "not the password", at=T0)
    assert attempt(database, PASSWORD, at=T0).actor is not None
    assert account(database).failed_logins == 0
    for _ in range(4):
        assert attempt(database, "not the password", at=T0).locked_until is None
    assert attempt(database, "not the password", at=T0).locked_until is not None


def test_the_policy_sets_how_many_and_how_long(database: Database, admin: Actor) -> None:
    add(database, admin)
    policy = AccountPolicy(lock_after=2, lock_minutes=60)
    attempt(database, "nope nope nope", at=T0, policy=policy)
    locked = attempt(database, "nope nope nope", at=T0, policy=policy)
    assert locked.locked_until == T0 + timedelta(hours=1)


def test_the_policy_is_read_from_the_environment() -> None:
    assert account_policy({}) == AccountPolicy(5, 15, 10)
    assert account_policy(
        {"KETADESK_LOCK_AFTER": "3", "KETADESK_LOCK_MINUTES": "30", "KETADESK_IDLE_MINUTES": "2"}
    ) == AccountPolicy(3, 30, 2)
    with pytest.raises(InvalidValue, match="KETADESK_LOCK_AFTER must be a whole number"):
        account_policy({"KETADESK_LOCK_AFTER": "0"})


def test_every_refusal_is_audited(database: Database, admin: Actor) -> None:
    add(database, admin)
    attempt(database, "not the password", at=T0)
    attempt(database, "whatever it is", at=T0, name="nobody")
    with database.reading() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login-failed").order_by(AuditEntry.id)
        ).all()
        maria = users.get_user(session, "maria")
    assert [(r.actor, r.user_id, r.entity_id, r.after) for r in rows] == [
        ("maria", maria.id, str(maria.id), {"reason": "wrong password", "failed_logins": 1}),
        ("nobody", None, "?", {"reason": "unknown user"}),
    ]


def test_a_user_changes_their_own_password(database: Database, admin: Actor) -> None:
    add(database, admin)
    with database.transaction() as session:
        done = users.change_password(
            session, "maria", old_password=PASSWORD, new_password=NEW, now=T0
        )
    assert done.accepted().username == "maria"
    assert attempt(database, PASSWORD, at=T0).actor is None
    assert attempt(database, NEW, at=T0).actor is not None
    assert account(database).password_changed_at == T0


def test_a_wrong_old_password_counts_toward_the_lock(database: Database, admin: Actor) -> None:
    add(database, admin)
    with database.transaction() as session:
        refused = users.change_password(
            session, "maria", old_password="guess guess guess", new_password=NEW, now=T0
        )
    with pytest.raises(AuthenticationFailed):
        refused.accepted()
    assert account(database).failed_logins == 1
    assert attempt(database, NEW, at=T0).actor is None


def test_a_weak_or_unchanged_new_password_is_refused(database: Database, admin: Actor) -> None:
    add(database, admin)
    for weak, said in (
        (" " * 12, "must not be blank"),
        (PASSWORD, "must differ from the current password"),
        ("mariagomez1", "too easy to guess"),
    ):
        with pytest.raises(ValidationError) as caught, database.transaction() as session:
            users.change_password(session, "maria", old_password=PASSWORD, new_password=weak)
        assert said in caught.value.for_field("new_password")[0]
    assert account(database).failed_logins == 0


def test_a_reset_must_be_changed_at_the_next_log_in(database: Database, admin: Actor) -> None:
    add(database, admin)
    for _ in range(5):
        attempt(database, "not the password", at=T0)
    with database.transaction() as session:
        users.reset_password(session, admin, "maria", NEW, now=T0)  # also lifts the lock
    first = attempt(database, NEW, at=T0)
    assert first.actor is not None and first.must_change_password
    with database.transaction() as session:
        users.change_password(
            session, "maria", old_password=NEW, new_password="amber lantern meadow", now=T0
        ).accepted()
    assert not attempt(database, "amber lantern meadow", at=T0).must_change_password
    with database.reading() as session:
        row = session.scalars(select(AuditEntry).where(AuditEntry.action == "reset-password")).one()
    assert row.actor == "test-admin"
    assert row.after is not None and row.after["must_change_password"] is True
    assert "password_hash" not in row.after


def test_only_an_administrator_resets(database: Database, admin: Actor, front_desk: Actor) -> None:
    add(database, admin)
    from ketadesk.errors import PermissionDenied

    with pytest.raises(PermissionDenied), database.transaction() as session:
        users.reset_password(session, front_desk, "maria", NEW)


def test_renaming_keeps_the_account_and_audits_both_names(database: Database, admin: Actor) -> None:
    add(database, admin)
    add(database, admin, "bob")
    with (
        pytest.raises(Conflict, match="already a user called bob"),
        database.transaction() as session,
    ):
        users.rename_user(session, admin, "maria", " Bob ")
    with pytest.raises(ValidationError), database.transaction() as session:
        users.rename_user(session, admin, "maria", "9 bad")
    with database.transaction() as session:
        users.rename_user(session, admin, "maria", "mgomez")
    assert attempt(database, PASSWORD, at=T0, name="mgomez").accepted().username == "mgomez"
    assert attempt(database, PASSWORD, at=T0, name="maria").actor is None
    with database.reading() as session:
        row = session.scalars(select(AuditEntry).where(AuditEntry.action == "rename")).one()
    assert (row.before, row.after) == ({"username": "maria"}, {"username": "mgomez"})
