"""The dashboard on a LAN: sessions with CSRF, a lockout per client that never locks the owner
out, the Host allow-list, security headers, JSON that cannot be stored, and the OpenAPI
description covering every route."""

from __future__ import annotations

import re

import pytest

from firmware.history import PainLog
from firmware.live import LiveState
from webui import create_app
from webui.app import EXTENSION
from webui.auth import COOKIE, CSRF_HEADER, ClientLockout, Sessions, client_key
from webui.openapi import ROUTE_PARAM, build_spec, undocumented
from webui.security import CSP

CODE = "31415926"
OWNER, GUESSER = "192.168.1.20", "192.168.1.66"


@pytest.fixture
def app(store):
    return create_app(store, LiveState(), access_code=CODE, open_reads=False)


def client_at(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def login(client, code: str = CODE):
    return client.post("/api/session", json={"access_code": code})


# --- sessions ---------------------------------------------------------------------------------
def test_session_lets_the_browser_in_once_and_writes_need_its_csrf_token(app, store):
    browser = client_at(app, OWNER)
    assert browser.get("/api/session").get_json() == {
        "authenticated": False, "csrf_token": None, "open_reads": False, "writes_enabled": True}
    resp = login(browser)
    assert resp.status_code == 200 and resp.get_json()["ok"] is True
    csrf = resp.get_json()["csrf_token"]
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    state = browser.get("/api/session").get_json()
    assert state["authenticated"] is True and state["csrf_token"] == csrf
    assert browser.get("/api/today").status_code == 200          # reads: the cookie is enough
    no_token = browser.post("/api/pain", json={"pain": 3})
    assert no_token.status_code == 403 and "Reload it" in no_token.get_json()["error"]
    assert browser.post("/api/pain", json={"pain": 3}, headers={CSRF_HEADER: "forged"}).status_code == 403
    assert browser.post("/api/pain", json={"pain": 3}, headers={CSRF_HEADER: csrf}).status_code == 201
    assert [e["pain"] for e in PainLog(store).entries()] == [3]
    assert browser.delete("/api/session").get_json() == {"ok": True}
    assert browser.get("/api/session").get_json()["authenticated"] is False
    assert browser.post("/api/pain", json={"pain": 4}, headers={CSRF_HEADER: csrf}).status_code == 401


def test_wrong_code_at_login_is_403_for_people(app):
    resp = login(client_at(app, OWNER), "12345678")
    assert resp.status_code == 403 and resp.get_json() == {"error": "That access code is not right."}
    assert "Set-Cookie" not in resp.headers
    assert "header" not in login(client_at(app, OWNER), "").get_json()["error"]  # no developer talk


def test_sessions_expire(fake_clock):
    sessions = Sessions(ttl_s=60, clock=fake_clock)
    sid, csrf = sessions.create()
    assert sessions.csrf(sid) == csrf
    fake_clock.advance(61)
    assert sessions.csrf(sid) is None and sessions.csrf("made-up") is None


# --- lockout ----------------------------------------------------------------------------------
def test_a_guesser_is_slowed_with_backoff_but_the_owner_still_gets_in(app, fake_clock):
    guard = app.extensions[EXTENSION].auth
    guard.lockout = ClientLockout(free=5, base_s=1.0, max_s=900, clock=fake_clock)
    guesser = client_at(app, GUESSER)
    for n in range(5):
        assert login(guesser, f"0000000{n}").status_code == 403
    locked = login(guesser, "00000009")
    assert locked.status_code == 429 and locked.get_json()["retry_after_s"] == 1.0
    assert locked.headers["Retry-After"] == "1" and "Try again in 1 s" in locked.get_json()["error"]
    # while locked, even the right code is not checked for that client (else a hit would show)
    assert login(guesser).status_code == 429
    owner = client_at(app, OWNER)
    assert login(owner).status_code == 200                         # another client: not affected
    fake_clock.advance(1.0)
    assert login(guesser, "00000010").status_code == 403
    assert login(guesser, "00000011").get_json()["retry_after_s"] == 2.0   # doubles each time
    for _ in range(20):
        fake_clock.advance(guard.lockout.retry_after(GUESSER))
        login(guesser, "99999999")
    assert 0 < guard.lockout.retry_after(GUESSER) <= 900
    assert login(client_at(app, OWNER)).status_code == 200
    fake_clock.advance(3601 + 900)                                   # quiet for an hour: forgotten
    assert login(guesser).status_code == 200


def test_an_owner_with_a_session_never_meets_the_lockout_of_their_own_address(app, fake_clock):
    app.extensions[EXTENSION].auth.lockout = ClientLockout(free=1, clock=fake_clock)
    owner = client_at(app, OWNER)
    csrf = login(owner).get_json()["csrf_token"]
    stranger_on_same_nat = client_at(app, OWNER)
    assert login(stranger_on_same_nat, "11111111").status_code == 403
    assert owner.post("/api/pain", json={"pain": 2}, headers={CSRF_HEADER: csrf}).status_code == 201


def test_lockout_memory_is_bounded(fake_clock):
    lockout = ClientLockout(free=0, max_clients=10, clock=fake_clock)
    for n in range(100):
        lockout.failed(f"10.0.{n}.1")
    assert len(lockout._clients) == 10 and lockout.retry_after("10.0.99.1") > 0


def test_a_cross_site_url_cannot_make_guesses(app, fake_clock):
    """A code in the query string is ignored: an <img> elsewhere cannot spend the owner's tries."""
    app.extensions[EXTENSION].auth.lockout = ClientLockout(free=1, clock=fake_clock)
    owner = client_at(app, OWNER)
    for _ in range(5):
        assert owner.get("/api/stream?access_code=00000000").status_code == 401
    assert login(owner).status_code == 200


# --- host, headers, bodies --------------------------------------------------------------------
@pytest.mark.parametrize("host, ok", [
    ("localhost:8080", True), ("127.0.0.1:8080", True), ("[::1]:8080", True),
    ("192.168.1.5", True), ("stairs.example:8080", True), ("evil.example", False),
    ("evil.example:8080", False), ("localhost.evil.example", False),
])
def test_host_allow_list(store, host, ok):
    app = create_app(store, LiveState(), access_code=CODE, allowed_hosts=["stairs.example"])
    resp = app.test_client().get("/api/today", headers={"Host": host})
    assert (resp.status_code == 200) is ok
    if not ok:
        assert resp.status_code == 400 and "does not answer to that name" in resp.get_json()["error"]
    assert app.test_client().get("/", headers={"Host": host}).status_code == (200 if ok else 400)


def test_security_headers_on_page_and_api(app):
    client = app.test_client()
    for path in ("/", "/api/session", "/api/nope", "/static/app.js"):
        headers = client.get(path).headers
        assert headers["Content-Security-Policy"] == CSP, path
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
    assert "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP


def test_page_has_no_inline_script_or_style(app):
    """What the CSP would block: inline <script>, on* handlers, style="" attributes, <style>."""

    page = app.test_client().get("/").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert not re.search(r"\son\w+\s*=", page) and " style=" not in page and "<style" not in page


@pytest.mark.parametrize("body, reason", [
    ('{"pain": 3, "note": "\\ud800"}', "not valid Unicode"),
    ('{"pain": 3, "\\udfff": 1}', "not valid Unicode"),
    ("[" * 30_000 + "]" * 30_000, "nested too deeply"),
    ('{"pain": 3, "note": ', "not valid JSON"),
])
def test_json_that_cannot_be_stored_is_400(app, body, reason):
    resp = app.test_client().post("/api/pain", data=body, content_type="application/json",
                                  headers={"X-Access-Code": CODE})
    assert resp.status_code == 400 and reason in resp.get_json()["error"]


def test_lone_surrogate_as_access_code_is_400_not_500(app):
    resp = client_at(app, OWNER).post("/api/session", data='{"access_code": "\\ud800"}',
                                      content_type="application/json")
    assert resp.status_code in (400, 401, 403) and "error" in resp.get_json()


# --- OpenAPI ----------------------------------------------------------------------------------
def test_every_api_route_is_in_the_openapi_description(app):
    assert undocumented(app) == [], "add @doc(...) (webui.openapi) to these routes"
    spec = app.test_client().get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    described = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    routes = {(m, ROUTE_PARAM.sub(r"{\2}", r.rule)) for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/") for m in r.methods - {"HEAD", "OPTIONS"}}
    assert routes <= described
    pain = spec["paths"]["/api/pain"]["post"]
    assert pain["security"] and pain["requestBody"]["content"]["application/json"]["schema"]["required"] == [
        "pain"]
    assert pain["responses"]["4XX"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}


def test_an_undocumented_route_is_caught(app):
    @app.get("/api/forgotten")
    def forgotten():
        return {}

    assert undocumented(app) == ["GET /api/forgotten"]
    assert build_spec(app)["paths"]["/api/forgotten"]["get"]["summary"] == "undocumented"


def test_ids_and_times_past_what_the_store_holds_are_4xx_not_500(app):
    """Found by schemathesis: an id past SQLite's 64 bits and a `since` past year 9999."""
    client = app.test_client()
    headers = {"X-Access-Code": CODE}
    huge = client.put("/api/pain/27096700933644660736", json={"pain": 2}, headers=headers)
    assert huge.status_code == 404 and "no such endpoint" in huge.get_json()["error"]
    assert client.delete("/api/pain/9223372036854775807", headers=headers).status_code in (404, 409)
    late = client.get("/api/pain?since=1.4437376499338351e%2B308", headers=headers)
    assert late.status_code == 400 and "since must be unix seconds" in late.get_json()["error"]


def test_guesses_from_one_ipv6_subnet_count_together():
    assert client_key("2001:db8:1:2::5") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::5") != client_key("2001:db8:1:2::5")
    assert client_key("::ffff:192.168.1.9") == "192.168.1.9" and client_key("10.0.0.1") == "10.0.0.1"
    assert client_key(None) == "unknown"



def test_a_new_code_logs_out_every_browser_of_the_old_one(store, tmp_path):
    import os

    from firmware.access import ensure_access_code, load_access_code, reset_access_code

    first = ensure_access_code(tmp_path, "").fresh
    app = create_app(store, LiveState(), access_code=load_access_code(tmp_path, ""), open_reads=False)
    browser = client_at(app, OWNER)
    assert login(browser, first).status_code == 200
    assert browser.get("/api/session").get_json()["authenticated"] is True
    new = reset_access_code(tmp_path).fresh
    os.utime(tmp_path / "access_code", (1, 1))          # mtime granularity: make the change visible
    assert browser.get("/api/session").get_json()["authenticated"] is False
    assert browser.get("/api/today").status_code == 401
    assert login(browser, first).status_code == 403 and login(browser, new).status_code == 200


# --- a new code from the page -----------------------------------------------------------------
def test_a_new_code_from_settings_needs_the_current_one_and_ends_other_sessions(store, tmp_path):
    from firmware.access import ensure_access_code

    access = ensure_access_code(tmp_path, "")                    # the data dir's code, as a device makes it
    old = access.fresh
    app = create_app(store, LiveState(), access_code=access, open_reads=False)
    owner, other = client_at(app, OWNER), client_at(app, "192.168.1.21")
    csrf = login(owner, old).get_json()["csrf_token"]
    login(other, old)
    assert other.get("/api/session").get_json()["authenticated"] is True
    missing = owner.post("/api/access-code", json={}, headers={CSRF_HEADER: csrf})
    assert missing.status_code == 400 and "in use now" in missing.get_json()["error"]
    wrong = owner.post("/api/access-code", json={"current_code": "00000000"}, headers={CSRF_HEADER: csrf})
    assert wrong.status_code == 403 and wrong.get_json()["error"] == "That is not the access code in use now."
    assert client_at(app, GUESSER).post("/api/access-code", json={"current_code": old}).status_code == 401
    made = owner.post("/api/access-code", json={"current_code": old}, headers={CSRF_HEADER: csrf})
    assert made.status_code == 200
    body = made.get_json()
    new = body["access_code"]
    assert new != old and re.fullmatch(r"\d{8}", new) and body["link"].endswith(f"/#code={new}")
    assert new not in (tmp_path / "access_code").read_text()     # only its hash is kept
    assert other.get("/api/session").get_json()["authenticated"] is False    # the others are out
    still_in = owner.post("/api/pain", json={"pain": 2}, headers={CSRF_HEADER: body["csrf_token"]})
    assert still_in.status_code == 201                          # this browser stays in
    assert login(other, old).status_code == 403 and login(other, new).status_code == 200


def test_wrong_current_codes_count_against_the_client_and_a_config_code_is_the_configs(app, fake_clock):
    app.extensions[EXTENSION].auth.lockout = ClientLockout(clock=fake_clock)   # no real time passes
    browser = client_at(app, OWNER)
    csrf = login(browser).get_json()["csrf_token"]
    for _ in range(5):
        browser.post("/api/access-code", json={"current_code": "00000000"}, headers={CSRF_HEADER: csrf})
    locked = browser.post("/api/access-code", json={"current_code": CODE}, headers={CSRF_HEADER: csrf})
    assert locked.status_code == 429 and locked.get_json()["retry_after_s"] > 0
    fresh = client_at(app, "192.168.1.30")                      # the code from the config file
    refused = fresh.post("/api/access-code", json={"current_code": CODE}, headers={"X-Access-Code": CODE})
    assert refused.status_code == 409 and "config file" in refused.get_json()["error"]


def test_each_refusal_of_a_new_code_is_in_the_openapi_description(app, fake_clock):
    """Every status POST /api/access-code answers besides 200 has its own entry, a JSON reason."""
    app.extensions[EXTENSION].auth.lockout = ClientLockout(clock=fake_clock)
    browser = client_at(app, OWNER)
    csrf = {CSRF_HEADER: login(browser).get_json()["csrf_token"]}
    seen = {client_at(app, GUESSER).post("/api/access-code", json={"current_code": CODE}).status_code,
            browser.post("/api/access-code", json={}, headers=csrf).status_code,
            client_at(app, "192.168.1.30").post("/api/access-code", json={"current_code": CODE},
                                                headers={"X-Access-Code": CODE}).status_code}
    seen |= {browser.post("/api/access-code", json={"current_code": "00000000"}, headers=csrf).status_code
             for _ in range(6)}
    assert seen == {400, 401, 403, 409, 429}
    spec = app.test_client().get("/api/openapi.json").get_json()
    documented = spec["paths"]["/api/access-code"]["post"]["responses"]
    for status in seen:
        assert documented[str(status)]["content"]["application/json"]["schema"] == \
            {"$ref": "#/components/schemas/Error"}, status
