"""HTTP header lists as (name, value) pairs: repeated names kept, names matched case-insensitively."""

from __future__ import annotations

from collections.abc import Iterable


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of header `name`, or None."""
    lower = name.lower()
    return next((v for k, v in headers if k.lower() == lower), None)


def header_values(headers: Iterable[tuple[str, str]], name: str) -> list[str]:
    """Every value of header `name` (Set-Cookie comes once per cookie)."""
    lower = name.lower()
    return [v for k, v in headers if k.lower() == lower]
