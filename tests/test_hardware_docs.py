"""The docs say what the code does: hardware/ names the same pins as the firmware defaults (and
real header pins), README's API list names exactly the app's routes, README's source list
names every scenario. (The unit file and installer are checked in test_install.py.)"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from firmware.config import DEFAULTS
from webui.openapi import ROUTE_PARAM

HARDWARE = Path(__file__).resolve().parents[1] / "hardware"

# Raspberry Pi 40-pin header: BCM GPIO -> physical pin, and the power pins.
PHYSICAL = {2: 3, 3: 5, 4: 7, 17: 11, 27: 13, 22: 15, 10: 19, 9: 21, 11: 23, 0: 27, 5: 29, 6: 31,
            13: 33, 19: 35, 26: 37, 14: 8, 15: 10, 18: 12, 23: 16, 24: 18, 25: 22, 8: 24, 7: 26,
            1: 28, 12: 32, 16: 36, 20: 38, 21: 40}
POWER = {"3.3 V": {1, 17}, "5 V": {2, 4}, "GND": {6, 9, 14, 20, 25, 30, 34, 39}}
SECOND_HX711 = {"DT": 23, "SCK": 24}   # the suggestion in firmware/config.py (Sensor2Config)

EXPECTED_BCM = {
    ("HX711 #1", "DT"): DEFAULTS.sensor.data_pin,
    ("HX711 #1", "SCK"): DEFAULTS.sensor.clock_pin,
    ("HX711 #2", "DT"): SECOND_HX711["DT"],
    ("HX711 #2", "SCK"): SECOND_HX711["SCK"],
    ("Buzzer driver", "base"): DEFAULTS.cues.buzzer_pin,
    ("Tare button", "one leg"): DEFAULTS.cues.button_pin,
    ("LED", "anode"): DEFAULTS.cues.led_pin,
}


def wiring_rows() -> list[tuple[str, str, int, str]]:
    text = (HARDWARE / "README.md").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[2].isdigit():
            rows.append((cells[0], cells[1], int(cells[2]), cells[3]))
    return rows


def test_wiring_table_gpio_pins_equal_the_firmware_defaults() -> None:
    found = {}
    for part, wire, physical, signal in wiring_rows():
        match = re.fullmatch(r"BCM (\d+)", signal)
        if not match:
            continue
        bcm = int(match.group(1))
        assert PHYSICAL[bcm] == physical, f"{part} {wire}: BCM {bcm} is physical pin {PHYSICAL[bcm]}"
        for want_part, want_wire in EXPECTED_BCM:
            if part.startswith(want_part) and wire.startswith(want_wire):
                found[(want_part, want_wire)] = bcm
    assert found == EXPECTED_BCM


def test_wiring_table_power_pins_are_power_pins() -> None:
    powered = [(part, wire, physical, signal) for part, wire, physical, signal in wiring_rows()
               if not signal.startswith("BCM")]
    assert len(powered) >= 8
    for part, wire, physical, signal in powered:
        assert physical in POWER[signal], f"{part} {wire}: physical pin {physical} is not {signal}"


def test_config_comments_name_the_same_physical_pins() -> None:
    source = (Path(__file__).resolve().parents[1] / "firmware" / "config.py").read_text(encoding="utf-8")
    pairs = re.findall(r"BCM (\d+) = physical pin (\d+)", source)
    assert len(pairs) >= 6
    for bcm, physical in pairs:
        assert PHYSICAL[int(bcm)] == int(physical)


def test_wiring_diagram_is_valid_svg_with_the_default_pins() -> None:
    root = ET.parse(HARDWARE / "wiring.svg").getroot()
    assert root.tag.endswith("svg")
    texts = [el.text or "" for el in root.iter() if el.tag.endswith("text")]
    for bcm in EXPECTED_BCM.values():
        label = f"pin {PHYSICAL[bcm]} · BCM {bcm}"
        assert any(t.startswith(label + " ") for t in texts), label
    stray = [t for t in texts if re.match(r"pin \d+ · BCM", t)]
    assert len(stray) == len(EXPECTED_BCM)


def test_iio_overlay_uses_the_default_pins() -> None:
    dts = (HARDWARE / "hx711-iio-overlay.dts").read_text(encoding="utf-8")
    assert 'compatible = "avia,hx711"' in dts
    assert re.search(r"sck-gpios = <&gpio (\d+) 0>", dts).group(1) == str(DEFAULTS.sensor.clock_pin)
    assert re.search(r"dout-gpios = <&gpio (\d+) 0>", dts).group(1) == str(DEFAULTS.sensor.data_pin)


@pytest.mark.parametrize("heading", ["edge-weighted", "Wiring", "Bill of materials", "Mechanics",
                                     "Install on Raspberry Pi OS", "Bring-up", "Calibration procedure",
                                     "IIO"])
def test_readme_has_each_part_of_the_build(heading: str) -> None:
    headings = [line for line in (HARDWARE / "README.md").read_text(encoding="utf-8").splitlines()
                if line.startswith("## ")]
    assert any(heading in h for h in headings), headings


# --- README: the API list and the sources ------------------------------------------------------

README = HARDWARE.parent / "README.md"
METHOD = r"(?:GET|POST|PUT|PATCH|DELETE)"
ROUTE = re.compile(rf"`({METHOD}(?:\|{METHOD})*) (/[^`?\s]*)")


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def _normal(path: str) -> str:
    return ROUTE_PARAM.sub(r"<\2>", path)     # <int:id> and <id> are the same route


def _documented_routes() -> set[str]:
    found = set()
    for methods, path in ROUTE.findall(_section("Dashboard and API")):
        found |= {f"{method} {_normal(path)}" for method in methods.split("|")}
    return found


def _app_routes(tmp_path: Path) -> set[str]:
    from firmware.live import LiveState
    from firmware.store import Store
    from webui import create_app

    app = create_app(Store(tmp_path / "history.sqlite"), LiveState())
    return {f"{method} {_normal(rule.rule)}" for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_readme_api_list_names_exactly_the_apps_routes(tmp_path: Path) -> None:
    served, documented = _app_routes(tmp_path), _documented_routes()
    undocumented = sorted(served - documented)
    assert not undocumented, (
        f"the app serves {', '.join(undocumented)} but README.md's API list (section 'Dashboard and "
        "API', one route a line: `METHOD /path` - what it is) does not name it: add it there")
    stale = sorted(documented - served)
    assert not stale, f"README.md's API list names {', '.join(stale)}, which the app does not serve"


def test_readme_names_every_simulated_scenario() -> None:
    from firmware.sensors.simulated import SCENARIOS

    sources = README.read_text(encoding="utf-8")
    missing = [name for name in [*SCENARIOS, "forever"] if f"`{name}`" not in sources
               and f"`simulated:{name}`" not in sources]
    assert not missing, f"README.md's source list lacks the scenarios {missing}"
