"""The audit log's hash chain: rows written through the audit service link up, and tampering
done around the append-only triggers (plain sqlite3, PostgreSQL superuser SQL) is found and
named; two processes writing at once keep one chain."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from billing.billing_helpers import ADMIN, billing_clinic
from builders import money
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.audit_chain import GENESIS, Checkpoint, content, next_chain, verify_chain
from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.models import EntryKind, LedgerEntry, PaymentMethod
from ketadesk.db import Database, utcnow
from ketadesk.errors import AppendOnly, PermissionDenied

NURSE = Actor(username="nina", role=Role.CLINICAL)


def write_log(db: Database, actor: Actor) -> None:
    """Six rows: three single records and a bulk of three."""
    with db.transaction() as session:
        audit.record(session, actor, "view", "patient", "K-1001")
        audit.record(session, actor, "update", "patient", "K-1001", before={"a": 1}, after={"a": 2})
        audit.record(session, actor, "create", "note", 7, after={"text": "dosed 0.5 mg/kg"})
        bulk = [(i, {"n": i}) for i in (1, 2, 3)]
        audit.record_many(session, actor, "post", "ledger_entry", bulk)


def tamper(db: Database, *statements: str) -> None:
    """Run SQL around the append-only triggers, as someone with the database file or a
    superuser login could."""
    if db.is_sqlite:
        path = db.engine.url.database
        assert path is not None
        raw = sqlite3.connect(path)
        raw.execute("DROP TRIGGER audit_entry_no_update")
        raw.execute("DROP TRIGGER audit_entry_no_delete")
        for statement in statements:
            raw.execute(statement)
        raw.commit()
        raw.close()
        return
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE audit_entry DISABLE TRIGGER USER")
        for statement in statements:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql("ALTER TABLE audit_entry ENABLE TRIGGER USER")


@pytest.fixture
def logged(database: Database) -> Iterator[Database]:
    write_log(database, NURSE)
    yield database


def verify(db: Database) -> audit.ChainReport:
    with db.reading() as session:
        return verify_chain(session)


def test_rows_written_through_the_service_form_one_chain(logged: Database) -> None:
    with logged.reading() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [r.id for r in rows] == [1, 2, 3, 4, 5, 6]
    previous = GENESIS
    for row in rows:
        assert row.chain == next_chain(previous, row)
        previous = row.chain
    report = verify(logged)
    assert report.ok and report.rows_checked == 6
    assert report.last_good == Checkpoint(6, previous)
    assert "6 rows checked" in report.sentence()


def test_a_changed_actor_is_named_as_altered(logged: Database) -> None:
    tamper(logged, "UPDATE audit_entry SET actor = 'someone-else' WHERE id = 3")
    report = verify(logged)
    assert not report.ok and report.broken is not None
    assert (report.broken.row_id, report.broken.kind) == (3, "altered")
    assert report.broken.sentence.startswith("Row 3 was altered")
    assert report.rows_checked == 2


def test_a_changed_before_value_is_named_as_altered(logged: Database) -> None:
    tamper(logged, """UPDATE audit_entry SET "before" = '{"a": 5}' WHERE id = 2""")
    broken = verify(logged).broken
    assert broken is not None and (broken.row_id, broken.kind) == (2, "altered")


def test_a_deleted_row_is_named(logged: Database) -> None:
    tamper(logged, "DELETE FROM audit_entry WHERE id = 4")
    broken = verify(logged).broken
    assert broken is not None and (broken.row_id, broken.kind) == (5, "deleted")
    assert broken.sentence == "Row 4 was deleted: row 5 no longer follows row 3."


def test_a_row_inserted_in_the_middle_is_named(logged: Database) -> None:
    # Make room at id 3 by renumbering the rows after it, then slip a row in.
    tamper(
        logged,
        "UPDATE audit_entry SET id = id + 1000 WHERE id >= 3",
        "UPDATE audit_entry SET id = id - 999 WHERE id >= 1000",
        "INSERT INTO audit_entry (id, at, actor, action, entity, entity_id, chain) VALUES "
        "(3, '2026-01-01 09:00:00', 'nina', 'view', 'patient', 'K-2002', '" + "a" * 64 + "')",
    )
    broken = verify(logged).broken
    assert broken is not None and (broken.row_id, broken.kind) == (3, "inserted")
    assert "renumbered" in broken.sentence


def test_a_row_with_no_chain_is_named(logged: Database) -> None:
    tamper(
        logged,
        "INSERT INTO audit_entry (id, at, actor, action, entity, entity_id) VALUES "
        "(7, '2026-01-01 09:00:00', 'nina', 'view', 'patient', 'K-2002')",
    )
    broken = verify(logged).broken
    assert broken is not None and (broken.row_id, broken.kind) == (7, "unchained")


def test_a_walk_from_a_checkpoint_checks_only_what_came_after(logged: Database) -> None:
    full = verify(logged)
    with logged.reading() as session:
        three = session.scalar(select(AuditEntry.chain).where(AuditEntry.id == 3))
        assert three is not None
        part = verify_chain(session, start=Checkpoint(3, three))
        first = verify_chain(session, limit=2)
    assert part.ok and part.rows_checked == 3 and part.last_good == full.last_good
    assert first.ok and not first.complete and first.last_good is not None
    assert first.last_good.row_id == 2
    tamper(
        logged,
        "UPDATE audit_entry SET action = 'print' WHERE id = 3",
        "UPDATE audit_entry SET actor = 'x' WHERE id = 5",
    )
    with logged.reading() as session:
        again = verify_chain(session, start=Checkpoint(3, three))
    # From the checkpoint only what came after is read; a full walk finds row 3 as well.
    assert again.broken is not None and again.broken.row_id == 5
    assert again.rows_checked == 1
    broken = verify(logged).broken
    assert broken is not None and broken.row_id == 3


def test_a_checkpoint_row_deleted_since_is_named(logged: Database) -> None:
    last = verify(logged).last_good
    assert last is not None
    tamper(logged, "DELETE FROM audit_entry WHERE id = 6")
    with logged.reading() as session:
        report = verify_chain(session, start=last)
    assert report.broken is not None and report.broken.kind == "deleted"
    assert report.broken.sentence == "Row 6, verified earlier, was deleted."


def test_a_rolled_back_row_leaves_no_hole(database: Database) -> None:
    with pytest.raises(RuntimeError), database.transaction() as session:
        audit.record(session, NURSE, "view", "patient", "K-1")
        raise RuntimeError("the change failed")
    write_log(database, NURSE)
    report = verify(database)
    assert report.ok and report.rows_checked == 6


WRITER = """
import sys
from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.models import EntryKind, LedgerEntry, PaymentMethod
from ketadesk.db import Database, utcnow
from ketadesk.errors import AppendOnly, PermissionDenied

db = Database(sys.argv[1])
actor = Actor(username=sys.argv[2], role=Role.CLINICAL)
for i in range(int(sys.argv[3])):
    with db.transaction() as session:
        audit.record(session, actor, "view", "patient", f"K-{i}")
        audit.record_many(session, actor, "post", "ledger_entry", [(i, {}), (i + 1, {})])
db.dispose()
"""


def test_two_processes_writing_at_once_keep_one_chain(database: Database) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    workers = [
        subprocess.Popen([sys.executable, "-c", WRITER, url, name, "15"]) for name in ("ann", "bob")
    ]
    assert [worker.wait(120) for worker in workers] == [0, 0]
    report = verify(database)
    assert report.ok, report.sentence()
    assert report.rows_checked == 2 * 15 * 3
    with database.reading() as session:
        actors = set(session.scalars(sa.select(AuditEntry.actor)))
    assert actors == {"ann", "bob"}


def test_allocations_are_audited_one_row_each_and_chained(session: Session) -> None:
    clinic = billing_clinic(session)

    def post(kind: EntryKind, amount: str) -> LedgerEntry:
        return ledger.post(
            session,
            ADMIN,
            patient_id=clinic.patient.id,
            location_id=clinic.location.id,
            kind=kind,
            amount=money(amount),
            posted_on=date(2026, 12, 1),
            description=amount,
            method=PaymentMethod.CARD if kind is EntryKind.PAYMENT else None,
        )

    charge, other = post(EntryKind.CHARGE, "100.00"), post(EntryKind.CHARGE, "50.00")
    payment = post(EntryKind.PAYMENT, "-120.00")
    single = ledger.allocate(session, ADMIN, payment, charge, money("70.00"))
    applications = [
        ledger.Application(payment, charge, money("30.00")),
        ledger.Application(payment, other, money("20.00")),
    ]
    assert ledger.allocate_many(session, ADMIN, applications) == 2
    session.flush()
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "allocate").order_by(AuditEntry.id)
    ).all()
    assert [(r.entity, r.entity_id, r.actor) for r in rows] == [
        ("allocation", str(single.id), ADMIN.username),
        ("allocation", f"{payment.id}>{charge.id}", ADMIN.username),
        ("allocation", f"{payment.id}>{other.id}", ADMIN.username),
    ]
    assert [r.after["amount"] for r in rows if r.after] == ["70.00", "30.00", "20.00"]
    assert {r.after["patient_id"] for r in rows if r.after} == {clinic.patient.id}
    assert verify_chain(session).ok


def test_search_filters_by_patient_user_dates_and_entity(session: Session) -> None:
    other = Actor(username="omar", role=Role.FRONT_DESK)
    audit.record(session, NURSE, "view", "patient", "K-1001")
    audit.record(session, other, "view", "statement", "K-1001")
    audit.record(session, other, "view", "invoice", 5, after={"mrn": "K-1001"})
    audit.record(session, other, "post", "ledger_entry", 9, after={"patient_id": 42})
    audit.record(session, NURSE, "view", "patient", "K-2002")
    session.flush()
    manager = Actor(username="mia", role=Role.MANAGER)

    def ids(**given: object) -> list[str]:
        lines = audit.search(session, manager, audit.AuditFilter(**given), oldest_first=True)
        return [f"{line.actor}:{line.entity}:{line.entity_id}" for line in lines]

    assert ids(mrn="K-1001", patient_id=42) == [
        "nina:patient:K-1001",
        "omar:statement:K-1001",
        "omar:invoice:5",
        "omar:ledger_entry:9",
    ]
    assert ids(username=" Nina ") == ["nina:patient:K-1001", "nina:patient:K-2002"]
    assert ids(entity="invoice") == ["omar:invoice:5"]
    today = utcnow().date()
    assert len(ids(start=today, end=today)) == 5
    assert ids(end=today - timedelta(days=1)) == []
    with pytest.raises(PermissionDenied):
        audit.search(session, other, audit.AuditFilter())
    newest = audit.search(session, manager, audit.AuditFilter(), limit=1)
    assert audit.sentence(newest[0]) == "nina viewed patient K-2002."


def test_an_administrator_logging_in_checks_the_chain_from_the_last_checkpoint(
    logged: Database,
) -> None:
    boss = Actor(username="ada", role=Role.ADMIN)
    with logged.transaction() as session:
        assert audit.check_at_login(session, NURSE) is None
        first = audit.check_at_login(session, boss, budget=4)
    assert first is not None and first.ok and not first.complete and first.rows_checked == 4
    with logged.transaction() as session:
        second = audit.check_at_login(session, boss, budget=4)
    # Rows 5 and 6, then the verify row the first check left (row 7); this check leaves row 8.
    assert second is not None and second.ok and second.rows_checked == 3
    with logged.transaction() as session:
        audit.record(session, NURSE, "view", "patient", "K-1001")
    tamper(logged, "UPDATE audit_entry SET actor = 'x' WHERE id = 9")
    with logged.transaction() as session:
        third = audit.check_at_login(session, boss)
    assert third is not None and third.broken is not None and third.broken.row_id == 9


def test_migration_0008_chains_the_rows_already_in_the_log(database: Database) -> None:
    from alembic import command

    from ketadesk import migrations

    config = migrations._config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    with database.engine.begin() as connection:
        for n in range(1, 4):
            connection.execute(
                sa.text(
                    "INSERT INTO audit_entry (id, at, actor, action, entity, entity_id, after) "
                    "VALUES (:id, :at, 'nina', 'update', 'patient', 'K-1', :after)"
                ),
                {"id": n * 2, "at": utcnow(), "after": f'{{"phone": "212555010{n}"}}'},
            )
    migrations.upgrade(database)
    report = verify(database)
    assert report.ok and report.rows_checked == 3
    # The append-only trigger is back: the backfill lifted it for itself alone.
    with pytest.raises(AppendOnly), database.transaction() as session:
        session.execute(sa.text("UPDATE audit_entry SET actor = 'x' WHERE id = 2"))
    write_log(database, NURSE)
    assert verify(database).rows_checked == 9


@given(
    actor=st.text(max_size=12),
    entity_id=st.text(max_size=12),
    user_id=st.none() | st.integers(1, 10**6),
    after=st.none()
    | st.dictionaries(
        st.text(max_size=6),
        st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.lists(st.integers()),
        max_size=4,
    ),
)
@settings(max_examples=60, deadline=None)
def test_content_is_the_canonical_json_with_sorted_keys(
    actor: str, entity_id: str, user_id: int | None, after: dict[str, object] | None
) -> None:
    at = datetime(2026, 12, 7, 21, 30, 0, 1234, tzinfo=UTC)
    row = {
        "id": 7,
        "at": at,
        "actor": actor,
        "user_id": user_id,
        "action": "update",
        "entity": "patient",
        "entity_id": entity_id,
        "before": None,
        "after": after,
    }
    doc = {**row, "at": "2026-12-07T21:30:00.001234+00:00"}
    expected = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    assert content(row) == expected


def test_failed_log_ins_are_chained_with_the_name_tried_and_never_the_password(
    database: Database,
) -> None:
    from ketadesk.access import users

    boss = Actor(username="ada", role=Role.ADMIN)
    with database.transaction() as session:
        users.create_user(
            session,
            boss,
            username="maria",
            full_name="Maria Gómez",
            role=Role.FRONT_DESK,
            password="correct horse battery staple",
        )
    for name in ("maria", "nobody"):
        with database.transaction() as session:
            users.log_in(session, name, "wrong-password-123")
    with database.reading() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login-failed").order_by(AuditEntry.id)
        ).all()
        lines = audit.search(session, boss, audit.AuditFilter(entity="user"), oldest_first=True)
    assert [r.actor for r in rows] == ["maria", "nobody"]
    assert all("wrong-password-123" not in str(r.after) for r in rows)
    assert audit.sentence(lines[-1]).startswith("A log-in as nobody was refused")
    assert verify(database).ok


def test_the_daily_check_finds_a_row_altered_behind_the_login_checkpoint(
    logged: Database,
) -> None:
    boss = Actor(username="ada", role=Role.ADMIN)
    with logged.transaction() as session:
        first = audit.check_at_login(session, boss)
    assert first is not None and first.ok  # rows 1-6 verified; row 7 is the checkpoint
    tamper(logged, "UPDATE audit_entry SET actor = 'someone-else' WHERE id = 3")
    with logged.transaction() as session:
        behind = audit.check_at_login(session, boss)
    assert behind is not None and behind.ok  # the walk starts after the checkpoint

    daily = audit.check_daily(logged)

    assert daily.broken is not None and daily.broken.row_id == 3
    with logged.transaction() as session:
        shown = audit.check_at_login(session, boss)
    assert shown is not None and shown.broken is not None
    assert shown.broken.sentence.startswith("Row 3 was altered")
    with logged.reading() as session:
        failed = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "verify_failed")
        ).one()
    assert failed.actor == "system:daily-check" and failed.entity_id == "3"


def test_a_daily_check_that_holds_becomes_the_login_checkpoint(logged: Database) -> None:
    report = audit.check_daily(logged)
    assert report.ok and report.rows_checked == 6
    boss = Actor(username="ada", role=Role.ADMIN)
    with logged.transaction() as session:
        login = audit.check_at_login(session, boss)
    assert login is not None and login.ok and login.rows_checked == 1  # the verify_full row


def test_the_daily_backup_runs_the_audit_check_after_the_copy(
    logged: Database, tmp_path: Path
) -> None:
    from ketadesk.access.daily_check import check_audit_chain
    from ketadesk.backups import daily

    environ = {"KETADESK_BACKUP_DIR": str(tmp_path / "backups")}
    thread = daily.start_daily(logged.url, environ=environ, after=check_audit_chain)
    assert thread is not None
    thread.join()
    assert list((tmp_path / "backups").iterdir())
    with logged.reading() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-1] == "verify_full"
