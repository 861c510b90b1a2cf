"""Composition root of the stats service."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI

from teleservices.shared.messages.topics import (
    ACCOUNTS_EVENTS,
    NOTIFIER_EVENTS,
    NOTIFIER_JOBS,
    PORTAL_EVENTS,
    SYNC_EVENTS,
)
from teleservices.shared.privacy.retention import RetentionSettings
from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.web import create_service_app
from teleservices.stats import api, figures, projection, purge
from teleservices.stats.service import Statistics
from teleservices.stats.settings import StatsSettings

TOPICS = (ACCOUNTS_EVENTS, SYNC_EVENTS, PORTAL_EVENTS, NOTIFIER_EVENTS, NOTIFIER_JOBS)
GROUP = "read-models"


def create_app(settings: StatsSettings) -> FastAPI:
    """Wire the stats service: one consumer group feeding the read models, the statistics API."""
    runtime = ServiceRuntime("stats", settings, migrations=Path(__file__).parent / "migrations")
    consumer = runtime.consume(GROUP, TOPICS, projection.handlers(), batch=True,
                               batch_handlers=projection.batch_handlers())

    async def join_generation() -> None:
        """A fresh schema (first start, or a rebuild) gets a new consumer group: it reads every topic again."""
        async with runtime.db.connection() as conn:
            generation = await conn.fetchval("SELECT generation FROM consumer_generation")
        consumer.name = f"stats.{GROUP}.{generation}"

    async def nothing() -> None:
        return None

    runtime.resource(join_generation, nothing)

    async def keep_figures_fresh() -> None:
        await figures.keep_fresh(runtime.db)

    runtime.every("academy-figures", keep_figures_fresh)

    async def anonymise_old_accesses_hourly() -> None:
        while True:
            async with runtime.db.transaction() as conn:
                await purge.anonymise_old_accesses(conn, datetime.now(UTC), RetentionSettings().connection_log_days)
            await asyncio.sleep(3600)

    runtime.every("access-retention", anonymise_old_accesses_hourly)
    app = create_service_app(runtime, title="Téléservices — statistiques")
    app.state.statistics = Statistics(runtime.db, settings)
    app.state.consumer = consumer
    api.install(app)
    return app

