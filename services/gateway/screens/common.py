"""Helpers the screens share: the establishment's structure and a change submitted to a service."""

from __future__ import annotations

from typing import Any

from teleservices.gateway.backend import BackendError
from teleservices.gateway.web import Ctx, error_reason


async def structure(ctx: Ctx, population: str = "eleve") -> dict[str, Any]:
    """Divisions, groups and MEFs of the establishment's pupils (for the filters), as far as the menus allow."""
    listing: dict[str, Any] = {"accounts": []}
    for tried in dict.fromkeys((population, "eleve", "responsable")):
        try:
            listing = await ctx.get("accounts", f"/api/v1/establishments/{ctx.uai}/accounts",
                                    params={"population": tried})
            break
        except BackendError as exc:
            if exc.status != 403:
                raise
    divisions: set[str] = set()
    groupes: set[str] = set()
    mefs: dict[str, str] = {}
    for line in listing["accounts"]:
        eleve = line["eleve"]
        if eleve.get("division"):
            divisions.add(eleve["division"])
        groupes.update(eleve.get("groupes") or [])
        if eleve.get("code_mef"):
            mefs[eleve["code_mef"]] = eleve.get("mef") or eleve["code_mef"]
    return {"divisions": sorted(divisions), "groupes": sorted(groupes),
            "mefs": sorted(mefs.items(), key=lambda item: item[1])}


async def submit(ctx: Ctx, service: str, method: str, path: str, success: str, **kwargs: Any) -> Any:
    """Send a change; flash its success or the service's reason. Returns the answer (None when refused)."""
    try:
        answer = await ctx.call(service, method, path, **kwargs)
    except BackendError as exc:
        if exc.status in (404, 503) or exc.status >= 500:
            raise
        await ctx.flash(f"Modification refusée — {error_reason(exc)}", "erreur")
        return None
    await ctx.flash(success)
    return answer if answer is not None else True
