"""Accounts: the lists with their filters, one account, and every staff action allowed in its state."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from teleservices.accounts import audit, queries
from teleservices.accounts.api.deps import Actions, Db, scoped, visible_uais
from teleservices.accounts.class_lists import ClassLists, class_list_pdf
from teleservices.accounts.domain.model import AccountState, NotAllowed
from teleservices.accounts.domain.people import RegimeCategory
from teleservices.accounts.permissions import accounts_menu, require_menu
from teleservices.accounts.repository import NotFound, account_visible_from
from teleservices.shared.messages.catalog import Channel, Population
from teleservices.shared.security.staff import Menu, Role
from teleservices.shared.web import Staff

router = APIRouter(prefix="/api/v1", tags=["comptes"])


class NotificationIn(BaseModel):
    """Notify, renotify, or reset the password and notify."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel = Field(examples=["email"], description="email ou paper (les élèves : paper seulement)")
    reset_password: bool = Field(default=False, description="« Réinitialiser et notifier le mot de passe »")


class NewAccountIn(BaseModel):
    """Create a new account (new identifier) and notify it."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel = Field(examples=["paper"])


class ActivationEmailIn(BaseModel):
    """Send the activation email again, optionally to a corrected address."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = Field(default=None, examples=["parent@exemple.fr"])


class FreeEmailIn(BaseModel):
    """A free email to the account's holder."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=200, examples=["Réunion parents-professeurs"])
    body: str = Field(min_length=1, max_length=20_000)


class ManyEmailsIn(FreeEmailIn):
    """The same email to several selected accounts, each sent separately."""

    account_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000)


class GroupingIn(BaseModel):
    """Group another child's representative account into this one."""

    model_config = ConfigDict(extra="forbid")

    grouped_account_id: uuid.UUID


@router.get("/establishments/{uai}/accounts")
async def list_accounts(
    uai: str, staff: Staff, db: Db,
    population: Population,
    division: Annotated[list[str] | None, Query(description="Une ou plusieurs divisions")] = None,
    groupe: Annotated[list[str] | None, Query()] = None,
    mef: Annotated[list[str] | None, Query(description="Codes MEF")] = None,
    regime: Annotated[list[RegimeCategory] | None, Query(description="Externe, Demi-pensionnaire, Interne")] = None,
    etat: Annotated[list[AccountState] | None, Query(description="États du compte")] = None,
    nom: Annotated[str | None, Query(max_length=50, description="Premières lettres du nom de l'élève")] = None,
    continuite: bool | None = None,
    courriel_invalide: bool | None = None,
) -> dict[str, Any]:
    """The establishment's accounts with "N compte(s) sélectionné(s) sur M"."""
    scoped(staff, uai, accounts_menu(population))
    async with db.connection() as conn:
        return await queries.list_accounts(conn, uai, queries.AccountFilter(
            population=population, divisions=division, groupes=groupe, mefs=mef,
            regimes=set(regime) if regime else None, states=set(etat) if etat else None, name_prefix=nom,
            continuity=continuite, invalid_email=courriel_invalide))


@router.get("/accounts/{account_id}")
async def get_account(account_id: uuid.UUID, staff: Staff, db: Db) -> dict[str, Any]:
    """One account with its attachments, state history and audit trail."""
    async with db.connection() as conn:
        if not await account_visible_from(conn, account_id, visible_uais(staff)):
            raise NotFound(str(account_id))
        view = await queries.account_view(conn, account_id, visible_uais(staff))
    require_menu(staff, accounts_menu(view["population"]))
    return view


@router.post("/accounts/{account_id}/notifications", status_code=202)
async def notify(account_id: uuid.UUID, body: NotificationIn, staff: Staff, actions: Actions) -> dict[str, Any]:
    """Launch a notification; the account changes only when the letter is delivered."""
    return {"notification_id": await actions.notify(staff, account_id, body.channel, body.reset_password)}


@router.post("/accounts/{account_id}/new-account", status_code=201)
async def new_account(account_id: uuid.UUID, body: NewAccountIn, staff: Staff, actions: Actions) -> dict[str, Any]:
    """« Nouveau compte »: a new identifier and temporary password, notified at once."""
    return await actions.new_account(staff, account_id, body.channel)


@router.post("/accounts/{account_id}/simulation")
async def simulate(account_id: uuid.UUID, staff: Staff, actions: Actions) -> dict[str, str]:
    """« Simuler l'accès à Scolarité services » (Utilisé accounts only): a short-lived read-only link."""
    return {"url": await actions.simulate_access(staff, account_id)}


@router.post("/accounts/{account_id}/activation-email", status_code=202)
async def resend_activation(account_id: uuid.UUID, body: ActivationEmailIn, staff: Staff,
                            actions: Actions) -> dict[str, Any]:
    """« Renvoyer le courriel d'activation du compte », correcting the address if needed."""
    return {"notification_id": await actions.resend_activation(staff, account_id, body.email)}


@router.post("/accounts/{account_id}/emails", status_code=202)
async def write_email(account_id: uuid.UUID, body: FreeEmailIn, staff: Staff, actions: Actions) -> dict[str, Any]:
    """Write an email to the account's holder."""
    return await actions.write_email(staff, account_id, body.subject, body.body)


@router.post("/establishments/{uai}/emails", status_code=202)
async def write_to_many(uai: str, body: ManyEmailsIn, staff: Staff, actions: Actions) -> dict[str, Any]:
    """« Écrire à plusieurs responsables »: each selected person with an address gets his own email.

    Followed like a campaign (GET /campaigns/{campaign_id}); those without an address are its failures."""
    scoped(staff, uai)
    return await actions.write_to_many(staff, uai, body.account_ids, body.subject, body.body)


@router.get("/audit")
async def academy_audit(staff: Staff, db: Db, acteur: str | None = None, uai: str | None = None,
                        compte: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """The audit trail across establishments (academy operators), by staff member, establishment, account."""
    if visible_uais(staff) is not None:
        raise NotAllowed("role", "réservé aux opérateurs académiques")
    async with db.connection() as conn:
        return await audit.entries(conn, uai=uai, actor_id=acteur, account_id=compte)


@router.get("/accounts/{account_id}/temporary-password")
async def temporary_password(account_id: uuid.UUID, staff: Staff, actions: Actions) -> dict[str, str | None]:
    """The temporary password in force (Notifié accounts; audited)."""
    return {"temporary_password": await actions.temporary_password(staff, account_id)}


@router.post("/accounts/{account_id}/grouping", status_code=204)
async def group(account_id: uuid.UUID, body: GroupingIn, staff: Staff, actions: Actions) -> None:
    """Group another child's account into this representative account."""
    await actions.group(staff, account_id, body.grouped_account_id)


@router.delete("/accounts/{account_id}/grouping/{eleve_id}")
async def ungroup(account_id: uuid.UUID, eleve_id: str, staff: Staff, actions: Actions) -> dict[str, Any]:
    """Give one child of a grouped account its own account again."""
    new = await actions.ungroup(staff, account_id, eleve_id)
    return {"id": new.id, "identifiant": new.identifiant, "state": new.state}


@router.get("/establishments/{uai}/audit")
async def establishment_audit(uai: str, staff: Staff, db: Db, acteur: str | None = None,
                              compte: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """The audit trail of an establishment, by staff member and account (the head and the academy)."""
    scoped(staff, uai)
    if staff.role is Role.delegue:
        raise NotAllowed("role", "le journal des actions est réservé au chef d'établissement et à l'académie")
    async with db.connection() as conn:
        return await audit.entries(conn, uai=uai, actor_id=acteur, account_id=compte)


@router.get("/establishments/{uai}/export")
async def export(uai: str, staff: Staff, db: Db) -> list[dict[str, Any]]:
    """Every account with identifier, kind, state, SIECLE ids and continuity flag."""
    scoped(staff, uai, Menu.acces_eleves)
    require_menu(staff, Menu.acces_responsables)
    async with db.connection() as conn:
        return await queries.export_accounts(conn, uai)


@router.get("/establishments/{uai}/class-lists")
async def class_list(uai: str, staff: Staff, request: Request, division: str | None = None,
                     groupe: str | None = None, format: str = "json") -> Any:
    """« Éditer les listes des comptes élèves » (guide §4.3): JSON, `format=csv` or `format=pdf` (audited)."""
    scoped(staff, uai, Menu.acces_eleves)
    lists: ClassLists = request.app.state.class_lists
    result = await lists.rows(staff, uai, division, groupe)
    if format == "pdf":
        async with request.app.state.runtime.db.connection() as conn:
            name = await conn.fetchval("SELECT name FROM establishments WHERE uai = $1", uai)
        selection = f"division {division}" if division else f"groupe {groupe}"
        pdf = await asyncio.to_thread(class_list_pdf, result["lines"], name, selection, result["summary"])
        return Response(pdf, media_type="application/pdf", headers={
            "content-disposition": f'attachment; filename="comptes-{division or groupe}.pdf"',
            "cache-control": "no-store"})
    if format == "csv":
        return Response("\ufeff" + ClassLists.csv(result["lines"]), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="comptes-{division or groupe}.csv"',
                                 "cache-control": "no-store"})
    return result
