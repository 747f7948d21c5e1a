"""Characters that free text must never carry, found once for the database and the terminal.

A payment reference holding ``ESC [ 2 J`` clears the screen of whoever lists the ledger; a
right-to-left override turns ``gnp.exe`` round in a file name. Text a person typed may hold
letters of any script, punctuation, spaces, tabs and line breaks, and the two zero-width
joiners that Persian and Indic names need; it may not hold

* C0 and C1 control characters other than tab, line feed and carriage return (``ESC`` starts
  every terminal escape sequence; ``NUL`` ends strings in C), nor ``DEL``;
* bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which
  reorder what is shown ("Trojan Source", CVE-2021-42574);
* other invisible format characters: zero-width space, word joiner, byte-order mark, soft
  hyphen, and the like.

:func:`first_unsafe` says which character a value holds, so the database refuses it in words
(:mod:`ketadesk.db` checks every string written through a transaction), and :func:`scrub`
shows such characters as visible escapes where text reaches a terminal (``ketadesk.cli``).
"""

from __future__ import annotations

import re
import unicodedata

_ALLOWED_FORMAT = "\u200c\u200d"  # zero-width non-joiner and joiner: parts of real names

_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Every other format character (Unicode category Cf) up to the supplementary planes'.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u08e2\u180e\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
UNSAFE = re.compile(f"[{_CONTROL}{_FORMAT}]")

_NAMES = {
    "\x00": "NUL",
    "\x07": "BEL",
    "\x08": "BACKSPACE",
    "\x1b": "ESC",
    "\x7f": "DEL",
    "\u00ad": "SOFT HYPHEN",
    "\u200b": "ZERO WIDTH SPACE",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\ufeff": "BYTE ORDER MARK",
}


def first_unsafe(text: str) -> str | None:
    """The first character of ``text`` that free text may not hold, or ``None``."""
    found = UNSAFE.search(text)
    return found.group() if found else None


def describe(ch: str) -> str:
    """``"U+001B (ESC)"``: a character named so a person can find it."""
    name = _NAMES.get(ch) or unicodedata.name(ch, "") or unicodedata.category(ch)
    return f"U+{ord(ch):04X} ({name})"


def refusal(ch: str) -> str:
    """The sentence a form or the command line shows for text holding ``ch``."""
    return (
        f"contains the invisible control character {describe(ch)}; type it again without it "
        "(letters, digits, spaces, punctuation and line breaks are fine)"
    )


def scrub(text: str) -> str:
    r"""``text`` with every unsafe character shown as an escape (``\x1b``, ``\u202e``).

    Tab, line feed and carriage return pass, so progress bars and tables still work. Above
    ``DEL`` the escape is ``\u`` and four hex digits, which a JSON string reads as the
    same character.
    """
    if text.isascii() and text.isprintable():
        return text
    return UNSAFE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x80:  # C0 and DEL; C1 and above as \u, which is also a JSON escape
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
