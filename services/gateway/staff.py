"""Local staff accounts: created by `teleservices staff add`, used to sign in on the embedded default."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, StringConstraints, model_validator

from teleservices.shared.security.passwords import hash_password
from teleservices.shared.security.staff import Role
from teleservices.shared.web import Staff

router = APIRouter(prefix="/api/v1")
Uai = Annotated[str, StringConstraints(pattern=r"^[0-9]{7}[A-Z]$")]


class StaffUserIn(BaseModel):
    """A local staff account."""

    login: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,62}$", examples=["chef.0540001a"])
    display_name: str = Field(min_length=1, max_length=200, examples=["Mme la principale"])
    role: Role
    academy: str | None = Field(default=None, max_length=100)
    uais: list[Uai] = Field(default_factory=list, max_length=50)
    menus: list[str] = Field(default_factory=list, max_length=20)
    password: str = Field(min_length=12, max_length=200)

    @model_validator(mode="after")
    def _establishments_for_school_staff(self) -> StaffUserIn:
        if self.role is not Role.operateur_academique and not self.uais:
            raise ValueError("uais: un chef ou un délégué doit être rattaché à au moins un établissement")
        return self


@router.post("/staff", status_code=201)
async def add_staff_user(body: StaffUserIn, staff: Staff, request: Request) -> dict[str, str]:
    """Create a local staff account (academy operators)."""
    if staff.role is not Role.operateur_academique:
        raise HTTPException(403, detail="Réservé aux opérateurs académiques.")
    db = request.app.state.runtime.db
    async with db.transaction() as conn:
        inserted = await conn.fetchval(
            "INSERT INTO staff_users (login, display_name, role, academy, uais, menus, password_hash)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING login",
            body.login, body.display_name, body.role.value, body.academy, body.uais, body.menus,
            hash_password(body.password))
    if inserted is None:
        raise HTTPException(409, detail={"field": "login", "reason": "ce login existe déjà"})
    return {"login": body.login}
