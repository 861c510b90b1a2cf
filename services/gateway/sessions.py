"""Server-side staff sessions: random id in an HttpOnly cookie, SHA-256 of it in the table, CSRF token per session.

A session is created before sign-in (it carries the CSRF token of the login form and the OIDC state), and
replaced by a new one at sign-in (rotation: the pre-login id is worthless afterwards). Sign-out deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from teleservices.shared.db import Database
from teleservices.shared.security.staff import StaffPrincipal

COOKIE = "ts_session"
PRE_LOGIN_TTL = timedelta(minutes=20)


def _hash(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()


@dataclass
class Session:
    """One browser's session."""

    id: str
    csrf: str
    principal: StaffPrincipal | None = None
    data: dict[str, Any] = field(default_factory=dict)
    fresh: bool = False
    """Created by this request: the response must set the cookie."""

    def csrf_matches(self, submitted: str | None) -> bool:
        """Whether a submitted form or header carries this session's CSRF token."""
        return bool(submitted) and hmac.compare_digest(submitted.encode(), self.csrf.encode())


class SessionStore:
    """Sessions in the gateway's schema, with an idle timeout and an absolute lifetime."""

    def __init__(self, db: Database, idle: timedelta, lifetime: timedelta):
        self.db = db
        self.idle = idle
        self.lifetime = lifetime

    async def load(self, session_id: str | None) -> Session | None:
        """The live session behind a cookie value (touching it), or None."""
        if not session_id or len(session_id) > 100:
            return None
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                "UPDATE staff_sessions SET last_seen_at = now() WHERE id_hash = $1 AND expires_at > now()"
                " AND (principal IS NULL OR last_seen_at > now() - $2::interval)"
                " RETURNING principal, csrf, data", _hash(session_id), self.idle)
        if row is None:
            return None
        principal = StaffPrincipal.model_validate(row["principal"]) if row["principal"] else None
        return Session(session_id, row["csrf"], principal, dict(row["data"] or {}))

    async def create(self, principal: StaffPrincipal | None = None, data: dict[str, Any] | None = None,
                     replacing: Session | None = None) -> Session:
        """A new session (a signed-in one when a principal is given), deleting the one it replaces."""
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), principal, data or {}, fresh=True)
        ttl = self.lifetime if principal else PRE_LOGIN_TTL
        async with self.db.transaction() as conn:
            if replacing is not None:
                await conn.execute("DELETE FROM staff_sessions WHERE id_hash = $1", _hash(replacing.id))
            await conn.execute(
                "INSERT INTO staff_sessions (id_hash, principal, csrf, data, expires_at)"
                " VALUES ($1, $2, $3, $4, now() + $5::interval)", _hash(session.id),
                principal.model_dump(mode="json") if principal else None, session.csrf, session.data, ttl)
            await conn.execute("DELETE FROM staff_sessions WHERE expires_at < now() - interval '1 day'")
        return session

    async def save_data(self, session: Session) -> None:
        """Keep the session's small data (flash messages, OIDC state)."""
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE staff_sessions SET data = $2 WHERE id_hash = $1", _hash(session.id),
                               session.data)

    async def delete(self, session: Session) -> None:
        """End a session (sign-out)."""
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM staff_sessions WHERE id_hash = $1", _hash(session.id))
