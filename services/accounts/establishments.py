"""Academies and establishments: creation by academy operators, contact details, activation of téléservices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from teleservices.accounts import audit, events, lifecycle
from teleservices.accounts import repository as repo
from teleservices.accounts.configuration import Configuration
from teleservices.accounts.domain.model import ActionRefused, NotAllowed
from teleservices.shared.db import Database
from teleservices.shared.messages.catalog import EstablishmentCreated
from teleservices.shared.security.staff import Role, StaffPrincipal

CONTACT_FIELDS = frozenset({"address_lines", "phone", "emails"})
"""What the establishment's own staff may edit; the rest is the academy's."""


@dataclass
class Establishments:
    """Establishment use cases."""

    db: Database
    configuration: Configuration

    async def add(self, staff: StaffPrincipal, uai: str, academy: str, fields: dict[str, Any]) -> None:
        """Create an establishment (academy operators)."""
        _require_operator(staff)
        async with self.db.transaction() as conn:
            await repo.add_establishment(conn, uai, academy, fields)
            await audit.record(conn, staff, "creer_etablissement", uai)
            await events.emit(conn, EstablishmentCreated(uai=uai, name=fields["name"], academy=academy), uai, uai)

    async def update(self, staff: StaffPrincipal, uai: str, fields: dict[str, Any]) -> None:
        """Change an establishment; its own staff may change only its contact details."""
        if staff.role is not Role.operateur_academique:
            forbidden = sorted(set(fields) - CONTACT_FIELDS)
            if forbidden:
                raise NotAllowed(forbidden[0], "seule l'académie modifie ce champ")
        async with self.db.transaction() as conn:
            await repo.get_establishment(conn, uai, for_update=True)
            await repo.update_establishment(conn, uai, fields)
            await audit.record(conn, staff, "modifier_etablissement", uai, fields=sorted(fields))

    async def activate(self, staff: StaffPrincipal, uai: str) -> None:
        """The head activates téléservices at the first connection, opening the default services (guide §2.1)."""
        async with self.db.transaction() as conn:
            establishment = await repo.get_establishment(conn, uai, for_update=True)
            if establishment["activated_at"] is not None:
                raise ActionRefused("uai", "les téléservices sont déjà activés pour cet établissement")
            open_services = await self.configuration.default_open_services(conn, uai)
            await repo.activate_establishment(conn, uai, lifecycle.now(), open_services)
            await audit.record(conn, staff, "activer_teleservices", uai)

    async def view(self, uai: str) -> dict[str, Any]:
        """An establishment with its settings."""
        async with self.db.connection() as conn:
            return dict(await repo.get_establishment(conn, uai))

    async def list(self, staff: StaffPrincipal) -> list[dict[str, Any]]:
        """The establishments a staff member may see."""
        async with self.db.connection() as conn:
            rows = await conn.fetch("SELECT uai, name, type, academy, town, activated_at FROM establishments"
                                    " WHERE $1::text[] IS NULL OR uai = ANY($1) ORDER BY name",
                                    None if staff.role is Role.operateur_academique else list(staff.uais))
        return [dict(r) for r in rows]


def _require_operator(staff: StaffPrincipal) -> None:
    if staff.role is not Role.operateur_academique:
        raise NotAllowed("role", "réservé aux opérateurs académiques")
