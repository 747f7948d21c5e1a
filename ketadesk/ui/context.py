"""What every view needs: the database and who is logged in."""

from __future__ import annotations

from dataclasses import dataclass

from ketadesk.access.permissions import Actor
from ketadesk.db import Database


@dataclass(frozen=True)
class AppContext:
    """Handed to each view; views open one transaction per user action through ``db``."""

    db: Database
    actor: Actor
