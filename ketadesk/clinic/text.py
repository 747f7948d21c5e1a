"""Text folding for search: case- and accent-insensitive keys that B-tree indexes can use."""

from __future__ import annotations

import unicodedata

from sqlalchemy import String
from sqlalchemy.types import TypeEngine


def fold(text: str) -> str:
    """``"Zoë Łukasiewicz"`` -> ``"zoe lukasiewicz"``: what a search key stores and matches."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.translate(_EXTRA).replace("  ", " ")


# Letters that do not decompose into a base letter plus a mark.
_EXTRA = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i"})


def successor(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix``.

    ``col >= prefix AND col < successor(prefix)`` is a prefix match that uses a plain
    index on SQLite and, with the C collation, on PostgreSQL.
    """
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def search_key(length: int) -> TypeEngine[str]:
    """A column type for folded keys: byte order (the C collation) on PostgreSQL."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")
