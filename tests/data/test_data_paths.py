from pathlib import Path

from lit_gans.data import resolve_data_root
from lit_gans.data.paths import DATA_DIR_ENV


def test_explicit_root_wins_over_env(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "from_env"))
    assert resolve_data_root(str(tmp_path / "given")) == tmp_path / "given"


def test_env_used_when_no_root(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "from_env"))
    assert resolve_data_root(None) == tmp_path / "from_env"


def test_default_is_data_under_cwd(monkeypatch, tmp_path):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_data_root(None) == tmp_path / "data"


def test_empty_env_counts_as_unset(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, "")
    monkeypatch.chdir(tmp_path)
    assert resolve_data_root(None) == tmp_path / "data"


def test_home_is_expanded(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert resolve_data_root("~/datasets") == Path.home() / "datasets"
