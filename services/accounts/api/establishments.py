"""Establishments: creation and edition (academy operators), contact details (their staff), activation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from teleservices.accounts.api.deps import UAI_PATTERN, EstablishmentsDep, scoped
from teleservices.shared.security.staff import Menu
from teleservices.shared.web import Staff

router = APIRouter(prefix="/api/v1", tags=["établissements"])
Line = Annotated[str, StringConstraints(max_length=38)]


class EstablishmentFields(BaseModel):
    """Descriptive fields of an establishment."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Collège Langevin Wallon"])
    type: str | None = Field(default=None, max_length=40, examples=["Collège"])
    town: str | None = Field(default=None, max_length=100, examples=["BLAINVILLE-SUR-L'EAU"])
    address_lines: list[Line] | None = Field(default=None, max_length=4, examples=[["40 rue du Rendez-Vous"]])
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 .]{6,20}$", examples=["03 83 00 00 00"])
    emails: list[EmailStr] | None = Field(default=None, max_length=10, examples=[["ce.0540001a@ac-nancy-metz.fr"]])
    chef_civilite: str | None = Field(default=None, max_length=10, examples=["M."])
    chef_nom: str | None = Field(default=None, max_length=100, examples=["E. Martin"])
    annee_scolaire: int | None = Field(default=None, ge=2000, le=2100, examples=[2026])
    modules: list[str] | None = Field(default=None, max_length=4, examples=[["notes", "vie_scolaire"]])
    perimetres: list[str] | None = Field(default=None, max_length=3, examples=[["bourse_college"]])


class EstablishmentIn(EstablishmentFields):
    """A new establishment."""

    uai: str = Field(pattern=UAI_PATTERN, examples=["0540001A"])
    academy: str = Field(min_length=1, max_length=100, examples=["NANCY-METZ"])
    name: str = Field(min_length=1, max_length=200, examples=["Collège Langevin Wallon"])


@router.post("/establishments", status_code=201)
async def add_establishment(body: EstablishmentIn, staff: Staff, establishments: EstablishmentsDep) -> dict[str, str]:
    """Create an establishment (academy operators only)."""
    fields = body.model_dump(exclude={"uai", "academy"}, exclude_none=True)
    await establishments.add(staff, body.uai, body.academy, fields)
    return {"uai": body.uai}


@router.get("/establishments")
async def list_establishments(staff: Staff, establishments: EstablishmentsDep) -> list[dict[str, Any]]:
    """The establishments the staff member may see."""
    return await establishments.list(staff)


@router.get("/establishments/{uai}")
async def get_establishment(uai: str, staff: Staff, establishments: EstablishmentsDep) -> dict[str, Any]:
    """One establishment with its settings."""
    scoped(staff, uai)
    return await establishments.view(uai)


@router.patch("/establishments/{uai}", status_code=204)
async def update_establishment(uai: str, body: EstablishmentFields, staff: Staff,
                               establishments: EstablishmentsDep) -> None:
    """Change an establishment (its staff: contact details only)."""
    scoped(staff, uai, Menu.parametrage)
    await establishments.update(staff, uai, body.model_dump(exclude_unset=True))


@router.post("/establishments/{uai}/activation", status_code=204)
async def activate(uai: str, staff: Staff, establishments: EstablishmentsDep) -> None:
    """Activate téléservices for the establishment (guide §2.1)."""
    scoped(staff, uai, Menu.gestion_services)
    await establishments.activate(staff, uai)
