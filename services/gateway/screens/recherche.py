"""Beyond the legacy: one search box for a pupil's or a representative's name or an account identifier."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from teleservices.gateway.backend import BackendError
from teleservices.gateway.web import EstabCtx, render
from teleservices.shared.security.staff import Menu

router = APIRouter(prefix="/etablissements/{uai}", include_in_schema=False)
POPULATIONS = (("responsable", "responsables", Menu.acces_responsables), ("eleve", "eleves", Menu.acces_eleves))


def _matches(line: dict[str, Any], words: list[str]) -> bool:
    person = line.get("responsable") or {}
    haystack = " ".join(str(v or "") for v in (
        line["identifiant"], line["eleve"]["nom"], line["eleve"]["prenom"], person.get("nom"), person.get("prenom"),
    )).lower()
    return all(word in haystack for word in words)


@router.get("/recherche")
async def recherche(ctx: EstabCtx, q: str = "") -> Response:
    """Accounts of the menus the member may use whose names or identifier contain every word typed."""
    words = [w for w in q.lower().split() if w][:5]
    results: list[dict[str, Any]] = []
    if words:
        for population, pop, menu in POPULATIONS:
            if not ctx.staff.may_use(menu):
                continue
            try:
                listing = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/accounts",
                                        params={"population": population})
            except BackendError as exc:
                if exc.status != 403:
                    raise
                continue
            results += [{**line, "segment": pop} for line in listing["accounts"] if _matches(line, words)][:100]
    return await render(ctx, ctx.request, "recherche.html", title="Rechercher un compte", q=q[:100], results=results,
                        searched=bool(words))
