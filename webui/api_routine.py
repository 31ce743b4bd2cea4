"""The routine, protocol, profile and settings API (contract 4 of the helpers' brief).

The web process reads and writes the same store the sampler uses; a write bumps the settings
revision, and the sampler's RoutineKeeper reloads from it within about a second, applying the
change from the next hold. GET /api/routine is the live status the sampler publishes, or — when
no sampler feeds this app — the same picture worked out from the store.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from firmware.live import jsonable
from firmware.routine import records
from firmware.routine.build import RoutineBook
from firmware.routine.profiles import PROFILE_RULES, body_kg_in_use
from webui.api import BadRequest, _bad_request, _json_body, ask_control
from webui.app import ctx
from webui.auth import read_access, requires_code
from webui.openapi import array, doc, integer, nullable, number, obj, text

routine_api = Blueprint("routine_api", __name__)
routine_api.register_error_handler(BadRequest, _bad_request)

BOOK = "stretchstep.routine_book"   # app.config key: the RoutineBook (protocols, defaults) of this device
PROFILE_SETTINGS = ("target_s", "target_breaths", "protocol", "daily_goal", "tighter_side", "body_kg")
SETTINGS_KEYS = PROFILE_SETTINGS + records.DEVICE_KEYS


# --- shapes, for GET /api/openapi.json --------------------------------------------------------
BOOL = {"type": "boolean"}
LEG, KNEE = text(enum=["right", "left"]), text(enum=["straight", "bent"])
NAMED = obj({"id": {}, "name": text()}, required=["id", "name"])
SLOT = obj({"leg": LEG, "knee": KNEE, "rep": integer(1), "reps": integer(1),
            "label": text(description='as people say it: "right leg, knee straight, 2 of 3"')},
           required=["leg", "knee", "rep", "reps", "label"])
ROUTINE = obj({
    "protocol": NAMED, "slot": SLOT, "next": nullable(SLOT), "done": BOOL,
    "routines_today": integer(0), "goal": integer(1), "goal_met": BOOL, "rest_s_left": nullable(number(0)),
    "cue": nullable(text(enum=["ready", "hold_complete", "switch_legs", "rest_over", "routine_done", "bounce",
                               "wrong_leg", "sensor_fault"], description="named for 3 s after it sounded")),
    "cue_id": integer(0, description="grows by one per cue: play when it changes"),
    "phase": text(enum=["away", "ready", "stretching", "holding", "rest"]),
    "profile": NAMED, "suggested_profile": nullable(NAMED), "wrong_leg": BOOL,
    "last_hold": nullable(obj({"outcome": text(enum=["clean", "bounced", "early", "wrong_leg"]),
                               "label": text(), "hold_s": nullable(number(0)), "leg": LEG})),
    "holds_done": integer(0), "holds": integer(1), "day": text(format="date"),
    "target_s": number(5, 300), "target_breaths": integer(0, 20), "min_hold_s": number(0),
}, required=["protocol", "slot", "next", "done", "routines_today", "goal", "rest_s_left", "cue"])
PROTOCOL = obj({
    "id": text(), "name": text(), "description": text(), "knees": array(KNEE), "reps": integer(1, 10),
    "finish_on_tighter": BOOL, "finish_label": nullable(text()), "target_s": number(5, 300),
    "target_breaths": integer(0, 20), "min_hold_s": number(0, 300), "rest_s": number(0, 300),
    "builtin": BOOL, "tighter_side": LEG, "slots": array(SLOT)})
PROFILE_FIELDS = {"name": text(40), "tighter_side": LEG, "protocol": text(), "daily_goal": integer(1, 50),
                  "body_kg": nullable(number(20, 300)), "target_s": nullable(number(5, 300)),
                  "target_breaths": nullable(integer(0, 20))}
PROFILE = obj({"id": integer(1), **PROFILE_FIELDS, "stand_kg": nullable(number(0))})
SETTINGS_FIELDS = {"target_s": number(5, 300), "target_breaths": integer(0, 20), "protocol": text(),
                   "daily_goal": integer(1, 50), "tighter_side": LEG, "body_kg": nullable(number(20, 300)),
                   "buzzer": BOOL, "phone_sounds": BOOL, "spoken_cues": BOOL}
ERROR = {"$ref": "#/components/schemas/Error"}
BODY_IN_USE = {
    "body_kg_in_use": nullable(number(20, 300, description="what the detector is told: body_kg, else "
                                                           "body_kg_default")),
    "body_kg_from": text(enum=["profile", "config", "none"]),
    "body_kg_default": nullable(number(20, 300, description="the config file's [person] body_kg, used "
                                                            "while body_kg is null; for the first profile "
                                                            "only (null for the others)")),
}
SETTINGS = obj({**SETTINGS_FIELDS, **BODY_IN_USE, "min_hold_s": number(0), "profile": NAMED},
               required=list(SETTINGS_FIELDS))


def book() -> RoutineBook:
    found = current_app.config.get(BOOK)
    if found is None:
        found = current_app.config[BOOK] = RoutineBook.from_config()
    return found


def _active_settings() -> Any:
    return book().settings(ctx().store)


# --- reads ------------------------------------------------------------------------------------
@routine_api.get("/routine")
@doc("Where the routine is: slot, next, done, routines today against the goal, rest, the last cue",
     response=ROUTINE)
@read_access
def routine_status() -> Any:
    """Where the routine is: the sampler's live picture, else today's progress from the store."""
    live = ctx().live.snapshot()["status"].get("routine")
    if live is None:
        live = book().routine(ctx().store).status()
    return jsonify(jsonable(live))


@routine_api.get("/protocols")
@doc("The protocols (built-in and the config's), each with its slots for the active tighter side",
     response=obj({"protocols": array(PROTOCOL), "default": text(), "active": text()},
                  required=["protocols"]))
@read_access
def protocols() -> Any:
    settings = _active_settings()
    return jsonify(protocols=[p.to_dict(settings.tighter) for p in book().protocols.values()],
                   default=book().default_protocol, active=settings.protocol.id)


@routine_api.get("/profiles")
@doc("The people who share the step, and which one is active",
     response=obj({"profiles": array(PROFILE), "active": integer(1)}, required=["profiles", "active"]))
@read_access
def profiles() -> Any:
    active = _active_settings().profile
    return jsonify(profiles=[p.to_dict() for p in records.profiles(ctx().store)], active=active.id)


@routine_api.get("/settings")
@doc("The active profile's routine settings and the device's cue settings", response=SETTINGS)
@read_access
def settings() -> Any:
    return jsonify(_settings_body())


def _settings_body() -> dict[str, Any]:
    s = _active_settings()
    device = records.device_settings(ctx().store, book().device)
    in_use, source = body_kg_in_use(s.profile, s.default_body_kg)
    return {"target_s": s.target_s, "target_breaths": s.target_breaths, "protocol": s.protocol.id,
            "daily_goal": s.goal, "tighter_side": s.tighter, "body_kg": s.profile.body_kg,
            "body_kg_in_use": in_use, "body_kg_from": source, "body_kg_default": s.default_body_kg,
            "buzzer": device.buzzer, "phone_sounds": device.phone_sounds, "spoken_cues": device.spoken_cues,
            "min_hold_s": s.min_hold_s, "profile": {"id": s.profile.id, "name": s.profile.name}}


# --- writes -----------------------------------------------------------------------------------
@routine_api.post("/profiles")
@doc("Add a profile (name required; the rest default to the first profile's config values)",
     body=obj(PROFILE_FIELDS, required=["name"]), status=201, response=PROFILE)
@requires_code
def profile_add() -> Any:
    body = _profile_fields(_json_body())
    store = ctx().store
    book().settings(store)  # the first profile exists before a second is added
    try:
        made = records.add_profile(store, body, book().protocols, book().first_profile)
    except ValueError as exc:
        raise BadRequest(str(exc), 409 if "already exists" in str(exc) else 400) from None
    response = jsonify(made.to_dict())
    response.status_code = 201
    return response


@routine_api.put("/profiles/<id:profile_id>")
@doc("Change some of a profile's fields", body=obj(PROFILE_FIELDS), response=PROFILE)
@requires_code
def profile_update(profile_id: int) -> Any:
    body = _profile_fields(_json_body())
    try:
        changed = records.update_profile(ctx().store, profile_id, body, book().protocols)
    except KeyError:
        raise BadRequest(f"no profile with id {profile_id}", 404) from None
    except ValueError as exc:
        raise BadRequest(str(exc), 409 if "already exists" in str(exc) else 400) from None
    return jsonify(changed.to_dict())


@routine_api.post("/profiles/<id:profile_id>/activate")
@doc("Make a profile the active one (applies from the next hold); refused while someone is on the step",
     body=obj(), body_required=False,
     response=obj({"active": PROFILE, "applies": text()}, required=["active"]),
     responses={409: ('someone is on the step: "step off first: ..."', ERROR),
                503: ("the sampler is not answering, so nobody can tell whether the step is empty", ERROR)})
@requires_code
def profile_activate(profile_id: int) -> Any:
    """The button's and Home Assistant's rule (DeviceControl.require_empty_step): a hold under way
    stays the stretching person's. No control (no sampler feeds this app): nothing to ask."""
    store = ctx().store
    if records.profile(store, profile_id) is None:
        raise BadRequest(f"no profile with id {profile_id}", 404)
    if ctx().control is not None:
        ask_control(ctx().control.require_empty_step)
    try:
        chosen = records.activate(store, profile_id)
    except KeyError:
        raise BadRequest(f"no profile with id {profile_id}", 404) from None
    return jsonify(active=chosen.to_dict(), applies="from the next hold")


@routine_api.put("/settings")
@doc("Change settings (any subset); a change applies from the next hold", body=obj(SETTINGS_FIELDS),
     response=obj({**SETTINGS["properties"], "applies": text()}, required=list(SETTINGS_FIELDS)))
@requires_code
def settings_update() -> Any:
    body = {k: v for k, v in _json_body().items() if k != "access_code"}
    unknown = sorted(set(body) - set(SETTINGS_KEYS))
    if unknown:
        raise BadRequest(f"unknown setting {unknown[0]!r}; settings: {', '.join(SETTINGS_KEYS)}")
    if not body:
        raise BadRequest(f"nothing to change; settings: {', '.join(SETTINGS_KEYS)}")
    device = {k: body[k] for k in records.DEVICE_KEYS if k in body}
    for key, value in device.items():
        if not isinstance(value, bool):
            raise BadRequest(f"{key} must be true or false, got {value!r}")
    person = {k: body[k] for k in PROFILE_SETTINGS if k in body}
    store = ctx().store
    active = _active_settings().profile
    chosen = person.get("protocol", active.protocol)
    protocol = book().protocols.get(chosen) if isinstance(chosen, str) else None
    for key in ("target_s", "target_breaths"):  # the protocol's own value: no override, so another
        if protocol is not None and key in person and person[key] == getattr(protocol, key):
            person[key] = None                   # protocol chosen later brings its own target
    try:
        if person:
            records.update_profile(store, active.id, person, book().protocols)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    if device:
        records.put_device_settings(store, device)
    return jsonify({**_settings_body(), "applies": "from the next hold"})


def _profile_fields(body: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in body.items() if k != "access_code"}
    unknown = sorted(set(fields) - set(PROFILE_RULES))
    if unknown:
        raise BadRequest(f"unknown profile field {unknown[0]!r}; fields: {', '.join(PROFILE_RULES)}")
    return fields
