"""Accounts following SIECLE and the portal: pre-creation, detachment, closing, activation, expiry."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from teleservices.accounts import events
from teleservices.accounts import repository as repo
from teleservices.accounts.domain.identifiers import identifier_base
from teleservices.accounts.domain.model import Account, AccountState
from teleservices.shared.kafka.consumer import HandlerContext
from teleservices.shared.messages.catalog import Population
from teleservices.shared.messages.portal import (
    AccountsGrouped,
    ActivationConfirmed,
    EmailValidated,
    FirstConnectionCompleted,
    LoggedIn,
)
from teleservices.shared.messages.siecle import (
    EleveArrived,
    EleveChanged,
    EleveLeft,
    LienAdded,
    LienChanged,
    LienRemoved,
    PersonneChanged,
)

log = logging.getLogger(__name__)
LEGAL_REPRESENTATIVE = 1


def now() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)


async def store(conn: asyncpg.Connection, account: Account, actor: str, **kwargs: object) -> None:
    """Save an account and announce its state changes."""
    changes = list(account.changes)
    await repo.save_account(conn, account, actor, **kwargs)  # type: ignore[arg-type]
    await events.state_changes(conn, account, changes)


async def store_many(conn: asyncpg.Connection, accounts: list[Account], actor: str,
                     sealed_temp_passwords: dict[uuid.UUID, str]) -> None:
    """Save accounts and announce their state changes, a few statements for them all."""
    changes = [(account, list(account.changes)) for account in accounts]
    await repo.save_accounts(conn, accounts, actor, sealed_temp_passwords, set())
    await events.state_changes_many(conn, changes)


_academies: dict[str, str] = {}
"""UAI → academy: an establishment never changes academy, so it is read once per process."""


async def _academy(conn: asyncpg.Connection, uai: str) -> str:
    if uai not in _academies:
        _academies[uai] = (await repo.get_establishment(conn, uai))["academy"]
    return _academies[uai]


async def precreate(conn: asyncpg.Connection, uai: str, eleve_id: str, population: Population,
                    personne_id: str | None = None, continuity: bool = False,
                    names: tuple[str, str] | None = None) -> Account:
    """Pre-create an account (Non notifié) with a new identifier, attached to a pupil; `names`: (prénom, nom)."""
    if names is None:
        person = (await repo.get_eleve(conn, uai, eleve_id) if population is Population.eleve
                  else await repo.get_personne(conn, uai, personne_id or ""))
        names = (person["prenom"], person["nom"])
    ident = await repo.allocate_identifier(conn, await _academy(conn, uai), identifier_base(*names))
    account = Account(id=uuid.uuid4(), uai=uai, population=population, identifiant=ident, continuity=continuity)
    await repo.insert_account(conn, account, eleve_id, personne_id)
    await events.account_created(conn, account)
    return account


async def close_account(conn: asyncpg.Connection, account_id: uuid.UUID, cause: str, actor: str,
                        at: datetime) -> Account:
    """Delete an account: it stops working and its identifier is retired."""
    account, _ = await repo.load_account(conn, account_id, for_update=True, wait=True)
    account.close(cause, at)
    await store(conn, account, actor, clear_temp_password=True)
    for row in await repo.rattachements_of(conn, account_id):
        await repo.detach(conn, account_id, row["uai"], row["eleve_id"], at)
    return account


async def precreate_many(conn: asyncpg.Connection, uai: str, population: Population,
                         wanted: list[tuple[str, str | None, tuple[str, str]]]) -> list[Account]:
    """Pre-create many accounts at once: (pupil id, person id or None, (prénom, nom)) each."""
    if not wanted:
        return []
    idents = await repo.allocate_identifiers(conn, await _academy(conn, uai),
                                             [identifier_base(*names) for _, _, names in wanted])
    accounts = [(Account(id=uuid.uuid4(), uai=uai, population=population, identifiant=ident), eleve_id, personne_id)
                for ident, (eleve_id, personne_id, _) in zip(idents, wanted, strict=True)]
    await repo.insert_accounts(conn, accounts)
    await events.accounts_created(conn, [a for a, _, _ in accounts])
    return [a for a, _, _ in accounts]


@dataclass
class SiecleChanges:
    """Applies what the SIECLE import found to accounts (guide §1.4; the accounts issue's effects)."""

    async def eleves_arrived(self, batch: list[EleveArrived], ctx: HandlerContext) -> None:
        """Many arrivals at once (an import); continuity cases go one by one."""
        for uai in {e.uai for e in batch}:
            mine = [e for e in batch if e.uai == uai]
            await repo.upsert_eleves(ctx.conn, uai, list({e.eleve.eleve_id: e.eleve for e in mine}.values()))
            for event in (e for e in mine if e.continuity_from):
                await self.eleve_arrived(event, ctx)
            plain = [e.eleve for e in mine if not e.continuity_from]
            have = await repo.attached_pairs(ctx.conn, uai, Population.eleve, [(e.eleve_id, None) for e in plain])
            await precreate_many(ctx.conn, uai, Population.eleve, [
                (e.eleve_id, None, (e.prenom, e.nom)) for e in plain if (e.eleve_id, None) not in have])

    async def personnes_changed(self, batch: list[PersonneChanged], ctx: HandlerContext) -> None:
        """Many persons stored at once."""
        for uai in {e.uai for e in batch}:
            latest = {e.personne.personne_id: e.personne for e in batch if e.uai == uai}  # one row per statement
            await repo.upsert_personnes(ctx.conn, uai, list(latest.values()))

    async def liens_added(self, batch: list[LienAdded], ctx: HandlerContext) -> None:
        """Many links at once; each new légal representative gets an account for that pupil."""
        for uai in {e.uai for e in batch}:
            mine = [e for e in batch if e.uai == uai]
            latest = {(e.eleve_id, e.personne_id): e.niveau_responsabilite for e in mine}
            await repo.set_liens(ctx.conn, uai, [(e, p, n) for (e, p), n in latest.items()])
            legal = [(e.eleve_id, e.personne_id) for e in mine if e.niveau_responsabilite == LEGAL_REPRESENTATIVE]
            have = await repo.attached_pairs(ctx.conn, uai, Population.responsable, legal)  # type: ignore[arg-type]
            missing = list(dict.fromkeys(pair for pair in legal if pair not in have))
            names = {r["personne_id"]: (r["prenom"], r["nom"]) for r in await ctx.conn.fetch(
                "SELECT personne_id, prenom, nom FROM personnes WHERE uai = $1 AND personne_id = ANY($2)",
                uai, [p for _, p in missing])}
            await precreate_many(ctx.conn, uai, Population.responsable,
                                 [(eleve_id, personne_id, names[personne_id]) for eleve_id, personne_id in missing])

    async def eleve_arrived(self, event: EleveArrived, ctx: HandlerContext) -> None:
        """A pupil enrolled: his account is pre-created, or kept from his previous establishment."""
        conn = ctx.conn
        await repo.upsert_eleve(conn, event.uai, event.eleve)
        if await repo.open_account_for(conn, event.uai, event.eleve.eleve_id, Population.eleve):
            return
        kept = await self._continuity(conn, event) if event.continuity_from else None
        if kept is None:
            await precreate(conn, event.uai, event.eleve.eleve_id, Population.eleve,
                            names=(event.eleve.prenom, event.eleve.nom))

    async def _continuity(self, conn: asyncpg.Connection, event: EleveArrived) -> Account | None:
        """The pupil keeps the account of his previous establishment of the academy (flagged, effective now)."""
        previous = await conn.fetchrow(
            "SELECT r.account_id, r.eleve_id FROM rattachements r JOIN accounts a ON a.id = r.account_id"
            " JOIN eleves e ON e.uai = r.uai AND e.eleve_id = r.eleve_id"
            " JOIN establishments est ON est.uai = $3"
            " JOIN establishments prev ON prev.uai = r.uai AND prev.academy = est.academy"
            " WHERE r.uai = $1 AND e.ine = $2 AND r.population = 'eleve' AND a.closed_at IS NULL"
            " AND est.activated_at IS NOT NULL",
            event.continuity_from, event.eleve.ine, event.uai)
        if previous is None or not event.eleve.ine:
            return None
        account, _ = await repo.load_account(conn, previous["account_id"])
        await repo.detach(conn, account.id, event.continuity_from or "", previous["eleve_id"], now())
        await repo.attach(conn, account.id, event.uai, event.eleve.eleve_id, None, Population.eleve)
        account.continuity = True
        await store(conn, account, actor="sync")
        return account

    async def eleve_changed(self, event: EleveChanged, ctx: HandlerContext) -> None:
        """Names, division, régime, email updated; identifiers unchanged."""
        await repo.upsert_eleve(ctx.conn, event.uai, event.eleve)

    async def eleve_left(self, event: EleveLeft, ctx: HandlerContext) -> None:
        """His accounts, and his representatives' accounts for him, are detached (they expire by the rules)."""
        at = now()
        await repo.mark_eleve_left(ctx.conn, event.uai, event.eleve_id, at)
        for row in await repo.accounts_of_eleve(ctx.conn, event.uai, event.eleve_id):
            await repo.detach(ctx.conn, row["account_id"], event.uai, event.eleve_id, at)

    async def personne_changed(self, event: PersonneChanged, ctx: HandlerContext) -> None:
        """Names, emails, addresses updated; identifiers unchanged."""
        await repo.upsert_personne(ctx.conn, event.uai, event.personne)

    async def lien_added(self, event: LienAdded, ctx: HandlerContext) -> None:
        """A new légal representative gets an account for this pupil."""
        await repo.set_lien(ctx.conn, event.uai, event.eleve_id, event.personne_id, event.niveau_responsabilite)
        if event.niveau_responsabilite == LEGAL_REPRESENTATIVE:
            await self._ensure_representative_account(ctx.conn, event.uai, event.eleve_id, event.personne_id)

    async def lien_changed(self, event: LienChanged, ctx: HandlerContext) -> None:
        """Level becomes 1: account pre-created; no longer 1: that account is closed."""
        await repo.set_lien(ctx.conn, event.uai, event.eleve_id, event.personne_id, event.niveau_responsabilite)
        if event.niveau_responsabilite == LEGAL_REPRESENTATIVE:
            await self._ensure_representative_account(ctx.conn, event.uai, event.eleve_id, event.personne_id)
        else:
            await self._close_representative_account(ctx.conn, event.uai, event.eleve_id, event.personne_id,
                                                     "n'est plus représentant légal")

    async def lien_removed(self, event: LienRemoved, ctx: HandlerContext) -> None:
        """The link is gone: that representative account is closed."""
        await repo.remove_lien(ctx.conn, event.uai, event.eleve_id, event.personne_id)
        await self._close_representative_account(ctx.conn, event.uai, event.eleve_id, event.personne_id,
                                                 "lien de responsabilité supprimé dans SIECLE")

    async def _ensure_representative_account(self, conn: asyncpg.Connection, uai: str, eleve_id: str,
                                             personne_id: str) -> None:
        if not await repo.open_account_for(conn, uai, eleve_id, Population.responsable, personne_id):
            await precreate(conn, uai, eleve_id, Population.responsable, personne_id)

    async def _close_representative_account(self, conn: asyncpg.Connection, uai: str, eleve_id: str,
                                            personne_id: str, cause: str) -> None:
        account_id = await repo.open_account_for(conn, uai, eleve_id, Population.responsable, personne_id)
        if account_id is not None:
            await repo.detach(conn, account_id, uai, eleve_id, now())
            if not await _still_attached(conn, account_id):
                await close_account(conn, account_id, cause, actor="sync", at=now())


async def _still_attached(conn: asyncpg.Connection, account_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval(
        "SELECT true FROM rattachements WHERE account_id = $1 AND detached_at IS NULL LIMIT 1", account_id))


@dataclass
class PortalActivity:
    """Applies what families did on the portal: first connection, activation, logins, grouping."""

    async def first_connection(self, event: FirstConnectionCompleted, ctx: HandlerContext) -> None:
        """Representative → En cours d'activation (temporary password dead); pupil → Utilisé."""
        account, _ = await repo.load_account(ctx.conn, event.account_id, for_update=True, wait=True)
        previous = account.state
        account.first_connection(event.at, event.email)
        if account.state is not previous:
            await store(ctx.conn, account, actor="portail", clear_temp_password=True)
            await self._close_replaced(ctx.conn, account)

    async def activation_confirmed(self, event: ActivationConfirmed, ctx: HandlerContext) -> None:
        """The activation link was clicked: Utilisé."""
        account, _ = await repo.load_account(ctx.conn, event.account_id, for_update=True, wait=True)
        account.activation_confirmed(event.at, event.email)
        await store(ctx.conn, account, actor="portail")

    async def email_validated(self, event: EmailValidated, ctx: HandlerContext) -> None:
        """An address was validated."""
        account, _ = await repo.load_account(ctx.conn, event.account_id, for_update=True, wait=True)
        account.email_validated_at(event.email)
        await store(ctx.conn, account, actor="portail")

    async def logged_in(self, event: LoggedIn, ctx: HandlerContext) -> None:
        """Last access date (never from simulated sessions, which publish nothing)."""
        account, _ = await repo.load_account(ctx.conn, event.account_id, for_update=True, wait=True)
        account.logged_in(event.at)
        await store(ctx.conn, account, actor="portail")

    async def accounts_grouped(self, event: AccountsGrouped, ctx: HandlerContext) -> None:
        """The grouped account's pupils move to the kept account, and the grouped account is closed."""
        await group_accounts(ctx.conn, event.account_id, event.grouped_account_id, actor="portail", at=event.at)

    async def _close_replaced(self, conn: asyncpg.Connection, account: Account) -> None:
        """A representative's new account closes the old one at its first login (guide §3.2)."""
        replaced = await conn.fetch("SELECT replaced_id FROM replacements WHERE account_id = $1", account.id)
        for row in replaced:
            old, _ = await repo.load_account(conn, row["replaced_id"])
            if old.closed_at is None and not await _still_attached(conn, old.id):  # kept for its other children
                await close_account(conn, old.id, "remplacé par un nouveau compte", actor="portail", at=now())


async def group_accounts(conn: asyncpg.Connection, kept_id: uuid.UUID, grouped_id: uuid.UUID, actor: str,
                         at: datetime) -> None:
    """Move the grouped account's pupils onto the kept account, then close the grouped account."""
    kept, _ = await repo.load_account(conn, kept_id)
    for row in await repo.rattachements_of(conn, grouped_id):
        if row["detached_at"] is None:
            await repo.detach(conn, grouped_id, row["uai"], row["eleve_id"], at)
            await repo.attach(conn, kept.id, row["uai"], row["eleve_id"], row["personne_id"], kept.population)
    await close_account(conn, grouped_id, "regroupé avec un autre compte", actor=actor, at=at)


async def expire_accounts(conn: asyncpg.Connection, notified_delay: timedelta, unused_delay: timedelta,
                          at: datetime, dry_run: bool = False) -> list[Account]:
    """Delete the accounts past their delay; an attached person is back to Non notifié with a new account."""
    rows = await conn.fetch(
        "SELECT * FROM accounts WHERE closed_at IS NULL AND ("
        " (state IN ($1, $2) AND notified_at < $4) OR"
        " (state = $3 AND coalesce(last_access_at, notified_at) < $5)) FOR UPDATE",
        AccountState.notifie.value, AccountState.en_cours_activation.value, AccountState.utilise.value,
        at - notified_delay, at - unused_delay)
    expired = [repo.account_from_row(row) for row in rows]
    if dry_run:
        return expired
    for account in expired:
        attachments = [r for r in await repo.rattachements_of(conn, account.id) if r["detached_at"] is None]
        await close_account(conn, account.id, "compte expiré", actor="expiration", at=at)
        for row in attachments:
            await precreate(conn, row["uai"], row["eleve_id"], account.population, row["personne_id"])
    return expired
