"""Passwords: how strong a new one must be, and how they are hashed and checked.

A new password (a new account, a change, an administrator's reset) goes through
:func:`password_problems`: it must not be blank, must be :data:`MIN_PASSWORD_LENGTH`
characters long, and must score at least :data:`MIN_SCORE` with ``zxcvbn`` (a maintained
port of Dropbox's estimator that works offline and explains a weak password in words). The
account's user name and full name are given to zxcvbn as words a guesser would try first.

Hashes are argon2id (:func:`hasher`). :func:`verify` is the one place a password is checked
against a hash; when no account matches the typed name it checks against a dummy hash made
with the same parameters (:func:`dummy_hash`), so a log-in takes the same time whether or
not the user exists and the time gives no user names away.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD_LENGTH = 10
MIN_SCORE = 3  # zxcvbn's 0-4 scale: 3 is "safely unguessable" offline at a slow hash
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; the first 72 characters are judged


@cache
def hasher() -> PasswordHasher:
    """The one password hasher, made when a password is first hashed or checked: counting
    users -- all the window's start asks of the access layer -- needs no argon2."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def dummy_hash() -> str:
    """A hash of a random password, with the real hasher's parameters: what an unknown
    user name is checked against so that it costs what a real one does."""
    return hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches ``password_hash``; ``None`` (no such user) checks the
    dummy hash, which never matches, so both cases run argon2 exactly once."""
    from argon2.exceptions import InvalidHashError, VerificationError

    dummy = dummy_hash()  # made before the check either way: the first probe costs the same
    try:
        hasher().verify(password_hash or dummy, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


def password_problems(password: str, user_inputs: Iterable[str] = ()) -> list[str]:
    """Why ``password`` is too weak, in sentences; empty when it will do.

    ``user_inputs`` are words tied to the account (user name, full name): a password built
    from them is judged as easy to guess.
    """
    if not password.strip():
        return ["must not be blank"]
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"must be at least {MIN_PASSWORD_LENGTH} characters long"]
    from zxcvbn import zxcvbn

    words = [
        w for text in user_inputs for w in [text, "".join(text.split()), *text.split()] if w
    ]
    judged = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=words)
    if judged["score"] >= MIN_SCORE:
        return []
    feedback = judged["feedback"]
    advice = [feedback["warning"], *feedback["suggestions"]]
    said = " ".join(_sentence(text) for text in advice if text)
    return [f"is too easy to guess. {said or 'Add another word or two.'}".strip()]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."
