"""`stretchstep fleet`: every step on the broker and its day, in one table.

For a practice with a step in each room, or a household with two: it subscribes (with the
broker login from [mqtt]) to the retained `…/availability` and `…/today` of every step under
`stretchstep/+` and to the discovery configs for their names, waits `--seconds` for the
retained messages to arrive, and prints one row per step. It publishes nothing.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import click

COLUMNS = ("holds", "stretches", "bounced", "routines", "goal", "streak")


class FleetView:
    """What the broker holds about each step, keyed by its topic prefix."""

    def __init__(self, discovery_prefix: str = "homeassistant") -> None:
        self.discovery_prefix = discovery_prefix
        self.steps: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def topics(self) -> list[tuple[str, int]]:
        return [("stretchstep/+/availability", 1), ("stretchstep/+/today", 1),
                (f"{self.discovery_prefix}/sensor/+/state/config", 1)]

    def on_message(self, topic: str, payload: bytes) -> None:
        with self.lock:
            if topic.startswith(self.discovery_prefix + "/"):
                try:
                    config = json.loads(payload) if payload else {}
                except ValueError:
                    return
                prefix = config.get("~")
                if isinstance(prefix, str):
                    self.steps.setdefault(prefix, {})["name"] = config.get("device", {}).get("name")
                return
            prefix, _, leaf = topic.rpartition("/")
            step = self.steps.setdefault(prefix, {})
            if leaf == "availability":
                step["availability"] = payload.decode("utf-8", "replace")
            else:
                try:
                    step["today"] = json.loads(payload)
                except ValueError:
                    step["today"] = {}

    def table(self) -> str:
        with self.lock:
            steps = sorted(self.steps.items())
        if not steps:
            return "no stretchstep devices on this broker"
        rows = [("step", "name", "status", "date", *COLUMNS)]
        for prefix, step in steps:
            today = step.get("today") or {}
            rows.append((prefix.rsplit("/", 1)[-1], step.get("name") or "-", step.get("availability", "?"),
                         str(today.get("date", "-")),
                         *("-" if today.get(c) is None else str(today[c]) for c in COLUMNS)))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                         for row in rows)


def watch(settings: Any, seconds: float) -> FleetView:
    """Subscribe, wait `seconds` for the retained messages, return what arrived."""
    from firmware.publish.mqtt import broker_client

    view = FleetView(settings.discovery_prefix)
    connected = threading.Event()
    client = broker_client(settings, settings.client_id)

    def on_connect(c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            c.subscribe(view.topics())
            connected.set()

    client.on_connect = on_connect
    client.on_message = lambda _c, _u, message: view.on_message(message.topic, message.payload)
    try:
        client.connect(settings.host, settings.port, 30)
    except OSError as exc:
        raise click.ClickException(f"cannot reach the broker at {settings.host}:{settings.port}: "
                                   f"{exc.strerror or exc}") from None
    client.loop_start()
    try:
        if not connected.wait(5):
            raise click.ClickException(f"the broker at {settings.host}:{settings.port} refused the "
                                       "connection (check mqtt.username and the password)")
        time.sleep(seconds)
    finally:
        client.disconnect()
        client.loop_stop()
    return view


@click.command(name="fleet")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML config file whose [mqtt] names the broker.")
@click.option("--host", default=None, help="Broker host (default: mqtt.host from the config).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Broker port.")
@click.option("--seconds", type=click.FloatRange(0.1, 60), default=2.0, show_default=True,
              help="How long to wait for every step's retained messages.")
def fleet_command(config_path: str | None, host: str | None, port: int | None, seconds: float) -> None:
    """Show every step on the MQTT broker with today's counts, one row each."""
    from firmware import config as configuration
    from firmware.publish import broker_settings

    cfg = configuration.load(config_path)
    if host is not None:
        cfg = cfg.with_values("mqtt", host=host)
    if port is not None:
        cfg = cfg.with_values("mqtt", port=port)
    if not cfg.mqtt.host:
        raise click.ClickException("no broker: set [mqtt] host in the config or pass --host")
    click.echo(watch(broker_settings(cfg, device_id=f"fleet{os.getpid()}"), seconds).table())
