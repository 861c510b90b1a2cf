"""What staff read: the account lists with their filters, one account with its history and audit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from teleservices.accounts import audit
from teleservices.accounts import repository as repo
from teleservices.accounts.domain.model import AccountState
from teleservices.accounts.domain.people import (
    RegimeCategory,
    adresse_ou_courriel,
    email_looks_valid,
    first_digits_of,
    regime_category,
)
from teleservices.shared.messages.catalog import Population

_LIST_SQL = """
SELECT a.id, a.identifiant, a.state, a.notified_at, a.notification_channel, a.last_access_at, a.continuity,
       a.email AS account_email, a.email_validated,
       e.eleve_id, e.nom AS eleve_nom, e.prenom AS eleve_prenom, e.date_naissance, e.division, e.groupes,
       e.code_mef, e.libelle_mef, e.code_regime, e.email AS eleve_email,
       p.personne_id, p.civilite, p.nom AS personne_nom, p.prenom AS personne_prenom, p.email AS personne_email,
       p.address_lines
FROM rattachements r
JOIN accounts a ON a.id = r.account_id
JOIN eleves e ON e.uai = r.uai AND e.eleve_id = r.eleve_id
LEFT JOIN personnes p ON p.uai = r.uai AND p.personne_id = r.personne_id
WHERE r.uai = $1 AND r.population = $2 AND r.detached_at IS NULL AND a.closed_at IS NULL
  AND ($3::text[] IS NULL OR e.division = ANY($3))
  AND ($4::text[] IS NULL OR e.groupes && $4)
  AND ($5::text[] IS NULL OR e.code_mef = ANY($5))
  AND ($6::text[] IS NULL OR left(e.code_regime, 1) = ANY($6))
  AND ($7::text[] IS NULL OR a.state = ANY($7))
  AND ($8::text IS NULL OR lower(e.nom) LIKE lower($8) || '%' ESCAPE '\\')
  AND ($9::boolean IS NULL OR a.continuity = $9)
ORDER BY e.nom, e.prenom, e.eleve_id, p.nom, p.prenom
"""


@dataclass
class AccountFilter:
    """The list filters of guide §3.1, §3.2, §4.1, §4.2 (None: no filter)."""

    population: Population
    divisions: list[str] | None = None
    groupes: list[str] | None = None
    mefs: list[str] | None = None
    regimes: set[RegimeCategory] | None = None
    states: set[AccountState] | None = None
    name_prefix: str | None = None
    continuity: bool | None = None
    invalid_email: bool | None = None
    ids: set[uuid.UUID] | None = field(default=None)


def _literal_prefix(prefix: str | None) -> str | None:
    """First letters matched literally: LIKE's wildcards typed by staff are escaped."""
    if prefix is None:
        return None
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _line(row: asyncpg.Record) -> dict[str, Any]:
    siecle_email = row["personne_email"] if row["personne_id"] else row["eleve_email"]
    address = row["address_lines"] or []
    category = regime_category(row["code_regime"])
    return {
        "id": row["id"], "identifiant": row["identifiant"], "state": row["state"],
        "eleve": {"eleve_id": row["eleve_id"], "nom": row["eleve_nom"], "prenom": row["eleve_prenom"],
                  "date_naissance": row["date_naissance"], "division": row["division"],
                  "groupes": row["groupes"], "code_mef": row["code_mef"], "mef": row["libelle_mef"],
                  "regime": row["code_regime"], "categorie_regime": category.value if category else None},
        "responsable": {"personne_id": row["personne_id"], "civilite": row["civilite"], "nom": row["personne_nom"],
                        "prenom": row["personne_prenom"]} if row["personne_id"] else None,
        "adresse_courriel": adresse_ou_courriel(row["account_email"], row["email_validated"], siecle_email, address),
        "email_invalide": bool(siecle_email) and not email_looks_valid(siecle_email),
        "email_en_attente": row["account_email"] if row["account_email"] and not row["email_validated"] else None,
        "notified_at": row["notified_at"], "notification_channel": row["notification_channel"],
        "last_access_at": row["last_access_at"], "continuity": row["continuity"],
    }


async def list_accounts(conn: asyncpg.Connection, uai: str, f: AccountFilter) -> dict[str, Any]:
    """The establishment's accounts matching the filters, and "N compte(s) sélectionné(s) sur M"."""
    rows = await conn.fetch(
        _LIST_SQL, uai, f.population.value, f.divisions, f.groupes, f.mefs,
        first_digits_of(f.regimes) if f.regimes is not None else None,
        [s.value for s in f.states] if f.states is not None else None, _literal_prefix(f.name_prefix), f.continuity)
    lines = [_line(r) for r in rows]
    if f.invalid_email is not None:
        lines = [line for line in lines if line["email_invalide"] is f.invalid_email]
    if f.ids is not None:
        lines = [line for line in lines if line["id"] in f.ids]
    total = await conn.fetchval(
        "SELECT count(*) FROM rattachements r JOIN accounts a ON a.id = r.account_id WHERE r.uai = $1"
        " AND r.population = $2 AND r.detached_at IS NULL AND a.closed_at IS NULL", uai, f.population.value)
    return {"accounts": lines, "selected": len(lines), "total": total,
            "summary": f"{len(lines)} compte(s) sélectionné(s) sur {total}"}


async def account_view(conn: asyncpg.Connection, account_id: uuid.UUID, uais: tuple[str, ...] | None) -> dict[str, Any]:
    """One account as staff see it: state, attachments visible to them, history, audit."""
    account, _ = await repo.load_account(conn, account_id)
    attachments = [dict(r) for r in await repo.rattachements_of(conn, account_id)
                   if uais is None or r["uai"] in uais]
    history = await repo.account_history(conn, account_id)
    trail = await audit.entries(conn, account_id=account_id)
    if uais is not None:
        trail = [t for t in trail if t["uai"] in uais]
    return {
        "id": account.id, "uai": account.uai, "population": account.population, "identifiant": account.identifiant,
        "state": account.state, "notified_at": account.notified_at,
        "notification_channel": account.notification_channel, "last_access_at": account.last_access_at,
        "email": account.email, "email_en_attente": bool(account.email and not account.email_validated),
        "continuity": account.continuity, "closed_at": account.closed_at,
        "rattachements": attachments, "history": [dict(h) for h in history], "audit": trail,
    }


async def export_accounts(conn: asyncpg.Connection, uai: str) -> list[dict[str, Any]]:
    """Every open account of an establishment with its SIECLE ids (the `accounts export` contract)."""
    rows = await conn.fetch(
        "SELECT a.identifiant, a.population, a.state, a.continuity, r.eleve_id, r.personne_id"
        " FROM rattachements r JOIN accounts a ON a.id = r.account_id"
        " WHERE r.uai = $1 AND r.detached_at IS NULL AND a.closed_at IS NULL ORDER BY a.identifiant", uai)
    return [{"identifiant": r["identifiant"], "kind": r["population"], "state": r["state"],
             "eleve_id": r["eleve_id"], "personne_id": r["personne_id"], "continuity": r["continuity"]} for r in rows]
