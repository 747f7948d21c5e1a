"""Password strength (zxcvbn), and argon2 run once per log-in whether or not the user exists."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ketadesk.access import passwords, users
from ketadesk.access.permissions import Actor, Role
from ketadesk.errors import ValidationError

STRONG = "correct horse battery"


@pytest.mark.parametrize(
    ("password", "said"),
    [
        ("", "must not be blank"),
        (" " * 10, "must not be blank"),
        ("\t \n" * 5, "must not be blank"),
        ("Tr0ub4!", "at least 10 characters"),
        ("password123", "too easy to guess"),
        ("aaaaaaaaaaaa", "too easy to guess"),
        ("qwertyuiop", "too easy to guess"),
    ],
)
def test_weak_passwords_are_refused_in_words(password: str, said: str) -> None:
    problems = passwords.password_problems(password)
    assert problems
    assert said in problems[0]


def test_zxcvbn_feedback_is_given_in_sentences() -> None:
    (problem,) = passwords.password_problems("password123")
    assert problem.startswith("is too easy to guess. ")
    assert "very common password" in problem  # zxcvbn's own warning, in words
    assert problem.endswith(".")


def test_the_account_names_count_as_easy_guesses() -> None:
    assert passwords.password_problems("xq7mariagomez") == []
    assert passwords.password_problems("mariagomez1", ["mariag", "Maria Gomez"])


@pytest.mark.parametrize(
    "password",
    [
        STRONG,
        "Tr0ub4dor&3-horse",
        "ünïcødé pässwörd ∑",
        "the chairs by the window face a quiet garden where nobody parks " * 2,
    ],
)
def test_strong_and_long_passwords_pass(password: str) -> None:
    assert passwords.password_problems(password) == []


def test_ten_spaces_are_not_an_admin_password(session: Session, admin: Actor) -> None:
    with pytest.raises(ValidationError) as caught:
        users.create_first_admin(session, admin, username="root", password=" " * 10)
    assert caught.value.for_field("password") == ["must not be blank"]


def test_create_user_refuses_a_password_made_of_the_name(session: Session, admin: Actor) -> None:
    with pytest.raises(ValidationError) as caught:
        users.create_user(
            session,
            admin,
            username="jsmith",
            full_name="John Smith",
            role=Role.BILLING,
            password="johnsmith2026",
        )
    assert "too easy to guess" in caught.value.for_field("password")[0]


class CountingHasher:
    """The real argon2 hasher, counting how often a password is verified."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.verified = 0

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        return self.real.verify(password_hash, password)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    hasher = CountingHasher(passwords.hasher())
    monkeypatch.setattr(passwords, "hasher", lambda: hasher)
    return hasher


def test_argon2_runs_once_for_a_real_user_and_once_for_an_unknown_one(
    session: Session, admin: Actor, counting: CountingHasher
) -> None:
    users.create_user(
        session,
        admin,
        username="maria",
        full_name="Maria Gómez",
        role=Role.FRONT_DESK,
        password=STRONG,
    )
    outcomes = {}
    for name, password in (
        ("maria", "wrong password!"),
        ("nobody", "wrong password!"),
        ("maria", STRONG),
        ("nobody", STRONG),
    ):
        counting.verified = 0
        attempt = users.log_in(session, name, password)
        assert counting.verified == 1, (name, password)
        outcomes[name, password] = attempt.refusal
    assert outcomes["maria", "wrong password!"] == outcomes["nobody", "wrong password!"]
    assert outcomes["nobody", STRONG] == "wrong user name or password"
    assert outcomes["maria", STRONG] is None


def test_an_unknown_user_is_checked_against_a_hash_with_the_real_parameters() -> None:
    dummy = passwords.dummy_hash()
    real = passwords.hash_password(STRONG)
    assert dummy.rsplit("$", 2)[0] == real.rsplit("$", 2)[0]  # same algorithm, m, t, p
    assert not passwords.verify(None, STRONG)
