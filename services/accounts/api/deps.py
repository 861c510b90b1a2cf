"""Dependencies of the accounts API: the use cases, scoping and delegated menus."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from teleservices.accounts.actions import StaffActions
from teleservices.accounts.establishments import Establishments
from teleservices.accounts.permissions import require_menu
from teleservices.shared.db import Database
from teleservices.shared.security.staff import Menu, Role, StaffPrincipal
from teleservices.shared.web import require_establishment

UAI_PATTERN = r"^[0-9]{7}[A-Z]$"


def _actions(request: Request) -> StaffActions:
    actions: StaffActions = request.app.state.actions
    return actions


def _establishments(request: Request) -> Establishments:
    establishments: Establishments = request.app.state.establishments
    return establishments


def _db(request: Request) -> Database:
    db: Database = request.app.state.runtime.db
    return db


Actions = Annotated[StaffActions, Depends(_actions)]
EstablishmentsDep = Annotated[Establishments, Depends(_establishments)]
Db = Annotated[Database, Depends(_db)]


def scoped(staff: StaffPrincipal, uai: str, menu: Menu | None = None) -> None:
    """Refuse another establishment's data (404) and a menu the head did not delegate (403)."""
    require_establishment(staff, uai)
    require_menu(staff, menu)


def visible_uais(staff: StaffPrincipal) -> tuple[str, ...] | None:
    """The establishments whose data the staff member sees (None: every one, academy operators)."""
    return None if staff.role is Role.operateur_academique else staff.uais
