"""Counts in words ("1 day", "3 pain entries"): one rule for what the commands and the report say."""

from __future__ import annotations


def counted(n: int, one: str, many: str | None = None) -> str:
    """'1 stretch', '3 stretches': `many` where adding an s would be wrong."""
    return f"{n} {one if n == 1 else many or one + 's'}"
