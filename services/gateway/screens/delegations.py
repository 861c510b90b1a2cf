"""Délégations (like DELEG-CE): the head gives a person of the establishment the use of chosen menus."""

from __future__ import annotations

import logging
import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from teleservices.gateway.web import Ctx, EstabCtx, PageError, redirect, render
from teleservices.shared.security.passwords import hash_password
from teleservices.shared.security.staff import Menu, Role

log = logging.getLogger(__name__)
router = APIRouter(prefix="/etablissements/{uai}/delegations", include_in_schema=False)
LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


def _head_only(ctx: Ctx) -> None:
    if ctx.staff.role is Role.delegue:
        raise PageError(403, "Accès refusé", "Seul le chef d'établissement (ou l'académie) accorde des délégations.")


@router.get("")
async def delegations(ctx: EstabCtx) -> Response:
    """The establishment's delegates and their menus."""
    _head_only(ctx)
    async with ctx.request.app.state.runtime.db.connection() as conn:
        rows = await conn.fetch("SELECT login, display_name, menus FROM staff_users WHERE role = 'delegue'"
                                " AND $1 = ANY(uais) ORDER BY login", ctx.uai)
    return await render(ctx, ctx.request, "delegations.html", title="Délégations", delegates=[dict(r) for r in rows],
                        all_menus=[(m.value, m.label) for m in Menu])


async def _end_sessions(ctx: Ctx, login: str) -> None:
    """A changed or removed delegation applies at once: the delegate's sessions end."""
    async with ctx.request.app.state.runtime.db.transaction() as conn:
        await conn.execute("DELETE FROM staff_sessions WHERE principal->>'user_id' = $1", f"local:{login}")


@router.post("")
async def add(ctx: EstabCtx, request: Request) -> Response:
    """A new delegate of this establishment with the menus ticked."""
    _head_only(ctx)
    form = await request.form()
    login = str(form.get("identifiant", "")).strip().lower()
    name = str(form.get("nom", "")).strip()[:200]
    password = str(form.get("mot_de_passe", ""))
    menus = [m.value for m in Menu if m.value in form.getlist("menus")]
    if not LOGIN.match(login) or not name or not 12 <= len(password) <= 200:
        await ctx.flash("Délégation refusée — identifiant (minuscules, chiffres, . _ -), nom et mot de passe de "
                        "12 caractères au moins sont obligatoires.", "erreur")
        return redirect(ctx.url("/delegations"), request)
    async with request.app.state.runtime.db.transaction() as conn:
        created = await conn.fetchval(
            "INSERT INTO staff_users (login, display_name, role, uais, menus, password_hash)"
            " VALUES ($1, $2, 'delegue', $3, $4, $5) ON CONFLICT DO NOTHING RETURNING login",
            login, name, [ctx.uai], menus, hash_password(password))
    if created is None:
        await ctx.flash("Délégation refusée — identifiant : ce login existe déjà.", "erreur")
    else:
        log.info("delegate created", extra={"uai": ctx.uai, "by": ctx.staff.user_id})
        await ctx.flash(f"La délégation de {name} est enregistrée.")
    return redirect(ctx.url("/delegations"), request)


@router.post("/{login}")
async def change(ctx: EstabCtx, login: str, request: Request) -> Response:
    """Change a delegate's menus, or withdraw the delegation for this establishment."""
    _head_only(ctx)
    form = await request.form()
    menus = [m.value for m in Menu if m.value in form.getlist("menus")]
    async with request.app.state.runtime.db.transaction() as conn:
        if form.get("action") == "retirer":
            found = await conn.fetchval(
                "UPDATE staff_users SET uais = array_remove(uais, $2) WHERE login = $1 AND role = 'delegue'"
                " AND $2 = ANY(uais) RETURNING login", login, ctx.uai)
            await conn.execute("DELETE FROM staff_users WHERE login = $1 AND role = 'delegue' AND uais = '{}'", login)
            message = "La délégation est retirée."
        else:
            found = await conn.fetchval("UPDATE staff_users SET menus = $3 WHERE login = $1 AND role = 'delegue'"
                                        " AND $2 = ANY(uais) RETURNING login", login, ctx.uai, menus)
            message = "Les menus délégués sont enregistrés."
    if found is None:
        from teleservices.gateway.web import NotFoundPage

        raise NotFoundPage()
    await _end_sessions(ctx, login)
    await ctx.flash(message)
    return redirect(ctx.url("/delegations"), request)
