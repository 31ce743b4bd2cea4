"""The phone pages and what installs them on a home screen. Everything they need is served by the
device (no CDN: the step may sit on a LAN with no internet)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, url_for

from webui.app import ctx

pages = Blueprint("pages", __name__)


@pages.get("/")
def index() -> Any:
    c = ctx()
    return render_template("index.html", open_reads=c.open_reads, writes_enabled=c.auth.enabled)


@pages.get("/manifest.webmanifest")
def manifest() -> Any:
    """Lets a phone add the page to its home screen and open it full screen."""
    icon = lambda name, size, kind: {"src": url_for("static", filename=name), "sizes": size, "type": kind}  # noqa: E731
    response = jsonify({
        "name": "stretchstep", "short_name": "stretchstep",
        "description": "Calf stretches on the stair step: hold timer, breaths, bounce warnings, history.",
        "start_url": "/#now", "scope": "/", "display": "standalone", "orientation": "any",
        "background_color": "#0f1317", "theme_color": "#0f1317",
        "icons": [icon("icon-192.png", "192x192", "image/png"), icon("icon-512.png", "512x512", "image/png"),
                  icon("icon.svg", "any", "image/svg+xml")],
    })
    response.mimetype = "application/manifest+json"
    return response
