"""Calls to the other services' staff APIs, each with a short-lived staff token of the signed-in member."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from teleservices.shared.security.staff import StaffPrincipal, issue_staff_token

TOKEN_TTL_S = 60


class BackendError(Exception):
    """A service refused or failed a call: status, and the field and reason when it named them."""

    def __init__(self, status: int, field: str | None, reason: str):
        super().__init__(f"{status} {field}: {reason}")
        self.status = status
        self.field = field
        self.reason = reason

    @classmethod
    def from_response(cls, response: httpx.Response) -> BackendError:
        """Read FastAPI's error body: {"detail": str | {"field", "reason"} | [validation errors]}."""
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = None
        if isinstance(detail, dict):
            return cls(response.status_code, detail.get("field"), str(detail.get("reason", "")))
        if isinstance(detail, list) and detail:
            first = detail[0]
            loc = [str(part) for part in first.get("loc", []) if part not in ("body", "query", "path")]
            return cls(response.status_code, ".".join(loc) or None, str(first.get("msg", "valeur refusée")))
        return cls(response.status_code, None, str(detail or "le service n'a pas pu répondre"))


class Backend:
    """One HTTP client per service; the staff member's token on every call."""

    def __init__(self, urls: dict[str, str], notifier_urls: list[str], staff_secret: str):
        self._clients = {name: httpx.AsyncClient(base_url=url, timeout=60) for name, url in urls.items()}
        self._notifiers = [httpx.AsyncClient(base_url=url, timeout=60) for url in notifier_urls]
        self._next_notifier = itertools.cycle(range(max(len(self._notifiers), 1)))
        self._secret = staff_secret

    async def close(self) -> None:
        """Close every connection pool."""
        for client in [*self._clients.values(), *self._notifiers]:
            await client.aclose()

    def _client(self, service: str) -> httpx.AsyncClient:
        if service == "notifier":
            if not self._notifiers:
                raise BackendError(503, None, "aucun notifier n'est démarré")
            return self._notifiers[next(self._next_notifier)]
        return self._clients[service]

    def instances(self) -> list[tuple[str, httpx.AsyncClient]]:
        """Every service process the gateway knows, each notifier worker on its own (operations page)."""
        return [*self._clients.items(), *((f"notifier-{n}", c) for n, c in enumerate(self._notifiers, start=1))]

    async def request(self, staff: StaffPrincipal, service: str, method: str, path: str,
                      client: httpx.AsyncClient | None = None, **kwargs: Any) -> httpx.Response:
        """Call a service (or one given instance) as this staff member; any 4xx/5xx raises BackendError."""
        token = issue_staff_token(staff, self._secret, ttl_s=TOKEN_TTL_S)
        try:
            response = await (client or self._client(service)).request(
                method, path, headers={"authorization": f"Bearer {token}"}, **kwargs)
        except httpx.HTTPError as exc:
            raise BackendError(503, None, f"le service {service} ne répond pas") from exc
        if response.status_code >= 400:
            raise BackendError.from_response(response)
        return response

    async def json(self, staff: StaffPrincipal, service: str, method: str, path: str, **kwargs: Any) -> Any:
        """Call and decode JSON (None for an empty answer)."""
        response = await self.request(staff, service, method, path, **kwargs)
        return response.json() if response.content else None

    async def get(self, staff: StaffPrincipal, service: str, path: str, **kwargs: Any) -> Any:
        """GET as JSON."""
        return await self.json(staff, service, "GET", path, **kwargs)
