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
                 for path in sorted(SENSORS.rglob("*.py"))
                 for name in _imports(path) if name.startswith(FORBIDDEN)]
    assert not offenders, offenders


def test_importing_the_hx711_family_loads_nothing_of_calibration() -> None:
    modules = sorted(p.stem for p in (SENSORS / "hx711").glob("*.py") if p.stem != "__init__")
    assert {"driver", "chip", "emulated", "pair", "iio", "reading", "bringup"} <= set(modules)
    code = ("import sys\n" + "".join(f"import firmware.sensors.hx711.{m}\n" for m in modules)
            + "print(sorted(m for m in sys.modules if m.startswith(('firmware.calibration', "
              "'firmware.sources'))))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"



def test_the_source_factory_has_one_home() -> None:
    """`firmware.sources` joins sensors and calibration, so it lives outside firmware/sensors;
    the old forwarder there is gone (one way to open a source)."""
    assert not (SENSORS / "factory.py").exists()
    users = [str(p.relative_to(ROOT)) for p in sorted(ROOT.glob("*/**/*.py"))
             if ".venv" not in p.parts and "firmware.sensors.factory" in p.read_text(encoding="utf-8")
             and p != Path(__file__).resolve()]
    assert not users, users
