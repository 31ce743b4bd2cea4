"""Latest device state and per-subscriber message queues for the web dashboard.

The sampling loop calls `on_sample` at up to 80 Hz, so that path does no I/O, builds a message
only when one is due and someone listens, and never waits: each subscriber has a bounded deque
that drops its OLDEST message when a phone falls behind (a slow phone must never slow the loop,
and fresh news beats old news on a live view). Web threads block in `Subscription.get`, woken
by a per-subscriber threading.Event, so nothing polls.

Messages are dicts {"type": ..., "data": {...}}, JSON-safe (NaN -> None):
  sample: {"t", "kg", "status"}     at most sample_hz, by sample time
  event:  {"event", "status", "emitted_at"}   every event, at once; emitted_at is the wall
                                    clock (time.time()) when the loop handed it over, so a client
                                    can tell how long it took to arrive (bench/live_latency.py)
  state:  {"status"}                when status["state"] changes (the web's first message is a
                                    "state" carrying the whole snapshot, which also has "status")
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Any

from firmware.events import Event

HISTORY_S = 60.0      # seconds of kg kept for the dashboard's small chart
HISTORY_HZ = 10.0     # points per second in that history
EVENTS_KEPT = 30


def jsonable(value: Any) -> Any:
    """A copy safe for strict JSON (browsers reject NaN): non-finite floats become None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


class Subscription:
    """One listener's bounded queue. `get` blocks up to `timeout`; None means nothing (or closed)."""

    def __init__(self, size: int) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=size)
        self._ready = threading.Event()
        self.dropped = 0
        self.closed = False

    def put(self, message: dict[str, Any]) -> None:
        """Never blocks; a full queue loses its oldest message (deque maxlen)."""
        if len(self._items) == self._items.maxlen:
            self.dropped += 1
        self._items.append(message)
        self._ready.set()

    def get(self, timeout: float | None = None) -> dict[str, Any] | None:
        if self.closed:
            return None
        self._ready.clear()
        try:
            return self._items.popleft()
        except IndexError:
            pass
        self._ready.wait(timeout)
        if self.closed:
            return None
        try:
            return self._items.popleft()
        except IndexError:
            return None

    def pending(self) -> int:
        return len(self._items)

    def close(self) -> None:
        """Wake a waiting `get` and make every later one return None at once."""
        self.closed = True
        self._ready.set()


class LiveState:
    """What the dashboard shows right now, and a fan-out of changes to subscribed streams."""

    def __init__(self, *, sample_hz: float = 10.0, queue_size: int = 256) -> None:
        if sample_hz <= 0:
            raise ValueError(f"sample_hz must be > 0, got {sample_hz}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self.sample_period = 1.0 / sample_hz
        self.queue_size = queue_size
        self._subs: tuple[Subscription, ...] = ()
        self._subs_lock = threading.Lock()
        self._status: dict[str, Any] = {"state": "empty"}
        self._kg: float = math.nan
        self._t: float | None = None
        self._last_push: float | None = None
        self._next_hist: float | None = None
        self._history: deque[tuple[float, float]] = deque(maxlen=int(HISTORY_S * HISTORY_HZ))
        self._events: deque[dict[str, Any]] = deque(maxlen=EVENTS_KEPT)
        self.samples_seen = 0

    # --- called by the sampling loop ------------------------------------------------------
    def on_sample(self, t: float, kg: float, status: dict) -> None:
        """Remember the latest; push a "sample" at most sample_hz (by sample time), "state" on change."""
        self.samples_seen += 1
        previous = self._status.get("state")
        self._status, self._kg, self._t = status, kg, t
        self._remember(t, kg)
        subs = self._subs
        if status.get("state") != previous and subs:
            self._publish(subs, {"type": "state", "data": {"status": jsonable(status)}})
        # a source restart sends time backwards: start the throttle over rather than go silent
        last = self._last_push
        if last is not None and last <= t < last + self.sample_period * 0.999:  # 0.999: float slack
            return
        self._last_push = t
        if subs:
            self._publish(subs, {"type": "sample", "data": jsonable({"t": t, "kg": kg, "status": status})})

    def on_event(self, event: Event, status: dict) -> None:
        """Push an "event" message at once (events are rare and each one matters)."""
        self._status = status
        item = jsonable(event.to_dict())
        self._events.append(item)
        subs = self._subs
        if subs:
            self._publish(subs, {"type": "event", "data": {"event": item, "status": jsonable(status),
                                                           "emitted_at": time.time()}})

    def _remember(self, t: float, kg: float) -> None:
        """Keep a point for the small chart, at most HISTORY_HZ."""
        if self._next_hist is not None and t < self._next_hist - 1.0 / HISTORY_HZ:
            self._history.clear()  # time went backwards: a new source; old points would garble the chart
            self._next_hist = None
        if self._next_hist is None or t >= self._next_hist:
            self._history.append((t, kg))
            self._next_hist = t + 1.0 / HISTORY_HZ

    @staticmethod
    def _publish(subs: tuple[Subscription, ...], message: dict[str, Any]) -> None:
        for sub in subs:
            sub.put(message)

    # --- called by web threads ------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Body of GET /api/state: status, kg, the last events and the recent kg history."""
        status = self._status
        return jsonable({
            "status": dict(status),
            "state": status.get("state", "empty"),
            "kg": self._kg,
            "t": self._t,
            "events": list(self._events),
            "history": [[round(t, 3), round(kg, 3) if math.isfinite(kg) else None]
                        for t, kg in list(self._history)],
            "subscribers": len(self._subs),
        })

    def subscribe(self, size: int | None = None) -> Subscription:
        """A new listener; `size` (default queue_size) bounds what it may fall behind by."""
        sub = Subscription(size or self.queue_size)
        with self._subs_lock:
            self._subs = (*self._subs, sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._subs_lock:
            self._subs = tuple(s for s in self._subs if s is not sub)
        sub.close()

    def close_all(self) -> None:
        """Wake and end every subscription (server shutdown)."""
        with self._subs_lock:
            subs, self._subs = self._subs, ()
        for sub in subs:
            sub.close()

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)


def _kg(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


class LiveMirror(LiveState):
    """The web process's LiveState, fed with the sampler's messages instead of samples.

    The sampler's own LiveState throttles samples and encodes JSON; its messages arrive here
    (firmware.service.link) and are applied to the same picture (status, kg, events, history)
    and passed on unchanged to this process's subscribers, so the stream and /api/state work
    as in one process. `lost` says on the page that the sampler is gone until the next snapshot.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._status = {"state": "fault", "fault": "sampler_starting"}

    def apply(self, message: dict[str, Any]) -> None:
        kind, data = message.get("type"), message.get("data") or {}
        if kind == "snapshot":
            self._status = dict(data.get("status") or {})
            self._kg, self._t = _kg(data.get("kg")), data.get("t")
            self._events.clear()
            self._events.extend(data.get("events") or [])
            self._history.clear()
            self._next_hist = None
            for t, kg in data.get("history") or []:
                self._remember(t, _kg(kg))
            self._push({"type": "state", "data": {"status": self._status}})
            return
        if kind == "sample":
            self.samples_seen += 1
            self._status, self._kg, self._t = data.get("status") or {}, _kg(data.get("kg")), data.get("t")
            if isinstance(self._t, int | float):
                self._remember(self._t, self._kg)
        elif kind == "event":
            self._status = data.get("status") or self._status
            self._events.append(data.get("event"))
        elif kind == "state":
            self._status = data.get("status") or self._status
        else:
            return
        self._push(message)

    def lost(self, reason: str = "sampler_lost") -> None:
        """The link to the sampler broke: the page says so until the sampler is back."""
        self._status = {**self._status, "state": "fault", "fault": reason}
        self._push({"type": "state", "data": {"status": self._status}})

    def _push(self, message: dict[str, Any]) -> None:
        subs = self._subs
        if subs:
            self._publish(subs, message)
