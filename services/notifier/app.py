"""Composition root of the notifier service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from teleservices.notifier.service import Notifier
from teleservices.notifier.settings import NotifierSettings
from teleservices.shared.messages.catalog import SendActivationEmail, SendFreeEmail, SendNotification
from teleservices.shared.messages.topics import NOTIFIER_JOBS
from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.web import create_service_app


def create_app(settings: NotifierSettings) -> FastAPI:
    """Wire the notifier: a consumer group on the job topic; health and metrics over HTTP."""
    runtime = ServiceRuntime("notifier", settings, migrations=Path(__file__).parent / "migrations")
    notifier = Notifier(settings)
    runtime.consume("jobs", [NOTIFIER_JOBS], {
        SendNotification: notifier.send_notification,
        SendActivationEmail: notifier.send_activation_email,
        SendFreeEmail: notifier.send_free_email,
    })
    return create_service_app(runtime, title="Téléservices — notifications")
