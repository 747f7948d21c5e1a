"""KetaDesk installed the ordinary way: from a wheel, not from the source tree.

One test builds the wheel (``pip wheel . --no-deps --no-build-isolation``, so no network
is needed), installs it with ``--no-deps`` into a fresh virtual environment, and runs the
installed ``ketadesk`` from a folder outside the checkout, where the source tree cannot be
imported. The new environment reaches the dependencies through a ``.pth`` line naming this
test environment's site-packages: a plain path line is not processed as a site folder, so
the editable install of the checkout that lives there stays inactive.

From there it runs what a clinic does first: ``init`` (which reads the shipped protocols
and fee schedule), ``demo-data``, a day sheet PDF (which embeds the shipped fonts) and
``install-desktop`` (the shipped entry and icon).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (
    "ketadesk/resources/protocols.toml",
    "ketadesk/resources/fee_schedule.toml",
    "ketadesk/resources/packages.toml",
    "ketadesk/resources/consents/iv_ketamine.toml",
    "ketadesk/resources/fonts/DejaVuSans.ttf",
    "ketadesk/resources/fonts/DejaVuSans-Bold.ttf",
    "ketadesk/resources/fonts/DroidSansFallbackFull.ttf",
    "ketadesk/resources/fonts/LICENSE-DejaVu.txt",
    "ketadesk/resources/ketadesk.svg",
    "ketadesk/resources/ketadesk.desktop",
    "ketadesk/resources/samples/README.md",
    "ketadesk/resources/samples/medicare-deductible-coinsurance.835",
    "ketadesk/resources/samples/denials-beside-payments.835",
    "ketadesk/resources/samples/line-denied-bundled.835",
    "ketadesk/migrations/script.py.mako",
)

pytestmark = pytest.mark.slow


def _run(command: list[str], *, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=600)
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # setuptools builds in the source folder (build/, *.egg-info): build from a copy, so
    # the checkout stays clean and two runs cannot meet there.
    source = tmp_path_factory.mktemp("source") / "ketadesk"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "out", "build", "*.egg-info", "__pycache__", ".*_cache", "*.sqlite3*"))
    _run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
          "--quiet", "--wheel-dir", str(out)], cwd=source, env=dict(os.environ))
    (found,) = out.glob("ketadesk-*.whl")
    return found


def test_the_wheel_carries_the_resources(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in SHIPPED if name not in names]
    assert missing == []
    assert not any(name.startswith(("resources/", "tests/", "bench/")) for name in names)


def test_the_installed_wheel_sets_up_a_clinic_and_prints(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     cwd=tmp_path, env=dict(os.environ)).strip())
    (site / "test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
          "--quiet", str(wheel)], cwd=tmp_path, env=dict(os.environ))

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "KETADESK_DB")}
    env |= {"KETADESK_DATA_DIR": str(work / "data"), "KETADESK_ADMIN_PASSWORD": "wheel-test-pw-1",
            "XDG_DATA_HOME": str(work / "share")}
    where = _run([str(python), "-c", "import ketadesk; print(ketadesk.__file__)"],
                 cwd=work, env=env)
    assert Path(where.strip()).is_relative_to(venv)

    ketadesk = str(venv / "bin" / "ketadesk")
    clinic = work / "clinic.sqlite3"
    said = _run([ketadesk, "init", "--db", str(clinic), "--admin", "alice", "--json"],
                cwd=work, env=env)
    assert '"admin": "alice"' in said
    protocols = _run([ketadesk, "protocol", "list", "--db", str(clinic)], cwd=work, env=env)
    assert "esketamine" in protocols.casefold()

    demo = work / "demo.sqlite3"
    _run([ketadesk, "demo-data", "--db", str(demo), "--patients", "50", "--locations", "1",
          "--years", "1", "--seed", "3"], cwd=work, env=env)
    sheet = work / "day.pdf"
    _run([ketadesk, "schedule", "day", date.today().isoformat(), "--db", str(demo),
          "--pdf", str(sheet)], cwd=work, env=env)
    reader = PdfReader(sheet)
    fonts = {str(font.get("/BaseFont", "")) for page in reader.pages
             for font in page["/Resources"]["/Font"].get_object().values()}
    assert any("DejaVuSans" in font for font in fonts)
    assert "Day sheet" in reader.pages[0].extract_text()

    _run([ketadesk, "install-desktop"], cwd=work, env=env)
    entry = (work / "share" / "applications" / "ketadesk.desktop").read_text()
    assert f"Exec={ketadesk}" in entry.splitlines()
    assert (work / "share" / "icons" / "hicolor" / "scalable" / "apps" / "ketadesk.svg"
            ).read_bytes().startswith(b"<?xml")
