"""Campaign tests' common ground: an establishment with five families over three divisions, and waiting for the end."""

from __future__ import annotations

import re
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from teleservices.shared.embedded.mailbox import SmtpSink
from teleservices.shared.messages.topics import Topic
from tests.support.platform import PlatformUnderTest
from tests.support.siecle import family
from tests.support.waiting import eventually

UAI = "0540001A"


async def establishment_with_five_families(platform: PlatformUnderTest) -> None:
    """Three representatives with an email, two without, in divisions 3A, 3B and 3C."""
    async with platform.client("accounts") as api:
        assert (await api.post("/api/v1/establishments", json={
            "uai": UAI, "name": "Collège Langevin Wallon", "academy": "NANCY-METZ", "town": "BLAINVILLE",
            "address_lines": ["40 rue du Rendez-Vous"], "chef_civilite": "M.", "chef_nom": "E. Martin"})
                ).status_code == 201
        assert (await api.post(f"/api/v1/establishments/{UAI}/activation")).status_code == 204
    await platform.enrol(UAI, [
        family(nom="Arnaud", division="3A", parents=(("Sophie", "sophie.arnaud@exemple.fr"),)),
        family(nom="Blanc", division="3A", parents=(("Luc", "luc.blanc@exemple.fr"),)),
        family(nom="Caron", division="3B", parents=(("Inès", "ines.caron@exemple.fr"),)),
        family(nom="Dubois", division="3B", parents=(("Paul", None),)),
        family(nom="Evrard", division="3C", parents=(("Léa", None),)),
    ])

    async def all_there() -> bool:
        async with platform.client("accounts") as api:
            listed = await api.get(f"/api/v1/establishments/{UAI}/accounts", params={"population": "responsable"})
            return bool(listed.json()["total"] == 5)

    await eventually(all_there)


async def many_families(platform: PlatformUnderTest, count: int) -> None:
    """`count` families over divisions 4A, 4B and 4C, each representative with his own address."""
    async with platform.client("accounts") as api:
        assert (await api.post("/api/v1/establishments", json={
            "uai": UAI, "name": "Collège Langevin Wallon", "academy": "NANCY-METZ"})).status_code == 201
        assert (await api.post(f"/api/v1/establishments/{UAI}/activation")).status_code == 204
    await platform.enrol(UAI, [family(nom=f"Famille{n:03d}", division=f"4{'ABC'[n % 3]}",
                                      parents=(("Camille", f"famille{n:03d}@exemple.fr"),)) for n in range(count)])

    async def all_there() -> bool:
        async with platform.client("accounts") as api:
            listed = await api.get(f"/api/v1/establishments/{UAI}/accounts", params={"population": "responsable"})
            return bool(listed.json()["total"] == count)

    await eventually(all_there)


def one_password_each(sink: SmtpSink) -> dict[str, set[str]]:
    """Every recipient's passwords over every email he got (a retry may resend, never a second password)."""
    passwords: dict[str, set[str]] = {}
    for summary in sink.store.list():
        text = sink.store.get(summary.id).text or ""
        match = re.search(r"Mot de passe : (\S+)", text)
        passwords.setdefault(summary.recipients[0], set()).add(match.group(1) if match else "")
    return passwords


async def all_notified_once(platform: PlatformUnderTest, count: int) -> None:
    """Exactly `count` accounts went to « Notifié », each once."""
    async with platform.database("accounts") as db:
        transitions = await db.fetch(
            "SELECT account_id, count(*) AS n FROM account_history WHERE state = 'Notifié' GROUP BY account_id")
    assert len(transitions) == count and all(t["n"] == 1 for t in transitions)


async def finished(platform: PlatformUnderTest, campaign_id: str) -> dict[str, Any] | None:
    """The campaign's progress once every letter has a result, else None."""
    async with platform.client("accounts") as api:
        progress = (await api.get(f"/api/v1/campaigns/{campaign_id}")).json()
    return progress if progress["finished"] else None


async def outbox_drained(platform: PlatformUnderTest, service: str) -> bool:
    """Every message the service wrote has left its outbox for the broker."""
    async with platform.database(service) as db:
        return bool(await db.fetchval("SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL"))


async def lose_everything_on(platform: PlatformUnderTest, topic: Topic) -> int:
    """Delete every record the broker holds on a topic, as a broker that lost its log would; return how many."""
    name = topic.full_name(platform.topic_prefix)
    partitions = [TopicPartition(name, p) for p in range(topic.partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=platform.bootstrap_servers)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
    finally:
        await consumer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.bootstrap_servers)
    await admin.start()
    try:
        await admin.delete_records({tp: RecordsToDelete(before_offset=ends[tp]) for tp in partitions if ends[tp]})
    finally:
        await admin.close()
    return sum(ends[tp] - starts[tp] for tp in partitions)
