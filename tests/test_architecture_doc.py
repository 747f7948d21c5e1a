"""docs/ARCHITECTURE.md keeps up with the tree: every package is on the map, and README
sends contributors there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ketadesk"
DOC = ROOT / "docs" / "ARCHITECTURE.md"


def packages() -> list[str]:
    """Every package below ``ketadesk/`` as the map names it: ``billing/``, ``ui/today/``."""
    return sorted(
        f"{init.parent.relative_to(PACKAGE).as_posix()}/"
        for init in PACKAGE.rglob("__init__.py")
        if init.parent != PACKAGE
    )


def test_every_package_is_on_the_map() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = packages()
    assert "ui/billing/" in found and "access/" in found  # the walk sees nested packages
    missing = [name for name in found if f"`{name}`" not in text]
    assert missing == [], f"docs/ARCHITECTURE.md does not mention {missing}"


def test_every_module_the_map_names_exists() -> None:
    """A module path in backticks (``billing/ledger.py``) is a file in the tree, so the map
    cannot keep naming a module that moved or was renamed."""
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:[a-z_]+/)+[a-z_]+\.py)", text))
    assert "billing/ledger.py" in named
    missing = sorted(
        name
        for name in named
        if not (PACKAGE / name).exists() and not (ROOT / name).exists()
    )
    assert missing == [], f"docs/ARCHITECTURE.md names modules that do not exist: {missing}"


def test_readme_points_to_the_map_in_the_project() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/ARCHITECTURE.md" in readme
    assert "../shared/DESIGN.md" not in readme
