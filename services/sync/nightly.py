"""The nightly run: every establishment folder of the drop folder is imported, then archived."""

from __future__ import annotations

import asyncio
import logging
import shutil
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from teleservices.sync.importer import Importer, ImportRequest, Status

log = logging.getLogger(__name__)
NIGHTLY_AT = time(1, 30)


async def import_drop_folder(importer: Importer, folder: Path) -> list[dict[str, Any]]:
    """Import each `<UAI>/` sub-folder holding files; applied ones move to `<UAI>/traites/<date>/`."""
    reports = []
    for establishment, files in await asyncio.to_thread(_pending, folder):
        report = await importer.run(ImportRequest(files, actor="import nocturne", expected_uai=establishment.name))
        reports.append(report)
        if report["status"] != Status.refused:
            await asyncio.to_thread(_archive, establishment, files)
    return reports


def _pending(folder: Path) -> list[tuple[Path, list[Path]]]:
    """Establishment folders holding files to import."""
    if not folder.exists():
        return []
    found = []
    for establishment in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = sorted(p for p in establishment.iterdir() if p.is_file())
        if files:
            found.append((establishment, files))
    return found


def _archive(establishment: Path, files: list[Path]) -> None:
    archive = establishment / "traites" / datetime.now().strftime("%Y-%m-%d_%H%M%S")
    archive.mkdir(parents=True)
    for file in files:
        shutil.move(str(file), archive / file.name)


async def every_night(importer: Importer, folder: Path) -> None:
    """Run the drop-folder import every night at 01:30 (server time) until cancelled."""
    while True:
        now = datetime.now().astimezone()
        next_run = datetime.combine(now.date(), NIGHTLY_AT, tzinfo=now.tzinfo)
        if next_run <= now:
            next_run += timedelta(days=1)
        await asyncio.sleep((next_run - now).total_seconds())
        reports = await import_drop_folder(importer, folder)
        log.info("nightly import done", extra={"establishments": len(reports),
                                               "refused": sum(r["status"] == Status.refused for r in reports)})
