"""SQL of the accounts service: plain parameterised queries, database errors turned into domain errors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from teleservices.accounts import events
from teleservices.accounts.domain.identifiers import identifier
from teleservices.accounts.domain.model import Account, AccountState
from teleservices.shared.messages.catalog import Channel, Population
from teleservices.shared.messages.siecle import EleveData, PersonneData


class NotFound(LookupError):
    """No such row."""


class AlreadyExists(ValueError):
    """A row with that key exists."""


class Conflict(RuntimeError):
    """Another transaction changed the row first."""


ESTABLISHMENT_FIELDS = ("name", "type", "town", "address_lines", "phone", "emails", "chef_civilite", "chef_nom",
                        "annee_scolaire", "modules", "perimetres")


async def ensure_academy(conn: asyncpg.Connection, code: str) -> None:
    """Create the academy row if it does not exist."""
    await conn.execute("INSERT INTO academies (code) VALUES ($1) ON CONFLICT DO NOTHING", code)


async def get_academy(conn: asyncpg.Connection, code: str) -> asyncpg.Record:
    """One academy's lists and switches."""
    row = await conn.fetchrow("SELECT * FROM academies WHERE code = $1", code)
    if row is None:
        raise NotFound(code)
    return row


async def add_establishment(conn: asyncpg.Connection, uai: str, academy: str, fields: dict[str, Any]) -> None:
    """Create an establishment."""
    await ensure_academy(conn, academy)
    columns = [f for f in ESTABLISHMENT_FIELDS if fields.get(f) is not None]
    placeholders = ", ".join(f"${i}" for i in range(3, len(columns) + 3))
    try:
        await conn.execute(
            f"INSERT INTO establishments (uai, academy{''.join(', ' + c for c in columns)})"
            f" VALUES ($1, $2{', ' + placeholders if columns else ''})",
            uai, academy, *(fields[c] for c in columns))
    except asyncpg.UniqueViolationError as exc:
        raise AlreadyExists(uai) from exc


async def update_establishment(conn: asyncpg.Connection, uai: str, fields: dict[str, Any]) -> None:
    """Change some of an establishment's descriptive fields."""
    columns = [f for f in fields if f in ESTABLISHMENT_FIELDS or f in ("open_services", "settings")]
    if columns:
        sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
        await conn.execute(f"UPDATE establishments SET {sets} WHERE uai = $1", uai, *(fields[c] for c in columns))


async def get_establishment(conn: asyncpg.Connection, uai: str, for_update: bool = False) -> asyncpg.Record:
    """One establishment."""
    row = await conn.fetchrow(
        "SELECT * FROM establishments WHERE uai = $1" + (" FOR UPDATE" if for_update else ""), uai)
    if row is None:
        raise NotFound(uai)
    return row


async def activate_establishment(conn: asyncpg.Connection, uai: str, at: datetime, open_services: list[str]) -> None:
    """Record that the establishment activated téléservices, with the services open by default."""
    await conn.execute("UPDATE establishments SET activated_at = $2, open_services = $3"
                       " WHERE uai = $1 AND activated_at IS NULL", uai, at, open_services)


async def allocate_identifier(conn: asyncpg.Connection, academy: str, base: str) -> str:
    """Reserve the smallest number above those used for this base in the academy; never reuse one."""
    taken = await conn.fetchrow(
        "WITH next AS (SELECT coalesce(max(number), 0) + 1 AS n FROM identifiers WHERE academy = $1 AND base = $2)"
        " INSERT INTO identifiers (identifiant, academy, base, number) SELECT $2 || n, $1, $2, n FROM next"
        " ON CONFLICT DO NOTHING RETURNING identifiant, number", academy, base)
    if taken:
        return str(taken["identifiant"])
    number = await conn.fetchval(
        "SELECT coalesce(max(number), 0) + 1 FROM identifiers WHERE academy = $1 AND base = $2", academy, base)
    while True:
        # Taken elsewhere (another academy, or "anne.dupont2"+"1" = "anne.dupont"+"21"): try the next number.
        number += 1
        inserted = await conn.fetchval(
            "INSERT INTO identifiers (identifiant, academy, base, number) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING RETURNING identifiant", identifier(base, number), academy, base, number)
        if inserted:
            return str(inserted)


async def upsert_eleve(conn: asyncpg.Connection, uai: str, eleve: EleveData) -> None:
    """Store a pupil as SIECLE describes him now (back in the establishment if he had left)."""
    await conn.execute(
        "INSERT INTO eleves (uai, eleve_id, ine, nom, prenom, date_naissance, division, groupes, code_mef,"
        " libelle_mef, code_regime, email) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " ON CONFLICT (uai, eleve_id) DO UPDATE SET ine = $3, nom = $4, prenom = $5, date_naissance = $6,"
        " division = $7, groupes = $8, code_mef = $9, libelle_mef = $10, code_regime = $11, email = $12,"
        " left_at = NULL",
        uai, eleve.eleve_id, eleve.ine, eleve.nom, eleve.prenom, eleve.date_naissance, eleve.division,
        list(eleve.groupes), eleve.code_mef, eleve.libelle_mef, eleve.code_regime, eleve.email)


async def mark_eleve_left(conn: asyncpg.Connection, uai: str, eleve_id: str, at: datetime) -> None:
    """Record a pupil's departure."""
    await conn.execute("UPDATE eleves SET left_at = $3 WHERE uai = $1 AND eleve_id = $2", uai, eleve_id, at)


async def get_eleve(conn: asyncpg.Connection, uai: str, eleve_id: str) -> asyncpg.Record:
    """One pupil."""
    row = await conn.fetchrow("SELECT * FROM eleves WHERE uai = $1 AND eleve_id = $2", uai, eleve_id)
    if row is None:
        raise NotFound(f"{uai}/{eleve_id}")
    return row


async def upsert_personne(conn: asyncpg.Connection, uai: str, personne: PersonneData) -> None:
    """Store a person as SIECLE describes him now."""
    await conn.execute(
        "INSERT INTO personnes (uai, personne_id, civilite, nom, prenom, email, address_lines, telephones)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (uai, personne_id) DO UPDATE SET civilite = $3,"
        " nom = $4, prenom = $5, email = $6, address_lines = $7, telephones = $8",
        uai, personne.personne_id, personne.civilite, personne.nom, personne.prenom, personne.email,
        list(personne.address_lines), list(personne.telephones))


async def get_personne(conn: asyncpg.Connection, uai: str, personne_id: str) -> asyncpg.Record:
    """One person."""
    row = await conn.fetchrow("SELECT * FROM personnes WHERE uai = $1 AND personne_id = $2", uai, personne_id)
    if row is None:
        raise NotFound(f"{uai}/{personne_id}")
    return row


async def set_lien(conn: asyncpg.Connection, uai: str, eleve_id: str, personne_id: str, niveau: int | None) -> None:
    """Record a person's responsibility for a pupil."""
    await conn.execute(
        "INSERT INTO liens (uai, eleve_id, personne_id, niveau_responsabilite) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (uai, eleve_id, personne_id) DO UPDATE SET niveau_responsabilite = $4",
        uai, eleve_id, personne_id, niveau)


async def remove_lien(conn: asyncpg.Connection, uai: str, eleve_id: str, personne_id: str) -> None:
    """Forget a person's responsibility for a pupil."""
    await conn.execute("DELETE FROM liens WHERE uai = $1 AND eleve_id = $2 AND personne_id = $3",
                       uai, eleve_id, personne_id)


async def legal_representatives(conn: asyncpg.Connection, uai: str, eleve_id: str) -> list[str]:
    """The ids of the pupil's légal representatives."""
    rows = await conn.fetch("SELECT personne_id FROM liens WHERE uai = $1 AND eleve_id = $2"
                            " AND niveau_responsabilite = 1", uai, eleve_id)
    return [r["personne_id"] for r in rows]


def account_from_row(row: asyncpg.Record) -> Account:
    """An account from its row."""
    return Account(
        id=row["id"], uai=row["uai"], population=Population(row["population"]), identifiant=row["identifiant"],
        state=AccountState(row["state"]), notified_at=row["notified_at"],
        notification_channel=Channel(row["notification_channel"]) if row["notification_channel"] else None,
        last_access_at=row["last_access_at"], email=row["email"], email_validated=row["email_validated"],
        continuity=row["continuity"], closed_at=row["closed_at"],
    )


async def insert_account(conn: asyncpg.Connection, account: Account, eleve_id: str,
                         personne_id: str | None) -> None:
    """Store a new account attached to a pupil (and, for a representative, a person)."""
    await conn.execute(
        "WITH added AS (INSERT INTO accounts (id, uai, population, identifiant, state, continuity)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id)"
        " INSERT INTO rattachements (account_id, uai, eleve_id, personne_id, population)"
        " SELECT id, $2, $7, $8, $3 FROM added",
        account.id, account.uai, account.population.value, account.identifiant, account.state.value,
        account.continuity, eleve_id, personne_id)
    await events.attached(conn, [(account.id, account.uai, eleve_id, personne_id, account.population)])


async def load_account(conn: asyncpg.Connection, account_id: uuid.UUID, for_update: bool = False,
                       wait: bool = False) -> tuple[Account, asyncpg.Record]:
    """An account and its row; `for_update` locks it (NOWAIT for staff actions, `wait` for event handlers)."""
    lock = (" FOR UPDATE" if wait else " FOR UPDATE NOWAIT") if for_update else ""
    row = await conn.fetchrow("SELECT * FROM accounts WHERE id = $1" + lock, account_id)
    if row is None:
        raise NotFound(str(account_id))
    return account_from_row(row), row


async def load_accounts_for_update(conn: asyncpg.Connection, account_ids: list[uuid.UUID]) -> dict[uuid.UUID, Account]:
    """Accounts by id, locked in id order (event handlers wait for a staff action to finish)."""
    rows = await conn.fetch("SELECT * FROM accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE", account_ids)
    found = {row["id"]: account_from_row(row) for row in rows}
    missing = set(account_ids) - set(found)
    if missing:
        raise NotFound(str(min(missing)))
    return found


async def save_account(conn: asyncpg.Connection, account: Account, actor: str,
                       sealed_temp_password: str | None = None, clear_temp_password: bool = False) -> None:
    """Write the account and the history of the changes it recorded."""
    await save_accounts(conn, [account], actor, {account.id: sealed_temp_password} if sealed_temp_password else {},
                        {account.id} if clear_temp_password else set())


async def save_accounts(conn: asyncpg.Connection, accounts: list[Account], actor: str,
                        sealed_temp_passwords: dict[uuid.UUID, str], cleared: set[uuid.UUID]) -> None:
    """Write accounts and the history of the changes each recorded, in two statements; an account's sealed
    temporary password is replaced by the one given, removed if `cleared`, kept otherwise."""
    if not accounts:
        return
    await conn.execute(
        "UPDATE accounts a SET state = t.state, notified_at = t.notified_at, notification_channel = t.channel,"
        " last_access_at = t.last_access_at, email = t.email, email_validated = t.email_validated,"
        " continuity = t.continuity, closed_at = t.closed_at, version = a.version + 1,"
        " sealed_temp_password = CASE WHEN t.cleared THEN NULL ELSE coalesce(t.sealed, a.sealed_temp_password) END"
        " FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::timestamptz[], $6::text[],"
        " $7::boolean[], $8::boolean[], $9::timestamptz[], $10::text[], $11::boolean[])"
        " AS t(id, state, notified_at, channel, last_access_at, email, email_validated, continuity, closed_at,"
        " sealed, cleared) WHERE a.id = t.id",
        [a.id for a in accounts], [a.state.value for a in accounts], [a.notified_at for a in accounts],
        [a.notification_channel.value if a.notification_channel else None for a in accounts],
        [a.last_access_at for a in accounts], [a.email for a in accounts], [a.email_validated for a in accounts],
        [a.continuity for a in accounts], [a.closed_at for a in accounts],
        [sealed_temp_passwords.get(a.id) for a in accounts], [a.id in cleared for a in accounts],
    )
    history = [(a.id, c.previous.value, c.state.value, c.cause, actor, c.at) for a in accounts for c in a.changes]
    if history:
        await conn.executemany(
            "INSERT INTO account_history (account_id, previous_state, state, cause, actor, at)"
            " VALUES ($1, $2, $3, $4, $5, $6)", history)
    for account in accounts:
        account.changes.clear()


async def attach(conn: asyncpg.Connection, account_id: uuid.UUID, uai: str, eleve_id: str,
                 personne_id: str | None, population: Population) -> None:
    """Give an account access to a pupil of an establishment."""
    await conn.execute(
        "INSERT INTO rattachements (account_id, uai, eleve_id, personne_id, population) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (account_id, uai, eleve_id) DO UPDATE SET detached_at = NULL, personne_id = $4",
        account_id, uai, eleve_id, personne_id, population.value)
    await events.attached(conn, [(account_id, uai, eleve_id, personne_id, population)])


async def detach(conn: asyncpg.Connection, account_id: uuid.UUID, uai: str, eleve_id: str, at: datetime) -> None:
    """Detach an account from a pupil (departure): it stays, for continuity, until it expires."""
    population = await conn.fetchval(
        "UPDATE rattachements SET detached_at = $4 WHERE account_id = $1 AND uai = $2"
        " AND eleve_id = $3 AND detached_at IS NULL RETURNING population", account_id, uai, eleve_id, at)
    if population is not None:
        await events.detached(conn, account_id, uai, eleve_id, Population(population), at)


async def open_account_for(conn: asyncpg.Connection, uai: str, eleve_id: str, population: Population,
                           personne_id: str | None = None) -> uuid.UUID | None:
    """The open account attached to this pupil (and person) in this establishment, if any."""
    value = await conn.fetchval(
        "SELECT r.account_id FROM rattachements r JOIN accounts a ON a.id = r.account_id"
        " WHERE r.uai = $1 AND r.eleve_id = $2 AND r.population = $3 AND coalesce(r.personne_id, '') = $4"
        " AND r.detached_at IS NULL AND a.closed_at IS NULL",
        uai, eleve_id, population.value, personne_id or "")
    return value if isinstance(value, uuid.UUID) else None


async def accounts_of_eleve(conn: asyncpg.Connection, uai: str, eleve_id: str) -> list[asyncpg.Record]:
    """Every open account attached to a pupil in an establishment (his own and his representatives')."""
    return list(await conn.fetch(
        "SELECT r.account_id, r.population, r.personne_id FROM rattachements r JOIN accounts a ON a.id = r.account_id"
        " WHERE r.uai = $1 AND r.eleve_id = $2 AND r.detached_at IS NULL AND a.closed_at IS NULL", uai, eleve_id))


async def rattachements_of(conn: asyncpg.Connection, account_id: uuid.UUID) -> list[asyncpg.Record]:
    """Where an account gives access, attached or not."""
    return list(await conn.fetch("SELECT * FROM rattachements WHERE account_id = $1 ORDER BY uai, eleve_id",
                                 account_id))


async def account_visible_from(conn: asyncpg.Connection, account_id: uuid.UUID, uais: tuple[str, ...] | None) -> bool:
    """Whether staff of these establishments (None: every one) may see the account."""
    if uais is None:
        return bool(await conn.fetchval("SELECT true FROM accounts WHERE id = $1", account_id))
    return bool(await conn.fetchval(
        "SELECT true FROM rattachements WHERE account_id = $1 AND uai = ANY($2::text[]) LIMIT 1",
        account_id, list(uais)))


async def insert_notification(conn: asyncpg.Connection, notification_id: uuid.UUID, account_id: uuid.UUID,
                              channel: Channel, variant: str, sealed_password: str | None) -> None:
    """Record a launched notification, pending its delivery result."""
    await conn.execute(
        "INSERT INTO notifications (id, account_id, channel, variant, sealed_password) VALUES ($1, $2, $3, $4, $5)",
        notification_id, account_id, channel.value, variant, sealed_password)


async def find_notification(conn: asyncpg.Connection, notification_id: uuid.UUID) -> asyncpg.Record | None:
    """One notification letter, locked for its settlement (None for other emails)."""
    row: asyncpg.Record | None = await conn.fetchrow("SELECT * FROM notifications WHERE id = $1 FOR UPDATE",
                                                     notification_id)
    return row


async def settle_notification(conn: asyncpg.Connection, notification_id: uuid.UUID, status: str,
                              at: datetime, reason: str | None = None) -> None:
    """Close a pending notification with its result."""
    await settle_notifications(conn, [(notification_id, at)], status, reason)


async def settle_notifications(conn: asyncpg.Connection, settled: list[tuple[uuid.UUID, datetime]], status: str,
                               reason: str | None = None) -> None:
    """Close pending notifications with one result: (notification, when) each."""
    await conn.execute(
        "UPDATE notifications n SET status = $3, settled_at = t.at, reason = $4"
        " FROM unnest($1::uuid[], $2::timestamptz[]) AS t(id, at) WHERE n.id = t.id",
        [n for n, _ in settled], [at for _, at in settled], status, reason)


async def account_history(conn: asyncpg.Connection, account_id: uuid.UUID) -> list[asyncpg.Record]:
    """The account's state changes, oldest first."""
    return list(await conn.fetch(
        "SELECT previous_state, state, cause, actor, at FROM account_history WHERE account_id = $1 ORDER BY id",
        account_id))


async def allocate_identifiers(conn: asyncpg.Connection, academy: str, bases: list[str]) -> list[str]:
    """Reserve one identifier per base given (a base may repeat), in one round trip when nothing clashes."""
    rows = await conn.fetch("SELECT base, max(number) AS n FROM identifiers WHERE academy = $1 AND base = ANY($2)"
                            " GROUP BY base", academy, sorted(set(bases)))
    last = {r["base"]: r["n"] for r in rows}
    planned = []
    for base in bases:
        last[base] = last.get(base, 0) + 1
        planned.append((identifier(base, last[base]), base, last[base]))
    inserted = await conn.fetch(
        "INSERT INTO identifiers (identifiant, academy, base, number) SELECT i, $1, b, n"
        " FROM unnest($2::text[], $3::text[], $4::int[]) AS t(i, b, n) ON CONFLICT DO NOTHING RETURNING identifiant",
        academy, [p[0] for p in planned], [p[1] for p in planned], [p[2] for p in planned])
    ok = {r["identifiant"] for r in inserted}
    return [ident if ident in ok else await allocate_identifier(conn, academy, base) for ident, base, _ in planned]


async def insert_accounts(conn: asyncpg.Connection, accounts: list[tuple[Account, str, str | None]]) -> None:
    """Store new accounts with their attachment (pupil, and person for a representative), at once."""
    await conn.execute(
        "INSERT INTO accounts (id, uai, population, identifiant, state, continuity)"
        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[])",
        [a.id for a, _, _ in accounts], [a.uai for a, _, _ in accounts], [a.population.value for a, _, _ in accounts],
        [a.identifiant for a, _, _ in accounts], [a.state.value for a, _, _ in accounts],
        [a.continuity for a, _, _ in accounts])
    await conn.execute(
        "INSERT INTO rattachements (account_id, uai, eleve_id, personne_id, population)"
        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])",
        [a.id for a, _, _ in accounts], [a.uai for a, _, _ in accounts], [e for _, e, _ in accounts],
        [p for _, _, p in accounts], [a.population.value for a, _, _ in accounts])
    await events.attached(conn, [(a.id, a.uai, e, p, a.population) for a, e, p in accounts])


async def upsert_eleves(conn: asyncpg.Connection, uai: str, eleves: list[EleveData]) -> None:
    """Store many pupils as SIECLE describes them now, in one statement."""
    await conn.execute(
        "INSERT INTO eleves (uai, eleve_id, ine, nom, prenom, date_naissance, division, code_mef, libelle_mef,"
        " code_regime, email, groupes) SELECT $1, t.eleve_id, t.ine, t.nom, t.prenom, t.date_naissance, t.division,"
        " t.code_mef, t.libelle_mef, t.code_regime, t.email, coalesce(string_to_array(t.g, chr(31)), '{}')"
        " FROM unnest($2::text[],"
        " $3::text[], $4::text[], $5::text[], $6::date[], $7::text[], $8::text[], $9::text[], $10::text[],"
        " $11::text[], $12::text[]) AS t(eleve_id, ine, nom, prenom, date_naissance, division, code_mef,"
        " libelle_mef, code_regime, email, g)"
        " ON CONFLICT (uai, eleve_id) DO UPDATE SET ine = excluded.ine, nom = excluded.nom,"
        " prenom = excluded.prenom, date_naissance = excluded.date_naissance, division = excluded.division,"
        " groupes = excluded.groupes, code_mef = excluded.code_mef, libelle_mef = excluded.libelle_mef,"
        " code_regime = excluded.code_regime, email = excluded.email, left_at = NULL",
        uai, *(list(column) for column in zip(*[
            (e.eleve_id, e.ine, e.nom, e.prenom, e.date_naissance, e.division, e.code_mef, e.libelle_mef,
             e.code_regime, e.email, "\x1f".join(e.groupes) if e.groupes else None) for e in eleves], strict=True)))


async def upsert_personnes(conn: asyncpg.Connection, uai: str, personnes: list[PersonneData]) -> None:
    """Store many persons as SIECLE describes them now, in one statement."""
    await conn.execute(
        "INSERT INTO personnes (uai, personne_id, civilite, nom, prenom, email, address_lines, telephones)"
        " SELECT $1, t.personne_id, t.civilite, t.nom, t.prenom, t.email,"
        " coalesce(string_to_array(t.a, chr(31)), '{}'), coalesce(string_to_array(t.p, chr(31)), '{}')"
        " FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])"
        " AS t(personne_id, civilite, nom, prenom, email, a, p)"
        " ON CONFLICT (uai, personne_id) DO UPDATE SET civilite = excluded.civilite, nom = excluded.nom,"
        " prenom = excluded.prenom, email = excluded.email, address_lines = excluded.address_lines,"
        " telephones = excluded.telephones",
        uai, *(list(column) for column in zip(*[
            (p.personne_id, p.civilite, p.nom, p.prenom, p.email,
             "\x1f".join(p.address_lines) if p.address_lines else None,
             "\x1f".join(p.telephones) if p.telephones else None) for p in personnes], strict=True)))


async def set_liens(conn: asyncpg.Connection, uai: str, liens: list[tuple[str, str, int | None]]) -> None:
    """Record many (pupil, person, level) responsibilities in one statement."""
    await conn.execute(
        "INSERT INTO liens (uai, eleve_id, personne_id, niveau_responsabilite)"
        " SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[])"
        " ON CONFLICT (uai, eleve_id, personne_id)"
        " DO UPDATE SET niveau_responsabilite = excluded.niveau_responsabilite",
        uai, [e for e, _, _ in liens], [p for _, p, _ in liens], [n for _, _, n in liens])


async def attached_pairs(conn: asyncpg.Connection, uai: str, population: Population,
                         pairs: list[tuple[str, str | None]]) -> set[tuple[str, str | None]]:
    """Which (pupil, person) pairs already have an open account of the population in the establishment."""
    rows = await conn.fetch(
        "SELECT r.eleve_id, r.personne_id FROM rattachements r JOIN accounts a ON a.id = r.account_id"
        " JOIN unnest($3::text[], $4::text[]) AS t(eleve_id, personne_id)"
        "   ON r.eleve_id = t.eleve_id AND coalesce(r.personne_id, '') = coalesce(t.personne_id, '')"
        " WHERE r.uai = $1 AND r.population = $2 AND r.detached_at IS NULL AND a.closed_at IS NULL",
        uai, population.value, [e for e, _ in pairs], [p for _, p in pairs])
    return {(r["eleve_id"], r["personne_id"]) for r in rows}
