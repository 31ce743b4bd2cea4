"""Home Assistant discovery configs, checked against what HA's MQTT integration requires.

The checks below are written from Home Assistant's MQTT documentation and the integration's
schemas, not from our own output:
- https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery : the topic
  `<discovery_prefix>/<component>/[<node_id>/]<object_id>/config`, ids of [a-zA-Z0-9_-] only;
  `~` as the base topic: in any key ending in `_topic`, a value starting or ending with `~` has
  it replaced by the base; the device block needs `identifiers` or `connections` and works only
  with a `unique_id`; an empty retained config removes the entity.
- sensor.mqtt, binary_sensor.mqtt, event.mqtt (homeassistant/components/mqtt/config.py
  MQTT_RO_SCHEMA): `state_topic` required; event.mqtt also `event_types` (a list), and an event
  payload is a JSON object with an `event_type` that is one of them.
- button.mqtt (MQTT_BASE_SCHEMA + Required command_topic) and select.mqtt (MQTT_RW_SCHEMA:
  Required command_topic, Required options).
- sensor device classes: `enum` takes `options` and no unit or state_class; `weight` in kg (or
  g, lb, ...), `duration` in d/h/min/s/ms; state_class measurement/total/total_increasing;
  entity_category is config or diagnostic (a sensor may not be config).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from firmware.publish.discovery import ENTITIES, DeviceInfo, discovery_messages
from firmware.publish.topics import Topics

TOPIC_MATCHER = re.compile(
    r"(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?(?P<object_id>[a-zA-Z0-9_-]+)/config")
SUPPORTED = {"sensor", "binary_sensor", "event", "button", "select"}
REQUIRED = {"sensor": ("state_topic",), "binary_sensor": ("state_topic",),
            "event": ("state_topic", "event_types"), "button": ("command_topic",),
            "select": ("command_topic", "options")}
UNITS = {"weight": {"kg", "g", "lb", "oz", "st", "mg", "µg"}, "duration": {"d", "h", "min", "s", "ms"}}
STATE_CLASSES = {"measurement", "total", "total_increasing"}
BINARY_CLASSES = {"occupancy", "problem", "presence", "motion", "connectivity", "running"}
SENSOR_CLASSES = {"enum", "weight", "duration", None}


def expand_base(config: dict[str, Any]) -> dict[str, Any]:
    """HA's `~` rule: applied to keys ending in `_topic` (and `topic` in availability lists)."""
    base = config.get("~")
    out = {}
    for key, value in config.items():
        if key == "~":
            continue
        if base is not None and key.endswith("_topic") and isinstance(value, str):
            if value.startswith("~"):
                value = base + value[1:]
            elif value.endswith("~"):
                value = value[:-1] + base
        out[key] = value
    return out


def valid_publish_topic(topic: Any) -> bool:
    return isinstance(topic, str) and topic != "" and "+" not in topic and "#" not in topic \
        and "\0" not in topic and len(topic.encode()) <= 65535


def ha_problems(topic: str, payload: str, discovery_prefix: str = "homeassistant") -> list[str]:
    """Everything HA would reject in one discovery message ([] = it would set the entity up)."""
    if not topic.startswith(discovery_prefix + "/"):
        return [f"{topic}: not under the discovery prefix"]
    match = TOPIC_MATCHER.fullmatch(topic[len(discovery_prefix) + 1:])
    if match is None:
        return [f"{topic}: does not match <component>/[<node_id>/]<object_id>/config"]
    component = match["component"]
    if component not in SUPPORTED:
        return [f"{topic}: component {component} not expected"]
    if payload == "":
        return []  # removal
    raw = json.loads(payload)
    if not isinstance(raw, dict):
        return [f"{topic}: payload is not a JSON object"]
    config = expand_base(raw)
    problems = [f"{topic}: {key} missing" for key in REQUIRED[component] if key not in config]
    for key, value in config.items():
        if key.endswith("_topic") and not valid_publish_topic(value):
            problems.append(f"{topic}: {key}={value!r} is not a valid topic")
        if key.endswith("_topic") and "~" in value:
            problems.append(f"{topic}: {key}={value!r} still has ~")
    device = config.get("device")
    if device is not None:
        if not (device.get("identifiers") or device.get("connections")):
            problems.append(f"{topic}: device without identifiers or connections")
        if not config.get("unique_id"):
            problems.append(f"{topic}: device block without unique_id")
    if component == "event":
        types = config.get("event_types")
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            problems.append(f"{topic}: event_types must be a list of strings")
    if component == "select":
        options = config.get("options")
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            problems.append(f"{topic}: options must be a list of strings")
    if config.get("entity_category") not in (None, "config", "diagnostic"):
        problems.append(f"{topic}: entity_category {config['entity_category']!r}")
    if component == "sensor":
        problems += sensor_problems(topic, config)
    if component == "binary_sensor" and config.get("device_class") not in BINARY_CLASSES | {None}:
        problems.append(f"{topic}: binary_sensor device_class {config['device_class']!r}")
    return problems


def sensor_problems(topic: str, config: dict[str, Any]) -> list[str]:
    problems = []
    cls, unit = config.get("device_class"), config.get("unit_of_measurement")
    state_class = config.get("state_class")
    if cls not in SENSOR_CLASSES:
        problems.append(f"{topic}: sensor device_class {cls!r} not checked here")
    if cls == "enum" and (unit is not None or state_class is not None or not config.get("options")):
        problems.append(f"{topic}: enum sensor needs options and no unit or state_class")
    if cls in UNITS and unit not in UNITS[cls]:
        problems.append(f"{topic}: {cls} sensor with unit {unit!r}")
    if state_class is not None and state_class not in STATE_CLASSES:
        problems.append(f"{topic}: state_class {state_class!r}")
    if config.get("entity_category") == "config":
        problems.append(f"{topic}: a sensor cannot be a config entity")
    return problems


INFO = DeviceInfo(device_id="ss12ab34cd", name="Stretch step ss12ab34cd", version="0.1.0", model="simulated")
TOPICS = Topics("stretchstep/ss12ab34cd")


def messages(commands: bool, profiles: list[str] | None) -> dict[str, str]:
    built = discovery_messages(INFO, TOPICS, "homeassistant", commands=commands, profiles=profiles)
    return {topic: "" if config is None else json.dumps(config) for topic, config in built.items()}


@pytest.mark.parametrize(("commands", "profiles"), [(False, None), (True, None), (True, ["Anna", "Ben"]),
                                                    (False, ["Anna"])])
def test_every_discovery_config_is_one_home_assistant_accepts(commands, profiles):
    built = messages(commands, profiles)
    problems = [p for topic, payload in built.items() for p in ha_problems(topic, payload)]
    assert problems == []
    unique = [json.loads(p)["unique_id"] for p in built.values() if p]
    assert len(unique) == len(set(unique))


def test_the_device_has_the_entities_issue_15_lists():
    built = messages(True, ["Anna", "Ben"])
    present = {tuple(topic.split("/")[1::2]) for topic, payload in built.items() if payload}
    assert present == {(c, o) for c, o, _, _ in ENTITIES} | {("button", "tare"), ("select", "profile")}
    names = {json.loads(p)["name"] for p in built.values() if p}
    for wanted in ("State", "Load", "Hold time", "Breaths this hold", "Holds today", "Routines today",
                   "Bounced stretches today", "Streak", "On step", "Sensor fault", "Hold complete", "Bounce",
                   "Tare", "Profile"):
        assert wanted in names
    fault = json.loads(built["homeassistant/binary_sensor/stretchstep_ss12ab34cd/sensor_fault/config"])
    assert fault["device_class"] == "problem"


def test_without_commands_the_tare_button_and_profile_select_are_removed_not_offered():
    built = messages(False, ["Anna"])
    assert built["homeassistant/button/stretchstep_ss12ab34cd/tare/config"] == ""
    assert built["homeassistant/select/stretchstep_ss12ab34cd/profile/config"] == ""
    shown = json.loads(built["homeassistant/sensor/stretchstep_ss12ab34cd/profile/config"])
    assert shown["state_topic"] == "~/profile" and "command_topic" not in shown   # read-only
    assert messages(True, ["Anna"])["homeassistant/sensor/stretchstep_ss12ab34cd/profile/config"] == ""


def test_the_validator_itself_catches_what_ha_rejects():
    good = messages(True, ["Anna"])
    topic = "homeassistant/select/stretchstep_ss12ab34cd/profile/config"
    broken = json.loads(good[topic])
    del broken["options"]
    assert any("options missing" in p for p in ha_problems(topic, json.dumps(broken)))
    sensor = "homeassistant/sensor/stretchstep_ss12ab34cd/load/config"
    wrong_unit = {**json.loads(good[sensor]), "unit_of_measurement": "N"}
    assert ha_problems(sensor, json.dumps(wrong_unit))
    no_uid = {k: v for k, v in json.loads(good[sensor]).items() if k != "unique_id"}
    assert any("unique_id" in p for p in ha_problems(sensor, json.dumps(no_uid)))
    assert ha_problems("homeassistant/sensor/bad.id/load/config", good[sensor])
