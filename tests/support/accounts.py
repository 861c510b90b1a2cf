"""The accounts service in-process over the real servers, with staff clients and SIECLE feeding."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from teleservices.accounts.app import create_app
from teleservices.accounts.settings import AccountsSettings
from teleservices.shared.messages.catalog import Channel, NotificationDelivered
from teleservices.shared.messages.envelope import Envelope
from teleservices.shared.messages.topics import NOTIFIER_EVENTS
from teleservices.shared.security.staff import Menu, Role, StaffPrincipal, issue_staff_token
from teleservices.shared.settings import DatabaseSettings, Environment, KafkaSettings, SecretsSettings
from tests.support.siecle import Family, arrival_events, publish_siecle
from tests.support.waiting import eventually

OPERATOR = StaffPrincipal(user_id="op", display_name="Opérateur", role=Role.operateur_academique)


def chef(uai: str) -> StaffPrincipal:
    """The head of one establishment."""
    return StaffPrincipal(user_id=f"chef-{uai}", display_name=f"Chef {uai}", role=Role.chef, uais=(uai,))


def delegue(uai: str, *menus: Menu) -> StaffPrincipal:
    """A delegate of one establishment with some menus."""
    return StaffPrincipal(user_id=f"deleg-{uai}", display_name="Délégué", role=Role.delegue, uais=(uai,),
                          menus=tuple(menus))


@dataclass
class AccountsUnderTest:
    """A running accounts service and what tests need to drive it."""

    app: FastAPI
    settings: AccountsSettings

    def client(self, principal: StaffPrincipal = OPERATOR) -> httpx.AsyncClient:
        """An API client acting as this staff member."""
        token = issue_staff_token(principal, self.settings.secrets.staff_token_key.get_secret_value())
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://accounts",
                                 headers={"authorization": f"Bearer {token}"})

    async def establishment(self, uai: str, activate: bool = True, **fields: Any) -> None:
        """Create (and activate) an establishment."""
        async with self.client() as api:
            body = {"uai": uai, "name": f"Collège {uai}", "academy": "NANCY-METZ", **fields}
            assert (await api.post("/api/v1/establishments", json=body)).status_code == 201
            if activate:
                assert (await api.post(f"/api/v1/establishments/{uai}/activation")).status_code == 204

    async def enrol(self, uai: str, families: list[Family]) -> None:
        """Publish SIECLE arrivals and wait until every account exists."""
        await publish_siecle(self.settings.kafka.bootstrap_servers, self.settings.kafka.topic_prefix, uai,
                             arrival_events(uai, families))
        expected = len(families) + sum(len(f.representants) for f in families)
        await eventually(lambda: self._count_at_least(uai, expected))

    async def publish(self, uai: str, messages: list[Any]) -> None:
        """Publish SIECLE change events as the sync service would."""
        await publish_siecle(self.settings.kafka.bootstrap_servers, self.settings.kafka.topic_prefix, uai, messages)

    async def _count_at_least(self, uai: str, expected: int) -> bool:
        total = 0
        async with self.client() as api:
            for population in ("eleve", "responsable"):
                listed = await api.get(f"/api/v1/establishments/{uai}/accounts", params={"population": population})
                total += listed.json()["total"]
        return total >= expected

    async def accounts(self, uai: str, population: str, **filters: Any) -> list[dict[str, Any]]:
        """The establishment's accounts of a population."""
        async with self.client() as api:
            listed = await api.get(f"/api/v1/establishments/{uai}/accounts",
                                   params={"population": population, **filters})
            assert listed.status_code == 200, listed.text
            return list(listed.json()["accounts"])


@asynccontextmanager
async def running_accounts(database_url: str, bootstrap_servers: str, topic_prefix: str, idempotent: bool,
                           session_timeout_ms: int) -> AsyncIterator[AccountsUnderTest]:
    """Start the accounts service in this process (its lifespan: migrations, topics, consumers, relay)."""
    settings = AccountsSettings(
        environment=Environment.test,
        database=DatabaseSettings(url=database_url, pool_max_size=5),
        kafka=KafkaSettings(bootstrap_servers=bootstrap_servers, topic_prefix=topic_prefix,
                            idempotent_producer=idempotent, session_timeout_ms=session_timeout_ms),
        secrets=SecretsSettings(**{name: secrets.token_urlsafe(48) for name in SecretsSettings.model_fields}),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield AccountsUnderTest(app, settings)


def bearer_client(service: AccountsUnderTest, token: str | None) -> httpx.AsyncClient:
    """An API client sending this raw bearer token (None: no authorization header at all)."""
    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url="http://accounts",
                             headers=headers)


async def force_state(service: AccountsUnderTest, account_id: Any, state: str, email: str | None = None) -> None:
    """Put an account in a state directly in the database (as if the family had acted on the portal)."""
    async with service.app.state.runtime.db.transaction() as conn:
        await conn.execute("UPDATE accounts SET state = $2, notified_at = now(), email = coalesce($3, email)"
                           " WHERE id = $1", account_id, state, email)


async def audit_entries(service: AccountsUnderTest, uai: str, **params: Any) -> list[dict[str, Any]]:
    """An establishment's audit trail as an academy operator reads it, newest first."""
    async with service.client() as api:
        answer = await api.get(f"/api/v1/establishments/{uai}/audit", params=params)
        assert answer.status_code == 200, answer.text
        return list(answer.json())


def lenient_client(service: AccountsUnderTest, principal: StaffPrincipal = OPERATOR) -> httpx.AsyncClient:
    """Like `client`, but an unhandled error comes back as the 500 a real client would get, not as an exception."""
    token = issue_staff_token(principal, service.settings.secrets.staff_token_key.get_secret_value())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app, raise_app_exceptions=False),
                             base_url="http://accounts", headers={"authorization": f"Bearer {token}"})


async def report_delivered(accounts: AccountsUnderTest, uai: str, letters: list[tuple[str, str]]) -> None:
    """Report paper letters of an establishment delivered, as the notifier would, in one go: (notification,
    account) each."""
    producer = AIOKafkaProducer(bootstrap_servers=accounts.settings.kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        topic = NOTIFIER_EVENTS.full_name(accounts.settings.kafka.topic_prefix)
        sent = [await producer.send(topic, key=account_id.encode(), value=Envelope.wrap(NotificationDelivered(
            notification_id=uuid.UUID(notification_id), account_id=uuid.UUID(account_id), channel=Channel.paper,
            delivered_at=datetime.now(UTC)), uai=uai).to_bytes()) for notification_id, account_id in letters]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
