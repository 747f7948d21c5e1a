"""Users, log-in, the permission table and the audit log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access import audit, users
from ketadesk.access.models import AuditEntry, User
from ketadesk.access.permissions import ROLE_PERMISSIONS, Actor, Permission, Role
from ketadesk.errors import AuthenticationFailed, Conflict, PermissionDenied, ValidationError

PASSWORD = "correct horse battery"


def add(session: Session, admin: Actor, name: str, role: Role = Role.FRONT_DESK) -> User:
    return users.create_user(
        session, admin, username=name, full_name=name.title(), role=role, password=PASSWORD
    )


def test_password_is_hashed_with_argon2_and_log_in_works(session: Session, admin: Actor) -> None:
    user = add(session, admin, "maria")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    actor = users.authenticate(session, " Maria ", PASSWORD)
    assert actor == Actor(username="maria", role=Role.FRONT_DESK, user_id=user.id)
    assert user.last_login_at is not None


def test_wrong_password_and_unknown_user_read_the_same(session: Session, admin: Actor) -> None:
    add(session, admin, "maria")
    with pytest.raises(AuthenticationFailed, match="wrong user name or password"):
        users.authenticate(session, "maria", "not the password")
    with pytest.raises(AuthenticationFailed, match="wrong user name or password"):
        users.authenticate(session, "nobody", PASSWORD)


def test_disabled_users_cannot_log_in(session: Session, admin: Actor) -> None:
    add(session, admin, "maria")
    users.set_active(session, admin, "maria", False)
    with pytest.raises(AuthenticationFailed, match="disabled"):
        users.authenticate(session, "maria", PASSWORD)
    users.set_active(session, admin, "maria", True)
    assert users.authenticate(session, "maria", PASSWORD).username == "maria"


def test_bad_fields_are_all_reported(session: Session, admin: Actor) -> None:
    with pytest.raises(ValidationError) as caught:
        users.create_user(
            session, admin, username="9 bad", full_name=" ", role=Role.BILLING, password="short"
        )
    assert {p.field for p in caught.value.problems} == {"username", "full_name", "password"}


def test_user_names_are_unique(session: Session, admin: Actor) -> None:
    add(session, admin, "maria")
    with pytest.raises(Conflict, match="already a user called maria"):
        add(session, admin, "MARIA")


def test_only_admins_manage_users(session: Session, admin: Actor) -> None:
    manager = Actor(username="boss", role=Role.MANAGER)
    with pytest.raises(PermissionDenied, match=r"boss \(Manager\) may not manage users"):
        add(session, manager, "maria")
    with pytest.raises(PermissionDenied):
        users.list_users(session, manager)


def test_first_admin_only_on_an_empty_database(session: Session, admin: Actor) -> None:
    users.create_first_admin(session, admin, username="root", password=PASSWORD)
    with pytest.raises(Conflict, match="already has users"):
        users.create_first_admin(session, admin, username="root2", password=PASSWORD)


def test_admins_cannot_lock_themselves_out(session: Session, admin: Actor) -> None:
    me = add(session, admin, "ada", Role.ADMIN)
    actor = Actor(username="ada", role=Role.ADMIN, user_id=me.id)
    with pytest.raises(Conflict, match="your own account"):
        users.set_active(session, actor, "ada", False)


def test_parse_role_accepts_what_people_type() -> None:
    assert users.parse_role("Front desk") is Role.FRONT_DESK
    assert users.parse_role("front-desk") is Role.FRONT_DESK
    with pytest.raises(ValidationError, match="'nurse' is not a role"):
        users.parse_role("nurse")


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (Role.FRONT_DESK, Permission.PATIENT_EDIT, Permission.CLINIC_SETUP),
        (Role.CLINICAL, Permission.PATIENT_EDIT, Permission.POLICY_EDIT),
        (Role.BILLING, Permission.POLICY_EDIT, Permission.USER_ADMIN),
        (Role.MANAGER, Permission.CLINIC_SETUP, Permission.USER_ADMIN),
        (Role.ADMIN, Permission.USER_ADMIN, None),
    ],
)
def test_permission_table(role: Role, allowed: Permission, refused: Permission | None) -> None:
    actor = Actor(username="x", role=role)
    actor.require(allowed)
    if refused is not None:
        assert not actor.can(refused)
        with pytest.raises(PermissionDenied, match=re.escape(refused.label)):
            actor.require(refused)


def test_every_role_can_view_patients() -> None:
    assert all(Permission.PATIENT_VIEW in perms for perms in ROLE_PERMISSIONS.values())


def test_audit_rows_record_who_and_what(session: Session, admin: Actor) -> None:
    user = add(session, admin, "maria")
    users.change_role(session, admin, "maria", Role.BILLING)
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "user").order_by(AuditEntry.id)
    ).all()
    assert [(r.action, r.actor, r.entity_id) for r in rows] == [
        ("create", "test-admin", str(user.id)),
        ("update", "test-admin", str(user.id)),
    ]
    assert "password_hash" not in (rows[0].after or {})
    assert rows[1].before is not None and rows[1].before["role"] == "front_desk"
    history = audit.history(session, admin, "user", user.id)
    assert [h.action for h in history] == ["update", "create"]
    with pytest.raises(PermissionDenied):
        audit.history(session, Actor(username="fd", role=Role.FRONT_DESK))


def test_the_seeding_actor_is_no_user_anyone_could_log_in_as() -> None:
    from ketadesk.access.permissions import SEEDING, seeding_actor

    actor = seeding_actor()
    assert actor.signature == SEEDING and actor.user_id is None
    assert not users._USERNAME.match(SEEDING)  # no account can be called that
    assert actor.role is Role.ADMIN


def test_record_update_keeps_only_what_changed(session: Session, admin: Actor) -> None:
    nothing = audit.record_update(session, admin, "thing", 1, {"a": 1, "b": 2}, {"a": 1, "b": 2})
    assert nothing is None
    entry = audit.record_update(session, admin, "thing", 1, {"a": 1, "b": 2}, {"a": 1, "b": 3})
    assert entry is not None
    assert (entry.action, entry.before, entry.after) == ("update", {"b": 2}, {"b": 3})
