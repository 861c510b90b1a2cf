"""The stats service in-process over the real servers, and events published as the other services would."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from teleservices.shared.messages import catalog, portal, siecle
from teleservices.shared.messages.envelope import Envelope, Message
from teleservices.shared.messages.topics import (
    ACCOUNTS_EVENTS,
    NOTIFIER_EVENTS,
    NOTIFIER_JOBS,
    PORTAL_EVENTS,
    SYNC_EVENTS,
    Topic,
)
from teleservices.shared.security.staff import Role, StaffPrincipal, issue_staff_token
from teleservices.shared.settings import DatabaseSettings, Environment, KafkaSettings, SecretsSettings
from teleservices.stats.app import create_app
from teleservices.stats.settings import StatsSettings
from tests.support.waiting import eventually

OPERATOR = StaffPrincipal(user_id="op", display_name="Opérateur", role=Role.operateur_academique,
                          academy="NANCY-METZ")


def route(payload: Message) -> tuple[Topic, str]:
    """The topic and key the producing service uses for this message."""
    if isinstance(payload, siecle.EleveArrived | siecle.EleveChanged | siecle.EleveLeft | siecle.ImportApplied
                  | siecle.PersonneChanged | siecle.LienAdded | siecle.LienChanged | siecle.LienRemoved):
        return SYNC_EVENTS, payload.uai
    if isinstance(payload, catalog.EstablishmentCreated):
        return ACCOUNTS_EVENTS, payload.uai
    if isinstance(payload, catalog.NotifyBatch):
        return NOTIFIER_JOBS, f"{payload.campaign_id}:{payload.division}:{payload.chunk}"
    if isinstance(payload, catalog.NotificationDelivered | catalog.NotificationFailed):
        return NOTIFIER_EVENTS, str(payload.account_id)
    if isinstance(payload, portal.LoggedIn | portal.ServiceOpened | portal.FirstConnectionCompleted):
        return PORTAL_EVENTS, str(payload.account_id)
    return ACCOUNTS_EVENTS, str(payload.account_id)  # type: ignore[attr-defined]


@dataclass
class StatsUnderTest:
    """A running stats service and what tests need to drive it."""

    app: FastAPI
    settings: StatsSettings

    def client(self, principal: StaffPrincipal = OPERATOR) -> httpx.AsyncClient:
        """An API client acting as this staff member."""
        token = issue_staff_token(principal, self.settings.secrets.staff_token_key.get_secret_value())
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://stats",
                                 headers={"authorization": f"Bearer {token}"})

    async def publish(self, messages: Sequence[Message | Envelope], uai: str | None = None) -> None:
        """Publish events on their topics with their keys, then wait until the stats consumed them all."""
        envelopes = [m if isinstance(m, Envelope) else Envelope.wrap(m, uai=uai or getattr(m, "uai", None))
                     for m in messages]
        await publish(self.settings.kafka, envelopes)
        await self.wait_for(envelopes)

    async def wait_for(self, envelopes: Sequence[Envelope]) -> None:
        """Wait until every one of these events is recorded as processed."""
        ids = list({e.event_id for e in envelopes})

        async def consumed() -> bool:
            async with self.app.state.runtime.db.connection() as conn:
                done = await conn.fetchval("SELECT count(*) FROM processed_messages WHERE event_id = ANY($1)", ids)
            return bool(done == len(ids))

        await eventually(consumed, within_s=90)

    async def synthesis(self, uai: str, synthese: str, principal: StaffPrincipal = OPERATOR) -> dict[str, Any]:
        """One screen's tables as JSON."""
        async with self.client(principal) as api:
            answer = await api.get(f"/api/v1/establishments/{uai}/stats/{synthese}")
            assert answer.status_code == 200, answer.text
            return dict(answer.json())


async def publish(kafka: KafkaSettings, envelopes: Sequence[Envelope]) -> None:
    """Send envelopes as their producing services would (topic and key per message type)."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = []
        for envelope in envelopes:
            topic, key = route(envelope.open())
            sent.append(await producer.send(topic.full_name(kafka.topic_prefix), value=envelope.to_bytes(),
                                            key=key.encode()))
        for future in sent:
            await future
    finally:
        await producer.stop()


def stats_settings(database_url: str, bootstrap_servers: str, topic_prefix: str, idempotent: bool,
                   session_timeout_ms: int) -> StatsSettings:
    """Settings of a stats service on the test's servers."""
    return StatsSettings(
        environment=Environment.test,
        database=DatabaseSettings(url=database_url, pool_max_size=5),
        kafka=KafkaSettings(bootstrap_servers=bootstrap_servers, topic_prefix=topic_prefix,
                            idempotent_producer=idempotent, session_timeout_ms=session_timeout_ms),
        secrets=SecretsSettings(**{name: secrets.token_urlsafe(48) for name in SecretsSettings.model_fields}),
    )


@asynccontextmanager
async def running_stats(settings: StatsSettings) -> AsyncIterator[StatsUnderTest]:
    """Start the stats service in this process (its lifespan: migrations, topics, consumer, relay)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield StatsUnderTest(app, settings)


def pupil(uai: str, eleve_id: str, division: str, code_mef: str, libelle_mef: str) -> siecle.EleveArrived:
    """A pupil's arrival as the sync service reports it."""
    return siecle.EleveArrived(uai=uai, eleve=siecle.EleveData(
        eleve_id=eleve_id, nom="Élève", prenom=eleve_id, division=division, code_mef=code_mef,
        libelle_mef=libelle_mef))


def account(uai: str, eleve_id: str, population: str, at: datetime, personne_id: str | None = None,
            account_id: uuid.UUID | None = None) -> tuple[uuid.UUID, list[Message]]:
    """A pre-created account attached to a pupil, as the accounts service announces it."""
    account_id = account_id or uuid.uuid4()
    kind = catalog.Population(population)
    return account_id, [
        catalog.AccountCreated(account_id=account_id, uai=uai, population=kind, identifiant=f"id.{account_id.hex[:8]}"),
        catalog.AccountAttached(account_id=account_id, uai=uai, eleve_id=eleve_id, personne_id=personne_id,
                                population=kind, at=at)]


def moved(account_id: uuid.UUID, uai: str, population: str, previous: str, state: str,
          at: datetime) -> catalog.AccountStateChanged:
    """A state change as the accounts service announces it."""
    return catalog.AccountStateChanged(account_id=account_id, uai=uai, population=catalog.Population(population),
                                       previous_state=previous, state=state, cause="test", changed_at=at)
