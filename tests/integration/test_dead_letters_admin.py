"""Operators read a service's dead letters and put one back on its topic; the consumer reads it again."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer

from teleservices.shared.messages.topics import NOTIFIER_JOBS
from tests.support.accounts import chef
from tests.support.platform import PlatformUnderTest
from tests.support.waiting import eventually


async def _dead_letters(platform: PlatformUnderTest) -> list[dict[str, Any]]:
    async with platform.client("notifier") as api:
        answer = await api.get("/admin/dead-letters")
    assert answer.status_code == 200, answer.text
    return list(answer.json())


async def test_a_dead_letter_is_listed_and_replayed_once(platform: PlatformUnderTest) -> None:
    platform.start("notifier")
    producer = AIOKafkaProducer(bootstrap_servers=platform.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(NOTIFIER_JOBS.full_name(platform.topic_prefix), b'{"pas": "une enveloppe"}',
                                     key=b"k")
    finally:
        await producer.stop()

    async def listed(count: int) -> list[dict[str, Any]] | None:
        found = await _dead_letters(platform)
        return found if len(found) == count else None

    [first] = await eventually(lambda: listed(1), within_s=60)
    assert first["consumer"] == "notifier.jobs" and first["topic"].endswith("notifier.jobs")
    assert first["replayed_at"] is None
    async with platform.client("notifier", chef("0540001A")) as head:
        assert (await head.get("/admin/dead-letters")).status_code == 403
        assert (await head.post(f"/admin/dead-letters/{first['id']}/replay")).status_code == 403
    async with platform.client("notifier") as api:
        replayed = await api.post(f"/admin/dead-letters/{first['id']}/replay")
        assert replayed.status_code == 200 and replayed.json() == {"topic": "notifier.jobs"}
        again = await api.post(f"/admin/dead-letters/{first['id']}/replay")
        assert again.status_code == 409 and again.json()["detail"]["field"] == "dead_letter_id"

    second, first_now = await eventually(lambda: listed(2), within_s=60)  # still unreadable: dead again
    assert first_now["id"] == first["id"] and first_now["replayed_at"] is not None
    assert second["replayed_at"] is None
