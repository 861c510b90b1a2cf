"""The sync service in-process over the real servers, sharing the accounts service's keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from teleservices.shared.cli.sync import export_files
from teleservices.shared.security.staff import StaffPrincipal, issue_staff_token
from teleservices.sync.app import create_app
from teleservices.sync.settings import SyncSettings
from tests.support.accounts import OPERATOR, AccountsUnderTest


@dataclass
class SyncUnderTest:
    """A running sync service."""

    app: FastAPI
    settings: SyncSettings

    def client(self, principal: StaffPrincipal = OPERATOR) -> httpx.AsyncClient:
        """An API client acting as this staff member."""
        token = issue_staff_token(principal, self.settings.secrets.staff_token_key.get_secret_value())
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://sync", timeout=60,
                                 headers={"authorization": f"Bearer {token}"})

    async def upload(self, folder: Path, uai: str | None = None, principal: StaffPrincipal = OPERATOR,
                     **params: Any) -> httpx.Response:
        """Upload an export folder's files (or one zip) to the importer."""
        path = f"/api/v1/establishments/{uai}/imports" if uai else "/api/v1/imports"
        async with self.client(principal) as api:
            return await api.post(path, params={k: str(v).lower() for k, v in params.items()},
                                  files=[("files", (f.name, f.read_bytes())) for f in export_files(folder)])


@asynccontextmanager
async def running_sync(accounts: AccountsUnderTest, data_dir: Path) -> AsyncIterator[SyncUnderTest]:
    """Start the sync service in this process beside the accounts service (same database, broker and keys)."""
    base = accounts.settings
    settings = SyncSettings(environment=base.environment, data_dir=data_dir, database=base.database,
                            kafka=base.kafka, secrets=base.secrets)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield SyncUnderTest(app, settings)
