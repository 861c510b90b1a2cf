"""Expiry of unused accounts (guide §1.4.1): scheduled nightly, and `teleservices accounts expire`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from teleservices.accounts import lifecycle
from teleservices.accounts import repository as repo
from teleservices.accounts.domain.model import AccountState
from teleservices.accounts.settings import AccountsSettings
from teleservices.shared.db import Database

log = logging.getLogger(__name__)
NIGHTLY_AT = time(2, 30)


@dataclass
class Expiry:
    """Deletes accounts past their delay and lists those due soon."""

    db: Database
    settings: AccountsSettings

    @property
    def notified_delay(self) -> timedelta:
        """Notifié / En cours d'activation accounts live this long after their last notification."""
        return timedelta(days=self.settings.notified_expiry_days)

    @property
    def unused_delay(self) -> timedelta:
        """Utilisé accounts live this long after their last login."""
        return timedelta(days=self.settings.unused_expiry_days)

    async def run(self, at: datetime | None = None, dry_run: bool = False) -> list[dict[str, Any]]:
        """Expire what is due now (or only list it)."""
        at = at or lifecycle.now()
        async with self.db.transaction() as conn:
            expired = await lifecycle.expire_accounts(conn, self.notified_delay, self.unused_delay, at, dry_run)
        log.info("accounts expiry", extra={"expired": len(expired), "dry_run": dry_run})
        return [{"id": a.id, "uai": a.uai, "identifiant": a.identifiant, "state": a.state} for a in expired]

    async def due(self, uai: str, within: timedelta, at: datetime | None = None) -> list[dict[str, Any]]:
        """The establishment's accounts that will expire within the period, soonest first."""
        at = at or lifecycle.now()
        async with self.db.connection() as conn:
            rows = await conn.fetch(
                "SELECT a.* FROM accounts a JOIN rattachements r ON r.account_id = a.id"
                " WHERE r.uai = $1 AND r.detached_at IS NULL AND a.closed_at IS NULL AND a.state <> $2",
                uai, AccountState.non_notifie.value)
        due = []
        for row in rows:
            account = repo.account_from_row(row)
            expires = account.expires_at(self.notified_delay, self.unused_delay)
            if expires is not None and expires <= at + within:
                due.append({"id": account.id, "identifiant": account.identifiant, "state": account.state,
                            "population": account.population, "expires_at": expires})
        return sorted(due, key=lambda d: d["expires_at"])

    async def nightly(self) -> None:
        """Run every night at 02:30 (server time) until cancelled."""
        while True:
            now = datetime.now().astimezone()
            next_run = datetime.combine(now.date(), NIGHTLY_AT, tzinfo=now.tzinfo)
            if next_run <= now:
                next_run += timedelta(days=1)
            await asyncio.sleep((next_run - now).total_seconds())
            await self.run()
