"""README's tour says what the demo clinic really holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.patients import search_patients
from ketadesk.demo import ensure_demo_clinic

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.slow
def test_the_tours_search_examples_find_patients_in_the_demo_clinic() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    db = ensure_demo_clinic()  # the demo clinic's own file, in the test's private data dir
    actor = Actor("reader", Role.FRONT_DESK)
    try:
        for typed, name in (("zoe", "Zoë"), ("lukas", "Łukasiewicz"), ("lukas", "Lukas")):
            assert f"`{typed}` finds" in text
            with db.reading() as session:
                found = search_patients(session, actor, typed, limit=1000)
            assert any(name in (row.given_name, row.family_name) for row in found), typed
    finally:
        db.dispose()
