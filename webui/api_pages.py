"""Reads only the pages need and no other helper's API offers: the calibration in use, with its
date, for the Settings page's tare-and-calibrate flow. Mounted under /api by webui.pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from firmware.live import jsonable
from webui.app import ctx
from webui.auth import read_access
from webui.openapi import doc, obj, text

api_pages = Blueprint("api_pages", __name__)


@api_pages.get("/calibration")
@doc("The calibration in use and its date, or why there is none (simulated input, sensor not up)",
     response=obj({"available": {"type": "boolean"}, "reason": text(), "calibration": obj(),
                   "cells": {"type": "array"}, "describe": text(), "default": {"type": "boolean"}},
                  required=["available"]))
@read_access
def calibration() -> Any:
    """{"available": bool, "calibration": {...date, calibrated_at, known_kg...}, "default": bool}.

    No sensor (simulated or replayed input) or a sensor not running yet is `available: false`
    with a reason, not an error: the page just says so."""
    control = ctx().control
    if control is None:
        return jsonify(available=False, reason="no sensor: the input is simulated or replayed")
    try:
        status = control.status()
    except ValueError as exc:  # the sensor is not running right now
        return jsonify(available=False, reason=str(exc))
    return jsonify(available=True, **jsonable(status))
