"""The routine, protocol, profile and settings API: status codes, shapes, the access code, and a
change reaching the sampler's routine through the store."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from firmware import events as ev
from firmware.config import DEFAULTS
from firmware.control import DeviceControl
from firmware.events import Event
from firmware.routine.build import build_routine
from webui import create_app

CODE = "4711"
AUTH = {"X-Access-Code": CODE}
SLOT_KEYS = {"leg", "knee", "rep", "reps", "label"}
SETTINGS_KEYS = {"target_s", "target_breaths", "protocol", "daily_goal", "tighter_side", "body_kg", "buzzer",
                 "phone_sounds", "spoken_cues"}


@pytest.fixture
def client(store, live):
    return create_app(store, live, access_code=CODE).test_client()


def test_routine_status_from_the_store_when_no_sampler_feeds_the_app(client):
    body = client.get("/api/routine").get_json()
    assert body["protocol"] == {"id": "step-calf", "name": "Step calf — straight and bent"}
    assert set(body["slot"]) == SLOT_KEYS and body["slot"]["label"] == "right leg, knee straight, 1 of 4"
    assert body["next"]["label"] == "left leg, knee straight, 1 of 3"
    assert (body["done"], body["routines_today"], body["goal"], body["rest_s_left"], body["cue"]) == (
        False, 0, 3, None, None)


def test_routine_status_is_the_live_one_when_the_sampler_runs(client, live):
    live.on_sample(1.0, 30.0, {"state": "standing", "routine": {"slot": {"label": "live"}, "cue": "ready"}})
    assert client.get("/api/routine").get_json() == {"slot": {"label": "live"}, "cue": "ready"}


def test_protocols_list_built_ins_with_their_slots_for_the_tighter_side(client):
    body = client.get("/api/protocols").get_json()
    ids = [p["id"] for p in body["protocols"]]
    assert ids[:2] == ["step-calf", "30s-x3"] and body["default"] == body["active"] == "step-calf"
    step = body["protocols"][0]
    assert len(step["slots"]) == 14 and step["finish_label"] == "finish on the right"
    assert step["description"].startswith("knee straight then bent, 3 holds each leg, 30 s each")


def test_profiles_crud_and_activate(client):
    listed = client.get("/api/profiles").get_json()
    assert [p["name"] for p in listed["profiles"]] == ["me"]
    assert listed["active"] == listed["profiles"][0]["id"]
    made = client.post("/api/profiles", json={"name": "Ann", "body_kg": 58, "tighter_side": "left"},
                       headers=AUTH)
    assert made.status_code == 201
    ann = made.get_json()
    assert (ann["name"], ann["body_kg"], ann["tighter_side"]) == ("Ann", 58.0, "left")
    assert ann["protocol"] == "step-calf"
    put = client.put(f"/api/profiles/{ann['id']}", json={"daily_goal": 4, "protocol": "30s-x3"}, headers=AUTH)
    assert put.status_code == 200 and put.get_json()["daily_goal"] == 4
    act = client.post(f"/api/profiles/{ann['id']}/activate", headers=AUTH)
    assert act.status_code == 200 and act.get_json()["active"]["id"] == ann["id"]
    routine = client.get("/api/routine").get_json()
    assert routine["protocol"]["id"] == "30s-x3" and routine["slot"]["leg"] == "left" and routine["goal"] == 4


class StepIs:
    """The running Device as DeviceControl sees it: only its detector's state matters here."""

    def __init__(self, state):
        self.detector = SimpleNamespace(state=state)


def test_a_profile_switch_from_the_web_waits_for_an_empty_step_like_the_buttons(store, live):
    """The button's long hold and Home Assistant's select refuse while someone is on the step
    (DeviceControl.require_empty_step); the web's activate is refused by the same rule, 409 with a
    reason a person acts on, and the active profile stays."""
    device = StepIs("holding")
    control = DeviceControl("simulated", store.path.parent, device=lambda: device, next_profile=lambda: None)
    client = create_app(store, live, control=control, access_code=CODE).test_client()
    first = client.get("/api/profiles").get_json()["active"]
    ann = client.post("/api/profiles", json={"name": "Ann"}, headers=AUTH).get_json()
    refused = client.post(f"/api/profiles/{ann['id']}/activate", headers=AUTH)
    assert refused.status_code == 409
    assert refused.get_json()["error"].startswith("step off first: someone is on the step "
                                                  "(the detector says 'holding')")
    assert client.get("/api/profiles").get_json()["active"] == first
    with pytest.raises(ValueError, match="^step off first"):       # the button's and HA's check
        control.next_profile()
    assert client.post("/api/profiles/99/activate", headers=AUTH).status_code == 404  # unknown first
    device.detector.state = "empty"
    done = client.post(f"/api/profiles/{ann['id']}/activate", headers=AUTH)
    assert done.status_code == 200 and client.get("/api/profiles").get_json()["active"] == ann["id"]
    responses = client.get("/api/openapi.json").get_json()["paths"]["/api/profiles/{profile_id}/activate"]
    assert "step off first" in responses["post"]["responses"]["409"]["description"]


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), [
    ("post", "/api/profiles", {"body_kg": 60}, 400, "name is required"),
    ("post", "/api/profiles", {"name": "me"}, 409, "already exists"),
    ("post", "/api/profiles", {"name": "x", "tighter_side": "up"}, 400, "tighter_side must be 'right' or"),
    ("post", "/api/profiles", {"name": "x", "shoe": 42}, 400, "unknown profile field 'shoe'"),
    ("post", "/api/profiles", {"name": "x", "daily_goal": 0}, 400, "daily_goal must be a whole number"),
    ("put", "/api/profiles/99", {"name": "x"}, 404, "no profile with id 99"),
    ("post", "/api/profiles/99/activate", None, 404, "no profile with id 99"),
    ("put", f"/api/profiles/{2**70}", {"name": "x"}, 404, "no such endpoint"),   # past SQLite's ids
    ("put", "/api/settings", {"target_s": 2}, 400, "target_s must be seconds from 5 to 300"),
    ("put", "/api/settings", {"protocol": "nope"}, 400, "protocol 'nope' is not known"),
    ("put", "/api/settings", {"protocol": {}, "target_s": 30}, 400, "protocol must be the id of a protocol"),
    ("post", "/api/profiles", {"name": ["x"]}, 400, "name must be a name of 1 to 40"),
    ("put", "/api/settings", {"buzzer": "yes"}, 400, "buzzer must be true or false"),
    ("put", "/api/settings", {"volume": 3}, 400, "unknown setting 'volume'"),
    ("put", "/api/settings", {}, 400, "nothing to change"),
    ("put", "/api/settings", [1], 400, "JSON object"),
])
def test_bad_input_is_a_4xx_with_a_reason(client, method, path, body, status, message):
    kwargs = {"headers": AUTH} if body is None else {"json": body, "headers": AUTH}
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert message in response.get_json()["error"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/api/profiles", {"name": "x"}),
    ("put", "/api/profiles/1", {"name": "x"}),
    ("post", "/api/profiles/1/activate", {}),
    ("put", "/api/settings", {"buzzer": False}),
])
def test_writes_need_the_access_code(client, method, path, body):
    client.get("/api/profiles")
    assert getattr(client, method)(path, json=body).status_code == 401
    assert getattr(client, method)(path, json=body, headers={"X-Access-Code": "nope"}).status_code == 403


def test_settings_shape_and_a_change_reaches_the_sampler_from_the_next_hold(client, store):
    body = client.get("/api/settings").get_json()
    assert set(body) >= SETTINGS_KEYS
    assert (body["target_s"], body["target_breaths"], body["buzzer"]) == (30.0, 0, True)
    assert body["protocol"] == "step-calf"
    routine, keeper = build_routine(DEFAULTS, store, start=False)   # the sampler's side
    assert routine.take_target() == (30.0, 0)
    routine.on_event(Event(ev.STRETCH_START, 0.0))
    routine.on_event(Event(ev.HOLD_START, 1.0))
    put = client.put("/api/settings", json={"target_breaths": 5, "buzzer": False, "spoken_cues": True},
                     headers=AUTH)
    assert put.status_code == 200
    changed = put.get_json()
    assert (changed["target_breaths"], changed["buzzer"], changed["spoken_cues"]) == (5, False, True)
    assert changed["applies"] == "from the next hold"
    assert keeper.check_settings() is True
    routine.poll(5.0, 50.0)
    assert routine.take_target() is None        # mid-hold: the hold keeps its target
    routine.on_event(Event(ev.STRETCH_END, 40.0, {"hold_start": 1.0, "hold_s": 36.0, "bounces": 0,
                                                  "completed": True, "breaths": 4}))
    routine.poll(40.1, 30.0)
    assert routine.take_target() == (30.0, 5) and routine.settings.buzzer is False


def test_the_routes_are_in_the_openapi_description_and_answers_fit_it(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/routine", "/api/protocols", "/api/profiles", "/api/profiles/{profile_id}",
            "/api/profiles/{profile_id}/activate", "/api/settings"} <= set(paths)

    def schema(path, method="get", status="200"):
        return paths[path][method]["responses"][status]["content"]["application/json"]["schema"]

    routine = client.get("/api/routine").get_json()
    described = schema("/api/routine")
    assert set(described["required"]) <= set(routine) and set(routine) <= set(described["properties"])
    assert set(schema("/api/settings")["required"]) <= set(client.get("/api/settings").get_json())
    made = client.post("/api/profiles", json={"name": "Cy"}, headers=AUTH).get_json()
    assert set(made) <= set(schema("/api/profiles", "post", "201")["properties"])
    assert paths["/api/settings"]["put"]["security"] and "security" not in paths["/api/settings"]["get"]


def test_a_target_equal_to_the_protocols_is_no_override(client, store):
    """The Settings page sends every field; sending the protocol's own target must not pin it."""
    client.put("/api/settings", json={"target_s": 30, "target_breaths": 0}, headers=AUTH)
    body = client.put("/api/settings", json={"protocol": "breaths"}, headers=AUTH).get_json()
    assert (body["target_s"], body["target_breaths"], body["min_hold_s"]) == (60.0, 5, 20.0)
    body = client.put("/api/settings", json={"target_s": 45}, headers=AUTH).get_json()
    assert body["target_s"] == 45.0
    assert client.get("/api/profiles").get_json()["profiles"][0]["target_s"] == 45.0
