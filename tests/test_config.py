"""playwright.config.toml, CAPTURE_* variables and overrides -> one validated Config."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from capture.config import Config, load_config, parse_duration
from capture.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_file_states_every_default() -> None:
    """The TOML file is the documentation of the defaults: it must match the models."""
    shipped = tomllib.loads((ROOT / "playwright.config.toml").read_text())
    defaults = Config()
    for section, model in Config.model_fields.items():
        assert model.annotation is not None
        assert set(shipped[section]) == set(model.annotation.model_fields), section
    assert load_config(ROOT / "playwright.config.toml", env={}) == defaults


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text('[session]\nserver = "http://file:1/v1"\n[capture]\nquality = 50\n')
    env = {
        "CAPTURE_SESSION_SERVER": "http://env:2/v1",
        "CAPTURE_CAPTURE_SECRETS": "one, two",
        "CAPTURE_TOKEN": "tok",
    }
    config = load_config(file, env=env)
    assert config.session.server == "http://env:2/v1"
    assert config.capture.quality == 50
    assert config.capture.secrets == ["one", "two"]
    assert config.session.token == config.store.token == "tok"


def test_overrides_win_and_none_means_not_given() -> None:
    config = load_config(
        None,
        env={"CAPTURE_SESSION_SERVER": "http://env:2/v1"},
        overrides={"session.server": "http://flag:3/v1", "session.token": None},
    )
    assert config.session.server == "http://flag:3/v1"
    assert config.session.token == ""


def test_bad_values_name_the_key_and_the_source(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text("[capture]\nquality = 500\n")
    with pytest.raises(ConfigError, match=r"capture\.quality.*from .*c\.toml"):
        load_config(file, env={})
    with pytest.raises(ConfigError, match=r"capture\.time_box.*CAPTURE_CAPTURE_TIME_BOX"):
        load_config(None, env={"CAPTURE_CAPTURE_TIME_BOX": "soon"})
    file.write_text("[capture]\nqualty = 5\n")
    with pytest.raises(ConfigError, match=r"capture\.qualty"):
        load_config(file, env={})
    file.write_text("[capture\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(file, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml", env={})


def test_the_file_is_found_by_env_or_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "playwright.config.toml").write_text("[capture]\nquality = 500\n")
    (tmp_path / "other.toml").write_text("[capture]\nquality = 40\n")
    monkeypatch.chdir(tmp_path)
    # named as the user knows it, as in docs/config.md
    with pytest.raises(ConfigError, match=r"\(from playwright\.config\.toml\)$"):
        load_config(env={})
    assert load_config(env={"CAPTURE_CONFIG": "other.toml"}).capture.quality == 40


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        (90, 90),
        ("90s", 90),
        ("10m", 600),
        ("6h", 21600),
        ("1d", 86400),
        ("250ms", 0.25),
        ("1.5s", 1.5),
    ],
)
def test_parse_duration(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "ten minutes", "-5s", "5 weeks", True])
def test_parse_duration_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
