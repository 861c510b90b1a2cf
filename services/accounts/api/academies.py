"""Academy lists and switches, managed by academy operators (service catalogue, ENT links, TIPI, grouping)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from teleservices.accounts import audit, events
from teleservices.accounts import repository as repo
from teleservices.accounts.domain import catalogue as cat
from teleservices.accounts.domain.establishment_settings import sanitise_message_html, validate_url
from teleservices.accounts.domain.model import ActionRefused, NotAllowed
from teleservices.shared.messages.catalog import AcademySettingsChanged
from teleservices.shared.security.staff import Role
from teleservices.shared.web import Staff

router = APIRouter(prefix="/api/v1/academies", tags=["académie"])
AcademyCode = Annotated[str, PathParam(pattern=r"^[A-Z][A-Z0-9-]{1,39}$", examples=["NANCY-METZ"])]


class AcademyServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z0-9_]{2,40}$", examples=["cahier_de_textes"])
    label: str = Field(min_length=1, max_length=120, examples=["Cahier de textes"])
    url: str = Field(max_length=500, examples=["https://cdt.ac-nancy-metz.fr"])
    experimental: bool = False
    establishments: list[str] = Field(default_factory=list, max_length=500)


class EntLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    libelle: str = Field(min_length=1, max_length=120)
    url: str = Field(max_length=500)


class AcademyIn(BaseModel):
    """What an operator may change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    grouping_enabled: bool | None = Field(default=None, description="Regroupement des comptes responsables")
    mandatory_services: list[str] | None = Field(default=None, description="Services obligatoires (recteur)")
    academy_services: list[AcademyServiceIn] | None = None
    ent_links: list[EntLinkIn] | None = None
    tipi_reference: dict[str, str] | None = Field(default=None, description="Référentiel TIPI : numéro → libellé")
    informations: str | None = Field(default=None, max_length=10_000, description="Informations académiques")


def _checked(body: AcademyIn) -> dict[str, Any]:
    values = body.model_dump(exclude_none=True)  # absent or null: unchanged (every column has a value)
    if body.mandatory_services is not None:
        unknown = sorted(set(body.mandatory_services) - set(cat.NATIONAL_SERVICES_BY_CODE))
        if unknown:
            raise ActionRefused("mandatory_services", f"service inconnu : {unknown[0]}")
    if body.academy_services is not None:
        for s in body.academy_services:
            cat.academy_service(s.code, s.label, s.url, s.experimental, tuple(s.establishments))
    if body.ent_links is not None:
        for link in body.ent_links:
            validate_url(link.url, "ent_links")
    if body.tipi_reference is not None and not all(k.isdigit() for k in body.tipi_reference):
        raise ActionRefused("tipi_reference", "les numéros de client TIPI ne contiennent que des chiffres")
    if body.informations is not None:
        values["informations"] = sanitise_message_html(body.informations)
    return values


@router.get("/{code}")
async def get_academy(code: AcademyCode, staff: Staff, request: Request) -> dict[str, Any]:
    """An academy's lists and switches (its establishments' staff read them too)."""
    async with request.app.state.runtime.db.connection() as conn:
        if staff.role is not Role.operateur_academique:
            mine = await conn.fetchval("SELECT true FROM establishments WHERE academy = $1 AND uai = ANY($2)",
                                       code, list(staff.uais))
            if not mine:
                raise repo.NotFound(code)
        return dict(await repo.get_academy(conn, code))


@router.patch("/{code}")
async def update_academy(code: AcademyCode, body: AcademyIn, staff: Staff, request: Request) -> dict[str, Any]:
    """Change the academy's lists and switches (academy operators)."""
    if staff.role is not Role.operateur_academique:
        raise NotAllowed("role", "réservé aux opérateurs académiques")
    values = _checked(body)
    async with request.app.state.runtime.db.transaction() as conn:
        await repo.ensure_academy(conn, code)
        for column, value in values.items():
            await conn.execute(f"UPDATE academies SET {column} = $2 WHERE code = $1", code, value)
        await audit.record(conn, staff, "modifier_academie", None, fields=sorted(values))
        await events.emit(conn, AcademySettingsChanged(academy=code, values=values), code, None)
        return dict(await repo.get_academy(conn, code))
