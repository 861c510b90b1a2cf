"""The staff principal, carried between services as a short-lived signed token and checked on every route."""

from __future__ import annotations

import time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, ValidationError

from teleservices.shared.security.signing import BadSignature, derive_key, sign, unsign

STAFF_TOKEN_TTL_S = 15 * 60


class Role(StrEnum):
    """Who a staff member is (guide §1.3: the head may delegate; the academy sees every establishment)."""

    chef = "chef"
    delegue = "delegue"
    operateur_academique = "operateur_academique"


class Menu(StrEnum):
    """The menus of Administration Téléservices a head may delegate (like DELEG-CE)."""

    gestion_services = "gestion_services"
    parametrage = "parametrage"
    acces_responsables = "acces_responsables"
    acces_eleves = "acces_eleves"
    statistiques = "statistiques"
    imports = "imports"

    @property
    def label(self) -> str:
        """The menu's name in the staff UI."""
        return _MENU_LABELS[self]


_MENU_LABELS = {
    Menu.gestion_services: "Gestion des services", Menu.parametrage: "Paramétrage",
    Menu.acces_responsables: "Accès des responsables", Menu.acces_eleves: "Accès des élèves",
    Menu.statistiques: "Statistiques", Menu.imports: "Imports",
}


class StaffPrincipal(BaseModel):
    """A staff member acting now: identity, role, establishments, delegated menus."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    display_name: str
    role: Role
    academy: str | None = None
    uais: tuple[str, ...] = ()
    menus: tuple[str, ...] = ()
    """For a delegate: the menus the head granted (e.g. "acces_responsables")."""

    def may_act_on(self, uai: str) -> bool:
        """Whether this principal may read or change the establishment's data."""
        return self.role is Role.operateur_academique or uai in self.uais

    def may_use(self, menu: str) -> bool:
        """Whether this principal may use a menu of the staff UI."""
        return self.role is not Role.delegue or menu in self.menus


class InvalidStaffToken(ValueError):
    """The staff token is missing, forged, malformed or expired."""


def issue_staff_token(principal: StaffPrincipal, secret: str, ttl_s: int = STAFF_TOKEN_TTL_S,
                      now: float | None = None) -> str:
    """Sign a token for the principal, valid `ttl_s` seconds."""
    issued = int(now if now is not None else time.time())
    claims = {**principal.model_dump(mode="json"), "iat": issued, "exp": issued + ttl_s}
    return sign(claims, derive_key(secret, "staff-token"))


def read_staff_token(token: str, secret: str, now: float | None = None) -> StaffPrincipal:
    """Verify a staff token and return its principal."""
    try:
        claims = unsign(token, derive_key(secret, "staff-token"))
    except BadSignature as exc:
        raise InvalidStaffToken(str(exc)) from exc
    if int(claims.pop("exp", 0)) <= (now if now is not None else time.time()):
        raise InvalidStaffToken("expired")
    claims.pop("iat", None)
    try:
        return StaffPrincipal.model_validate(claims)
    except ValidationError as exc:
        raise InvalidStaffToken("malformed claims") from exc
