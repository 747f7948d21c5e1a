"""``ketadesk install-desktop``: the menu entry and icon in the user's XDG data folder."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from ketadesk.cli import desktop
from ketadesk.cli.main import main
from ketadesk.config import RESOURCES


def _entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def test_install_writes_the_entry_and_icon_for_this_installation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert main(["install-desktop"]) == 0
    entry = _entry(tmp_path / "share" / "applications" / "ketadesk.desktop")
    assert entry["Type"] == "Application"
    assert entry["Name"] == "KetaDesk"
    assert entry["Icon"] == "ketadesk"
    assert entry["Exec"] == desktop.exec_line(desktop.launcher())
    assert entry["TryExec"] == desktop.launcher()[0]
    icon = tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / "ketadesk.svg"
    assert icon.read_bytes() == (RESOURCES / "ketadesk.svg").read_bytes()
    assert "Added KetaDesk to the application menu" in capsys.readouterr().out

    assert main(["install-desktop", "--remove"]) == 0
    assert not icon.exists()
    assert not (tmp_path / "share" / "applications" / "ketadesk.desktop").exists()
    assert main(["install-desktop", "--remove"]) == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_a_relative_xdg_data_home_is_ignored() -> None:
    files = desktop.desktop_files({"XDG_DATA_HOME": "relative/share"})
    assert files.entry == Path.home() / ".local/share/applications/ketadesk.desktop"


@pytest.mark.parametrize(
    ("command", "line"),
    [
        (["/opt/keta/bin/ketadesk"], "/opt/keta/bin/ketadesk"),
        (["/home/a b/venv/bin/python", "-m", "ketadesk"],
         '"/home/a b/venv/bin/python" -m ketadesk'),
        (['/srv/"x"$y/ketadesk'], '"/srv/\\\\"x\\\\"\\\\$y/ketadesk"'),
        (["/srv/100%/ketadesk"], "/srv/100%%/ketadesk"),
    ],
)
def test_exec_line_quotes_as_the_desktop_entry_specification_asks(
    command: list[str], line: str
) -> None:
    assert desktop.exec_line(command) == line


def test_an_unwritable_folder_is_one_line_and_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "share"
    blocker.write_text("a file where a folder should be")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    assert main(["install-desktop"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("ketadesk: error: cannot write")
    assert len(error.splitlines()) == 1
