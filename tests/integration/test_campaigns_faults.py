"""Faults during a campaign: PostgreSQL restarted, the broker restarted, a poison message among the jobs.

Each ends with the campaign complete, every account « Notifié » exactly once, one password per family."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from teleservices.shared.embedded.mailbox import SmtpSink
from teleservices.shared.messages.topics import NOTIFIER_JOBS
from tests.support.campaigns import UAI, all_notified_once, finished, many_families, one_password_each
from tests.support.infrastructure import BrokerServer, PostgresServer
from tests.support.platform import PlatformUnderTest
from tests.support.waiting import eventually

COUNT = 30
EMAIL_ONLY = {"population": "responsable", "mode": "Courrier électronique seul"}


async def _launch_slowly(platform: PlatformUnderTest, smtp_sink: SmtpSink) -> str:
    """A campaign of COUNT emails at 10 per second, once a few have left."""
    platform.env["TELESERVICES_NOTIFIER_SMTP_RATE_PER_S"] = "10"
    platform.start("accounts", "notifier")
    await many_families(platform, COUNT)
    async with platform.client("accounts") as api:
        launched = await api.post(f"/api/v1/establishments/{UAI}/campaigns", json=EMAIL_ONLY)
    assert launched.status_code == 202, launched.text

    async def some_sent() -> bool:
        return smtp_sink.store.count() >= 3

    await eventually(some_sent)
    return str(launched.json()["id"])


async def _complete_and_exactly_once(platform: PlatformUnderTest, smtp_sink: SmtpSink, campaign: str) -> None:
    progress = await eventually(lambda: finished(platform, campaign), within_s=180)
    assert progress["failures"] == [] and progress["done"] == COUNT
    passwords = one_password_each(smtp_sink)
    assert len(passwords) == COUNT and all(len(p) == 1 for p in passwords.values())
    await all_notified_once(platform, COUNT)


async def test_postgresql_restarted_mid_campaign(platform: PlatformUnderTest, smtp_sink: SmtpSink,
                                                 postgres: PostgresServer) -> None:
    campaign = await _launch_slowly(platform, smtp_sink)
    await asyncio.to_thread(postgres.restart)
    assert smtp_sink.store.count() < COUNT
    await _complete_and_exactly_once(platform, smtp_sink, campaign)
    async with platform.database("accounts") as db:
        assert await db.fetchval("SELECT count(*) FROM dead_letters") == 0
    async with platform.database("notifier") as db:
        assert await db.fetchval("SELECT count(*) FROM dead_letters") == 0


async def test_broker_restarted_mid_campaign(platform: PlatformUnderTest, smtp_sink: SmtpSink,
                                             broker: BrokerServer) -> None:
    campaign = await _launch_slowly(platform, smtp_sink)
    await asyncio.to_thread(broker.restart)
    await _complete_and_exactly_once(platform, smtp_sink, campaign)


async def test_a_poison_job_is_dead_lettered_and_the_campaign_completes(platform: PlatformUnderTest,
                                                                         smtp_sink: SmtpSink) -> None:
    platform.start("accounts", "notifier")
    await many_families(platform, COUNT)
    producer = AIOKafkaProducer(bootstrap_servers=platform.bootstrap_servers)
    await producer.start()
    try:
        for partition in range(NOTIFIER_JOBS.partitions):  # wherever the campaign's jobs land, poison is ahead
            await producer.send_and_wait(NOTIFIER_JOBS.full_name(platform.topic_prefix), b"{pas du json",
                                         key=b"poison", partition=partition)
    finally:
        await producer.stop()
    async with platform.client("accounts") as api:
        launched = await api.post(f"/api/v1/establishments/{UAI}/campaigns", json=EMAIL_ONLY)
    await _complete_and_exactly_once(platform, smtp_sink, str(launched.json()["id"]))
    async with platform.database("notifier") as db:
        assert await db.fetchval("SELECT count(*) FROM dead_letters") == NOTIFIER_JOBS.partitions
