"""Optional publishers beside the sampling loop: MQTT with Home Assistant discovery (issue 15).

`make_publisher` is the one place that turns `[mqtt]` into a running publisher. Nothing of
paho-mqtt is imported unless `[mqtt] host` is set, so a device without a broker needs no extra.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware.config import Config, ConfigError
from firmware.publish.topics import Topics, ensure_device_id


class PublishError(ConfigError):
    """[mqtt] is set but cannot be used (paho-mqtt missing, password file unreadable, ...)."""


def _password(mqtt: Any) -> str:
    if not mqtt.password_file:
        return mqtt.password
    path = Path(mqtt.password_file).expanduser()
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise PublishError(f"mqtt.password_file {str(path)!r}: {exc.strerror or exc}") from None


def _pip() -> str:
    """The pip of the Python running us (on an installed Pi /opt/stretchstep/venv/bin/pip): a
    bare `pip` may be another Python's, and the project is not on PyPI to `pip install` by name."""
    return str(Path(sys.executable).with_name("pip"))


def broker_settings(cfg: Config, device_id: str | None = None) -> Any:
    """[mqtt] resolved (password file read, defaults named) into BrokerSettings; clear errors.
    The device id is made (kept in the data dir) only once everything else is known to be fine."""
    m = cfg.mqtt
    if m.ca_file and not Path(m.ca_file).expanduser().is_file():
        raise PublishError(f"mqtt.ca_file {m.ca_file!r}: no such file")
    password = _password(m)
    try:
        from firmware.publish.mqtt import BrokerSettings
    except ImportError:
        raise PublishError(f"[mqtt] is configured but paho-mqtt is not installed: {_pip()} install "
                           "'paho-mqtt>=2.1,<3' (the mqtt extra; hardware/README.md §10)") from None
    device_id = device_id or ensure_device_id(cfg.data_dir())
    return BrokerSettings(
        device_id=device_id, host=m.host, port=m.port, prefix=m.topic_prefix or f"stretchstep/{device_id}",
        client_id=m.client_id or f"stretchstep-{device_id}", username=m.username, password=password,
        tls=m.tls, ca_file=str(Path(m.ca_file).expanduser()) if m.ca_file else "", qos=m.qos,
        keepalive=m.keepalive, live_hz=m.live_hz, discovery=m.discovery,
        discovery_prefix=m.discovery_prefix, allow_commands=m.allow_commands)


def make_publishers(cfg: Config, control: Any, store: Any, writer: Any) -> list[Any]:
    """The sampler's publishers ([mqtt]; none without a host), started. Today's counts come from
    the history (`store`, None when it cannot be opened), after `writer` has written what came."""
    if not cfg.mqtt.host:
        return []
    from firmware.history import history_context
    from firmware.publish.profiles import ProfileChoice
    from firmware.publish.today import TodayCounts

    if store is None:  # no history: nothing to count and no profiles, but state and events go out
        return [make_publisher(cfg, control=control)]
    today = TodayCounts(store, history_context(cfg, store), settle=lambda: writer.flush(timeout=2))
    return [make_publisher(cfg, control=control, today=today, profiles=ProfileChoice(store))]


def make_publisher(cfg: Config, *, control: Any = None,
                   today: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                   profiles: Any = None) -> Any:
    """A started MqttPublisher for `cfg.mqtt`, or None when no broker is configured."""
    m = cfg.mqtt
    if not m.host:
        return None
    settings = broker_settings(cfg)
    device_id = settings.device_id
    from firmware import __version__
    from firmware.publish.discovery import DeviceInfo
    from firmware.publish.mqtt import MqttPublisher

    info = DeviceInfo(device_id=device_id, name=m.name or f"Stretch step {device_id}", version=__version__,
                      model=f"calf-stretch step ({cfg.sensor.source.partition(':')[0]})")
    return MqttPublisher(settings, info, control=control, today=today, profiles=profiles).start()


__all__ = ["PublishError", "Topics", "broker_settings", "ensure_device_id", "make_publisher",
           "make_publishers"]
