"""The API's OpenAPI 3.1 description, served at GET /api/openapi.json, built from the routes.

Each route carries its own entry, written next to it with `@doc(...)`:

    @api.get("/stretches")
    @doc("Recent stretches, newest first", query={"limit": integer(1, 1000, default=200)},
         response=obj({"stretches": array(obj())}, required=["stretches"]))
    @read_access
    def stretches(): ...

`build_spec(app)` walks the app's URL map, so a route cannot be forgotten: one under /api
without `@doc` is listed by `undocumented(app)` (a test fails on it) and shows in the spec as
"undocumented". Path parameters come from the rule (`<int:id>` -> an integer `id`); who may call
it comes from `requires_code` / `read_access`; every operation may answer 4XX with
`{"error": reason}`, so a fuzzer can check that every refusal is one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify

from webui.inputs import ROW_ID_MAX

ATTR = "openapi"
SKIP_METHODS = {"HEAD", "OPTIONS"}
ERROR = {"type": "object", "required": ["error"], "properties": {
    "error": {"type": "string", "description": "what was wrong, for a person to read"},
    "retry_after_s": {"type": "number", "description": "429 only: when this client may try again"},
}}


# --- schema helpers (small, so entries stay one or two lines) ---------------------------------
def _bounded(kind: str, lo: float | None, hi: float | None, extra: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind, **extra}
    if lo is not None:
        schema["minimum"] = lo
    if hi is not None:
        schema["maximum"] = hi
    return schema


def integer(lo: int | None = None, hi: int | None = None, **extra: Any) -> dict[str, Any]:
    return _bounded("integer", lo, hi, extra)


def number(lo: float | None = None, hi: float | None = None, **extra: Any) -> dict[str, Any]:
    return _bounded("number", lo, hi, extra)


def text(max_length: int | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", **extra}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def obj(properties: dict[str, Any] | None = None, required: Iterable[str] = (),
        **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", **extra}
    if properties:
        schema["properties"] = properties
    if required:
        schema["required"] = list(required)
    return schema


def array(items: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "array", "items": items or {}}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


# --- the decorator ----------------------------------------------------------------------------
def doc(summary: str, *, query: dict[str, dict] | None = None, required_query: Iterable[str] = (),
        body: dict | None = None, body_required: bool = True, response: dict | None = None,
        status: int = 200, content_type: str = "application/json", responses: dict | None = None,
        description: str = "", path: dict[str, dict] | None = None,
        ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Describe the route below (see module doc). `responses` adds other documented statuses;
    `path` gives a path parameter a narrower schema than its converter's (a date, say)."""
    entry = {"summary": summary, "description": description, "query": query or {}, "path": path or {},
             "required_query": list(required_query), "body": body, "body_required": body_required,
             "response": response if response is not None else {}, "status": status,
             "content_type": content_type, "responses": responses or {}}

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        setattr(view, ATTR, entry)
        return view

    return mark


# --- building ---------------------------------------------------------------------------------
ROUTE_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")  # <name>, <int:name>, <int(max=9):name>
_ROW_ID = {"type": "integer", "minimum": 0, "maximum": ROW_ID_MAX}
_PARAM_SCHEMA = {"int": _ROW_ID, "id": _ROW_ID, "float": {"type": "number"}}


def _api_rules(app: Flask) -> Iterable[tuple[Any, str, Callable[..., Any]]]:
    for rule in app.url_map.iter_rules():
        if rule.rule == "/api" or rule.rule.startswith("/api/"):
            view = app.view_functions[rule.endpoint]
            for method in sorted((rule.methods or set()) - SKIP_METHODS):
                yield rule, method, view


def undocumented(app: Flask) -> list[str]:
    """`METHOD /path` of every /api route without a `@doc` entry."""
    return [f"{method} {rule.rule}" for rule, method, view in _api_rules(app)
            if getattr(view, ATTR, None) is None]


def build_spec(app: Flask, *, title: str = "stretchstep", version: str = "1") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule, method, view in _api_rules(app):
        path = ROUTE_PARAM.sub(lambda m: "{" + m.group(2) + "}", rule.rule)
        paths.setdefault(path, {})[method.lower()] = _operation(rule, method, view)
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{title} API", "version": version,
                 "description": "The step's JSON API. Writes need the access code (X-Access-Code "
                                "header or a session cookie with X-CSRF-Token); reads too when "
                                "the device is set to closed reads."},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {
                "accessCode": {"type": "apiKey", "in": "header", "name": "X-Access-Code"},
                "session": {"type": "apiKey", "in": "cookie", "name": "stretchstep_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
        },
    }


def _operation(rule: Any, method: str, view: Callable[..., Any]) -> dict[str, Any]:
    entry = getattr(view, ATTR, None) or {"summary": "undocumented", "query": {}, "body": None,
                                          "response": {}, "status": 200, "responses": {},
                                          "content_type": "application/json", "required_query": [],
                                          "body_required": True, "description": ""}
    narrower = entry.get("path", {})
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": narrower.get(name) or _PARAM_SCHEMA.get(conv or "", {"type": "string"})}
                  for conv, name in ROUTE_PARAM.findall(rule.rule)]
    parameters += [{"name": name, "in": "query", "required": name in entry["required_query"],
                    "schema": schema} for name, schema in entry["query"].items()]
    content_type = entry["content_type"]
    responses: dict[str, Any] = {
        str(entry["status"]): {"description": "ok",
                               "content": {content_type: {"schema": entry["response"]}}},
        "4XX": {"description": "refused: the reason is in `error`",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    }
    for status, (description, schema) in entry["responses"].items():
        responses[str(status)] = {"description": description,
                                  "content": {"application/json": {"schema": schema}}}
    operation: dict[str, Any] = {"summary": entry["summary"],
                                 "operationId": f"{method.lower()}_{view.__name__}",
                                 "parameters": parameters, "responses": responses}
    if entry["description"]:
        operation["description"] = entry["description"]
    if entry["body"] is not None:
        operation["requestBody"] = {"required": entry["body_required"],
                                    "content": {"application/json": {"schema": entry["body"]}}}
    access = getattr(view, "access", None)
    if access == "write":
        operation["security"] = [{"accessCode": []}, {"session": [], "csrf": []}]
    elif access == "read":
        operation["description"] = (operation.get("description", "") + " Open unless the device "
                                    "has closed reads; then the code or a session is needed.").strip()
    return operation


openapi_api = Blueprint("openapi", __name__)


@openapi_api.get("/openapi.json")
@doc("This description (OpenAPI 3.1)", response=obj())
def openapi_json() -> Any:
    spec = current_app.extensions.get("stretchstep.openapi")
    if spec is None:
        spec = current_app.extensions["stretchstep.openapi"] = build_spec(current_app)
    return jsonify(spec)
