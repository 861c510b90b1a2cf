"""Services open in an establishment and its settings (guide §2): read, change, audit, publish."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from pydantic import TypeAdapter

from teleservices.accounts import audit, events
from teleservices.accounts import repository as repo
from teleservices.accounts.domain import catalogue as cat
from teleservices.accounts.domain.establishment_settings import (
    BourseCollege,
    BourseLycee,
    ConfigurationNotes,
    ContactEtablissement,
    EmploiDuTemps,
    EntEtCourrier,
    LiensUtiles,
    MessageAccueil,
    PaiementEnLigne,
)
from teleservices.shared.db import Database
from teleservices.shared.messages.catalog import EstablishmentSettingsChanged
from teleservices.shared.security.staff import StaffPrincipal

T = TypeVar("T")
SETTINGS_GROUPS: dict[str, type[Any]] = {
    "notes": ConfigurationNotes, "paiement": PaiementEnLigne, "emploi_du_temps": EmploiDuTemps,
    "bourse_college": BourseCollege, "bourse_lycee": BourseLycee, "message_accueil": MessageAccueil,
    "ent_et_courrier": EntEtCourrier, "contact": ContactEtablissement, "liens_utiles": LiensUtiles,
    "courriers": dict[str, str],
}
"""Each settings group and the domain type it is stored as (JSON in establishments.settings)."""
DEFAULTS: dict[str, Any] = {"notes": ConfigurationNotes(), "emploi_du_temps": EmploiDuTemps(),
                            "ent_et_courrier": EntEtCourrier(), "liens_utiles": LiensUtiles(),
                            "bourse_lycee": BourseLycee(), "courriers": {}}


def dump(value: Any) -> Any:
    """A settings value as JSON-ready data."""
    return TypeAdapter(type(value)).dump_python(value, mode="json")


@dataclass(frozen=True)
class Context:
    """What the catalogue rules need about an establishment and its academy."""

    establishment: asyncpg.Record
    academy: asyncpg.Record
    profile: cat.EstablishmentProfile
    mandatory: frozenset[str]
    academy_services: tuple[cat.AcademyService, ...]
    divisions: frozenset[str] = frozenset()
    """The establishment's divisions (loaded only when a rule needs them: Notes dates)."""

    @property
    def open_services(self) -> frozenset[str]:
        """The services families actually get."""
        return cat.effective_open_services(frozenset(self.establishment["open_services"]), self.profile,
                                           self.mandatory, self.academy_services)

    def is_open(self, code: str) -> bool:
        """Whether a service is open for families now."""
        return code in self.open_services

    def setting(self, group: str) -> Any:
        """One settings group as its domain type (its default when never set)."""
        stored = (self.establishment["settings"] or {}).get(group)
        if stored is None:
            return DEFAULTS.get(group)
        return TypeAdapter(SETTINGS_GROUPS[group]).validate_python(stored)


async def context(conn: asyncpg.Connection, uai: str, for_update: bool = False,
                  with_divisions: bool = False) -> Context:
    """Load an establishment with its academy's lists."""
    establishment = await repo.get_establishment(conn, uai, for_update=for_update)
    academy = await repo.get_academy(conn, establishment["academy"])
    profile = cat.EstablishmentProfile(
        uai=uai, modules=frozenset(cat.SiecleModule(m) for m in establishment["modules"]),
        perimetres=frozenset(cat.Perimetre(p) for p in establishment["perimetres"]),
        teleservices_active=establishment["activated_at"] is not None)
    services = tuple(cat.academy_service(**s) for s in academy["academy_services"])
    divisions = await conn.fetch("SELECT DISTINCT division FROM eleves WHERE uai = $1 AND left_at IS NULL"
                                 " AND division IS NOT NULL", uai) if with_divisions else []
    return Context(establishment, academy, profile, frozenset(academy["mandatory_services"]), services,
                   frozenset(r["division"] for r in divisions))


@dataclass
class Configuration:
    """Use cases of the « Gestion des services » and « Paramétrage » menus."""

    db: Database

    async def services(self, uai: str) -> list[dict[str, Any]]:
        """Every service the establishment sees, open or not, with what may be done and why not."""
        async with self.db.connection() as conn:
            ctx = await context(conn, uai)
        open_now = ctx.open_services
        out = []
        for code, service in cat.catalogue(ctx.academy_services).items():
            state = cat.availability(service, ctx.profile, ctx.mandatory)
            if state.visible:
                out.append({"code": code, "label": service.label, "categorie": service.categorie.value,
                            "open": code in open_now, "can_open": state.can_open, "can_close": state.can_close,
                            "mandatory": state.mandatory, "reason": state.reason})
        return out

    async def default_open_services(self, conn: asyncpg.Connection, uai: str) -> list[str]:
        """What is open when the establishment activates téléservices."""
        ctx = await context(conn, uai)
        active = cat.EstablishmentProfile(uai, ctx.profile.modules, ctx.profile.perimetres, teleservices_active=True)
        return sorted(cat.default_open_services(active, ctx.mandatory, ctx.academy_services))

    async def set_service_open(self, staff: StaffPrincipal, uai: str, code: str, open_: bool) -> list[str]:
        """Open or close one service (mandatory ones stay open; module-less ones cannot open)."""
        async with self.db.transaction() as conn:
            ctx = await context(conn, uai, for_update=True)
            result = cat.set_service_open(frozenset(ctx.establishment["open_services"]), code, open_, ctx.profile,
                                          ctx.mandatory, ctx.academy_services)
            await repo.update_establishment(conn, uai, {"open_services": sorted(result)})
            await audit.record(conn, staff, "ouvrir_service" if open_ else "fermer_service", uai, service=code)
            await events.emit(conn, EstablishmentSettingsChanged(uai=uai, group="services",
                                                                 values={"open": sorted(result)}), uai, uai)
        return sorted(result)

    async def settings(self, uai: str) -> dict[str, Any]:
        """Every settings group of the establishment, as stored or by default."""
        async with self.db.connection() as conn:
            ctx = await context(conn, uai)
        return {group: dump(value) if (value := ctx.setting(group)) is not None else None
                for group in SETTINGS_GROUPS}

    async def change(self, staff: StaffPrincipal, uai: str, group: str, apply: Callable[[Context, Any], T],
                     with_divisions: bool = False) -> T:
        """Compute a group's new value from its current one with a domain rule, store and publish it."""
        async with self.db.transaction() as conn:
            ctx = await context(conn, uai, for_update=True, with_divisions=with_divisions)
            value = apply(ctx, ctx.setting(group))
            settings = dict(ctx.establishment["settings"] or {})
            settings[group] = dump(value)
            await repo.update_establishment(conn, uai, {"settings": settings})
            await audit.record(conn, staff, f"parametrer_{group}", uai)
            await events.emit(conn, EstablishmentSettingsChanged(uai=uai, group=group, values=settings[group]),
                              uai, uai)
        return value
