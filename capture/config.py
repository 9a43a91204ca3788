"""One config for the CLI and the tests: `playwright.config.toml`, then `CAPTURE_*`, then flags.

Precedence, lowest first: the defaults below, the TOML file (`CAPTURE_CONFIG` or
`./playwright.config.toml`), environment variables `CAPTURE_<SECTION>_<KEY>` (for example
`CAPTURE_SESSION_SERVER`; `CAPTURE_TOKEN` is short for both tokens), then CLI flags passed in
as dotted overrides (`{"session.server": ...}`). A bad value is a `ConfigError` naming the key
and where the value came from, so a typo never surfaces as a traceback deep in a browser run.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from capture.errors import ConfigError

__all__ = [
    "BrowserConfig",
    "CaptureConfig",
    "Config",
    "ContextConfig",
    "SessionConfig",
    "StoreConfig",
    "load_config",
    "parse_duration",
]

CONFIG_FILE = "playwright.config.toml"
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")


def parse_duration(value: object) -> timedelta:
    """Read `90`, `"90s"`, `"10m"`, `"6h"`, `"1d"` or `"250ms"` as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("a duration like '10m', '90s' or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2) or "s"]
    else:
        raise ValueError(f"{value!r} is not a duration like '10m', '90s' or a number of seconds")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BrowserConfig(_Section):
    """Which browser to launch and how."""

    executable: str = Field("auto", description="'auto', or a path/name of a Chromium binary")
    headless: bool = Field(True, description="run without a window")
    args: list[str] = Field(default_factory=list, description="extra Chromium arguments")
    cdp_url: str = Field("", description="attach to a running browser over CDP instead")
    connect_url: str = Field(
        "", description="use a Playwright browser server (ws://…, `playwright run-server`) instead"
    )
    launch_timeout: Duration = Field(timedelta(seconds=30), description="launch time limit")


class ContextConfig(_Section):
    """The browser context every page runs in."""

    viewport_width: int = Field(1280, ge=200, le=7680)
    viewport_height: int = Field(800, ge=200, le=4320)
    device_scale_factor: float = Field(1.0, gt=0, le=4)
    locale: str = "en-US"
    timezone: str = "UTC"
    ignore_https_errors: bool = False


class CaptureConfig(_Section):
    """What one capture stores, how big it may be and how long it lives."""

    screenshot_key: str = "__user_part_screenshot"
    observation_key: str = "__user_part_observation"
    image_format: Literal["jpeg", "png"] = "jpeg"
    quality: int = Field(70, ge=10, le=100)
    preset: Literal["claude", "openai", "none"] = "claude"
    max_request_bytes: int = Field(262_144, ge=16_384)
    observation_chars: int = Field(16_000, ge=1_000)
    time_box: Duration = timedelta(seconds=1.5)
    screenshot_expiry: Duration = timedelta(minutes=10)
    observation_expiry: Duration = timedelta(minutes=10)
    record_expiry: Duration = timedelta(hours=6)
    keep_steps: int = Field(200, ge=1)
    redact_selectors: list[str] = Field(default_factory=list)
    secrets: list[str] = Field(default_factory=list)
    queue_size: int = Field(32, ge=1)
    upload_retries: int = Field(3, ge=0)
    flush_timeout: Duration = timedelta(seconds=10)  # the final flush's overall deadline
    strict: bool = False
    pytest: bool = False  # capture every Playwright action of a pytest run (docs/pytest.md)
    # Which tests keep their captures, as pytest-playwright's `--tracing` modes (docs/pytest.md).
    pytest_mode: Literal["on", "retain-on-failure", "on-first-retry"] = "on"


class SessionConfig(_Section):
    """How the client reaches the session store."""

    server: str = "http://127.0.0.1:8787/api/v1"
    token: str = ""
    api_key: str = ""
    timeout: Duration = timedelta(seconds=10)
    retries: int = Field(3, ge=0, le=20)


class StoreConfig(_Section):
    """The embedded session store started by `capture serve`."""

    # The user's data folder ($XDG_DATA_HOME, else ~/.local/share): one store that every
    # command finds, from whichever directory it runs.
    url: str = "sqlite:///$XDG_DATA_HOME/capture/store.db"
    host: str = "127.0.0.1"
    port: int = Field(8787, ge=0, le=65535)
    token: str = ""
    workers: int = Field(1, ge=0, le=256)  # server processes; 0 = one per core
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    max_key_length: int = Field(512, ge=1)
    max_thread_id_length: int = Field(256, ge=1)
    body_timeout: Duration = timedelta(seconds=30)  # a stalled upload gets 408, not forever
    sweep_interval: Duration = timedelta(seconds=30)
    history_versions: int = Field(200, ge=0)
    history_age: Duration = timedelta(hours=24)


class Config(_Section):
    """Everything, by section; the TOML file has the same shape."""

    browser: BrowserConfig = BrowserConfig()
    context: ContextConfig = ContextConfig()
    capture: CaptureConfig = CaptureConfig()
    session: SessionConfig = SessionConfig()
    store: StoreConfig = StoreConfig()


def _config_path(explicit: str | Path | None, env: Mapping[str, str]) -> Path | None:
    if explicit is not None:
        return Path(explicit)
    if env.get("CAPTURE_CONFIG"):
        return Path(env["CAPTURE_CONFIG"])
    default = Path(CONFIG_FILE)  # relative: errors say "(from playwright.config.toml)"
    return default if default.exists() else None


def _env_layer(env: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    """Map `CAPTURE_SECTION_KEY=value` to {"section.key": (value, "CAPTURE_SECTION_KEY")},
    the value split into items for a list field."""
    layer: dict[str, tuple[Any, str]] = {}
    if env.get("CAPTURE_TOKEN"):
        for dotted in ("session.token", "store.token"):
            layer[dotted] = (env["CAPTURE_TOKEN"], "CAPTURE_TOKEN")
    for section, model in Config.model_fields.items():
        assert model.annotation is not None
        for key, field in model.annotation.model_fields.items():
            name = f"CAPTURE_{section}_{key}".upper()
            if name in env:
                layer[f"{section}.{key}"] = (_coerce_env(env[name], field), name)
    return layer


def _coerce_env(raw: str, field: FieldInfo) -> Any:
    """Environment values are strings; a list field takes comma-separated items."""
    if get_origin(field.annotation) is list:
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def load_config(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Build the effective `Config`; raise `ConfigError` naming the bad key and its source."""
    env = os.environ if env is None else env
    data: dict[str, dict[str, Any]] = {}
    sources: dict[str, str] = {}
    file = _config_path(path, env)
    if file is not None:
        try:
            parsed = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {file} does not exist") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
        for section, values in parsed.items():
            if not isinstance(values, dict):
                raise ConfigError(f"{file}: '{section}' must be a [section] table")
            data[section] = dict(values)
            sources[section] = str(file)
            for key in values:
                sources[f"{section}.{key}"] = str(file)
    for dotted, (value, name) in _env_layer(env).items():
        section, key = dotted.split(".", 1)
        data.setdefault(section, {})[key] = value
        sources[dotted] = f"environment variable {name}"
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        section, _, key = dotted.partition(".")
        data.setdefault(section, {})[key] = value
        sources[dotted] = "command-line option"
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        wheres = set()
        for err in exc.errors():
            dotted = ".".join(str(part) for part in err["loc"][:2])
            where = sources.get(dotted, "defaults")
            wheres.add(where)
            problems.append(f"{dotted}: {_problem(err, dotted)} (from {where})")
        raise ConfigError(
            "invalid configuration: " + "; ".join(problems),
            command_line=wheres == {"command-line option"},
        ) from exc


def _problem(err: Any, dotted: str) -> str:
    """pydantic's message, except for a name that does not exist: say which ones do."""
    if err["type"] != "extra_forbidden":
        return str(err["msg"])
    section, _, key = dotted.partition(".")
    if not key:
        return f"no such section; the sections are {', '.join(Config.model_fields)}"
    model = Config.model_fields[section].annotation
    assert model is not None
    return f"no such key; [{section}] has {', '.join(model.model_fields)}"
