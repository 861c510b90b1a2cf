"""The audit trail of staff actions: who, when, what, on whom, from which establishment."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from teleservices.shared.security.staff import StaffPrincipal


async def record(conn: asyncpg.Connection, staff: StaffPrincipal, action: str, uai: str | None,
                 account_id: uuid.UUID | None = None, **details: Any) -> None:
    """Record a staff action in the caller's transaction (no personal data in `details`: ids only)."""
    await conn.execute(
        "INSERT INTO audit_log (actor_id, actor_name, actor_role, uai, action, account_id, details)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        staff.user_id, staff.display_name, staff.role.value, uai, action, account_id, details)


async def entries(conn: asyncpg.Connection, *, uai: str | None = None, account_id: uuid.UUID | None = None,
                  actor_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Audit entries, newest first, filtered by establishment, account and staff member."""
    rows = await conn.fetch(
        "SELECT at, actor_id, actor_name, actor_role, uai, action, account_id, details FROM audit_log"
        " WHERE ($1::text IS NULL OR uai = $1) AND ($2::uuid IS NULL OR account_id = $2)"
        " AND ($3::text IS NULL OR actor_id = $3) ORDER BY id DESC LIMIT $4",
        uai, account_id, actor_id, limit)
    return [dict(r) for r in rows]


# The hash chain (migration 004): entries are sealed at commit, one chain per establishment ('*': the academy's).
GENESIS = "0" * 64
_CHAIN_COLUMNS = ("id, at, actor_id, actor_name, actor_role, uai, action, account_id::text AS account_id,"
                  " details::text AS details, chain, seq, prev_hash, hash")


def canonical(entry: Mapping[str, Any]) -> str:
    """The text an entry's hash commits to (the same JSON array as the SQL function audit_canonical)."""
    at: datetime = entry["at"]
    return json.dumps([
        entry["chain"], entry["seq"], entry["prev_hash"], entry["id"],
        at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), entry["actor_id"], entry["actor_name"],
        entry["actor_role"], entry["uai"], entry["action"], entry["account_id"], entry["details"],
    ], ensure_ascii=False)


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 of the entry's canonical form, in hexadecimal."""
    return hashlib.sha256(canonical(entry).encode()).hexdigest()


@dataclass
class ChainCheck:
    """What the verification of the audit trail found: chains, entries, and every break with its place."""

    chains: int = 0
    entries: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    heads: list[dict[str, Any]] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """No entry was changed, removed or inserted outside the sealing."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """The answer of the API and the CLI."""
        return {"intact": self.intact, "chains": self.chains, "entries": self.entries, "problems": self.problems,
                "heads": self.heads}


async def verify(conn: asyncpg.Connection, uai: str | None = None) -> ChainCheck:
    """Recompute every chain (or one establishment's) and report each break: changed, missing or unsealed entries."""
    check = ChainCheck()
    async with conn.transaction(isolation="repeatable_read", readonly=True):  # one snapshot of the whole trail
        heads = {r["chain"]: r for r in await conn.fetch(
            "SELECT chain, seq, hash FROM audit_chain_heads WHERE $1::text IS NULL OR chain = $1", uai)}
        for row in await conn.fetch("SELECT id, uai FROM audit_log WHERE hash IS NULL"
                                    " AND ($1::text IS NULL OR coalesce(uai, '*') = $1) ORDER BY id", uai):
            check.problems.append({"chain": row["uai"] or "*", "seq": None, "id": row["id"], "kind": "non_scellee",
                                   "detail": "entrée ajoutée hors du scellement (chaîne contournée)"})
        chains = [r["chain"] for r in await conn.fetch(
            "SELECT chain FROM audit_chain_heads WHERE $1::text IS NULL OR chain = $1"
            " UNION SELECT DISTINCT chain FROM audit_log WHERE chain IS NOT NULL AND ($1::text IS NULL OR chain = $1)"
            " ORDER BY 1", uai)]
        for chain in chains:
            check.chains += 1
            expected_seq, previous = 1, GENESIS
            cursor = conn.cursor(f"SELECT {_CHAIN_COLUMNS} FROM audit_log WHERE chain = $1 ORDER BY seq", chain,
                                 prefetch=1000)
            async for row in cursor:
                check.entries += 1
                entry = dict(row)
                if entry["seq"] != expected_seq:
                    check.problems.append({"chain": chain, "seq": expected_seq, "id": None, "kind": "supprimee",
                                           "detail": f"entrées n° {expected_seq} à {entry['seq'] - 1} absentes"})
                elif entry["prev_hash"] != previous:
                    check.problems.append({"chain": chain, "seq": entry["seq"], "id": entry["id"],
                                           "kind": "chainage_rompu",
                                           "detail": "ne renvoie pas à l'entrée précédente"})
                if entry_hash(entry) != entry["hash"] or (entry["uai"] or "*") != chain:
                    check.problems.append({"chain": chain, "seq": entry["seq"], "id": entry["id"],
                                           "kind": "modifiee", "detail": "contenu différent de celui scellé"})
                expected_seq, previous = entry["seq"] + 1, entry["hash"]
            head = heads.get(chain)
            if head is None:
                check.problems.append({"chain": chain, "seq": None, "id": None, "kind": "tete_absente",
                                       "detail": "la tête de chaîne a disparu"})
            elif head["seq"] > expected_seq - 1:
                check.problems.append({"chain": chain, "seq": expected_seq, "id": None, "kind": "supprimee",
                                       "detail": f"la tête de chaîne est à l'entrée n° {head['seq']}, la dernière"
                                                 f" entrée présente est la n° {expected_seq - 1}"})
            elif head["seq"] != expected_seq - 1 or head["hash"] != previous:
                check.problems.append({"chain": chain, "seq": head["seq"], "id": None, "kind": "tete_modifiee",
                                       "detail": "la tête de chaîne ne correspond pas à la dernière entrée"})
            else:
                check.heads.append({"chain": chain, "seq": head["seq"], "hash": head["hash"]})
    return check


# Art. 33 breach report: whom and what a staff member or a time window touched.
_ACCOUNT_KEYS = ("new_account_id", "grouped_account_id")


async def breach_report(conn: asyncpg.Connection, *, actor_id: str | None, since: datetime | None,
                        until: datetime | None, uais: tuple[str, ...] | None,
                        letters: tuple[tuple[uuid.UUID, str], ...] = ()) -> dict[str, Any]:
    """The audited actions of a staff member and/or a time window, and every person and record they touched.

    `letters`: (campaign, division) of the division PDFs downloaded meanwhile (the notifier records downloads);
    whoever got a paper letter in them is touched too.
    """
    rows = await conn.fetch(
        "SELECT id, at, actor_id, actor_name, actor_role, uai, action, account_id, details, chain, seq FROM audit_log"
        " WHERE ($1::text IS NULL OR actor_id = $1) AND ($2::timestamptz IS NULL OR at >= $2)"
        " AND ($3::timestamptz IS NULL OR at <= $3) AND ($4::text[] IS NULL OR uai = ANY($4)) ORDER BY at, id",
        actor_id, since, until, list(uais) if uais is not None else None)
    touched: dict[uuid.UUID, set[int]] = {}
    records: dict[str, int] = {}
    for row in rows:
        records[row["action"]] = records.get(row["action"], 0) + 1
        details = row["details"] or {}
        ids = {row["account_id"]} | {uuid.UUID(details[k]) for k in _ACCOUNT_KEYS if details.get(k)}
        ids |= {uuid.UUID(a) for a in details.get("comptes", [])}
        if details.get("campaign_id"):
            ids |= {r["account_id"] for r in await conn.fetch(
                "SELECT account_id FROM campaign_items WHERE campaign_id = $1", uuid.UUID(details["campaign_id"]))}
        if row["action"] == "editer_liste_eleves":  # the list showed the pupils then in the division or group
            ids |= {r["account_id"] for r in await conn.fetch(
                "SELECT r.account_id FROM rattachements r JOIN eleves e ON e.uai = r.uai AND e.eleve_id = r.eleve_id"
                " WHERE r.uai = $1 AND r.population = 'eleve' AND ($2::text IS NULL OR e.division = $2)"
                " AND ($3::text IS NULL OR $3 = ANY(e.groupes))", row["uai"], details.get("division"),
                details.get("groupe"))}
        for account_id in ids - {None}:
            touched.setdefault(account_id, set()).add(row["id"])
    in_letters: dict[uuid.UUID, list[str]] = {}
    for campaign_id, division in letters:
        for r in await conn.fetch("SELECT i.account_id FROM campaign_items i JOIN campaigns c ON c.id = i.campaign_id"
                                  " WHERE i.campaign_id = $1 AND i.division = $2 AND i.channel = 'paper'"
                                  " AND ($3::text[] IS NULL OR c.uai = ANY($3))", campaign_id, division,
                                  list(uais) if uais is not None else None):
            touched.setdefault(r["account_id"], set())
            in_letters.setdefault(r["account_id"], []).append(f"{campaign_id}/{division}")
    return {
        "criteres": {"acteur": actor_id, "depuis": since, "jusqu_a": until},
        "actions": len(rows),
        "enregistrements": dict(sorted(records.items())),
        "etablissements": sorted({r["uai"] for r in rows if r["uai"]}),
        "acteurs": [{"actor_id": a, "actor_name": n} for a, n in sorted({(r["actor_id"], r["actor_name"])
                                                                           for r in rows})],
        "personnes": await _people(conn, touched, in_letters),
        "entrees": [{**dict(r), "details": r["details"]} for r in rows],
    }


async def _people(conn: asyncpg.Connection, touched: dict[uuid.UUID, set[int]],
                  in_letters: dict[uuid.UUID, list[str]]) -> list[dict[str, Any]]:
    """Each touched account with its holder (pupil or person) and the audit entries that touched it."""
    rows = await conn.fetch(
        "SELECT a.id, a.identifiant, a.population, a.uai, a.state, r.eleve_id, r.personne_id,"
        " coalesce(p.nom, e.nom) AS nom, coalesce(p.prenom, e.prenom) AS prenom,"
        " coalesce(a.email, p.email, e.email) AS email FROM accounts a"
        " LEFT JOIN rattachements r ON r.account_id = a.id"
        " LEFT JOIN eleves e ON r.population = 'eleve' AND e.uai = r.uai AND e.eleve_id = r.eleve_id"
        " LEFT JOIN personnes p ON r.population = 'responsable' AND p.uai = r.uai AND p.personne_id = r.personne_id"
        " WHERE a.id = ANY($1) ORDER BY a.identifiant, r.eleve_id", list(touched))
    people: dict[uuid.UUID, dict[str, Any]] = {}
    for row in rows:
        person = people.setdefault(row["id"], {
            "account_id": row["id"], "identifiant": row["identifiant"], "population": row["population"],
            "uai": row["uai"], "state": row["state"], "nom": row["nom"], "prenom": row["prenom"],
            "email": row["email"], "personne_id": row["personne_id"], "eleves": [],
            "audit_ids": sorted(touched[row["id"]]), "courriers_pdf": in_letters.get(row["id"], [])})
        if row["eleve_id"] and row["eleve_id"] not in person["eleves"]:
            person["eleves"].append(row["eleve_id"])
    gone = [{"account_id": a, "supprime": True, "audit_ids": sorted(ids), "courriers_pdf": in_letters.get(a, [])}
            for a, ids in touched.items() if a not in people]
    return [*people.values(), *gone]
