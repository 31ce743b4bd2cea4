"""The page shell without a browser: what the CSP-minded markup and the manifest promise.
(The pages at work are in tests/test_browser*.py.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from firmware.live import LiveState
from firmware.store import Store
from webui import create_app

STATIC = Path(__file__).resolve().parent.parent / "webui" / "static"


@pytest.fixture
def make_client(tmp_path):
    stores = []

    def make():
        store = Store(tmp_path / f"h{len(stores)}.sqlite")
        stores.append(store)
        return create_app(store, LiveState(), access_code="13572468").test_client()

    yield make
    for s in stores:
        s.close()


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.inline_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if self.tags and self.tags[-1][0] in ("script", "style") and data.strip():
            self.inline_script = True


def test_the_page_has_no_inline_script_style_or_handlers(make_client):
    """A strict Content-Security-Policy (no 'unsafe-inline') must not break the page."""
    html = make_client().get("/").get_data(as_text=True)
    parser = Tags()
    parser.feed(html)
    assert not parser.inline_script
    for tag, attrs in parser.tags:
        assert "style" not in attrs, tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs
    for js in STATIC.glob("js/*.js"):
        text = js.read_text()
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, js.name  # text goes in as text
        assert not re.search(r"\beval\(|new Function\(", text), js.name


def test_every_asset_the_page_names_is_served_by_the_device(make_client):
    client = make_client()
    html = client.get("/").get_data(as_text=True)
    names = re.findall(r'(?:href|src)="(/[^"]*)"', html)
    imports = {f"/static/js/{m}" for js in STATIC.glob("js/*.js")
               for m in re.findall(r'from "\./([\w.]+)"', js.read_text())}
    for path in {*names, *imports}:
        assert client.get(path).status_code == 200, path
    assert not re.search(r'(?:href|src)="(?:https?:)?//', html)   # no CDN, no external fonts


def test_manifest_makes_the_page_installable(make_client):
    client = make_client()
    res = client.get("/manifest.webmanifest")
    assert res.status_code == 200 and res.mimetype == "application/manifest+json"
    m = res.get_json()
    assert m["display"] == "standalone" and m["start_url"].startswith("/")
    sizes = {i["sizes"] for i in m["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in m["icons"]:
        got = client.get(icon["src"])
        assert got.status_code == 200 and got.mimetype == icon["type"], icon
        if icon["type"] == "image/png":  # the PNG's own header says its size
            w, h = int.from_bytes(got.data[16:20], "big"), int.from_bytes(got.data[20:24], "big")
            assert f"{w}x{h}" == icon["sizes"]
