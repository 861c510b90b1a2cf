"""The portal's share of data protection: the information notice on every page, and connections kept a year."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from teleservices.portal_auth import store
from tests.support.accounts import AccountsUnderTest
from tests.support.portal import PortalUnderTest, running_portal


@pytest.fixture
async def portal(accounts: AccountsUnderTest) -> AsyncIterator[PortalUnderTest]:
    async with running_portal(accounts) as running:
        yield running


async def test_every_page_links_to_the_notice_which_names_controller_periods_rights_and_the_act(
        portal: PortalUnderTest) -> None:
    async with portal.browser() as browser:
        login = await browser.get("/connexion")
        notice = await browser.get("/donnees-personnelles")
    assert 'href="/donnees-personnelles"' in login.text
    assert notice.status_code == 200
    text = notice.text
    for expected in ("chef de votre établissement est responsable du traitement", "arrêté du 30 novembre 2006",
                     "legifrance.gouv.fr", "92 jours après sa notification", "90 jours après l'import",
                     "conservé 365 jours", "rectifier", "cnil.fr"):
        assert expected in text, expected


async def test_connections_are_purged_after_the_retention_period_with_a_simulated_clock(
        portal: PortalUnderTest) -> None:
    account = uuid.uuid4()
    logged_at = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    async with portal.app.state.runtime.db.transaction() as conn:
        await store.log_connection(conn, account, "connexion", logged_at)
    for day, kept in ((364, 1), (366, 0)):
        async with portal.app.state.runtime.db.transaction() as conn:
            await store.purge(conn, connection_log_days=365, now=logged_at + timedelta(days=day))
        rows = await portal.sql("SELECT count(*) AS n FROM connection_log WHERE account_id = $1", account)
        assert rows[0]["n"] == kept, f"day {day}"
