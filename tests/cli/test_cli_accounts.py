"""Who the command line acts as: a linked account, ``--user`` with its password, or nobody.

The clinic is made as a real one is: ``ketadesk init --admin alice`` links alice to the
operating-system user running it. Which operating-system user runs a command is stated by
replacing :func:`ketadesk.access.os_accounts.os_user_name` (the tests run as one real user);
``--user``'s password is given on standard input, as a pipe or a script gives it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli.cli_helpers import Result, runner
from sqlalchemy import select

from ketadesk.access.models import AuditEntry, User
from ketadesk.db import Database

ALICE_PASSWORD = "correct horse battery staple 9"
NINA_PASSWORD = "another fine password 77"


@pytest.fixture
def as_os_user(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """``as_os_user("nina")``: the commands that follow run as that operating-system user."""

    def switch(name: str) -> None:
        monkeypatch.setattr("ketadesk.access.os_accounts.os_user_name", lambda: name)

    return switch


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    return runner(capsys, linked=False)  # nobody is linked behind the test's back


@pytest.fixture
def clinic(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_os_user: Callable[[str], None]
) -> Path:
    """A clinic made by ``init --admin alice`` as the OS user ``alice``, with the front-desk
    user nina (not linked), chosen through $KETADESK_DB."""
    path = tmp_path / "clinic.sqlite3"
    monkeypatch.setenv("KETADESK_DB", str(path))
    monkeypatch.setenv("KETADESK_ADMIN_PASSWORD", ALICE_PASSWORD)
    as_os_user("alice")
    assert cli("init", "--admin", "alice").code == 0
    monkeypatch.setenv("KETADESK_PASSWORD", NINA_PASSWORD)
    added = cli("user", "add", "nina", "--name", "Nina Park", "--role", "front_desk")
    assert added.code == 0, added.err
    monkeypatch.delenv("KETADESK_PASSWORD")
    return path


def typed(monkeypatch: pytest.MonkeyPatch, *lines: str) -> None:
    """Standard input holds ``lines`` (not a terminal), as from a pipe."""
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))


def refused(result: Result, message: str) -> None:
    assert (result.code, result.out) == (2, "")
    assert result.err == f"ketadesk: error: {message}\n"


def audit_actors(path: Path, action: str) -> list[str]:
    db = Database(f"sqlite:///{path}")
    try:
        with db.reading() as session:
            return list(session.scalars(select(AuditEntry.actor)
                                        .where(AuditEntry.action == action)
                                        .order_by(AuditEntry.id)))
    finally:
        db.dispose()


def nina(path: Path) -> User:
    db = Database(f"sqlite:///{path}")
    try:
        with db.reading() as session:
            user = session.scalars(select(User).where(User.username == "nina")).one()
            session.expunge(user)
            return user
    finally:
        db.dispose()


UNLINKED = ("the operating-system user {0} has no KetaDesk account linked to it; an "
            "administrator links one with: ketadesk --user ADMIN user link NAME --os-account "
            "{0} (or run the command with --user NAME)")
ADD_ZOE = ("patient", "add", "--family", "Ng", "--given", "Zoe", "--dob", "1990-01-02",
           "--sex", "F")


def test_init_links_its_administrator_to_whoever_ran_it(cli: Any, clinic: Path) -> None:
    listed = cli("user", "list", "--json").json()
    assert [(u["username"], u["os_account"]) for u in listed] == [("alice", "alice"),
                                                                  ("nina", None)]
    assert audit_actors(clinic, "create")[-1] == "alice (os:alice)"  # nina, added by alice


def test_an_unlinked_os_user_gets_nothing_but_help_and_version(
    cli: Any, clinic: Path, as_os_user: Callable[[str], None]
) -> None:
    as_os_user("mallory")
    for command in (("patient", "find", "x"), ("user", "list"), ("report", "revenue"),
                    ("backup",), ("audit",), ("init",), ("user", "link", "nina",
                                                         "--os-account", "mallory")):
        refused(cli(*command), UNLINKED.format("mallory"))
    assert cli("--help").code == 0
    assert cli("--version").code == 0
    assert cli("patient", "find", "--help").code == 0


def test_init_needs_no_account_on_a_new_database(
    cli: Any, tmp_path: Path, as_os_user: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    as_os_user("mallory")
    path = tmp_path / "new.sqlite3"
    assert cli("init", "--db", str(path)).code == 0  # no users yet: anyone may
    refused(cli("patient", "find", "--db", str(path)),
            "this database has no users yet; create its first administrator with: "
            "ketadesk init --admin USER")
    monkeypatch.setenv("KETADESK_ADMIN_PASSWORD", ALICE_PASSWORD)
    assert cli("init", "--db", str(path), "--admin", "mal").code == 0
    assert cli("patient", "find", "--db", str(path), "--json").json() == []


def test_a_linked_account_acts_with_its_own_role(
    cli: Any, clinic: Path, as_os_user: Callable[[str], None]
) -> None:
    assert cli("user", "link", "nina", "--os-account", "nina").out == (
        "Commands run by the operating-system account nina now act as nina.\n")
    as_os_user("nina")
    assert cli(*ADD_ZOE).code == 0  # the front desk registers patients
    refused(cli("report", "revenue"),
            "nina (Front desk) may not read the manager's reports (revenue, receivables, "
            "operations)")
    refused(cli("backup"), "nina (Front desk) may not manage users")
    refused(cli("user", "link", "nina", "--os-account", "root"),
            "nina (Front desk) may not manage users")
    assert audit_actors(clinic, "create")[-1] == "nina (os:nina)"  # the patient
    as_os_user("alice")
    rows = cli("audit", "--user", "nina", "--json").json()
    assert rows and all(row["user"] == "nina (os:nina)" for row in rows)


def test_user_with_the_right_password_on_standard_input(
    cli: Any, clinic: Path, as_os_user: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    as_os_user("mallory")
    typed(monkeypatch, NINA_PASSWORD)
    added = cli("--user", "nina", *ADD_ZOE)
    assert added.code == 0, added.err
    assert audit_actors(clinic, "login") == ["nina (os:mallory)"]
    assert audit_actors(clinic, "create")[-1] == "nina (os:mallory)"
    typed(monkeypatch, NINA_PASSWORD)
    refused(cli("--user", "nina", "report", "revenue"),
            "nina (Front desk) may not read the manager's reports (revenue, receivables, "
            "operations)")


def test_a_wrong_password_is_refused_counted_and_audited(
    cli: Any, clinic: Path, as_os_user: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    as_os_user("mallory")
    typed(monkeypatch, "not her password")
    refused(cli("--user", "nina", "patient", "find", "x"), "wrong user name or password")
    assert nina(clinic).failed_logins == 1
    assert audit_actors(clinic, "login-failed") == ["nina (os:mallory)"]
    typed(monkeypatch)  # nothing at all on standard input
    refused(cli("--user", "nina", "patient", "find", "x"),
            "no password for --user nina: type it at the prompt, or give it as the first line "
            "of standard input")
    typed(monkeypatch, NINA_PASSWORD)
    refused(cli("--user", "nobody-here", "patient", "find", "x"), "wrong user name or password")


def test_a_locked_account_is_refused_even_with_the_right_password(
    cli: Any, clinic: Path, as_os_user: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETADESK_LOCK_AFTER", "2")
    as_os_user("mallory")
    for _ in range(2):
        typed(monkeypatch, "guess")
        assert cli("--user", "nina", "patient", "find", "x").code == 2
    assert nina(clinic).locked_until is not None
    typed(monkeypatch, NINA_PASSWORD)
    result = cli("--user", "nina", "patient", "find", "x")
    assert result.code == 2 and "the account is locked until" in result.err
    assert audit_actors(clinic, "login") == []


def test_a_reset_password_sends_the_user_to_passwd_first(
    cli: Any, clinic: Path, as_os_user: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETADESK_PASSWORD", "amber lantern meadow 31")
    assert cli("user", "reset", "nina").code == 0  # by alice, linked
    as_os_user("mallory")
    typed(monkeypatch, "amber lantern meadow 31")
    refused(cli("--user", "nina", "patient", "find", "x"),
            "an administrator reset nina's password; choose a new one first with: "
            "ketadesk user passwd nina")
    monkeypatch.setenv("KETADESK_OLD_PASSWORD", "amber lantern meadow 31")
    monkeypatch.setenv("KETADESK_PASSWORD", NINA_PASSWORD)
    assert cli("user", "passwd", "nina").code == 0  # no account needed: the old one proves it
    typed(monkeypatch, NINA_PASSWORD)
    assert cli("--user", "nina", "patient", "find", "x").code == 0


def test_link_and_unlink(cli: Any, clinic: Path, as_os_user: Callable[[str], None]) -> None:
    assert cli("user", "link", "nina", "--os-account", "nina").code == 0
    refused(cli("user", "link", "alice", "--os-account", "nina"),
            "the operating-system account nina is already linked to nina; unlink it first "
            "with: ketadesk user unlink nina")
    refused(cli("user", "link", "nina", "--os-account", "nina park"),
            "--os-account: 'nina park' is not an operating-system account name; use 1-60 "
            "letters, digits, dots, dashes or underscores")
    refused(cli("user", "link", "nobody-here", "--os-account", "x"), "no user called nobody-here")
    table = cli("user", "list").out
    assert "nina" in table.splitlines()[3].split()[-2:]
    assert cli("user", "unlink", "nina", "--json").json()["os_account"] is None
    assert audit_actors(clinic, "link-os-account")[-1] == "alice (os:alice)"
    assert audit_actors(clinic, "unlink-os-account") == ["alice (os:alice)"]
    as_os_user("nina")
    refused(cli("patient", "find", "x"), UNLINKED.format("nina"))


def test_a_disabled_users_link_gives_nothing(
    cli: Any, clinic: Path, as_os_user: Callable[[str], None]
) -> None:
    assert cli("user", "link", "nina", "--os-account", "nina").code == 0
    assert cli("user", "disable", "nina").code == 0
    as_os_user("nina")
    refused(cli("patient", "find", "x"), UNLINKED.format("nina"))


def test_a_linked_administrator_backs_up_without_a_prompt(
    cli: Any, clinic: Path, tmp_path: Path
) -> None:
    out = tmp_path / "nightly.kdbackup"
    done = cli("backup", "--out", str(out))  # as alice, linked by init: what cron runs
    assert done.code == 0, done.err
    assert out.exists()


def test_demo_data_links_the_demo_administrator(
    cli: Any, tmp_path: Path, as_os_user: Callable[[str], None]
) -> None:
    as_os_user("dev")
    path = tmp_path / "demo.sqlite3"
    made = cli("demo-data", "--db", str(path), "--patients", "3", "--years", "1",
               "--locations", "1", "--json")
    assert made.code == 0, made.err
    listed = {u["username"]: u["os_account"]
              for u in cli("user", "list", "--db", str(path), "--json").json()}
    assert listed["admin"] == "dev"
    assert [name for name, account in listed.items() if account] == ["admin"]


def test_only_seeding_uses_the_seeding_actor() -> None:
    """KetaDesk's own actor writes shipped defaults where there are no users yet; a face
    using it anywhere else would act as an administrator without logging in."""
    root = Path(__file__).resolve().parents[2] / "ketadesk"
    users = {str(path.relative_to(root)) for path in root.rglob("*.py")
             if "seeding_actor(" in path.read_text(encoding="utf-8")}
    assert users == {"access/permissions.py", "ui/app.py", "cli/setup.py",
                     "demo/generator.py"}
