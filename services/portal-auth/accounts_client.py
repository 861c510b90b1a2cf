"""The accounts service's read-only internal API, as the portal calls it (one signed token per request)."""

from __future__ import annotations

import time
import uuid
from datetime import date
from typing import Any

import httpx

from teleservices.shared.security.signing import derive_key, sign

TOKEN_HEADER = "x-portal-token"  # noqa: S105 — a header name
TOKEN_PURPOSE = "portal-to-accounts"  # noqa: S105 — a key-derivation label
"""Same sub-key purpose as services/accounts/api/portal.py (the contract between the two services)."""


class AccountsUnavailable(Exception):
    """The accounts service did not answer (the page says to try again later)."""


class AccountsClient:
    """Reads what the portal shows but does not own: children, address, establishment home page."""

    def __init__(self, base_url: str, link_key: str, transport: httpx.AsyncBaseTransport | None = None):
        self._key = derive_key(link_key, TOKEN_PURPOSE)
        self._base_url = base_url
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Open the connection pool (service lifespan)."""
        self._client = httpx.AsyncClient(base_url=self._base_url, transport=self._transport, timeout=5.0)

    async def stop(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _token(self, account_id: uuid.UUID) -> str:
        return sign({"aud": "accounts", "acc": str(account_id), "exp": int(time.time()) + 60}, self._key)

    async def view(self, account_id: uuid.UUID) -> dict[str, Any]:
        """The account's holder, children and establishment (settings as they are now)."""
        if self._client is None:
            raise AccountsUnavailable("client not started")
        try:
            answer = await self._client.get(f"/internal/portal/accounts/{account_id}",
                                            headers={TOKEN_HEADER: self._token(account_id)})
        except httpx.HTTPError as exc:
            raise AccountsUnavailable(type(exc).__name__) from exc
        if answer.status_code != 200:
            raise AccountsUnavailable(str(answer.status_code))
        view: dict[str, Any] = answer.json()
        for eleve in view.get("eleves", []):
            if eleve.get("date_naissance"):
                eleve["date_naissance"] = date.fromisoformat(eleve["date_naissance"])
        return view
