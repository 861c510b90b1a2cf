"""Composition root of the accounts service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from teleservices.accounts.api import router
from teleservices.accounts.service import AccountsService
from teleservices.accounts.settings import AccountsSettings
from teleservices.shared.messages.catalog import NotificationDelivered, NotificationFailed
from teleservices.shared.messages.topics import NOTIFIER_EVENTS
from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.web import create_service_app


def create_app(settings: AccountsSettings) -> FastAPI:
    """Wire the accounts service: its runtime, its handlers, its API."""
    runtime = ServiceRuntime("accounts", settings, migrations=Path(__file__).parent / "migrations")
    service = AccountsService(runtime.db, settings)
    runtime.consume("delivery-results", [NOTIFIER_EVENTS], {
        NotificationDelivered: service.notification_delivered,  # type: ignore[dict-item]
        NotificationFailed: service.notification_failed,  # type: ignore[dict-item]
    })
    app = create_service_app(runtime, title="Téléservices — comptes")
    app.state.accounts = service
    app.include_router(router)
    return app
