"""The audit trail of staff actions: who, when, what, on whom, from which establishment."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from teleservices.shared.security.staff import StaffPrincipal


async def record(conn: asyncpg.Connection, staff: StaffPrincipal, action: str, uai: str | None,
                 account_id: uuid.UUID | None = None, **details: Any) -> None:
    """Record a staff action in the caller's transaction (no personal data in `details`: ids only)."""
    await conn.execute(
        "INSERT INTO audit_log (actor_id, actor_name, actor_role, uai, action, account_id, details)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        staff.user_id, staff.display_name, staff.role.value, uai, action, account_id, details)


async def entries(conn: asyncpg.Connection, *, uai: str | None = None, account_id: uuid.UUID | None = None,
                  actor_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Audit entries, newest first, filtered by establishment, account and staff member."""
    rows = await conn.fetch(
        "SELECT at, actor_id, actor_name, actor_role, uai, action, account_id, details FROM audit_log"
        " WHERE ($1::text IS NULL OR uai = $1) AND ($2::uuid IS NULL OR account_id = $2)"
        " AND ($3::text IS NULL OR actor_id = $3) ORDER BY id DESC LIMIT $4",
        uai, account_id, actor_id, limit)
    return [dict(r) for r in rows]
