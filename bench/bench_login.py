"""Log-in under guessing: time per wrong password for a real and an unknown user, the lock,
and a weak password refused.

    .venv/bin/python bench/bench_login.py [--tries 20]

Prints the median time of a wrong password for a user who exists and for a name nobody has
(each through ``access.users.log_in`` in its own committed transaction, as the window and
``--user`` do), their ratio (1.0 means the time says nothing about which names exist), then
what the right password gets after 30 wrong ones, and what ten spaces get as a password.
The floor is one bare argon2 verification with the same parameters.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ketadesk import migrations
from ketadesk.access import passwords, users
from ketadesk.access.permissions import Actor, Role
from ketadesk.db import Database
from ketadesk.errors import KetaDeskError

ADMIN = Actor(username="bench-admin", role=Role.ADMIN)
RIGHT = "correct horse battery staple 9"


def timed_wrong(db: Database, name: str, tries: int) -> list[float]:
    took = []
    for _ in range(tries):
        start = time.perf_counter()
        with db.transaction() as session:
            users.log_in(session, name, "not the password")
        took.append(time.perf_counter() - start)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ketadesk-login-"))
    db = Database(f"sqlite:///{folder / 'clinic.sqlite3'}")
    migrations.upgrade(db)
    with db.transaction() as session:
        users.create_user(session, ADMIN, username="nina", full_name="Nina Park",
                          role=Role.FRONT_DESK, password=RIGHT)
        users.create_user(session, ADMIN, username="omar", full_name="Omar Haddad",
                          role=Role.FRONT_DESK, password=RIGHT)
    real = timed_wrong(db, "omar", min(args.tries, 4))  # below the lock
    unknown = timed_wrong(db, "nobody-by-this-name", args.tries)
    floor_hash = passwords.hash_password(RIGHT)
    floor = []
    for _ in range(args.tries):
        start = time.perf_counter()
        passwords.verify(floor_hash, "not the password")
        floor.append(time.perf_counter() - start)
    median = statistics.median
    print(f"wrong password, real user    : {median(real) * 1000:7.1f} ms (median of {len(real)})")
    print(f"wrong password, unknown name : {median(unknown) * 1000:7.1f} ms "
          f"(median of {len(unknown)}); ratio unknown/real {median(unknown) / median(real):.2f}")
    print(f"floor: one bare argon2 verify: {median(floor) * 1000:7.1f} ms; "
          f"log-in / floor {median(real) / median(floor):.2f}")
    for _ in range(30):
        with db.transaction() as session:
            users.log_in(session, "nina", "guess")
    with db.transaction() as session:
        attempt = users.log_in(session, "nina", RIGHT)
    print(f"right password after 30 wrong: {attempt.refusal or 'logged in'}")
    try:
        with db.transaction() as session:
            users.create_user(session, ADMIN, username="weak", full_name="Weak Admin",
                              role=Role.ADMIN, password=" " * 10)
        print("ten spaces as an admin password: accepted")
    except KetaDeskError as refused:
        print(f"ten spaces as an admin password: refused: {refused}")
    db.dispose()


if __name__ == "__main__":
    main()
