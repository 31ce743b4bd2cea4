"""Commands from Home Assistant, run through the same DeviceControl the web calls.

Only subscribed when `[mqtt] allow_commands = true`. A command's answer is a small dict the
publisher puts on `…/command/result`; a refusal (ValueError from the control, e.g. a tare with
someone on the step) is an answer with ok false, never an exception out of the publisher.
"""

from __future__ import annotations

from typing import Any


def run_command(control: Any, profiles: Any, name: str, payload: bytes) -> dict[str, Any]:
    """{"command", "ok", "message"} for one command: "tare" (DeviceControl.tare, the web's rules)
    or "profile" with the name chosen (a ProfileChoice, firmware.publish.profiles), only while
    `control` says the step is empty (DeviceControl.require_empty_step), as the button's."""
    try:
        if name == "tare":
            if control is None:
                raise ValueError("this device takes no tare: it has no sensor control")
            result = control.tare()
            message = str(result.get("message", "tared")) if isinstance(result, dict) else "tared"
        else:
            if profiles is None:
                raise ValueError("this device has no profiles to choose from")
            if control is not None:           # the button's rule: not while someone is on the step
                control.require_empty_step()
            chosen = profiles.activate(payload.decode("utf-8", "replace"))
            message = f"profile {chosen!r} active from the next hold"
        return {"command": name, "ok": True, "message": message}
    except ValueError as exc:
        return {"command": name, "ok": False, "message": str(exc)}
    except Exception as exc:  # a bug in a command must not end the publisher
        return {"command": name, "ok": False, "message": f"{name} failed: {type(exc).__name__}: {exc}"}
