"""Composition root of the sync service."""

from __future__ import annotations

from fastapi import FastAPI

from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.web import create_service_app
from teleservices.sync.settings import SyncSettings


def create_app(settings: SyncSettings) -> FastAPI:
    """Wire the sync service."""
    runtime = ServiceRuntime("sync", settings)
    return create_service_app(runtime, title="Téléservices — synchronisation SIECLE/BEE")
