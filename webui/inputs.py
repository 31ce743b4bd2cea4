"""What a request may bring before any view sees it: JSON that can be stored and compared, and
route ids that SQLite can hold. Refused here as a 400 or a 404, never a 500 deep inside.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

ROW_ID_MAX = 2**63 - 1


class StrictJSON(DefaultJSONProvider):
    """Request bodies that cannot be stored or compared are refused as bad JSON (a 400), not
    left to fail deep inside: nesting past Python's recursion limit, and lone surrogates
    ("\\ud800" is valid JSON but not text SQLite or a hash can take)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None
        _refuse_surrogates(value)
        return value


def _refuse_surrogates(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            texts: Iterable[str] = (item,)
        elif isinstance(item, dict):
            texts = item.keys()
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            continue
        for one in texts:
            try:
                one.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("the JSON has text that is not valid Unicode (a lone surrogate)") from None


class RowId(IntegerConverter):
    """`<id:...>` (and `<int:...>`) in a route: a row id SQLite can hold; past its largest integer
    the route is a 404, not an OverflowError deep in a query."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = ROW_ID_MAX, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
