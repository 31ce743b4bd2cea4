"""One TOML config file; every key optional with a default that just runs.

Which file: `--config F`, else `$STRETCHSTEP_CONFIG`, else the user's
`$XDG_CONFIG_HOME/stretchstep/config.toml` (~/.config/...), else the system's
`/etc/stretchstep/config.toml` (what the installer writes and the service reads) - the first
that exists, so a command run anywhere on an installed Pi uses the service's settings. The
loaded `Config` remembers its file (`origin`) so every command can say what it used.

A wrong key or value raises `ConfigError` naming the key, what was given and what is allowed,
so a user can fix the file without reading code. Each section is a frozen dataclass whose
fields carry their own rule (`_rule`), so validation, defaults and `stretchstep config` all come
from one declaration.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from firmware.routine.profiles import BODY_RANGE
from firmware.routine.protocols import (
    DEFAULT_PROTOCOL,
    Protocol,
    ProtocolError,
    catalogue,
    protocols_from_config,
    to_toml_tables,
)

SOURCES = ("simulated", "hx711", "hx711-iio", "hx711-emulated")
REAL_SOURCES = ("hx711", "hx711-iio")


class ConfigError(ValueError):
    """A config file or value that cannot be used; the message says where and what is allowed."""


def _rule(default: Any, allowed: str, ok: Callable[[Any], bool]) -> Any:
    return field(default=default, metadata={"allowed": allowed, "ok": ok})


def _int_in(lo: int, hi: int, default: int) -> Any:
    return _rule(default, f"a whole number from {lo} to {hi}",
                 lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi)


def _num_in(lo: float, hi: float, default: float) -> Any:
    return _rule(default, f"a number from {lo:g} to {hi:g}",
                 lambda v: isinstance(v, int | float) and not isinstance(v, bool) and lo <= v <= hi)


def _one_of(default: Any, *choices: Any) -> Any:
    shown = " or ".join(repr(c) for c in choices)
    return _rule(default, f"one of {shown}", lambda v: v in choices and type(v) is type(choices[0]))


def _flag(default: bool) -> Any:
    return _rule(default, "true or false", lambda v: isinstance(v, bool))


def _text(default: str, allowed: str = "a string", ok: Callable[[str], bool] = lambda v: True) -> Any:
    return _rule(default, allowed, lambda v: isinstance(v, str) and ok(v))


def _names(allowed: str, ok: Callable[[str], bool]) -> Any:
    """A list of strings (kept as a tuple, so the config stays immutable)."""
    return _rule((), allowed, lambda v: isinstance(v, tuple) and all(isinstance(x, str) and ok(x) for x in v))


_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.\-]*[A-Za-z0-9])?$|^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.%\w]*$")


def _valid_host(value: str) -> bool:
    """A DNS name or an IP address (v4 or v6), nothing a URL or shell would read differently."""
    return bool(_HOST.match(value)) and len(value) <= 253


def _valid_day_start(value: str) -> bool:
    from firmware.history.days import parse_day_start  # late: firmware.history imports this module

    try:
        parse_day_start(value)
    except ValueError:
        return False
    return True


def _valid_source(value: str) -> bool:
    kind, colon, arg = value.partition(":")
    return value in SOURCES or (kind in ("replay", "simulated") and colon == ":" and bool(arg))


@dataclass(frozen=True)
class SensorConfig:
    source: str = _text(
        "simulated",
        "'simulated', 'simulated:SCENARIO', 'hx711', 'hx711-iio', 'hx711-emulated' or 'replay:PATH'",
        _valid_source)
    rate_hz: int = _one_of(80, 80, 10)
    data_pin: int = _int_in(0, 27, 5)      # BCM 5 = physical pin 29 (HX711 DT)
    clock_pin: int = _int_in(0, 27, 6)     # BCM 6 = physical pin 31 (HX711 SCK)
    gain: int = _one_of(128, 128, 64, 32)
    ready_timeout_s: float = _num_in(0.05, 10.0, 0.5)
    known_kg: float = _num_in(0.5, 300, 20.0)  # the weight a 3 s hold of the tare button calibrates with


@dataclass(frozen=True)
class Sensor2Config:
    """Optional second HX711 under the other half of the edge; 0 pins = absent."""

    data_pin: int = _int_in(0, 27, 0)       # suggested: BCM 23 = physical pin 16
    clock_pin: int = _int_in(0, 27, 0)      # suggested: BCM 24 = physical pin 18


@dataclass(frozen=True)
class PersonConfig:
    """The first profile, made when the history has none (later ones come from the web)."""

    name: str = _text("me", "a name of 1 to 40 characters", lambda v: 1 <= len(v.strip()) <= 40)
    # 0 = unknown (the detector does not need it); else the range the detector and the profiles
    # take, so a weight they would refuse stops start-up with this line, not the sampler's loop
    body_kg: float = _rule(0.0, f"0 (not given) or kg from {BODY_RANGE[0]:g} to {BODY_RANGE[1]:g}",
                           lambda v: isinstance(v, int | float) and not isinstance(v, bool)
                           and (v == 0 or BODY_RANGE[0] <= v <= BODY_RANGE[1]))
    tighter_side: str = _one_of("right", "right", "left")   # start and finish on it


@dataclass(frozen=True)
class SimulationConfig:
    seed: int = _int_in(0, 2**31 - 1, 1)
    speed: float = _num_in(0.1, 1000, 1.0)
    body_kg: float = _num_in(30, 200, 72.0)


@dataclass(frozen=True)
class DetectorSettings:
    target_s: float = _num_in(5, 300, 30.0)
    target_breaths: int = _int_in(0, 20, 0)  # 0 = time target only


@dataclass(frozen=True)
class RoutineConfig:
    protocol: str = _text(DEFAULT_PROTOCOL, "the id of a built-in protocol or of a [[protocols]] entry")
    daily_goal: int = _int_in(1, 50, 3)          # routines a day (the first profile's)
    day_start: str = _text("04:00", "a local time HH:MM; the stretching day starts then", _valid_day_start)
    resume_within_min: float = _num_in(0, 24 * 60, 30.0)  # back on the step later: a fresh routine


@dataclass(frozen=True)
class CuesConfig:
    enabled: bool = _flag(True)
    buzzer_pin: int = _int_in(0, 27, 18)    # BCM 18 = physical pin 12
    button_pin: int = _int_in(0, 27, 17)    # BCM 17 = physical pin 11 (tare button; 0 = none)
    led_pin: int = _int_in(0, 27, 27)       # BCM 27 = physical pin 13 (0 = none)
    hold_s: float = _num_in(1, 10, 3.0)     # button held this long: calibrate; twice as long: next profile
    active_high: bool = _flag(True)
    tonal: bool = _flag(False)              # a passive buzzer: cues as tones (gpiozero TonalBuzzer, PWM)


@dataclass(frozen=True)
class WebConfig:
    host: str = _text("0.0.0.0", "a host name or IP address, e.g. '0.0.0.0' or '127.0.0.1'", _valid_host)
    port: int = _int_in(0, 65535, 8080)     # 0 = any free port (printed at start)
    # short codes are guessed: 8 is the least (an older stored 6-digit code still works, with a warning)
    access_code: str = _text("", "8 to 64 characters, or empty to have an 8-digit code made and "
                             "stored hashed in the data dir", lambda v: v == "" or 8 <= len(v) <= 64)
    open_reads: bool = _flag(True)
    threads: int = _int_in(4, 64, 24)
    # Host names the page may be opened by, besides this machine's own name, NAME.local,
    # localhost and any IP address (anything else is refused: DNS rebinding)
    allowed_hosts: tuple[str, ...] = _names("a list of host names, e.g. [\"stairs.home.arpa\"]",
                                            _valid_host)
    max_streams: int = _int_in(1, 60, 16)   # live phones at once; keep well under threads

    def problem(self) -> str | None:
        """A contradiction between keys (each key alone is checked by its rule)."""
        if self.max_streams > self.threads - 4:  # each live stream holds a thread while it is open
            return (f"web.max_streams = {self.max_streams} leaves too few of web.threads = {self.threads} "
                    "for pages and the API; keep it at most threads - 4")
        return None


@dataclass(frozen=True)
class StoreConfig:
    data_dir: str = _text("", "a directory path, or empty for the default")
    keep_traces_days: int = _int_in(0, 3650, 30)   # raw samples kept for `reanalyze`; 0 = none
    # runs on simulated, emulated or replayed input keep their history in <data_dir>/simulated/
    simulated_apart: bool = _flag(True)


def _topic_prefix(value: str) -> bool:
    """Empty (= stretchstep/<device id>), or a publish topic: no wildcards, no empty levels."""
    return value == "" or ("+" not in value and "#" not in value and "" not in value.split("/"))


def _client_id(value: str) -> bool:
    return len(value) <= 64 and value.replace("-", "a").replace("_", "a").isascii() \
        and value.replace("-", "a").replace("_", "a").isalnum()


@dataclass(frozen=True)
class MqttConfig:
    """Optional MQTT / Home Assistant publisher (issue 15); an empty host leaves it off."""

    host: str = _text("", "a broker host name or IP address, or empty for no MQTT",
                      lambda v: v == v.strip() and " " not in v)
    port: int = _int_in(1, 65535, 1883)
    tls: bool = _flag(False)
    ca_file: str = _text("", "a CA certificate file path (with tls = true), or empty for the system CAs")
    username: str = _text("", "a user name, or empty for none")
    password: str = _text("", "a password, or empty (see password_file)")
    password_file: str = _text("", "a file holding the password, or empty")
    client_id: str = _text("", "1 to 64 letters, digits, '-' or '_', or empty for stretchstep-<device id>",
                           lambda v: v == "" or _client_id(v))
    topic_prefix: str = _text(
        "", "a topic without + or # or empty levels, or empty for stretchstep/<device id>", _topic_prefix)
    discovery: bool = _flag(True)
    discovery_prefix: str = _text("homeassistant", "a topic without + or # or empty levels",
                                  lambda v: v != "" and _topic_prefix(v))
    name: str = _text("", "the device name shown in Home Assistant, or empty for 'Stretch step <id>'")
    qos: int = _one_of(1, 1, 0, 2)
    keepalive: int = _int_in(5, 3600, 30)
    live_hz: float = _num_in(0.1, 10, 2.0)
    allow_commands: bool = _flag(False)

    def problem(self) -> str | None:
        """A contradiction between keys (each key alone is checked by its rule)."""
        if self.password and self.password_file:
            return "set mqtt.password or mqtt.password_file, not both"
        if self.ca_file and not self.tls:
            return "mqtt.ca_file is set but mqtt.tls = false; set tls = true to use it"
        if (self.password or self.password_file) and not self.username:
            return f"mqtt.{'password' if self.password else 'password_file'} needs mqtt.username"
        return None


@dataclass(frozen=True)
class Config:
    sensor: SensorConfig = field(default_factory=SensorConfig)
    sensor2: Sensor2Config = field(default_factory=Sensor2Config)
    person: PersonConfig = field(default_factory=PersonConfig)
    simulation: SimulationConfig = field(default_factory=SimulationConfig)
    detector: DetectorSettings = field(default_factory=DetectorSettings)
    routine: RoutineConfig = field(default_factory=RoutineConfig)
    cues: CuesConfig = field(default_factory=CuesConfig)
    web: WebConfig = field(default_factory=WebConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    protocols: tuple[Protocol, ...] = ()   # the user's [[protocols]]; built-ins are always there
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    origin: str = field(default="", compare=False)   # the file it was read from; "" = defaults

    def data_dir(self) -> Path:
        """Where history, calibration and the access code live: the config's `[store] data_dir`,
        else $STRETCHSTEP_DATA_DIR, else $XDG_DATA_HOME/stretchstep, else ~/.local/share/stretchstep.
        (A `--data-dir` option is applied to the config, so it wins over all of them.)"""
        if self.store.data_dir:
            return Path(self.store.data_dir).expanduser()
        env = os.environ.get("STRETCHSTEP_DATA_DIR")
        if env:
            return Path(env).expanduser()
        base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
        return Path(base) / "stretchstep"

    def history_dir(self) -> Path:
        """Where this run's history (and its lock) goes: real sensors in the data dir, anything
        simulated, emulated or replayed in its own folder, so it never mixes with real days."""
        real = self.sensor.source in REAL_SOURCES
        return self.data_dir() if real or not self.store.simulated_apart else self.data_dir() / "simulated"

    def with_values(self, section: str, **values: Any) -> Config:
        """A copy with some keys changed (CLI options), validated like the file."""
        current = getattr(self, section)
        checked = {key: _checked(section, current, key, value, "option") for key, value in values.items()}
        return replace(self, **{section: replace(current, **checked)})


DEFAULTS = Config()


SYSTEM_PATH = Path("/etc/stretchstep/config.toml")


def default_path() -> Path:
    """The user's config file (it may not exist)."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "stretchstep" / "config.toml"


def search_paths() -> list[Path]:
    """Where `load()` looks when no file is named, in order: the first that exists is used."""
    env = os.environ.get("STRETCHSTEP_CONFIG")
    return ([Path(env)] if env else []) + [default_path(), SYSTEM_PATH]


def load(path: str | Path | None = None) -> Config:
    """Read the named config file, or the first of `search_paths()` that exists; defaults otherwise."""
    explicit = path is not None
    if explicit:
        path = Path(path)
        if not path.exists():
            raise ConfigError(f"{path}: config file not found")
    else:
        path = next((p for p in search_paths() if p.is_file()), None)
        if path is None:
            return DEFAULTS
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a text file (byte {exc.start} is not UTF-8); a config is "
                          "TOML text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    return replace(from_dict(raw, where=str(path)), origin=str(path))


def describe(config: Config) -> str:
    """One line for every command: which config file and which data dir it is using."""
    used = config.origin or "none found, defaults (looked in " + ", ".join(map(str, search_paths())) + ")"
    return f"config: {used}; data dir: {config.data_dir()}"


def from_dict(raw: dict[str, Any], where: str = "config") -> Config:
    sections = {f.name: f for f in _sections()}
    built: dict[str, Any] = {}
    for name, body in raw.items():
        if name == "protocols":
            try:
                built[name] = protocols_from_config(body, where)
            except ProtocolError as exc:
                raise ConfigError(str(exc)) from None
            continue
        if name not in sections:
            raise ConfigError(f"{where}: unknown section [{name}]; known sections: {', '.join(sections)}")
        if not isinstance(body, dict):
            raise ConfigError(f"{where}: [{name}] must be a table of keys")
        default = sections[name].default_factory()  # type: ignore[misc]
        known = {f.name for f in fields(default)}
        for key in body:
            if key not in known:
                raise ConfigError(
                    f"{where}: unknown key {name}.{key}; keys in [{name}]: {', '.join(sorted(known))}"
                )
        checked = {key: _checked(name, default, key, value, where) for key, value in body.items()}
        built[name] = replace(default, **checked)
    cfg = replace(DEFAULTS, **built)
    for section in _sections():
        problem = getattr(getattr(cfg, section.name), "problem", None)
        if problem is not None and problem() is not None:
            raise ConfigError(f"{where}: {problem()}")
    known = catalogue(cfg.protocols)
    if cfg.routine.protocol not in known:
        raise ConfigError(f"{where}: routine.protocol = {cfg.routine.protocol!r} is not a protocol; known: "
                          f"{', '.join(known)}")
    return cfg


def _checked(section: str, current: Any, key: str, value: Any, where: str) -> Any:
    spec = next((f for f in fields(current) if f.name == key), None)
    if spec is None:
        raise ConfigError(f"{where}: unknown key {section}.{key}")
    if isinstance(spec.default, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(spec.default, tuple) and isinstance(value, list):
        value = tuple(value)
    if not spec.metadata["ok"](value):
        allowed = spec.metadata["allowed"]
        raise ConfigError(f"{where}: {section}.{key} = {value!r} is not allowed; expected {allowed}")
    return value


def to_toml(config: Config) -> str:
    """The effective config as TOML, for `stretchstep config`."""
    lines: list[str] = []
    for section in _sections():
        lines.append(f"[{section.name}]")
        body = getattr(config, section.name)
        for spec in fields(body):
            lines.append(f"{spec.name} = {_toml_value(getattr(body, spec.name))}")
        lines.append("")
    return "\n".join(lines + to_toml_tables(config.protocols))


def commented_toml(values: dict[str, dict[str, Any]], header: str = "") -> str:
    """A config file that sets `values` and shows every other key commented out, with its
    default and what is allowed: what the installer writes to /etc/stretchstep/config.toml."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for section in _sections():
        lines += ["", f"[{section.name}]"]
        body = getattr(DEFAULTS, section.name)
        for spec in fields(body):
            given = values.get(section.name, {})
            value = given.get(spec.name, getattr(body, spec.name))
            prefix = "" if spec.name in given else "# "
            lines.append(f"{prefix}{spec.name} = {_toml_value(value)}    # {spec.metadata['allowed']}")
    from_dict(values, where="the values given")      # a bad value is a ConfigError, not a bad file
    return "\n".join(lines) + "\n"


def _sections() -> list[Any]:
    """The [section] fields of Config (not `origin`, which is where it came from, nor the
    `[[protocols]]` array of tables, read by firmware.routine.protocols)."""
    return [f for f in fields(Config) if f.name not in ("origin", "protocols")]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):  # JSON's escapes are TOML's, but TOML wants DEL escaped too
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return repr(value)
