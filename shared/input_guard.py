"""Text PostgreSQL cannot store is refused at the door: a NUL character (U+0000) anywhere in a request's query or
JSON or form body gets the 422 FastAPI gives for any invalid field, naming where it is — before anything runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

NUL = "\x00"
REFUSED = "caractère nul (U+0000) refusé"
CHECKED_BODIES = ("application/json", "application/x-www-form-urlencoded")


def nul_in_query(query: bytes) -> list[str | int] | None:
    """The location of the first query parameter holding a NUL, if any."""
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return ["query", name.replace(NUL, "")]
    return None


def nul_in_body(content_type: str, body: bytes) -> list[str | int] | None:
    """The location of the first field holding a NUL in a JSON or urlencoded form body, if any."""
    if b"\\u0000" not in body and b"\x00" not in body and b"%00" not in body:
        return None
    if content_type.startswith("application/json"):
        try:
            return next((["body", *path] for path in _nul_paths(json.loads(body))), None)
        except ValueError:
            return None  # not JSON: the route's own validation answers
    if content_type.startswith("application/x-www-form-urlencoded"):
        for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            if NUL in name or NUL in value:
                return ["body", name.replace(NUL, "")]
    return None


def _nul_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[list[str | int]]:
    if isinstance(value, str):
        if NUL in value:
            yield list(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                yield [*path, key.replace(NUL, "")]
            yield from _nul_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, (*path, index))


def refusal(location: list[Any]) -> dict[str, Any]:
    """FastAPI's own 422 shape, so clients read it like any other invalid field."""
    return {"detail": [{"type": "string_nul", "loc": location, "msg": REFUSED, "input": None}]}
