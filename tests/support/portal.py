"""The families' portal in-process beside the accounts service, and what tests need to drive it as a family."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from teleservices.portal_auth.app import create_app
from teleservices.portal_auth.settings import PortalAuthSettings
from tests.support.accounts import AccountsUnderTest, report_delivered
from tests.support.siecle import Family, family
from tests.support.waiting import eventually

U = "0540001A"
BIRTH = date(2011, 2, 28)
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@dataclass
class PortalUnderTest:
    """A running portal and its accounts service."""

    app: FastAPI
    settings: PortalAuthSettings
    accounts: AccountsUnderTest

    def browser(self, address: str = "203.0.113.7") -> httpx.AsyncClient:
        """A family's browser (own cookies), from a client address."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://portal", follow_redirects=False)

    async def credential(self, account_id: Any) -> Any:
        """The portal's credential row of an account."""
        async with self.app.state.runtime.db.connection() as conn:
            return await conn.fetchrow("SELECT * FROM credentials WHERE account_id = $1", uuid.UUID(str(account_id)))

    async def sql(self, query: str, *args: Any) -> Any:
        """Run SQL on the portal's schema (to age a lock or a link in a test)."""
        async with self.app.state.runtime.db.connection() as conn:
            return await conn.fetch(query, *args)

    async def commands(self, type_: str) -> list[dict[str, Any]]:
        """The commands the portal queued for the notifier (newest last), as the notifier will read them."""
        rows = await self.sql("SELECT envelope FROM outbox WHERE topic IN ('notifier.jobs', 'notifier.urgent')"
                             " ORDER BY created_at")
        out = []
        for row in rows:
            envelope = json.loads(row["envelope"])
            if envelope["type"] == type_:
                out.append(envelope["payload"])
        return out

    async def events(self, type_: str) -> list[dict[str, Any]]:
        """The events the portal published on portal.events."""
        rows = await self.sql("SELECT envelope FROM outbox WHERE topic = 'portal.events' ORDER BY created_at")
        return [json.loads(r["envelope"])["payload"] for r in rows if json.loads(r["envelope"])["type"] == type_]


@asynccontextmanager
async def running_portal(accounts: AccountsUnderTest, **overrides: Any) -> AsyncIterator[PortalUnderTest]:
    """Start the portal in this process, sharing the accounts service's database, broker and secrets."""
    base = accounts.settings
    settings = PortalAuthSettings(environment=base.environment, database=base.database, kafka=base.kafka,
                                  secrets=base.secrets, **{"public_url": "http://portal", "cookie_secure": False,
                                                           **overrides})
    app = create_app(settings, accounts_transport=httpx.ASGITransport(app=accounts.app))
    async with app.router.lifespan_context(app):
        yield PortalUnderTest(app, settings, accounts)


def family_born(born: date = BIRTH, **kwargs: Any) -> Family:
    """A family whose pupil has a known birth date."""
    made = family(**kwargs)
    return Family(made.eleve.model_copy(update={"date_naissance": born}), made.representants)


async def csrf(client: httpx.AsyncClient, path: str = "/connexion") -> str:
    """The form token of a page, as a browser would read it."""
    page = await client.get(path)
    match = _CSRF.search(page.text)
    assert match, page.text
    return match.group(1)


async def post(client: httpx.AsyncClient, path: str, form: dict[str, str], page: str | None = None) -> httpx.Response:
    """Submit a form with the token of the page it is on."""
    return await client.post(path, data={"csrf": await csrf(client, page or path), **form})


async def login(client: httpx.AsyncClient, identifiant: str, password: str) -> httpx.Response:
    """Submit the login form."""
    return await post(client, "/connexion", {"identifiant": identifiant, "mot_de_passe": password})


async def deliver(accounts: AccountsUnderTest, notification_id: str, account_id: str) -> None:
    """Report a letter delivered, as the notifier would."""
    await report_delivered(accounts, U, [(notification_id, account_id)])


async def notified(portal: PortalUnderTest, account: dict[str, Any]) -> str:
    """Notify an account on paper, report the letter delivered, wait for the portal to know it; its password."""
    accounts = portal.accounts
    async with accounts.client() as api:
        launched = await api.post(f"/api/v1/accounts/{account['id']}/notifications", json={"channel": "paper"})
        assert launched.status_code == 202, launched.text
        await deliver(accounts, launched.json()["notification_id"], account["id"])

        async def known() -> str | None:
            row = await portal.credential(account["id"])
            if row is None or row["state"] != "Notifié" or not row["temp_password_hash"]:
                return None
            answer = await api.get(f"/api/v1/accounts/{account['id']}/temporary-password")
            return str(answer.json()["temporary_password"]) if answer.status_code == 200 else None

        return await eventually(known)


async def ready_family(portal: PortalUnderTest, *families: Family) -> dict[str, list[dict[str, Any]]]:
    """An activated establishment with these families enrolled; their accounts by population."""
    await portal.accounts.establishment(U)
    await portal.accounts.enrol(U, list(families) or [family_born()])
    return {p: await portal.accounts.accounts(U, p) for p in ("responsable", "eleve")}


def link_in(text: str, path: str) -> str:
    """The portal link (path and query) found in an email or command."""
    match = re.search(rf"https?://[^\s/]+({re.escape(path)}\?jeton=[A-Za-z0-9_.\-]+)", text)
    assert match, text
    return match.group(1)


CHOSEN = "Cartable2024"


async def in_use(portal: PortalUnderTest, account: dict[str, Any], email: str = "parent@exemple.fr") -> str:
    """Take an account through its first connection (and activation link) to Utilisé; its chosen password."""
    temporary = await notified(portal, account)
    async with portal.browser() as client:
        assert (await login(client, account["identifiant"], temporary)).status_code == 303
        done = await post(client, "/premiere-connexion", {"mot_de_passe": CHOSEN, "confirmation": CHOSEN,
                                                          "date_naissance": "28/02/2011", "email": email})
        assert done.status_code == 303, done.text
    if (await portal.credential(account["id"]))["population"] == "responsable":
        command = (await portal.commands("notifier.SendActivationEmail"))[-1]
        link = link_in(command["activation_url"], "/activation")
        async with portal.browser() as click:
            await post(click, "/activation", {"jeton": link.split("jeton=")[1]}, page=link)

    async def used() -> bool:
        async with portal.accounts.client() as api:
            return bool((await api.get(f"/api/v1/accounts/{account['id']}")).json()["state"] == "Utilisé")

    await eventually(used)
    return CHOSEN


def start_with_portal(platform: Any, *others: str) -> str:
    """Start accounts, the given services and the portal as processes wired to each other; the portal's URL."""
    from teleservices.shared.embedded.brokers import free_port
    from teleservices.shared.embedded.processes import ServiceProcess

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    platform.env.update({"TELESERVICES_ACCOUNTS_PORTAL_URL": url, "TELESERVICES_NOTIFIER_PORTAL_URL": url})
    platform.start("accounts", *others)
    env = {**platform.env, "TELESERVICES_PORTAL_AUTH_HTTP_PORT": str(port),
           "TELESERVICES_PORTAL_AUTH_PUBLIC_URL": url, "TELESERVICES_PORTAL_AUTH_COOKIE_SECURE": "false",
           "TELESERVICES_PORTAL_AUTH_ACCOUNTS_URL": platform.processes["accounts"].url}
    process = ServiceProcess("portal-auth", "portal-auth", env, port, platform.workdir / "logs" / "portal-auth.log")
    platform.processes["portal-auth"] = process
    process.start()
    process.wait_ready()
    return url
