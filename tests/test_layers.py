"""The map holds: domain code never loads Qt, and imports only point down the layers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ketadesk"
# DESIGN.md: ui, cli, demo -> reports, documents -> billing -> scheduling -> clinic -> access
RANK = {
    "ui": 6,
    "cli": 6,
    "demo": 6,
    "reports": 5,
    "documents": 5,
    "billing": 4,
    "scheduling": 3,
    "clinic": 2,
    "access": 1,
}


def domain_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[1] in ("ui", "migrations") or parts[-1] == "__main__":
            continue
        names.append(".".join(p for p in parts if p != "__init__"))
    return names


def test_domain_code_never_imports_qt() -> None:
    modules = domain_modules()
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('PySide6')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "ketadesk.clinic.patients" in modules
    assert result.stdout.strip() == "[]"


def test_imports_point_down_the_map() -> None:
    upward = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if parts[0] == "migrations" or path.name == "__main__.py":
            continue
        here = RANK.get(parts[0], 0) if len(parts) > 1 else 0
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                bits = name.split(".")
                if bits[0] == "ketadesk" and len(bits) > 1:
                    there = RANK.get(bits[1], 0)
                    if there > here and not (here == there == 5):
                        upward.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert upward == []
