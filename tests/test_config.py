"""Which database a run uses: --db, then KETADESK_DB, then the default file."""

from __future__ import annotations

from pathlib import Path

from ketadesk import config


def test_option_beats_environment_beats_default(tmp_path: Path) -> None:
    env = {
        "KETADESK_DB": "postgresql://clinic@db.local/ketadesk",
        "KETADESK_DATA_DIR": str(tmp_path),
    }
    assert config.database_url("sqlite:///x.sqlite3", env) == "sqlite:///x.sqlite3"
    assert config.database_url(None, env) == "postgresql+psycopg://clinic@db.local/ketadesk"
    del env["KETADESK_DB"]
    assert config.database_url(None, env) == f"sqlite:///{tmp_path / 'ketadesk.sqlite3'}"


def test_a_bare_path_means_a_sqlite_file(tmp_path: Path) -> None:
    assert (
        config.normalize_url(str(tmp_path / "c.sqlite3")) == f"sqlite:///{tmp_path / 'c.sqlite3'}"
    )


def test_demo_data_lives_apart_from_real_data(tmp_path: Path) -> None:
    env = {"KETADESK_DATA_DIR": str(tmp_path)}
    assert config.demo_database_url(env) != config.database_url(None, env)
    assert config.demo_database_url(env).endswith("demo.sqlite3")
