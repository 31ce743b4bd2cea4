"""Home Assistant MQTT discovery: one device, its entities, each a retained config message.

Why discovery: a household's Home Assistant shows the step as a device with no YAML. Each
config goes to `<discovery prefix>/<component>/<node id>/<object id>/config` (ids of
[a-zA-Z0-9_-] only) and names its topics through `~` (the device's topic prefix), carries a
`unique_id` (required for the device block to count) and the device's availability topic, so
every entity shows "unavailable" when the step goes offline. The tare button and the profile
select exist only when commands are allowed (without them the profile is a read-only sensor);
otherwise an empty retained config removes any left from an earlier run (HA deletes an entity
on an empty config).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from firmware.publish.topics import Topics

STATES = ["empty", "standing", "stretching", "holding", "fault"]
ON_STEP = "{{ 'ON' if value in ['standing', 'stretching', 'holding'] else 'OFF' }}"
FAULT = "{{ 'ON' if value == 'fault' else 'OFF' }}"
GOAL_ATTRIBUTE = '{{ {"goal": value_json.goal} | tojson }}'


@dataclass(frozen=True)
class DeviceInfo:
    device_id: str
    name: str
    version: str
    model: str


def _today(key: str) -> dict[str, Any]:
    return {"state_topic": "~/today", "value_template": f"{{{{ value_json.{key} }}}}"}


def _live(key: str) -> dict[str, Any]:
    return {"state_topic": "~/live", "value_template": f"{{{{ value_json.{key} }}}}"}


# (component, object id, name, fields). Topics start with "~" (the device prefix).
ENTITIES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("sensor", "state", "State", {"state_topic": "~/state", "device_class": "enum", "options": STATES,
                                  "icon": "mdi:stairs"}),
    ("sensor", "load", "Load", {**_live("kg"), "device_class": "weight", "unit_of_measurement": "kg",
                                "state_class": "measurement", "suggested_display_precision": 1}),
    ("sensor", "hold_time", "Hold time", {**_live("hold_s"), "device_class": "duration",
                                          "unit_of_measurement": "s", "state_class": "measurement"}),
    ("sensor", "breaths", "Breaths this hold", {**_live("breaths"), "state_class": "measurement",
                                                "icon": "mdi:lungs"}),
    ("sensor", "holds_today", "Holds today", {**_today("holds"), "state_class": "total_increasing",
                                              "icon": "mdi:check-circle-outline"}),
    ("sensor", "routines_today", "Routines today", {**_today("routines"), "state_class": "total_increasing",
                                                    "json_attributes_topic": "~/today",
                                                    "json_attributes_template": GOAL_ATTRIBUTE,
                                                    "icon": "mdi:format-list-checks"}),
    ("sensor", "daily_goal", "Daily goal", {**_today("goal"), "icon": "mdi:flag-checkered"}),
    ("sensor", "bounces_today", "Bounced stretches today", {**_today("bounced"),
                                                            "state_class": "total_increasing",
                                                            "icon": "mdi:alert-outline"}),
    ("sensor", "streak", "Streak", {**_today("streak"), "unit_of_measurement": "d", "icon": "mdi:fire"}),
    ("binary_sensor", "on_step", "On step", {"state_topic": "~/state", "value_template": ON_STEP,
                                             "device_class": "occupancy"}),
    ("binary_sensor", "sensor_fault", "Sensor fault", {"state_topic": "~/state", "value_template": FAULT,
                                                       "device_class": "problem",
                                                       "entity_category": "diagnostic"}),
    ("event", "hold_complete", "Hold complete", {"state_topic": "~/event/hold_complete",
                                                 "event_types": ["hold_complete"]}),
    ("event", "bounce", "Bounce", {"state_topic": "~/event/bounce", "event_types": ["bounce"]}),
]
# present only with commands allowed or profiles known; otherwise removed (an empty config)
OPTIONAL_ENTITIES = [("button", "tare"), ("select", "profile"), ("sensor", "profile")]


def node_id(device_id: str) -> str:
    return f"stretchstep_{device_id}".replace("-", "_")


def discovery_messages(info: DeviceInfo, topics: Topics, discovery_prefix: str, *, commands: bool,
                       profiles: list[str] | None) -> dict[str, dict[str, Any] | None]:
    """topic -> config payload (None = an empty retained message: remove that entity)."""
    node = node_id(info.device_id)
    device = {"identifiers": [node], "name": info.name, "manufacturer": "stretchstep", "model": info.model,
              "sw_version": info.version}
    common = {"~": topics.prefix, "availability_topic": "~/availability", "device": device,
              "origin": {"name": "stretchstep", "sw_version": info.version}}
    out: dict[str, dict[str, Any] | None] = {}

    def add(component: str, object_id: str, name: str, fields: dict[str, Any]) -> None:
        out[f"{discovery_prefix}/{component}/{node}/{object_id}/config"] = {
            "name": name, "unique_id": f"{node}_{object_id}", **fields, **common}

    for component, object_id, name, fields in ENTITIES:
        add(component, object_id, name, fields)
    if commands:
        add("button", "tare", "Tare", {"command_topic": "~/command/tare", "entity_category": "config",
                                       "icon": "mdi:scale"})
    if commands and profiles:
        add("select", "profile", "Profile", {"command_topic": "~/command/profile", "state_topic": "~/profile",
                                             "options": list(profiles), "icon": "mdi:account"})
    elif profiles:  # read-only: who is stretching, without a select that would do nothing
        add("sensor", "profile", "Profile", {"state_topic": "~/profile", "icon": "mdi:account"})
    for component, object_id in OPTIONAL_ENTITIES:
        out.setdefault(f"{discovery_prefix}/{component}/{node}/{object_id}/config", None)
    return out
