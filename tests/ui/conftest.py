"""Fixtures shared by the window tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ui.demo_clinic import demo_clinic

from ketadesk.db import Database


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The small demo clinic of :mod:`ui.demo_clinic`, built once and only read by tests."""
    db = demo_clinic(tmp_path_factory.mktemp("demo-clinic"))
    yield db
    db.dispose()
