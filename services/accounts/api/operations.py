"""Academy-level operations: expiry (run or preview) and the accounts due to expire."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from teleservices.accounts.api.deps import scoped
from teleservices.accounts.domain.model import NotAllowed
from teleservices.accounts.expiry import Expiry
from teleservices.shared.security.staff import Role
from teleservices.shared.web import Staff

router = APIRouter(prefix="/api/v1", tags=["exploitation"])


def _expiry(request: Request) -> Expiry:
    expiry: Expiry = request.app.state.expiry
    return expiry


@router.post("/admin/expiry")
async def run_expiry(request: Request, staff: Staff, dry_run: bool = False) -> dict[str, Any]:
    """Delete the accounts past their delay now (academy operators; `dry_run` only lists them)."""
    if staff.role is not Role.operateur_academique:
        raise NotAllowed("role", "réservé aux opérateurs académiques")
    expired = await _expiry(request).run(dry_run=dry_run)
    return {"dry_run": dry_run, "count": len(expired), "accounts": expired}


@router.get("/establishments/{uai}/expiring")
async def expiring(uai: str, request: Request, staff: Staff,
                   jours: Annotated[int, Query(ge=1, le=365)] = 15) -> list[dict[str, Any]]:
    """Accounts due to expire in the next days (15 by default)."""
    scoped(staff, uai)
    return await _expiry(request).due(uai, timedelta(days=jours))
