"""The phone dashboard: a Flask app that reads live state and the history store.

It never touches a sensor or a pin; changes to the device (tare, calibrate) go through the
`control` object the run command hands in.
"""

from webui.app import create_app

__all__ = ["create_app"]
