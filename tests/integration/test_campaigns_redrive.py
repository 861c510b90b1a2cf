"""Stuck campaigns are re-driven from PostgreSQL: lost jobs are sent again, lost results reported again, once each."""

from __future__ import annotations

import uuid

from teleservices.shared.embedded.mailbox import SmtpSink
from teleservices.shared.messages.topics import NOTIFIER_EVENTS, NOTIFIER_JOBS, NOTIFIER_URGENT
from tests.support.campaigns import (
    UAI,
    establishment_with_five_families,
    finished,
    lose_everything_on,
    outbox_drained,
)
from tests.support.platform import PlatformUnderTest
from tests.support.waiting import eventually

MIXED = {"population": "responsable", "mode": "Courrier électronique et courrier papier"}
EMAILS = ["ines.caron@exemple.fr", "luc.blanc@exemple.fr", "sophie.arnaud@exemple.fr"]


def _quick_watch(platform: PlatformUnderTest) -> None:
    platform.env["TELESERVICES_ACCOUNTS_CAMPAIGN_STUCK_AFTER_S"] = "4"
    platform.env["TELESERVICES_ACCOUNTS_CAMPAIGN_WATCH_EVERY_S"] = "1"


async def _launch(platform: PlatformUnderTest) -> str:
    async with platform.client("accounts") as api:
        launched = await api.post(f"/api/v1/establishments/{UAI}/campaigns", json=MIXED)
    assert launched.status_code == 202, launched.text
    return str(launched.json()["id"])


async def _each_notified_once(platform: PlatformUnderTest) -> None:
    async with platform.database("accounts") as db:
        counts = await db.fetch(
            "SELECT count(*) AS n FROM account_history WHERE state = 'Notifié' GROUP BY account_id")
        assert await db.fetchval("SELECT count(*) FROM campaigns WHERE redriven_at IS NOT NULL") == 1
    assert [c["n"] for c in counts] == [1] * 5


async def test_jobs_lost_by_the_broker_are_sent_again(platform: PlatformUnderTest, smtp_sink: SmtpSink) -> None:
    _quick_watch(platform)
    platform.start("accounts")
    await establishment_with_five_families(platform)
    campaign = await _launch(platform)
    await eventually(lambda: outbox_drained(platform, "accounts"))
    assert await lose_everything_on(platform, NOTIFIER_JOBS) >= 3

    platform.start("notifier")
    progress = await eventually(lambda: finished(platform, campaign), within_s=120)
    assert progress["failures"] == [] and progress["done"] == 5
    assert sorted(m.recipients[0] for m in smtp_sink.store.list()) == EMAILS
    await _each_notified_once(platform)


async def test_results_lost_by_the_broker_are_reported_again_without_a_second_email(
        platform: PlatformUnderTest, smtp_sink: SmtpSink) -> None:
    _quick_watch(platform)
    platform.start("accounts")
    await establishment_with_five_families(platform)
    campaign = await _launch(platform)
    await eventually(lambda: outbox_drained(platform, "accounts"))
    platform.kill("accounts")

    platform.start("notifier")

    async def all_delivered() -> bool:
        async with platform.database("notifier") as db:
            return bool(await db.fetchval("SELECT count(*) = 5 FROM deliveries")) and await outbox_drained(
                platform, "notifier")

    await eventually(all_delivered, within_s=90)
    assert await lose_everything_on(platform, NOTIFIER_EVENTS) >= 5
    platform.start("accounts")
    progress = await eventually(lambda: finished(platform, campaign), within_s=120)
    assert progress["failures"] == [] and progress["done"] == 5
    assert sorted(m.recipients[0] for m in smtp_sink.store.list()) == EMAILS
    await _each_notified_once(platform)


async def test_a_single_letter_lost_by_the_broker_is_sent_again(platform: PlatformUnderTest,
                                                                smtp_sink: SmtpSink) -> None:
    _quick_watch(platform)
    platform.start("accounts")
    await establishment_with_five_families(platform)
    async with platform.client("accounts") as api:
        listed = (await api.get(f"/api/v1/establishments/{UAI}/accounts",
                                params={"population": "responsable", "nom": "Caron"})).json()["accounts"]
        sent = await api.post(f"/api/v1/accounts/{listed[0]['id']}/notifications", json={"channel": "email"})
    assert sent.status_code == 202, sent.text
    await eventually(lambda: outbox_drained(platform, "accounts"))
    assert await lose_everything_on(platform, NOTIFIER_URGENT) == 1
    platform.start("notifier")

    async def notified() -> bool:
        async with platform.database("accounts") as db:
            return bool(await db.fetchval("SELECT state = 'Notifié' FROM accounts WHERE id = $1",
                                          uuid.UUID(listed[0]["id"])))

    await eventually(notified, within_s=60)
    assert [m.recipients[0] for m in smtp_sink.store.list()] == ["ines.caron@exemple.fr"]
