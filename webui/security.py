"""What every response carries, and which Host names the device answers to.

Why a Host allow-list: with DNS rebinding a page on another site points its own name at the
step's address and then reads the step "same-origin" (history, pain notes when reads are
open). The browser still sends that other name in `Host`, so answering only to the device's
own names stops it. Any IP literal is accepted: an origin that *is* an address cannot be
rebound, and the Pi's DHCP address may change while it runs.

Why this CSP: the page's script and style are files the device serves; nothing inline, nothing
from elsewhere, no framing (clickjacking a tare button).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

from flask import Flask, jsonify, request

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; media-src 'self'; manifest-src 'self'; "
       "worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def own_names() -> set[str]:
    """The names this machine answers to without asking a DNS server."""
    names = {"localhost"}
    host = socket.gethostname().lower()
    if host:
        names |= {host, f"{host}.local", host.split(".")[0]}
    return names


def host_name(header: str) -> str:
    """`Host` without its port, lower case, brackets and trailing dot gone."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    if header.count(":") == 1:
        header = header.split(":", 1)[0]
    return header.rstrip(".")


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostAllowList:
    def __init__(self, extra: Iterable[str] = ()) -> None:
        self.names = own_names() | {host_name(name) for name in extra if name.strip()}

    def allows(self, header: str) -> bool:
        name = host_name(header)
        return not name or is_ip(name) or name in self.names


def install(app: Flask, allowed_hosts: Iterable[str] = ()) -> None:
    """Refuse foreign Host names (400 JSON) and add the security headers to every response."""
    hosts = HostAllowList(allowed_hosts)

    @app.before_request
    def _check_host() -> Any:
        if not hosts.allows(request.headers.get("Host", "")):
            response = jsonify(error="This device does not answer to that name. Open it by its "
                                     "address, or add the name to [web] allowed_hosts.")
            response.status_code = 400
            return response
        return None

    @app.after_request
    def _headers(response: Any) -> Any:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
