"""Composition root of the sync service."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from teleservices.shared.messages.catalog import EstablishmentCreated
from teleservices.shared.messages.topics import ACCOUNTS_EVENTS
from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.web import create_service_app
from teleservices.sync import purge
from teleservices.sync.api import router
from teleservices.sync.establishments import establishment_created
from teleservices.sync.importer import Importer
from teleservices.sync.nightly import every_night
from teleservices.sync.privacy import router as privacy_router
from teleservices.sync.settings import SyncSettings


def create_app(settings: SyncSettings) -> FastAPI:
    """Wire the sync service: the importer, the nightly drop folder, the establishments it may feed."""
    runtime = ServiceRuntime("sync", settings, migrations=Path(__file__).parent / "migrations")
    runtime.consume("establishments", [ACCOUNTS_EVENTS], {EstablishmentCreated: establishment_created,
                                                         **purge.HANDLERS})  # purge after departure
    importer = Importer(runtime.db, settings)
    runtime.every("nightly-import", lambda: every_night(importer, settings.drop_folder,
                                                         timedelta(days=settings.archive_retention_days)))
    app = create_service_app(runtime, title="Téléservices — imports SIECLE/BEE")
    app.state.importer = importer
    app.include_router(router)
    app.include_router(privacy_router)
    return app
