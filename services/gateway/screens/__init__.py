"""The screens of Administration Téléservices, one module per menu."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    """Every screen router, in menu order."""
    from teleservices.gateway.screens import (
        academie,
        accueil,
        comptes,
        delegations,
        donnees,
        eleves,
        exploitation,
        gestion,
        imports,
        notifier,
        parametrage,
        recherche,
        statistiques,
    )

    return [accueil.router, gestion.router, parametrage.router, notifier.router, comptes.router, eleves.router,
            statistiques.router, imports.router, recherche.router,
            delegations.router, academie.router, donnees.router, exploitation.router]
