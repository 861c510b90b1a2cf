"""Composition root of the notifier service."""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from teleservices.notifier import purge
from teleservices.notifier.documents import purge_old_documents
from teleservices.notifier.documents import router as documents_router
from teleservices.notifier.jobs import JOBS_CONSUMER, CampaignJobs
from teleservices.notifier.mailer import SmtpConfig, SmtpPool
from teleservices.notifier.pdf.render import harfbuzz_subset_available, pdf_process_pool
from teleservices.notifier.pdf.slots import RenderSlots
from teleservices.notifier.preview import router as preview_router
from teleservices.notifier.printing import Printing
from teleservices.notifier.privacy import router as privacy_router
from teleservices.notifier.service import Notifier
from teleservices.notifier.settings import NotifierSettings
from teleservices.shared.messages.catalog import NotifyBatch, SendActivationEmail, SendFreeEmail, SendNotification
from teleservices.shared.messages.topics import NOTIFIER_JOBS, NOTIFIER_URGENT
from teleservices.shared.metrics import JOBS_IN_FLIGHT
from teleservices.shared.runtime import ServiceRuntime
from teleservices.shared.web import create_service_app

log = logging.getLogger(__name__)


def smtp_config(s: NotifierSettings) -> SmtpConfig:
    """The SMTP pool's configuration from the notifier's settings."""
    return SmtpConfig(
        host=s.smtp_host, port=s.smtp_port, sender=s.sender, message_id_domain=s.message_id_domain,
        starttls=s.smtp_starttls, use_tls=s.smtp_use_tls, username=s.smtp_username,
        password=s.smtp_password.get_secret_value() if s.smtp_password else None, timeout_s=s.smtp_timeout_s,
        pool_size=s.smtp_pool_size, recycle_after=s.smtp_recycle_after, max_idle_s=s.smtp_max_idle_s,
        rate_per_s=s.smtp_rate_per_s, rate_burst=s.smtp_rate_burst, max_attempts=s.smtp_max_attempts,
        base_delay_s=s.smtp_base_delay_s, max_delay_s=s.smtp_max_delay_s,
        auth_retry_after_s=s.smtp_auth_retry_after_s,
        tls_context=ssl.create_default_context(cafile=s.smtp_ca_file) if s.smtp_ca_file else None,
        validate_certs=s.smtp_validate_certs, local_hostname=s.smtp_local_hostname)


def create_app(settings: NotifierSettings) -> FastAPI:
    """Wire the notifier: an SMTP pool, a PDF process pool, a consumer group on the job topic."""
    runtime = ServiceRuntime("notifier", settings, migrations=Path(__file__).parent / "migrations")
    pool = SmtpPool(smtp_config(settings))
    executor = pdf_process_pool(settings.pdf_processes, settings.pdf_niceness)

    async def start() -> None:
        await pool.start(concurrency=settings.email_concurrency)
        # The render processes start now, not with the first job: a campaign does not wait for them (a fork server,
        # WeasyPrint's import and the stylesheet: ~1.5 s of a core each), and a worker is ready when it says so.
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(executor, os.getpid) for _ in range(settings.pdf_processes)))
        if not harfbuzz_subset_available():
            log.warning("libharfbuzz-subset0 is missing: PDF letters render several times slower"
                        " (apt-get install libharfbuzz-subset0)")

    async def stop() -> None:
        await pool.close()
        executor.shutdown(wait=False, cancel_futures=True)

    runtime.resource(start, stop)
    notifier = Notifier(settings, pool)
    slots = RenderSlots(settings.pdf_render_slots, settings.pdf_processes,
                        Path(settings.pdf_render_slots_dir) if settings.pdf_render_slots_dir else None)
    printing = Printing(executor=executor, link_key=settings.secrets.link_key.get_secret_value(),
                        portal_url=settings.portal_url, slots=slots)
    jobs = CampaignJobs(runtime.db, settings, notifier, printing, concurrency=settings.email_concurrency)
    JOBS_IN_FLIGHT.labels(JOBS_CONSUMER).set(0)  # one series per worker from the start: the dashboard counts them
    single = {SendNotification: notifier.send_notification, SendActivationEmail: notifier.send_activation_email,
              SendFreeEmail: notifier.send_free_email}
    runtime.consume(JOBS_CONSUMER, [NOTIFIER_JOBS], {**single, NotifyBatch: jobs.notify_batch})
    runtime.consume("urgent", [NOTIFIER_URGENT], {**single, NotifyBatch: jobs.notify_batch})
    runtime.consume(purge.GROUP, purge.TOPICS, purge.HANDLERS)  # purge after departure
    async def purge_every_hour() -> None:
        while True:
            await purge_old_documents(runtime.db, timedelta(days=settings.document_retention_days))
            await asyncio.sleep(3600)

    runtime.every("documents-retention", purge_every_hour)
    app = create_service_app(runtime, title="Téléservices — notifications")
    app.include_router(documents_router)
    app.include_router(preview_router)
    app.include_router(privacy_router)
    return app

