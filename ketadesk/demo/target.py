"""Where demo data may be written, and with which passwords its demo users are made.

``ketadesk demo-data`` asks :func:`demo_target` before it opens anything:

- without ``--db`` it writes the demo clinic's own file (:func:`ketadesk.config.demo_database_url`,
  the one ``ketadesk --demo`` opens), never the clinic's database — not even when
  ``$KETADESK_DB`` names one;
- ``--db`` naming the clinic's own database (``$KETADESK_DB``, or the default file in the
  data folder) is refused: a clinic's database never receives demo data;
- the published :data:`~ketadesk.demo.generator.DEMO_PASSWORD` is used only in the demo
  clinic's own file; anywhere else each demo user gets a random password, shown once.

Whatever the target, :func:`ketadesk.demo.generator.generate` then refuses a database that
holds anything ``ketadesk init`` does not make.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ketadesk.config import ENV_DATABASE, database_url, demo_database_url, normalize_url
from ketadesk.demo.generator import Accounts
from ketadesk.errors import Conflict


@dataclass(frozen=True)
class DemoTarget:
    """The database demo data goes into, and how its demo users get their passwords."""

    url: str
    accounts: Accounts

    @property
    def demo_file(self) -> bool:
        """Whether this is the demo clinic's own file (the only home of the known password)."""
        return self.accounts is Accounts.PUBLIC


def demo_target(option: str | None, environ: Mapping[str, str] = os.environ) -> DemoTarget:
    """Where ``demo-data`` writes, given its ``--db`` value (``None`` when left out).

    Raises :class:`~ketadesk.errors.Conflict` when ``option`` names the clinic's own
    database: the one ``$KETADESK_DB`` names, or the default file in the data folder.
    """
    demo_url = demo_database_url(environ)
    if option is None:
        return DemoTarget(demo_url, Accounts.PUBLIC)
    url = normalize_url(option)
    if same_database(url, demo_url):
        return DemoTarget(demo_url, Accounts.PUBLIC)
    without_env = {name: value for name, value in environ.items() if name != ENV_DATABASE}
    for clinic_url in (database_url(None, environ), database_url(None, without_env)):
        if same_database(url, clinic_url):
            raise Conflict(
                f"{option} is the clinic's own database (the one commands use without "
                "--db); demo data never goes there: leave out --db for the demo clinic's "
                "own file, or name a new one")
    return DemoTarget(url, Accounts.RANDOM)


def same_database(first: str, second: str) -> bool:
    """Whether two URLs name one database: the same SQLite file (however the path is
    written) or the same server database (whatever the password)."""
    return _identity(first) == _identity(second)


def _identity(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return "sqlite:" + str(Path(str(parsed.database)).expanduser().resolve())
    return parsed._replace(password=None).render_as_string(hide_password=False)
