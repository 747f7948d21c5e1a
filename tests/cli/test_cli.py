"""The ``ketadesk`` command line: every command's happy path, errors, exit codes and JSON.

Most tests call :func:`ketadesk.cli.main.main` in-process on a SQLite file in ``tmp_path``;
a few run ``python -m ketadesk`` as a real subprocess to prove the entry point, the exit
statuses, that no traceback reaches the user and that commands never load Qt.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from builders import add_location, add_payer
from cli.cli_helpers import Result, link_os_admin, runner
from sqlalchemy import select

from ketadesk import __version__
from ketadesk.access.models import AuditEntry
from ketadesk.access.os_accounts import os_user_name
from ketadesk.access.permissions import seeding_actor
from ketadesk.cli import common
from ketadesk.cli.main import main
from ketadesk.clinic import policies
from ketadesk.clinic.models import Patient
from ketadesk.db import Database
from ketadesk.migrations import MigrationResult

PASSWORD = "correct-horse-battery"
ZOE = [
    "--family",
    "Łukasiewicz",
    "--given",
    "Zoë",
    "--dob",
    "1984-03-09",
    "--sex",
    "F",
    "--phone",
    "(212) 555-0142",
    "--diagnoses",
    "F33.2,F43.10",
    "--driver",
    "Ana Ng",
]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Any:
    """``cli("patient", "find", ...)`` runs main() and returns its status and output."""

    return runner(capsys)


@pytest.fixture
def db_path(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated SQLite file, chosen through $KETADESK_DB so commands need no --db."""
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(sqlite_template, path)
    link_os_admin(path)  # as the clinic's administrator did (for the subprocesses too)
    monkeypatch.setenv("KETADESK_DB", str(path))
    return path


def expect_one_error_line(result: Result, expected: str) -> None:
    assert result.code == 2
    assert result.err == f"ketadesk: error: {expected}\n"
    assert "Traceback" not in result.out + result.err


# --- the parser --------------------------------------------------------------------------

COMMANDS = [
    [],
    ["init"],
    ["user"],
    ["user", "add"],
    ["user", "list"],
    ["user", "disable"],
    ["user", "enable"],
    ["patient"],
    ["patient", "add"],
    ["patient", "find"],
    ["patient", "show"],
    ["patient", "import"],
    ["demo-data"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "ketadesk")
def test_help_works_for_every_command(cli: Any, command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.code == 0
    assert result.out.startswith(f"usage: ketadesk {' '.join(command)}".rstrip())
    assert "examples:" in result.out
    if command not in (["user"], ["patient"]):
        assert "--db URL" in result.out


def test_version(cli: Any) -> None:
    assert cli("--version") == Result(0, f"ketadesk {__version__}\n", "")


def test_usage_errors_exit_2(cli: Any) -> None:
    assert cli("frobnicate").code == 2
    missing = cli("patient", "add", "--family", "Ng")
    assert missing.code == 2
    assert "the following arguments are required: --given, --dob, --sex" in missing.err
    assert cli("user").code == 2
    assert cli("patient", "find", "--limit", "0").code == 2


def test_window_options_are_refused_with_a_command(cli: Any) -> None:
    result = cli("--demo", "patient", "find")
    assert result.code == 2
    assert "--demo, --screenshot, --view and --size are for the window" in result.err


def test_no_command_opens_the_window(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def run(args: Any) -> int:
        seen.append(args)
        return 0

    fake = types.ModuleType("ketadesk.ui.app")
    fake.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ketadesk.ui.app", fake)
    result = cli("--db", "x.sqlite3", "--demo", "--screenshot", "s.png", "--view", "billing")
    assert result.code == 0
    (args,) = seen
    assert (args.db, args.demo, args.screenshot, args.view) == (
        "x.sqlite3",
        True,
        "s.png",
        "billing",
    )


def test_db_option_works_before_and_after_the_command(
    cli: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KETADESK_DB")
    assert cli("--db", str(db_path), "patient", "add", *ZOE).code == 0
    assert "Zoë" in cli("patient", "find", "--db", str(db_path)).out
    assert "Zoë" in cli("--db", str(db_path), "patient", "find").out


# --- init ---------------------------------------------------------------------------------


def test_init_creates_then_reports_current(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "new" / "clinic.sqlite3"
    first = cli("init", "--db", str(path))
    assert first.code == 0
    assert first.out.startswith(f"Created a new KetaDesk database at {path} (schema ")
    again = cli("init", "--db", str(path))
    assert again.out.startswith(f"The database at {path} is already current (schema ")
    data = cli("init", "--db", str(path), "--json").json()
    assert data["created"] is False and data["before"] == data["after"]


def test_init_reports_a_migration_and_its_backup(
    cli: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup = db_path.parent / "backups" / "clinic-before-0002.sqlite3"
    monkeypatch.setattr(
        "ketadesk.migrations.upgrade", lambda db: MigrationResult("0001", "0002", backup)
    )
    result = cli("init")
    assert result.out == (
        f"Migrated the database at {db_path} from schema 0001 to 0002.\n"
        f"Backup of the previous file: {backup}\n"
        "Added 6 shipped protocols (iv-induction, im-induction, esketamine-induction, "
        "esketamine-maintenance, iv-booster, kap); edit them in Settings → Protocols.\n"
    )


def test_init_with_admin_from_the_environment(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clinic.sqlite3"
    monkeypatch.setenv("KETADESK_ADMIN_PASSWORD", PASSWORD)
    result = cli("init", "--db", str(path), "--admin", "alice")
    assert result.code == 0
    assert result.out.endswith(
        f"Created the administrator alice, linked to the operating-system account "
        f"{os_user_name()}: commands {os_user_name()} runs act as alice.\n")
    expect_one_error_line(
        cli("init", "--db", str(path), "--admin", "bob"),
        "this database already has users; add more with 'ketadesk user add'",
    )


def test_init_admin_without_a_password_source_changes_nothing(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite3"
    expect_one_error_line(
        cli("init", "--db", str(path), "--admin", "alice"),
        "no password for alice: set KETADESK_ADMIN_PASSWORD or run this in a terminal",
    )
    assert not path.exists()


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def prompts(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    asked: list[str] = []
    replies = iter(answers)

    def getpass(prompt: str) -> str:
        asked.append(prompt)
        return next(replies)

    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    monkeypatch.setattr("getpass.getpass", getpass)
    return asked


def test_init_admin_password_typed_twice(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clinic.sqlite3"
    asked = prompts(monkeypatch, PASSWORD, PASSWORD)
    assert cli("init", "--db", str(path), "--admin", "alice", "--json").json()["admin"] == "alice"
    assert asked == ["Password for alice: ", "Type it again: "]


def test_init_admin_passwords_that_differ_are_refused(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts(monkeypatch, PASSWORD, PASSWORD + "x")
    expect_one_error_line(
        cli("init", "--db", str(tmp_path / "c.sqlite3"), "--admin", "alice"),
        "the two passwords differ; nothing was changed",
    )


def test_init_admin_short_password_names_its_source(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETADESK_ADMIN_PASSWORD", "short")
    folder = tmp_path / "new"
    result = cli("init", "--db", str(folder / "c.sqlite3"), "--admin", "alice")
    assert result.err == (
        "ketadesk: error: password ($KETADESK_ADMIN_PASSWORD): must be at "
        "least 10 characters long\n"
    )
    assert result.code == 2 and not folder.exists()  # refused first: nothing was created


def test_init_admin_bad_name_creates_nothing(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETADESK_ADMIN_PASSWORD", PASSWORD)
    result = cli("init", "--db", str(tmp_path / "c.sqlite3"), "--admin", "Alice Smith")
    assert result.code == 2 and result.err.startswith("ketadesk: error: --admin: use 2–60")
    assert list(tmp_path.iterdir()) == []


# --- user ---------------------------------------------------------------------------------


def test_user_add_list_disable_enable(
    cli: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETADESK_PASSWORD", PASSWORD)
    added = cli("user", "add", "maria", "--name", "Maria Gómez", "--role", "front-desk")
    assert added == Result(0, "Added maria (Maria Gómez) as front desk.\n", "")
    table = cli("user", "list").out.splitlines()
    assert table[0].split() == ["User", "Name", "Role", "Status", "OS", "account", "Last",
                                "log-in"]
    assert table[3].split() == ["maria", "Maria", "Gómez", "front_desk", "enabled", "-",
                                "never"]
    assert cli("user", "disable", "maria").out == "maria is now disabled.\n"
    listed = cli("user", "list", "--json").json()
    assert [(u["username"], u["role"], u["active"], u["os_account"]) for u in listed] == [
        ("clinic-admin", "admin", True, os_user_name()), ("maria", "front_desk", False, None)
    ]
    assert cli("user", "enable", "maria", "--json").json()["active"] is True
    actions = [action for action, _ in audit_rows(db_path, "user")]
    assert actions == ["create", "disable", "enable"]


def audit_rows(path: Path, entity: str) -> list[tuple[str, str]]:
    """(action, actor) of the audit rows about ``entity``, oldest first."""
    db = Database(f"sqlite:///{path}")
    try:
        with db.reading() as session:
            rows = session.execute(
                select(AuditEntry.action, AuditEntry.actor)
                .where(AuditEntry.entity == entity)
                .order_by(AuditEntry.id)
            )
            return [(action, actor) for action, actor in rows]
    finally:
        db.dispose()


def test_user_actions_are_audited_as_the_linked_account_and_the_os_user(
    cli: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETADESK_PASSWORD", PASSWORD)
    monkeypatch.setattr("ketadesk.access.os_accounts.os_user_name", lambda: "pat")
    cli("user", "add", "maria", "--name", "Maria", "--role", "clinical")
    assert audit_rows(db_path, "user") == [("create", "clinic-admin (os:pat)")]


def test_user_errors(cli: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETADESK_PASSWORD", PASSWORD)
    expect_one_error_line(
        cli("user", "add", "maria", "--name", "M", "--role", "boss"),
        "--role: 'boss' is not a role; choose front_desk, clinical, billing, manager, admin",
    )
    expect_one_error_line(
        cli("user", "add", "Bad Name", "--name", " ", "--role", "admin"),
        "USER: use 2–60 lower-case letters, digits, dots, dashes or underscores, "
        "starting with a letter; --name: is required",
    )
    cli("user", "add", "maria", "--name", "Maria", "--role", "admin")
    expect_one_error_line(
        cli("user", "add", "maria", "--name", "Maria", "--role", "admin"),
        "there is already a user called maria",
    )
    expect_one_error_line(cli("user", "disable", "nobody"), "no user called nobody")
    monkeypatch.setenv("KETADESK_PASSWORD", "short")
    expect_one_error_line(
        cli("user", "add", "sam", "--name", "Sam", "--role", "admin"),
        "password ($KETADESK_PASSWORD): must be at least 10 characters long",
    )


def test_user_passwd_reset_and_rename(
    cli: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETADESK_PASSWORD", PASSWORD)
    cli("user", "add", "maria", "--name", "Maria Gómez", "--role", "billing")

    monkeypatch.setenv("KETADESK_PASSWORD", "violet kettle harbour")
    asked = prompts(monkeypatch, "not my password")
    expect_one_error_line(cli("user", "passwd", "maria"), "wrong user name or password")
    assert asked == ["Current password for maria: "]
    assert cli("user", "list", "--json").json()[1]["failed_logins"] == 1  # counted

    prompts(monkeypatch, PASSWORD)
    assert cli("user", "passwd", "maria").out == "maria's password is changed.\n"

    monkeypatch.setenv("KETADESK_PASSWORD", "amber lantern meadow")
    assert cli("user", "reset", "maria").out == (
        "maria's password is reset; maria must choose a new one at the next log-in.\n")
    assert "must change password" in cli("user", "list").out

    assert cli("user", "rename", "maria", "MGomez").out == "maria is now called mgomez.\n"
    expect_one_error_line(cli("user", "rename", "mgomez", "9 bad"),
                          "NEW: use 2–60 lower-case letters, digits, dots, dashes or "
                          "underscores, starting with a letter")
    monkeypatch.setenv("KETADESK_OLD_PASSWORD", "amber lantern meadow")
    monkeypatch.setenv("KETADESK_PASSWORD", "password123")
    expect_one_error_line(
        cli("user", "passwd", "mgomez"),
        "new password ($KETADESK_PASSWORD): is too easy to guess. This is a very common "
        "password. Add another word or two. Uncommon words are better.",
    )
    monkeypatch.setenv("KETADESK_PASSWORD", "quiet garden chairs")
    assert cli("user", "passwd", "mgomez", "--json").json()["must_change_password"] is False
    actions = [action for action, _ in audit_rows(db_path, "user")]
    assert actions == ["create", "login-failed", "change-password", "reset-password",
                       "rename", "change-password"]


def test_user_reset_refuses_ten_spaces(
    cli: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETADESK_PASSWORD", PASSWORD)
    cli("user", "add", "maria", "--name", "Maria", "--role", "admin")
    monkeypatch.setenv("KETADESK_PASSWORD", " " * 10)
    expect_one_error_line(cli("user", "reset", "maria"),
                          "password ($KETADESK_PASSWORD): must not be blank")


def test_a_database_without_users_says_how_to_make_the_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "empty.sqlite3"
    shutil.copyfile(sqlite_template, path)
    expect_one_error_line(
        runner(capsys, linked=False)("user", "list", "--db", str(path)),
        "this database has no users yet; create its first administrator with: "
        "ketadesk init --admin USER",
    )


# --- patient add, find, show ----------------------------------------------------------------


def test_patient_add_prints_the_new_mrn(cli: Any, db_path: Path) -> None:
    assert cli("patient", "add", *ZOE) == Result(0, "Registered Łukasiewicz, Zoë: MRN 100001\n", "")
    data = cli(
        "patient",
        "add",
        "--family",
        "Ng",
        "--given",
        "Ana",
        "--dob",
        "03/07/1990",
        "--sex",
        "f",
        "--json",
    ).json()
    assert (data["mrn"], data["name"]) == ("100002", "Ng, Ana")


def test_patient_add_names_the_options_that_are_wrong(cli: Any, db_path: Path) -> None:
    result = cli(
        "patient",
        "add",
        "--family",
        "Ng",
        "--given",
        "Ana",
        "--dob",
        "2999-01-01",
        "--sex",
        "F",
        "--phone",
        "123",
        "--location",
        "BOS",
    )
    expect_one_error_line(
        result,
        "--dob: 2999-01-01 is in the future; a date of birth is today or "
        "earlier; --phone: 123 has 3 digits; expected a 3-digit area code and "
        "a 7-digit number, e.g. (212) 555-0142",
    )
    assert cli("patient", "find", "--json").json() == []


def test_patient_add_takes_a_weight_in_pounds_and_keeps_kilograms(
    cli: Any, db_path: Path
) -> None:
    assert cli("patient", "add", *ZOE, "--weight", "154 lb").code == 0
    assert cli("patient", "show", "100001", "--json").json()["weight_kg"] == "69.9"


def test_patient_add_unknown_location(cli: Any, db_path: Path) -> None:
    expect_one_error_line(
        cli("patient", "add", *ZOE, "--location", "BOS"),
        "--location: there is no location with code BOS",
    )


def test_patient_add_every_option(cli: Any, db_path: Path) -> None:
    with_location(db_path)
    cli(
        "patient",
        "add",
        *ZOE,
        "--middle",
        "Maria",
        "--preferred",
        "Zo",
        "--email",
        "zoe@example.com",
        "--address",
        "41 Jane St",
        "--address2",
        "Apt 2",
        "--city",
        "New York",
        "--state",
        "ny",
        "--zip",
        "10014",
        "--flags",
        "pregnancy",
        "--driver-phone",
        "2125550177",
        "--emergency-name",
        "Piotr",
        "--emergency-phone",
        "2125550178",
        "--emergency-relationship",
        "spouse",
        "--rems-enrolled",
        "2025-01-02",
        "--weight",
        "61.5",
        "--location",
        "nyc",
        "--notes",
        "prefers mornings",
    )
    shown = cli("patient", "show", "100001", "--json").json()
    assert {
        k: shown[k]
        for k in (
            "preferred_name",
            "state",
            "screening_flags",
            "weight_kg",
            "home_location",
            "rems_enrolled_on",
            "driver_phone",
        )
    } == {
        "preferred_name": "Zo",
        "state": "NY",
        "screening_flags": ["pregnancy"],
        "weight_kg": "61.5",
        "home_location": "NYC",
        "rems_enrolled_on": "2025-01-02",
        "driver_phone": "2125550177",
    }


def with_location(path: Path) -> None:
    db = Database(f"sqlite:///{path}")
    with db.transaction() as session:
        add_location(session, "NYC")
    db.dispose()


def test_patient_find_table_and_json(cli: Any, db_path: Path) -> None:
    cli("patient", "add", *ZOE)
    cli("patient", "add", "--family", "Ng", "--given", "Ana", "--dob", "1990-03-07", "--sex", "F")
    table = cli("patient", "find", "lukas", "zoe").out.splitlines()
    assert table[0].split() == ["MRN", "Name", "Born", "Phone", "Status"]
    assert table[2].split() == ["100001", "Łukasiewicz,", "Zoë", "1984-03-09", "(212)", "555-0142"]
    assert len(table) == 3
    rows = cli("patient", "find", "--json").json()
    assert [r["mrn"] for r in rows] == ["100001", "100002"]
    assert rows[1] == {
        "mrn": "100002",
        "name": "Ng, Ana",
        "family_name": "Ng",
        "given_name": "Ana",
        "preferred_name": "",
        "date_of_birth": "1990-03-07",
        "phone": "",
        "active": True,
    }
    limited = cli("patient", "find", "--limit", "1").out
    assert "(the first 1 of 2 that match; add words or raise --limit to see more)" in limited
    every = cli("patient", "find", "--limit", "2").out  # both fit: no "first N" is said
    assert "Ng, Ana" in every and "the first" not in every
    assert cli("patient", "find", "nobody").out == "No patients match 'nobody'.\n"


def test_patient_show_is_audited_and_lists_policies(cli: Any, db_path: Path) -> None:
    cli("patient", "add", *ZOE)
    db = Database(f"sqlite:///{db_path}")
    with db.transaction() as session:
        payer = add_payer(session, "Aetna")
        policies.add_policy(
            session,
            seeding_actor(),
            1,
            {
                "payer_id": payer.id,
                "rank": "primary",
                "member_id": "W123",
                "group_number": "G1",
                "effective_from": "2025-01-01",
                "prior_auth_number": "PA-9",
                "sessions_authorized": "8",
                "auth_from": "2025-01-06",
                "auth_to": "2025-03-31",
            },
        )
    db.dispose()
    text = cli("patient", "show", "100001").out
    assert text.splitlines()[0] == "Łukasiewicz, Zoë  MRN 100001"
    assert "  Date of birth:             1984-03-09" in text
    assert "  Usual driver:              Ana Ng" in text
    assert (
        "Diagnoses:\n"
        "  1. F33.2    Major depressive disorder, recurrent severe without psychotic features\n"
        "  2. F43.10   Post-traumatic stress disorder, unspecified\n"
    ) in text
    assert (
        "  primary   Aetna, member W123, group G1, from 2025-01-01\n"
        "            prior auth PA-9: 8 sessions 2025-01-06 2025-03-31"
    ) in text
    data = cli("patient", "show", "100001", "--json").json()
    assert data["diagnoses"] == ["F33.2", "F43.10"]
    assert data["diagnosis_descriptions"] == [
        "Major depressive disorder, recurrent severe without psychotic features",
        "Post-traumatic stress disorder, unspecified",
    ]
    assert data["policies"][0]["payer"] == "Aetna"
    assert data["policies"][0]["sessions_authorized"] == 8
    assert [action for action, _ in audit_rows(db_path, "patient")] == ["create", "view", "view"]


def test_patient_show_unknown_mrn(cli: Any, db_path: Path) -> None:
    expect_one_error_line(cli("patient", "show", "999999"), "no patient with MRN 999999")


def test_patient_add_and_find_on_each_backend(cli: Any, database: Database) -> None:
    added = cli("patient", "add", "--db", database.url, *ZOE, "--json")
    assert added.code == 0, added.err
    assert added.json()["mrn"] == "100001"
    found = cli("patient", "find", "zoe", "--db", database.url, "--json").json()
    assert [(r["mrn"], r["family_name"]) for r in found] == [("100001", "Łukasiewicz")]
    with database.reading() as session:
        assert session.scalar(select(Patient.driver_name)) == "Ana Ng"


# --- demo-data ------------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_data_generates_then_refuses_a_second_time(cli: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "demo.sqlite3")
    result = cli(
        "demo-data",
        "--db",
        path,
        "--patients",
        "25",
        "--years",
        "1",
        "--locations",
        "1",
        "--seed",
        "3",
        "--json",
    )
    assert result.code == 0, result.err
    assert result.json()["patients"] == 25
    assert result.err.startswith(f"Generated the demo clinic into {path} (")
    assert result.err.count("\n") == 1  # not a terminal: one final line, no bar
    refused = cli("demo-data", "--db", path)
    assert refused.code == 2 and refused.err.count("\n") == 1
    assert refused.err.startswith(f"ketadesk: error: {path} already holds 1 location, ")
    assert "25 patients" in refused.err and "choose a new file" in refused.err


def test_demo_data_names_a_bad_option(cli: Any, tmp_path: Path) -> None:
    expect_one_error_line(
        cli("demo-data", "--db", str(tmp_path / "d.sqlite3"), "--years", "99"),
        "--years: 99 is not between 1 and 20",
    )


# --- errors and exit statuses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("foo://nowhere/x", "foo://nowhere/x is not a database URL KetaDesk can use"),
        (
            "postgresql://nobody@127.0.0.1:1/x",
            "cannot use the database at postgresql+psycopg://nobody@127.0.0.1:1/x",
        ),
        ("mysql://host/x", "cannot open mysql://host/x: no driver"),
    ],
)
def test_unusable_databases_are_one_line(cli: Any, url: str, expected: str) -> None:
    result = cli("patient", "find", "--db", url)
    assert result.code == 2
    assert result.err.startswith(f"ketadesk: error: {expected}")
    assert result.err.count("\n") == 1


def test_missing_sqlite_file_is_not_created(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "typo.sqlite3"
    expect_one_error_line(
        cli("patient", "find", "--db", str(path)),
        f"there is no KetaDesk database at {path}; create it with: ketadesk init --db {path}",
    )
    assert not path.exists()


def test_a_file_that_is_not_a_database(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_text("shopping list\n" * 100)
    expect_one_error_line(
        cli("user", "list", "--db", str(path)),
        f"{path} is not a KetaDesk database: file is not a database",
    )


def test_password_in_a_url_is_never_printed(cli: Any) -> None:
    result = cli("patient", "find", "--db", "postgresql://me:s3cret@127.0.0.1:1/x")
    assert "s3cret" not in result.err
    assert "me:***@" in result.err


def test_a_bug_is_one_line_with_a_hint(
    cli: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("ketadesk.clinic.patients.search_patients", broken)
    result = cli("patient", "find")
    assert result.code == 1
    assert result.err == (
        "ketadesk: error: internal error (RuntimeError: boom); rerun with "
        "KETADESK_DEBUG=1 to see the details, and report them\n"
    )
    monkeypatch.setenv("KETADESK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(["patient", "find"])


def test_ctrl_c_exits_130_quietly(cli: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("ketadesk.clinic.patients.search_patients", interrupted)
    assert cli("patient", "find") == Result(130, "", "")


# --- progress -------------------------------------------------------------------------------


def test_progress_draws_a_bar_on_a_terminal() -> None:
    stream = FakeTerminal()
    progress = common.Progress(stream)
    progress("patients", 0, 4)
    progress("patients", 4, 4)
    progress("users", 1, 1)
    progress.finish("Done")
    text = stream.getvalue()
    assert "\rpatients                 [" + "#" * 30 + "] 100% 4/4\n" in text
    assert "\rusers" in text
    assert text.splitlines()[-1].startswith("Done (")


def test_progress_is_one_final_line_without_a_terminal() -> None:
    stream = io.StringIO()
    progress = common.Progress(stream)
    for done in range(100):
        progress("patients", done, 100)
    progress.finish("Done")
    assert stream.getvalue().startswith("Done (") and stream.getvalue().count("\n") == 1


# --- real processes -------------------------------------------------------------------------


def ketadesk(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ketadesk", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_entry_point_version_and_usage_error() -> None:
    assert ketadesk("--version").stdout == f"ketadesk {__version__}\n"
    usage = ketadesk("patient", "add")
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr


def test_entry_point_exit_statuses_without_tracebacks(db_path: Path) -> None:
    added = ketadesk("patient", "add", *ZOE)
    assert (added.returncode, added.stdout) == (0, "Registered Łukasiewicz, Zoë: MRN 100001\n")
    refused = ketadesk(
        "patient", "add", "--family", "X", "--given", "Y", "--dob", "2999-01-01", "--sex", "F"
    )
    assert refused.returncode == 2
    assert refused.stderr.startswith("ketadesk: error: --dob: 2999-01-01 is in the future")
    assert refused.stderr.count("\n") == 1
    unreachable = ketadesk("user", "list", "--db", "postgresql://nobody@127.0.0.1:1/x")
    assert unreachable.returncode == 2
    assert "Traceback" not in unreachable.stderr


def test_console_script_is_installed(db_path: Path) -> None:
    script = Path(sys.executable).with_name("ketadesk")
    if not script.exists():
        pytest.skip("the ketadesk script is not installed in this environment")
    result = subprocess.run(
        [str(script), "patient", "find", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


CHECK_NO_QT = """
import json, sys
from ketadesk.cli.main import main
codes = [main(argv) for argv in json.loads(sys.argv[1])]
print(json.dumps({"codes": codes, "qt": "PySide6" in sys.modules}))
"""


def test_commands_never_load_qt(db_path: Path, tmp_path: Path) -> None:
    sample = tmp_path / "one.csv"
    sample.write_text("family_name,given_name,date_of_birth,sex\nNg,Ana,1990-01-02,F\n")
    commands = [
        ["init"],
        ["user", "list"],
        ["patient", "add", *ZOE],
        ["patient", "find", "--json"],
        ["patient", "show", "100001"],
        ["patient", "import", str(sample)],
        ["patient", "show", "1"],
        ["--help"],
    ]
    result = subprocess.run(
        [sys.executable, "-c", CHECK_NO_QT, json.dumps(commands)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome == {"codes": [0, 0, 0, 0, 0, 0, 2, 0], "qt": False}, result.stderr


@pytest.mark.gui
def test_without_a_command_the_real_window_renders_a_screenshot(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clinic.sqlite3"
    monkeypatch.setenv("KETADESK_ADMIN_PASSWORD", PASSWORD)
    assert cli("init", "--db", str(path), "--admin", "alice").code == 0
    shot = tmp_path / "window.png"
    result = ketadesk(
        "--db",
        str(path),
        "--screenshot",
        str(shot),
        "--view",
        "patients",
        env={"QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
    assert shot.read_bytes().startswith(b"\x89PNG")
