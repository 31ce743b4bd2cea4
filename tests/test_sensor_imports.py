"""Imports run one way: calibration -> sensors, never sensors -> calibration (COMMON style rule).

Checked two ways: statically (no module under firmware/sensors names firmware.calibration or
firmware.sources, even inside a function), and by importing every HX711 module in a fresh
interpreter and looking at what got loaded.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENSORS = ROOT / "firmware" / "sensors"
# The old path of the source factory, kept for branches still importing it; it forwards lazily.
FORWARDER = SENSORS / "factory.py"
FORBIDDEN = ("firmware.calibration", "firmware.sources")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_no_sensor_module_imports_calibration() -> None:
    offenders = [f"{path.relative_to(ROOT)} imports {name}"
                 for path in sorted(SENSORS.rglob("*.py")) if path != FORWARDER
                 for name in _imports(path) if name.startswith(FORBIDDEN)]
    assert not offenders, offenders


def test_importing_the_hx711_family_loads_nothing_of_calibration() -> None:
    modules = sorted(p.stem for p in (SENSORS / "hx711").glob("*.py") if p.stem != "__init__")
    assert {"driver", "chip", "emulated", "pair", "iio", "reading", "bringup"} <= set(modules)
    code = ("import sys\n" + "".join(f"import firmware.sensors.hx711.{m}\n" for m in modules)
            + "import firmware.sensors.factory\n"
            + "print(sorted(m for m in sys.modules if m.startswith(('firmware.calibration', "
              "'firmware.sources'))))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_old_factory_path_still_opens_sources() -> None:
    from firmware.sensors import factory
    from firmware.sources import open_source

    assert factory.open_source is open_source
