"""Where a step publishes: one prefix per device, a fixed layout under it, and its stable id.

Layout under the prefix (default `stretchstep/<device id>`):
  availability      "online" / "offline" (retained; "offline" is the last will)
  state             the loop's state: empty, standing, stretching, holding, fault (retained)
  live              {"t", "kg", "hold_s", "breaths", "bounces", "state"} a few times a second
  today             today's counts (retained), see firmware.publish.today
  event/<kind>      every DESIGN §3 event as JSON (stretch_end carries the stretch summary)
  profile           the active profile's name (retained), when the device has profiles
  command/tare      Home Assistant's tare button (only subscribed with allow_commands)
  command/profile   Home Assistant's profile select (only subscribed with allow_commands)
  command/result    {"command", "ok", "message"} for each command received
"""

from __future__ import annotations

import secrets
from pathlib import Path

DEVICE_ID_FILE = "device_id"
COMMANDS = ("tare", "profile")


def ensure_device_id(data_dir: Path) -> str:
    """This step's id, made once and kept in the data dir so topics and Home Assistant's unique
    ids survive restarts; a second step with its own data dir gets its own."""
    path = data_dir / DEVICE_ID_FILE
    if path.exists():
        found = path.read_text(encoding="utf-8").strip()
        if found and found.replace("-", "").isalnum():
            return found
    data_dir.mkdir(parents=True, exist_ok=True)
    made = "ss" + secrets.token_hex(4)
    path.write_text(made + "\n", encoding="utf-8")
    return made


class Topics:
    """The topics of one device, all under `prefix` (see the module docstring)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.availability, self.state, self.live, self.today, self.profile = (
            f"{prefix}/{leaf}" for leaf in ("availability", "state", "live", "today", "profile"))
        self.result = f"{prefix}/command/result"

    def event(self, kind: str) -> str:
        return f"{self.prefix}/event/{kind}"

    def command(self, name: str) -> str:
        return f"{self.prefix}/command/{name}"
