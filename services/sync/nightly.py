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
ARCHIVE_NAME = "%Y-%m-%d_%H%M%S"


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
    archive = establishment / "traites" / datetime.now().strftime(ARCHIVE_NAME)
    archive.mkdir(parents=True)
    for file in files:
        shutil.move(str(file), archive / file.name)


def purge_archives(folder: Path, keep: timedelta, now: datetime | None = None) -> int:
    """Delete the applied exports archived longer than `keep` (they hold what the platform does not keep, such
    as places of birth: minimisation); return how many archives went."""
    limit = (now or datetime.now()) - keep
    purged = 0
    for archive in folder.glob("*/traites/*"):
        try:
            archived_at = datetime.strptime(archive.name, ARCHIVE_NAME)
        except ValueError:
            continue  # not ours
        if archive.is_dir() and archived_at < limit:
            shutil.rmtree(archive)
            purged += 1
    return purged


async def every_night(importer: Importer, folder: Path, keep: timedelta = timedelta(days=7)) -> None:
    """Run the drop-folder import every night at 01:30 (server time) until cancelled, then purge old archives."""
    while True:
        now = datetime.now().astimezone()
        next_run = datetime.combine(now.date(), NIGHTLY_AT, tzinfo=now.tzinfo)
        if next_run <= now:
            next_run += timedelta(days=1)
        await asyncio.sleep((next_run - now).total_seconds())
        reports = await import_drop_folder(importer, folder)
        purged = await asyncio.to_thread(purge_archives, folder, keep)
        log.info("nightly import done", extra={"establishments": len(reports), "archives_purged": purged,
                                               "refused": sum(r["status"] == Status.refused for r in reports)})
