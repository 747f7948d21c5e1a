"""``ketadesk install-desktop``: put KetaDesk in the Linux desktop's application menu.

The desktop entry and the icon ship as package data (``ketadesk/resources/ketadesk.desktop``
and ``ketadesk.svg``). The command copies them where the freedesktop.org specifications
look for a user's own applications and icons:

* ``$XDG_DATA_HOME/applications/ketadesk.desktop`` (``~/.local/share`` without the variable),
  its ``Exec`` and ``TryExec`` pointing at the ``ketadesk`` program that runs the command, so
  the menu starts the same installation (a venv or pipx folder need not be on ``PATH``);
* ``$XDG_DATA_HOME/icons/hicolor/scalable/apps/ketadesk.svg``.

Menus watch those folders, so KetaDesk appears under *Office* without logging out.
``--remove`` deletes both files again. Nothing here touches a database.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ketadesk.cli import common
from ketadesk.config import RESOURCES
from ketadesk.errors import InvalidValue
from ketadesk.files import write_private

ENTRY_NAME = "ketadesk.desktop"
ICON_NAME = "ketadesk.svg"
# Characters the Desktop Entry Specification reserves in an Exec argument: such an
# argument is written in double quotes, with ", `, $ and \ escaped inside them.
_RESERVED = frozenset(' \t\n"\'\\><~|&;$*?#()`')

DESCRIPTION = """\
Add KetaDesk to the desktop's application menu (Linux and other freedesktop.org desktops):
writes the desktop entry and the icon into your own data folder. --remove takes them out."""

EXAMPLES = """\
  ketadesk install-desktop
  ketadesk install-desktop --remove"""


@dataclass(frozen=True)
class DesktopFiles:
    """Where the menu entry and the icon go for one user."""

    entry: Path
    icon: Path


def desktop_files(environ: Mapping[str, str] = os.environ) -> DesktopFiles:
    """The entry and icon paths under ``$XDG_DATA_HOME`` (default ``~/.local/share``).

    A relative ``XDG_DATA_HOME`` is ignored, as the XDG Base Directory Specification says.
    """
    chosen = environ.get("XDG_DATA_HOME", "")
    data = Path(chosen) if Path(chosen).is_absolute() else Path.home() / ".local" / "share"
    return DesktopFiles(
        entry=data / "applications" / ENTRY_NAME,
        icon=data / "icons" / "hicolor" / "scalable" / "apps" / ICON_NAME,
    )


def launcher() -> list[str]:
    """The command that starts this installation: the ``ketadesk`` script beside the running
    Python if there is one, else that Python with ``-m ketadesk``."""
    script = Path(sys.executable).parent / "ketadesk"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "ketadesk"]


def exec_line(command: list[str]) -> str:
    """``command`` as an ``Exec`` value, each argument quoted as the specification asks."""
    parts = []
    for argument in command:
        if "\n" in argument:
            raise InvalidValue(f"cannot put {argument!r} in a desktop entry's Exec line")
        argument = argument.replace("%", "%%")  # a lone % would start a field code
        if _RESERVED.intersection(argument):
            escaped = "".join(f"\\{c}" if c in '"`$\\' else c for c in argument)
            argument = f'"{escaped}"'
        # The desktop file's own string escaping doubles every backslash once more.
        parts.append(argument.replace("\\", "\\\\"))
    return " ".join(parts)


def entry_text(command: list[str]) -> str:
    """The shipped desktop entry with ``Exec`` and ``TryExec`` pointing at ``command``."""
    lines = []
    for line in (RESOURCES / ENTRY_NAME).read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_line(command)}"
        elif line.startswith("TryExec="):
            line = f"TryExec={command[0]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def install(files: DesktopFiles, command: list[str]) -> None:
    """Write the entry (for ``command``) and the icon, creating their folders."""
    text = entry_text(command)
    files.icon.parent.mkdir(parents=True, exist_ok=True)
    write_private(files.icon, (RESOURCES / ICON_NAME).read_bytes())
    files.entry.parent.mkdir(parents=True, exist_ok=True)
    write_private(files.entry, text)


def remove(files: DesktopFiles) -> list[Path]:
    """Delete the entry and the icon; the paths that were there."""
    removed = [path for path in (files.entry, files.icon) if path.exists()]
    for path in removed:
        path.unlink()
    return removed


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "install-desktop", help="add KetaDesk to the desktop's application menu",
        description=DESCRIPTION, epilog="examples:\n" + EXAMPLES,
        formatter_class=common.HelpFormatter,
    )
    parser.add_argument("--remove", action="store_true",
                        help="take the menu entry and the icon out again")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    files = desktop_files()
    if args.remove:
        removed = remove(files)
        print("Removed " + " and ".join(map(str, removed)) + "." if removed
              else "KetaDesk was not in the menu; nothing to remove.")
        return 0
    try:
        install(files, launcher())
    except OSError as error:
        raise common.UsageError(f"cannot write {error.filename}: {error.strerror}") from error
    print(f"Added KetaDesk to the application menu:\n  {files.entry}\n  {files.icon}")
    return 0
