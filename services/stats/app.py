"""Composition root of the stats service."""

from __future__ import annotations

from fastapi import FastAPI

from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.web import create_service_app
from teleservices.stats.settings import StatsSettings


def create_app(settings: StatsSettings) -> FastAPI:
    """Wire the stats service."""
    runtime = ServiceRuntime("stats", settings)
    return create_service_app(runtime, title="Téléservices — statistiques")
