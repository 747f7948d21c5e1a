"""Text folding for search: case- and accent-insensitive keys that B-tree indexes can use."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import String
from sqlalchemy.types import TypeEngine


def fold(text: str) -> str:
    """``"Zoë Łukasiewicz"`` -> ``"zoe lukasiewicz"``: what a search key stores and matches."""
    if text.isascii():  # no accent to strip, no letter to map: the same, without the scan
        return text.strip().lower().replace("  ", " ")
    return _fold_unicode(text)


def _fold_unicode(text: str) -> str:
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


WORD_LENGTH = 60
_PUNCTUATION = re.compile(r"[^\w]+")


def word_key(token: str) -> str:
    """A typed word as it is matched: folded, punctuation dropped (``O'Brien`` -> ``obrien``)."""
    return _PUNCTUATION.sub("", fold(token))[:WORD_LENGTH]


def name_words(*names: str) -> set[str]:
    """Every word a person may start typing to find these names.

    ``"de la Cruz"`` gives de, la, cruz. ``"O'Brien-Smith"`` gives each part (o, brien,
    smith) and each run of parts to the end, joined without punctuation (obriensmith,
    briensmith), so typing "obrien", "o'brien", "brien" or "smith" finds her by prefix.
    """
    words: set[str] = set()
    for name in names:
        for chunk in fold(name).split():
            parts = [p for p in _PUNCTUATION.split(chunk) if p]
            words.update(p[:WORD_LENGTH] for p in parts)
            words.update("".join(parts[i:])[:WORD_LENGTH] for i in range(len(parts)))
    return words


def phone_tail(phone: str) -> str:
    """The phone's digits reversed, so "the last four digits" is an indexed prefix match."""
    return phone[::-1]
