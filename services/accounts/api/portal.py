"""Read-only internal API for the families' portal: one account's children and its establishment's home page.

Service to service: the portal signs, for each request, a short-lived token naming the one account it asks
about (HMAC under a sub-key of the shared link key); any other account, a missing, forged or expired token
gets 404 / 401 and nothing about anyone.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from teleservices.accounts import repository as repo
from teleservices.accounts.api.deps import Db
from teleservices.accounts.configuration import context
from teleservices.accounts.domain import catalogue as cat
from teleservices.accounts.domain.establishment_settings import shows_ent_tile
from teleservices.accounts.repository import NotFound
from teleservices.shared.security.signing import BadSignature, derive_key, unsign

router = APIRouter(prefix="/internal/portal", tags=["portail"], include_in_schema=False)
TOKEN_HEADER = "x-portal-token"  # noqa: S105 — a header name
TOKEN_PURPOSE = "portal-to-accounts"  # noqa: S105 — a key-derivation label
"""The sub-key purpose; the portal signs with derive_key(link_key, TOKEN_PURPOSE)."""


def _require_token(request: Request, account_id: uuid.UUID) -> None:
    token = request.headers.get(TOKEN_HEADER, "")
    key = derive_key(request.app.state.settings.secrets.link_key.get_secret_value(), TOKEN_PURPOSE)
    try:
        claims = unsign(token, key)
    except BadSignature as exc:
        raise HTTPException(401, detail="Jeton de service invalide.") from exc
    if claims.get("aud") != "accounts" or int(claims.get("exp", 0)) <= time.time():
        raise HTTPException(401, detail="Jeton de service invalide ou expiré.")
    if claims.get("acc") != str(account_id):
        raise HTTPException(404, detail="Introuvable.")


@router.get("/accounts/{account_id}")
async def portal_view(account_id: uuid.UUID, request: Request, db: Db) -> dict[str, Any]:
    """What the portal shows one account: holder, linked children, establishment home page, grouping switch."""
    _require_token(request, account_id)
    async with db.connection() as conn:
        try:
            account, row = await repo.load_account(conn, account_id)
        except NotFound as exc:
            raise HTTPException(404, detail="Introuvable.") from exc
        attached = [r for r in await repo.rattachements_of(conn, account_id) if r["detached_at"] is None]
        eleves = []
        holder: dict[str, Any] | None = None
        for r in attached:
            eleve = await conn.fetchrow("SELECT nom, prenom, date_naissance, division FROM eleves"
                                        " WHERE uai = $1 AND eleve_id = $2", r["uai"], r["eleve_id"])
            if eleve is not None:
                eleves.append({"uai": r["uai"], "nom": eleve["nom"], "prenom": eleve["prenom"],
                               "date_naissance": eleve["date_naissance"], "division": eleve["division"]})
            if holder is None and r["personne_id"]:
                person = await conn.fetchrow("SELECT civilite, nom, prenom FROM personnes"
                                             " WHERE uai = $1 AND personne_id = $2", r["uai"], r["personne_id"])
                holder = dict(person) if person else None
        if holder is None and account.population.value == "eleve" and eleves:
            holder = {"civilite": None, "nom": eleves[0]["nom"], "prenom": eleves[0]["prenom"]}
        ctx = await context(conn, account.uai)
    establishment = ctx.establishment
    services = cat.catalogue(ctx.academy_services)
    ent = ctx.setting("ent_et_courrier")
    contact = ctx.setting("contact")
    message = ctx.setting("message_accueil")
    liens = ctx.setting("liens_utiles")
    return {
        "id": account.id, "identifiant": account.identifiant, "population": account.population.value,
        "state": account.state.value, "uai": account.uai, "email": account.email,
        "email_validated": account.email_validated, "last_access_at": account.last_access_at,
        "closed": account.closed_at is not None, "titulaire": holder, "eleves": eleves,
        "etablissement": {
            "uai": account.uai, "name": establishment["name"], "town": establishment["town"],
            "address_lines": list(establishment["address_lines"]), "phone": establishment["phone"],
            "contact_email": contact.shown_address if contact is not None else None,
            "message_accueil_html": message.html if message is not None else None,
            "services": [{"code": code, "label": services[code].label, "url": getattr(services[code], "url", None)}
                         for code in services if code in ctx.open_services],
            "ent": ({"type_courrier": ent.type_courrier.value, "url": ent.ent_url}
                    if ent is not None and shows_ent_tile(ent.type_courrier) and ent.ent_url else None),
            "liens_utiles": [{"libelle": lien.libelle, "url": lien.url} for lien in liens.liens] if liens else [],
            "grouping_enabled": bool(ctx.academy["grouping_enabled"]),
        },
        "row_version": row["version"],
    }
