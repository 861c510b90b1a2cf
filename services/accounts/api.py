"""Staff REST API of the accounts service (/api/v1), scoped by the staff token."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, EmailStr, Field

from teleservices.accounts.domain.model import ActionRefused
from teleservices.accounts.repository import AlreadyExists, NotFound
from teleservices.accounts.service import AccountsService
from teleservices.shared.messages.catalog import Channel, Population
from teleservices.shared.security.staff import Role
from teleservices.shared.web import Staff, require_establishment

router = APIRouter(prefix="/api/v1")
UAI_PATTERN = r"^[0-9]{7}[A-Z]$"


def _service(request: Request) -> AccountsService:
    service: AccountsService = request.app.state.accounts
    return service


Service = Annotated[AccountsService, Depends(_service)]


def refusal(field: str, reason: str, status: int = 422) -> HTTPException:
    """A 4xx naming the field and the reason."""
    return HTTPException(status, detail={"field": field, "reason": reason})


class EstablishmentIn(BaseModel):
    """An establishment created by an academy operator."""

    uai: str = Field(pattern=UAI_PATTERN, examples=["0540001A"])
    name: str = Field(min_length=1, max_length=200, examples=["Collège Langevin Wallon"])
    academy: str = Field(min_length=1, max_length=100, examples=["NANCY-METZ"])
    town: str | None = Field(default=None, max_length=100, examples=["BLAINVILLE-SUR-L'EAU"])


class AccountIn(BaseModel):
    """An account created by staff (accounts normally come from the SIECLE import)."""

    population: Population
    civilite: str | None = Field(default=None, max_length=10, examples=["MME"])
    nom: str = Field(min_length=1, max_length=100, examples=["Dupont"])
    prenom: str = Field(min_length=1, max_length=100, examples=["Philippe"])
    email: EmailStr | None = None
    address_lines: list[str] = Field(default_factory=list, max_length=6)


class NotificationIn(BaseModel):
    """Notify, renotify, or reset the password and notify."""

    channel: Channel = Field(examples=["email"])
    reset_password: bool = False


@router.post("/establishments", status_code=201)
async def add_establishment(body: EstablishmentIn, staff: Staff, service: Service) -> dict[str, str]:
    """Create an establishment (academy operators only)."""
    if staff.role is not Role.operateur_academique:
        raise HTTPException(403, detail="Réservé aux opérateurs académiques.")
    try:
        await service.add_establishment(body.uai, body.name, body.academy, body.town)
    except AlreadyExists as exc:
        raise refusal("uai", "un établissement porte déjà cet UAI", 409) from exc
    return {"uai": body.uai}


@router.post("/establishments/{uai}/activation", status_code=204)
async def activate(uai: str, staff: Staff, service: Service) -> None:
    """Activate téléservices for the establishment (guide §2.1)."""
    require_establishment(staff, uai)
    try:
        await service.activate_teleservices(uai)
    except NotFound as exc:
        raise HTTPException(404, detail="Établissement inconnu.") from exc


@router.post("/establishments/{uai}/accounts", status_code=201)
async def create_account(uai: str, body: AccountIn, staff: Staff, service: Service) -> dict[str, Any]:
    """Pre-create an account (state Non notifié)."""
    require_establishment(staff, uai)
    try:
        account = await service.create_account(uai, body.population, body.model_dump())
    except NotFound as exc:
        raise HTTPException(404, detail="Établissement inconnu.") from exc
    return {"id": account.id, "identifiant": account.identifiant, "state": account.state}


async def _scoped_account(account_id: uuid.UUID, staff: Staff, service: Service) -> uuid.UUID:
    try:
        uai = await service.account_uai(account_id)
    except NotFound as exc:
        raise HTTPException(404, detail="Compte inconnu.") from exc
    require_establishment(staff, uai)
    return account_id


ScopedAccount = Annotated[uuid.UUID, Depends(_scoped_account)]


@router.get("/accounts/{account_id}")
async def get_account(account_id: ScopedAccount, service: Service) -> dict[str, Any]:
    """One account with its state history."""
    return await service.account_view(account_id)


@router.post("/accounts/{account_id}/notifications", status_code=202)
async def notify(account_id: ScopedAccount, body: NotificationIn, staff: Staff, service: Service) -> dict[str, Any]:
    """Launch a notification; the account changes only when the letter is delivered."""
    try:
        notification_id = await service.launch_notification(account_id, body.channel, body.reset_password,
                                                            actor=staff.user_id)
    except ActionRefused as exc:
        raise refusal(exc.field, exc.reason, 409) from exc
    return {"notification_id": notification_id}
