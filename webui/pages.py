"""The one phone page. Everything it needs is served by the device (no CDN: the step may sit
on a LAN with no internet)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from webui.app import ctx

pages = Blueprint("pages", __name__)


@pages.get("/")
def index() -> Any:
    c = ctx()
    return render_template("index.html", open_reads=c.open_reads, writes_enabled=c.auth.enabled,
                           has_control=c.control is not None)
