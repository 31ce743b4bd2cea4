"""The MQTT publisher: a sink beside the sampling loop that can never hold it up.

The loop calls `on_sample` (80 times a second) and `on_event`; both only decide whether
anything is due and append to a bounded inbox (full: the item is dropped and counted), then
return. A worker thread turns the inbox into messages and hands them to paho-mqtt, whose own
network thread talks to the broker, reconnects with backoff (1 s doubling to 30 s) and
resends unacknowledged QoS 1/2 messages after a reconnect. So a broker that is down, slow or
refusing costs the loop nothing: only counters move.

While the broker is away: live load is skipped (it is stale by the time the broker is back),
retained topics (state, today, discovery, availability) keep only their latest value and are
all republished on every connect, and events wait in a bounded outbox (oldest dropped and
counted past `outage_events`) and go out, in order, once connected. The last will marks the
step "offline" if the process dies; a clean stop publishes "offline" itself.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import paho.mqtt.client as paho

from firmware.events import Event
from firmware.live import jsonable
from firmware.publish.commands import run_command
from firmware.publish.discovery import DeviceInfo, discovery_messages
from firmware.publish.topics import COMMANDS, Topics

log = logging.getLogger(__name__)

IDLE_LIVE_S = 30.0          # an empty step's load is republished this often, not live_hz
TODAY_KINDS = ("stretch_end", "bounce")
PROFILE_CHECK_S = 5.0       # how soon a profile chosen on the page shows in Home Assistant
RESYNC_BURST = 256          # room in paho's queue for a connect's retained messages beside the events
HA_STATUS = "/status"       # under the discovery prefix: Home Assistant says "online" after a restart


@dataclass(frozen=True)
class BrokerSettings:
    """Everything the publisher needs to reach a broker (resolved from [mqtt] by make_publisher)."""

    host: str
    port: int = 1883
    device_id: str = "test"
    prefix: str = "stretchstep/test"
    client_id: str = "stretchstep-test"
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_file: str = ""
    qos: int = 1
    keepalive: int = 30
    live_hz: float = 2.0
    discovery: bool = True
    discovery_prefix: str = "homeassistant"
    allow_commands: bool = False
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 30.0


def broker_client(s: BrokerSettings, client_id: str) -> paho.Client:
    """A paho client with the broker's login and TLS (the publisher and `stretchstep fleet`)."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv311,
                         clean_session=True)
    if s.username:
        client.username_pw_set(s.username, s.password or None)
    if s.tls:
        client.tls_set(ca_certs=s.ca_file or None)
    return client


class MqttPublisher:
    """A Device sink (`on_sample`, `on_event`) publishing to one broker; `health()` for /api/health."""

    name = "mqtt"

    def __init__(self, settings: BrokerSettings, info: DeviceInfo, *, control: Any = None,
                 today: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 profiles: Any = None,
                 inbox_size: int = 4096, outage_events: int = 2000) -> None:
        self.settings, self.info = settings, info
        self.topics = Topics(settings.prefix)
        self._control, self._today, self._profiles = control, today, profiles
        self._period = 1.0 / settings.live_hz
        # loop side (written only by the sampling thread)
        self._inbox: deque[tuple[Any, ...]] = deque()
        self._inbox_size = inbox_size
        self._wake = threading.Event()
        self._state: str | None = None
        self._next_live = -math.inf
        self._last_t = -math.inf
        self.inbox_dropped = 0
        self.loop_calls, self.loop_s, self.loop_max_s = 0, 0.0, 0.0
        # worker side
        self._outbox: deque[dict[str, Any]] = deque(maxlen=outage_events)
        self._retained: dict[str, str] = {}
        self._status: dict[str, Any] = {}
        self._seq = 0                 # (boot, seq) names each event: QoS 1 may deliver one twice
        self._boot = time.time_ns() // 1_000_000
        self._handed = 0
        self.outbox_dropped = 0
        self.lost = 0                 # refused by paho (its queue full) or QoS 0 while disconnected
        self.live_skipped = 0
        self.commands_run = 0
        self.commands_ignored = 0
        # network side (written by paho's thread)
        self.connected = False
        self.connects = 0
        self.refusals = 0
        self.sent = 0
        self.last_error: str | None = None
        self._last_said: str | None = None
        self._profiles_seen: dict[str, Any] | None = None
        self._next_profile_check = 0.0
        self._resync = threading.Event()
        self._commands: deque[tuple[str, bytes]] = deque(maxlen=16)
        self._closing = False
        self._client = self._make_client(outage_events + RESYNC_BURST)
        self._worker = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)

    # --- lifecycle ------------------------------------------------------------------------
    def _make_client(self, max_queued: int) -> paho.Client:
        s = self.settings
        client = broker_client(s, s.client_id)
        client.will_set(self.topics.availability, "offline", qos=1, retain=True)
        client.reconnect_delay_set(min_delay=max(1, round(s.reconnect_min_s)),
                                   max_delay=max(1, round(s.reconnect_max_s)))
        client.max_queued_messages_set(max_queued)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def start(self) -> MqttPublisher:
        """Connect in the background (a broker that is not there yet is retried, never waited on)."""
        self._worker.start()
        self._client.connect_async(self.settings.host, self.settings.port, self.settings.keepalive)
        self._client.loop_start()
        return self

    def close(self, timeout: float = 3.0) -> None:
        """Send what is queued (up to `timeout`), say "offline", disconnect."""
        deadline = time.monotonic() + timeout
        self._closing = True
        self._wake.set()
        if self._worker.is_alive():
            self._worker.join(max(0.0, deadline - time.monotonic()))
        while self.connected and self._handed > self.sent and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.connected:
            info = self._client.publish(self.topics.availability, "offline", qos=1, retain=True)
            info.wait_for_publish(max(0.1, deadline - time.monotonic()))
        self._client.disconnect()
        self._client.loop_stop()

    def health(self) -> dict[str, Any]:
        """Connection and counters: nothing here waits on the broker."""
        s = self.settings
        in_flight = max(0, self._handed - self.sent)
        return {
            "broker": f"{s.host}:{s.port}", "topic_prefix": s.prefix, "device_id": self.info.device_id,
            "connected": self.connected, "queued": len(self._inbox) + len(self._outbox) + in_flight,
            "sent": self.sent, "dropped": self.inbox_dropped + self.outbox_dropped + self.lost,
            "reconnects": max(0, self.connects - 1), "refusals": self.refusals,
            "live_skipped": self.live_skipped, "commands": s.allow_commands,
            "commands_run": self.commands_run, "commands_ignored": self.commands_ignored,
            "last_error": self.last_error,
            "loop_cost": {"calls": self.loop_calls, "mean_us": 1e6 * self.loop_s / max(1, self.loop_calls),
                          "max_us": 1e6 * self.loop_max_s},
        }

    # --- called by the sampling loop: decide, append, return ------------------------------
    def on_sample(self, t: float, kg: float, status: dict[str, Any]) -> None:
        started = time.perf_counter()
        self._on_sample(t, kg, status)
        self._cost(time.perf_counter() - started)

    def on_event(self, event: Event, status: dict[str, Any]) -> None:
        started = time.perf_counter()
        self._put(("event", event, time.time(), status))
        self._cost(time.perf_counter() - started)

    def _cost(self, seconds: float) -> None:
        """What the loop spent in here: the figure that says the broker cannot hold it up."""
        self.loop_calls += 1
        self.loop_s += seconds
        if seconds > self.loop_max_s:
            self.loop_max_s = seconds

    def _on_sample(self, t: float, kg: float, status: dict[str, Any]) -> None:
        state = status.get("state")
        if state != self._state:
            self._state = state
            self._put(("state", state))
            self._next_live = -math.inf
        if t < self._last_t:           # a restarted source starts its time over
            self._next_live = -math.inf
        self._last_t = t
        if t < self._next_live:
            return
        self._next_live = t + (IDLE_LIVE_S if state == "empty" else self._period)
        self._put(("live", t, kg, status))

    def _put(self, item: tuple[Any, ...]) -> None:
        if len(self._inbox) >= self._inbox_size:
            self.inbox_dropped += 1
            return
        self._inbox.append(item)
        self._wake.set()

    # --- the worker thread ----------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self._wake.wait(1.0)
            self._wake.clear()
            try:
                if self._resync.is_set():
                    self._resync.clear()
                    self._republish()
                while self._inbox:
                    self._handle(self._inbox.popleft())
                while self._commands:
                    self._command(*self._commands.popleft())
                self._check_day()
                if time.monotonic() >= self._next_profile_check:
                    self._check_profiles()
            except Exception:  # a bug here must not end publishing for the rest of the run
                log.exception("mqtt publisher: unexpected error")
            if self._closing and not self._inbox:
                return

    def _handle(self, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == "state":
            self._retain(self.topics.state, str(item[1]))
        elif kind == "live":
            _, t, kg, status = item
            self._status = status
            if not self.connected:
                self.live_skipped += 1
                return
            body = {"t": t, "kg": kg, "state": status.get("state"), "hold_s": status.get("hold_s"),
                    "breaths": status.get("breaths"), "bounces": status.get("bounces")}
            self._send(self.topics.live, _dumps(body), qos=0, retain=False)
        elif kind == "event":
            _, event, wall, status = item
            self._status = status
            self._seq += 1
            body = {**event.to_dict(), "event_type": event.kind, "wall": wall, "device": self.info.device_id,
                    "boot": self._boot, "seq": self._seq}
            if len(self._outbox) == self._outbox.maxlen:
                self.outbox_dropped += 1  # a long outage: this append pushes the oldest event out
            self._outbox.append({"topic": self.topics.event(event.kind), "payload": _dumps(body)})
            self._flush_outbox()
            if event.kind in TODAY_KINDS:
                self._publish_today()

    def _flush_outbox(self) -> None:
        while self.connected and self._outbox:
            message = self._outbox.popleft()
            self._send(message["topic"], message["payload"], qos=self.settings.qos, retain=False)

    def _retain(self, topic: str, payload: str, send: bool = True) -> None:
        """Remember the latest value (republished on reconnect); send it now if connected."""
        self._retained[topic] = payload
        if send and self.connected:
            self._send(topic, payload, qos=self.settings.qos, retain=True)

    def _send(self, topic: str, payload: str, *, qos: int, retain: bool) -> None:
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == paho.MQTT_ERR_QUEUE_SIZE or (qos == 0 and info.rc != paho.MQTT_ERR_SUCCESS):
            self.lost += 1
        else:
            self._handed += 1

    def _republish(self) -> None:
        """On every connect: discovery, every retained value, then "online", then waiting events."""
        if self.settings.discovery:
            for topic, config in self._discovery().items():
                payload = "" if config is None else _dumps(config)
                self._send(topic, payload, qos=self.settings.qos, retain=True)
        self._publish_today(send=False)
        self._publish_profile(send=False)
        for topic, payload in list(self._retained.items()):
            self._send(topic, payload, qos=self.settings.qos, retain=True)
        self._send(self.topics.availability, "online", qos=self.settings.qos, retain=True)
        self._flush_outbox()

    def _discovery(self) -> dict[str, dict[str, Any] | None]:
        profiles = self._profile_info()
        return discovery_messages(self.info, self.topics, self.settings.discovery_prefix,
                                  commands=self.settings.allow_commands,
                                  profiles=profiles.get("options") if profiles else None)

    def _publish_today(self, send: bool = True) -> None:
        if self._today is None:
            return
        try:
            counts = self._today(self._status)
        except Exception as exc:  # the history may be busy or gone; the rest keeps publishing
            self.last_error = f"today's counts: {type(exc).__name__}: {exc}"
            return
        self._retain(self.topics.today, _dumps(counts), send)

    def _check_day(self) -> None:
        """When a new day begins the day's counts start over: publish its zeros."""
        last = self._retained.get(self.topics.today)
        day = getattr(self._today, "day", None)
        today = day() if day is not None else datetime.now().date().isoformat()
        if last is not None and json.loads(last).get("date") != today:
            self._publish_today()

    def _profile_info(self) -> dict[str, Any] | None:
        if self._profiles is None:
            return None
        try:
            return self._profiles()
        except Exception as exc:
            self.last_error = f"profiles: {type(exc).__name__}: {exc}"
            return None

    def _publish_profile(self, send: bool = True) -> None:
        info = self._profile_info()
        self._profiles_seen = info
        if info and info.get("active"):
            self._retain(self.topics.profile, str(info["active"]), send)

    def _check_profiles(self) -> None:
        """Profiles added, renamed or chosen on the page: the select's options and state follow
        (checked every PROFILE_CHECK_S; two small reads of the history file)."""
        self._next_profile_check = time.monotonic() + PROFILE_CHECK_S
        if self._profiles is None:
            return
        seen = self._profiles_seen
        info = self._profile_info()
        if info == seen:
            return
        changed = (seen or {}).get("options") != (info or {}).get("options")
        if self.settings.discovery and changed and self.connected:  # (a reconnect sends all anyway)
            for topic, config in self._discovery().items():
                if topic.endswith("/profile/config"):
                    self._send(topic, "" if config is None else _dumps(config), qos=self.settings.qos,
                               retain=True)
        self._publish_profile()

    # --- commands from Home Assistant (subscribed only with allow_commands) ----------------
    def _command(self, name: str, payload: bytes) -> None:
        self.commands_run += 1
        body = run_command(self._control, self._profiles, name, payload)
        if name == "profile" and body["ok"]:
            self._check_profiles()
        if self.connected:
            self._send(self.topics.result, _dumps(body), qos=self.settings.qos, retain=False)

    # --- paho's network thread --------------------------------------------------------------
    def _say(self, level: int, message: str) -> None:
        """Log a change of the connection's story once (a broker down for an hour retries every
        30 s: the journal gets one line for it, and one when it is back)."""
        if message != self._last_said:
            self._last_said = message
            log.log(level, "mqtt %s:%d: %s", self.settings.host, self.settings.port, message)

    def _on_connect(self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            self.refusals += 1
            self.last_error = f"broker refused the connection: {reason}"
            self._say(logging.WARNING, f"{self.last_error}; retrying with backoff")
            return
        self.connected = True
        self.connects += 1
        self._say(logging.INFO, "connected" if self.connects == 1 else "connected again")
        client.subscribe(self.settings.discovery_prefix + HA_STATUS, qos=1)
        if self.settings.allow_commands:
            for name in COMMANDS:
                client.subscribe(self.topics.command(name), qos=1)
        self._resync.set()
        self._wake.set()

    def _on_connect_fail(self, _client: paho.Client, _userdata: Any) -> None:
        # paho calls this inside its `except OSError`: the reason (refused, TLS, DNS) is at hand
        reason = sys.exc_info()[1]
        self.last_error = (f"cannot reach the broker at {self.settings.host}:{self.settings.port}"
                           + (f": {reason}" if reason is not None else ""))
        self._say(logging.WARNING, f"cannot reach the broker ({reason or 'no reason given'}); retrying "
                                   "with backoff")

    def _on_disconnect(self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any,
                       _props: Any) -> None:
        was, self.connected = self.connected, False
        if was and not self._closing:  # (a refused connect is also "disconnected": keep its reason)
            self.last_error = f"disconnected: {reason}"
            self._say(logging.WARNING, f"{self.last_error}; events are kept until it is back")

    def _on_publish(self, _client: paho.Client, _userdata: Any, _mid: int, _reason: Any, _props: Any) -> None:
        self.sent += 1

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        if message.topic == self.settings.discovery_prefix + HA_STATUS:
            if message.payload == b"online":
                self._resync.set()
                self._wake.set()
            return
        name = message.topic.rsplit("/", 1)[-1]
        # a retained command would re-run on every reconnect; an empty one is someone clearing it
        if message.retain or not message.payload or name not in COMMANDS or not self.settings.allow_commands:
            self.commands_ignored += 1
            return
        self._commands.append((name, bytes(message.payload)))
        self._wake.set()


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(jsonable(body), separators=(",", ":"), allow_nan=False, default=str)
