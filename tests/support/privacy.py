"""Canary values for data protection tests: find them in every table, log line and message the platform wrote."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from teleservices.shared.logs import JsonLinesFormatter


@dataclass(frozen=True)
class Found:
    """One canary found somewhere it must not be."""

    canary: str
    where: str
    excerpt: str


def _matches(text: str, canaries: Iterable[str], where: str) -> list[Found]:
    """Each canary found in the text as a whole word (case-insensitive): "Léa" is not found in "cléarance"."""
    lowered = text.casefold()
    found = []
    for canary in canaries:
        match = re.search(rf"(?<!\w){re.escape(canary.casefold())}(?!\w)", lowered)
        if match:
            found.append(Found(canary, where, lowered[max(0, match.start() - 80):match.end() + 80]))
    return found


async def scan_database(database_url: str, canaries: Iterable[str],
                        schemas: Iterable[str] | None = None) -> list[Found]:
    """Every row of every table of the services' schemas (as text) holding a canary."""
    canaries = list(canaries)
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            " AND table_schema NOT IN ('pg_catalog', 'information_schema') AND ($1::text[] IS NULL"
            " OR table_schema = ANY($1)) ORDER BY 1, 2", list(schemas) if schemas is not None else None)
        found: list[Found] = []
        for table in tables:
            name = f'"{table["table_schema"]}"."{table["table_name"]}"'
            for row in await conn.fetch(f"SELECT t::text AS row FROM {name} t"):
                found += _matches(row["row"], canaries, name)
        return found
    finally:
        await conn.close()


def scan_log_lines(lines: Iterable[tuple[str, str]], canaries: Iterable[str]) -> list[Found]:
    """Log lines (where, line) holding a canary; JSON lines are also read decoded (\\u escapes, nested values)."""
    canaries = list(canaries)
    found: list[Found] = []
    for where, line in lines:
        texts = [line]
        with suppress(ValueError):
            texts.append(json.dumps(json.loads(line), ensure_ascii=False))
        for text in texts:
            hits = _matches(text, canaries, where)
            if hits:
                found += hits
                break
    return found


def log_file_lines(folder: Path) -> Iterator[tuple[str, str]]:
    """Every line of every log file under a folder (service processes write DATA_DIR/logs/<service>.log)."""
    for path in sorted(folder.rglob("*.log")):
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            yield f"{path.name}:{number}", line


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonLinesFormatter("in-process"))
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.name, self.format(record)))


@contextmanager
def captured_logs() -> Iterator[list[tuple[str, str]]]:
    """Every record logged in this process meanwhile at the services' level (INFO), rendered as they render it."""
    handler = _Collect()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
